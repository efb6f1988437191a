"""Crawling from several processes as one: a real redis-server on 127.0.0.1, two `newsmon
crawl --redis-url` processes sharing scrapy-redis's frontier, one `newsmon ingest` writing."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlite_utils import Database

from crawler import paths
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite
from crawler.distributed import ITEMS, REJECTED, TAKEN
from tests.support.run import free_port, newsmon, newsmon_command, spawn
from tests.support.sites import public

REDIS_SERVER = shutil.which("redis-server")
# CI installs redis-server (.ci/run); elsewhere the tests say what to install.
pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None and not os.environ.get("CI"),
    reason="redis-server is not on PATH (apt-get install redis-server)",
)
ARTICLE_PATH = re.compile(r"^/[a-z]+/\d{6}/t\d{8}_\d+\.html")


@pytest.fixture()
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real Redis on a free loopback port, with nothing saved to disk."""
    assert REDIS_SERVER is not None, "redis-server is not on PATH (apt-get install redis-server)"
    port = free_port()
    server = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    server.terminate()
    server.wait(10)


def demo_seeds(folder: Path, delay: float, base_url: str | None = None) -> Path:
    """The demo's seed file in ``folder``, with its delay between requests and its address."""
    folder.mkdir(exist_ok=True)
    text = paths.demo_seeds().read_text(encoding="utf-8")
    text = text.replace("delay = 0\n", f"delay = {delay}\n")
    if base_url:
        text = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{base_url}"', text)
    (folder / "demo.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture()
def slow_seeds(tmp_path: Path) -> Path:
    """The demo source asking for a page every 0.5 s per crawler: slow enough that the
    second crawler finds work left when it joins."""
    return demo_seeds(tmp_path / "seeds", 0.5)


def start(*args: str) -> subprocess.Popen[str]:
    return spawn(newsmon_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def shared_round(
    url: str, db_path: Path, seeds: Path, server: DemoServer, crawlers: int = 2
) -> dict[str, Any]:
    """One writer and ``crawlers`` crawlers started together; once the crawlers are done and
    the writer has written all they sent, the writer is stopped. Everyone's output."""
    writer = start("ingest", "--redis-url", url, "--db", str(db_path), "--seeds", str(seeds))
    crawl = ("crawl", "--source", "demo", "--base-url", server.url, "--seeds", str(seeds))
    running = [start(*crawl, "--redis-url", url) for _ in range(crawlers)]
    outputs = [p.communicate(timeout=180) for p in running]
    for process, (out, err) in zip(running, outputs, strict=True):
        assert process.returncode == 0, f"crawler failed:\n{out}\n{err}"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 60
    while (
        client.llen(ITEMS)
        or client.llen(TAKEN)
        or Database(db_path)["crawl_runs"].count_where("status = 'running'")
    ):
        assert time.monotonic() < deadline, "the writer did not write what the crawlers sent"
        time.sleep(0.2)
    writer.send_signal(signal.SIGTERM)
    written, problems = writer.communicate(timeout=30)
    assert writer.returncode == 0, problems
    return {"crawlers": [out for out, _ in outputs], "writer": written}


def article_requests(server: DemoServer, since: int = 0) -> Counter[str]:
    return Counter(p.split("?")[0] for p in server.requested[since:] if ARTICLE_PATH.match(p))


def test_two_crawlers_and_one_writer_fetch_and_store_each_article_once(
    redis_url: str, slow_seeds: Path, tmp_path: Path, site: DemoSite, crawled: dict[str, Any]
) -> None:
    db_path = tmp_path / "shared.db"
    expected = {a.path for a in public(site)}
    with DemoServer() as server:
        first = shared_round(redis_url, db_path, slow_seeds, server)
        fetched = article_requests(server)
        assert set(fetched) == expected
        assert set(fetched.values()) == {1}, "an article was fetched twice"
        # Both crawlers did part of the work: the frontier was shared, not raced for.
        pages = [int(re.search(r"(\d+) pages", out)[1]) for out in first["crawlers"]]  # type: ignore[index]
        assert all(pages), first["crawlers"]
        assert "wrote" in first["writer"]

        db = Database(db_path)
        urls = [row["url"] for row in db["articles"].rows]
        assert len(urls) == len(set(urls)) == len(expected)
        assert db["versions"].count == len(expected)
        runs = list(db["crawl_runs"].rows)
        assert [(r["status"], r["articles_new"], r["finish_reason"]) for r in runs] == [
            ("ok", len(expected), "finished")
        ]
        # The crawlers' counts are summed into the run's; its round number is not.
        run_stats = json.loads(runs[0]["stats"])
        assert run_stats["newsmon/round"] == 1
        assert run_stats["newsmon/pages"] == sum(pages) == runs[0]["pages"]

        # What was sent through Redis is what a crawl on one machine stores: texts and tags.
        assert contents(db) == contents(crawled["db"])

        # A second round revisits with the plan the writer published: the listings answer
        # 304 and no article is asked for again, nor stored again.
        before = len(server.requested)
        shared_round(redis_url, db_path, slow_seeds, server)
        assert not article_requests(server, before)
        assert db["versions"].count == len(expected)
        last = list(db["crawl_runs"].rows)[-1]
        assert (last["status"], last["articles_new"], last["articles_unchanged"]) == ("ok", 0, 0)
        statuses = {r["status"] for r in db["fetches"].rows_where("run_id = ?", [last["id"]])}
        assert statuses == {304}


def stored_count(db_path: Path) -> int:
    """How many articles the database holds so far (none before its tables exist)."""
    if not db_path.exists():
        return 0
    db = Database(db_path)
    try:
        return db["articles"].count if "articles" in db.table_names() else 0
    finally:
        db.close()


def contents(db: Database) -> dict[str, tuple[Any, ...]]:
    """Each article by path: its title, text, date, topics and regions."""
    topics: dict[int, set[str]] = {}
    for row in db["article_topics"].rows:
        topics.setdefault(row["article_id"], set()).add(row["topic"])
    regions: dict[int, set[tuple[str, int]]] = {}
    for row in db["article_regions"].rows:
        regions.setdefault(row["article_id"], set()).add((row["region"], row["is_primary"]))
    return {
        row["url"].split("/", 3)[3]: (
            row["title"],
            row["text"],
            row["published"],
            topics.get(row["id"], set()),
            regions.get(row["id"], set()),
        )
        for row in db["articles"].rows
    }


def test_an_unreachable_redis_is_one_line(tmp_path: Path) -> None:
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    for args in (("crawl", "--source", "demo"), ("ingest", "--db", str(tmp_path / "x.db"))):
        result = newsmon(*args, "--redis-url", url, check=False)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Redis at redis://127.0.0.1:" in lines[0], result.stderr
        assert "secret" not in result.stderr


def test_a_writer_killed_midway_loses_nothing_and_doubles_nothing(
    redis_url: str, tmp_path: Path, site: DemoSite
) -> None:
    db_path = tmp_path / "shared.db"
    expected = {a.path for a in public(site)}
    with DemoServer() as server:
        # The crawl runs while no writer does: its items wait in Redis.
        newsmon("crawl", "--source", "demo", "--base-url", server.url, "--redis-url", redis_url)
    waiting = redis.Redis.from_url(redis_url).llen(ITEMS)
    assert waiting > len(expected)
    writer = start("ingest", "--redis-url", redis_url, "--db", str(db_path))
    deadline = time.monotonic() + 60
    while stored_count(db_path) < 5:
        assert time.monotonic() < deadline and writer.poll() is None, "the writer wrote nothing"
        time.sleep(0.05)
    writer.kill()
    writer.communicate()
    assert stored_count(db_path) < len(expected)

    newsmon("ingest", "--redis-url", redis_url, "--db", str(db_path), "--until-idle", "2")
    db = Database(db_path)
    urls = [row["url"] for row in db["articles"].rows]
    assert len(urls) == len(set(urls)) == len(expected)
    assert db["versions"].count == len(expected)
    # The run the killed writer had open is marked so; the next one finished the round.
    assert [r["status"] for r in db["crawl_runs"].rows] == ["interrupted", "ok"]


def test_messages_the_writer_cannot_write_are_kept_aside(redis_url: str, tmp_path: Path) -> None:
    client = redis.Redis.from_url(redis_url)
    unknown = b'{"type": "open", "source": "nowhere", "worker": "w", "round": 1}'
    client.rpush(ITEMS, b"\xff not json", unknown)
    result = newsmon(
        "ingest", "--redis-url", redis_url, "--db", str(tmp_path / "x.db"), "--until-idle", "1"
    )
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 2, result.stderr
    assert "unknown source 'nowhere'" in problems[1]
    assert client.lrange(REJECTED, 0, -1) == [b"\xff not json", unknown]
    assert not client.llen(ITEMS) and not client.llen(TAKEN)


def test_the_daemon_of_a_crawler_host_crawls_through_redis(
    redis_url: str, tmp_path: Path, site: DemoSite
) -> None:
    with DemoServer() as server:
        seeds = demo_seeds(tmp_path / "seeds", 0, server.url)
        daemon = spawn(
            newsmon_command(
                *("daemon", "--source", "demo", "--seeds", str(seeds)),
                *("--db", str(tmp_path / "none.db")),
            ),
            {"NEWSMON_REDIS_URL": redis_url},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 120
        while b'"type": "close"' not in b"".join(client.lrange(ITEMS, -1, -1)):
            assert time.monotonic() < deadline and daemon.poll() is None, "no crawl ended"
            time.sleep(0.2)
        daemon.send_signal(signal.SIGTERM)
        log, _ = daemon.communicate(timeout=60)
    assert daemon.returncode == 0, log
    assert "digest: not scheduled here" in log
    # The crawler host has no database; the writer's gets every article.
    assert not (tmp_path / "none.db").exists()
    db_path = tmp_path / "shared.db"
    newsmon("ingest", "--redis-url", redis_url, "--seeds", str(seeds), "--db", str(db_path),
            "--until-idle", "1")  # fmt: skip
    assert stored_count(db_path) == len(public(site))
