"""Datasette as an analyst uses it, over the demo site crawled, changed and crawled again
(news and 政府信息公开): the article list with its facets, region filters that roll up,
alerts in Beijing time, canned queries over a period, Atom feeds read by feedparser, and
charts, looked at in headless Chromium and kept as screenshots."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import feedparser
import pytest
from sqlite_utils import Database

from crawler.classify.gazetteer import load_gazetteer
from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from crawler.periods import PeriodError, period_bound
from tests.support.run import newsmon
from tests.support.web import CHROMIUM, get, get_json, served

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browse") / "news.db"
    # Not a baseline: every article and policy of the first crawl raises its alert too.
    args = ("crawl", "--source", "demo", "--source", "demo-gov", "--db", str(path), "--quiet")
    with DemoServer() as server:
        newsmon(*args, "--base-url", server.url, "--no-baseline")
        server.update(server.site.updated(load_updates(), now()))
        newsmon(*args, "--base-url", server.url, "--no-baseline")
    return path


@pytest.fixture(scope="module")
def site(demo_db: Path) -> Iterator[str]:
    with served(demo_db) as base:
        yield f"{base}/news"


def within(db: Database, region: str) -> set[int]:
    """Articles whose primary regions are ``region`` or lie inside it, by the gazetteer."""
    gazetteer = load_gazetteer()
    rows = db.query("select article_id, region from article_regions where is_primary")
    return {
        r["article_id"]
        for r in rows
        if r["region"] == region or region in gazetteer.ancestors(r["region"])
    }


def rows(url: str) -> list[dict[str, object]]:
    joiner = "&" if "?" in url else "?"
    found: list[dict[str, object]] = get_json(f"{url}{joiner}_shape=array&_size=max")
    return found


@pytest.mark.parametrize("region", ["武汉", "湖北", "东湖高新区"])
def test_a_region_filter_and_its_facet_count_include_the_places_inside(
    site: str, demo_db: Path, region: str
) -> None:
    expected = within(Database(demo_db), region)
    assert expected
    listed = rows(f"{site}/article_list.json?{urlencode({'_region': region})}")
    assert {r["id"] for r in listed} == expected
    facets = get_json(f"{site}/article_list.json?_facet_size=max")["facet_results"]
    counts = {v["value"]: v["count"] for v in facets["regions"]["results"]}
    assert counts[region] == len(expected)


def test_wuhan_counts_its_zones(demo_db: Path) -> None:
    # The demo's 光谷 articles are about 东湖高新区, inside 武汉: the reason for the roll-up.
    db = Database(demo_db)
    assert within(db, "东湖高新区") and within(db, "东湖高新区") < within(db, "武汉")
    assert within(db, "武汉") <= within(db, "湖北")


def test_the_article_list_search_and_topic_filter(site: str, demo_db: Path) -> None:
    db = Database(demo_db)
    matching = {
        r["id"]
        for r in db.query(
            "select id from articles where instr(title || coalesce(text_simplified, text), ?)",
            ["算力"],
        )
    }
    both = rows(f"{site}/article_list.json?{urlencode({'_search': '算力', '_region': '武汉'})}")
    assert {r["id"] for r in both} == matching & within(db, "武汉")
    topic = rows(f"{site}/article_list.json?_topic=compute")
    tagged = {
        r["article_id"]
        for r in db.query("select article_id from article_topics where topic = 'compute'")
    }
    assert {r["id"] for r in topic} == tagged
    page = get(f"{site}/article_list?_topic=compute")
    assert "主题: 算力" in page  # the filter described by the topic's Chinese name


def test_alerts_newest_first_in_beijing_time_with_links_and_no_json(
    site: str, demo_db: Path
) -> None:
    db = Database(demo_db)
    stored = list(db.query("select created, kind, article_id from alerts order by id desc"))
    shown = rows(f"{site}/alerts.json")
    assert len(shown) == len(stored)
    for alert, row in zip(stored, shown, strict=True):
        beijing = datetime.fromisoformat(alert["created"]).astimezone(UTC) + timedelta(hours=8)
        assert row["时间"] == beijing.strftime("%Y-%m-%d %H:%M")
    kinds = {row["类别"] for row in shown}
    assert {"新文章", "文章修改", "新政策"} <= kinds
    changed = next(row for row in shown if row["类别"] == "文章修改")
    assert changed["地区"] and changed["日期"]
    page = get(f"{site}/alerts")
    body = page.split('<table class="rows-and-columns">', 1)[1].split("</table>", 1)[0]
    cells = re.sub(r"<[^>]+>", " ", body)
    assert not re.search(r"[{}]|\"changes\"", cells)  # the diff rendered, not its JSON
    assert "<del" in body and "<ins" in body
    article = next(r["article_id"] for r in stored if r["kind"] == "changed_article")
    assert f'href="/news/articles/{article}"' in body


def test_canned_queries_take_a_period(site: str, demo_db: Path) -> None:
    everything = rows(f"{site}/alerts.json")
    assert rows(f"{site}/alerts.json?period=7d") == everything
    assert rows(f"{site}/alerts.json?period=2001-01") == []
    policies = rows(f"{site}/new_policies.json?{urlencode({'period': '2025-06'})}")
    assert policies and all(str(p["日期"]).startswith("2025-06") for p in policies)
    assert len(rows(f"{site}/new_policies.json")) > len(policies)
    week = rows(f"{site}/new_this_week.json?period=2020-01..2099-12")
    assert len(week) == Database(demo_db)["articles"].count


def test_periods() -> None:
    at = datetime(2025, 6, 30, 20, 0, tzinfo=UTC)  # already 1 July in Beijing
    assert period_bound("本月", "start", at) == "2025-06-30T16:00:00+00:00"
    assert period_bound("this month", "end_day", at) == "2025-08-01"
    assert period_bound("2025-06", "start_day", at) == "2025-06-01"
    assert period_bound("2025-06-01..2025-06-30", "end_day", at) == "2025-07-01"
    assert period_bound("7d", "start", at) == "2025-06-23T20:00:00+00:00"
    assert period_bound("", "start", at) == "" and period_bound("", "end", at) > "9"
    with pytest.raises(PeriodError, match="本月"):
        period_bound("someday", "start", at)


def test_atom_feeds(site: str, demo_db: Path) -> None:
    alerts = feedparser.parse(get(f"{site}/alerts.atom"))
    assert not alerts.bozo, alerts.bozo_exception
    assert len(alerts.entries) == Database(demo_db)["alerts"].count
    assert all(re.search(r"/news/(articles|policies)/\d+$", e.link) for e in alerts.entries)
    assert len({e.id for e in alerts.entries}) == len(alerts.entries)
    # The root's /alerts.atom is the same feed, not Datasette's HTML 404 page.
    with urllib.request.urlopen(site.rsplit("/", 1)[0] + "/alerts.atom") as response:
        assert response.headers["Content-Type"].startswith("application/atom+xml")
        assert len(feedparser.parse(response.read()).entries) == len(alerts.entries)
    search = {"_search": "算力", "_region": "武汉"}
    saved = feedparser.parse(get(f"{site}/article_list.atom?{urlencode(search)}"))
    assert not saved.bozo
    listed = rows(f"{site}/article_list.json?{urlencode(search)}")
    assert [e.title for e in saved.entries] == [r["title"] for r in listed]
    hubei = feedparser.parse(
        get(f"{site}/new_policies_by_region.atom?{urlencode({'region': '湖北'})}")
    )
    assert hubei.entries and all("/news/policies/" in e.link for e in hubei.entries)
    titles = {e.title for e in hubei.entries}
    regions = {r["region"] for r in Database(demo_db).query("select region from policies")}
    inside = {r for r in regions if r == "湖北" or "湖北" in load_gazetteer().ancestors(r)}
    assert {"武汉"} <= inside
    expected = {
        r["title"]
        for r in Database(demo_db).query(
            f"select title from policies where region in ({', '.join('?' * len(inside))})",
            list(inside),
        )
    }
    assert titles == expected
    # A page of other rows is no feed: a plain-text 400, never an HTML page with 200.
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{site}/fetches.atom")
    with refused.value:
        assert refused.value.code == 400
        assert refused.value.headers["Content-Type"].startswith("text/plain")


@needs_chromium
def test_what_a_person_sees(site: str, demo_db: Path) -> None:
    from tests.support.browser import Browser

    db = Database(demo_db)
    newest = [r["title"] for r in db.query("select title from articles order by id desc limit 3")]
    with Browser(1280, 900) as browser:
        tab = browser.open(f"{site}/article_list")
        # The first screen, unscrolled: the newest titles, and the glossary folded away.
        seen = tab.on_first_screen("td.col-title a")
        assert seen[:3] == newest
        assert tab.on_first_screen("dl.column-descriptions dt") == []
        assert "列说明" in tab.on_first_screen("details.column-glossary summary")
        tab.screenshot("article-list", "the article list: facets on the left, newest titles first")

        tab = browser.open(f"{site}/article_list?_region={quote('武汉')}")
        facet = tab.run(
            "Array.from(document.querySelectorAll('#facet-regions li')).map(l => l.textContent)"
        )
        wuhan = next(line for line in facet if line.strip().startswith("武汉"))
        assert wuhan.split("·")[-1].split()[0] == str(len(within(db, "武汉")))
        tab.screenshot("region-facet", "the article list filtered to 武汉, its zones included")

        article = next(db.query("select id, title from articles where version = 2"))
        tab = browser.open(f"{site}/articles/{article['id']}")
        assert article["title"] in tab.on_first_screen("h1")
        tab.screenshot("article-page", "an article's page: body, tags and its changed sentence")

        draft = next(db.query("select id from policies where draft_id is not null"))
        tab = browser.open(f"{site}/policies/{draft['id']}")
        marks = tab.run("document.querySelectorAll('svg.newsmon-timeline circle').length")
        assert marks >= 2  # the draft and its final version at least
        labels = tab.run("document.querySelector('svg.newsmon-timeline').textContent")
        assert "征求意见稿" in labels and "正式版本" in labels
        tab.screenshot("policy-timeline", "a policy's life on a time axis: draft, final, reports")

        tab = browser.open(f"{site}/-/charts")
        cells = tab.run(
            "Array.from(document.querySelectorAll('svg.newsmon-chart rect title'))"
            ".map(t => t.textContent)"
        )
        counts = {c.rsplit(":", 1)[0]: int(c.rsplit(":", 1)[1]) for c in cells}
        month = next(
            db.query(
                "select region, substr(coalesce(nullif(date, ''), first_seen), 1, 7) m,"
                " count(*) n from policies where region != '' group by 1, 2"
                " order by 3 desc limit 1"
            )
        )
        assert counts[f"{month['region']} {month['m']}"] == month["n"]
        assert tab.on_first_screen("svg.newsmon-chart")  # drawn, and on the first screen
        tab.screenshot("chart-policies", "policies per region per month")

        tab = browser.open(f"{site}/alerts")
        assert tab.on_first_screen("td a")
        tab.screenshot("alerts", "alerts newest first, in Beijing time, linked to their pages")


def test_facet_totals_are_the_counts_after_crawls_and_a_reclassify(demo_db: Path) -> None:
    # The whole list's facets read facet_totals, kept by triggers through every re-tagging.
    fresh = """
        select 'regions', region, count(*) from article_regions where covers = 1 group by 2
        union all select 'topics', topic, count(*) from article_topics group by 2
        union all select 'month', month, count(*) from article_list where month is not null
          group by 2
        union all select 'source_id', source_id, count(*) from article_list group by 2
    """
    kept = "select facet, value, n from facet_totals where n != 0"
    db = Database(demo_db)
    assert sorted(db.execute(kept).fetchall()) == sorted(db.execute(fresh).fetchall())
    newsmon("reclassify", "--db", str(demo_db))
    assert sorted(db.execute(kept).fetchall()) == sorted(db.execute(fresh).fetchall())
