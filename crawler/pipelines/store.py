"""Scrapy adapter around :class:`crawler.db.Store`: one crawl run per source."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro

from crawler.classify import Tags
from crawler.clock import now
from crawler.db import Store, database_error, open_db, text_hash
from crawler.extract import Article
from crawler.items import AttachmentFile, Fetch, Page
from crawler.sources import Source
from crawler.suspect import Body, suspect_change

Count = Callable[[str, int], Any]


# The crawl's setting for `crawl --baseline/--no-baseline`: True, False, or None (unset),
# where a source is a baseline when it is new (Store.is_new_source).
BASELINE = "NEWSMON_BASELINE"


class RunWriter:
    """One crawl run of one source as stored: its fetches, its articles once per canonical URL
    with their tags, and at the end its counts and outcome. ``count(key, n)`` hears what was
    written (Scrapy's ``stats.inc_value``, or the ingest's tally of a shared run).

    A ``baseline`` run (None: when the source is new) stores its articles and policies
    without an alert each; it ends with one alert that says how many it stored."""

    def __init__(self, store: Store, source: Source, count: Count, baseline: bool | None = None):
        self.store = store
        self.source = source
        self.count = count
        store.sync_sources([source])
        self.baseline = store.is_new_source(source.id) if baseline is None else baseline
        self.run_id = store.start_run(source.id, self.baseline)
        if self.baseline:
            count("newsmon/baseline", 1)

    def write(
        self,
        fetch: Fetch,
        article: Article | None = None,
        tags: Tags | None = None,
        tokens: str | None = None,
    ) -> None:
        """Store one fetch and what it held. A page that reads as a bad fetch of the article
        stored at its URL (:func:`suspect_change`) is a fetch with an error instead: the
        stored article stays as it was, stays due, and raises nothing; the fetch keeps the
        hash of the body it held, so that the same sound body on a later run is taken."""
        if fetch.kind == "article" and fetch.error is None and fetch.status != 304:
            stored = self.store.stored_body(fetch.url)
            fetched = (
                None if article is None else Body(article.text, article.quality, article.flags)
            )
            held = None if article is None else text_hash(article.text)
            problem = (
                None
                if stored is None
                else suspect_change(
                    stored, fetched, held is not None and self.store.last_held(fetch.url) == held
                )
            )
            if problem is not None:
                fetch, article = replace(fetch, error=problem, held_hash=held), None
                self.count("newsmon/errors/suspect", 1)
        self.store.record_fetch(self.run_id, self.source.id, fetch.row())
        count_fetch(fetch, self.count)
        if fetch.status == 304 and fetch.kind == "article":
            self.store.article_checked(fetch.url, fetch.fetched_at, self.source.watch_seconds)
        if article is not None:
            seen_at = now()
            outcome, article_id = self.store.save_article(
                article,
                self.source.id,
                self.run_id,
                seen_at,
                self.source.watch_seconds,
                tokens,
                self.baseline,
            )
            self.count(f"newsmon/articles/{outcome}", 1)
            if outcome != "unchanged" and tags is not None:
                new_policies = self.store.save_tags(article_id, tags, seen_at, self.baseline)
                self.count("newsmon/policies/new", len(new_policies))

    def write_attachment(self, item: AttachmentFile) -> None:
        """Store an attachment's fetch and, read whole, the attachment: a broken file is only
        its fetch's error, which ``newsmon status`` shows."""
        fetch = item.fetch
        self.store.record_fetch(self.run_id, self.source.id, fetch.row())
        self.count("newsmon/errors" if fetch.error is not None else "newsmon/attachments", 1)
        if fetch.status == 304:
            self.count("newsmon/not_modified", 1)
            self.store.attachment_checked(fetch.url, fetch.fetched_at)
        elif item.read is not None:
            outcome = self.store.save_attachment(
                self.source.id, item.article_url, fetch.url, item.name, item.read, item.body, now()
            )
            self.count(f"newsmon/attachments/{outcome}", 1)

    def finish(self, stats: dict[str, Any], error: str | None = None) -> None:
        """Close the run with the crawl's ``newsmon/*`` stats; an ``error`` that stopped it
        (a database write that failed) makes it a failed run with that error."""
        counts = {
            "pages": stats.get("newsmon/pages", 0),
            "articles_new": stats.get("newsmon/articles/new", 0),
            "articles_updated": stats.get("newsmon/articles/updated", 0),
            "articles_unchanged": stats.get("newsmon/articles/unchanged", 0),
            "errors": stats.get("newsmon/errors", 0),
        }
        failed = error is not None or unread(stats)
        capped = stats.get("newsmon/capped")
        error = (
            error
            or (self.store.last_error(self.run_id) if failed else None)
            or (f"stopped after max_pages = {capped} requests" if capped else None)
        )
        self.store.finish_run(
            self.run_id,
            "failed" if failed else "ok",
            counts,
            error,
            {k: v for k, v in stats.items() if k.startswith("newsmon/")},
        )


def count_fetch(fetch: Fetch, count: Count) -> None:
    """Count a fetch the way a run's outcome and summary read it."""
    count("newsmon/pages" if fetch.error is None else "newsmon/errors", 1)
    if fetch.kind not in ("article", "attachment"):
        count("newsmon/listing_pages", 1)
        if fetch.error is None:
            count("newsmon/listing_pages_ok", 1)
    if fetch.status == 304:
        count("newsmon/not_modified", 1)


def finish_reason(stats: dict[str, Any]) -> str:
    """Why a run ended: Scrapy's reason, or ``capped`` when max_pages stopped it."""
    reason = str(stats.get("finish_reason", "unknown"))
    return "capped" if reason == "finished" and stats.get("newsmon/capped") else reason


def unread(stats: dict[str, Any]) -> bool:
    """Whether a run failed: not one of the source's list pages, feeds or sitemaps could be
    read, so nothing of it was checked, which a user must hear about. A crawler sharing a
    round with others fails only if it asked for some: the others may have taken them all."""
    shared = "newsmon/round" in stats
    asked = stats.get("newsmon/listing_pages")
    return not stats.get("newsmon/listing_pages_ok") and (bool(asked) or not shared)


# Where a crawl's stats hold the database error that stopped a source's run.
DATABASE_ERROR = "newsmon/database_error"
STOPPED = "database_error"  # the finish reason of a run stopped by one


class StorePipeline:
    """Writes each crawled item through a :class:`RunWriter` into the crawl's database.

    A write the database refuses (a damaged file, a disk I/O error, a lock held too long)
    stops the source's run: every later write would fail the same way, and a run that went
    on would end "ok" with nothing stored. The run is then recorded failed if the database
    still takes that, and the crawl ends with one line naming the error."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.stats = crawler.stats
        self.path = crawler.settings.get("NEWSMON_DB")
        self.store: Store | None = None
        self.writer: RunWriter | None = None
        self.error: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        with self._database():
            self.store = Store(open_db(self.path))
            self.writer = RunWriter(
                self.store,
                self.crawler.spider.source,
                self.stats.inc_value,
                self.crawler.settings.get(BASELINE),
            )
        if self.error is not None:
            raise CloseSpider(STOPPED)  # how a component that cannot start closes its spider

    def process_item(self, item: Fetch | Page | AttachmentFile) -> Fetch | Page | AttachmentFile:
        if self.writer is None or self.error is not None:
            return item  # the run stopped on a database error: the spider is closing
        started = time.process_time()
        with self._database():
            if isinstance(item, Page):
                self.writer.write(item.fetch, item.article, item.tags, item.search_tokens)
            elif isinstance(item, AttachmentFile):
                self.writer.write_attachment(item)
            else:
                self.writer.write(item)
        if self.error is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=STOPPED))
            return item
        self.stats.inc_value("newsmon/time/store", time.process_time() - started)
        return item

    def close_spider(self) -> None:
        outcome = ""
        if self.writer is not None:
            try:
                self.writer.finish(self.stats.get_stats(), self.error)
                outcome = "; the run is recorded failed"
            except sqlite3.Error:
                outcome = "; the run could not be recorded either"
        elif self.error is not None:
            outcome = "; the run could not be recorded"
        if self.store is not None:
            self.store.db.close()
        if self.error is not None:
            # The crawl's one closing line says it (crawl.CrawlSummary.failure).
            self.stats.set_value(
                DATABASE_ERROR, f"{self.error}, crawl of the source stopped{outcome}"
            )

    @contextmanager
    def _database(self) -> Iterator[None]:
        """Note the first database error met inside: the run stops on it."""
        try:
            yield
        except sqlite3.Error as exc:
            self.error = str(database_error(exc, self.path))
            self.stats.set_value(DATABASE_ERROR, self.error)
