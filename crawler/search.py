"""Search tokens of Chinese text: jieba words, space-joined, for SQLite FTS. Pure.

SQLite's FTS tokenizers split on spaces and punctuation, so unsegmented Chinese would be one
"word" per sentence and 算力 would never match. jieba's search mode cuts a text into words
and also emits the shorter words inside a long one (人工智能 → 人工, 智能, 人工智能), so a
two-character query finds a compound that contains it.
"""

from __future__ import annotations

import rjieba

from crawler.clean.script import to_simplified


def search_tokens(title: str | None, text: str | None) -> str:
    """The title and body in Simplified, cut into words, space-joined (punctuation dropped)."""
    joined = "\n".join(part for part in (title, text) if part)
    words = rjieba.cut_for_search(to_simplified(joined)) if joined else []
    return " ".join(
        w for w in (word.strip() for word in words) if w and any(c.isalnum() for c in w)
    )
