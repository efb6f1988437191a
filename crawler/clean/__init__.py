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

from crawler.clean.chrome import Kind, classify_line, is_related_heading
from crawler.clean.script import (
    CJK,
    inspect_script,
    quality_score,
    remove_pinyin_tags,
    to_simplified,
)
from crawler.clean.spam import is_link_farm, is_spam
from crawler.clean.structure import continues_previous, normalize_line, squeeze, undouble

# The headline is looked for this far down: above it sit masthead and navigation.
HEADLINE_WINDOW = 15
# A run of this many lines of at most this many characters is a menu, not text: an article's
# headings and short lines are separated by paragraphs.
MENU_RUN = 8
MENU_ITEM_CHARS = 8
PROSE = re.compile(r"[，。；！？]")
WORDLESS = re.compile(r"[\W_]+")
UNBROKEN_RUN = re.compile(f"[{CJK}]{{28,}}")
TABLE_CELL = re.compile(r"(?<!\\)\|")


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


@dataclass
class _Line:
    """One line in both scripts, spaces kept: they separate the items of link farms."""

    original: str
    simplified: str

    @property
    def compact(self) -> str:
        return squeeze(self.simplified)


def clean_text(text: str, title: str | None = None) -> Cleaned:
    """Clean an extracted article body (or a whole page's text); ``title`` helps find its top."""
    # Lines with no word in them (table borders "| | |", rules "-----") carry nothing.
    raw = [line for line in map(normalize_line, text.splitlines()) if WORDLESS.sub("", line)]
    joined_raw = "\n".join(raw)
    report = inspect_script(joined_raw)
    lines = [
        _Line(undouble(line), undouble(to_simplified(line) if report.traditional else line))
        for line in map(remove_pinyin_tags, raw)
    ]
    lines = _join_broken(lines)
    removed: Counter[str] = Counter()
    lines = _below_headline(lines, title, removed)
    lines = _without_menus(lines, removed)

    kept: list[_Line] = []
    editor = outlet = None
    captions: list[str] = []
    in_related = False
    for line in lines:
        text_ = line.compact
        if is_spam(line.simplified):
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
            editor = editor or verdict.value
        elif verdict.kind is Kind.SOURCE:
            outlet = outlet or verdict.value
        elif verdict.kind is Kind.CAPTION:
            captions.append(line.original)
        elif verdict.kind is Kind.BODY and is_link_farm(line.simplified):
            removed["link_farm"] += 1
            continue
        elif verdict.kind is Kind.BODY and text_.startswith("|"):
            line = _without_farm_cells(line, removed)
        if verdict.kind is not Kind.BODY:
            removed[verdict.kind.value] += 1
            continue
        kept.append(line)

    simplified = "\n".join(line.compact for line in kept)
    # Pinyin tags betray a Simplified page pushed through a converter (seed 002): its
    # Traditional form is an accident, so it is read in Simplified. A page written in
    # Traditional keeps its script.
    machine_converted = report.pinyin_tags > 0
    return Cleaned(
        text=simplified if machine_converted else "\n".join(squeeze(x.original) for x in kept),
        simplified=simplified,
        editor=editor,
        outlet=outlet,
        captions=tuple(captions),
        removed=removed,
        quality=quality_score(report, len(joined_raw)),
        flags=report.flags,
    )


def _without_farm_cells(line: _Line, removed: Counter[str]) -> _Line:
    """A layout-table row without its navigation cells: the body often shares a row with them."""
    cells = list(
        zip(TABLE_CELL.split(line.original), TABLE_CELL.split(line.simplified), strict=False)
    )
    kept = [(o, s) for o, s in cells if not is_link_farm(s.replace("\\|", "|"))]
    removed["link_farm"] += len(cells) - len(kept)
    return _Line(
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
    return len(re.findall(f"[{CJK}]", line)) / max(len(line), 1)


def _join_broken(lines: list[_Line]) -> list[_Line]:
    joined: list[_Line] = []
    for line, continues in zip(
        lines, continues_previous([x.simplified for x in lines]), strict=True
    ):
        if continues:
            joined[-1] = _Line(
                joined[-1].original + line.original, joined[-1].simplified + line.simplified
            )
        else:
            joined.append(line)
    return joined


def _without_menus(lines: list[_Line], removed: Counter[str]) -> list[_Line]:
    """Drop runs of many very short lines: a navigation menu or tag list laid out vertically."""
    kept: list[_Line] = []
    run: list[_Line] = []
    for line in [*lines, None]:
        if (
            line is not None
            and len(line.simplified) <= MENU_ITEM_CHARS
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
    wanted = re.sub(r"\s", "", to_simplified(title))
    is_title = [re.sub(r"\s", "", line.simplified) == wanted for line in lines]
    top = max((i + 1 for i, hit in enumerate(is_title[:HEADLINE_WINDOW]) if hit), default=0)
    kept = [line for i, line in enumerate(lines) if i >= top and not is_title[i]]
    removed["above_headline"] += len(lines) - len(kept)
    return kept
