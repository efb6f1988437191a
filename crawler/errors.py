"""newsmon's errors, one type per decision that code makes on them.

What a user reads is each error's message; what code decides (drop a digest or send it
again, count a refused request under its kind) it decides by the type, so rewording a
message changes nothing else.
"""

from __future__ import annotations

from typing import Literal


class DeliveryFailed(OSError):
    """A digest that did not reach the SMTP server, or may not have; the first line says why."""


class DeliveryRefused(DeliveryFailed):
    """Certainly not delivered: the server refused the connection, the login, the sender,
    every recipient or the data. The message is dropped; its alerts go into the next digest."""


class DeliveryUncertain(DeliveryFailed):
    """Perhaps delivered: the connection broke or timed out, possibly after the server took
    the message. It stays 'sending' and goes again unchanged, with the same Message-ID."""


class RedisUnreachable(Exception):
    """The Redis that crawlers and the writer share could not be reached or spoken to."""


RefusalKind = Literal["robots", "refused", "offsite", "redirects", "too_big"]


class LinkTooLong(ValueError):
    """A link longer than Scrapy's URLLENGTH_LIMIT: Scrapy would drop its request without a
    word, so the spider refuses it first and the page's fetch records it."""


class DatabaseError(Exception):
    """The database cannot be used as asked; the message is the one line a user reads, and
    nothing was written to the file."""


class NoDatabase(DatabaseError):
    """No database at the path, and the command only reads one (a typo must not look like a
    quiet day)."""


class NotADatabase(DatabaseError):
    """The file is not a newsmon database: not SQLite at all, truncated, corrupted, or
    another program's."""


class NewerSchema(DatabaseError):
    """A newer newsmon migrated the file: this one must not read or write a schema it does
    not know."""


class OlderSchema(DatabaseError):
    """The file needs migrations that only a command that writes the database applies."""


class DatabaseReadOnly(DatabaseError):
    """The file or its folder cannot be written (permissions, a read-only mount)."""


class DatabaseFull(DatabaseError):
    """The disk (or the file's size limit) is full: the write was rolled back."""


class DatabaseBusy(DatabaseError):
    """Another process held the database locked for longer than the busy timeout."""


class PageFailed(Exception):
    """A page that extraction or tagging could not finish: an error of that page alone, which
    its fetch records (the message) and the crawl's stats count under ``kind``; the crawl goes
    on with the other pages."""

    kind = "page_failed"


class PageTooSlow(PageFailed):
    """A stage spent more CPU on one page than its cap (``NEWSMON_PAGE_CPU_SECONDS``)."""

    kind = "too_slow"


class WorkerDied(PageFailed):
    """A page ended its worker process twice: killed past twice the CPU cap (code that never
    returned to Python to hear the cap), out of memory, or a crash in a C library."""

    kind = "worker_died"
