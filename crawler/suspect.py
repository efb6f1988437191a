"""Whether a fetch of a stored article went bad, rather than the article changing. Pure: two
texts with their extraction scores in, a reason or None out.

A page cut short, served in the wrong charset, or replaced by an error page still "changes"
the body: stored, it would become a new version and an alert, and the next good fetch a
second one that undoes it. Real edits (a sentence changed, a paragraph added or dropped) keep
most of the text and all of its soundness; each rule below looks for what they never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.clean.script import MOJIBAKE
from crawler.text import CJK, FULL_STOPS, SEMICOLONS, SPACE_RUN

# A body that keeps under this share of its stored length was cut or emptied: editors add and
# drop paragraphs, the demo's and real portals' revisions keep well over 80% of the text.
MIN_KEPT_SHARE = 0.5
# Replacement characters, mojibake and bad bytes per thousand characters, over the stored
# body's: one bad byte in a template is noise, a damaged fetch has dozens.
MAX_NEW_DAMAGE_PER_THOUSAND = 5.0
# The extractor's quality score (1.0 sound) may fall this much before the fetch is doubted.
MAX_QUALITY_DROP = 0.25
# The share of Chinese characters in the body may fall this much (a page read in a Western
# charset, or an English error page in its place).
MAX_CJK_SHARE_DROP = 0.25
# A page read in the wrong Chinese charset is Chinese characters still, but rare ones that
# the stored text never used; an edit, even a whole new paragraph, uses mostly the same ones.
MIN_KNOWN_CHAR_SHARE = 0.5
# How a paragraph ends, closing quotes and brackets included.
SENTENCE_ENDS = FULL_STOPS + SEMICOLONS + "”’」』）)"


@dataclass(frozen=True)
class Body:
    """An article's body as the rule compares it: as stored, or as fetched now."""

    text: str
    quality: float = 1.0
    flags: tuple[str, ...] = ()

    @property
    def chars(self) -> str:
        return SPACE_RUN.sub("", self.text)

    @property
    def damage(self) -> int:
        """Characters the decoding or a conversion broke: the more of mojibake matches and
        the bad bytes the decoder counted (each became a replacement character)."""
        bad_bytes = sum(
            int(count or 0)
            for kind, _, count in (flag.partition(":") for flag in self.flags)
            if kind == "bad_bytes"
        )
        return max(len(MOJIBAKE.findall(self.text)), bad_bytes)


def suspect_change(stored: Body, fetched: Body | None, held_before: bool = False) -> str | None:
    """Why ``fetched`` (None: the page held no article) looks like a bad fetch of the stored
    article rather than an edit of it, as the line its fetch records; None for a real change.

    A sound body that is only much shorter, or ends mid-paragraph, may be the page as its
    editors cut it: held once, it is taken as the new text when the very same body comes
    again on a later run (``held_before``). A damaged body is held however often it comes."""
    if fetched is None:
        return f"suspect: no article in the page any more (stored: {len(stored.chars)} characters)"
    old, new = stored.chars, fetched.chars
    reasons = []
    damaged = _damage_reasons(stored, fetched)
    if len(new) < MIN_KEPT_SHARE * len(old):
        reasons.append(f"body {len(old)} → {len(new)} characters")
    if _cut_off(stored.text, fetched.text):
        reasons.append("cut off mid-paragraph")
    if held_before and not damaged:
        return None
    reasons += damaged
    return f"suspect: text quality dropped ({'; '.join(reasons)})" if reasons else None


def _damage_reasons(stored: Body, fetched: Body) -> list[str]:
    """What broke in ``fetched``: bad characters, a lower quality score, fewer Chinese ones,
    or Chinese characters the stored text never used (a page read in the wrong charset)."""
    old, new = stored.chars, fetched.chars
    reasons = []
    old_damage, new_damage = _per_thousand(stored.damage, old), _per_thousand(fetched.damage, new)
    if new_damage - old_damage > MAX_NEW_DAMAGE_PER_THOUSAND:
        reasons.append(f"{fetched.damage} replacement or mojibake characters")
    if stored.quality - fetched.quality > MAX_QUALITY_DROP:
        reasons.append(f"quality {stored.quality:.2f} → {fetched.quality:.2f}")
    old_cjk, new_cjk = _cjk_share(old), _cjk_share(new)
    if old_cjk - new_cjk > MAX_CJK_SHARE_DROP:
        reasons.append(f"Chinese characters {old_cjk:.0%} → {new_cjk:.0%} of the body")
    known = set(old)
    new_cjk_chars = _CJK_CHAR.findall(new)
    if new_cjk_chars and old_cjk:
        share = sum(c in known for c in new_cjk_chars) / len(new_cjk_chars)
        if share < MIN_KNOWN_CHAR_SHARE:
            reasons.append(f"only {share:.0%} of its Chinese characters occur in the stored body")
    return reasons


_CJK_CHAR = re.compile(f"[{CJK}]")


def _cut_off(stored: str, fetched: str) -> bool:
    """Whether ``fetched`` ends inside a paragraph of ``stored``: its last line is the start of
    a longer stored line and ends mid-sentence. An edit that drops sentences ends on a stop."""
    lines = fetched.strip().splitlines()
    # A character cut in two at the very end was read as a replacement character.
    last = lines[-1].strip().rstrip("\ufffd") if lines else ""
    if not last or last.endswith(tuple(SENTENCE_ENDS)):
        return False
    return any(
        line.strip().startswith(last) and len(line.strip()) > len(last)
        for line in stored.splitlines()
    )


def _per_thousand(count: int, text: str) -> float:
    return 1000 * count / max(len(text), 1)


def _cjk_share(text: str) -> float:
    return len(_CJK_CHAR.findall(text)) / max(len(text), 1)
