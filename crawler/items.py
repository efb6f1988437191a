"""What the spider hands to the pipelines: plain dataclasses, no Scrapy types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.attachments import AttachmentText
from crawler.classify import Tags
from crawler.extract import Article


@dataclass
class Fetch:
    """One HTTP exchange (or its failure), as stored in ``fetches``."""

    url: str
    kind: str  # list, feed, sitemap, article, attachment
    fetched_at: str
    status: int | None = None
    bytes: int = 0
    elapsed_ms: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    # A fetch held as suspect: the hash of the body it held (crawler/suspect.py).
    held_hash: str | None = None

    def row(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Page:
    """An article page as served; the pipelines fill ``article`` and then ``tags``."""

    fetch: Fetch
    body: bytes = field(repr=False)
    article: Article | None = None
    tags: Tags | None = None
    search_tokens: str | None = None  # of the article: cut where the tags were, not in the store


@dataclass
class AttachmentFile:
    """An attachment (附件) of the article page at ``article_url``, as served; the attachments
    pipeline fills ``read`` with its text, or makes a broken file an error of ``fetch``."""

    fetch: Fetch
    article_url: str
    name: str  # the link's text, else the file name in its path
    body: bytes = field(repr=False)
    read: AttachmentText | None = None
