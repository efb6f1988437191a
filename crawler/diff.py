"""Diffs of Chinese article text: by sentence, and inside an edited sentence by character. Pure.

Chinese has no spaces between words, so a word diff sees one long "word" per sentence. A
diff here aligns sentences (split after 。！？；), pairs each edited sentence with its old
form, and marks only the characters that changed inside it: "超过10亿元" → "超过12亿元"
shows as 1〖-0-〗〖+2+〗亿元, not as two whole sentences.

Each change records where it starts in the old text, so a stored diff turns the old text
back into the new one (:func:`apply_diff`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import accumulate
from typing import Any

from crawler.text import ASCII_STOPS, FULL_STOPS, SEMICOLONS

INSERT, DELETE, REPLACE, EQUAL = "insert", "delete", "replace", "equal"
KINDS = (INSERT, DELETE, REPLACE)
JSON_VERSION = 1

# Line breaks as str.splitlines knows them, so a "line" means the same everywhere.
LINE_BREAK = r"(?:\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029])"
# A sentence ends after its terminators, the closing quotes and brackets that follow them
# (“……好用。”), the spaces after them, and its line breaks; or at a line break alone.
SENTENCE_END = re.compile(
    rf"[{FULL_STOPS}{ASCII_STOPS}{SEMICOLONS}]+[”’」』）)】》〉\]]*[ \t\u3000]*{LINE_BREAK}*"
    rf"|{LINE_BREAK}+"
)
LINE_BREAKS = re.compile(LINE_BREAK)
TRAILING_BREAKS = re.compile(rf"{LINE_BREAK}+\Z")

# Sentences of a changed block are paired as old and new forms of one sentence when they
# share at least this share of their character bigrams (Dice); the rest are inserts and
# deletes. Half keeps a sentence with a changed figure or clause as one edited sentence.
PAIR_SIMILARITY = 0.5
# Pairing compares every old sentence of a block with every new one; a block larger than
# this (a rewritten article) is shown as one replacement.
MAX_PAIRING_CELLS = 40_000
# A character diff compares the changed middles of two sentences; beyond this many
# characters (a whole body without punctuation) the middle is shown as replaced outright.
MAX_CHAR_DIFF = 4_000

# A sentence that kept less than this share of its characters was rewritten, not edited:
# it shows as old and new sentence, without marks scattered over the few shared characters.
MIN_KEPT_SHARE = (1, 3)
# Marks for a changed span inside a sentence. 〖〗 rarely occur in news text, unlike 〔〕
# (document numbers: 深府办〔2023〕12号) and 【】 (【新华社】 datelines).
TEXT_MARKS = {DELETE: ("〖-", "-〗"), INSERT: ("〖+", "+〗")}
HTML_STYLE = {
    DELETE: "background:#ffe0e0;color:#a00000",
    INSERT: "background:#dcf5dc;color:#005a00;text-decoration:none",
}
# Whitespace inside a changed span is shown, or an added blank line would look like nothing.
VISIBLE_BREAK, VISIBLE_TAB, VISIBLE_SPACE = "↵", "⇥", "␣"
VISIBLE_RUN = re.compile(rf"(?P<br>{LINE_BREAK})|(?P<tab>\t)|\s")


def split_sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end and line break; the pieces join back to ``text``."""
    sentences = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        sentences.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        sentences.append(text[start:])
    return sentences


@dataclass(frozen=True)
class Change:
    """One changed run of sentences: ``old`` (at offset ``at`` of the old text) became ``new``."""

    kind: str  # "insert" | "delete" | "replace"
    old: str  # the old sentence(s); "" for an insert
    new: str  # the new sentence(s); "" for a delete
    # For a replace, ("equal" | "insert" | "delete", text) turning old into new; () otherwise.
    chars: tuple[tuple[str, str], ...]
    at: int  # where ``old`` starts (for an insert: where ``new`` goes) in the old text

    def to_json(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "kind": self.kind,
            "at": self.at,
            "old": self.old,
            "new": self.new,
        }
        if self.chars:
            record["chars"] = [list(op) for op in self.chars]
        return record

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        kind, at, old, new = data["kind"], data["at"], data.get("old", ""), data.get("new", "")
        chars = tuple((op, text) for op, text in data.get("chars", ()))
        if any(
            op not in (EQUAL, INSERT, DELETE) or not isinstance(text, str) for op, text in chars
        ):
            raise ValueError(f"not character ops: {chars!r}")
        if kind not in KINDS or not isinstance(at, int) or at < 0:
            raise ValueError(f"not a change: {dict(data)!r}")
        if not isinstance(old, str) or not isinstance(new, str):
            raise ValueError(f"not a change: {dict(data)!r}")
        if (kind == INSERT and old) or (kind == DELETE and new) or not (old or new):
            raise ValueError(f"not a change: {dict(data)!r}")
        if chars and (_side(chars, DELETE) != old or _side(chars, INSERT) != new):
            raise ValueError(f"character ops do not turn {old!r} into {new!r}")
        return cls(kind, old, new, chars, at)


@dataclass(frozen=True)
class TextDiff:
    """What changed between two versions of a text, in order; empty when nothing did."""

    changes: tuple[Change, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for ``json.dumps(..., ensure_ascii=False)``)."""
        return {"version": JSON_VERSION, "changes": [change.to_json() for change in self.changes]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TextDiff:
        """The diff that :meth:`to_json` stored; ValueError when ``data`` is not one."""
        if data.get("version") != JSON_VERSION:
            raise ValueError(f"unknown diff version: {data.get('version')!r}")
        try:
            return cls(tuple(Change.from_json(change) for change in data["changes"]))
        except (AttributeError, KeyError, TypeError) as error:
            raise ValueError(f"not a diff: {error}") from error


def diff_texts(old: str, new: str) -> TextDiff:
    """The sentences that changed from ``old`` to ``new``, with the characters that changed."""
    a, b = split_sentences(old), split_sentences(new)
    offsets = [0, *accumulate(map(len, a))]
    changes: list[Change] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == EQUAL:
            continue
        if tag == REPLACE:
            for (k1, k2), (l1, l2) in _align(a[i1:i2], b[j1:j2]):
                changes.append(_change(a, b, offsets, i1 + k1, i1 + k2, j1 + l1, j1 + l2))
        else:
            changes.append(_change(a, b, offsets, i1, i2, j1, j2))
    return TextDiff(tuple(changes))


def apply_diff(old: str, diff: TextDiff) -> str:
    """``old`` with ``diff`` applied: the new text; ValueError when made from another text."""
    parts = []
    done = 0
    for change in diff.changes:
        end = change.at + len(change.old)
        if change.at < done or old[change.at : end] != change.old:
            raise ValueError(f"the diff does not apply: no {change.old!r} at {change.at}")
        parts += [old[done : change.at], change.new]
        done = end
    parts.append(old[done:])
    return "".join(parts)


def render_text(diff: TextDiff) -> str:
    """The changes for a terminal or a text email: "- old", "+ new", "~ " the edit marked."""
    blocks = []
    for change in diff.changes:
        lines = []
        if change.old:
            lines += _prefixed("- ", _shown(change.old))
        if change.new:
            lines += _prefixed("+ ", _shown(change.new))
        if _is_edit(change):
            marked = "".join(
                LINE_BREAKS.sub(VISIBLE_BREAK, text)
                if op == EQUAL
                else TEXT_MARKS[op][0] + _in_mark(text) + TEXT_MARKS[op][1]
                for op, text in _trimmed(change.chars)
            )
            lines += _prefixed("~ ", marked)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def render_html(diff: TextDiff) -> str:
    """The changes as HTML (inline styles, for email): removed text in <del>, added in <ins>."""
    blocks = []
    for change in diff.changes:
        if _is_edit(change):
            body = "".join(
                _html_text(text) if op == EQUAL else _html_mark(op, _in_mark(text))
                for op, text in _trimmed(change.chars)
            )
            blocks.append(f'<p class="diff-replace">{body}</p>')
            continue
        for op, text in ((DELETE, change.old), (INSERT, change.new)):
            if text:
                blocks.append(f'<p class="diff-{op}">{_html_mark(op, _shown(text))}</p>')
    return '<div class="diff">\n' + "\n".join(blocks) + "\n</div>" if blocks else ""


def _change(
    a: Sequence[str], b: Sequence[str], offsets: Sequence[int], i1: int, i2: int, j1: int, j2: int
) -> Change:
    old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
    if old and new:
        return Change(REPLACE, old, new, _char_ops(old, new), offsets[i1])
    return Change(INSERT if new else DELETE, old, new, (), offsets[i1])


def _align(old: Sequence[str], new: Sequence[str]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """A replaced block cut into runs: each edited sentence alone, unmatched ones together.

    Pairs old and new sentences alike enough to be one sentence edited (most shared bigrams
    in order); each run is ((old start, old end), (new start, new end)).
    """
    m, n = len(old), len(new)
    if m * n > MAX_PAIRING_CELLS or m * n == 1:
        return [((0, m), (0, n))]
    grams_old, grams_new = [_bigrams(s) for s in old], [_bigrams(s) for s in new]
    score = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(m - 1, -1, -1):
        for j in range(n - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            alike = _dice(grams_old[i], grams_new[j])
            if alike >= PAIR_SIMILARITY:
                best = max(best, score[i + 1][j + 1] + alike)
            score[i][j] = best
    runs = []
    i = j = start_i = start_j = 0
    while i < m or j < n:
        if i < m and j < n:
            alike = _dice(grams_old[i], grams_new[j])
            if alike >= PAIR_SIMILARITY and score[i][j] == score[i + 1][j + 1] + alike:
                if (start_i, start_j) != (i, j):
                    runs.append(((start_i, i), (start_j, j)))
                runs.append(((i, i + 1), (j, j + 1)))
                i, j = start_i, start_j = i + 1, j + 1
                continue
        if j == n or (i < m and score[i][j] == score[i + 1][j]):
            i += 1
        else:
            j += 1
    if (start_i, start_j) != (m, n):
        runs.append(((start_i, m), (start_j, n)))
    return runs


def _bigrams(sentence: str) -> frozenset[str]:
    text = sentence.strip()
    if len(text) < 2:
        return frozenset(text or sentence)
    return frozenset(text[k : k + 2] for k in range(len(text) - 1))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def _char_ops(old: str, new: str) -> tuple[tuple[str, str], ...]:
    """Character ops turning ``old`` into ``new``: few, readable spans, never a lone "的"."""
    prefix = _common_prefix(old, new)
    suffix = _common_prefix(old[prefix:][::-1], new[prefix:][::-1])
    middle_old, middle_new = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    ops: list[tuple[str, str]] = [(EQUAL, old[:prefix])]
    if len(middle_old) + len(middle_new) > MAX_CHAR_DIFF or not (middle_old and middle_new):
        ops += [(DELETE, middle_old), (INSERT, middle_new)]
    else:
        matcher = SequenceMatcher(None, middle_old, middle_new, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in (EQUAL, DELETE, REPLACE):
                ops.append((EQUAL if tag == EQUAL else DELETE, middle_old[i1:i2]))
            if tag in (INSERT, REPLACE):
                ops.append((INSERT, middle_new[j1:j2]))
    ops.append((EQUAL, old[len(old) - suffix :]))
    ops = _without_chaff(_merged(ops))
    kept = sum(len(text) for op, text in ops if op == EQUAL)
    if kept * MIN_KEPT_SHARE[1] < max(len(old), len(new)) * MIN_KEPT_SHARE[0]:
        return ((DELETE, old), (INSERT, new))
    return tuple(ops)


def _common_prefix(a: str, b: str) -> int:
    size = min(len(a), len(b))
    if a[:size] == b[:size]:
        return size
    low, high = 0, size  # a[:low] == b[:low] and a[:high] != b[:high]
    while high - low > 1:
        mid = (low + high) // 2
        low, high = (mid, high) if a[:mid] == b[:mid] else (low, mid)
    return low


def _merged(ops: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Ops without empty spans, each run of edits as one delete then one insert."""
    merged: list[tuple[str, str]] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed:
            merged.append((DELETE, "".join(removed)))
        if added:
            merged.append((INSERT, "".join(added)))
        removed.clear()
        added.clear()

    for op, text in ops:
        if not text:
            continue
        if op == EQUAL:
            flush()
            if merged and merged[-1][0] == EQUAL:
                merged[-1] = (EQUAL, merged[-1][1] + text)
            else:
                merged.append((EQUAL, text))
        else:
            (removed if op == DELETE else added).append(text)
    flush()
    return merged


def _without_chaff(ops: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edits separated only by a few shared characters, as one edit.

    A rewritten clause shares stray characters (的, 和, 年) with the old one; marking each
    shared character apart cuts the edit into unreadable shreds. An equal span shorter
    than the edits on both sides of it is folded into them (after diff-match-patch).
    """
    ops = list(ops)
    changed = True
    while changed:
        changed = False
        for k, (op, text) in enumerate(ops):
            if op != EQUAL or k == 0 or k == len(ops) - 1:
                continue
            before, after = _edit_size(ops, k, -1), _edit_size(ops, k, 1)
            if before and after and len(text) < min(before, after):
                ops[k : k + 1] = [(DELETE, text), (INSERT, text)]
                ops = _merged(ops)
                changed = True
                break
    return ops


def _edit_size(ops: Sequence[tuple[str, str]], k: int, step: int) -> int:
    """The larger side (removed or added) of the edit run next to ops[k] in direction step."""
    sizes = {DELETE: 0, INSERT: 0}
    k += step
    while 0 <= k < len(ops) and ops[k][0] != EQUAL:
        sizes[ops[k][0]] += len(ops[k][1])
        k += step
    return max(sizes.values())


def _side(ops: Sequence[tuple[str, str]], op: str) -> str:
    return "".join(text for kind, text in ops if kind in (EQUAL, op))


def _is_edit(change: Change) -> bool:
    """Whether a replace is worth showing with marks: some of the sentence stayed."""
    return any(op == EQUAL for op, _ in change.chars)


def _trimmed(ops: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Ops for display: the line breaks that end an unchanged last span are not shown."""
    shown = list(ops)
    if shown and shown[-1][0] == EQUAL:
        shown[-1] = (EQUAL, TRAILING_BREAKS.sub("", shown[-1][1]))
    return shown


def _visible(text: str) -> str:
    return VISIBLE_RUN.sub(
        lambda match: (
            VISIBLE_BREAK if match["br"] else VISIBLE_TAB if match["tab"] else VISIBLE_SPACE
        ),
        text,
    )


def _in_mark(text: str) -> str:
    """A changed span: line breaks as ↵ (the marks stay on one line), all-blank spans shown."""
    return _visible(text) if not text.strip() else LINE_BREAKS.sub(VISIBLE_BREAK, text)


def _shown(text: str) -> str:
    """One side of a change: without its closing line breaks, or visible if all blank."""
    return _visible(text) if not text.strip() else TRAILING_BREAKS.sub("", text)


def _prefixed(prefix: str, text: str) -> list[str]:
    return [prefix + line for line in (text.splitlines() or [""])]


def _html_text(text: str) -> str:
    return LINE_BREAKS.sub("<br>", html.escape(text))


def _html_mark(op: str, text: str) -> str:
    tag = "del" if op == DELETE else "ins"
    return f'<{tag} style="{HTML_STYLE[op]}">{_html_text(text)}</{tag}>'
