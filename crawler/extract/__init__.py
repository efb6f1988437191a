"""Extraction: page bytes in, an :class:`Article` out. Pure: no network, no database."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass

import trafilatura
from trafilatura.settings import Document

from crawler.extract.decode import decode_html

log = logging.getLogger(__name__)

# Shorter bodies are captions, teasers or empty shells, not articles (a short Chinese news
# brief still runs to well over this many characters).
MIN_BODY_CHARS = 80
OUTLET = re.compile(r"(?:来源|來源|稿源)\s*[：:]\s*([^\s|<>]{2,30})")
# "作者：记者 陈晓" is a label and a role before the name; a bare 文 is only a label with a colon,
# since names start with 文 too.
AUTHOR_LABEL = re.compile(r"^(?:(?:作者|撰文|记者|記者)\s*[：:]?\s*|文\s*[：:/／]\s*)+")


@dataclass(frozen=True)
class Article:
    """What a reader wants from a page: the body and who published it when."""

    url: str
    title: str | None
    text: str
    published: str | None
    author: str | None
    outlet: str | None
    encoding: str

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def extract_article(html: bytes, url: str, content_type: str | None = None) -> Article | None:
    """The article in ``html`` (raw bytes as served), or None when the page holds none."""
    try:
        text, encoding = decode_html(html, content_type)
        doc = trafilatura.bare_extraction(
            text,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            deduplicate=False,
        )
    except Exception as exc:  # noqa: BLE001 - any parser failure means "no article here"
        log.warning("extraction failed for %s: %s", url, exc)
        return None
    if not isinstance(doc, Document) or not doc.text:
        return None
    body = doc.text.strip()
    if len(re.sub(r"\s", "", body)) < MIN_BODY_CHARS:
        return None
    outlet = OUTLET.search(trafilatura.html2txt(text) or "")
    return Article(
        url=url,
        title=doc.title or None,
        text=body,
        published=doc.date or None,
        author=AUTHOR_LABEL.sub("", doc.author or "") or None,
        outlet=outlet.group(1) if outlet else None,
        encoding=encoding,
    )
