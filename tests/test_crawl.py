"""A real Scrapy crawl of the bundled site over HTTP on 127.0.0.1 into a real SQLite file."""

from __future__ import annotations

import re
from typing import Any

import opencc
from sqlite_utils import Database

from crawler.classify.policies import kind_of
from crawler.demo.site import DemoArticle, DemoSite
from tests.support.run import free_port, newsmon
from tests.support.sites import public

to_traditional = opencc.OpenCC("s2t").convert


def stored(db: Database) -> dict[str, dict[str, Any]]:
    """Articles by path (the host is the test server's)."""
    return {row["url"].split("/", 3)[3]: row for row in db["articles"].rows}


def rendered(article: DemoArticle, text: str) -> str:
    return to_traditional(text) if article.traditional else text


def test_every_public_article_is_stored_exactly_once(
    crawled: dict[str, Any], site: DemoSite
) -> None:
    rows = stored(crawled["db"])
    expected = {a.path.lstrip("/") for a in public(site)}
    assert set(rows) == expected
    urls = [row["url"] for row in crawled["db"]["articles"].rows]
    assert len(urls) == len(set(urls)) == len(expected)
    # Links with ?utm_source=…&spm=… and feed links were stored under their canonical URL.
    assert not [u for u in urls if "?" in u]


def test_titles_and_bodies_survive_gbk_and_big5(crawled: dict[str, Any], site: DemoSite) -> None:
    rows = stored(crawled["db"])
    encoded = [a for a in public(site) if a.encoding != "utf-8"]
    assert {a.encoding for a in encoded} == {"gbk", "big5"}
    assert {a.charset for a in encoded} >= {"none", "meta", "header"}
    for article in encoded:
        row = rows[article.path.lstrip("/")]
        assert row["title"] == rendered(article, article.title), article.id
        first = next(p for p in article.paragraphs if not p.startswith("## "))
        assert rendered(article, first[:20]) in row["text"].replace("\n", ""), article.id
        assert "\ufffd" not in row["text"]


def test_robots_txt_keeps_the_crawler_out(
    crawled: dict[str, Any], site: DemoSite, demo_server: Any
) -> None:
    private = [a for a in site.articles if a.linked_from == ("private",)]
    assert private, "the demo site has an article under a path robots.txt disallows"
    assert not [p for p in demo_server.requested if p.startswith("/internal/")]
    assert "/robots.txt" in demo_server.requested
    refused = list(
        crawled["db"].query("select url, error from fetches where url like '%/internal/%'")
    )
    assert refused and all("robots" in r["error"] for r in refused)


def test_pagination_feed_and_sitemap_are_followed(crawled: dict[str, Any], site: DemoSite) -> None:
    fetched = {r["url"].split("/", 3)[3] for r in crawled["db"]["fetches"].rows}
    assert {"policy/index_2.html", "policy/index_3.html", "rss.xml", "sitemap.xml"} <= fetched
    rows = stored(crawled["db"])
    only_feed = [a for a in site.articles if a.linked_from == ("feed",)]
    only_sitemap = [a for a in site.articles if a.linked_from == ("sitemap",)]
    assert only_feed and only_sitemap
    for article in only_feed + only_sitemap:
        assert article.path.lstrip("/") in rows


def test_second_crawl_adds_no_rows(crawled: dict[str, Any], site: DemoSite) -> None:
    db = crawled["db"]
    assert db["articles"].count == crawled["after_first"]["articles"]
    assert db["versions"].count == crawled["after_first"]["versions"] == len(public(site))
    runs = list(db.query("select status, articles_new, articles_unchanged from crawl_runs"))
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[0]["articles_new"] == len(public(site))
    # Nothing changed and no article is due yet: the revisit asks only for the listings.
    assert runs[1]["articles_new"] == runs[1]["articles_unchanged"] == 0
    assert "0 articles (0 new, 0 updated, 0 unchanged)" in crawled["second"].stdout


def test_crawl_prints_progress_and_a_summary(crawled: dict[str, Any], site: DemoSite) -> None:
    first = crawled["first"]
    assert "[demo]" in first.stderr and "pages" in first.stderr
    summary = first.stdout.strip().splitlines()[-1]
    assert summary.startswith("crawled 1 source:")
    assert f"({len(public(site))} new, 0 updated, 0 unchanged)" in summary
    assert "robots 1" in summary
    assert "Traceback" not in first.stderr


def test_every_fetch_is_recorded(crawled: dict[str, Any]) -> None:
    rows = list(
        crawled["db"].query(
            "select kind, status, bytes, elapsed_ms, fetched_at, run_id from fetches"
            " where error is null"
        )
    )
    first = [r for r in rows if r["run_id"] == 1]
    assert {r["kind"] for r in first} == {"list", "feed", "sitemap", "article"}
    assert all(r["status"] == 200 and r["bytes"] > 0 and r["fetched_at"] for r in first)
    assert all(r["elapsed_ms"] is not None for r in rows)
    # The revisit's listings were asked for conditionally and were not modified.
    assert {r["status"] for r in rows if r["run_id"] == 2} == {304}


def test_unreachable_source_fails_with_one_line(tmp_path: Any) -> None:
    port = free_port()
    db_path = tmp_path / "news.db"
    result = newsmon(
        "crawl",
        "--source",
        "demo",
        "--base-url",
        f"http://127.0.0.1:{port}/",
        "--db",
        str(db_path),
        "--quiet",
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == "Error: failed sources: demo"
    assert "Traceback" not in result.stderr
    run = next(Database(db_path).query("select status, error from crawl_runs"))
    assert run["status"] == "failed" and "connection refused" in run["error"]


def test_stored_articles_carry_no_chrome_or_spam(crawled: dict[str, Any]) -> None:
    chrome = (
        "友情链接",
        "京ICP备",
        "相关稿件",
        "上一条",
        "下一条",
        "分享到",
        "点赞",
        "责任编辑",
        "声明：",
        "次阅读",
        "当前位置",
        "澳门金沙",
        "百家乐",
        "成人视频",
    )
    for row in crawled["db"]["articles"].rows:
        text = row["text_simplified"] or row["text"]
        assert not [c for c in chrome if c in text], row["url"]
    editors = {row["editor"] for row in crawled["db"]["articles"].rows}
    assert None not in editors
    damaged = list(crawled["db"].query("select flags, quality from articles where quality < 1"))
    assert damaged and all("pinyin_garbled" in row["flags"] for row in damaged)


def test_stored_articles_carry_tags_with_evidence(crawled: dict[str, Any], site: DemoSite) -> None:
    db = crawled["db"]
    untagged = list(db.query("select url from articles where tagged_at is null"))
    assert not untagged
    primary = list(
        db.query("select count(distinct article_id) n from article_regions where is_primary")
    )
    assert primary[0]["n"] == db["articles"].count
    topics = list(db.query("select topic, evidence from article_topics"))
    assert topics and all(row["evidence"] for row in topics)
    # A document named by several articles is one policy.
    shared = list(
        db.query(
            "select p.title, count(*) n from policies p"
            " join article_policies ap on ap.policy_id = p.id group by p.id having n > 1"
        )
    )
    titles = [t for a in site.articles for p in a.paragraphs for t in re.findall("《(.+?)》", p)]
    repeated = {t for t in titles if titles.count(t) > 1}
    # (which titles are policies is test_policies' business)
    expected = {t for t in repeated if kind_of(t) == "policy"}
    assert len(expected) >= 4 and {row["title"] for row in shared} >= expected
    sz = next(db.query("select region from policies where title like '深圳市加快推动人工智能%'"))
    assert sz["region"] == "深圳"


def test_quiet_crawl_prints_nothing_on_success(tmp_path: Any, demo_server: Any) -> None:
    result = newsmon(
        "crawl",
        "--source",
        "demo",
        "--base-url",
        demo_server.url,
        "--db",
        str(tmp_path / "news.db"),
        "--quiet",
    )
    assert result.stdout == "" and result.stderr == ""
