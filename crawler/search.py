"""Search tokens of Chinese text: jieba words, space-joined, for SQLite FTS. Pure.

SQLite's FTS tokenizers split on spaces and punctuation, so unsegmented Chinese would be one
"word" per sentence and 算力 would never match. jieba's search mode cuts a text into words
and also emits the shorter words inside a long one (人工智能 → 人工, 智能, 人工智能), so a
two-character query finds a compound that contains it.

The words are cut by the keywords' segmenter: jieba's dictionary with the taxonomy's phrases
it lacks, so that 数据要素 and 智能网联 are words a search can find, not 数据 + 要素 and
智能 + 智能网 + 联. jieba's search mode only emits the two- and three-character words inside a
long one; the longer dictionary words inside it are added too (智能网联 in 智能网联汽车).
An added phrase can move jieba's cut around it (三年行动计划: 三年行动 + 计划, no longer
行动计划), so the words of jieba's own cut are kept as well: a query that found an article
before still finds it. Changing how text is cut means recomputing every stored article's
tokens: a migration.
"""

from __future__ import annotations

from collections.abc import Iterator

import rjieba

from crawler.classify.keywords import segmenter
from crawler.clean.script import to_simplified

# jieba's search mode already emits the 2- and 3-grams of a long word found in its dictionary.
LONGEST_INNER = 3


def search_tokens(title: str | None, text: str | None) -> str:
    """The title and body in Simplified, cut into words, space-joined (punctuation dropped)."""
    joined = "\n".join(part for part in (title, text) if part)
    words = _words(to_simplified(joined)) if joined else iter(())
    return " ".join(
        w for w in (word.strip() for word in words) if w and any(c.isalnum() for c in w)
    )


def _words(text: str) -> Iterator[str]:
    """jieba's search mode with the taxonomy's phrases, with the dictionary words of four or
    more characters inside a longer word; then the words of jieba's own cut it lacks."""
    cutter = segmenter()
    seen = set()
    for word in cutter.cut_for_search(text):
        if len(word) > LONGEST_INNER + 1:
            for size in range(LONGEST_INNER + 1, len(word)):
                for start in range(len(word) - size + 1):
                    inner = word[start : start + size]
                    if cutter.has_word(inner):
                        seen.add(inner)
                        yield inner
        seen.add(word)
        yield word
    for word in rjieba.cut_for_search(text):
        if word not in seen:
            seen.add(word)
            yield word


def search_query(text: str | None) -> str:
    """What a person typed as an FTS5 query over :func:`search_tokens`: its words, cut the
    same way, each quoted (no FTS syntax gets through), all required. A query of no words
    is ``""``, which matches nothing."""
    words = segmenter().cut(to_simplified(text or ""))
    terms = [w.strip() for w in words if any(c.isalnum() for c in w)]
    return " ".join('"' + w.replace('"', '""') + '"' for w in terms) or '""'
