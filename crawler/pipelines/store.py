"""Scrapy adapter around :class:`crawler.db.Store`: one crawl run per source."""

from __future__ import annotations

from typing import Any

from crawler.db import Store, now, open_db
from crawler.items import Fetch, Page


class StorePipeline:
    """Writes every fetch, and every extracted article once per canonical URL."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = Store(open_db(crawler.settings.get("NEWSMON_DB")))
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    @property
    def source(self) -> Any:
        return self.crawler.spider.source

    def open_spider(self) -> None:
        self.store.sync_sources([self.source])
        self.run_id = self.store.start_run(self.source.id)

    def process_item(self, item: Fetch | Page) -> Fetch | Page:
        fetch = item.fetch if isinstance(item, Page) else item
        self.store.record_fetch(self.run_id, self.source.id, fetch.row())
        self.stats.inc_value("newsmon/pages" if fetch.error is None else "newsmon/errors")
        if fetch.error is None and fetch.kind != "article":
            self.stats.inc_value("newsmon/listing_pages_ok")
        if fetch.status == 304:
            self.stats.inc_value("newsmon/not_modified")
            if fetch.kind == "article":
                self.store.article_checked(fetch.url, fetch.fetched_at, self.source.watch_seconds)
        if isinstance(item, Page) and item.article is not None:
            seen_at = now()
            outcome, article_id = self.store.save_article(
                item.article, self.source.id, self.run_id, seen_at, self.source.watch_seconds
            )
            self.stats.inc_value(f"newsmon/articles/{outcome}")
            if outcome != "unchanged" and item.tags is not None:
                new_policies = self.store.save_tags(article_id, item.tags, seen_at)
                self.stats.inc_value("newsmon/policies/new", len(new_policies))
        return item

    def close_spider(self) -> None:
        stats = self.stats.get_stats()
        counts = {
            "pages": stats.get("newsmon/pages", 0),
            "articles_new": stats.get("newsmon/articles/new", 0),
            "articles_updated": stats.get("newsmon/articles/updated", 0),
            "articles_unchanged": stats.get("newsmon/articles/unchanged", 0),
            "errors": stats.get("newsmon/errors", 0),
        }
        # A source fails when not one of its list pages, feeds or sitemaps could be read:
        # then nothing of it was checked, which a user must hear about.
        failed = not stats.get("newsmon/listing_pages_ok")
        capped = stats.get("newsmon/capped")
        error = (
            self.store.last_error(self.run_id)
            if failed
            else f"stopped after max_pages = {capped} requests"
            if capped
            else None
        )
        self.store.finish_run(
            self.run_id,
            "failed" if failed else "ok",
            counts,
            error,
            {k: v for k, v in stats.items() if k.startswith("newsmon/")},
        )
        self.store.db.close()
