"""Run one crawl of some sources in this process and say what it found."""

from __future__ import annotations

import sys
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from crawler.db import Store, now, open_db
from crawler.locks import holder, lock_path, try_lock
from crawler.logs import setup_logging
from crawler.progress import plural, progress_line
from crawler.settings import build_settings
from crawler.sources import Source
from crawler.spiders.news import NewsSpider


@dataclass(frozen=True)
class SourceResult:
    """What one source's crawl did, from its Scrapy stats."""

    source_id: str
    stats: dict[str, Any]

    def count(self, key: str) -> int:
        return int(self.stats.get(f"newsmon/{key}", 0))

    @property
    def failed(self) -> bool:
        return not self.count("listing_pages_ok")

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


def cut_off(store: Store, source_id: str) -> bool:
    """Whether the source's last run that read anything stopped before it had followed every
    link it found: killed (still 'running', or 'interrupted'), stopped by a signal, or capped."""
    last = next(
        store.db.query(
            "select status, finish_reason from crawl_runs where source_id = ?"
            " and status != 'failed' order by id desc limit 1",
            [source_id],
        ),
        None,
    )
    if last is None:
        return False
    return last["status"] in ("running", "interrupted") or last["finish_reason"] not in (
        None,
        "finished",
    )


def finish_reason(stats: dict[str, Any]) -> str:
    """Why a run ended: Scrapy's reason, or ``capped`` when max_pages stopped it."""
    reason = str(stats.get("finish_reason", "unknown"))
    return "capped" if reason == "finished" and stats.get("newsmon/capped") else reason


def run_crawl(
    sources: list[Source], db_path: str | Path, progress: bool = False, **settings: Any
) -> CrawlSummary:
    """Crawl ``sources`` side by side into the database at ``db_path``; blocks until done.

    Scrapy's reactor runs once per process, so this is called once per process: the CLI and
    tests run each crawl as its own ``newsmon crawl``. A source that another process is
    crawling (cron and the daemon, or a crawl left running by a killed daemon) is skipped
    with a line on stderr: two crawls of one source would revisit from the same plan and
    each take the other's run for one that was cut off.
    """
    store = Store(open_db(db_path))
    with ExitStack() as held:
        mine, skipped = [], []
        for source in sources:
            path = lock_path(db_path, f"source-{source.id}")
            lock = try_lock(path)
            if lock is None:
                message = f"{source.id}: already being crawled by {holder(path)}; skipped"
                print(message, file=sys.stderr, flush=True)
                skipped.append(source.id)
                continue
            held.callback(lock.release)
            mine.append(source)
        # The plan is read under the lock: after the previous run of the source has ended.
        at = now()
        plans = {source.id: store.revisit_plan(source.id, at) for source in mine}
        for source in mine:
            if cut_off(store, source.id):
                # A run cut short stored the ETags of listings whose links it never
                # followed: asked conditionally they would answer 304 and hide those
                # articles until the listing changes. So this run asks for everything.
                plans[source.id] = replace(plans[source.id], validators={})
        store.db.close()
        if not mine:
            return CrawlSummary([], skipped)
        process = CrawlerProcess(build_settings(db_path, progress, **settings))
        setup_logging()
        crawlers = []
        for source in mine:
            crawler = process.create_crawler(NewsSpider)
            process.crawl(crawler, source=source, plan=plans[source.id])
            crawlers.append((source, crawler))
        process.start()
        results = [SourceResult(s.id, c.stats.get_stats()) for s, c in crawlers]
        store = Store(open_db(db_path))
        for result in results:
            store.record_finish_reason(result.source_id, at, finish_reason(result.stats))
        store.db.close()
    return CrawlSummary(results, skipped)
