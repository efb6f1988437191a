"""The only module that writes the SQLite file. Every view a user sees is a query over it."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Literal

from sqlite_utils import Database

from crawler.alerts import (
    FAILING_AFTER,
    HEALTH_KINDS,
    Alert,
    changed_article,
    changed_attachment,
    new_article,
    new_policy,
    source_baseline,
    source_health,
    story_to_join,
)
from crawler.attachments import AttachmentText
from crawler.classify import Tags
from crawler.classify.policies import PolicyMention, draft_title
from crawler.clock import now
from crawler.dedup import bands, simhash
from crawler.errors import (
    DatabaseBusy,
    DatabaseError,
    DatabaseFull,
    DatabaseReadOnly,
    NewerSchema,
    NoDatabase,
    NotADatabase,
    OlderSchema,
)
from crawler.extract import Article
from crawler.migrations import ROLL_UP_REGIONS, migrations, unknown_migrations
from crawler.revisit import LastRun, RevisitPlan, crawl_plan, next_check
from crawler.search import search_tokens
from crawler.sources import Source
from crawler.suspect import Body

# Every command reads every page of a file up to this size before it uses it: about
# 0.2 s per 100 MB (quick_check), 2 s at this size; a larger file's damage is found where a
# statement meets it, still one line.
CHECKED_UP_TO = 1 << 30
Outcome = Literal["new", "updated", "unchanged"]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# SQLite's primary result codes (the low byte of sqlite3.Error.sqlite_errorcode).
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26


def open_db(path: str | Path, *, create: bool = True, write: bool = True) -> Database:
    """The database at ``path``, migrated to the current schema. With ``create`` (the
    commands that crawl) it is created if missing; without, it must exist. Without ``write``
    the connection is read-only, and the file must be at the current schema already.

    A file that is not a newsmon database, one a newer newsmon migrated, or (to write) one
    that cannot be written raises a :class:`~crawler.errors.DatabaseError` before anything
    is written."""
    path = Path(path)
    try:
        exists = path.exists() and path.stat().st_size > 0
        if not exists and not create:
            raise NoDatabase(f"no database at {path} (crawl first, or check --db)")
        if not exists:
            path.parent.mkdir(parents=True, exist_ok=True)
        if write and not _writable(path):
            raise DatabaseReadOnly(f"{path}: the database or its folder is read-only")
        if write:
            db = Database(path)
        else:
            db = Database(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))
        # Readers (Datasette, the digest) run while a crawl writes: WAL lets them, and the
        # busy timeout makes a writer wait for another writer instead of failing.
        db.execute("PRAGMA busy_timeout = 10000")
        if exists:
            _check_file(db, path)
        _check_schema(db, path, migrate=write)
        if exists and path.stat().st_size <= CHECKED_UP_TO:
            check_pages(db, path)
        if write:
            # Switching to WAL and migrating upgrade a read lock to a write lock, which SQLite
            # refuses at once (no busy wait) when another process does the same: the daemon
            # starts several crawls on a new file together. A file lock makes them take turns.
            with open(path.with_name(path.name + ".lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                db.enable_wal()
                migrations.apply(db)
        # In WAL mode a commit then waits for no fsync: it survives the process being killed
        # (tests/test_crashes.py); only a power cut can take the last commits back.
        db.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.Error as exc:
        raise database_error(exc, path) from None
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise DatabaseReadOnly(f"{path}: {exc.strerror}") from None
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DatabaseFull(f"{path}: {exc.strerror}") from None
        raise
    return db


def _writable(path: Path) -> bool:
    """Whether the file (if there) and its folder (journal, WAL) can be written. access(2)
    answers for root too on a read-only mount or an immutable file, where chmod does not."""
    folder = path.parent if str(path.parent) else Path(".")
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def _check_file(db: Database, path: Path) -> None:
    """Refuse a file that is not SQLite, or is shorter than its own header says (truncated);
    a page overwritten inside is SQLite's to find (SQLITE_CORRUPT, see database_error).

    The file is read through SQLite only, never opened beside it: POSIX locks belong to the
    process, so closing any other descriptor of the file drops the locks of every connection
    this process holds to it, and readers and writers elsewhere then see a malformed file."""
    # NOTADB (not SQLite) comes from the first read of the header, here.
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    # With a WAL beside the file, pages may still be on their way in (a checkpoint cut off).
    wal = path.with_name(path.name + "-wal")
    settling = wal.exists() and wal.stat().st_size > 0
    if not settling and pages * page_size > path.stat().st_size:
        raise NotADatabase(f"{path} is truncated: damaged, restore it from a backup")


def check_pages(db: Database, path: str | Path) -> None:
    """Refuse a file with damaged pages (NotADatabase, one line): SQLite itself finds damage
    only where a statement reads, and a crawl would go on writing beside it."""
    rows = [str(next(iter(row.values()))) for row in db.query("PRAGMA quick_check(20)")]
    if rows != ["ok"]:
        # A row may hold several lines, under a "*** in database main ***" heading.
        problems = [line for row in rows for line in row.splitlines() if not line.startswith("***")]
        first = problems[0] if problems else rows[0]
        more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
        raise NotADatabase(f"{path} is damaged ({first}{more}): restore it from a backup")


def _check_schema(db: Database, path: Path, migrate: bool) -> None:
    """Refuse, before any migration runs, a schema that newsmon did not write or that a newer
    newsmon migrated; unless it may ``migrate`` (a command that writes), one that still needs
    migrating: a reader cannot bring it up to date."""
    newer = unknown_migrations(db)
    if newer:
        raise NewerSchema(
            f"{path} was written by a newer newsmon (migration {newer[0]}): upgrade newsmon"
        )
    applied = migrations.applied(db)
    if not applied and db.table_names():
        raise NotADatabase(f"{path} is a SQLite database but not a newsmon one")
    if not migrate and migrations.pending(db):
        raise OlderSchema(
            f"{path} was written by an older newsmon: run `newsmon crawl` or `newsmon digest`"
            " once to upgrade it"
        )


def _disk_full(path: Path) -> bool:
    try:
        return os.statvfs(path.parent if str(path.parent) else ".").f_bavail == 0
    except OSError:
        return False


def database_error(exc: sqlite3.Error, path: str | Path) -> DatabaseError:
    """SQLite's error as newsmon's type, decided by its result code; one line naming ``path``."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in (SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN):
        return DatabaseReadOnly(f"{path}: cannot open or write the database ({exc})")
    if code == SQLITE_FULL or (code == SQLITE_IOERR and _disk_full(Path(path))):
        # A full disk shows as an I/O error when it is the WAL index (-shm) that cannot grow.
        return DatabaseFull(f"{path}: the disk is full; nothing was written")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return NotADatabase(f"{path} is damaged ({exc}): restore it from a backup")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseBusy(f"{path} is locked by another process; try again")
    return DatabaseError(f"{path}: {(str(exc) or type(exc).__name__).splitlines()[0]}")


def load_template(path: str | Path, source_id: str) -> dict[str, Any]:
    """The template state stored for ``source_id`` (empty when there is none). Read beside
    the crawl's own connection, which checks and migrates the file: a crawl of many sources
    opens it twice more a source, so not through the checks of :func:`open_db` (seconds on a
    large file)."""
    if not Path(path).exists():
        return {}
    db = Database(sqlite3.connect(path))
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        if "templates" not in db.table_names():
            return {}  # not migrated yet: the crawl's connection does it
        query = "select state from templates where source_id = ?"
        row = next(db.query(query, [source_id]), None)
    finally:
        db.close()
    return dict(json.loads(row["state"])) if row else {}


def save_template(path: str | Path, source_id: str, state: dict[str, Any]) -> None:
    """Store ``source_id``'s template state (crawler/extract/template.py), replacing it; in
    a database the crawl has opened (checked and migrated) before."""
    if not Path(path).exists():
        return  # the crawl could not create it, and said why
    db = Database(sqlite3.connect(path))
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        pages = state.get("template", {}).get("seen", 0)
        row = {"source_id": source_id, "state": json.dumps(state), "pages": pages, "updated": now()}
        with db.conn:
            db.table("templates").upsert(row, pk="source_id")
    finally:
        db.close()


class Store:
    """Writes one crawl's sources, runs, fetches, articles and versions."""

    def __init__(self, db: Database):
        self.db = db

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        """A transaction that takes the write lock first (BEGIN IMMEDIATE): one that read
        first and wrote after another process's write would fail at once, busy timeout or
        not; this one waits its turn instead."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise
        self.db.execute("COMMIT")

    def sync_sources(self, sources: list[Source]) -> None:
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "homepage": s.homepage,
                "region": s.region,
                "verified": int(s.verified),
                "file": s.file,
                "config": json.dumps(
                    {k: v for k, v in asdict(s).items() if k != "file"}, ensure_ascii=False
                ),
                "updated": now(),
            }
            for s in sources
        ]
        self.db.table("sources").upsert_all(rows, pk="id")

    def start_run(self, source_id: str, baseline: bool = False) -> int:
        """A new run of ``source_id``; a run of it still marked running was cut off. A
        ``baseline`` run stores what it finds without alerts (see :meth:`is_new_source`)."""
        self.db.execute(
            "update crawl_runs set status = 'interrupted'"
            " where source_id = ? and status = 'running'",
            [source_id],
        )
        return self._insert(
            "crawl_runs",
            {
                "source_id": source_id,
                "started": now(),
                "status": "running",
                "baseline": int(baseline),
            },
        )

    def is_new_source(self, source_id: str) -> bool:
        """Whether no run of ``source_id`` has finished ok yet: its next run reads its back
        catalogue for the first time. A first run that failed or was cut off leaves it new, so
        the run that does read it is still a baseline and floods no digest."""
        row = next(
            self.db.query(
                "select 1 from crawl_runs where source_id = ? and status = 'ok' limit 1",
                [source_id],
            ),
            None,
        )
        return row is None

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert ``row``; its id (tables here have an integer ``id`` primary key)."""
        rowid = self.db.table(table).insert(row).last_rowid
        if rowid is None:
            raise RuntimeError(f"insert into {table} returned no row id")
        return rowid

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: dict[str, int],
        error: str | None,
        stats: dict[str, Any],
    ) -> None:
        self.db.table("crawl_runs").update(
            run_id,
            {
                "finished": now(),
                "status": status,
                "error": error,
                "stats": json.dumps(stats, ensure_ascii=False, default=str),
                **counts,
            },
        )
        self._source_health(run_id, status, error)
        if status == "ok":
            self._baseline_done(run_id)

    def _baseline_done(self, run_id: int) -> None:
        """The one alert of a baseline run that ended ok: the articles and policies first
        stored by it and by the baseline runs of its source cut off before it."""
        run = next(
            self.db.query(
                "select r.source_id, r.baseline, coalesce(s.name, r.source_id) as name"
                " from crawl_runs r left join sources s on s.id = r.source_id where r.id = ?",
                [run_id],
            )
        )
        if not run["baseline"]:
            return
        first_stored = (
            "select v.article_id from versions v join crawl_runs r on r.id = v.run_id"
            " where v.version = 1 and r.source_id = :source and r.baseline = 1 and r.id <= :run"
            " and r.id > coalesce((select max(id) from crawl_runs where source_id = :source"
            " and status = 'ok' and id < :run), 0)"
        )
        where = {"source": run["source_id"], "run": run_id}
        articles = self.db.execute(f"select count(*) from ({first_stored})", where).fetchone()[0]
        policies = self.db.execute(
            f"select count(*) from policies where first_article_id in ({first_stored})", where
        ).fetchone()[0]
        self._alert(
            source_baseline(run["source_id"], run["name"], run_id, articles, policies, now())
        )

    def _source_health(self, run_id: int, status: str, error: str | None) -> None:
        """Raise the alert the finished run's outcome calls for about its source, if any."""
        source_id = next(self.db.query("select source_id from crawl_runs where id = ?", [run_id]))[
            "source_id"
        ]
        recent = [
            r["status"]
            for r in self.db.query(
                "select status from crawl_runs where source_id = ? and finished is not null"
                " order by id desc limit ?",
                [source_id, FAILING_AFTER],
            )
        ]
        kinds = sorted(HEALTH_KINDS)
        last = next(
            self.db.query(
                "select kind from alerts where source_id = ? and kind in"
                f" ({', '.join('?' * len(kinds))}) order by id desc limit 1",
                [source_id, *kinds],
            ),
            None,
        )
        last_kind = None if last is None else last["kind"]
        alert = source_health(source_id, run_id, status, error, recent, last_kind, now())
        if alert is not None:
            self._alert(alert)

    def last_error(self, run_id: int) -> str | None:
        """The most recent fetch error of a run, as the one line that explains a failed run."""
        row = next(
            self.db.query(
                "select url, error from fetches where run_id = ? and error is not null"
                " order by id desc limit 1",
                [run_id],
            ),
            None,
        )
        return f"{row['url']}: {row['error']}" if row else None

    def record_fetch(self, run_id: int, source_id: str, fetch: dict[str, Any]) -> None:
        self.db.table("fetches").insert({"run_id": run_id, "source_id": source_id, **fetch})
        if fetch.get("status") == 200 and (fetch.get("etag") or fetch.get("last_modified")):
            self.db.table("validators").upsert(
                {
                    "url": fetch["url"],
                    "source_id": source_id,
                    "etag": fetch.get("etag"),
                    "last_modified": fetch.get("last_modified"),
                    "updated": fetch["fetched_at"],
                },
                pk="url",
            )

    def last_held(self, url: str) -> str | None:
        """The text hash of the body that the last fetch of ``url`` held as suspect, if it did."""
        row = next(
            self.db.query(
                "select held_hash from fetches where url = ? and kind = 'article'"
                " order by id desc limit 1",
                [url],
            ),
            None,
        )
        return row["held_hash"] if row else None

    def stored_body(self, url: str) -> Body | None:
        """The body of the article stored at ``url``, as :func:`suspect_change` compares it."""
        row = next(
            self.db.query("select text, quality, flags from articles where url = ?", [url]), None
        )
        if row is None:
            return None
        flags = tuple(json.loads(row["flags"])) if row["flags"] else ()
        return Body(row["text"], 1.0 if row["quality"] is None else row["quality"], flags)

    def save_article(
        self,
        article: Article,
        source_id: str,
        run_id: int,
        seen_at: str,
        watch: tuple[int, ...] = (),
        tokens: str | None = None,
        baseline: bool = False,
    ) -> tuple[Outcome, int]:
        """Insert or update the article at its canonical URL; a changed body is a new version.
        ``tokens`` are its search tokens when they were cut already.

        Stores the alerts that follow (a new story unless in a ``baseline`` run, a changed
        article) and the next check in the ``watch`` window (seconds between checks).
        Returns what happened and the article's id."""
        digest = text_hash(article.text)
        fields = {
            "source_id": source_id,
            "title": article.title,
            "published": article.published,
            "author": article.author,
            "outlet": article.outlet,
            "text": article.text,
            "text_hash": digest,
            "encoding": article.encoding,
            # Only where it differs: most pages are Simplified already.
            "text_simplified": article.simplified if article.simplified != article.text else None,
            "editor": article.editor,
            "issuer": article.issuer,
            "doc_number": article.doc_number,
            "written": article.written,
            "subject": article.subject,
            "validity": article.validity,
            "captions": _json_list(article.captions),
            "quality": article.quality,
            "flags": _json_list(article.flags),
            "last_seen": seen_at,
            "search_tokens": (
                search_tokens(article.title, article.simplified) if tokens is None else tokens
            ),
        }
        with self._write_transaction():
            row = next(
                self.db.query(
                    "select id, text, version, checks from articles where url = ?",
                    [article.url],
                ),
                None,
            )
            if row is None:
                fingerprint = simhash(article.simplified)
                article_id = self._insert(
                    "articles",
                    {
                        "url": article.url,
                        **fields,
                        "version": 1,
                        "first_seen": seen_at,
                        "last_changed": seen_at,
                        "checks": 0,
                        "next_check": next_check(seen_at, watch, 0),
                        "simhash": f"{fingerprint:016x}",
                    },
                )
                self._add_version(article_id, 1, article, digest, seen_at, run_id, None)
                # Its attachments may have been stored first: they download faster than a
                # page is extracted.
                self.db.execute(
                    "update attachments set article_id = ? where article_url = ?",
                    [article_id, article.url],
                )
                self._join_story(article_id, article, source_id, fingerprint, seen_at, baseline)
                return "new", article_id
            version = row["version"] + 1
            change = changed_article(
                row["text"],
                article.text,
                article_id=row["id"],
                version=version,
                source_id=source_id,
                title=article.title,
                url=article.url,
                seen_at=seen_at,
            )
            if change is None:
                self._checked(row["id"], row["checks"] + 1, seen_at, watch)
                self.db.table("articles").update(row["id"], {"last_seen": seen_at})
                return "unchanged", row["id"]
            self.db.table("articles").update(
                row["id"], {**fields, "version": version, "last_changed": seen_at}
            )
            # A changed article may change again soon: its watch starts over.
            self._checked(row["id"], 0, seen_at, watch)
            self._add_version(row["id"], version, article, digest, seen_at, run_id, change.detail)
            self._alert(change)
            return "updated", row["id"]

    def article_checked(self, url: str, seen_at: str, watch: tuple[int, ...]) -> None:
        """A re-check that found the page unchanged (HTTP 304): plan the next one."""
        row = next(self.db.query("select id, checks from articles where url = ?", [url]), None)
        if row is not None:
            self._checked(row["id"], (row["checks"] or 0) + 1, seen_at, watch)
            self.db.table("articles").update(row["id"], {"last_seen": seen_at})

    def _checked(self, article_id: int, checks: int, seen_at: str, watch: tuple[int, ...]) -> None:
        self.db.table("articles").update(
            article_id, {"checks": checks, "next_check": next_check(seen_at, watch, checks)}
        )

    def crawl_plan(self, source_id: str, at: str) -> RevisitPlan:
        """The revisit plan of the next crawl of ``source_id``, from its validators, its
        stored articles and how its last run that read anything ended."""
        validators = {
            row["url"]: (row["etag"], row["last_modified"])
            for row in self.db.query(
                "select url, etag, last_modified from validators where source_id = ?", [source_id]
            )
        }
        known = {
            row["url"]: (row["next_check"], row["last_seen"])
            for row in self.db.query(
                "select url, next_check, last_seen from articles where source_id = ?", [source_id]
            )
        }
        last = next(
            self.db.query(
                "select status, finish_reason from crawl_runs where source_id = ?"
                " and status != 'failed' order by id desc limit 1",
                [source_id],
            ),
            None,
        )
        last_run = None if last is None else LastRun(last["status"], last["finish_reason"])
        attachments: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in self.db.query(
            "select article_url, url, name from attachments where source_id = ? order by id",
            [source_id],
        ):
            attachments[row["article_url"]].append((row["url"], row["name"]))
        plan = crawl_plan(at, validators, known, last_run)
        return replace(plan, attachments={url: tuple(files) for url, files in attachments.items()})

    def save_attachment(
        self,
        source_id: str,
        article_url: str,
        url: str,
        name: str,
        read: AttachmentText,
        data: bytes,
        seen_at: str,
    ) -> Outcome:
        """Insert or update the attachment at ``url``; changed text is a new version and a
        ``changed_attachment`` alert. The same bytes again, or other bytes with the same text
        (a file saved anew), are no new version."""
        digest = hashlib.sha256(data).hexdigest()
        fields: dict[str, Any] = {
            "source_id": source_id,
            "article_url": article_url,
            "name": name,
            "kind": read.kind,
            "bytes": len(data),
            "sha256": digest,
            "error": read.error,
            "fetched_at": seen_at,
        }
        with self._write_transaction():
            article = next(
                self.db.query("select id from articles where url = ?", [article_url]), None
            )
            if article is not None:  # else not stored yet: save_article fills it in
                fields["article_id"] = article["id"]
            row = next(
                self.db.query(
                    "select id, text, sha256, version from attachments where url = ?", [url]
                ),
                None,
            )
            if row is None:
                self._insert(
                    "attachments",
                    {
                        "url": url,
                        **fields,
                        "text": read.text,
                        "version": 1,
                        "first_seen": seen_at,
                        "last_changed": seen_at,
                        "search_tokens": search_tokens(name, read.text),
                    },
                )
                return "new"
            version = row["version"] + 1
            change = changed_attachment(
                row["text"] or "",
                read.text,
                attachment_id=row["id"],
                version=version,
                article_id=fields.get("article_id"),
                source_id=source_id,
                name=name,
                url=url,
                seen_at=seen_at,
            )
            if change is None:
                self.db.table("attachments").update(row["id"], fields)
                return "unchanged"
            self.db.table("attachments").update(
                row["id"],
                {
                    **fields,
                    "text": read.text,
                    "version": version,
                    "last_changed": seen_at,
                    "search_tokens": search_tokens(name, read.text),
                },
            )
            self._alert(change)
            return "updated"

    def attachment_checked(self, url: str, seen_at: str) -> None:
        """A re-check that found the attachment unchanged (HTTP 304)."""
        self.db.execute("update attachments set fetched_at = ? where url = ?", [seen_at, url])

    def _join_story(
        self,
        article_id: int,
        article: Article,
        source_id: str,
        fingerprint: int,
        seen_at: str,
        baseline: bool,
    ) -> None:
        """Put a new article in the story of a near-duplicate, or open a story (an alert,
        unless the article is part of a ``baseline``)."""
        keys = bands(fingerprint)
        marks = ", ".join("?" * len(keys))
        candidates = self.db.query(
            "select a.id, a.simhash, a.story_id from article_bands b join articles a"
            f" on a.id = b.article_id where b.band in ({marks}) and a.id != ?",
            [*keys, article_id],
        )
        story = story_to_join(
            fingerprint, ((c["story_id"], int(c["simhash"], 16)) for c in candidates)
        )
        self.db.table("article_bands").insert_all(
            ({"band": key, "article_id": article_id} for key in keys), ignore=True
        )
        if story is None:
            story = self._insert(
                "stories",
                {"first_article_id": article_id, "title": article.title, "created": seen_at},
            )
            if not baseline:
                self._alert(
                    new_article(story, article_id, source_id, article.title, article.url, seen_at)
                )
        self.db.table("articles").update(article_id, {"story_id": story})

    def record_digest(
        self,
        recipients: list[str],
        subject: str,
        alert_ids: list[int],
        sent_at: str | None,
        out_path: str | None = None,
        error: str | None = None,
    ) -> None:
        """One attempt to deliver a digest: where to, what, and how it went."""
        self.db.table("digests").insert(
            {
                "created": now(),
                "sent_at": sent_at,
                "recipients": json.dumps(recipients, ensure_ascii=False),
                "subject": subject,
                "alerts": len(alert_ids),
                "out_path": out_path,
                "error": error,
                "status": "failed" if sent_at is None else "written" if out_path else "sent",
            }
        )

    def mark_alerts_sent(self, alert_ids: list[int]) -> None:
        """Mark alerts sent; only those still unsent, so a concurrent run cannot mark twice."""
        at = now()
        with self.db.atomic():
            for start in range(0, len(alert_ids), 500):
                chunk = alert_ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                self.db.execute(
                    f"update alerts set sent_at = ? where sent_at is null and id in ({marks})",
                    [at, *chunk],
                )

    def _alert(self, alert: Alert) -> None:
        """Store an alert once: the same kind and subject again is ignored."""
        self.db.table("alerts").insert(alert.row(), ignore=True)

    def save_tags(
        self, article_id: int, tags: Tags, tagged_at: str, baseline: bool = False
    ) -> list[str]:
        """Replace the article's tags; returns the titles of policies seen here first, each
        an alert unless the article is part of a ``baseline``."""
        new_policies = []
        with self._write_transaction():
            for table in ("article_regions", "article_topics", "article_policies"):
                self.db.execute(f"delete from [{table}] where article_id = ?", [article_id])
            self._save_regions(article_id, tags)
            self.db.table("article_topics").insert_all(
                {
                    "article_id": article_id,
                    "topic": t.topic,
                    "score": t.score,
                    "evidence": t.evidence,
                }
                for t in tags.topics
            )
            for policy in tags.policies:
                policy_id, new = self._policy_id(policy, article_id, tagged_at)
                if new:
                    new_policies.append(policy.title)
                    if not baseline:
                        self._alert(new_policy(policy_id, policy, article_id, tagged_at))
                self.db.table("article_policies").insert(
                    {
                        "article_id": article_id,
                        "policy_id": policy_id,
                        "region": policy.region,
                        "date": policy.date,
                        "context": policy.context,
                        "role": policy.role,
                    },
                    replace=True,
                )
            tagged = tags.to_json()
            self.db.table("articles").update(
                article_id,
                {
                    "keywords": json.dumps(tagged["keywords"], ensure_ascii=False),
                    "amounts": json.dumps(tagged["amounts"], ensure_ascii=False),
                    "events": json.dumps(tagged["events"], ensure_ascii=False),
                    "tagged_at": tagged_at,
                },
            )
        return new_policies

    def _save_regions(self, article_id: int, tags: Tags) -> None:
        regions = tags.regions
        names = dict.fromkeys((*regions.mentioned, *regions.primary, *regions.implied))
        self.db.table("regions").upsert_all(
            [asdict(p) for p in regions.places.values()]
            + [{"name": n} for n in names if n not in regions.places],
            pk="name",
            alter=True,
        )
        self.db.table("article_regions").insert_all(
            {
                "article_id": article_id,
                "region": name,
                "mentioned": int(name in regions.mentioned),
                "is_primary": int(name in regions.primary),
                "implied": int(name in regions.implied),
                "evidence": regions.evidence.get(name),
            }
            for name in names
        )
        self.db.execute(ROLL_UP_REGIONS, {"article_id": article_id})

    def _policy_id(self, policy: PolicyMention, article_id: int, seen_at: str) -> tuple[int, bool]:
        """The id of the policy with this title, and whether this sighting created it."""
        described = {
            "issuer": policy.issuer,
            "doc_number": policy.doc_number,
            "kind": policy.kind,
            "status": policy.status,
        }
        row = next(self.db.query("select * from policies where title = ?", [policy.title]), None)
        if row is not None:
            policy_id: int = row["id"]
            if policy.role == "text":  # the document itself says best who issued it when
                official = {"region": policy.region, "date": policy.date, **described}
                update = {k: v for k, v in official.items() if v} | {"text_article_id": article_id}
            else:  # a report fills in only what is not known yet
                known = {"region": policy.region, "date": policy.date, **described}
                update = {k: v for k, v in known.items() if v and not row[k]}
            if update:
                self.db.table("policies").update(policy_id, update)
            self._link_draft(policy_id, policy.title)
            return policy_id, False
        new_id = self._insert(
            "policies",
            {
                "title": policy.title,
                "region": policy.region,
                "date": policy.date,
                **described,
                "text_article_id": article_id if policy.role == "text" else None,
                "first_article_id": article_id,
                "first_seen": seen_at,
            },
        )
        self._link_draft(new_id, policy.title)
        return new_id, True

    def _link_draft(self, policy_id: int, title: str) -> None:
        """Link a final version and its draft (征求意见稿), whichever was seen first."""
        final = draft_title(title)
        if final != title:  # this is the draft: its final version may be known already
            self.db.execute(
                "update policies set draft_id = ? where title = ? and draft_id is null",
                [policy_id, final],
            )
            return
        drafts = [
            row["id"]
            for row in self.db.query(
                "select id, title from policies where title like ? and id != ?",
                [f"{title}（%", policy_id],
            )
            if draft_title(row["title"]) == title
        ]
        if drafts:
            self.db.execute(
                "update policies set draft_id = ? where id = ? and draft_id is null",
                [drafts[0], policy_id],
            )

    def _add_version(
        self,
        article_id: int,
        version: int,
        article: Article,
        digest: str,
        seen_at: str,
        run_id: int,
        diff: dict[str, Any] | None,
    ) -> None:
        self.db.table("versions").insert(
            {
                "article_id": article_id,
                "version": version,
                "title": article.title,
                "text": article.text,
                "text_hash": digest,
                "seen_at": seen_at,
                "run_id": run_id,
                "diff": json.dumps(diff, ensure_ascii=False) if diff else None,
            }
        )

    # Digests are delivered in two steps so that a run killed mid-send loses nothing and sends
    # nothing new: claim_digest stores each message, with the alerts it holds, as 'sending'
    # before it goes out; digest_sent or digest_failed records what the server said. A message
    # still 'sending' when a run starts was cut off: the next run sends it again, unchanged.

    def claimed_alerts(self) -> set[int]:
        """Alerts held by a message that may be on its way ('sending'): not for a new digest."""
        return {
            row["alert_id"]
            for row in self.db.query(
                "select l.alert_id from digest_alerts l join digests d on d.id = l.digest_id"
                " where d.status = 'sending'"
            )
        }

    def claim_digest(self, alert_ids: list[int], messages: list[dict[str, Any]]) -> list[int]:
        """Store each message (``recipients``, ``subject``, ``message_id``, ``message`` bytes,
        ``alert_ids``) as 'sending' and mark sent the alerts of ``alert_ids`` that no message
        holds (no recipient wanted them), in one transaction; the messages' ids.

        Returns [] and stores nothing when one of the alerts was sent or claimed meanwhile by
        another run: the digest lock keeps runs apart, this keeps them apart without it."""
        with self._write_transaction():
            taken = next(
                self.db.query(
                    "select count(*) as n from alerts where id in (select value from json_each(?))"
                    " and (sent_at is not null or id in (select l.alert_id from digest_alerts l"
                    " join digests d on d.id = l.digest_id where d.status = 'sending'))",
                    [json.dumps(alert_ids)],
                )
            )["n"]
            if taken:
                return []
            ids = []
            created = now()
            for message in messages:
                digest_id = self._insert(
                    "digests",
                    {
                        "created": created,
                        "recipients": json.dumps(message["recipients"], ensure_ascii=False),
                        "subject": message["subject"],
                        "alerts": len(message["alert_ids"]),
                        "status": "sending",
                        "message_id": message["message_id"],
                        "message": message["message"],
                        "attempts": 0,
                    },
                )
                self.db.table("digest_alerts").insert_all(
                    {"digest_id": digest_id, "alert_id": a} for a in message["alert_ids"]
                )
                ids.append(digest_id)
            held = {a for message in messages for a in message["alert_ids"]}
            self.mark_alerts_sent(sorted(set(alert_ids) - held))
        return ids

    def pending_digests(self) -> list[dict[str, Any]]:
        """The messages a run claimed and did not see accepted or refused, oldest first."""
        return list(
            self.db.query(
                "select id, recipients, subject, message_id, message, attempts from digests"
                " where status = 'sending' order by id"
            )
        )

    def digest_alert_ids(self, digest_id: int) -> list[int]:
        """The alerts a stored message holds."""
        return [
            row["alert_id"]
            for row in self.db.query(
                "select alert_id from digest_alerts where digest_id = ? order by alert_id",
                [digest_id],
            )
        ]

    def digest_sent(self, digest_id: int, note: str | None = None) -> None:
        """The server accepted the message: it is sent, and so is each of its alerts that no
        other message still on its way holds."""
        at = now()
        with self._write_transaction():
            self.db.execute(
                "update digests set status = 'sent', sent_at = ?, error = ?,"
                " attempts = coalesce(attempts, 0) + 1 where id = ?",
                [at, note, digest_id],
            )
            self.db.execute(
                "update alerts set sent_at = ? where sent_at is null and id in"
                " (select alert_id from digest_alerts where digest_id = ?) and not exists"
                " (select 1 from digest_alerts l join digests d on d.id = l.digest_id"
                " where l.alert_id = alerts.id and d.status = 'sending')",
                [at, digest_id],
            )

    def digest_failed(self, digest_id: int, error: str, refused: bool) -> None:
        """Sending the message failed. ``refused``: the server said no (a refused connection
        included), so the message is dropped and its alerts go into the next digest; else it
        may have arrived (a connection that broke or timed out after the data went out) and
        stays 'sending', to be sent again unchanged, same Message-ID, by the next run."""
        self.db.execute(
            "update digests set status = ?, error = ?, attempts = coalesce(attempts, 0) + 1"
            " where id = ?",
            ["failed" if refused else "sending", error, digest_id],
        )

    def record_finish_reason(self, source_id: str, since: str, reason: str) -> None:
        """Why the source's run that started at or after ``since`` ended (Scrapy's finish
        reason, or ``capped``): a run cut short makes the next one read every listing."""
        self.db.execute(
            "update crawl_runs set finish_reason = ? where id = (select max(id) from crawl_runs"
            " where source_id = ? and started >= ?)",
            [reason, source_id, since],
        )


def _json_list(values: tuple[str, ...]) -> str | None:
    return json.dumps(values, ensure_ascii=False) if values else None
