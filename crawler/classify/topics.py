"""Topics (TAXONOMY.md §2): which subjects an article substantively covers, and the sentence
that shows each. Pure.

The cue words and their weights are data (``data/taxonomy.toml``), extended by users' files.
All cues of all topics are one Aho-Corasick automaton, so tagging is one pass over the text
and needs no segmentation. A topic is tagged when its cues add up to its threshold over at
least ``min_mentions`` mentions, and three rules keep passing mentions out: one sentence adds
at most ``sentence_cap`` (a list such as "交通、医疗、教育等领域" is one mention, not coverage);
the k-th use of one cue adds 1/k of its weight (a word repeated is less than several words);
and a longer article needs more (the threshold grows with the square root of its length past
``reference_chars``). Cues in the title count ``title_bonus`` times. Evidence is quoted from
the Simplified text.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ahocorasick_rs import AhoCorasick, MatchKind

from crawler.clean.script import to_simplified
from crawler.files import read_text
from crawler.paths import package_path
from crawler.text import ASCII_STOPS, FULL_STOPS, Spans

SHIPPED = package_path("classify", "data", "taxonomy.toml")
TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Sentences end at full stops, question and exclamation marks and line breaks; semicolons and
# commas stay inside, so the evidence is a whole statement.
SENTENCE_END = re.compile(f"[{FULL_STOPS}{ASCII_STOPS}\n]+")
SENTENCE_MARKS = f"{FULL_STOPS}{ASCII_STOPS} \n\t"  # what is left of a sentence that has no words
# A cue that starts or ends with a Latin letter or digit must not run on into another: GPT is
# not a cue inside GPTs, nor 12345 inside 123456.
LATIN_OR_DIGIT = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# A cue next to an enumeration comma is one item of a list (交通、医疗、教育等领域).
LIST_MARKS = frozenset("、")
# Evidence longer than this (a page that lost its punctuation) is cut around the cue.
MAX_EVIDENCE = 200
# Full-width letters, digits and plus (ＡＩ＋, ＧＰＴ, １２３４５) are matched as ASCII: pages use
# both. Full-width punctuation (，（）) is left alone: no cue has it, and it is in every text.
FULL_WIDTH = {ord(c): ord(c) - 0xFEE0 for c in "＋０１２３４５６７８９"} | {
    c: c - 0xFEE0 for r in ((0xFF21, 0xFF3B), (0xFF41, 0xFF5B)) for c in range(*r)
}
FULL_WIDTH_CHAR = re.compile("[＋０-９Ａ-Ｚａ-ｚ]")


@dataclass(frozen=True)
class TopicTag:
    """A topic an article covers: its id, how strongly (1.0 = just enough), and why."""

    topic: str
    score: float
    evidence: str


@dataclass(frozen=True)
class Topic:
    """One topic of the taxonomy: cue phrases and regexes, each with a weight."""

    id: str
    name: str
    threshold: float
    min_mentions: int
    cues: Mapping[str, float]
    patterns: Mapping[str, float]


@dataclass(frozen=True)
class Scoring:
    """How cue weights add up to a tag (the ``[scoring]`` table)."""

    threshold: float
    min_mentions: int
    brief_sentences: int
    sentence_cap: float
    list_weight: float
    title_bonus: float
    reference_chars: int


@dataclass(frozen=True, eq=False)  # one object per load: hashable, usable as a cache key
class Taxonomy:
    """Topics with their cues, compiled once: one automaton for all cues, regexes for patterns."""

    topics: tuple[Topic, ...]
    scoring: Scoring
    mask: frozenset[str]
    _cues: AhoCorasick = field(init=False, repr=False, compare=False)
    # For each cue of the automaton, by its index: the cue, its (topic, weight) pairs, and
    # whether it starts, and ends, with a Latin letter or digit.
    _cue_hits: tuple[tuple[str, tuple[tuple[int, float], ...], bool, bool], ...] = field(
        init=False, repr=False, compare=False
    )
    _patterns: tuple[tuple[re.Pattern[str], int, float], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[str, list[tuple[int, float]]] = {_fold(m): [] for m in self.mask}
        for n, topic in enumerate(self.topics):
            for cue, weight in topic.cues.items():
                index.setdefault(_fold(cue), []).append((n, weight))
        # Aho-Corasick finds every cue in one pass over the text, longest first at each place,
        # so a masked phrase (数据显示) or a longer cue (智算中心) hides the shorter one inside.
        automaton = AhoCorasick(list(index), matchkind=MatchKind.LeftmostLongest)
        hits = tuple(
            (c, tuple(h), c[0] in LATIN_OR_DIGIT, c[-1] in LATIN_OR_DIGIT) for c, h in index.items()
        )
        patterns = tuple(
            (re.compile(p), n, w) for n, t in enumerate(self.topics) for p, w in t.patterns.items()
        )
        object.__setattr__(self, "_cues", automaton)
        object.__setattr__(self, "_cue_hits", hits)
        object.__setattr__(self, "_patterns", patterns)


class TaxonomyError(ValueError):
    """A taxonomy file is invalid: its problems, each naming the file and line, on one line."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def tag_topics(
    text: str, title: str | None = None, taxonomy: Taxonomy | None = None
) -> tuple[TopicTag, ...]:
    """The topics ``text`` substantively covers, strongest first, each with its best sentence."""
    tax = taxonomy or default_taxonomy()
    rules = tax.scoring
    text = to_simplified(text)
    ends = [m.end() for m in SENTENCE_END.finditer(text)]
    # (topic, sentence) → summed cue weight, and where its first cue sits.
    cells: dict[tuple[int, int], float] = {}
    first: dict[tuple[int, int], int] = {}
    mentions: dict[int, int] = {}
    # The k-th use of one cue adds weight / k: a word repeated is less than several words.
    uses: dict[tuple[int, str], int] = {}
    for start, end, cue, n, weight in _hits(tax, text):
        if text[end : end + 1] in LIST_MARKS or text[start - 1 : start] in LIST_MARKS:
            weight *= rules.list_weight
        cell = (n, bisect_right(ends, start))
        k = uses[n, cue] = uses.get((n, cue), 0) + 1
        if cell in cells:
            cells[cell] += weight / k
        else:
            cells[cell], first[cell] = weight / k, start
        mentions[n] = mentions.get(n, 0) + 1
    scores: dict[int, float] = {}
    best: dict[int, tuple[int, int]] = {}  # topic → its weightiest sentence (the first of equals)
    for cell, weight in cells.items():
        n = cell[0]
        scores[n] = scores.get(n, 0.0) + min(rules.sentence_cap, weight)
        if n not in best or weight > cells[best[n]]:
            best[n] = cell
    in_title: dict[int, float] = {}
    for _, _, _, n, weight in _hits(tax, to_simplified(title)) if title else ():
        in_title[n] = in_title.get(n, 0.0) + weight
        mentions[n] = mentions.get(n, 0) + 1
    for n, weight in in_title.items():
        scores[n] = scores.get(n, 0.0) + min(rules.sentence_cap, weight) * rules.title_bonus

    bounds = zip([0, *ends], [*ends, len(text)], strict=True)
    sentences = max(1, sum(1 for a, b in bounds if text[a:b].strip(SENTENCE_MARKS)))
    if sentences < rules.brief_sentences:
        # A brief (快讯) of two sentences: each is half of it, and one mention is coverage.
        scale = sentences / rules.brief_sentences
    else:
        scale = max(1.0, math.sqrt(len(text) / rules.reference_chars))
    tags = []
    for n, score in scores.items():
        topic = tax.topics[n]
        needed = topic.threshold * scale
        if score < needed or mentions[n] < math.ceil(topic.min_mentions * min(1.0, scale)):
            continue
        evidence = _evidence(text, ends, best[n][1], first[best[n]]) if n in best else title or ""
        tags.append(TopicTag(topic.id, round(score / needed, 2), evidence))
    return tuple(sorted(tags, key=lambda t: (-t.score, t.topic)))


@cache
def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy, loaded once."""
    return load_taxonomy()


def load_taxonomy(*paths: Path | str) -> Taxonomy:
    """The shipped taxonomy extended by ``paths`` in order (new cues, topics, weights)."""
    data: dict[str, Any] = {"scoring": {}, "mask": set(), "topics": {}}
    for path in (SHIPPED, *paths):
        _merge(data, _checked(Path(path), known_topics=set(data["topics"])))
    scoring = Scoring(**{key: kind(data["scoring"][key]) for key, kind in SCORING_KEYS.items()})
    topics = tuple(
        Topic(
            id=topic_id,
            name=entry["name"],
            threshold=float(entry.get("threshold", scoring.threshold)),
            min_mentions=int(entry.get("min_mentions", scoring.min_mentions)),
            # A weight of 0 is how a user's file removes a shipped cue.
            cues={c: float(w) for c, w in entry["cues"].items() if w},
            patterns={p: float(w) for p, w in entry["patterns"].items() if w},
        )
        for topic_id, entry in data["topics"].items()
    )
    return Taxonomy(topics, scoring, frozenset(data["mask"]))


SCORING_KEYS: dict[str, type] = {
    "threshold": float,
    "min_mentions": int,
    "brief_sentences": int,
    "sentence_cap": float,
    "list_weight": float,
    "title_bonus": float,
    "reference_chars": int,
}
TOP_KEYS = ("scoring", "mask", "topics")
TOPIC_KEYS = ("name", "threshold", "min_mentions", "cues", "patterns")


def _merge(data: dict[str, Any], raw: dict[str, Any]) -> None:
    """Fold one checked file into what the files before it said."""
    data["scoring"].update(raw.get("scoring", {}))
    data["mask"].update(raw.get("mask", []))
    for topic_id, entry in raw.get("topics", {}).items():
        merged = data["topics"].setdefault(topic_id, {"cues": {}, "patterns": {}})
        merged.update({k: v for k, v in entry.items() if k not in ("cues", "patterns")})
        merged["cues"].update(entry.get("cues", {}))
        merged["patterns"].update(entry.get("patterns", {}))


def _checked(path: Path, known_topics: set[str]) -> dict[str, Any]:
    """One taxonomy file's contents, or a TaxonomyError naming the file for each problem."""
    try:
        text = read_text(path)
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TaxonomyError([f"{path}: cannot read taxonomy file: {exc}"]) from exc
    check = _Check(path, text.splitlines())
    check.keys(raw, TOP_KEYS, None)
    scoring, topics = raw.get("scoring", {}), raw.get("topics", {})
    if check.table(scoring, "scoring"):
        check.keys(scoring, SCORING_KEYS, "scoring")
        for key, kind in SCORING_KEYS.items():
            if key in scoring and not _positive(scoring[key], kind):
                whole = "a whole number" if kind is int else "a number"
                check.problem(f"[scoring] {key!r} must be {whole} > 0", key, "scoring")
    mask = raw.get("mask", [])
    if not (isinstance(mask, list) and all(isinstance(m, str) and m for m in mask)):
        check.problem("'mask' must be a list of phrases", "mask")
    if check.table(topics, "topics"):
        for topic_id, entry in topics.items():
            check.topic(topic_id, entry, topic_id in known_topics)
    if check.problems:
        raise TaxonomyError(check.problems)
    return raw


@dataclass
class _Check:
    """The problems found in one taxonomy file, each pointing at a line of it."""

    path: Path
    lines: list[str]
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str, key: str | None = None, table: str | None = None) -> None:
        self.problems.append(f"{self.path}:{self._line_of(key, table)}: {message}")

    def keys(self, entry: Mapping[str, object], known: Iterable[str], table: str | None) -> None:
        where = f"in [{table}]" if table else "at the top level"
        for key in sorted(set(entry) - set(known)):
            hint = difflib.get_close_matches(key, list(known), n=1)
            also = f" (did you mean {hint[0]!r}?)" if hint else ""
            self.problem(f"unknown key {key!r} {where}{also}", key, table)

    def table(self, value: object, name: str) -> bool:
        if not isinstance(value, dict):
            self.problem(
                f"'{name}' must be a table", name.rsplit(".", 1)[-1], name.rpartition(".")[0]
            )
        return isinstance(value, dict)

    def topic(self, topic_id: str, entry: object, known: bool) -> None:
        table = f"topics.{topic_id}"
        if not TOPIC_ID.match(topic_id):
            self.problem(f"[{table}]: topic ids are lowercase letters, digits and '_'", None, table)
        if not self.table(entry, table):
            return
        assert isinstance(entry, dict)
        self.keys(entry, TOPIC_KEYS, table)
        if "name" in entry and not isinstance(entry["name"], str):
            self.problem(f"[{table}]: 'name' must be a string", "name", table)
        if not known and ("name" not in entry or not (entry.get("cues") or entry.get("patterns"))):
            self.problem(
                f"[{table}]: a new topic needs a 'name' and 'cues' or 'patterns'", None, table
            )
        for key, number in (("threshold", float), ("min_mentions", int)):
            if key in entry and not _positive(entry[key], number):
                whole = "a whole number" if number is int else "a number"
                self.problem(f"[{table}]: {key!r} must be {whole} > 0", key, table)
        for kind in ("cues", "patterns"):
            cues = entry.get(kind, {})
            if self.table(cues, f"{table}.{kind}"):
                for cue, weight in cues.items():
                    self.cue(f"{table}.{kind}", cue, weight)

    def cue(self, table: str, cue: str, weight: object) -> None:
        if not cue.strip():
            self.problem(f"[{table}]: an empty cue", None, table)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            self.problem(f"[{table}]: weight of {cue!r} must be a number ≥ 0", cue, table)
        if table.endswith(".patterns"):
            try:
                re.compile(cue)
            except re.error as exc:
                self.problem(f"[{table}]: bad pattern {cue!r}: {exc}", cue, table)

    def _line_of(self, key: str | None, table: str | None) -> int:
        """The line that sets ``key`` in ``table``, or opens ``table`` (tomllib keeps no
        positions, so the text is searched); 1 when neither is found."""
        start = 0
        if table:
            header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
            start = next((n for n, line in enumerate(self.lines) if header.match(line)), 0)
        if key is None:
            return start + 1
        k = re.escape(key)
        sets = re.compile(rf"""^\s*(?:{k}|"{k}"|'{k}')\s*=""")
        lines = enumerate(self.lines[start:], start + 1)
        return next((n for n, line in lines if sets.match(line)), start + 1)


def _positive(value: object, kind: type) -> bool:
    kinds = (int,) if kind is int else (int, float)
    return not isinstance(value, bool) and isinstance(value, kinds) and value > 0


def _fold(cue: str) -> str:
    """The form a cue is stored in: ASCII for full-width forms, lowercase."""
    return cue.translate(FULL_WIDTH).lower()


def _folded(text: str) -> str:
    """``text`` in the form cues are stored in, keeping every character at its place."""
    if FULL_WIDTH_CHAR.search(text):
        text = text.translate(FULL_WIDTH)
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text


def _hits(tax: Taxonomy, text: str) -> list[tuple[int, int, str, int, float]]:
    """Each cue and pattern found in ``text``, in order: where, which, its topic and weight.

    A cue inside a pattern's match for the same topic is part of that mention, not a second
    one: 《逃犯条例》 is one mention of a policy, not a title plus 条例.
    """
    found = []
    spans: dict[int, list[tuple[int, int]]] = {}
    for pattern, n, weight in tax._patterns:
        for m in pattern.finditer(text):
            spans.setdefault(n, []).append(m.span())
            found.append((m.start(), m.end(), pattern.pattern, n, weight))
    # Each cue hit was compared with every match of its topic's patterns: 90 s of the 97 a
    # 6 MB page took to tag.
    covers = {n: Spans(s) for n, s in spans.items()}
    for i, start, end in tax._cues.find_matches_as_indexes(folded := _folded(text)):
        cue, hits, latin_start, latin_end = tax._cue_hits[i]
        if (latin_start and folded[start - 1 : start] in LATIN_OR_DIGIT) or (
            latin_end and folded[end : end + 1] in LATIN_OR_DIGIT
        ):
            continue
        for n, weight in hits:
            if n not in covers or not covers[n].overlaps(start, start + 1):
                found.append((start, end, cue, n, weight))
    return sorted(found)


def _evidence(text: str, ends: list[int], sentence: int, cue: int) -> str:
    """The sentence, cut around the cue at ``cue`` when it is too long to read at a glance."""
    start = ends[sentence - 1] if sentence else 0
    end = ends[sentence] if sentence < len(ends) else len(text)
    whole = text[start:end].strip()
    if len(whole) <= MAX_EVIDENCE:
        return whole
    left = max(start, cue - MAX_EVIDENCE // 2)
    right = min(end, left + MAX_EVIDENCE)
    return ("…" if left > start else "") + text[left:right].strip() + ("…" if right < end else "")
