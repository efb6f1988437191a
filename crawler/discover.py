"""`newsmon sources add URL`: a seed entry for a new site, read from one of its pages.

The page, its robots.txt, the feeds and sitemaps it names and a few of the articles it links
are fetched by the crawl's own spider and middlewares (address guard, offsite filter,
robots.txt, size caps), in one run that stores nothing; crawler.propose reads the links.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import scrapy
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from crawler.classify import classify
from crawler.extract import extract_article
from crawler.middlewares import RequestRefused
from crawler.pagination import script_pages
from crawler.propose import (
    Anchor,
    Pattern,
    article_patterns,
    feed_candidates,
    list_patterns,
    robots_sitemaps,
    source_id,
    toml_entry,
)
from crawler.sources import Source, SourceError, load_sources
from crawler.spiders.news import NewsSpider, next_page_hrefs
from crawler.trial import run_alone
from crawler.urls import canonical_url, path_and_query

# Articles fetched to show what the source would take: enough to trust the pattern, few
# enough to be polite to a site not yet in the seeds.
SAMPLES = 5
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")


@dataclass
class Sample:
    """An article link fetched to show what it holds."""

    url: str
    error: str | None = None
    article: bool = False
    title: str | None = None
    published: str | None = None


@dataclass
class Listing:
    """A feed or sitemap found for the site: the URLs it lists (a sitemap index: its sitemaps)."""

    url: str
    urls: list[str]
    index: bool = False


@dataclass
class Found:
    """What the run saw: the page, what it links, the feeds and sitemaps, the samples."""

    url: str
    kind: str = "list"  # what the page is: a list page, a feed or a sitemap
    error: str | None = None
    private: bool = False  # refused: the address is loopback, private or link-local
    title: str = ""
    anchors: list[Anchor] = field(default_factory=list)
    next_paths: list[str] = field(default_factory=list)
    articles: list[Pattern] = field(default_factory=list)
    feeds: list[Listing] = field(default_factory=list)
    sitemaps: list[Listing] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


def _feed_entries(body: bytes) -> tuple[str, list[tuple[str, str]]] | None:
    """A feed's title and the (link, title) of its entries; None when ``body`` is no RSS or
    Atom feed."""
    feed = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
    if not feed.entries and not feed.get("version"):
        return None
    entries = [(e.get("link", ""), e.get("title", "")) for e in feed.entries if e.get("link")]
    return feed.feed.get("title", ""), entries


def _sitemap(body: bytes) -> tuple[bool, list[str]] | None:
    """(is an index, its locations) of a sitemap; None when ``body`` is none."""
    try:
        sitemap = Sitemap(body)
    except (ValueError, StopIteration):
        return None
    if sitemap.type not in ("urlset", "sitemapindex"):
        return None
    return sitemap.type == "sitemapindex", [e["loc"] for e in sitemap if e.get("loc")]


def _is_xml(response: Response) -> bool:
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    return "xml" in content_type or response.body.lstrip()[:5] == b"<?xml"


class DiscoverySpider(NewsSpider):
    """The page, then its robots.txt, feeds, sitemaps and a few of its articles."""

    name = "discover"

    def __init__(self, source: Source, found: Found, **kwargs: Any):
        super().__init__(source, **kwargs)
        self.found = found
        self.samples: dict[str, Sample] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self._request(self.found.url, "list", self.page):
            yield request

    def _path(self, url: str) -> str | None:
        """The path and query of a link on the site's own hosts, else None."""
        canonical = canonical_url(url, self.source.drop_params)
        host = urlsplit(canonical).hostname or ""
        return path_and_query(canonical) if host in self.source.domains else None

    def page(self, response: Response) -> Iterator[scrapy.Request]:
        found = self.found
        fetch = self.fetch_record(response)
        found.error = fetch.error
        if fetch.error is not None:
            return
        entries = _feed_entries(response.body) if _is_xml(response) else None
        sitemap = _sitemap(response.body) if _is_xml(response) and entries is None else None
        links: list[tuple[str, str | None]]
        if entries is not None:
            found.kind = "feed"
            found.title = " ".join(entries[0].split())
            links = [(response.urljoin(link), title) for link, title in entries[1]]
            found.feeds.append(Listing(found.url, [url for url, _ in links]))
        elif sitemap is not None:
            found.kind = "sitemap"
            links = [(response.urljoin(loc), None) for loc in sitemap[1]]
            found.sitemaps.append(Listing(found.url, [url for url, _ in links], sitemap[0]))
        elif isinstance(response, TextResponse):
            found.title = " ".join((response.xpath("string(//title)").get() or "").split())
            links = self._anchors(response)
            # A pager a script draws (createPageHTML) names its pages in no <a>.
            drawn = script_pages(response.xpath("//script/text()").getall(), response.url, 3)
            pages = [*map(response.urljoin, next_page_hrefs(response)), *drawn]
            found.next_paths = [p for p in map(self._path, pages) if p]
        else:
            found.error = f"not a web page: {fetch.content_type or 'no Content-Type'}"
            return
        found.anchors = [Anchor(path, text) for url, text in links if (path := self._path(url))]
        found.articles = article_patterns(found.anchors)
        yield from self._samples()
        if found.kind == "list" and isinstance(response, TextResponse):
            yield from self._listings(response)

    def _anchors(self, response: TextResponse) -> list[tuple[str, str | None]]:
        links: list[tuple[str, str | None]] = []
        for anchor in response.xpath("//a[@href]"):
            url = self._link(response, anchor.attrib["href"])
            if url is not None:
                text = anchor.xpath("normalize-space(string(.))").get() or ""
                links.append((url, text or anchor.attrib.get("title", "")))
        return links

    def _samples(self) -> Iterator[scrapy.Request]:
        """Requests for the first articles of each pattern, SAMPLES in all."""
        paths = [p for pattern in self.found.articles for p in pattern.paths[:SAMPLES]]
        for path in paths[:SAMPLES]:
            url = urljoin(self.found.url, path)
            for request in self._request(url, "article", self.sample):
                self.samples[request.url] = Sample(request.url)
                self.found.samples.append(self.samples[request.url])
                yield request

    def _listings(self, response: TextResponse) -> Iterator[scrapy.Request]:
        """Requests for robots.txt, /sitemap.xml and the feeds the page names or links."""
        robots = urljoin(response.url, "/robots.txt")
        yield scrapy.Request(
            robots,
            callback=self.robots,
            errback=self.ignored,
            meta={"kind": "list", "dont_obey_robotstxt": True},
        )
        yield from self._sitemap_request(urljoin(response.url, "/sitemap.xml"))
        declared = response.xpath(
            f"//link[@rel='alternate'][{' or '.join(f'@type={t!r}' for t in FEED_TYPES)}]/@href"
        ).getall()
        declared_paths = [p for p in (self._path(response.urljoin(h)) for h in declared) if p]
        for path in feed_candidates(self.found.anchors, declared_paths):
            for request in self._request(urljoin(response.url, path), "feed", self.feed):
                request.errback = self.ignored
                yield request

    def _sitemap_request(self, url: str) -> Iterator[scrapy.Request]:
        for request in self._request(url, "sitemap", self.sitemap):
            request.errback = self.ignored
            yield request

    def robots(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status == 200 and isinstance(response, TextResponse):
            for url in robots_sitemaps(response.text):
                yield from self._sitemap_request(response.urljoin(url))

    def feed(self, response: Response) -> Iterator[Any]:
        entries = _feed_entries(response.body) if response.status == 200 else None
        if entries is not None:
            links = [response.urljoin(link) for link, _ in entries[1]]
            self.found.feeds.append(Listing(response.url, links))
        return iter(())

    def sitemap(self, response: Response) -> Iterator[Any]:
        read = _sitemap(response.body) if response.status == 200 else None
        if read is not None:
            index, locations = read
            self.found.sitemaps.append(Listing(response.url, locations, index))
        return iter(())

    def sample(self, response: Response) -> Iterator[Any]:
        sample = self.samples[response.meta.get("redirect_urls", [response.url])[0]]
        fetch = self.fetch_record(response)
        sample.error = fetch.error
        if fetch.error is None:
            article = extract_article(
                response.body,
                fetch.url,
                fetch.content_type,
                datetime.fromisoformat(fetch.fetched_at),
            )
            if article is not None:
                sample.article, sample.title = True, article.title
                sample.published = article.published
        return iter(())

    def ignored(self, failure: Failure) -> Iterator[Any]:
        """A feed or sitemap that is not there is not one to propose."""
        return iter(())

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        asked = request.meta.get("redirect_urls", [request.url])[0]
        for fetch in super().failed(failure):
            if asked in self.samples:
                self.samples[asked].error = fetch.error
            else:
                self.found.error = fetch.error
                self.found.private = bool(
                    failure.check(RequestRefused) and failure.value.kind == "refused"
                )
        return iter(())


def discover(
    url: str, private_hosts: tuple[str, ...] = (), delay: float | None = None, **settings: Any
) -> Found:
    """What the site at ``url`` shows of itself, asked for ``delay`` seconds apart (default: a
    source's); blocks (one reactor a process)."""
    source = Source(id="add", name=url, lists=(url,), private_hosts=private_hosts)
    if delay is not None:
        source = dataclasses.replace(source, delay=delay)
    found = Found(url=canonical_url(url))
    run_alone(DiscoverySpider, settings, source=source, found=found)
    return found


def _matching(listing: Listing, patterns: list[Pattern]) -> int:
    source = Source(id="add", name="", article_urls=tuple(p.regex for p in patterns))
    return sum(source.is_article(u) for u in listing.urls)


@dataclass
class Proposal:
    """The seed entry for the site, and what it would take."""

    fields: dict[str, Any]
    report: list[str]

    @property
    def entry(self) -> str:
        return toml_entry(self.fields)


def propose(
    found: Found,
    given_id: str | None = None,
    name: str | None = None,
    region: str | None = None,
    private_hosts: tuple[str, ...] = (),
    delay: float | None = None,
) -> Proposal:
    """The seed entry ``found`` supports and the report of what it saw; ValueError when the
    page shows no article links to make a pattern of."""
    if not found.articles:
        raise ValueError(
            f"no article links on {found.url}: none of its {len(found.anchors)} links on the"
            " site reads as a headline on an address with a date or number; give one of the"
            " site's list pages (a 新闻 or 通知公告 column), its RSS feed or its sitemap"
        )
    parts = urlsplit(found.url)
    lists = list_patterns(found.anchors, found.next_paths) if found.kind == "list" else []
    feeds = [f for f in found.feeds if f.url == found.url or _matching(f, found.articles)]
    sitemaps = [
        s for s in found.sitemaps if s.url == found.url or s.index or _matching(s, found.articles)
    ]
    report = [
        f"{found.url}: a {found.kind}"
        + (f" ({found.title})" if found.title else "")
        + f", {len(found.anchors)} links on the site"
    ]
    for key, patterns in (("article_urls", found.articles), ("list_urls", lists)):
        for p in patterns:
            report.append(f"{key}: {p.regex}  ({len(p.paths)} links, e.g. {p.paths[0]})")
    for key, listings in (("feeds", feeds), ("sitemaps", sitemaps)):
        for listing in listings:
            what = (
                f"an index of {len(listing.urls)} sitemaps"
                if listing.index
                else f"{len(listing.urls)} entries,"
                f" {_matching(listing, found.articles)} of them by article_urls"
            )
            report.append(f"{key[:-1]}: {listing.url}  ({what})")
    if region is None and found.title:
        primary = classify(found.title, title=found.title).regions.primary
        region = primary[0] if primary else None
        if region:
            report.append(f"region: {region} (from the page's title; --region to change)")
    taken = [s for s in found.samples if s.article]
    report.append(f"articles it would take (the first {len(found.samples)} fetched now):")
    for s in found.samples:
        if s.article:
            report.append(f"  {(s.published or '')[:10] or '(no date)':10}  {s.title}  {s.url}")
        else:
            report.append(f"  {'':10}  not an article: {s.error or 'no body text'}  {s.url}")
    if found.samples and not taken:
        report.append("none of them is an article: check the proposed article_urls")
    home = f"{parts.scheme}://{parts.netloc}/"
    fields: dict[str, Any] = {
        "id": given_id or source_id(parts.hostname or "", parts.path),
        "name": name or found.title or parts.netloc,
        "homepage": home,
        "region": region,
        "verified": False,
        "lists": [found.url] if found.kind == "list" else [],
        "feeds": [f.url for f in feeds],
        "sitemaps": [s.url for s in sitemaps],
        "article_urls": [p.regex for p in found.articles],
        "list_urls": [p.regex for p in lists],
        "every": "6h",
        "delay": delay,
        "private_hosts": list(private_hosts) or None,
        "notes": f"added by newsmon sources add from {found.url}; check the patterns",
    }
    return Proposal(fields, report)


def target_file(seeds: Path, source: str, shipped: Path, user_seeds: Path) -> Path:
    """Where a new source's entry goes: the seed file the commands read, else a file of its
    own in their folder; in ``user_seeds`` when they read the ``shipped`` sources."""
    if seeds.is_file() or (seeds.suffix == ".toml" and not seeds.exists()):
        return seeds
    folder = user_seeds if seeds.resolve() == shipped.resolve() else seeds
    return folder / f"{source}.toml"


def write_entry(target: Path, entry: str, beside: list[Path]) -> None:
    """Append ``entry`` to ``target`` (made if new), once the file it makes loads together
    with the seed files ``beside`` it; SourceError, and nothing written, if it does not."""
    before = target.read_text("utf-8") if target.exists() else ""
    text = (before.rstrip() + "\n\n" if before.strip() else "") + entry
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.new")
    draft.write_text(text, encoding="utf-8")
    try:
        load_sources([*(p for p in beside if p.resolve() != target.resolve()), draft])
    except SourceError as exc:
        draft.unlink()
        raise SourceError([p.replace(str(draft), str(target)) for p in exc.problems]) from None
    os.replace(draft, target)
