"""`newsmon serve` for real: Datasette on a loopback port over a crawled demo database, read
over HTTP and in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from sqlite_utils import Database

from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from crawler.serve import datasette_command, serve_command
from tests.support.run import newsmon
from tests.support.web import CHROMIUM, SCREENSHOTS, chromium, get, get_json, served

QUERY = "算力"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site crawled, changed and crawled again: new, changed and syndicated articles."""
    path = tmp_path_factory.mktemp("serve") / "news.db"
    with DemoServer() as server:
        args = ("crawl", "--source", "demo", "--base-url", server.url, "--db", str(path))
        newsmon(*args, "--quiet")
        server.update(server.site.updated(load_updates(), now()))
        newsmon(*args, "--quiet")
    return path


@pytest.fixture(scope="module")
def site(demo_db: Path) -> Iterator[str]:
    """`newsmon serve` on a free port; its base URL once it answers."""
    with served(demo_db) as base:
        yield base


def _containing(db: Database, word: str) -> dict[int, str]:
    """Articles whose title or body (in Simplified) contains ``word``: id → title."""
    rows = db.query(
        "select id, title from articles where instr(title || ' ' ||"
        " coalesce(text_simplified, text), ?) > 0",
        [word],
    )
    return {row["id"]: row["title"] for row in rows}


@pytest.mark.parametrize("word", [QUERY, "基金", "数据要素", "数据"])
def test_search_finds_words_of_two_and_four_characters(site: str, demo_db: Path, word: str) -> None:
    # jieba's dictionary cuts 数据要素 into 数据 + 要素: the taxonomy's phrase must be a word
    # of the search tokens, and the two-character words inside it still found. Both ways in
    # find the same: the table's search box and the search query for large databases.
    expected = _containing(Database(demo_db), word)
    assert expected, f"the demo site has no article with {word}"
    query = urlencode({"_search": word, "_shape": "array", "_size": "max"})
    assert {row["id"] for row in get_json(f"{site}/news/articles.json?{query}")} == set(expected)
    found = get_json(f"{site}/news/search.json?{urlencode({'q': word, '_shape': 'array'})}")
    assert [row["id"] for row in found] == sorted(expected, reverse=True)  # newest first


def test_the_search_query_takes_traditional_phrases_and_any_text(site: str, demo_db: Path) -> None:
    db = Database(demo_db)
    both = set(_containing(db, "数据要素")) & set(_containing(db, "人工智能"))
    assert both
    for typed in ("數據要素 人工智能", "数据要素人工智能"):
        found = get_json(f"{site}/news/search.json?{urlencode({'q': typed, '_shape': 'array'})}")
        assert {row["id"] for row in found} == both, typed
    for typed in ('"', "*", "NEAR(", "OR AND", ""):
        found = get_json(f"{site}/news/search.json?{urlencode({'q': typed, '_shape': 'array'})}")
        assert found == [], typed


def test_canned_queries(site: str, demo_db: Path) -> None:
    db = Database(demo_db)
    region = next(db.query("select region from policies order by id desc limit 1"))["region"]
    query = urlencode({"region": region, "_shape": "array"})
    policies = get_json(f"{site}/news/new_policies_by_region.json?{query}")
    expected = {
        r["title"] for r in db.query("select title from policies where region = ?", [region])
    }
    assert {p["title"] for p in policies} == expected
    health = get_json(f"{site}/news/source_health.json?_shape=array")
    assert [(h["source_id"], h["last_status"], h["consecutive_failures"]) for h in health] == [
        ("demo", "ok", 0)
    ]
    changed = get_json(f"{site}/news/changed_articles.json?_shape=array")
    assert len(changed) == 1 and changed[0]["version"] == 2
    page = get(f"{site}/news/changed_articles")
    assert "<del" in page and "<ins" in page  # the diff rendered, not its JSON
    stories = get_json(f"{site}/news/stories_with_copies.json?_shape=array")
    assert len(stories) >= 2 and sum(s["is_first"] for s in stories) == len(
        {s["story_id"] for s in stories}
    )


def test_facets_show_regions(site: str, demo_db: Path) -> None:
    facets = get_json(f"{site}/news/article_regions.json")["facet_results"]
    regions = {v["value"]: v["count"] for v in facets["region"]["results"]}
    db = Database(demo_db)
    top = next(
        db.query("select region, count(*) n from article_regions group by 1 order by 2 desc")
    )
    assert regions[top["region"]] == top["n"]
    months = get_json(f"{site}/news/article_index.json")["facet_results"]
    assert {"month", "source_id", "regions", "topics"} <= set(months)


def test_serve_command_lines(demo_db: Path) -> None:
    assert serve_command(demo_db) == f"newsmon serve --db {demo_db}"
    assert "--metadata" in datasette_command(demo_db, port=9000)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")
def test_chromium_search_and_article_page(
    site: str, demo_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    profile = tmp_path_factory.mktemp("chromium-profile")
    db = Database(demo_db)
    expected = _containing(db, QUERY)
    others = [r["title"] for r in db.query("select title from articles") if r["title"]]
    others = [t for t in others if t not in expected.values()]
    dom = chromium("--dump-dom", f"{site}/news/articles?_search={quote(QUERY)}", profile=profile)
    for title in expected.values():
        assert title in dom
    assert QUERY in dom and not [t for t in others if f">{t}<" in dom]

    # The changed article: its body and the diff of its second version on its row page.
    article = next(db.query("select id, title, text from articles where version = 2"))
    sentence = next(
        s for s in re.split(r"(?<=。)", article["text"]) if len(s.strip()) > 10 and "<" not in s
    ).strip()
    url = f"{site}/news/articles/{article['id']}"
    dom = chromium("--dump-dom", url, profile=profile)
    assert article["title"] in dom and sentence in dom
    assert "修改记录" in dom and "<del" in dom
    shots = tmp_path_factory.mktemp("screenshots", numbered=False)
    shot = shots / "article-row.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2000", url, profile=profile)
    assert shot.stat().st_size > 10_000
    SCREENSHOTS.append(shot)
