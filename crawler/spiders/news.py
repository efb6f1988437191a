"""The one generic spider: a :class:`Source` says where to start and which links are articles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from lxml import etree
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure

from crawler.db import RevisitPlan, now
from crawler.items import Fetch, Page
from crawler.sources import Source, load_sources
from crawler.urls import canonical_url, path_and_query

FEED_NAMESPACES = {"atom": "http://www.w3.org/2005/Atom"}
NEXT_PAGE_TEXT = ("下一页", "下页", "后页", "next")
FEED_PARSER = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)


class NewsSpider(scrapy.Spider):
    """List pages, feeds and sitemaps of one source → its article pages."""

    name = "news"
    # A 304 is the cheap answer to a revisit; it reaches the callbacks, which parse nothing.
    handle_httpstatus_list = [304]

    def __init__(
        self,
        source: Source | str,
        seeds: str = "seeds",
        plan: RevisitPlan | None = None,
        **kwargs: Any,
    ):
        if isinstance(source, str):  # `scrapy crawl news -a source=ID`
            source = next(s for s in load_sources([seeds]) if s.id == source)
        super().__init__(name=f"news:{source.id}", **kwargs)
        self.source = source
        self.plan = plan or RevisitPlan(now(), {}, {})
        self.allowed_domains = list(source.domains)
        self.articles = source.article_patterns
        self.list_pages = source.list_patterns

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # Politeness is the source's: its crawler's settings are still open here.
        crawler.settings.set("DOWNLOAD_DELAY", spider.source.delay, priority="spider")
        # AutoThrottle starts no faster than this; a site that asks for no delay (the
        # loopback demo) need not begin at a second per request.
        crawler.settings.set(
            "AUTOTHROTTLE_START_DELAY", max(spider.source.delay, 0.1), priority="spider"
        )
        crawler.settings.set(
            "CONCURRENT_REQUESTS_PER_DOMAIN", spider.source.concurrency, priority="spider"
        )
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        callbacks = {
            "list": self.parse_list,
            "feed": self.parse_feed,
            "sitemap": self.parse_sitemap,
        }
        for kind, urls in self.source.start_urls.items():
            for url in urls:
                yield self._request(url, kind, callbacks[kind], depth=1)
        for url in self.plan.due():
            yield self._request(url, "article", self.parse_article)

    def _request(self, url: str, kind: str, callback: Any, depth: int = 0) -> scrapy.Request:
        url = canonical_url(url, self.source.drop_params)
        etag, modified = self.plan.validators.get(url, (None, None))
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        return scrapy.Request(
            url,
            headers=headers,
            callback=callback,
            errback=self.failed,
            meta={"kind": kind, "depth_in_source": depth},
        )

    def _wanted(self, url: str, lastmod: str | None = None) -> bool:
        """An article link worth a request: not stored yet, due for a check, or newer."""
        canonical = canonical_url(url, self.source.drop_params)
        return self.is_article(url) and not self.plan.skip(canonical, lastmod)

    def is_article(self, url: str) -> bool:
        """Whether ``url`` is an article by the source's patterns, tracking parameters aside."""
        target = path_and_query(canonical_url(url, self.source.drop_params))
        return any(p.search(target) for p in self.articles)

    def parse_list(self, response: Response) -> Iterator[Any]:
        yield self.fetch_record(response)
        if response.status == 304:
            return
        depth = response.meta["depth_in_source"]
        more_pages = depth < self.source.max_list_pages
        next_links = (
            set(
                response.xpath(
                    "//a[@rel='next']/@href | "
                    + " | ".join(f"//a[contains(., '{t}')]/@href" for t in NEXT_PAGE_TEXT)
                ).getall()
            )
            if more_pages
            else set()
        )
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            if urlsplit(url).scheme not in ("http", "https"):
                continue
            if self.is_article(url):
                if self._wanted(url):
                    yield self._request(url, "article", self.parse_article)
            elif more_pages and (
                href in next_links or any(p.search(path_and_query(url)) for p in self.list_pages)
            ):
                yield self._request(url, "list", self.parse_list, depth + 1)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        yield self.fetch_record(response)
        if response.status == 304:
            return
        root = etree.fromstring(response.body, parser=FEED_PARSER)
        if root is None:
            return
        links = root.xpath("//item/link/text()") + root.xpath(
            "//atom:entry/atom:link[not(@rel) or @rel='alternate']/@href",
            namespaces=FEED_NAMESPACES,
        )
        for link in links:
            url = response.urljoin(link.strip())
            if self._wanted(url):
                yield self._request(url, "article", self.parse_article)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        yield self.fetch_record(response)
        if response.status == 304:
            return
        body = gunzip(response.body) if gzip_magic_number(response) else response.body
        sitemap = Sitemap(body)
        for entry in sitemap:
            url = response.urljoin(entry["loc"])
            if sitemap.type == "sitemapindex":
                yield self._request(url, "sitemap", self.parse_sitemap)
            elif self._wanted(url, entry.get("lastmod")):
                yield self._request(url, "article", self.parse_article)

    def parse_article(self, response: Response) -> Iterator[Page | Fetch]:
        fetch = self.fetch_record(response)
        yield fetch if response.status == 304 else Page(fetch=fetch, body=response.body)

    def fetch_record(self, response: Response) -> Fetch:
        headers = response.headers
        latency = response.meta.get("download_latency")
        return Fetch(
            url=canonical_url(response.url, self.source.drop_params),
            kind=response.meta["kind"],
            fetched_at=now(),
            status=response.status,
            bytes=len(response.body),
            elapsed_ms=round(latency * 1000) if latency is not None else None,
            content_type=_header(headers, b"Content-Type"),
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
        )

    def failed(self, failure: Failure) -> Iterator[Fetch]:
        """Record why a request failed; the crawl goes on with the other pages."""
        request = failure.request  # type: ignore[attr-defined]
        kind, message = describe_failure(failure)
        self.crawler.stats.inc_value(f"newsmon/errors/{kind}")
        response = failure.value.response if failure.check(HttpError) else None
        yield Fetch(
            url=request.url,
            kind=request.meta["kind"],
            fetched_at=now(),
            status=response.status if response is not None else None,
            bytes=len(response.body) if response is not None else 0,
            error=message,
        )


def describe_failure(failure: Failure) -> tuple[str, str]:
    """A short kind (for counting) and a one-line message (for people) for a failed request."""
    if failure.check(HttpError):
        status = failure.value.response.status
        return f"http_{status}", f"HTTP {status}"
    if failure.check(IgnoreRequest):
        message = str(failure.value) or "request ignored"
        return ("robots" if "robots" in message else "ignored"), message
    if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
        return "timeout", "timed out"
    if failure.check(CannotResolveHostError, DNSLookupError):
        return "dns", "DNS lookup failed"
    if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
        return "connection", "connection refused"
    if failure.check(ConnectionLost, ResponseDataLossError):
        return "connection", "connection lost before the response was complete"
    return "other", f"{failure.type.__name__}: {failure.getErrorMessage()}".splitlines()[0]


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
