"""Run one crawl of some sources in this process and say what it found."""

from __future__ import annotations

import sqlite3
import sys
from collections import Counter, deque
from collections.abc import Mapping
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.clock import now
from crawler.db import Store, database_error, open_db
from crawler.distributed import connect, read_plan, share_through_redis
from crawler.locks import FileLock, holder, lock_path, try_lock
from crawler.logs import setup_logging
from crawler.pipelines.store import DATABASE_ERROR, finish_reason, unread
from crawler.progress import plural, progress_line
from crawler.revisit import RevisitPlan
from crawler.settings import build_settings, share_pages_waiting
from crawler.sources import Source
from crawler.spiders.news import NewsSpider

# Sources crawled at once in one process; more wait their turn, in order. Each running crawler
# holds its own downloader, scheduler and middlewares (~2 MB, as measured) and its share of the
# pages waiting for the workers, so this, not the number of sources, bounds the memory: one
# crawl of 200 sources at once peaked at 1,019 MB, and the daemon's, 50 at a time, at 450 MB,
# in the same wall time (benchmarks/sources.py: the two cores are the limit, not the sites).
RUNS_AT_ONCE = 50
# Each running crawler's store holds a connection whose page cache (SQLite's 2 MB) its opening
# fills, as the check of the file reads every page: 2.2 MB a connection, 110 MB for fifty
# copies of the same pages. SQLite's soft heap limit is the process's: over it, the caches
# give pages back (the file stays in the system's cache); 0.57 MB a connection under 8 MB.
SQLITE_HEAP_BYTES = 8_000_000


@dataclass(frozen=True)
class SourceResult:
    """What one source's crawl did, from its Scrapy stats."""

    source_id: str
    stats: dict[str, Any]

    def count(self, key: str) -> int:
        return int(self.stats.get(f"newsmon/{key}", 0))

    @property
    def failed(self) -> bool:
        return unread(self.stats) or DATABASE_ERROR in self.stats

    @property
    def errors_by_kind(self) -> Counter[str]:
        prefix = "newsmon/errors/"
        return Counter({k[len(prefix) :]: v for k, v in self.stats.items() if k.startswith(prefix)})


@dataclass(frozen=True)
class CrawlSummary:
    results: list[SourceResult]
    skipped: list[str] = field(default_factory=list)  # another process was crawling them

    def total(self, key: str) -> int:
        return sum(r.count(key) for r in self.results)

    @property
    def failed(self) -> list[str]:
        return [r.source_id for r in self.results if r.failed]

    def failure(self) -> str:
        """The one line a crawl with failed sources ends with: which, and the database error
        that stopped them, if one did."""
        stopped = next(
            (str(r.stats[DATABASE_ERROR]) for r in self.results if DATABASE_ERROR in r.stats), None
        )
        return f"failed sources: {', '.join(self.failed)}" + (f" ({stopped})" if stopped else "")

    def line(self) -> str:
        """The one-line summary a crawl ends with."""
        totals: Counter[str] = Counter()
        for result in self.results:
            totals.update({k: v for k, v in result.stats.items() if k.startswith("newsmon/")})
        errors: Counter[str] = sum((r.errors_by_kind for r in self.results), Counter())
        detail = ", ".join(f"{kind} {n}" for kind, n in sorted(errors.items()))
        return (
            f"crawled {plural(len(self.results), 'source')}: {progress_line(totals)}"
            + (f" ({detail})" if detail else "")
            + (f"; skipped {', '.join(self.skipped)}" if self.skipped else "")
        )


def run_crawl(
    sources: list[Source],
    db_path: str | Path,
    progress: bool = False,
    redis_url: str | None = None,
    **settings: Any,
) -> CrawlSummary:
    """Crawl ``sources`` side by side into the database at ``db_path``; blocks until done.
    With ``redis_url``, crawl them with the other crawlers sharing that Redis, and send what
    is found to its writer (``crawler.distributed``) instead.

    Scrapy's reactor runs once per process, so this is called once per process: the CLI and
    tests run each crawl as its own ``newsmon crawl`` (the daemon's long-lived crawl process
    is ``crawler.service``). A source that another process is crawling (cron and the daemon,
    or a crawl left running by a killed daemon) is skipped with a line on stderr: two crawls
    of one source would revisit from the same plan and each take the other's run for one
    that was cut off.
    """
    crawl_settings = build_settings(db_path, progress, **settings)
    if redis_url is not None:
        server = connect(redis_url)
        at = now()
        shared_plans = {s.id: read_plan(server, s.id, at) for s in sources}
        share_through_redis(crawl_settings, redis_url)
        return CrawlSummary(_crawl(sources, shared_plans, crawl_settings))
    try:
        # Made or brought up to date, or refused as damaged, before a source is claimed.
        open_db(db_path).close()
    except sqlite3.Error as exc:
        return CrawlSummary([database_failed(s, db_path, exc) for s in sources])
    with ExitStack() as held:
        mine, skipped = [], []
        for source in sources:
            lock = claim(source, db_path)
            if lock is None:
                skipped.append(source.id)
                continue
            held.callback(lock.release)
            mine.append(source)
        if not mine:
            return CrawlSummary([], skipped)
        at = now()
        try:
            plans = read_plans(mine, db_path, at)
        except sqlite3.Error as exc:
            return CrawlSummary([database_failed(s, db_path, exc) for s in mine], skipped)
        results = _crawl(mine, plans, crawl_settings)
        record_finishes(results, db_path, at)
    return CrawlSummary(results, skipped)


def claim(source: Source, db_path: str | Path) -> FileLock | None:
    """The lock on crawling ``source`` into ``db_path``, or None (with a line on stderr) when
    another process holds it."""
    path = lock_path(db_path, f"source-{source.id}")
    lock = try_lock(path)
    if lock is None:
        message = f"{source.id}: already being crawled by {holder(path)}; skipped"
        print(message, file=sys.stderr, flush=True)
    return lock


def read_plans(
    sources: list[Source], db_path: str | Path, at: str
) -> dict[str, RevisitPlan | None]:
    """Each source's revisit plan; read under its lock, after its previous run has ended."""
    store = Store(open_db(db_path))
    try:
        return {source.id: store.crawl_plan(source.id, at) for source in sources}
    finally:
        store.db.close()


def record_finishes(results: list[SourceResult], db_path: str | Path, at: str) -> None:
    """How each run that started at ``at`` ended, which the next run's plan reads."""
    try:
        store = Store(open_db(db_path))
        for result in results:
            store.record_finish_reason(result.source_id, at, finish_reason(result.stats))
        store.db.close()
    except sqlite3.Error as exc:
        # A run the database stopped said so already, in its own line.
        if not any(DATABASE_ERROR in r.stats for r in results):
            print(
                f"{database_error(exc, db_path)}; how the runs ended is not recorded",
                file=sys.stderr,
                flush=True,
            )


def database_failed(source: Source, db_path: str | Path, exc: sqlite3.Error) -> SourceResult:
    """A run of ``source`` that the database stopped before it began: failed, with the one
    line that says why."""
    line = f"{database_error(exc, db_path)}; nothing crawled"
    return SourceResult(source.id, {DATABASE_ERROR: line})


def _crawl(
    sources: list[Source], plans: Mapping[str, RevisitPlan | None], settings: Settings
) -> list[SourceResult]:
    share_pages_waiting(settings, min(len(sources), RUNS_AT_ONCE))
    limit_sqlite_heap()
    process = CrawlerProcess(settings)
    setup_logging()
    waiting = deque(sources)
    crawlers = []

    def start_next(outcome: Any = None) -> Any:
        # Chained on the crawl that ended, before the process looks for crawls still going.
        if waiting:
            source = waiting.popleft()
            crawler = process.create_crawler(NewsSpider)
            crawlers.append((source, crawler))
            process.crawl(crawler, source=source, plan=plans[source.id]).addBoth(start_next)
        return outcome

    for _ in range(RUNS_AT_ONCE):
        start_next()
    process.start()
    return [SourceResult(s.id, c.stats.get_stats()) for s, c in crawlers]


def limit_sqlite_heap() -> None:
    """SQLite's page caches in this process held to SQLITE_HEAP_BYTES in all."""
    with closing(sqlite3.connect(":memory:")) as db:
        db.execute(f"PRAGMA soft_heap_limit = {SQLITE_HEAP_BYTES}")
