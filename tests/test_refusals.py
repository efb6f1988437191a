"""Requests refused by Scrapy's own middlewares are counted under their kind, with the line a
fetch records: newsmon's subclasses stand in for Scrapy's (crawler.settings)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.middlewares import MetaRefresh, Offsite
from crawler.settings import build_settings
from crawler.spiders.news import describe_failure


def refusal(call: Callable[[], object]) -> tuple[str, str]:
    """The kind and the line a fetch records for the failure ``call()`` raises."""
    with pytest.raises(Exception) as raised:
        call()
    return describe_failure(Failure(raised.value))


def test_scrapys_own_middlewares_are_replaced_by_the_typed_ones() -> None:
    # Scrapy's beside ours would refuse first, with a bare IgnoreRequest counted as "ignored".
    middlewares = build_settings("unused.db").getdict("DOWNLOADER_MIDDLEWARES")
    enabled = [load_object(path) for path, order in middlewares.items() if order is not None]
    replaced = [load_object(path) for path, order in middlewares.items() if order is None]
    assert {c.__name__ for c in replaced} == {
        "OffsiteMiddleware", "RobotsTxtMiddleware", "HttpCompressionMiddleware",
        "RedirectMiddleware", "MetaRefreshMiddleware",
    }  # fmt: skip
    assert all(any(issubclass(mine, scrapys) for mine in enabled) for scrapys in replaced)


def test_a_meta_refresh_past_the_redirect_limit_is_too_many_redirects() -> None:
    crawler = get_crawler(Spider, {"REDIRECT_MAX_TIMES": 1})
    middleware = MetaRefresh.from_crawler(crawler)
    request = Request("https://example.gov.cn/a.html", meta={"redirect_times": 1})
    page = b'<html><head><meta http-equiv="refresh" content="0;url=/b.html"></head></html>'
    response = HtmlResponse(request.url, body=page, request=request)
    kind, line = refusal(lambda: middleware.process_response(request, response))
    assert (kind, line) == ("redirects", "too many redirects (over REDIRECT_MAX_TIMES)")


def test_an_offsite_request_is_offsite() -> None:
    crawler = get_crawler(Spider)
    crawler.spider = Spider("news", allowed_domains=["example.gov.cn"])
    middleware = Offsite.from_crawler(crawler)
    middleware.spider_opened(crawler.spider)
    kind, line = refusal(lambda: middleware.process_request(Request("https://example.com/")))
    assert (kind, line) == ("offsite", "Filtered offsite request to 'example.com'")
