"""A progress line on stderr while a crawl runs: how many pages and articles so far."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

INTERVAL_SECONDS = 2.0


class Progress:
    """Prints ``[source] 40 pages · 31 articles (31 new) · 1 error`` every few seconds."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> Progress:
        if not crawler.settings.getbool("NEWSMON_PROGRESS"):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.loop = task.LoopingCall(self.report)
        self.loop.start(INTERVAL_SECONDS, now=False)

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.report()

    def report(self) -> None:
        source = self.crawler.spider.source.id
        print(
            f"[{source}] {progress_line(self.crawler.stats.get_stats())}",
            file=sys.stderr,
            flush=True,
        )


def progress_line(stats: Mapping[str, Any]) -> str:
    """One line of counts from a crawl's stats."""
    new, updated, unchanged = (
        stats.get(f"newsmon/articles/{k}", 0) for k in ("new", "updated", "unchanged")
    )
    # A crawl sharing a round through Redis does not store: its writer says what was new.
    articles = (
        f"{stats['newsmon/articles/sent']} articles sent to the writer"
        if "newsmon/articles/sent" in stats
        else f"{new + updated + unchanged} articles ({new} new, {updated} updated,"
        f" {unchanged} unchanged)"
    )
    return (
        f"{stats.get('newsmon/pages', 0)} pages · {articles} · "
        f"{stats.get('newsmon/extract/not_article', 0)} not articles · "
        f"{plural(stats.get('newsmon/errors', 0), 'error')}"
    )


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
