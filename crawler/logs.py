"""Log records as single lines: a crawl's errors are read by people and by cron mail, and
every failed page is already in ``fetches``; a traceback per refused connection helps no one.
Scrapy is not imported here: the daemon, which only supervises crawls, logs through this
module and stays ~40 MB smaller without it (crawler.logformatter is the crawl's part)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager


class OneLineFormatter(logging.Formatter):
    """``LEVEL logger: message`` with at most the exception's own last line appended."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().strip().splitlines()
        line = message[0] if message else ""
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if str(exc) not in line:
                line = f"{line} ({detail})"
        return f"{record.levelname.lower()}: {record.name}: {line}"


# Loggers that report a page that could not be fetched: the spider's errback records each in
# ``fetches`` (``newsmon status`` lists them), and a robots.txt that cannot be read only means
# none is obeyed. On stderr they were a line per page of an unreachable site in the mail of
# every `crawl --quiet`, one that succeeded too: 105 of the 106 lines of an offline crawl of
# the shipped sources.
PAGE_FAILURE_LOGGERS = frozenset(
    {"scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt"}
)


def not_a_page_failure(record: logging.LogRecord) -> bool:
    """Whether ``record`` is other than a failed download that ``fetches`` already holds."""
    return record.name not in PAGE_FAILURE_LOGGERS


def setup_logging(level: int = logging.WARNING) -> None:
    """Route all records (Scrapy's included) to stderr, one line each, but for failed page
    downloads (see PAGE_FAILURE_LOGGERS)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    handler.addFilter(not_a_page_failure)
    handler.setLevel(level)
    logging.getLogger().handlers[:] = [handler]


@contextmanager
def root_logger_kept() -> Iterator[None]:
    """The root logger's handlers and level as they were before the block, whatever an import
    inside it configured."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:], root.level = handlers, level
