"""Extraction: page bytes in, a clean :class:`Article` out. Pure: no network, no database.

Four readers read each page: trafilatura, readability-lxml, magic-html and a text-density
reading of the DOM (:mod:`crawler.extract.density`). Each fails on pages the others read well
(trafilatura keeps whole layout tables of old portals and misses bodies of bare text,
readability sometimes keeps only a caption, magic-html misses bodies inside one link, the
density reading keeps comments that read like prose). Their outputs are cleaned, and the one
the others agree with most, with most of it sentences, is kept: the readers fail in different
ways, so the failures rarely agree with each other.
"""

from __future__ import annotations

import copy
import itertools
import logging
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import lxml.etree
import lxml.html
import readability.readability
import trafilatura
from ahocorasick_rs import AhoCorasick
from readability import Document as Readability
from trafilatura.settings import Document

from crawler.clean import Cleaned, clean_text, prose_chars
from crawler.clean.script import remove_pinyin_tags, to_simplified
from crawler.extract.decode import decode_page
from crawler.extract.density import densest_text
from crawler.extract.meta import page_metadata
from crawler.extract.meta.portal import info_table
from crawler.extract.template import Learned
from crawler.logs import root_logger_kept
from crawler.text import HAN

# py_asciimath, which magic-html imports, calls logging.basicConfig(level=DEBUG) as it loads:
# every library's debug lines, Scrapy's banner among them, would reach stderr ahead of
# crawler.logs' one-line handler, and a quiet crawl would not be quiet.
with root_logger_kept():
    from magic_html import GeneralExtractor

log = logging.getLogger(__name__)

# Readability cleans each page with javascript=True, which sends every link of the page
# through a regex to drop javascript: URLs: a fifth of its time on the dev splits, for link
# targets no body text shows (its output there is the same without).
_readability_cleaner = copy.copy(readability.readability.html_cleaner)
_readability_cleaner.javascript = False
readability.readability.html_cleaner = _readability_cleaner

# An article has at least a few sentences; list pages, index pages and shells do not.
MIN_PROSE_CHARS = 60
# Teaser lists (search results, forum indexes) repeat a "read more" link under each item.
READ_MORE = re.compile(r"^(?:阅读全文|查看全文|显示全文|显示全部|展开全文)\s*(?:>>|»|›|>)?$")
READ_MORE_LIMIT = 3
# The chooser: a candidate's mean agreement with the others (bigram F1, 0-1) plus this much of
# its share of sentence characters. Agreement decides; the share breaks near ties (on the dev
# splits 0.1 beat 0 and 0.25-1.0: more weight lets a clean fragment beat the whole body).
PROSE_SHARE_WEIGHT = 0.1
# The two cheap readers (trafilatura, the density reading) agreeing this well (bigram F1) are
# taken without the two dear ones (readability, magic-html: together as slow as both cheap
# ones): on the dev splits they agree so on about half the pages, at a cost of 0.003 F1.
CHEAP_AGREEMENT = 0.95
# Teaser lists end their items in a cut ("标题文字..." or "摘要…", a date after it), where
# prose ends a sentence ("……" is an ellipsis, not a cut).
TEASER = re.compile(r"[^\W_](?:\.{3,}|…)\s*(?:\d{1,4}[-/:月]\d{1,2}(?:[-/:日]\d{1,2})?日?)?$")
# A page is a list when any reader's body has this many teasers making this share of its
# characters: an article followed by related teasers stays below it (0.3 dropped a dev
# article whose trafilatura body kept its related list; 0.5 let a list page through). Or
# this share of its lines, where the cut items are short (a forum's index cuts each poster's
# name before the time of the post): on the dev splits articles reach a quarter of their
# lines, lists 0.29-0.6.
TEASER_LIMIT = 3
TEASER_SHARE = 0.4
TEASER_LINE_SHARE = 1 / 3
# A blog's index and archive pages print whole entries one after another, each closed by a
# footer line: when it was posted and how many comments it has ("由某某张贴 @ 2005-06-14
# 03:25:55 共 11 篇评论", "posted @ 2008-01-01 12:00 阅读(100) 评论(2)"). Two such footers
# alike make the page a run of entries, of which the first is the one the page is about; one
# footer closes an article like any other.
ENTRY_FOOTER = re.compile(
    r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?\s*\d{1,2}:\d{2}[^。！？]{0,60}?"
    r"(?:评论|評論|comments?\b)",
    re.IGNORECASE,
)
MAX_FOOTER_CHARS = 120
MIN_ENTRIES = 2
# A body whose lines are mostly the page's own link titles is a list of articles.
MIN_LINK_TITLE = 8
MAX_LINKED_SHARE = 0.5
EDITOR_IN_PAGE = re.compile(
    rf"(?:责任编辑|責任編輯|责编)\s*[：:]\s*(?:<[^>]{{0,200}}>\s*)*([{HAN}·]{{2,8}})"
)
# libxml2 drops, without an error, everything nested deeper than 256 elements, and old portals
# leave that many <font> or <div> unclosed before the article; with huge_tree the limit is
# 2048, and a page deeper still is read again without the wrappers that nest (they carry no
# text of their own).
HTML_PARSER = lxml.html.HTMLParser(huge_tree=True)
RESOURCE_LIMIT = lxml.etree.ErrorTypes.ERR_RESOURCE_LIMIT
WRAPPER_TAGS = re.compile(
    r"</?(?:div|span|font|center|section|b|i|u|em|strong|small|big)\b[^>]*>", re.IGNORECASE
)
# Extraction reads at most this much of a page's text: what follows is dropped from the tree
# before the extractors see it, and the article is flagged "truncated". Extracting costs about
# 2 µs a character of page text (benchmarks/page_size.py: a 0.8 MB page of 289,000 characters
# in 0.5 s), so this bounds a page to about 2 s; an article, even a whole law
# or plan, is a tenth of it, and a page this long is a dump or a trap, not one story.
MAX_PAGE_CHARS = 1_000_000
NOT_TEXT = frozenset({"script", "style", "noscript", "template"})
BLOCK_TAGS = (
    "p", "div", "br", "li", "tr", "table", "section", "article", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6",
)  # fmt: skip


@dataclass(frozen=True)
class _Reading:
    """One reader's body, cleaned, with its character bigrams, counted once: the chooser
    compares each reading with every other."""

    body: Cleaned
    grams: Counter[str]

    @classmethod
    def of(cls, text: str, title: str | None) -> _Reading:
        body = clean_text(_first_entry(text), title)
        return cls(body, _bigrams(body.simplified))


@dataclass(frozen=True)
class Article:
    """What a reader wants from a page: the body, who published it when, and how sound it is."""

    url: str
    title: str | None
    text: str  # the body as the page wrote it (a machine-converted page back in Simplified)
    published: str | None
    author: str | None
    outlet: str | None
    encoding: str
    simplified: str = ""  # the body in Simplified characters, for tagging and search
    editor: str | None = None
    captions: tuple[str, ...] = ()
    quality: float = 1.0  # 1.0 sound; lower when the page's script was damaged
    flags: tuple[str, ...] = ()  # traditional, pinyin_garbled, lost_punctuation, mojibake
    removed: Counter[str] = field(default_factory=Counter, compare=False)
    # A portal's document page: its 政府信息公开 table and the content system's meta tags.
    issuer: str | None = None  # 发布机构 / 发文机关
    doc_number: str | None = None  # 发文字号: 深府办〔2024〕3号
    written: str | None = None  # 成文日期, YYYY-MM-DD
    subject: str | None = None  # 主题分类 / 主题词
    validity: str | None = None  # 有效性: 有效, 失效, 废止
    column: str | None = None  # the portal's column the page is filed under


def extract_article(
    html: bytes,
    url: str,
    content_type: str | None = None,
    fetched_at: datetime | None = None,
    learned: Learned | None = None,
) -> Article | None:
    """The article in ``html`` (raw bytes as served), or None when the page holds none;
    ``learned``: its source's template (crawler/extract/template.py), which it then fills."""
    try:
        decoded = decode_page(html, content_type)
        text, tree = _parse(decoded.text)
        truncated = len(text) > MAX_PAGE_CHARS and _cut_after(tree, MAX_PAGE_CHARS)
        if truncated:  # readability reads markup: it gets the page as cut
            text = lxml.html.tostring(tree, encoding="unicode")
        table = info_table(tree)
        meta = page_metadata(tree, url, fetched_at, table)
        if table is not None:  # its fields are metadata, never the body
            table.drop_tree()
            text = lxml.html.tostring(tree, encoding="unicode")
        links = _link_texts(tree)
        readings = [
            _Reading.of(_by_trafilatura(tree, url), meta.title),
            _Reading.of(densest_text(tree), meta.title),  # of the tree trafilatura pruned
        ]
        agreed = _agreement(*readings) >= CHEAP_AGREEMENT
        if not agreed:
            readings.append(_Reading.of(_by_readability(text), meta.title))
            # Readability agreeing with a cheap reader settles it as magic-html would: on the
            # dev splits the same F1 with 4% more pages a second.
            if max(_agreement(readings[2], r) for r in readings[:2]) < CHEAP_AGREEMENT:
                readings.append(_Reading.of(_by_magic_html(text, url), meta.title))
    except Exception as exc:  # noqa: BLE001 - a page no parser can read holds no article
        log.info("no article in %s: %s", url, exc)
        return None
    # Agreeing, both hold the same body: trafilatura's keeps the headings between paragraphs,
    # which the density reading counts against a run.
    body = readings[0].body if agreed else _choose(readings)
    if learned is not None and body is not None:
        body = learned.choose(tree, meta.title, body)
    if (
        body is None
        or not _is_article(body, links)
        or any(_is_teaser_list(r.body) for r in readings)
    ):
        return None
    # A machine-converted page (body read back in Simplified) gets the same repair in its
    # metadata, which came through the same converter.
    repair = _repair_script if "pinyin_garbled" in body.flags else _unchanged
    return Article(
        url=url,
        title=repair(meta.title),
        text=body.text,
        published=meta.published,
        author=repair(meta.author),
        outlet=repair(meta.outlet or body.outlet),
        encoding=decoded.codec,
        simplified=body.simplified,
        editor=body.editor or _editor_in_page(text),
        captions=body.captions,
        quality=body.quality,
        flags=body.flags
        + ((f"bad_bytes:{decoded.bad_bytes}",) if decoded.bad_bytes else ())
        + (("truncated",) if truncated else ()),
        removed=body.removed,
        issuer=meta.portal.issuer,
        doc_number=meta.portal.doc_number,
        written=meta.portal.written,
        subject=meta.portal.subject or meta.portal.keywords,
        validity=meta.portal.validity,
        column=meta.portal.column,
    )


def _parse(text: str) -> tuple[str, lxml.html.HtmlElement]:
    """The page's text and tree, flattened if the parser would drop what is nested too deep."""
    tree = lxml.html.document_fromstring(text, parser=HTML_PARSER)
    if not _too_deep():
        return text, tree
    text = WRAPPER_TAGS.sub("\n", text)
    tree = lxml.html.document_fromstring(text, parser=HTML_PARSER)
    if _too_deep():
        raise ValueError("elements nested too deep to parse (over 2048 levels)")
    return text, tree


def _cut_after(tree: lxml.html.HtmlElement, limit: int) -> bool:
    """Drop everything after the first ``limit`` characters of the page's text (whether any
    was dropped): the element where the count runs out loses its children and tail, and it and
    each of its ancestors their following siblings."""
    seen = 0
    for element in tree.iter():
        if isinstance(element.tag, str) and element.tag not in NOT_TEXT:
            seen += len(element.text or "")
        seen += len(element.tail or "")
        if seen > limit:
            break
    else:
        return False
    for child in list(element):
        element.remove(child)
    element.tail = None
    node = element
    while (parent := node.getparent()) is not None:
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    return True


def _too_deep() -> bool:
    return any(e.type == RESOURCE_LIMIT for e in HTML_PARSER.error_log)


def _editor_in_page(html: str) -> str | None:
    """The 责任编辑 line, which extractors often drop with the chrome around it."""
    match = EDITOR_IN_PAGE.search(html)
    return match.group(1) if match else None


def _repair_script(value: str | None) -> str | None:
    return to_simplified(remove_pinyin_tags(value)) if value else value


def _unchanged(value: str | None) -> str | None:
    return value


def _by_trafilatura(tree: lxml.html.HtmlElement, url: str) -> str:
    # fast: trafilatura's own fallbacks are replaced by readability below.
    doc = trafilatura.bare_extraction(
        tree, url=url, fast=True, include_comments=False, include_tables=True, deduplicate=False
    )
    return (doc.text or "") if isinstance(doc, Document) else ""


def _by_readability(text: str) -> str:
    return _html_text(Readability(text).summary(html_partial=True))


def _by_magic_html(text: str, url: str) -> str:
    try:
        extracted = GeneralExtractor().extract(text, base_url=url, html_type="article")
    except ValueError:  # its own parse of the page failed: one reader fewer, not no article
        return ""
    return _html_text(str(extracted.get("html") or ""))


def _html_text(summary: str) -> str:
    """The text of an extractor's HTML output, a line per block."""
    if not summary.strip():
        return ""
    root = lxml.html.fromstring(summary)
    for element in root.iter(*BLOCK_TAGS):  # keep paragraphs apart in plain text
        element.tail = "\n" + (element.tail or "")
    return str(root.text_content())


def _prose_and_rest(body: Cleaned) -> tuple[int, int]:
    return body.prose, len(re.sub(r"\s", "", body.simplified)) - body.prose


def _prose_share(body: Cleaned) -> float:
    prose, rest = _prose_and_rest(body)
    return prose / max(prose + rest, 1)


def _choose(readings: list[_Reading]) -> Cleaned | None:
    """The body the others agree with most, the share of sentences breaking near ties."""
    found = [r for r in readings if r.grams]
    if len(found) < 2:
        return found[0].body if found else None

    agreement = [[0.0] * len(found) for _ in found]
    for i, j in itertools.combinations(range(len(found)), 2):
        agreement[i][j] = agreement[j][i] = _agreement(found[i], found[j])

    def merit(i: int) -> float:
        mean = sum(agreement[i]) / (len(found) - 1)
        return mean + PROSE_SHARE_WEIGHT * _prose_share(found[i].body)

    return found[max(range(len(found)), key=merit)].body


def _agreement(first: _Reading, second: _Reading) -> float:
    """Bigram F1 of two readings (0-1)."""
    shared = sum((first.grams & second.grams).values())
    return 2 * shared / (first.grams.total() + second.grams.total()) if shared else 0.0


def _bigrams(text: str) -> Counter[str]:
    chars = re.sub(r"\s", "", text)
    return Counter(map(operator.add, chars, chars[1:]))


def _link_texts(tree: lxml.html.HtmlElement) -> set[str]:
    """The texts of the page's links long enough to be titles (before trafilatura prunes it)."""
    texts = (re.sub(r"\s", "", a.text_content()) for a in tree.iter("a"))
    return {t for t in texts if len(t) >= MIN_LINK_TITLE}


def _is_article(body: Cleaned, links: set[str]) -> bool:
    """Enough sentences, and not mostly the page's own link titles (a list or index page)."""
    lines = [re.sub(r"\s", "", line) for line in body.text.splitlines()]
    total = sum(map(len, lines))
    if body.prose < MIN_PROSE_CHARS or not total:
        return False
    if sum(bool(READ_MORE.match(line)) for line in lines) >= READ_MORE_LIMIT:
        return False
    titles = list(links)
    # One automaton over all titles: testing each title against each line took seconds on a
    # page of 8,000 links and as many paragraphs.
    finder = AhoCorasick(titles) if titles else None
    linked = sum(min(len(line), _linked_chars(line, titles, finder)) for line in lines)
    return linked / total <= MAX_LINKED_SHARE


def _first_entry(text: str) -> str:
    """``text`` up to its first entry footer when it holds several entries, else all of it;
    entries without a sentence before the first footer (a sidebar of posts above the body)
    are skipped to the first that has one."""
    lines = text.splitlines()
    # One template prints every entry's footer: alike but for the numbers. A news page's
    # dateline at the top and its share bar at the bottom are not alike.
    shaped = [(i, _footer_shape(line)) for i, line in enumerate(lines) if _is_entry_footer(line)]
    shape, count = Counter(s for _, s in shaped).most_common(1)[0] if shaped else ("", 0)
    if count < MIN_ENTRIES:
        return text
    footers = [i for i, s in shaped if s == shape]
    start = 0
    for end in [*footers, len(lines)]:
        entry = "\n".join(lines[start:end])
        if prose_chars(entry) >= MIN_PROSE_CHARS:
            return entry
        start = end + 1
    return text


def _footer_shape(line: str) -> str:
    return re.sub(r"\d+", "0", re.sub(r"\s", "", line))


def _is_entry_footer(line: str) -> bool:
    return len(line) <= MAX_FOOTER_CHARS and ENTRY_FOOTER.search(line) is not None


def _is_teaser_list(body: Cleaned) -> bool:
    """Mostly items cut short with "..." (a list of headlines or summaries), not sentences."""
    lines = [line for line in (re.sub(r"\s", "", x) for x in body.text.splitlines()) if line]
    teasers = [line for line in lines if TEASER.search(line)]
    return len(teasers) >= TEASER_LIMIT and (
        sum(map(len, teasers)) >= TEASER_SHARE * sum(map(len, lines))
        or len(teasers) >= TEASER_LINE_SHARE * len(lines)
    )


def _linked_chars(line: str, titles: list[str], finder: AhoCorasick | None) -> int:
    """The summed length of the page's link titles that ``line`` holds, each counted once."""
    if finder is None:
        return 0
    found = {i for i, _, _ in finder.find_matches_as_indexes(line, overlapping=True)}
    return sum(len(titles[i]) for i in found)
