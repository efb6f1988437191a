"""The cleaning stage: extracted text in, the article body a reader wants out. Pure.

Works line by line: repair the structure and the script first (so that chrome and spam are
recognised in one script and one shape), then keep the body lines and set aside the editor,
the outlet and figure captions as metadata. Each dropped line is counted by reason, so a
crawl's stats tell what cleaning did.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

from crawler.clean.chrome import Kind, classify_line, is_related_heading
from crawler.clean.script import inspect_script, quality_score, remove_pinyin_tags, to_simplified
from crawler.clean.spam import is_link_farm, is_spam
from crawler.clean.structure import continues_previous, normalize_line, squeeze, undouble
from crawler.text import CJK

# The headline is looked for this far down: above it sit masthead and navigation.
HEADLINE_WINDOW = 15
# A run of this many lines of at most this many characters is a menu, not text: an article's
# headings and short lines are separated by paragraphs.
MENU_RUN = 8
MENU_ITEM_CHARS = 8
PROSE = re.compile(r"[，。；！？]")
WORD_CHAR = re.compile(r"[^\W_]")
UNBROKEN_RUN = re.compile(f"[{CJK}]{{28,}}")
TABLE_CELL = re.compile(r"(?<!\\)\|")
CJK_CHAR = re.compile(f"[{CJK}]")
SPACE_OR_BAR = re.compile(r"[\s|]")


@dataclass(frozen=True)
class Cleaned:
    """An article body after cleaning, with what cleaning set aside."""

    text: str  # for reading: the page's own script, Simplified again if machine-converted
    simplified: str  # for tagging and search
    editor: str | None = None
    outlet: str | None = None
    captions: tuple[str, ...] = ()
    removed: Counter[str] = field(default_factory=Counter)
    quality: float = 1.0
    flags: tuple[str, ...] = ()

    @cached_property  # the extractor weighs each candidate body by it more than once
    def prose(self) -> int:
        """Characters of the Simplified body in lines that read as sentences."""
        return prose_chars(self.simplified)


@dataclass
class _Line:
    """One line in both scripts, spaces kept: they separate the items of link farms.

    Both are undoubled (each doubled run printed once) wherever a line is made."""

    original: str
    simplified: str

    @classmethod
    def undoubled(cls, original: str, simplified: str) -> _Line:
        """The line of these two, each doubled run printed once."""
        once = undouble(original)
        # A Simplified page's line is one string in both scripts, and undoubling is dear.
        return cls(once, once if simplified == original else undouble(simplified))

    @cached_property  # lines are judged by it again and again
    def compact(self) -> str:
        return _compact(self.simplified)


def clean_text(text: str, title: str | None = None) -> Cleaned:
    """Clean an extracted article body (or a whole page's text); ``title`` helps find its top."""
    # Lines with no word in them (table borders "| | |", rules "-----") carry nothing.
    raw = [line for line in map(normalize_line, text.splitlines()) if WORD_CHAR.search(line)]
    joined_raw = "\n".join(raw)
    report = inspect_script(joined_raw)
    # Lines are judged in Simplified whatever the page's script: whether a page counts as
    # Traditional hangs on its share of Traditional characters, which changes as lines are
    # dropped, and cleaning the cleaned text must judge its lines as the first time.
    repaired = [remove_pinyin_tags(line) for line in raw]
    # Converted at once (a call per line costs more), line breaks stay where they were.
    converted = to_simplified("\n".join(repaired)).split("\n") if repaired else []
    lines = [
        _Line.undoubled(line, simple) for line, simple in zip(repaired, converted, strict=True)
    ]
    lines = _join_broken(lines)
    removed: Counter[str] = Counter()
    lines = _below_headline(lines, title, removed)
    lines = _without_menus(lines, removed)
    found = _Found()
    kept = _judged(lines, removed, found)
    # Dropped lines leave their neighbours side by side: the halves of a paragraph that a line
    # of chrome cut, the items of a menu around a share bar. Joined and judged again as
    # cleaning the cleaned text would (until nothing changes: each round has fewer lines).
    while (again := _without_menus(_join_broken(kept), removed)) != kept:
        kept = _judged(again, removed, found)

    # A line alike in both scripts (all of a Simplified page's) is compacted once.
    original = "\n".join(
        x.compact if x.original == x.simplified else _compact(x.original) for x in kept
    )
    # A Simplified page keeps its own characters for search (昇腾 is a name, not 升腾).
    simplified = "\n".join(x.compact for x in kept) if report.traditional else original
    # Pinyin tags betray a Simplified page pushed through a converter (seed 002): its
    # Traditional form is an accident, so it is read in Simplified. A page written in
    # Traditional keeps its script.
    machine_converted = report.pinyin_tags > 0
    return Cleaned(
        text=simplified if machine_converted else original,
        simplified=simplified,
        editor=found.editor,
        outlet=found.outlet,
        captions=tuple(found.captions),
        removed=removed,
        quality=quality_score(report, len(joined_raw)),
        flags=report.flags,
    )


@dataclass
class _Found:
    """What cleaning set aside as metadata."""

    editor: str | None = None
    outlet: str | None = None
    captions: list[str] = field(default_factory=list)


def _judged(lines: list[_Line], removed: Counter[str], found: _Found) -> list[_Line]:
    """The body lines: without spam, related links, chrome, link farms; metadata into ``found``."""
    kept: list[_Line] = []
    in_related = False
    for line in lines:
        if line.compact.startswith("|"):
            # A layout-table row is judged as it will read: without its navigation cells and
            # outer bars ("| 首页 | 新闻 |" is navigation, which shows once the first bar is off).
            line = _without_farm_cells(line, removed)
            if not WORD_CHAR.search(line.simplified):
                continue
        text_ = line.compact
        # Judged squeezed as well: that is what the text becomes, and what cleaning it again
        # judges (日韩 精品 … with a space between each is one item once squeezed).
        if is_spam(line.simplified) or (text_ != line.simplified and is_spam(text_)):
            removed["spam"] += 1
            continue
        if is_related_heading(text_):
            in_related = True
            removed["related"] += 1
            continue
        if in_related:
            if _is_prose(text_):
                in_related = False
            else:
                removed["related"] += 1
                continue
        verdict = classify_line(text_)
        if verdict.kind is Kind.EDITOR:
            found.editor = found.editor or verdict.value
        elif verdict.kind is Kind.SOURCE:
            found.outlet = found.outlet or verdict.value
        elif verdict.kind is Kind.CAPTION:
            found.captions.append(line.original)
        elif verdict.kind is Kind.BODY and _is_link_farm(line):
            removed["link_farm"] += 1
            continue
        if verdict.kind is not Kind.BODY:
            removed[verdict.kind.value] += 1
            continue
        kept.append(line)
    return kept


def _is_link_farm(line: _Line) -> bool:
    # Judged squeezed as well, as for spam: squeezing merges items, and "（1） 甲乙、（2） 丙丁"
    # reads as numbered only while "（1）" is an item of its own.
    text = line.compact
    return is_link_farm(line.simplified) or (text != line.simplified and is_link_farm(text))


def _compact(line: str) -> str:
    """An undoubled line without layout spaces."""
    squeezed = squeeze(line)
    # Undoubled again once squeezed: a heading and its copy may have had a space between them.
    # Only then: undoubling is the dearest step of cleaning.
    return squeezed if squeezed == line else undouble(squeezed)


def _without_farm_cells(line: _Line, removed: Counter[str]) -> _Line:
    """A layout-table row without its navigation cells: the body often shares a row with them."""
    cells = list(
        zip(TABLE_CELL.split(line.original), TABLE_CELL.split(line.simplified), strict=False)
    )
    kept = [(o, s) for o, s in cells if not is_link_farm(s.replace("\\|", "|"))]
    removed["link_farm"] += len(cells) - len(kept)
    return _Line.undoubled(
        " | ".join(o.strip() for o, _ in kept if o.strip()),
        " | ".join(s.strip() for _, s in kept if s.strip()),
    )


def prose_chars(text: str) -> int:
    """Characters in lines that read as sentences: what an article has and a list page lacks."""
    return sum(len(line) for line in text.splitlines() if _is_prose(line))


def _is_prose(line: str) -> bool:
    # Some writers leave out punctuation (blogs that break lines instead): a long unbroken run
    # of Chinese is a sentence too, longer than link titles run.
    return (
        len(line) >= 25
        and _cjk_share(line) >= 0.5
        and (PROSE.search(line) is not None or UNBROKEN_RUN.search(line) is not None)
    )


def _cjk_share(line: str) -> float:
    return len(CJK_CHAR.findall(line)) / max(len(line), 1)


def _join_broken(lines: list[_Line]) -> list[_Line]:
    joined: list[_Line] = []
    glued: list[bool] = []
    for line, continues in zip(
        lines, continues_previous([x.simplified for x in lines]), strict=True
    ):
        if continues:
            joined[-1] = _Line(
                joined[-1].original + line.original, joined[-1].simplified + line.simplified
            )
            glued[-1] = True
        else:
            joined.append(line)
            glued.append(False)
    # The halves of a line may each end and start with one run (…扶持政策 / 扶持政策…).
    return [
        _Line.undoubled(x.original, x.simplified) if glue else x
        for x, glue in zip(joined, glued, strict=True)
    ]


def _without_menus(lines: list[_Line], removed: Counter[str]) -> list[_Line]:
    """Drop runs of many very short lines: a navigation menu or tag list laid out vertically."""
    kept: list[_Line] = []
    run: list[_Line] = []
    for line in [*lines, None]:
        if (
            line is not None
            and len(line.compact) <= MENU_ITEM_CHARS  # as cleaned, spaces gone
            and not PROSE.search(line.simplified)
        ):
            run.append(line)
            continue
        if len(run) >= MENU_RUN:
            removed["menu"] += len(run)
        else:
            kept.extend(run)
        run = []
        if line is not None:
            kept.append(line)
    return kept


def _below_headline(lines: list[_Line], title: str | None, removed: Counter[str]) -> list[_Line]:
    """Drop the headline wherever it is repeated, and the masthead and navigation above it."""
    if not title:
        return lines
    wanted = undouble(SPACE_OR_BAR.sub("", to_simplified(title)))
    is_title = [_headline_key(line) == wanted for line in lines]
    top = max((i + 1 for i, hit in enumerate(is_title[:HEADLINE_WINDOW]) if hit), default=0)
    kept = [line for i, line in enumerate(lines) if i >= top and not is_title[i]]
    removed["above_headline"] += len(lines) - len(kept)
    return kept


def _headline_key(line: _Line) -> str:
    # Compared as the line will read (without spaces, printed once) and out of its layout-table
    # cell, or a headline found only once cleaned would be dropped by cleaning it again.
    spaceless = SPACE_OR_BAR.sub("", line.simplified)
    # The line was undoubled when made: only taking spaces out can double a run again.
    return spaceless if spaceless == line.simplified else undouble(spaceless)
