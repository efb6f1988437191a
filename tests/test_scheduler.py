"""The daemon over real crawls: the demo site on loopback, sources due every few seconds."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler import paths
from crawler.daemon import first_run, make_trigger
from crawler.demo.server import DemoServer
from crawler.sources import Source, crontab_fields
from tests.support.kills import crawls_of
from tests.support.run import newsmon_command, start
from tests.support.serving import StallingSite
from tests.support.sites import generated

# A second source on the same site: its start URL is not one of demo's (they must be unique).
SECOND_SOURCE = """
[[source]]
id = "demo-industry"
name = "智策新闻网 · 产业（第二页起）"
base_url = "{url}"
lists = ["/industry/index_2.html"]
private_hosts = ["127.0.0.1"]
article_urls = ['^/[a-z]+/\\d{{6}}/t\\d{{8}}_\\d+\\.html$']
every = "{every}"
delay = 0
concurrency = 8
"""


def write_seeds(path: Path, url: str, demo_every: str, second_every: str) -> Path:
    """The demo's seed file pointed at ``url``, and a second source that reads one list page."""
    # The news source alone: the timings below are of these two sources, not of demo-gov's.
    head, *sources = paths.demo_seeds().read_text("utf-8").split("[[source]]")
    demo = head + "".join(f"[[source]]{s}" for s in sources if '\nid = "demo"\n' in s)
    demo = re.sub(r'(?m)^base_url = ".*"$', f'base_url = "{url}"', demo)
    demo = re.sub(r'(?m)^every = ".*"$', f'every = "{demo_every}"', demo)
    path.write_text(demo + SECOND_SOURCE.format(url=url, every=second_every), "utf-8")
    return path


def runs(db_path: Path) -> list[dict[str, Any]]:
    """Every crawl run, oldest first, each with whether one of its listings was read."""
    if not db_path.exists():
        return []
    with closing(sqlite3.connect(db_path)) as db:
        db.row_factory = sqlite3.Row
        try:
            rows = db.execute(
                "select *, exists (select 1 from fetches f where f.run_id = r.id"
                " and f.kind != 'article' and f.error is null) as listed"
                " from crawl_runs r order by id"
            )
            return [dict(row) for row in rows]
        except sqlite3.OperationalError:  # the first crawl is creating the schema
            return []


def of(rows: list[dict[str, Any]], source_id: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["source_id"] == source_id]


def wait_for[T](
    check: Callable[[], T | None], seconds: float, daemon: subprocess.Popen[bytes], log: Path
) -> T:
    """What ``check`` returns once it returns something, while the daemon runs (``seconds``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and daemon.poll() is None:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(
        f"gave up (daemon exit code {daemon.poll()}); daemon log:\n{log.read_text('utf-8')}"
    )


def stop(daemon: subprocess.Popen[bytes], signum: int) -> tuple[int, float]:
    """Signal the daemon's process group, as Ctrl-C in a terminal does; its exit code and how
    long it took to exit."""
    started = time.monotonic()
    os.killpg(daemon.pid, signum)
    code = daemon.wait(timeout=30)
    return code, time.monotonic() - started


def end(daemon: subprocess.Popen[bytes]) -> None:
    """Kill the daemon if a failed test left it running."""
    if daemon.poll() is None:
        daemon.kill()
        daemon.wait()


def in_flight(
    db_path: Path, at_least: dict[str, int], after: int = 0
) -> list[dict[str, Any]] | None:
    """Runs after run ``after`` that are running and have read a listing, once each source
    has this many runs."""
    rows = runs(db_path)
    if any(len(of(rows, source)) < n for source, n in at_least.items()):
        return None
    return [r for r in rows if r["id"] > after and r["status"] == "running" and r["listed"]] or None


@pytest.fixture(scope="module")
def daemon_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`newsmon daemon` on two sources due every 2s and 3s, stopped by SIGTERM mid-crawl."""
    tmp = tmp_path_factory.mktemp("daemon")
    db_path, log = tmp / "news.db", tmp / "daemon.log"
    with DemoServer() as server:
        seeds = write_seeds(tmp / "seeds.toml", server.url, "2s", "3s")
        command = newsmon_command("daemon", "--db", str(db_path))
        daemon = start([*command, "--seeds", str(seeds)], log)
        try:
            flying = wait_for(
                lambda: in_flight(db_path, {"demo": 3, "demo-industry": 2}), 40, daemon, log
            )
            code, seconds = stop(daemon, signal.SIGTERM)
        finally:
            end(daemon)
        yield {
            "tmp": tmp,
            "db": db_path,
            "log": log,
            "url": server.url,
            "in_flight": flying,
            "code": code,
            "seconds": seconds,
            "runs": runs(db_path),
        }


def test_each_source_runs_on_its_own_schedule(daemon_run: dict[str, Any]) -> None:
    rows = daemon_run["runs"]
    assert len(of(rows, "demo")) >= 3 and len(of(rows, "demo-industry")) >= 2
    log = daemon_run["log"].read_text("utf-8")
    assert re.search(r"info: crawler\.daemon: demo: every 2s, last run never, next run ", log)
    assert re.search(
        r"info: crawler\.daemon: demo: run ended, ok, \d+\.\ds: crawled 1 source: ", log
    )


def test_runs_of_one_source_never_overlap(daemon_run: dict[str, Any]) -> None:
    for source in ("demo", "demo-industry"):
        source_runs = of(daemon_run["runs"], source)
        for previous, run in zip(source_runs, source_runs[1:], strict=False):
            assert run["started"] >= previous["finished"], (previous, run)


def test_sigterm_lets_running_crawls_finish_their_run(daemon_run: dict[str, Any]) -> None:
    assert daemon_run["code"] == 0
    assert daemon_run["seconds"] < 15
    rows = {r["id"]: r for r in daemon_run["runs"]}
    assert daemon_run["in_flight"]
    for run in daemon_run["in_flight"]:
        assert rows[run["id"]]["status"] == "ok", rows[run["id"]]
    assert all(r["status"] == "ok" and r["finished"] for r in rows.values()), rows
    assert "stopping: waiting for " in daemon_run["log"].read_text("utf-8")


def test_a_restart_resumes_the_plan(daemon_run: dict[str, Any]) -> None:
    """After a restart the overdue source runs at once; the other waits for its time."""
    tmp, db_path, log = daemon_run["tmp"], daemon_run["db"], daemon_run["log"]
    # An interval longer than a crawl process takes to start (~5 s on a loaded machine: Scrapy,
    # the extractors and the pool's warm-up), so that "at once" and "after one interval" differ.
    seeds = write_seeds(tmp / "seeds.toml", daemon_run["url"], "10s", "1h")
    before = runs(db_path)
    last_demo = datetime.fromisoformat(of(before, "demo")[-1]["started"])
    # The demo source is overdue once 10s have passed since its last run started.
    time.sleep(max(0.0, (last_demo + timedelta(seconds=11) - datetime.now(UTC)).total_seconds()))
    restarted = datetime.now(UTC)
    command = [sys.executable, "scheduler.py", "--db", str(db_path), "--seeds", str(seeds)]
    daemon = start(command, log)
    try:
        new = wait_for(lambda: in_flight(db_path, {}, after=before[-1]["id"]), 15, daemon, log)
        code, _ = stop(daemon, signal.SIGINT)
    finally:
        end(daemon)
    assert code == 0
    started = datetime.fromisoformat(new[0]["started"])
    assert new[0]["source_id"] == "demo"
    assert started - last_demo >= timedelta(seconds=10)
    assert started - restarted < timedelta(seconds=8), "the overdue source waited"
    after = runs(db_path)
    assert of(after, "demo-industry") == of(before, "demo-industry"), (
        "demo-industry was not due for 1h"
    )
    assert all(r["status"] == "ok" for r in after)


def test_schedules_read_as_a_crontab_reads_them() -> None:
    assert crontab_fields("0 7 * * 1-5")["day_of_week"] == "mon,tue,wed,thu,fri"
    assert crontab_fields("0 7 * * 0,6")["day_of_week"] == "sun,sat"
    assert crontab_fields("0 7 * * sat-sun")["day_of_week"] == "sat,sun"
    saturday = datetime(2024, 6, 1, 12, tzinfo=UTC)
    cron = Source(id="x", name="x", article_urls=("^/a$",), cron="0 7 * * 1-5")
    trigger = make_trigger(cron, None, saturday)
    assert trigger is not None
    monday = trigger.get_next_fire_time(None, saturday).astimezone()
    assert (monday.weekday(), monday.hour, monday.minute < 6) == (0, 7, True)


def test_the_first_run_follows_the_last_one() -> None:
    now = datetime(2024, 6, 1, 12, tzinfo=UTC)
    source = Source(id="x", name="x", article_urls=("^/a$",), every="6h")
    last = now - timedelta(hours=1)
    due = first_run(make_trigger(source, last, now), last, now)
    assert timedelta(hours=6) <= due - last <= timedelta(hours=6, minutes=5)
    long_ago = now - timedelta(hours=7)
    assert first_run(make_trigger(source, long_ago, now), long_ago, now) == now
    assert first_run(make_trigger(source, None, now), None, now) == now


def test_the_daily_digest_is_scheduled_from_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crawler.daemon import Daemon

    settings = tmp_path / "newsmon.toml"
    settings.write_text('[smtp]\nto = ["analyst@example.cn"]\n[digest]\ntime = "07:45"\n')
    monkeypatch.setenv("NEWSMON_CONFIG", str(settings))
    daemon = Daemon(tmp_path / "news.db", tmp_path, ())
    daemon.schedule_digest()
    daemon.scheduler.start(paused=True)
    job = daemon.scheduler.get_job("digest")
    assert job is not None and job.next_run_time.strftime("%H:%M") == "07:45"
    assert job.args[1][-3:] == ["digest", "--db", str(tmp_path / "news.db")]
    daemon.scheduler.shutdown(wait=False)


# One of twenty small sites; each is its own source on its own port, due as the daemon starts.
MANY_SOURCE = """
[[source]]
id = "site-{n}"
name = "站点 {n}"
base_url = "{url}"
lists = ["/policy/", "/industry/", "/local/"]
private_hosts = ["127.0.0.1"]
article_urls = ['^/[a-z]+/\\d{{6}}/t\\d{{8}}_\\d+\\.html$']
every = "1h"
delay = 0
concurrency = 4
"""


def test_twenty_sources_due_at_once_run_once_each_in_one_crawl_process(tmp_path: Path) -> None:
    sites = [DemoServer(generated(6)) for _ in range(20)]
    db_path, log, seeds = tmp_path / "news.db", tmp_path / "daemon.log", tmp_path / "seeds.toml"
    with ExitStack() as servers:
        for site in sites:
            servers.enter_context(site)
        text = "".join(MANY_SOURCE.format(n=n, url=site.url) for n, site in enumerate(sites))
        seeds.write_text(text, "utf-8")
        daemon = start(
            [*newsmon_command("daemon", "--db", str(db_path)), "--seeds", str(seeds)], log
        )
        most_crawls = most_processes = 0

        def all_finished() -> list[dict[str, Any]] | None:
            nonlocal most_crawls, most_processes
            crawls = [pid for pid in crawls_of(db_path) if parent_of(pid) == daemon.pid]
            most_crawls = max(most_crawls, len(crawls))
            most_processes = max(most_processes, len(descendants_of(daemon.pid)))
            rows = runs(db_path)
            done = {r["source_id"] for r in rows if r["status"] != "running"}
            return rows if len(done) == len(sites) else None

        try:
            rows = wait_for(all_finished, 240, daemon, log)
            code, _ = stop(daemon, signal.SIGTERM)
        finally:
            end(daemon)
    assert code == 0
    assert sorted(r["source_id"] for r in rows) == sorted(f"site-{n}" for n in range(20))
    assert all(r["status"] == "ok" for r in rows), rows
    # Each site's articles were stored, by the one process that crawled them all.
    assert most_crawls == 1, log.read_text("utf-8")
    # That process and its pool of extract workers, one a core: not a process a source.
    assert most_processes <= 1 + (os.cpu_count() or 1), most_processes
    with closing(sqlite3.connect(db_path)) as db:
        stored = dict(db.execute("select source_id, count(*) from articles group by source_id"))
    assert stored == {f"site-{n}": 6 for n in range(20)}
    assert log.read_text("utf-8").count("crawl process started") == 1


def test_a_hung_source_delays_no_other_source(tmp_path: Path) -> None:
    db_path, log, seeds = tmp_path / "news.db", tmp_path / "daemon.log", tmp_path / "seeds.toml"
    with DemoServer(generated(6)) as site, StallingSite() as hung:
        text = MANY_SOURCE.format(n=0, url=site.url) + MANY_SOURCE.format(n=1, url=hung.url)
        seeds.write_text(text.replace("delay = 0\n", "delay = 0\ntimeout = 3\n"), "utf-8")
        daemon = start(
            [*newsmon_command("daemon", "--db", str(db_path)), "--seeds", str(seeds)], log
        )

        def ended(source_id: str) -> dict[str, Any] | None:
            done = [r for r in of(runs(db_path), source_id) if r["status"] != "running"]
            return done[0] if done else None

        try:
            good = wait_for(lambda: ended("site-0"), 60, daemon, log)
            hung_run = ended("site-1")
            stalled = wait_for(lambda: ended("site-1"), 120, daemon, log)
            code, _ = stop(daemon, signal.SIGTERM)
        finally:
            end(daemon)
    assert code == 0
    # The good source finished while the hung one was still waiting on its first answers.
    assert good["status"] == "ok" and hung_run is None, (good, hung_run)
    with closing(sqlite3.connect(db_path)) as db:
        assert db.execute("select count(*) from articles").fetchone()[0] == 6
    # The hung one gave up by its own timeout (with its retries), as a failed run.
    assert stalled["status"] == "failed", stalled
    assert "site-1: run ended, failed" in log.read_text("utf-8")


def test_a_killed_crawl_process_is_logged_and_the_next_run_gets_a_new_one(
    tmp_path: Path,
) -> None:
    db_path, log, seeds = tmp_path / "news.db", tmp_path / "daemon.log", tmp_path / "seeds.toml"
    with DemoServer(generated(40)) as site:
        # Slow enough that the first run is going when its process is killed.
        text = MANY_SOURCE.format(n=0, url=site.url).replace('every = "1h"', 'every = "3s"')
        seeds.write_text(text.replace("delay = 0\n", "delay = 0.2\n"), "utf-8")
        daemon = start(
            [*newsmon_command("daemon", "--db", str(db_path)), "--seeds", str(seeds)], log
        )
        try:
            first = wait_for(lambda: in_flight(db_path, {"site-0": 1}), 60, daemon, log)
            crawls = [pid for pid in crawls_of(db_path) if parent_of(pid) == daemon.pid]
            assert len(crawls) == 1
            os.kill(crawls[0], signal.SIGKILL)
            after = first[0]["id"]
            later = wait_for(
                lambda: (
                    [r for r in of(runs(db_path), "site-0") if r["id"] > after]
                    and "killed by SIGKILL" in log.read_text("utf-8")
                    and ended_ok(db_path, after)
                ),
                90,
                daemon,
                log,
            )
            code, _ = stop(daemon, signal.SIGTERM)
        finally:
            end(daemon)
    assert later and code == 0
    text = log.read_text("utf-8")
    assert "site-0: run ended with the crawl process, killed by SIGKILL" in text, text
    assert text.count("crawl process started") >= 2, text


def ended_ok(db_path: Path, after: int) -> bool:
    """Whether a run of site-0 after run ``after`` finished ok."""
    return any(r["id"] > after and r["status"] == "ok" for r in of(runs(db_path), "site-0"))


def parent_of(pid: int) -> int | None:
    """The parent pid of ``pid`` (Linux: from /proc), None if it has ended."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("ascii")
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def descendants_of(root: int) -> set[int]:
    """The pids of every process below ``root`` now."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (parent := parent_of(int(entry.name))) is not None:
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found
