"""`newsmon sources add URL` against the demo site on 127.0.0.1: the entry it proposes from
the links it sees, what it shows before asking, and a crawl with the written entry; then the
pure reading of links (crawler/propose.py) on the shapes of real portals' addresses."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler import paths
from crawler.demo.server import DemoServer
from crawler.propose import (
    Anchor,
    article_patterns,
    list_patterns,
    robots_sitemaps,
    source_id,
    toml_entry,
)
from crawler.sources import load_sources
from tests.support.run import newsmon
from tests.support.sites import public


def _add(
    server: DemoServer, seeds: Path, *options: str, answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`newsmon sources add` of the demo's 政策 list into ``seeds``, ``answer`` typed."""
    url = server.url + "policy/"
    options = ("--seeds", str(seeds), "--delay", "0", *options)
    return newsmon("sources", "add", url, *options, input=answer, check=False)


def test_an_entry_from_a_list_page_finds_that_sections_articles(
    demo_server: DemoServer, tmp_path: Path
) -> None:
    seeds = tmp_path / "mine.toml"
    policy = [a for a in public(demo_server.site) if a.section == "policy"]
    declined = _add(demo_server, seeds, "--private-host", "127.0.0.1", answer="n\n")
    assert declined.returncode == 0, declined.stderr
    assert not seeds.exists() and declined.stdout.rstrip().endswith("nothing written")
    shown = declined.stdout
    # Before asking it shows the pattern, the feed and sitemap it found, and articles by title.
    assert re.search(r"(?m)^article_urls: \^/policy/", shown), shown
    assert f"feed: {demo_server.url}rss.xml" in shown
    assert f"sitemap: {demo_server.url}sitemap.xml" in shown
    dated = {demo_server.url + a.path[1:]: a.published[:10] for a in policy}
    listed = [line.split() for line in shown.splitlines() if line.startswith("  20")]
    assert len(listed) >= 3 and all(dated.get(row[-1]) == row[0] for row in listed), listed

    agreed = _add(
        demo_server, seeds, "--private-host", "127.0.0.1", "--region", "全国", answer="y\n"
    )
    assert agreed.returncode == 0 and f"wrote {seeds}" in agreed.stdout, agreed.stderr
    (source,) = load_sources([seeds])
    assert source.lists == (demo_server.url + "policy/",) and source.region == "全国"
    assert source.feeds and source.sitemaps and source.list_urls

    db_path = tmp_path / "news.db"
    newsmon("crawl", "--seeds", str(seeds), "--db", str(db_path), "--quiet")
    stored = {row["url"] for row in Database(db_path).query("select url from articles")}
    assert stored == {demo_server.url + a.path[1:] for a in policy}


@pytest.mark.parametrize(
    ("page", "written_by_hand"), [("", "demo"), ("rss.xml", "demo"), ("xxgk/", "demo-gov")]
)
def test_the_patterns_proposed_are_those_written_by_hand(
    demo_server: DemoServer, tmp_path: Path, page: str, written_by_hand: str
) -> None:
    # The home page links headlines of every section, and so does the feed; the 政府信息公开
    # list draws its pager with a script. The demo's seed file has them written by hand.
    seeds = tmp_path / "mine.toml"
    url = demo_server.url + page
    options = ("--seeds", str(seeds), "--private-host", "127.0.0.1", "--delay", "0", "--yes")
    newsmon("sources", "add", url, *options)
    (proposed,) = load_sources([seeds])
    by_hand = next(s for s in load_sources([paths.demo_seeds()]) if s.id == written_by_hand)
    assert proposed.article_urls == by_hand.article_urls
    assert proposed.region == by_hand.region  # the region in the page's title, or 全国
    if page == "rss.xml":
        assert proposed.feeds == (url,) and proposed.lists == ()
        assert proposed.name == demo_server.site.name  # the feed's title
    if page == "xxgk/":
        (pager,) = proposed.list_urls
        assert re.search(pager, "/xxgk/index_3.html") and not re.search(pager, "/xxgk/")


def test_a_second_add_of_the_same_page_is_refused(demo_server: DemoServer, tmp_path: Path) -> None:
    seeds = tmp_path / "mine.toml"
    assert _add(demo_server, seeds, "--private-host", "127.0.0.1", "--yes").returncode == 0
    before = seeds.read_text("utf-8")
    again = _add(demo_server, seeds, "--private-host", "127.0.0.1", "--yes")
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1
    assert "is a start URL of source" in again.stderr
    assert seeds.read_text("utf-8") == before


def test_a_loopback_page_needs_private_host(demo_server: DemoServer, tmp_path: Path) -> None:
    seeds = tmp_path / "mine.toml"
    refused = _add(demo_server, seeds, "--yes")
    assert refused.returncode == 1 and refused.stdout == ""
    assert len(refused.stderr.splitlines()) == 1 and "--private-host" in refused.stderr
    assert "loopback" in refused.stderr and not seeds.exists()


# Addresses in the shapes of real portals (made up: no page of theirs is copied).
PORTAL = [
    Anchor("/xxgk/tzgg/202406/t20240618_11223344.html", "关于开展2024年人工智能专项申报的通知"),
    Anchor("/xxgk/tzgg/202405/t20240530_11223001.html", "市工业和信息化局关于印发行动方案的通知"),
    Anchor("/xxgk/tzgg/202312/t20231201_10998877.html", "关于征集算力应用场景的公告"),
    Anchor("/xxgk/tzgg/index_1.html", "2"),
    Anchor("/xxgk/tzgg/index_2.html", "3"),
    Anchor("/about/contact.html", "联系我们"),
    Anchor("/xxgk/202406/t20240618_1.html", "首页"),
]


def test_article_links_make_one_pattern_that_takes_tomorrows_too() -> None:
    (pattern,) = article_patterns(PORTAL)
    assert len(pattern.paths) == 3
    rule = re.compile(pattern.regex)
    assert all(rule.search(p) for p in pattern.paths)
    assert rule.search("/xxgk/tzgg/202701/t20270105_123456789.html")  # a longer id, a new month
    assert not rule.search("/xxgk/tzgg/index_1.html") and not rule.search("/about/contact.html")
    (pager,) = list_patterns(PORTAL, [])
    assert re.search(pager.regex, "/xxgk/tzgg/index_9.html")


def test_sections_side_by_side_are_one_pattern() -> None:
    anchors = [
        Anchor(f"/{section}/2024061{n}/{n}00{n}.shtml", f"第{n}条新闻的标题足够长了吧")
        for section in ("gnxw", "dfxw")
        for n in range(3)
    ]
    (pattern,) = article_patterns(anchors)
    assert re.search(pattern.regex, "/gnxw/20250101/99999.shtml")
    assert re.search(pattern.regex, "/gjxw/20250101/99999.shtml")  # a column seen later
    assert not re.search(pattern.regex, "/gnxw/2025/99999.shtml")
    mixed = [Anchor(a.path.replace("dfxw", "DF-xw"), a.text) for a in anchors]
    (pattern,) = article_patterns(mixed)
    assert pattern.regex.startswith(r"^/(?:DF\-xw|gnxw)/")


def test_ids_of_letters_and_digits_and_a_recommenders_query() -> None:
    hashes = [
        Anchor(f"/contents/2020/{m}/{d}-{h}.html", "基金管理有限公司关于旗下基金的公告")
        for m, d, h in [(7, 2, "b5" * 16), (6, 28, "7a1c" * 8), (12, 9, "0f9e8d7c" * 4)]
    ]
    (pattern,) = article_patterns(hashes)
    assert pattern.regex == r"^/contents/\d{4}/\d+/\d+\-[0-9a-f]{32}\.html$"
    tracked = [
        Anchor(f"/t/2019-09-1{n}/doc-{code}.shtml?cre=tj&loc={n}", "一条推荐新闻的标题在这里")
        for n, code in enumerate(["iicezzrq4972166", "iicezueu1234567", "iqwerty12345678"])
    ]
    (pattern,) = article_patterns(tracked)
    assert re.search(pattern.regex, "/t/2019-09-11/doc-iabcdefg7654321.shtml")
    assert re.search(pattern.regex, "/t/2019-09-11/doc-iabcdefg7654321.shtml?loc=9")


def test_robots_sitemaps_ids_and_entries() -> None:
    robots = "User-agent: *\nDisallow: /search\nsitemap: https://a.gov.cn/sitemap.xml\n"
    assert robots_sitemaps(robots) == ["https://a.gov.cn/sitemap.xml"]
    assert source_id("www.gxj.sz.gov.cn", "/xxgk/tzgg/") == "gxj-sz-tzgg"
    fields = {"id": "a", "name": "它's", "article_urls": [r"^/\d+\.html$"], "region": None}
    assert tomllib.loads(toml_entry(fields))["source"] == [
        {"id": "a", "name": "它's", "article_urls": [r"^/\d+\.html$"]}
    ]


@pytest.mark.parametrize("anchors", [[], PORTAL[3:]])
def test_no_headlines_no_pattern(anchors: list[Anchor]) -> None:
    assert article_patterns(anchors) == []


def test_a_page_without_article_links_is_one_line(demo_server: DemoServer, tmp_path: Path) -> None:
    seeds = tmp_path / "mine.toml"
    url = demo_server.url + "robots.txt"
    options = ("--seeds", str(seeds), "--private-host", "127.0.0.1", "--delay", "0", "--yes")
    shown = newsmon("sources", "add", url, *options, check=False)
    assert shown.returncode == 1 and shown.stdout == "" and not seeds.exists()
    assert shown.stderr.startswith(f"Error: no article links on {url}")
    assert len(shown.stderr.splitlines()) == 1
