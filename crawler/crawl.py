"""Run one crawl of some sources in this process and say what it found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess

from crawler.db import Store, now, open_db
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
        return f"crawled {plural(len(self.results), 'source')}: {progress_line(totals)}" + (
            f" ({detail})" if detail else ""
        )


def run_crawl(
    sources: list[Source], db_path: str | Path, progress: bool = False, **settings: Any
) -> CrawlSummary:
    """Crawl ``sources`` side by side into the database at ``db_path``; blocks until done.

    Scrapy's reactor runs once per process, so this is called once per process: the CLI and
    tests run each crawl as its own ``newsmon crawl``.
    """
    store = Store(open_db(db_path))
    at = now()
    plans = {source.id: store.revisit_plan(source.id, at) for source in sources}
    store.db.close()
    process = CrawlerProcess(build_settings(db_path, progress, **settings))
    setup_logging()
    crawlers = []
    for source in sources:
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, source=source, plan=plans[source.id])
        crawlers.append((source, crawler))
    process.start()
    return CrawlSummary([SourceResult(s.id, c.stats.get_stats()) for s, c in crawlers])
