"""Scrapy adapter around :func:`crawler.classify.classify`."""

from __future__ import annotations

from typing import Any

from crawler.classify.policies import DocumentInfo
from crawler.errors import PageFailed
from crawler.extract import Article
from crawler.items import Page
from crawler.pipelines.pool import (
    Pool,
    acquire,
    classify_page,
    page_failed,
    release,
    run_stage,
    taxonomy_for,
)
from crawler.settings import NEWSMON_PAGE_CPU_SECONDS


class ClassifyPipeline:
    """Fills ``Page.tags`` and ``Page.search_tokens`` for each extracted article (in a worker
    process unless ``NEWSMON_WORKERS = 0``); counts what was tagged and the CPU time it took.
    A page past the CPU cap (``NEWSMON_PAGE_CPU_SECONDS``) is an error of that page."""

    def __init__(
        self,
        stats: Any,
        taxonomy: tuple[str, ...] = (),
        pool: Pool | None = None,
        cap: float = NEWSMON_PAGE_CPU_SECONDS,
    ):
        self.stats = stats
        self.taxonomy = taxonomy  # the user's files extending the shipped taxonomy
        self.pool = pool
        self.cap = cap

    @classmethod
    def from_crawler(cls, crawler: Any) -> ClassifyPipeline:
        extra = tuple(crawler.settings.getlist("NEWSMON_TAXONOMY"))
        taxonomy_for(extra)  # a broken file fails the crawl's start, not every page
        cap = crawler.settings.getfloat("NEWSMON_PAGE_CPU_SECONDS")
        return cls(crawler.stats, extra, acquire(crawler.settings), cap)

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
            try:
                (tags, tokens), seconds = await run_stage(
                    self.pool, "tagging", self.cap, classify_page, *args
                )
            except PageFailed as failure:
                page_failed(item, failure, self.stats)
                return item
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
