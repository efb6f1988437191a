"""Scrapy adapter around :func:`crawler.classify.classify`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crawler.classify import classify
from crawler.classify.topics import Taxonomy, load_taxonomy
from crawler.items import Page


class ClassifyPipeline:
    """Fills ``Page.tags`` for each extracted article; counts what was tagged."""

    def __init__(self, stats: Any, taxonomy: Taxonomy):
        self.stats = stats
        self.taxonomy = taxonomy

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClassifyPipeline:
        extra = crawler.settings.getlist("NEWSMON_TAXONOMY")
        return cls(crawler.stats, load_taxonomy(*map(Path, extra)))

    def process_item(self, item: Any) -> Any:
        if isinstance(item, Page) and item.article is not None:
            article = item.article
            item.tags = classify(
                article.simplified, article.title, article.published, self.taxonomy
            )
            self.stats.inc_value("newsmon/tags/topics", len(item.tags.topics))
            self.stats.inc_value("newsmon/tags/policies", len(item.tags.policies))
        return item
