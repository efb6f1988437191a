"""Scrapy adapter around :func:`crawler.extract.extract_article`, with the source's template
(:mod:`crawler.extract.template`) learned from its pages as they pass."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from typing import Any

from crawler.db import load_template, save_template
from crawler.errors import PageFailed
from crawler.extract import Article, extract_article
from crawler.extract.template import Hint, Learned, Observation, Template
from crawler.items import Page
from crawler.pipelines.pool import Pool, acquire, page_failed, release, run_stage
from crawler.settings import NEWSMON_PAGE_CPU_SECONDS

log = logging.getLogger(__name__)

# A run's figures kept with the template, for `newsmon status` to compare a run with.
RUNS_KEPT = 20


def extract_learning(
    html: bytes, url: str, content_type: str | None, fetched_at: datetime, hint: Hint
) -> tuple[Article | None, Observation | None]:
    """:func:`extract_article` with the source's ``hint``, and what the page teaches. Runs
    in a worker: the hint goes with each page (a few kB), the counts stay in the crawl."""
    learned = Learned(hint)
    article = extract_article(html, url, content_type, fetched_at, learned)
    return article, learned.observation if article is not None else None


def extract_unlearned(
    html: bytes, url: str, content_type: str | None, fetched_at: datetime, hint: Hint
) -> tuple[Article | None, None]:
    """:func:`extract_article` alone, shaped as :func:`extract_learning`."""
    return extract_article(html, url, content_type, fetched_at), None


class ExtractPipeline:
    """Fills ``Page.article`` (in a worker process unless ``NEWSMON_WORKERS = 0``); counts
    pages that hold no article and the CPU time extraction took. A page past the CPU cap
    (``NEWSMON_PAGE_CPU_SECONDS``) is an error of that page.

    With ``NEWSMON_TEMPLATES`` the source's template is read from the crawl's database at
    the first item and written back, with this run's figures, when the spider closes."""

    def __init__(
        self,
        stats: Any,
        pool: Pool | None = None,
        cap: float = NEWSMON_PAGE_CPU_SECONDS,
        db_path: str | None = None,
        crawler: Any = None,
    ):
        self.stats = stats
        self.crawler = crawler
        self.pool = pool
        self.cap = cap
        self.db_path = db_path
        self.source_id: str | None = None
        self.loaded = False
        self.template = Template()
        self.runs: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Any) -> ExtractPipeline:
        cap = crawler.settings.getfloat("NEWSMON_PAGE_CPU_SECONDS")
        stored = crawler.settings.getbool("NEWSMON_TEMPLATES")
        db_path = crawler.settings.get("NEWSMON_DB") if stored else None
        return cls(crawler.stats, acquire(crawler.settings), cap, db_path, crawler)

    def _load(self) -> None:
        """The source's template as stored, at its first page. Not in ``open_spider``: the
        store's may refuse to open, and Scrapy then leaves the other pipelines' unawaited."""
        self.loaded = True
        source = getattr(getattr(self.crawler, "spider", None), "source", None)
        self.source_id = getattr(source, "id", None)
        if self.db_path is None or self.source_id is None:
            return
        try:
            state = load_template(self.db_path, self.source_id)
        except (sqlite3.Error, ValueError) as exc:
            # The store meets the same error and stops the run with it, in one line.
            log.info("template of %s not read: %s", self.source_id, exc)
            return
        self.template = Template.from_state(state.get("template", {}))
        self.runs = list(state.get("runs", []))[-RUNS_KEPT:]

    async def process_item(self, item: Any) -> Any:
        if not self.loaded:
            self._load()
        if isinstance(item, Page):
            fetch = item.fetch
            args = (
                item.body,
                fetch.url,
                fetch.content_type,
                datetime.fromisoformat(fetch.fetched_at),
                self.template.hint(),
            )
            # A template is a source's: pages of no known source are read without one.
            stage = extract_learning if self.source_id is not None else extract_unlearned
            try:
                (item.article, observed), seconds = await run_stage(
                    self.pool, "extraction", self.cap, stage, *args
                )
            except PageFailed as failure:
                page_failed(item, failure, self.stats)
                return item
            self.stats.inc_value("newsmon/time/extract", seconds)
            if item.article is None:
                self.stats.inc_value("newsmon/extract/not_article")
            else:
                self._count(item.article, observed, fetch.url)
        return item

    def _count(self, article: Article, observed: Observation | None, url: str) -> None:
        self.stats.inc_value("newsmon/extract/articles")
        self.stats.inc_value("newsmon/extract/chars", len(article.text))
        if observed is not None:
            self.template.learn(observed, url)
            self.stats.inc_value(f"newsmon/template/{'hit' if observed.hit else 'miss'}")
        for reason, lines in article.removed.items():
            self.stats.inc_value(f"newsmon/clean/{reason}", lines)
        for flag in article.flags:
            # A flag may carry a count ("bad_bytes:3"): one stats key per kind.
            kind, _, count = flag.partition(":")
            self.stats.inc_value(f"newsmon/script/{kind}", int(count or 1))

    def close_spider(self) -> None:
        release(self.pool)
        self.pool = None
        if self.db_path is None or self.source_id is None:
            return
        run = {
            key: int(self.stats.get_value(f"newsmon/{name}", 0))
            for key, name in RUN_FIGURES.items()
        }
        if run["articles"] or run["rejected"]:
            self.runs = [*self.runs, run][-RUNS_KEPT:]
        state = {"template": self.template.state(), "runs": self.runs}
        try:
            save_template(self.db_path, self.source_id, state)
        except (sqlite3.Error, ValueError) as exc:
            log.info("template of %s not stored: %s", self.source_id, exc)


# A run's figures as kept with the template: its key, the crawl's stats key.
RUN_FIGURES = {
    "articles": "extract/articles",
    "rejected": "extract/not_article",
    "chars": "extract/chars",
    "hits": "template/hit",
    "misses": "template/miss",
}
