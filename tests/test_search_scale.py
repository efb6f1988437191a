"""Search tokens keep the taxonomy's phrases whole, and m009 recomputes a stored database's."""

from __future__ import annotations

from pathlib import Path

import rjieba
from sqlite_utils import Database

from crawler.db import open_db
from crawler.search import search_tokens

TEXT = "推进数据要素市场化配置改革，发展智能网联汽车和人工智能产业。"


def test_taxonomy_phrases_are_words() -> None:
    tokens = search_tokens("数据要素市场化", TEXT).split()
    assert {"数据要素", "智能网联", "智能网联汽车", "人工智能"} <= set(tokens)
    # Search mode still emits the shorter words inside, so two-character queries match.
    assert {"数据", "要素", "智能", "网联", "汽车", "人工"} <= set(tokens)
    assert "，" not in tokens and "。" not in tokens


def test_words_found_before_are_still_found() -> None:
    # The taxonomy's phrases move jieba's cut around them (三年行动 + 计划); its own words stay.
    text = TEXT + "印发三年行动计划，发展具身智能。"
    before = {w for w in rjieba.cut_for_search(text) if w not in "，。"}
    tokens = set(search_tokens(None, text).split())
    assert before <= tokens and {"行动计划", "具身", "具身智能"} <= tokens


def test_traditional_text_is_searched_in_simplified() -> None:
    assert "数据要素" in search_tokens(None, "推進數據要素市場").split()


def _search(db: Database, word: str) -> list[int]:
    query = "select rowid from articles_fts where articles_fts match ? order by rowid"
    return [row[0] for row in db.execute(query, [f'"{word}"'])]


def test_m009_recomputes_stored_tokens(tmp_path: Path) -> None:
    path = tmp_path / "news.db"
    db = open_db(path)
    db["sources"].insert({"id": "s", "name": "s"}, pk="id")
    # Tokens as jieba's own dictionary cut them before m009, written through the triggers.
    old = " ".join(w for w in rjieba.cut_for_search(TEXT) if w.strip("，。"))
    for number in (1, 2):
        db["articles"].insert(
            {"id": number, "source_id": "s", "title": "标题", "text": TEXT, "search_tokens": old}
        )
    assert _search(db, "数据要素") == [] and _search(db, "数据") == [1, 2]
    db.execute("delete from _sqlite_migrations where name = 'm009_search_terms'")
    db.close()
    db = open_db(path)
    assert _search(db, "数据要素") == [1, 2] and _search(db, "智能网联") == [1, 2]
    assert _search(db, "数据") == [1, 2]
    # The update trigger is back: a changed body is searchable at once.
    db["articles"].update(2, {"search_tokens": "别的 词"})
    assert _search(db, "数据要素") == [1] and _search(db, "别的") == [2]
    db.close()
