"""A source's first crawl is a baseline: its back catalogue is stored and searchable, and the
digest says so in one line instead of an alert per article. Real crawls of the demo site on
127.0.0.1, real SQLite files, the digest as `newsmon digest` writes it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlite_utils import Database

from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite, load_updates
from crawler.search import search_query
from tests.support.run import free_port, newsmon

DEMO_NAME = "智策新闻网（内置演示站）"


def crawl(server_url: str, db_path: Path, *options: str, check: bool = True) -> None:
    newsmon(
        "crawl", "--source", "demo", "--base-url", server_url, "--db", str(db_path), "--quiet",
        *options, check=check,
    )  # fmt: skip


def kinds(db_path: Path) -> Counter[str]:
    return Counter(row["kind"] for row in Database(db_path).query("select kind from alerts"))


def text_digest(db_path: Path) -> str:
    """The text part `newsmon digest --dry-run` shows, marking nothing sent."""
    return newsmon("digest", "--db", str(db_path), "--dry-run", "--to", "a@example.cn").stdout


def public_articles(site: DemoSite) -> int:
    return len([a for a in site.articles if a.linked_from != ("private",)])


def test_a_new_sources_first_crawl_is_one_line_and_its_articles_are_searchable(
    tmp_path: Path, site: DemoSite
) -> None:
    db_path = tmp_path / "news.db"
    with DemoServer() as server:
        crawl(server.url, db_path)
        db = Database(db_path)
        stored = db["articles"].count
        assert stored == public_articles(site)
        # No alert per article or policy: one line for the source.
        assert kinds(db_path) == Counter({"source_baseline": 1})
        found = db.execute(
            "select count(*) from articles_fts where articles_fts match ?",
            [search_query("算力券")],
        ).fetchone()[0]
        assert found >= 3
        shown = text_digest(db_path)
        assert f"{DEMO_NAME}：{stored} 篇作为基线收录" in shown
        # The digest's one item.
        assert [line for line in shown.splitlines() if line.startswith("· ")] == [
            f"· {DEMO_NAME}：{stored} 篇作为基线收录，含政策文件 {db['policies'].count} 项"
        ]
        assert "新文章" not in shown and "新政策" not in shown
        # The next crawl is news: the article added since, the sentence edited.
        server.update(server.site.updated(load_updates(), now()))
        crawl(server.url, db_path)
    assert kinds(db_path) == Counter(
        {"source_baseline": 1, "new_article": 1, "new_policy": 1, "changed_article": 1}
    )


def test_no_baseline_alerts_on_every_story_of_the_first_crawl(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    db_path = tmp_path / "news.db"
    crawl(demo_server.url, db_path, "--no-baseline")
    db = Database(db_path)
    raised = kinds(db_path)
    assert "source_baseline" not in raised
    assert raised["new_article"] == db["stories"].count > 20
    assert raised["new_policy"] == db["policies"].count > 20


def test_baseline_on_a_known_source_holds_back_its_new_articles_not_its_changes(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "news.db"
    with DemoServer() as server:
        crawl(server.url, db_path, "--no-baseline")
        before = kinds(db_path)
        server.update(server.site.updated(load_updates(), now()))
        crawl(server.url, db_path, "--baseline")
    added = kinds(db_path) - before
    # The new article and its syndicated copy are in the line; the edit is still news.
    assert added == Counter({"source_baseline": 1, "changed_article": 1})
    [line] = Database(db_path).query("select title from alerts where kind = 'source_baseline'")
    assert line["title"] == f"{DEMO_NAME}：2 篇作为基线收录"


def test_a_source_first_read_after_failed_runs_is_still_a_baseline(tmp_path: Path) -> None:
    db_path = tmp_path / "news.db"
    crawl(f"http://127.0.0.1:{free_port()}/", db_path, check=False)
    assert Database(db_path)["articles"].count == 0
    with DemoServer() as server:
        crawl(server.url, db_path)
    assert kinds(db_path) == Counter({"source_baseline": 1})


def test_baseline_options_need_the_database_here(tmp_path: Path) -> None:
    result = newsmon(
        "crawl", "--source", "demo", "--db", str(tmp_path / "news.db"), "--baseline",
        "--redis-url", "redis://127.0.0.1:1/0", check=False,
    )  # fmt: skip
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "--baseline/--no-baseline needs the database here" in result.stderr
