"""A text-density reading of the page: the run of lines that reads most like an article.

The page's text is cut into lines where blocks and ``<br>`` break it, each line scored as a
sentence line (+ its length) or not (− twice its length, links always so), and the
contiguous run of lines with the highest sum is the body. It needs no container: bodies of
bare text split by ``<br><br>``, bodies in ``<span>``s or ``<font>``s, and bodies the page
wrapped in one link read as well as bodies in ``<p>``, and a list of related links or a
rating prompt after the body ends the run.
"""

from __future__ import annotations

import re

import lxml.html

from crawler.clean import prose_chars

# Tags whose start and end break a line of text (what a browser would set on a line of its own).
BREAKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4",
        "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section",
        "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
SKIPPED = frozenset({"script", "style", "noscript", "template", "select", "textarea", "button"})
# A link is navigation unless it carries sentences: pages that wrap the whole article in one
# <a> (a click anywhere opens the full text) hold paragraphs in it, menus never do.
PROSE_LINK_CHARS = 200
PROSE_LINK_STOPS = 3
STOPS = re.compile(r"[。！？]")
# Each character of a line that is not a sentence costs this much: as in the chooser, a run
# that takes in a menu or a link list to reach one more paragraph is worse than the shorter.
NON_PROSE_WEIGHT = 2
SPACES = re.compile(r"\s+")


def densest_text(tree: lxml.html.HtmlElement) -> str:
    """The best-scoring run of lines of ``tree``'s body, one line per text line, or ""."""
    lines: list[str] = []
    linked: list[bool] = []
    current: list[str] = []
    current_linked = [0, 0]  # characters inside navigation links, characters in all

    def flush() -> None:
        text = SPACES.sub(" ", "".join(current)).strip()
        if text:
            lines.append(text)
            linked.append(current_linked[0] * 2 > current_linked[1])
        current.clear()
        current_linked[:] = [0, 0]

    def add(text: str | None, in_link: bool) -> None:
        if text:
            current.append(text)
            size = len(SPACES.sub("", text))
            current_linked[1] += size
            if in_link:
                current_linked[0] += size

    body = tree.find("body")
    # A stack, not recursion: pages nest up to 2048 levels (the parser's limit).
    stack: list[tuple[lxml.html.HtmlElement, bool, bool]] = [
        (body if body is not None else tree, False, False)
    ]
    while stack:
        element, in_link, closing = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if closing:
            if tag in BREAKS:
                flush()
            add(element.tail, in_link)
            continue
        if tag in SKIPPED or not tag:
            add(element.tail, in_link)
            continue
        if tag in BREAKS:
            flush()
        # The tail belongs to the parent's link state, the children to this element's.
        stack.append((element, in_link, True))
        if tag == "a" and not in_link:
            in_link = not _carries_prose(element)
        add(element.text, in_link)
        stack.extend((child, in_link, False) for child in reversed(element))
    flush()
    return "\n".join(_best_run(lines, linked))


def _carries_prose(link: lxml.html.HtmlElement) -> bool:
    text = link.text_content()
    return len(text) >= PROSE_LINK_CHARS and len(STOPS.findall(text)) >= PROSE_LINK_STOPS


def _best_run(lines: list[str], linked: list[bool]) -> list[str]:
    """The contiguous lines with the highest summed score (Kadane's maximum subarray)."""
    best, best_span = 0, (0, 0)
    total, start = 0, 0
    for i, (line, is_link) in enumerate(zip(lines, linked, strict=True)):
        size = len(SPACES.sub("", line))
        prose = not is_link and prose_chars(line) > 0
        total += size if prose else -NON_PROSE_WEIGHT * size
        if total <= 0:
            total, start = 0, i + 1
        elif total > best:
            best, best_span = total, (start, i + 1)
    return lines[best_span[0] : best_span[1]]
