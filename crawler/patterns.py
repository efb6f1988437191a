"""A static check of a seed's URL pattern for catastrophic backtracking.

Python's regex engine backtracks: ``^/(a+)+$`` against a long path of a's followed by one other
character tries every way of splitting the a's, and a crawl matching links against it hangs.
The danger has a shape that the parsed pattern shows: a repeat without an upper bound (or with
a bound above a few) whose
body can match the same text in more than one way. Two ways are recognised, and a pattern
with either is refused: a part of variable length inside the body (another repeat, an optional
part) that nothing in the body keeps apart, and alternatives that can start with the same
character. A body is kept apart by a character it must match that the variable part cannot
(``(?:\\w+/)+`` is safe: ``\\w`` never matches ``/``)."""

from __future__ import annotations

import re
import re._parser as sre  # the parser re itself uses
from collections.abc import Iterator
from re._constants import (
    ANY,
    ASSERT,
    ASSERT_NOT,
    ATOMIC_GROUP,
    BRANCH,
    CATEGORY,
    IN,
    LITERAL,
    MAX_REPEAT,
    MAXREPEAT,
    MIN_REPEAT,
    NEGATE,
    NOT_LITERAL,
    POSSESSIVE_REPEAT,
    RANGE,
    SUBPATTERN,
)
from typing import Any

REPEATS = (MAX_REPEAT, MIN_REPEAT)
MAX_SAFE_BOUND = 2
# A class this small is compared character by character; a wider one counts as overlapping.
MAX_ENUMERATED = 256
CATEGORY_PATTERNS = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}

Node = tuple[Any, Any]


def backtracking_risk(pattern: str) -> str | None:
    """Why ``pattern`` may backtrack without end on a long URL, or None when it cannot."""
    return _risk(list(sre.parse(pattern)))


def _risk(nodes: list[Node]) -> str | None:
    for op, av in nodes:
        # A bounded repeat of an ambiguous body is as bad once the bound is more than a few:
        # ``(.*a){20}`` tries on the order of n**20 splits.
        if op in REPEATS and (av[1] == MAXREPEAT or av[1] > MAX_SAFE_BOUND):
            body = list(av[2])
            reason = _ambiguous(body)
            if reason:
                return reason
        for child in _children(op, av):
            reason = _risk(child)
            if reason:
                return reason
    return None


def _children(op: Any, av: Any) -> Iterator[list[Node]]:
    if op in (*REPEATS, POSSESSIVE_REPEAT):
        yield list(av[2])
    elif op == SUBPATTERN:
        yield list(av[3])
    elif op == BRANCH:
        yield from (list(b) for b in av[1])
    elif op in (ASSERT, ASSERT_NOT):
        yield list(av[1])
    elif op == ATOMIC_GROUP:
        yield list(av)


def _ambiguous(body: list[Node]) -> str | None:
    """Why the body of an unbounded repeat can match one text in several ways, or None."""
    separators = [node for node in _sequence(body) if node[0] in (LITERAL, NOT_LITERAL, IN, ANY)]
    for op, av in _descendants(body):
        if op == BRANCH:
            firsts = [_first(list(b)) for b in av[1]]
            if any(not branch for branch in av[1]):
                variable: list[Node] = [n for b in av[1] for n in _descendants(list(b))]
            elif any(_overlap(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :]):
                return "alternatives that can start alike under a repeat"
            else:
                continue
        elif op in REPEATS and av[1] > av[0]:
            variable = list(_descendants(list(av[2])))
        else:
            continue
        atoms = [n for n in variable if n[0] in (LITERAL, NOT_LITERAL, IN, ANY)]
        if not any(_disjoint(s, atoms) for s in separators):
            return "nested quantifiers: a part of variable length that nothing keeps apart"
    return None


def _sequence(nodes: list[Node]) -> Iterator[Node]:
    """The nodes a match must pass through in order, through plain groups."""
    for op, av in nodes:
        if op == SUBPATTERN:
            yield from _sequence(list(av[3]))
        else:
            yield op, av


def _descendants(nodes: list[Node]) -> Iterator[Node]:
    for op, av in nodes:
        yield op, av
        for child in _children(op, av):
            yield from _descendants(child)


def _first(nodes: list[Node]) -> list[Node]:
    """The atoms that can match the first character of ``nodes`` (all of them if unsure)."""
    for op, av in _sequence(nodes):
        if op in (LITERAL, NOT_LITERAL, IN, ANY):
            return [(op, av)]
        if op in (*REPEATS, POSSESSIVE_REPEAT):
            inner = _first(list(av[2]))
            return inner if av[0] > 0 else [(ANY, None)]
        return [(ANY, None)]
    return [(ANY, None)]


def _overlap(first: list[Node], second: list[Node]) -> bool:
    return not all(_disjoint(a, second) for a in first)


def _disjoint(atom: Node, others: list[Node]) -> bool:
    """Whether no character ``atom`` matches is matched by any of ``others``."""
    chars = _characters(atom)
    if chars is not None:
        return not any(_matches(o, c) for o in others for c in chars)
    for other in others:
        listed = _characters(other)
        if listed is None or any(_matches(atom, c) for c in listed):
            return False
    return True


def _characters(atom: Node) -> list[str] | None:
    """The characters ``atom`` matches, when they are few enough to list."""
    op, av = atom
    if op == LITERAL:
        return [chr(av)]
    if op != IN or any(item_op in (NEGATE, CATEGORY) for item_op, _ in av):
        return None
    chars: list[str] = []
    for item_op, item in av:
        if item_op == LITERAL:
            chars.append(chr(item))
        elif item_op == RANGE:
            if item[1] - item[0] > MAX_ENUMERATED:
                return None
            chars.extend(chr(c) for c in range(item[0], item[1] + 1))
    return chars


def _matches(atom: Node, char: str) -> bool:
    op, av = atom
    if op == LITERAL:
        return char == chr(av)
    if op == NOT_LITERAL:
        return char != chr(av)
    if op == ANY:
        return char != "\n"
    matched = False
    negated = False
    for item_op, item in av:
        if item_op == NEGATE:
            negated = True
        elif item_op == LITERAL:
            matched |= char == chr(item)
        elif item_op == RANGE:
            matched |= item[0] <= ord(char) <= item[1]
        elif item_op == CATEGORY:
            matched |= bool(re.match(CATEGORY_PATTERNS.get(str(item), "."), char))
    return matched != negated
