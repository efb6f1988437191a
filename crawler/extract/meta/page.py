"""The one walk over a page's tree that every metadata field is read from."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from lxml import etree
from lxml.html import HtmlElement

from crawler.extract.meta.dates import DATE
from crawler.text import SPACE_RUN

# Elements whose text a reader never sees (or sees as a widget, like a year <select>), and
# <meta> and <title>, read on their own.
OWN_TEXT = frozenset(
    {"meta", "title", "script", "style", "noscript", "template", "select", "textarea"}
)
# Elements that start a new line on screen; an info line never runs across them.
BLOCKS = frozenset(
    ("address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt")
    + ("fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6")
    + ("header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td")
    + ("th", "thead", "tr", "ul")
)
# Line breaks in the source are spaces on screen: only block boundaries (marked BREAK while
# the text is gathered) end a line of text.
BREAK = "\x1e"
ONE_LINE = str.maketrans({"\r": " ", "\n": " ", BREAK: "\n"})
# Zero-width and control characters, which some pages leave in their titles.
INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x1f\x7f]")
JSON_FIELD = re.compile(
    r'"(?P<key>datePublished|dateCreated|headline)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"'
)


@dataclass
class Page:
    """What one walk over the tree collects."""

    title: str = ""
    metas: dict[str, str] = field(default_factory=dict)
    json_ld: list[str] = field(default_factory=list)
    h1: list[tuple[str, int]] = field(default_factory=list)  # text, where it ends in ``text``
    text: str = ""

    def json_fields(self) -> Iterator[tuple[str, str]]:
        """The datePublished, dateCreated and headline fields of the JSON-LD scripts."""
        for script in self.json_ld:
            for match in JSON_FIELD.finditer(script):
                yield match["key"], match["value"]


def walk(tree: HtmlElement) -> Page:
    """The one pass over the tree."""
    page = Page()
    parts: list[str] = []
    open_elements: list[HtmlElement] = []  # held so that their end events reuse the proxies
    open_h1: list[int] = []  # where in ``parts`` each open <h1> started
    h1_parts: list[tuple[int, int]] = []
    walker = etree.iterwalk(tree, events=("start", "end", "comment", "pi"))
    for event, element in walker:
        if event == "start":
            tag = element.tag
            open_elements.append(element)
            if tag in OWN_TEXT:
                _read_hidden(page, element, parts)
                walker.skip_subtree()
                continue
            if tag == "h1":
                open_h1.append(len(parts))
            if tag in BLOCKS:
                parts.append(BREAK)
            if text := element.text:
                parts.append(text)
            continue
        if event == "end":
            open_elements.pop()
            tag = element.tag
            if tag == "h1" and open_h1:
                h1_parts.append((open_h1.pop(), len(parts)))
            if tag in BLOCKS:
                parts.append(BREAK)
        if tail := element.tail:
            parts.append(tail)
    page.text = "".join(parts).translate(ONE_LINE)
    if h1_parts:
        offsets = [0, *accumulate(map(len, parts))]  # where each part ends in the text
        page.h1 = [(clean("".join(parts[start:end])), offsets[end]) for start, end in h1_parts]
    return page


def _read_hidden(page: Page, element: HtmlElement, parts: list[str]) -> None:
    """What <meta>, <title> and scripts tell: the text of none of them is shown as such."""
    tag = element.tag
    if tag == "meta":
        key = element.get("name") or element.get("property") or element.get("itemprop")
        content = element.get("content")
        if key and content:
            page.metas.setdefault(key.strip().lower(), content.strip())
    elif tag == "title" and not page.title:
        page.title = clean(element.text_content())
    elif tag == "script" and element.get("type", "").lower() == "application/ld+json":
        page.json_ld.append(element.text or "")
    elif tag == "script" and _prints_date(element):
        parts.append(f"{BREAK}{element.text}{BREAK}")


def _prints_date(script: HtmlElement) -> bool:
    """A short inline script such as ``showDate("2020/04/17 01:43")`` that writes a dateline."""
    code = script.text or ""
    return not script.get("src") and len(code) < 200 and bool(DATE.search(code))


def clean(text: str) -> str:
    """``text`` on one line: no invisible characters, one space for any run of spaces."""
    return SPACE_RUN.sub(" ", INVISIBLE.sub("", text)).strip()


def json_string(raw: str) -> str:
    """A JSON string's raw contents decoded and cleaned (as they are, if they do not decode)."""
    try:
        return clean(json.loads(f'"{raw}"'))
    except ValueError:
        return clean(raw)


def keyed(text: str) -> tuple[str, list[int]]:
    """``text`` for comparing titles (full-width folded, lower case, no spaces), and for each
    character of that the index in ``text`` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for folded in unicodedata.normalize("NFKC", ch).lower():
            if not folded.isspace():
                chars.append(folded)
                origin.append(i)
    return "".join(chars), origin


def key(text: str) -> str:
    """``text`` folded for comparing titles, as :func:`keyed` folds it."""
    return keyed(text)[0]
