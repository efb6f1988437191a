"""Scrapy adapter around :func:`crawler.extract.extract_article`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.errors import PageFailed
from crawler.extract import extract_article
from crawler.items import Page
from crawler.pipelines.pool import Pool, acquire, page_failed, release, run_stage
from crawler.settings import NEWSMON_PAGE_CPU_SECONDS


class ExtractPipeline:
    """Fills ``Page.article`` (in a worker process unless ``NEWSMON_WORKERS = 0``); counts
    pages that hold no article and the CPU time extraction took. A page past the CPU cap
    (``NEWSMON_PAGE_CPU_SECONDS``) is an error of that page."""

    def __init__(self, stats: Any, pool: Pool | None = None, cap: float = NEWSMON_PAGE_CPU_SECONDS):
        self.stats = stats
        self.pool = pool
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        cap = crawler.settings.getfloat("NEWSMON_PAGE_CPU_SECONDS")
        return cls(crawler.stats, acquire(crawler.settings), cap)

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Page):
            fetch = item.fetch
            args = (
                item.body,
                fetch.url,
                fetch.content_type,
                datetime.fromisoformat(fetch.fetched_at),
            )
            try:
                item.article, seconds = await run_stage(
                    self.pool, "extraction", self.cap, extract_article, *args
                )
            except PageFailed as failure:
                page_failed(item, failure, self.stats)
                return item
            self.stats.inc_value("newsmon/time/extract", seconds)
            if item.article is None:
                self.stats.inc_value("newsmon/extract/not_article")
            else:
                for reason, lines in item.article.removed.items():
                    self.stats.inc_value(f"newsmon/clean/{reason}", lines)
                for flag in item.article.flags:
                    # A flag may carry a count ("bad_bytes:3"): one stats key per kind.
                    kind, _, count = flag.partition(":")
                    self.stats.inc_value(f"newsmon/script/{kind}", int(count or 1))
        return item

    def close_spider(self) -> None:
        release(self.pool)
        self.pool = None
