"""Structure repair: whitespace, headings a page prints twice, words broken across lines."""

from __future__ import annotations

import logging
import re

import jieba

from crawler.text import CJK

SPACES = re.compile(r"[ \t\u00a0\u2002-\u200b\u3000\ufeff]+")
SPACE_BETWEEN_CJK = re.compile(
    rf"(?<=[{CJK}，。、；：！？“”（）《》]) (?=[{CJK}，。、；：！？“”（）《》])"
)
CJK_CHAR = re.compile(f"[{CJK}]")
ENDS_OPEN = re.compile(f"[{CJK}，、]$")
# A run of Chinese text printed twice in a row: a heading and its styled copy (seed 000's
# 扶持政策密集出台扶持政策密集出台). Four characters at least: 谢谢, 看看, 哈哈哈哈 are words.
DOUBLED = re.compile(rf"([{CJK}“”—《》（）0-9]{{4,60}}?)\1")
ENDS_SENTENCE = re.compile(r"[。！？!?；;：:…”’」』）)\]】>》]$")
STARTS_NEW_BLOCK = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|（[一二三四五六七八九十\d]+）|\d+[、.．]|[·•●■◆▲-])"
)
# A fragment this long that ends mid-sentence is a paragraph cut by a hard line break.
FRAGMENT_CHARS = 30


def normalize_line(line: str) -> str:
    """One space for any run of spaces, none at the ends."""
    return SPACES.sub(" ", line).strip()


def squeeze(line: str) -> str:
    """No spaces between Chinese characters (layout: 编 辑, 作 者, justified lines)."""
    if " " not in line:  # most lines: the lookbehind would be tried at every character
        return line
    return SPACE_BETWEEN_CJK.sub("", line)


def undouble(line: str) -> str:
    """Print each doubled run of Chinese text once."""
    # One pass leaves a tripled run doubled, and taking out a copy can make a new doubled run
    # of the text around it: repeat until none is left, so that undoubling is done once for all.
    while (once := DOUBLED.sub(r"\1", line)) != line:
        line = once
    return line


def continues_previous(lines: list[str]) -> list[bool]:
    """For each line, whether a hard break cut it off the line before (人工 / 智能)."""
    flags, current = [], ""
    for line in lines:
        joined = bool(current) and _continues(current, line)
        flags.append(joined)
        current = current + line if joined else line
    return flags


def _continues(previous: str, line: str) -> bool:
    if not previous or not line or ENDS_SENTENCE.search(previous) or STARTS_NEW_BLOCK.match(line):
        return False
    if not (CJK_CHAR.match(line) and ENDS_OPEN.search(previous)):
        return False
    if len(previous) >= FRAGMENT_CHARS and ("，" in previous or previous.endswith(("，", "、"))):
        return True
    return _word_across(previous, line)


def _word_across(previous: str, line: str) -> bool:
    """Whether a four-character dictionary word spans the break, two and two (人工|智能).

    Shorter words match across too many honest line ends to be evidence of a cut."""
    word = previous[-2:] + line[:2]
    return len(word) == 4 and jieba_frequencies().get(word, 0) > 0


def jieba_frequencies() -> dict[str, int]:
    """jieba's dictionary (word: frequency), loaded once, without its chatter on stderr."""
    if not jieba.dt.initialized:
        jieba.setLogLevel(logging.WARNING)  # "Building prefix dict…" says nothing useful
        jieba.initialize()
    return jieba.dt.FREQ
