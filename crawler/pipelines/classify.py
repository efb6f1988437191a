"""Scrapy adapter around :func:`crawler.classify.classify`."""

from __future__ import annotations

from typing import Any

from crawler.classify.policies import DocumentInfo
from crawler.extract import Article
from crawler.items import Page
from crawler.pipelines.pool import Pool, acquire, release, taxonomy_for, timed_classify


class ClassifyPipeline:
    """Fills ``Page.tags`` and ``Page.search_tokens`` for each extracted article (in a worker
    process unless ``NEWSMON_WORKERS = 0``); counts what was tagged and the CPU time it took."""

    def __init__(self, stats: Any, taxonomy: tuple[str, ...] = (), pool: Pool | None = None):
        self.stats = stats
        self.taxonomy = taxonomy  # the user's files extending the shipped taxonomy
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClassifyPipeline:
        extra = tuple(crawler.settings.getlist("NEWSMON_TAXONOMY"))
        taxonomy_for(extra)  # a broken file fails the crawl's start, not every page
        return cls(crawler.stats, extra, acquire(crawler.settings))

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, Page) and item.article is not None:
            article = item.article
            args = (
                article.simplified,
                article.title,
                article.published,
                self.taxonomy,
                document_info(article),
            )
            if self.pool is None:
                tags, tokens, seconds = timed_classify(*args)
            else:
                tags, tokens, seconds = await self.pool.run(timed_classify, *args)
            item.tags, item.search_tokens = tags, tokens
            self.stats.inc_value("newsmon/time/classify", seconds)
            self.stats.inc_value("newsmon/tags/topics", len(tags.topics))
            self.stats.inc_value("newsmon/tags/policies", len(tags.policies))
        return item

    def close_spider(self) -> None:
        release(self.pool)
        self.pool = None


def document_info(article: Article) -> DocumentInfo | None:
    """What the page's information table said of its document, for the classifier."""
    if not (article.issuer or article.doc_number):
        return None
    return DocumentInfo(article.issuer, article.doc_number, article.written, article.validity)
