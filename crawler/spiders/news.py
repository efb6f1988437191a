"""The one generic spider: a :class:`Source` says where to start and which links are articles."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import feedparser
import scrapy
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler import paths
from crawler.attachments import attachment_name, is_attachment, may_link_attachments
from crawler.clock import now
from crawler.errors import LinkTooLong
from crawler.extract.decode import not_a_page
from crawler.integrity import META_KEY as CUT_SHORT
from crawler.items import AttachmentFile, Fetch, Page
from crawler.middlewares import RequestRefused
from crawler.pagination import script_pages
from crawler.revisit import RevisitPlan, lastmod_moment
from crawler.sources import Source, load_sources
from crawler.urls import canonical_url, path_and_query

NEXT_PAGE_TEXT = ("下一页", "下页", "后页", "next")
# An attachment link's own element or one of the three around it opens with an 附件 label.
LABELLED_BLOCK = (
    "ancestor-or-self::*[position() <= 4]"
    "[starts-with(normalize-space(.), '附件') or starts-with(normalize-space(.), '相关附件')]"
)
# Characters of a value quoted as the example of a skip: the error is one line.
EXAMPLE_CHARS = 60

Entry = TypeVar("Entry")


class Skips:
    """What a listing page held that was not followed, by reason, with one example each: the
    one error line its fetch gets beside the page's own, so that status shows each skip."""

    def __init__(self, spider: NewsSpider, response: Response):
        self.spider = spider
        self.response = response
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, key: str, reason: str, example: str) -> None:
        """One entry skipped: counted as ``newsmon/skipped/KEY``, described as ``reason``."""
        self.spider.crawler.stats.inc_value(f"newsmon/skipped/{key}")
        self.counts[reason] += 1
        self.examples.setdefault(reason, " ".join(example.split())[:EXAMPLE_CHARS])

    def each(
        self, entries: Iterable[Entry], follow: Callable[[Entry], Iterator[Any]]
    ) -> Iterator[Any]:
        """``follow(entry)`` for every entry; one that raises is recorded, and the page's
        other entries are followed all the same."""
        for entry in entries:
            try:
                yield from follow(entry)
            except LinkTooLong:
                self.add(
                    "too_long", "links over the URL length limit (URLLENGTH_LIMIT)", str(entry)
                )
            except Exception as exc:  # noqa: BLE001 - whatever one entry did, the rest go on
                self.add("failed", f"entries that failed ({type(exc).__name__})", str(entry))

    def fetch(self) -> Fetch | None:
        """The error line of this page's skips, or None when it had none."""
        if not self.counts:
            return None
        kind = self.response.meta["kind"]
        told = "; ".join(
            f"{n} {reason}, e.g. {self.examples[reason]!r}" for reason, n in self.counts.items()
        )
        return Fetch(
            url=canonical_url(self.response.url, self.spider.source.drop_params),
            kind=kind,
            fetched_at=now(),
            error=f"{kind}: {told}",
        )


class NewsSpider(scrapy.Spider):
    """List pages, feeds and sitemaps of one source → its article pages."""

    name = "news"
    # A 304 is the cheap answer to a revisit; it reaches the callbacks, which parse nothing.
    handle_httpstatus_list = [304]

    def __init__(
        self,
        source: Source | str,
        seeds: str | None = None,
        plan: RevisitPlan | None = None,
        **kwargs: Any,
    ):
        if isinstance(source, str):  # `scrapy crawl news -a source=ID`
            source = next(
                s
                for s in load_sources([paths.seeds(Path(seeds) if seeds else None)])
                if s.id == source
            )
        super().__init__(name=f"news:{source.id}", **kwargs)
        self.source = source
        self.plan = plan or RevisitPlan(now(), {}, {})
        self.allowed_domains = list(source.domains)
        self.list_pages = source.list_patterns
        self.requested: set[str] = set()  # canonical URLs, counted against max_pages

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
        # A request the engine hands the downloader is downloaded, however full the scraper is
        # (its back-off only stops new ones): at Scrapy's 32, fifty sources crawled side by
        # side each queued 30 behind their site's slot, and had 1,300 pages waiting in memory
        # for the workers. Twice the site's slots keep it busy, attachments elsewhere too.
        crawler.settings.set(
            "CONCURRENT_REQUESTS", 2 * spider.source.concurrency, priority="spider"
        )
        crawler.settings.set("DOWNLOAD_TIMEOUT", spider.source.timeout, priority="spider")
        crawler.signals.connect(spider.dropped, signal=signals.request_dropped)
        return spider

    def dropped(self, request: scrapy.Request) -> None:
        """A redirect the scheduler dropped as a duplicate (a loop the redirect middlewares
        did not see, or a page this run asks for already) fails through the errback, so that
        the page asked for records where it led. Other duplicates are left alone: the spider
        asks for each URL once, and sharing a frontier, another crawler took the request."""
        if "redirect_urls" not in request.meta:
            return
        line = f"redirected to {request.url}, which this run asks for already"
        failure = Failure(RequestRefused("redirects", line))
        self.crawler.engine.scraper.enqueue_scrape(failure, request)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        callbacks = {
            "list": self.parse_list,
            "feed": self.parse_feed,
            "sitemap": self.parse_sitemap,
        }
        for kind, urls in self.source.start_urls.items():
            for url in urls:
                for request in self._request(url, kind, callbacks[kind], depth=1):
                    yield request
        for url in self.plan.due():
            for request in self._request(url, "article", self.parse_article):
                yield request

    def _request(
        self, url: str, kind: str, callback: Any, depth: int = 0
    ) -> Iterator[scrapy.Request]:
        """The request for ``url``; none for a URL already requested in this run, nor once
        the run has requested ``max_pages`` pages."""
        url = canonical_url(url, self.source.drop_params)
        if url in self.requested:
            return
        if len(url) > self.settings.getint("URLLENGTH_LIMIT"):
            raise LinkTooLong(url)
        if len(self.requested) >= self.source.max_pages:
            if not self.crawler.stats.get_value("newsmon/capped"):
                self.crawler.stats.set_value("newsmon/capped", self.source.max_pages)
                self.logger.warning(
                    "%s: stopped following links after max_pages = %d requests;"
                    " the rest waits for the next run",
                    self.source.id,
                    self.source.max_pages,
                )
            return
        self.requested.add(url)
        etag, modified = self.plan.validators.get(url, (None, None))
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        yield scrapy.Request(
            url,
            headers=headers,
            callback=callback,
            errback=self.failed,
            meta={"kind": kind, "depth_in_source": depth},
        )

    def _link(self, response: Response, href: str) -> str | None:
        """The absolute URL of a link on ``response``; None for links no crawler can follow
        (``javascript:``, ``mailto:``, malformed hosts and ports)."""
        try:
            url = response.urljoin(href.strip())
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                return None
            parts.port  # noqa: B018 - raises on a port that is out of range or not a number
            canonical_url(url, self.source.drop_params)
        except ValueError:
            self.crawler.stats.inc_value("newsmon/links/malformed")
            return None
        return url

    def _wanted(self, url: str, lastmod: str | None = None) -> bool:
        """An article link worth a request: not stored yet, due for a check, or newer."""
        canonical = canonical_url(url, self.source.drop_params)
        return self.is_article(url) and not self.plan.skip(canonical, lastmod)

    def is_article(self, url: str) -> bool:
        """Whether ``url`` is an article by the source's patterns, tracking parameters aside."""
        return self.source.is_article(url)

    def parse_list(self, response: Response) -> Iterator[Any]:
        fetch = self.fetch_record(response)
        if fetch.error is None and not isinstance(response, TextResponse):
            fetch.error = f"not a web page: {fetch.content_type or 'no Content-Type'}"
        yield fetch
        if response.status == 304 or fetch.error is not None:
            return
        assert isinstance(response, TextResponse)
        depth = response.meta["depth_in_source"]
        more_pages = depth < self.source.max_list_pages
        next_links = next_page_hrefs(response) if more_pages else set()

        def follow(href: str) -> Iterator[scrapy.Request]:
            url = self._link(response, href)
            if url is None:
                return
            if self.is_article(url):
                if self._wanted(url):
                    yield from self._request(url, "article", self.parse_article)
            elif more_pages and (
                href in next_links or any(p.search(path_and_query(url)) for p in self.list_pages)
            ):
                yield from self._request(url, "list", self.parse_list, depth + 1)

        # A pager drawn by a script names no page in an <a>: its pages are numbered, so the
        # ones within max_list_pages are requested at the depth they would have as next pages.
        drawn = (
            script_pages(
                response.xpath("//script/text()").getall(),
                response.url,
                self.source.max_list_pages - depth,
            )
            if more_pages
            else []
        )

        def follow_page(numbered: tuple[int, str]) -> Iterator[scrapy.Request]:
            further, url = numbered
            yield from self._request(url, "list", self.parse_list, depth + further)

        skips = Skips(self, response)
        yield from skips.each(response.css("a::attr(href)").getall(), follow)
        yield from skips.each(enumerate(drawn, 1), follow_page)
        yield from _some(skips.fetch())

    def parse_feed(self, response: Response) -> Iterator[Any]:
        fetch = self.fetch_record(response)
        unread = response.status == 304 or fetch.error is not None
        skips = Skips(self, response)
        links = None if unread else _feed_links(response.body, fetch, skips)
        yield fetch

        def follow(link: str) -> Iterator[scrapy.Request]:
            url = self._link(response, link)
            if url is None:
                skips.add("malformed", "links malformed", link)
            elif self._wanted(url):
                yield from self._request(url, "article", self.parse_article)

        yield from skips.each(links or (), follow)
        yield from _some(skips.fetch())

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        fetch = self.fetch_record(response)
        sitemap = None if response.status == 304 else self._sitemap(response, fetch)
        yield fetch
        if sitemap is None:
            return
        skips = Skips(self, response)

        def follow(entry: dict[str, Any]) -> Iterator[scrapy.Request]:
            loc = entry.get("loc", "").strip()
            url = self._link(response, loc) if loc else None
            if url is None:
                skips.add("malformed", "entries without a usable <loc>", loc or str(entry))
                return
            if sitemap.type == "sitemapindex":
                yield from self._request(url, "sitemap", self.parse_sitemap)
                return
            lastmod = entry.get("lastmod")
            # Not understood, it counts as none: a new URL is still followed.
            if lastmod and lastmod_moment(lastmod) is None:
                skips.add("lastmod", "lastmod values not understood", lastmod)
                lastmod = None
            if self._wanted(url, lastmod):
                yield from self._request(url, "article", self.parse_article)

        yield from skips.each(sitemap, follow)
        yield from _some(skips.fetch())

    def _sitemap(self, response: Response, fetch: Fetch) -> Sitemap | None:
        """The sitemap in ``response``, unpacked; None, with ``fetch.error`` set, if none."""
        try:
            body = (
                gunzip(response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
                if gzip_magic_number(response)
                else response.body
            )
            problem = not_a_page(body)
            if problem is None:
                return Sitemap(body)
        except (OSError, EOFError, ValueError) as exc:  # a broken or oversized gzip
            problem = f"gzip data that does not unpack ({type(exc).__name__})"
        except StopIteration:  # lxml found not a single element in it
            problem = "no XML in it"
        fetch.error = f"not a sitemap: {problem}"
        return None

    def parse_article(self, response: Response) -> Iterator[Page | Fetch | scrapy.Request]:
        fetch = self.fetch_record(response)
        if response.status == 304 or fetch.error is not None:
            yield fetch
        else:
            yield Page(fetch=fetch, body=response.body)
        yield from self.attachment_requests(response, fetch)

    def attachment_requests(
        self, response: Response, fetch: Fetch
    ) -> Iterator[scrapy.Request | Fetch]:
        """Requests for the attachments of an article page, at most ``max_attachments``: those
        it links, or those stored of it when the page is unchanged (304). Links past the cap
        are one error line of the page's attachments."""
        if fetch.error is not None:
            return
        if response.status == 304:
            found = list(self.plan.attachments.get(fetch.url, ()))
        else:
            found = self.attachment_links(response)
        cap = self.source.max_attachments
        for url, name in found[:cap]:
            try:
                requests = list(self._request(url, "attachment", self.parse_attachment))
            except LinkTooLong:
                self.crawler.stats.inc_value("newsmon/skipped/too_long")
                continue
            for request in requests:
                request.meta.update(
                    article_url=fetch.url,
                    attachment_name=name,
                    download_maxsize=self.source.max_attachment_bytes,
                    download_warnsize=self.source.max_attachment_bytes,
                )
                yield request
        if len(found) > cap:
            self.crawler.stats.inc_value("newsmon/skipped/attachments", len(found) - cap)
            yield Fetch(
                url=fetch.url,
                kind="attachment",
                fetched_at=now(),
                error=f"attachment: {len(found) - cap} links over max_attachments = {cap},"
                f" e.g. {found[cap][0][:EXAMPLE_CHARS]!r}",
            )

    def attachment_links(self, response: Response) -> list[tuple[str, str]]:
        """The page's attachment links (URL, name), each once, in page order."""
        if not isinstance(response, TextResponse) or not may_link_attachments(response.text):
            return []
        found: dict[str, str] = {}
        # A tree of its own, not the response's cached one: the response stays in memory
        # until its page is stored, its tree (ten times the page) need not.
        for anchor in scrapy.Selector(response).xpath("//a[@href]"):
            url = self._link(response, anchor.attrib["href"])
            if url is None or self.is_article(url):
                continue
            text = anchor.xpath("normalize-space(string(.))").get() or anchor.attrib.get(
                "title", ""
            )
            # In a block that opens with its label (附件：<a>…</a>, a 相关附件 heading over a
            # list of links), or named so itself; a page that mentions 附件 somewhere is not.
            labelled = bool(anchor.xpath(LABELLED_BLOCK))
            canonical = canonical_url(url, self.source.drop_params)
            if canonical not in found and is_attachment(url, text, labelled):
                found[canonical] = attachment_name(url, text)
        return list(found.items())

    def parse_attachment(self, response: Response) -> Iterator[AttachmentFile]:
        fetch = self.fetch_record(response)
        # Stored under the URL the page links, not where a download link redirected to (a
        # signed, short-lived address): its versions and validators stay with the one URL.
        asked = response.meta.get("redirect_urls", [response.url])[0]
        fetch.url = canonical_url(asked, self.source.drop_params)
        unread = response.status == 304 or fetch.error is not None
        yield AttachmentFile(
            fetch=fetch,
            article_url=response.meta["article_url"],
            name=response.meta["attachment_name"],
            body=b"" if unread else response.body,
        )

    def fetch_record(self, response: Response) -> Fetch:
        """The exchange as stored; a body that cannot be a web page is an error of its own."""
        headers = response.headers
        latency = response.meta.get("download_latency")
        content_type = _header(headers, b"Content-Type")
        kind = response.meta["kind"]
        # A sitemap may come gzipped; _sitemap looks at it unpacked.
        cut = response.meta.get(CUT_SHORT)
        if cut is not None:
            self.crawler.stats.inc_value("newsmon/errors/cut_short")
        problem = (
            not_a_page(response.body, content_type)
            if response.status != 304 and kind not in ("sitemap", "attachment") and cut is None
            else None
        )
        return Fetch(
            url=canonical_url(response.url, self.source.drop_params),
            kind=kind,
            fetched_at=now(),
            status=response.status,
            bytes=len(response.body),
            elapsed_ms=round(latency * 1000) if latency is not None else None,
            content_type=content_type,
            etag=_header(headers, b"ETag"),
            last_modified=_header(headers, b"Last-Modified"),
            error=cut or (f"not a web page: {problem}" if problem else None),
        )

    def failed(self, failure: Failure) -> Iterator[Fetch]:
        """Record why a request failed; the crawl goes on with the other pages."""
        request = failure.request  # type: ignore[attr-defined]
        kind, message = describe_failure(failure)
        if kind == "too_big" and request.meta["kind"] == "attachment":
            cap = self.source.max_attachment_bytes
            message = f"attachment: over the source's max_attachment_bytes = {cap}"
        self.crawler.stats.inc_value(f"newsmon/errors/{kind}")
        response = failure.value.response if failure.check(HttpError) else None
        # A redirect's failure belongs to the page that was asked for, not where it led.
        asked = request.meta.get("redirect_urls", [request.url])[0]
        yield Fetch(
            url=canonical_url(asked, self.source.drop_params),
            kind=request.meta["kind"],
            fetched_at=now(),
            status=response.status if response is not None else None,
            bytes=len(response.body) if response is not None else 0,
            error=message,
        )


def next_page_hrefs(response: TextResponse) -> set[str]:
    """The hrefs of a list page's links to its next page: rel=next, or named 下一页/next."""
    return set(
        response.xpath(
            "//a[@rel='next']/@href | "
            + " | ".join(f"//a[contains(., '{t}')]/@href" for t in NEXT_PAGE_TEXT)
        ).getall()
    )


def _some(fetch: Fetch | None) -> Iterator[Fetch]:
    if fetch is not None:
        yield fetch


def _feed_links(body: bytes, fetch: Fetch, skips: Skips) -> list[str] | None:
    """The links of the feed's entries (RSS 0.9x, 1.0 and 2.0, Atom), an entry without one
    told to ``skips``; None, with ``fetch.error`` set, if ``body`` is no feed."""
    # A stream, not bytes: feedparser opens bytes that name a file as that file.
    feed = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    # No version and no entries: an HTML page, broken XML or other XML (an empty feed of a
    # known kind is no error).
    if not feed.entries and not feed.get("version"):
        problem = feed.get("bozo_exception") or "XML of another kind"
        fetch.error = f"not a feed: no RSS or Atom in it ({problem})"
        return None
    links = []
    for entry in feed.entries:
        hrefs = [
            link["href"]
            for link in entry.get("links", ())
            if link.get("href") and link.get("rel", "alternate") == "alternate"
        ]
        if not hrefs:
            skips.add("no_link", "entries without a link", entry.get("title") or str(entry))
        links += hrefs
    return links


def describe_failure(failure: Failure) -> tuple[str, str]:
    """A short kind (for counting) and a one-line message (for people) for a failed request."""
    if failure.check(HttpError):
        response = failure.value.response
        retry_after = _header(response.headers, b"Retry-After")
        later = f", asked to come back after {retry_after}" if retry_after else ""
        return f"http_{response.status}", f"HTTP {response.status}{later}"
    if failure.check(RequestRefused):
        return failure.value.kind, failure.value.line
    if failure.check(IgnoreRequest):
        return "ignored", str(failure.value) or "request ignored"
    if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
        return "timeout", "timed out"
    if failure.check(CannotResolveHostError, DNSLookupError):
        return "dns", "DNS lookup failed"
    if failure.check(DownloadConnectionRefusedError, ConnectionRefusedError):
        return "connection", "connection refused"
    if failure.check(DownloadCancelledError):
        return "too_big", "response over the size cap (DOWNLOAD_MAXSIZE)"
    if failure.check(
        ConnectionLost, ConnectionDone, ResponseDataLossError, ResponseFailed, DownloadFailedError
    ):
        return "connection", "connection lost before the response was complete"
    if failure.check(ResponseNeverReceived):
        return "connection", "connection closed before any response"
    return "other", f"{failure.type.__name__}: {failure.getErrorMessage()}".splitlines()[0]


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
