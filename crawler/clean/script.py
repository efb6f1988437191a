"""Script: Traditional → Simplified, repair of pinyin-garbled characters, and a damage score.

Pages pushed through a bad conversion (seed 002) carry a character's pinyin behind it
(監(jiān)管), lose punctuation (區域!辟R仁龍說) or turn into mojibake. Users must be able to see
that a page is damaged, so damage is counted, not silently hidden.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from functools import cache

import opencc

from crawler.text import CJK

TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü"
# A CJK character followed by its toned or numbered pinyin in ASCII brackets: 監(jiān), 區(qu1).
# The tone is required: 人工智能(AI) and 芯片(chip) are the author's brackets. A ? before the
# tag is a character the conversion lost as well.
PINYIN_TAG = re.compile(
    rf"(?<=[{CJK}?])\((?=[a-z{TONED}]{{0,5}}[{TONED}1-5])[a-z{TONED}]{{1,6}}[1-5]?\)"
)
# Punctuation lost in conversion: an ASCII !/? or a lone capital letter wedged between Chinese
# characters (區域!辟R仁龍說 was 區域。"賀仁龍說). The pattern starts with the character it
# counts, so that the search skips to those instead of trying a lookbehind at every character.
LOST_PUNCTUATION = re.compile(rf"[!?A-Z](?<=[{CJK}][!?A-Z])(?=[{CJK}])")
SCRIPT_SAMPLE = 3000
NOT_CJK = re.compile(f"[^{CJK}]+")
MOJIBAKE = re.compile(r"\ufffd|锟斤拷|[ÃÂâ][\u0080-\u00bf]|[\ue000-\uf8ff]")


@dataclass(frozen=True)
class ScriptReport:
    """What the script repair found: counts per kind of damage, and whether it was Traditional."""

    traditional: bool
    pinyin_tags: int
    lost_punctuation: int
    mojibake: int

    @property
    def flags(self) -> tuple[str, ...]:
        found = {
            "traditional": self.traditional,
            "pinyin_garbled": bool(self.pinyin_tags),
            "lost_punctuation": bool(self.lost_punctuation),
            "mojibake": bool(self.mojibake),
        }
        return tuple(flag for flag, present in found.items() if present)


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """``text`` in Simplified characters (opencc's Traditional → Simplified)."""
    return str(_converter().convert(text))


def remove_pinyin_tags(text: str) -> str:
    """監(jiān)管 → 監管."""
    if "(" not in text:  # most lines: the tag's lookbehind would be tried at every character
        return text
    # A second tag behind a character (監(jiān)(ān)) follows it only once the first is gone.
    while (once := PINYIN_TAG.sub("", text)) != text:
        text = once
    return text


def inspect_script(text: str) -> ScriptReport:
    """Whether ``text`` (as served) is Traditional, and the damage in it."""
    # The script shows in any few thousand characters; converting all of a long page to
    # find out costs more than the rest of cleaning.
    sample = text[:SCRIPT_SAMPLE]
    changed = sum(map(operator.ne, sample, to_simplified(sample)))
    cjk = len(NOT_CJK.sub("", sample)) or 1
    return ScriptReport(
        # A few characters change even in Simplified text (variants); Traditional text
        # changes in a good share of them.
        traditional=changed / cjk > 0.03,
        pinyin_tags=len(PINYIN_TAG.findall(text)) if "(" in text else 0,
        lost_punctuation=len(LOST_PUNCTUATION.findall(text)),
        mojibake=len(MOJIBAKE.findall(text)),
    )


def quality_score(report: ScriptReport, length: int) -> float:
    """1.0 for a clean page, lower the more damage per thousand characters (0 to 1)."""
    per_thousand = 1000 / max(length, 200)
    penalty = per_thousand * (
        0.005 * report.pinyin_tags + 0.1 * report.lost_punctuation + 0.2 * report.mojibake
    )
    return round(max(0.0, 1.0 - penalty), 3)
