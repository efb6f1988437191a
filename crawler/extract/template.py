"""A source's template, learned from the pages a monitor sees of it: which lines and DOM blocks
recur on most of its pages (chrome), and which block holds the body. Pure: no database.

A page is read as its leaf blocks (``<p>``, ``<li>``, a ``<div>`` with no block inside …), each
owned by its nearest element with an id or class, named by a signature: that element's tag,
id and classes and those of its two parents, digits dropped (``news_123`` is ``news_``).

- A line (a leaf's text) on most pages is chrome: ``分享到`` bars, a fixed footer line.
- A block on most pages whose text the site has shown before on other pages is chrome too:
  a related-news or recommended list drawn from a site-wide pool differs on every page, but
  each of its lines was seen elsewhere, where the body's lines are new on each page. A body
  line that a few pages repeat stays: it is neither on most pages nor in a block of repeats.
- The block that held the body on most pages is looked at first: when the generic extractor
  took something else but that block reads as an article, the block is taken.

Counts decay (a window of about :data:`WINDOW` pages), so a site that changes its chrome drifts
to the new one; a site redesigned (the learned body block missing from :data:`RELEARN_AFTER`
article pages in a row) is learned again from scratch, the generic extractor doing meanwhile.
The state is a few thousand short keys (:data:`MAX_LINES`, :data:`MAX_OWNERS`), stored per
source as JSON; what the workers need of it (:class:`Hint`) is smaller still.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from crawler.clean import Cleaned, clean_text

# Decay: a page seen WINDOW pages ago counts 1/e as much as this one.
WINDOW = 50
DECAY = 1 - 1 / WINDOW
# Nothing is dropped or preferred before this many article pages of the source were seen.
MIN_PAGES = 8
# On this share of the (decayed) pages, a line or block is the site's, not the article's.
CHROME_SHARE = 0.6
# A block is chrome when at least this share of its text was seen on an earlier page.
REPEAT_SHARE = 0.5
# A line counts as seen before from this decayed count (once, within about 35 pages).
SEEN = 0.5
# The blocks that held the body on this share of the pages each are where to look first (a
# portal may lay out its news and its documents apart), the most frequent first.
BODY_SHARE = 0.2
# Bounds of the state: lines and owners kept, the least seen dropped beyond these.
MAX_LINES = 4000
MAX_OWNERS = 800
# A page read into more leaves than this is not read for the template (a dump, a trap).
MAX_LEAVES = 5000
# A page whose body lines were seen before, more than this share of them, teaches nothing.
REVISIT_SHARE = 0.5
# Pages remembered as learned from (a revisit of one teaches nothing): their URLs' keys.
MAX_URLS = 2000
# Article pages in a row without the learned body block: the site was redesigned.
RELEARN_AFTER = 3
# A body this much shorter than the source's usual one reads as poor: the template is then
# not applied to the page (the generic extractor's body stands).
POOR = 0.3
# As crawler.extract: an article has at least a few sentences.
MIN_PROSE_CHARS = 60
# How often (in pages) the workers' hint is computed again from the counts.
HINT_EVERY = 5
# The body is located in the block holding at least this share of its located text.
BODY_HOLDS = 0.7
# The state is stored with decayed counts; scaled so that decay costs nothing per page.
RESCALE_AT = 1e6
BLOCKS = (
    "p", "div", "li", "td", "th", "dd", "dt", "dl", "ul", "ol", "table", "tbody", "tr",
    "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "aside", "header", "footer",
    "nav", "form", "blockquote", "center", "pre", "main", "figure", "figcaption",
)  # fmt: skip
NOT_TEXT = frozenset({"script", "style", "noscript", "template"})
DIGITS = re.compile(r"\d+")
SPACE = re.compile(r"\s+")


def key(text: str) -> str:
    """A short stable key of a normalized line or signature."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def normal(line: str) -> str:
    return SPACE.sub("", line)


# The signature of the leaves with no element of an id or class above them.
UNOWNED = key("")


@dataclass(frozen=True)
class Hint:
    """What a worker needs of a source's template to extract one of its pages."""

    bodies: tuple[str, ...] = ()  # signatures of the blocks that held the body
    chrome_blocks: frozenset[str] = frozenset()
    chrome_lines: frozenset[str] = frozenset()
    typical: float = 0.0  # the source's usual body length (sentence characters)


@dataclass(frozen=True)
class Observation:
    """What one page teaches the template: its lines by owning block, where its body was."""

    owners: dict[str, tuple[tuple[str, int], ...]]  # signature -> (line key, chars) …
    lines: tuple[str, ...]  # keys of the body's lines
    body: str | None  # signature of the block that held the body (None: not located)
    prose: int  # the body's sentence characters
    hit: bool  # the learned body block was on the page
    missed: bool  # a learned body block was expected and was not on the page


@dataclass
class _Leaf:
    element: Any
    text: str  # as written, spaces squeezed
    owner: Any  # the nearest ancestor (or itself) with an id or class, else None
    signature: str


class Learned:
    """A source's :class:`Hint` applied to one page inside ``extract_article``; its
    :attr:`observation` then says what the page teaches."""

    def __init__(self, hint: Hint):
        self.hint = hint
        self.observation: Observation | None = None

    def choose(self, tree: Any, title: str | None, generic: Cleaned) -> Cleaned:
        """The body of the page: ``generic`` (the generic extractor's), or the learned body
        block where ``generic`` is elsewhere, without the source's chrome."""
        leaves = _leaves(tree)
        if leaves is None:
            return generic
        by_text = {normal(leaf.text): leaf for leaf in leaves}
        generic_at = _located(generic, by_text)
        hint = self.hint
        found = (_block(leaves, sig) for sig in hint.bodies)
        block = next((element for element in found if element is not None), None)
        body, at = generic, generic_at
        poor = max(MIN_PROSE_CHARS, POOR * hint.typical)
        if block is not None and (generic_at is None or not _inside(generic_at, block)):
            learned = clean_text(_text_of(block, leaves, hint.chrome_blocks), title)
            if learned.prose >= poor:
                body, at = learned, block
        kept = _without_chrome(body, by_text, hint)
        if kept.prose >= poor or kept.prose >= POOR * body.prose:
            body = kept
        self.observation = Observation(
            owners=_owners(leaves),
            lines=tuple(key(normal(line)) for line in body.text.splitlines()),
            body=None if at is None else signature(at),
            prose=body.prose,
            hit=block is not None,
            missed=bool(hint.bodies) and block is None,
        )
        return body


def _leaves(tree: Any) -> list[_Leaf] | None:
    """The page's leaf blocks in document order (None: too many to read)."""
    leaves: list[_Leaf] = []
    for element in tree.iter(*BLOCKS):
        if next(element.iterdescendants(*BLOCKS), None) is not None:
            continue
        text = SPACE.sub(" ", "".join(_texts(element))).strip()
        if len(text) < 2:
            continue
        owner = _owner(element)
        leaves.append(_Leaf(element, text, owner, signature(owner)))
        if len(leaves) > MAX_LEAVES:
            return None
    return leaves


def _texts(element: Any) -> Iterator[str]:
    if element.text and element.tag not in NOT_TEXT:
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag not in NOT_TEXT:
            yield from _texts(child)
        if child.tail:
            yield child.tail


def _owner(element: Any) -> Any:
    node = element
    while node is not None:
        if node.get("id") or node.get("class"):
            return node
        node = node.getparent()
    return None


def _name(element: Any) -> str:
    ident = DIGITS.sub("", element.get("id") or "")
    classes = ".".join(sorted(DIGITS.sub("", c) for c in (element.get("class") or "").split()))
    return f"{element.tag}#{ident}.{classes}"


def signature(element: Any) -> str:
    """The key of a block: its tag, id and classes and its two parents', digits dropped."""
    if element is None:
        return UNOWNED
    names = []
    node = element
    for _ in range(3):
        if node is None or not isinstance(node.tag, str):
            break
        names.append(_name(node))
        node = node.getparent()
    return key("/".join(names))


def _owners(leaves: list[_Leaf]) -> dict[str, tuple[tuple[str, int], ...]]:
    owners: dict[str, list[tuple[str, int]]] = {}
    for leaf in leaves:
        text = normal(leaf.text)
        owners.setdefault(leaf.signature, []).append((key(text), len(text)))
    return {sig: tuple(lines) for sig, lines in owners.items()}


def _located(body: Cleaned, by_text: dict[str, _Leaf]) -> Any:
    """The deepest identified block that holds most of ``body`` (None: not found)."""
    held: Counter[Any] = Counter()
    found = 0
    lines = [normal(line) for line in body.text.splitlines()]
    total = sum(map(len, lines))
    for line in lines:
        leaf = by_text.get(line)
        if leaf is None:
            continue
        found += len(line)
        node = leaf.owner
        while node is not None:
            held[node] += len(line)
            node = _owner(node.getparent()) if node.getparent() is not None else None
    if not total or found < 0.5 * total:
        return None
    holding = [node for node, chars in held.items() if chars >= BODY_HOLDS * found]
    # Of the blocks holding it, the innermost holds the fewest others.
    return min(holding, key=lambda node: sum(1 for _ in node.iter()), default=None)


def _inside(element: Any, block: Any) -> bool:
    node = element
    while node is not None:
        if node is block:
            return True
        node = node.getparent()
    return False


def _block(leaves: list[_Leaf], wanted: str) -> Any:
    """The page's block of signature ``wanted`` holding the most text, or None."""
    chars: Counter[Any] = Counter()
    seen: dict[Any, bool] = {}
    for leaf in leaves:
        node = leaf.owner
        while node is not None:
            if node not in seen:
                seen[node] = signature(node) == wanted
            if seen[node]:
                chars[node] += len(leaf.text)
            parent = node.getparent()
            node = _owner(parent) if parent is not None else None
    return max(chars, key=chars.__getitem__) if chars else None


def _text_of(block: Any, leaves: list[_Leaf], chrome: frozenset[str]) -> str:
    return "\n".join(
        leaf.text
        for leaf in leaves
        if leaf.signature not in chrome and _inside(leaf.element, block)
    )


def _without_chrome(body: Cleaned, by_text: dict[str, _Leaf], hint: Hint) -> Cleaned:
    """``body`` without the lines of the source's chrome (counted as removed "template")."""
    if not (hint.chrome_lines or hint.chrome_blocks):
        return body
    lines, simple = body.text.split("\n"), body.simplified.split("\n")
    if len(lines) != len(simple):
        simple = lines
    kept, kept_simple = [], []
    for line, simplified in zip(lines, simple, strict=True):
        text = normal(line)
        leaf = by_text.get(text)
        if key(text) in hint.chrome_lines or (
            leaf is not None and leaf.signature in hint.chrome_blocks
        ):
            continue
        kept.append(line)
        kept_simple.append(simplified)
    dropped = len(lines) - len(kept)
    if not dropped:
        return body
    removed = body.removed + Counter({"template": dropped})
    return replace(body, text="\n".join(kept), simplified="\n".join(kept_simple), removed=removed)


@dataclass
class Template:
    """A source's template: decayed counts of its lines, blocks and body blocks.

    Counts are stored multiplied by ``scale``, which grows by 1/DECAY a page: an old count
    then weighs less without touching it."""

    pages: float = 0.0  # decayed number of article pages, times scale
    seen: int = 0  # article pages learned from since the last (re)start
    scale: float = 1.0
    lines: dict[str, float] = field(default_factory=dict)
    owners: dict[str, list[float]] = field(default_factory=dict)  # [pages seen, repeat share]
    bodies: dict[str, float] = field(default_factory=dict)
    prose: float = 0.0  # decayed mean body length
    misses: int = 0  # article pages in a row without the learned body block
    relearned: int = 0  # times the template was learned again after a redesign
    urls: dict[str, None] = field(default_factory=dict)  # keys of the pages learned, in order
    _hint: Hint | None = field(default=None, repr=False, compare=False)

    def hint(self) -> Hint:
        """What the workers apply (computed again every HINT_EVERY pages)."""
        if self._hint is None:
            self._hint = self._compute_hint()
        return self._hint

    def _compute_hint(self) -> Hint:
        if self.seen < MIN_PAGES:
            return Hint(typical=self.prose)
        least = CHROME_SHARE * self.pages
        bodies = tuple(
            sig
            for sig, n in sorted(self.bodies.items(), key=lambda kv: -kv[1])
            if n >= BODY_SHARE * self.pages
        )
        chrome_blocks = frozenset(
            sig
            for sig, (seen, repeats) in self.owners.items()
            if seen >= least
            and repeats >= REPEAT_SHARE * seen
            and sig not in bodies
            # Text in no block of its own (old table layouts) holds the body as well.
            and sig != UNOWNED
        )
        chrome_lines = frozenset(k for k, n in self.lines.items() if n >= least)
        return Hint(bodies, chrome_blocks, chrome_lines, self.prose)

    def learn(self, page: Observation, url: str) -> None:
        """Count one article page in, unless it was seen before: a revisit of ``url``, or a
        copy, whose lines would all read as repeats (its body block as chrome)."""
        # The body block gone is news on any page, a revisit too: the site was redesigned.
        if page.missed:
            self.misses += 1
            if self.misses >= RELEARN_AFTER:
                self._restart()
        else:
            self.misses = 0
        known = sum(self.lines.get(k, 0.0) >= SEEN * self.scale for k in page.lines)
        if key(url) in self.urls or (page.lines and known > REVISIT_SHARE * len(page.lines)):
            return
        self.urls[key(url)] = None
        if len(self.urls) > MAX_URLS:
            del self.urls[next(iter(self.urls))]
        self.scale /= DECAY
        weight = self.scale
        self.pages += weight
        self.seen += 1
        share = weight / self.pages
        self.prose = page.prose if self.seen == 1 else (1 - share) * self.prose + share * page.prose
        for sig, lines in page.owners.items():
            chars = sum(n for _, n in lines) or 1
            repeated = sum(n for k, n in lines if self.lines.get(k, 0.0) >= SEEN * self.scale)
            counts = self.owners.setdefault(sig, [0.0, 0.0])
            counts[0] += weight
            counts[1] += weight * repeated / chars
        for k in {k for lines in page.owners.values() for k, _ in lines}:
            self.lines[k] = self.lines.get(k, 0.0) + weight
        if page.body is not None:
            self.bodies[page.body] = self.bodies.get(page.body, 0.0) + weight
        self._bound()
        if self.scale > RESCALE_AT:
            self._rescale()
        if self.seen % HINT_EVERY == 0 or self.seen == MIN_PAGES:
            self._hint = None

    def _restart(self) -> None:
        relearned = self.relearned + 1
        self.__init__()  # type: ignore[misc]
        self.relearned = relearned

    def _bound(self) -> None:
        # Beyond a bound, the least seen quarter goes: a body's own lines, seen once.
        if len(self.lines) > MAX_LINES:
            self.lines = dict(Counter(self.lines).most_common(MAX_LINES * 3 // 4))
        if len(self.owners) > MAX_OWNERS:
            kept = sorted(self.owners, key=lambda k: self.owners[k][0], reverse=True)
            self.owners = {k: self.owners[k] for k in kept[: MAX_OWNERS * 3 // 4]}
        if len(self.bodies) > MAX_OWNERS:
            self.bodies = dict(Counter(self.bodies).most_common(MAX_OWNERS // 2))

    def _rescale(self) -> None:
        factor = 1 / self.scale
        self.pages *= factor
        self.lines = {k: v * factor for k, v in self.lines.items()}
        self.owners = {k: [v[0] * factor, v[1] * factor] for k, v in self.owners.items()}
        self.bodies = {k: v * factor for k, v in self.bodies.items()}
        self.scale = 1.0

    def state(self) -> dict[str, Any]:
        """The template as plain data (JSON), at scale 1."""
        self._rescale()
        # Three decimals are plenty; what rounds to nothing was seen too long ago to matter.
        return {
            "pages": round(self.pages, 3),
            "seen": self.seen,
            "lines": {k: round(v, 3) for k, v in self.lines.items() if v >= 0.01},
            "owners": {k: [round(v[0], 3), round(v[1], 3)] for k, v in self.owners.items()},
            "bodies": {k: round(v, 3) for k, v in self.bodies.items()},
            "prose": round(self.prose, 1),
            "misses": self.misses,
            "relearned": self.relearned,
            "urls": list(self.urls),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Template:
        """The template stored as :meth:`state` (an empty one for anything else)."""
        try:
            return cls(
                pages=float(state["pages"]),
                seen=int(state["seen"]),
                lines={str(k): float(v) for k, v in state["lines"].items()},
                owners={str(k): [float(v[0]), float(v[1])] for k, v in state["owners"].items()},
                bodies={str(k): float(v) for k, v in state["bodies"].items()},
                prose=float(state["prose"]),
                misses=int(state["misses"]),
                relearned=int(state["relearned"]),
                urls=dict.fromkeys(map(str, state["urls"])),
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return cls()


# A source's extraction is judged against its own runs: at least this many before the last.
MIN_HISTORY = 3
# What counts as a drop: rejected pages up by this share (and twice the usual at least),
# bodies under this share of their usual length, the body block found on under this share
# of pages where it usually is.
REJECTED_RISE = 0.2
SHORTER = 0.5
HITS_FALL = 0.5


def quality_drop(runs: list[dict[str, int]]) -> str | None:
    """What fell in a source's last run against its earlier ones (figures of
    ``crawler.pipelines.extract.RUN_FIGURES``, oldest first), in words; None: nothing."""
    if len(runs) <= MIN_HISTORY:
        return None
    *earlier, last = runs
    problems = []

    def usual(figure: Any) -> float:
        values = sorted(v for v in map(figure, earlier) if v is not None)
        return values[len(values) // 2] if values else 0.0

    def rejected(run: dict[str, int]) -> float | None:
        pages = run.get("articles", 0) + run.get("rejected", 0)
        return run.get("rejected", 0) / pages if pages else None

    def length(run: dict[str, int]) -> float | None:
        return run.get("chars", 0) / run["articles"] if run.get("articles") else None

    def hits(run: dict[str, int]) -> float | None:
        tried = run.get("hits", 0) + run.get("misses", 0)
        return run.get("hits", 0) / tried if tried else None

    now, before = rejected(last), usual(rejected)
    if now is not None and now - before >= REJECTED_RISE and now >= 2 * before:
        problems.append(f"{now:.0%} of article pages held no article (usually {before:.0%})")
    now, before = length(last), usual(length)
    if now is not None and before and now < SHORTER * before:
        problems.append(f"bodies of {now:.0f} characters (usually {before:.0f})")
    now, before = hits(last), usual(hits)
    if now is not None and before >= 2 * HITS_FALL and now < HITS_FALL * before:
        problems.append(
            f"its body block was on {now:.0%} of pages (usually {before:.0%}): a redesign?"
            " the template is learned again"
        )
    return "; ".join(problems) or None
