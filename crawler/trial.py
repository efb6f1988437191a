"""`newsmon try`: what a crawl would make of one page, as ``scrapy parse`` shows a spider's.

The page is fetched by the crawl's own spider and downloader middlewares (address guard,
offsite filter, robots.txt, size caps, retries), then read by the same pure stages: extract,
clean, classify. Nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.classify import classify
from crawler.classify.topics import Taxonomy
from crawler.extract import extract_article
from crawler.items import Fetch
from crawler.keys import TRIAL_KEYS
from crawler.logs import setup_logging
from crawler.settings import build_settings
from crawler.sources import Source
from crawler.spiders.news import NewsSpider, next_page_hrefs
from crawler.urls import canonical_url, path_and_query

# Lines of the body `newsmon try` prints; --json gives the whole text.
BODY_LINES = 5


@dataclass
class Link:
    """A link of the page, and whether the source's crawl would follow it from a list page."""

    url: str
    follow: str | None = None  # "article", "list", or None: not followed
    pattern: str | None = None  # what made it so: article_urls[0] '…', or a next-page link


@dataclass
class Fetched:
    """What the spider got for the page: its fetch record, body and links."""

    fetch: Fetch | None = None
    body: bytes = b""
    links: list[Link] = field(default_factory=list)


def adhoc_source(url: str) -> Source:
    """How a page of no known source is fetched: from its own host, as a list page would be,
    with no patterns to match its links."""
    return Source(id="try", name=url, article_urls=(), lists=(url,))


def _matching(patterns: tuple[str, ...], key: str, target: str) -> str | None:
    """``key[i] 'pattern'`` of the first of ``patterns`` that ``target`` matches, or None."""
    return next((f"{key}[{i}] '{p}'" for i, p in enumerate(patterns) if re.search(p, target)), None)


def page_matches(source: Source, url: str) -> list[str]:
    """What the page's own URL is to ``source``: a start URL, an article, a list page."""
    canonical = canonical_url(url, source.drop_params)
    target = path_and_query(canonical)
    found = [
        f"{kind} start URL"
        for kind, urls in source.start_urls.items()
        if canonical in {canonical_url(u, source.drop_params) for u in urls}
    ]
    for key, patterns in (("article_urls", source.article_urls), ("list_urls", source.list_urls)):
        match = _matching(patterns, key, target)
        if match:
            found.append(match)
    return found


class TrialSpider(NewsSpider):
    """The news spider asked for one page; it keeps what came back instead of yielding items."""

    name = "try"

    def __init__(self, source: Source, url: str, fetched: Fetched, **kwargs: Any):
        super().__init__(source, **kwargs)
        self.url = url
        self.fetched = fetched

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self._request(self.url, "article", self.keep):
            yield request

    def keep(self, response: Response) -> Iterator[Any]:
        self.fetched.fetch = self.fetch_record(response)
        self.fetched.body = response.body
        if isinstance(response, TextResponse):
            self.fetched.links = list(self._links(response))
        return iter(())

    def _links(self, response: TextResponse) -> Iterator[Link]:
        """Each link once, with what a list page's parse would do with it."""
        next_links = next_page_hrefs(response)
        seen: set[str] = set()
        for href in response.css("a::attr(href)").getall():
            url = self._link(response, href)
            if url is None or url in seen:
                continue
            seen.add(url)
            target = path_and_query(canonical_url(url, self.source.drop_params))
            article = _matching(self.source.article_urls, "article_urls", target)
            listing = _matching(self.source.list_urls, "list_urls", target)
            if article:
                yield Link(url, "article", article)
            elif listing:
                yield Link(url, "list", listing)
            elif href in next_links:
                yield Link(url, "list", "a next-page link")
            else:
                yield Link(url)

    def failed(self, failure: Failure) -> Iterator[Fetch]:
        for fetch in super().failed(failure):
            self.fetched.fetch = fetch
        return iter(())


def run_alone(spider: type[NewsSpider], settings: dict[str, Any], **arguments: Any) -> None:
    """One crawl of ``spider`` that stores nothing; blocks (one reactor a process)."""
    # Nothing is stored: no pipelines, so no database and no worker processes.
    crawl_settings = build_settings(":memory:", ITEM_PIPELINES={}, EXTENSIONS={}, **settings)
    process = CrawlerProcess(crawl_settings)
    setup_logging()
    process.crawl(spider, **arguments)
    process.start()


def fetch_page(source: Source, url: str, **settings: Any) -> Fetched:
    """``url`` fetched as ``source``'s crawl would fetch it; blocks (one reactor a process)."""
    fetched = Fetched()
    run_alone(TrialSpider, settings, source=source, url=url, fetched=fetched)
    return fetched


def trial(source: Source | None, url: str, taxonomy: Taxonomy, **settings: Any) -> dict[str, Any]:
    """What newsmon makes of the page at ``url`` for ``source`` (None: a page of no source),
    as `try --json` prints it."""
    fetched = fetch_page(source or adhoc_source(url), url, **settings)
    fetch = fetched.fetch
    record: dict[str, Any] = dict.fromkeys(TRIAL_KEYS)
    matches = page_matches(source, url) if source else []
    record |= {"url": url, "source": source and source.id, "page_matches": matches}
    record |= {"article": False, "links": []}
    if fetch is None:  # dropped without a word; the spider's errback sees every refusal
        record["error"] = "no response"
        return record
    record |= {
        "status": fetch.status,
        "content_type": fetch.content_type,
        "bytes": fetch.bytes,
        "error": fetch.error,
        "links": [vars(link) for link in fetched.links],
    }
    if fetch.error is not None or not fetched.body:
        return record
    article = extract_article(
        fetched.body, fetch.url, fetch.content_type, datetime.fromisoformat(fetch.fetched_at)
    )
    if article is None:
        return record
    tags = classify(article.simplified, article.title, article.published, taxonomy)
    record |= {
        "article": True,
        "title": article.title,
        "published": article.published,
        "outlet": article.outlet,
        "author": article.author,
        "text": article.text,
        "tags": tags.to_json(),
    }
    return record


def trial_report(record: dict[str, Any]) -> str:
    """A ``trial`` record as text: the fetch, the article, its tags, then the links."""
    size = f"{record['bytes']} bytes" if record["status"] is not None else ""
    head = f"{record['url']}  {record['status'] or ''} {record['content_type'] or ''} {size}"
    if record["source"] is None:
        about = "no source: none in the seed files reads this host (--source ID picks one)"
    else:
        matches = ", ".join(record["page_matches"]) or "none of its start URLs and patterns"
        about = f"source {record['source']}: this page matches {matches}"
    lines = [" ".join(head.split()), about]
    if record["error"]:
        lines.append(f"error: {record['error']}")
    if record["article"]:
        body = record["text"].splitlines()
        tags = record["tags"]
        lines += [
            "article: yes",
            f"title: {record['title'] or ''}",
            f"published: {record['published'] or 'unknown'}",
            f"outlet: {record['outlet'] or ''}  author: {record['author'] or ''}".rstrip(),
            f"body ({len(body)} lines, the first {min(len(body), BODY_LINES)}):",
            *(f"  {line}" for line in body[:BODY_LINES]),
            f"regions: {' '.join(tags['regions']['primary']) or 'none'}"
            f"  (mentioned: {' '.join(tags['regions']['mentioned']) or 'none'})",
            f"topics: {' '.join(tags['topics']) or 'none'}",
            *(
                f"policy: 《{p['title']}》 {p['region'] or ''} {p['date'] or ''}".rstrip()
                for p in tags["policies"]
            ),
        ]
    elif not record["error"]:
        lines.append("article: no (not an article by newsmon's extraction)")
    links = record["links"]
    followed = [link for link in links if link["follow"]]
    counts = {kind: sum(link["follow"] == kind for link in links) for kind in ("article", "list")}
    lines.append(
        f"links: {len(links)}; from a list page the crawl would follow {counts['article']}"
        f" articles and {counts['list']} list pages"
    )
    lines += [f"  {link['follow']:8} {link['url']}  ({link['pattern']})" for link in followed]
    return "\n".join(lines)
