"""What a new source's seed entry should say, read from the links of one of its pages (pure).

`newsmon sources add URL` fetches a list page and hands its links here: links whose text is
a headline and whose address carries numbers (a date, an id) are articles, and links that
share an address shape are one pattern. The pattern keeps what the links share and writes
\\d for their numbers, so that tomorrow's articles match too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from crawler.attachments import is_attachment

# A headline has words; a link to 首页, 更多 or a page number does not.
TITLE_CHARS = 8
# The fewest links of one shape that make a pattern: two headlines of one shape are a list.
FEWEST_ARTICLES = 2
# Runs of digits that start as a year does and have these lengths are dates (2024, 202406,
# 20240618) and keep their length in a pattern; other runs (ids, counters) grow: \d+.
DATE_LENGTHS = (4, 6, 8)
YEAR = re.compile(r"^(19|20)")
PAGE_NUMBER_TEXT = re.compile(r"^\d{1,4}$")
DIGITS = re.compile(r"(\d+)")
# The variable parts of an address: ids of letters and digits (a hash's 32 hex digits,
# 1LQ0348K00020QDS, iicezzrq4972166) and runs of digits. An id is one part, or the places of
# its digits would give each link a shape of its own.
CODE = r"(?=[0-9A-Za-z]*[A-Za-z])(?=[0-9A-Za-z]*\d)[0-9A-Za-z]{12,}"
NUMBERS = re.compile(rf"({CODE}|\d+)")
CODE_CLASSES = ("0-9a-f", "0-9a-z", "0-9A-Z", "0-9A-Za-z")
FEED_NAME = re.compile(r"(rss|atom|feed)[^/]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Anchor:
    """A link of the page: its path and query on the page's host, and its text (None when
    the link has no text to read: a sitemap's entries)."""

    path: str
    text: str | None = None


@dataclass(frozen=True)
class Pattern:
    """One proposed pattern and the page's links it matches, in page order."""

    regex: str
    paths: tuple[str, ...]


def _segments(path: str) -> list[str]:
    return path.lstrip("/").split("/")


def _numbered(path: str) -> str:
    """The address without its query when its path carries a number: that number is the
    article, and the query (cre=…&loc=3, a recommender's) differs between links to it."""
    base, _, query = path.partition("?")
    return base if query and DIGITS.search(base) else path


def _shape(path: str) -> tuple[str, ...]:
    """The path with its numbers blanked and every folder but the last named ``*``: links of
    sections side by side (/policy/…, /local/…) share a shape."""
    parts = [NUMBERS.sub("0", s) for s in _segments(_numbered(path))]
    return tuple("*" if i < len(parts) - 1 and "0" not in p else p for i, p in enumerate(parts))


def _segment_regex(values: list[str]) -> str:
    """One segment's regex from the values the links have there (all of one shape)."""
    if len(set(values)) == 1 and not DIGITS.search(values[0]):
        return re.escape(values[0])
    if not any(DIGITS.search(v) for v in values):
        # Columns side by side (/xxgk/tzgg/…, /xxgk/zcjd/…): a column started next year is
        # one of them too, as the shipped seeds write it.
        if all(re.fullmatch("[a-z]+", v) for v in values):
            return "[a-z]+"
        return "(?:" + "|".join(re.escape(v) for v in sorted(set(values))) + ")"
    pieces = [NUMBERS.split(v) for v in values]
    out = []
    for i, piece in enumerate(pieces[0]):
        if i % 2 == 0:  # the text between numbers is the same: the shape says so
            out.append(re.escape(piece))
            continue
        lengths = {len(p[i]) for p in pieces}
        (length,) = lengths if len(lengths) == 1 else (0,)
        if not all(p[i].isdigit() for p in pieces):
            chars = next(
                c for c in CODE_CLASSES if all(re.fullmatch(f"[{c}]+", p[i]) for p in pieces)
            )
            out.append(f"[{chars}]" + (f"{{{length}}}" if length else "+"))
            continue
        dated = length in DATE_LENGTHS and all(YEAR.match(p[i]) for p in pieces)
        out.append(rf"\d{{{length}}}" if dated else r"\d+")
    return "".join(out)


def pattern_for(paths: Iterable[str]) -> str:
    """The regex (on path?query) that the ``paths``, all of one shape, have in common."""
    paths = list(paths)
    bases = [_numbered(p) for p in paths]
    columns = list(zip(*(_segments(p) for p in bases), strict=True))
    end = "$" if bases == paths else r"(?:\?|$)"
    return "^/" + "/".join(_segment_regex(list(c)) for c in columns) + end


def _grouped(paths: Iterable[str]) -> list[list[str]]:
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for path in dict.fromkeys(paths):
        groups[_shape(path)].append(path)
    return sorted(groups.values(), key=len, reverse=True)


def is_headline(anchor: Anchor) -> bool:
    """Whether the link reads as an article's: a headline (or no text at all, as a sitemap's
    entries) on an address that carries a number."""
    words = anchor.text is None or len(re.sub(r"\W", "", anchor.text)) >= TITLE_CHARS
    # A list of files (年报.pdf …) is a page's attachments, not articles of the source.
    filed = is_attachment(anchor.path, anchor.text or "", labelled=False)
    return words and bool(DIGITS.search(anchor.path)) and not filed


def article_patterns(anchors: Iterable[Anchor]) -> list[Pattern]:
    """Patterns of the page's article links, the most links first: each shape that holds at
    least a third as many headlines as the largest (and at least two)."""
    groups = _grouped(a.path for a in anchors if is_headline(a))
    if not groups or len(groups[0]) < FEWEST_ARTICLES:
        return []
    enough = max(FEWEST_ARTICLES, len(groups[0]) / 3)
    return [Pattern(pattern_for(g), tuple(g)) for g in groups if len(g) >= enough]


def list_patterns(anchors: Iterable[Anchor], next_paths: Iterable[str]) -> list[Pattern]:
    """Patterns of the page's pager: its next-page links and links named by a page number."""
    pager = [a.path for a in anchors if a.text and PAGE_NUMBER_TEXT.match(a.text.strip())]
    pages = [p for p in (*next_paths, *pager) if DIGITS.search(p)]
    return [Pattern(pattern_for(g), tuple(g)) for g in _grouped(pages)]


def feed_candidates(anchors: Iterable[Anchor], declared: Iterable[str]) -> list[str]:
    """Addresses that may be feeds: those the page declares (``<link rel=alternate>``), then
    links named like one (rss.xml, /feed, atom.xml) or labelled RSS."""
    named = [
        a.path
        for a in anchors
        if FEED_NAME.search(a.path.partition("?")[0]) or (a.text or "").strip().upper() == "RSS"
    ]
    return list(dict.fromkeys([*declared, *named]))


def robots_sitemaps(robots_txt: str) -> list[str]:
    """The sitemaps a robots.txt names (``Sitemap: URL`` lines, any case)."""
    found = []
    for line in robots_txt.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            found.append(value.strip())
    return found


def source_id(host: str, path: str) -> str:
    """A seed id for the site at ``host``: its name without www. and the country's common
    endings, with the last folder of ``path`` when there is one (gxj-sz-tzgg)."""
    name = re.sub(r"^www\.", "", host.lower())
    name = re.sub(r"\.(gov|com|org|net|edu)?\.?cn$|\.(com|org|net)$", "", name)
    folder = next((s for s in reversed(_segments(path)) if s and "." not in s), "")
    words = [w for w in re.split(r"[^a-z0-9]+", f"{name} {folder.lower()}") if w]
    return "-".join(words)[:40].strip("-") or "site"


def unused_id(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3`` … the first not ``taken``."""
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate


def toml_string(value: str) -> str:
    """``value`` as a TOML string: a literal one ('…', backslashes as they are) when it can be."""
    if "'" not in value and not any(ord(c) < 32 for c in value):
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f]", lambda m: f"\\u{ord(m[0]):04x}", escaped) + '"'


def toml_entry(fields: dict[str, object]) -> str:
    """One ``[[source]]`` table with ``fields`` in their order (strings, lists of strings,
    booleans and numbers); a None is left out."""
    lines = ["[[source]]"]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        elif isinstance(value, str):
            text = toml_string(value)
        else:
            assert isinstance(value, list | tuple)
            text = "[" + ", ".join(toml_string(str(v)) for v in value) + "]"
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
