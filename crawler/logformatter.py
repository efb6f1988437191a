"""Scrapy's log lines about items, one line each: the crawl's part of crawler.logs."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import logformatter
from scrapy.logformatter import LogFormatterResult


class ItemUrls(logformatter.LogFormatter):
    """Scrapy's log lines about items, naming an item by its URL: Scrapy's own print the
    whole item, an article's full text and page bytes included, into a one-line log."""

    def scraped(self, item: Any, response: Any, spider: Any) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Scraped %(url)s", "args": {"url": item_url(item)}}

    def dropped(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        return {
            **result,
            "msg": "Dropped %(url)s: %(exception)s",
            "args": {"url": item_url(item), "exception": exception},
        }

    def item_error(
        self, item: Any, exception: BaseException, response: Any, spider: Any
    ) -> LogFormatterResult:
        return {
            "level": logging.ERROR,
            "msg": "Error processing %(url)s",
            "args": {"url": item_url(item)},
        }


def item_url(item: Any) -> str:
    """The URL an item is about (a Fetch's, or its Page's fetch's)."""
    fetch = getattr(item, "fetch", item)
    return str(getattr(fetch, "url", type(item).__name__))
