"""Text primitives that extraction, cleaning, classification and diff share: character
classes, spaces, sentence ends, and the word lists kept as data files."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

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
