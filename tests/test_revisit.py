"""Revisits of a site that changes between crawls: cheap when nothing changed, and exactly
the alerts a user should get when something did."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from crawler.alerts import HEALTH_KINDS
from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import ROBOTS_TXT, load_site, load_updates
from tests.support.run import newsmon


def crawl(server_url: str, db_path: Path, check: bool = True) -> Any:
    return newsmon(
        "crawl",
        "--source",
        "demo",
        "--base-url",
        server_url,
        "--db",
        str(db_path),
        "--quiet",
        check=check,
    )


def alerts_after(db: Database, after: int) -> list[dict[str, Any]]:
    return list(db.query("select * from alerts where id > ? order by id", [after]))


@pytest.fixture(scope="module")
def revisited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The demo site crawled, changed by updates.toml, crawled again, then once more as is."""
    db_path = tmp_path_factory.mktemp("revisit") / "news.db"
    with DemoServer() as server:
        crawl(server.url, db_path)
        db = Database(db_path)
        first_alerts = db["alerts"].count
        server.update(server.site.updated(load_updates(), now()))
        asked = len(server.requested)
        crawl(server.url, db_path)
        second_requests = server.requested[asked:]
        second_alerts = alerts_after(db, first_alerts)
        asked, sent = len(server.requested), server.bytes_sent
        last = db["alerts"].count
        crawl(server.url, db_path)
        yield {
            "db": db,
            "second_requests": second_requests,
            "second_alerts": second_alerts,
            "third_requests": server.requested[asked:],
            "third_bytes": server.bytes_sent - sent,
            "third_alerts": alerts_after(db, last),
        }


def test_the_changes_raise_exactly_the_expected_alerts(revisited: dict[str, Any]) -> None:
    kinds = sorted(a["kind"] for a in revisited["second_alerts"])
    assert kinds == ["changed_article", "new_article", "new_policy"]
    by_kind = {a["kind"]: a for a in revisited["second_alerts"]}
    changed = by_kind["changed_article"]
    assert changed["title"].startswith("北京出台算力券实施细则")
    diff = json.dumps(json.loads(changed["detail"]), ensure_ascii=False)
    assert "3000" in diff and "5000" in diff
    assert by_kind["new_article"]["title"].startswith("武汉发布算力券管理办法")
    assert by_kind["new_policy"]["title"] == "武汉市算力券管理办法（试行）"


def test_a_chrome_only_change_makes_no_version(revisited: dict[str, Any]) -> None:
    db = revisited["db"]
    row = next(db.query("select id, version from articles where title like '合肥设立百亿元%'"))
    assert row["version"] == 1
    changed = next(db.query("select version from articles where title like '北京出台算力券%'"))
    assert changed["version"] == 2
    diff = next(db.query("select diff from versions where version = 2"))["diff"]
    assert "5000" in diff


def test_a_syndicated_copy_joins_its_story(revisited: dict[str, Any]) -> None:
    db = revisited["db"]
    copies = list(
        db.query("select story_id, outlet from articles where title like '雄安新区发布第二批%'")
    )
    assert len(copies) == 2 and copies[0]["story_id"] == copies[1]["story_id"]
    assert "雄安时报" in {c["outlet"] for c in copies}


def test_an_unchanged_revisit_is_cheap_and_silent(revisited: dict[str, Any]) -> None:
    assert revisited["third_alerts"] == []
    db = revisited["db"]
    last_run = next(db.query("select max(id) id from crawl_runs"))["id"]
    fetched = list(db.query("select url, kind, status from fetches where run_id = ?", [last_run]))
    assert fetched and all(f["status"] == 304 for f in fetched)
    assert not [f for f in fetched if f["kind"] == "article"]
    # Only robots.txt, which Scrapy asks for plainly on each run, is sent in full.
    assert revisited["third_bytes"] == len(ROBOTS_TXT.encode())


def test_the_second_crawl_fetches_only_what_changed(revisited: dict[str, Any]) -> None:
    site = load_site()
    unchanged = {a.path for a in site.articles} - {
        site.article(i).path for i in ("bj-compute-voucher", "hefei-ai-fund")
    }
    assert not [p for p in revisited["second_requests"] if p.split("?")[0] in unchanged]


def test_a_due_article_is_checked_conditionally(tmp_path: Path) -> None:
    db_path = tmp_path / "news.db"
    with DemoServer() as server:
        crawl(server.url, db_path)
        db = Database(db_path)
        db.execute("update articles set next_check = '2000-01-01T00:00:00+00:00' where id = 1")
        db.conn.commit()
        asked = len(server.requested)
        crawl(server.url, db_path)
        url = next(db.query("select url, checks, next_check from articles where id = 1"))
    path = "/" + url["url"].split("/", 3)[3]
    assert path in server.requested[asked:]
    assert url["checks"] == 1 and url["next_check"] > now()
    status = next(
        db.query("select status from fetches where url = ? order by id desc limit 1", [url["url"]])
    )["status"]
    assert status == 304


def test_a_failing_source_is_reported_once_and_its_recovery(tmp_path: Path) -> None:
    db_path = tmp_path / "news.db"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    for _ in range(3):  # FAILING_AFTER
        crawl(closed, db_path, check=False)
    with DemoServer() as server:
        crawl(server.url, db_path)
    kinds = [
        a["kind"]
        for a in Database(db_path).query("select kind from alerts order by id")
        if a["kind"] in HEALTH_KINDS
    ]
    assert kinds == ["source_failing", "source_recovered"]
