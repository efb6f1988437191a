"""Text primitives that extraction, cleaning, classification and diff share: character
classes, spaces, sentence ends, and the word lists kept as data files."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from itertools import accumulate

# The CJK Unified Ideographs: every character of modern Chinese text, Simplified or Traditional.
HAN = "\u4e00-\u9fff"
# With Extension A and the compatibility ideographs, which damaged conversions leave behind.
CJK = f"\u3400-\u4dbf{HAN}\uf900-\ufaff"
# Spaces inside a line as Chinese pages print them: the full-width space and &nbsp; too.
INLINE_SPACES = " \t\u3000\xa0"
# What ends a sentence, full-width and ASCII; semicolons end the clauses of policy texts.
FULL_STOPS = "。！？"
ASCII_STOPS = "!?"
SEMICOLONS = "；;"
# Any run of spaces and line breaks (\s covers the full-width space and &nbsp; in str
# patterns; they are named for the reader).
SPACE_RUN = re.compile(r"[\s\u3000\xa0]+")

WORDS = files("crawler") / "data" / "words"


def read_words(resource: Traversable) -> tuple[str, ...]:
    """The words of a list file in file order: whitespace-separated, ``#`` starts a comment line."""
    lines = resource.read_text(encoding="utf-8").splitlines()
    return tuple(word for line in lines if not line.startswith("#") for word in line.split())


@cache
def words(name: str) -> tuple[str, ...]:
    """The shipped word list ``name`` (``crawler/data/words/<name>.txt``), read once."""
    return read_words(WORDS / f"{name}.txt")


def alternation(name: str) -> str:
    """The words of list ``name`` as a regex alternation, in file order."""
    return "|".join(map(re.escape, words(name)))


class Spans:
    """Spans of a text, asked whether any of them overlaps a range in log time (a long page
    has thousands of spans and of ranges to ask about)."""

    def __init__(self, spans: Iterable[tuple[int, int]]):
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        # The furthest end of the spans up to each one: they may overlap and nest.
        self._reach = list(accumulate((end for _, end in ordered), max))

    def overlaps(self, start: int, end: int) -> bool:
        """Whether a span shares a character with ``start:end``."""
        i = bisect_left(self._starts, end)
        return i > 0 and self._reach[i - 1] > start


class Marks:
    """Where the characters that ``mark`` matches (one at a time: line breaks, sentence ends)
    sit in a text, to find the nearest before or after a position in log time; searching the
    text from its start for each mention made long pages quadratic."""

    def __init__(self, text: str, mark: re.Pattern[str]):
        self._at = [m.start() for m in mark.finditer(text)]
        self.length = len(text)

    def start_of(self, at: int) -> int:
        """Where the stretch holding ``at`` begins: just after the last mark before it, or 0."""
        i = bisect_left(self._at, at)
        return self._at[i - 1] + 1 if i else 0

    def end_of(self, at: int) -> int:
        """Where the stretch holding ``at`` ends: at the first mark from it on, or the end."""
        i = bisect_left(self._at, at)
        return self._at[i] if i < len(self._at) else self.length
