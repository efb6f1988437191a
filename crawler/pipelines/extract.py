"""Scrapy adapter around :func:`crawler.extract.extract_article`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from crawler.extract import extract_article
from crawler.items import Page


class ExtractPipeline:
    """Fills ``Page.article``; counts pages that hold no article."""

    def __init__(self, stats: Any):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Page):
            fetch = item.fetch
            item.article = extract_article(
                item.body, fetch.url, fetch.content_type, datetime.fromisoformat(fetch.fetched_at)
            )
            if item.article is None:
                self.stats.inc_value("newsmon/extract/not_article")
            else:
                for reason, lines in item.article.removed.items():
                    self.stats.inc_value(f"newsmon/clean/{reason}", lines)
                for flag in item.article.flags:
                    self.stats.inc_value(f"newsmon/script/{flag}")
        return item
