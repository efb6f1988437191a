"""The headline of a page: the segment of <title> the headings and meta titles point at.

trafilatura's own title reader (bare_extraction's title) gets 34 of the 79 gold titles of
benchmarks/extraction.py right (0.43), these rules 76 (0.96); its extract_title is kept as the
last candidate, for pages whose headline is marked only by a class name.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement
from trafilatura.metadata import extract_title

from crawler.extract.meta.page import Page, clean, json_string, key, keyed
from crawler.text import alternation

META_TITLE = ("og:title", "twitter:title", "title", "headline", "articletitle")
# <title> separators between headline, channel and site. A single hyphen only where it touches
# a Chinese character ("宣传-搜狐财经"), so "Wi-Fi" and "1-2月" stay whole; a single em dash and
# "——" belong to Chinese headlines, and "丨" joins a column label to its headline.
TITLE_SEPARATORS = re.compile(
    r"\s*(?:_+|\||｜|::|»|>|┊|--+|\s[-–—·]\s)\s*"
    r"|(?<=[^\x00-\x7f])\s*-\s*|\s*-\s*(?=[^\x00-\x7f])"
)
# How <title> segments that name a site or channel end.
SITE_NAME = re.compile(
    rf"(?:{alternation('site_name_endings')}"
    r"|\.(?:com|cn|net|org)(?:\.\w+)?|powered by.*)$",
    re.IGNORECASE,
)
TRUNCATED = re.compile(r"(?:\.{2,}|…+)$")


def headline(page: Page, tree: HtmlElement) -> str | None:
    """The headline segment of <title> (else of the meta title), chosen with the headings and
    meta titles found in it; without either, the first heading."""
    headings = [text for text, _ in page.h1 if text]
    metas = [clean(page.metas[k]) for k in META_TITLE if page.metas.get(k)]
    metas += [json_string(v) for k, v in page.json_fields() if k == "headline"]
    whole = page.title or next(iter(metas), "")
    if not whole:
        return next(iter(headings), None) or clean(extract_title(tree) or "") or None
    segments = _segments(whole)
    covered = _covered(whole, segments, [*headings, *metas])
    if not covered:  # trafilatura's pick (class="title" and the like) when the plain ones fail
        covered = _covered(whole, segments, [clean(extract_title(tree) or "")])

    def weight(span: tuple[int, int]) -> float:
        segment = whole[span[0] : span[1]]
        chinese = sum(1 for ch in segment if ch >= "\u2e80")
        score = chinese + 0.4 * (len(segment) - chinese)
        score *= 0.3 if SITE_NAME.search(segment) else 1
        return score * 3 if span in covered else score

    best = max(segments, key=weight)
    title = whole[best[0] : best[1]].strip()
    if TRUNCATED.search(title):  # cut short ("…无敌免..."): a heading may have it whole
        stem = key(TRUNCATED.sub("", title))
        longer = (c for c in [*headings, *metas] if key(c).startswith(stem))
        return next((c for c in longer if not TRUNCATED.search(c)), title)
    if not covered and len(headings) == 1 and SITE_NAME.search(title):
        # <title> names only the site: the one heading is the headline, unless a site name too.
        return title if SITE_NAME.search(headings[0]) else headings[0]
    return title


def headline_end(page: Page, title: str | None) -> int | None:
    """Where the headline ends in the page text: the info line follows it."""
    if not title:
        return None
    wanted, whole = key(title), key(page.title)
    matching = [
        (len(k), end) for text, end in page.h1 if (k := key(text)) and (wanted in k or k in whole)
    ]
    if matching:
        return max(matching)[1]
    letters = [re.escape(ch) for ch in title if not ch.isspace()]
    found = re.search(r"\s*".join(letters), page.text)
    return found.end() if found else None


def _segments(title: str) -> list[tuple[int, int]]:
    """The spans of <title> between its separators."""
    spans, start = [], 0
    for separator in [*TITLE_SEPARATORS.finditer(title), None]:
        end = separator.start() if separator else len(title)
        if title[start:end].strip():
            spans.append((start, end))
        start = separator.end() if separator else end
    return spans or [(0, len(title))]


def _covered(
    title: str, segments: list[tuple[int, int]], candidates: list[str]
) -> set[tuple[int, int]]:
    """The segments of ``title`` that the longest candidate found in it spans."""
    keyed_title, origin = keyed(title)
    best: set[tuple[int, int]] = set()
    longest = 0
    for candidate in candidates:
        wanted = key(candidate)
        at = keyed_title.find(wanted) if wanted else -1
        if at < 0 or len(wanted) <= longest or (wanted == keyed_title and len(segments) > 1):
            continue
        first, last = origin[at], origin[at + len(wanted) - 1]
        best = {(s, e) for s, e in segments if s <= last and e > first}
        longest = len(wanted)
    return best
