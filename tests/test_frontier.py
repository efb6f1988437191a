"""The requests a crawl has yet to send wait on disk, in a folder of each crawler's own that
is gone when the crawl ends: finished, stopped by SIGTERM, or killed (the next crawl)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.demo.server import DemoServer
from tests.support.run import newsmon, newsmon_command, spawn
from tests.support.sites import generated, path_of, paths_of, write_seeds

# Several times the requests a crawl has in flight (a source's concurrency is 8): the sitemap
# alone puts most of them in the frontier at once.
ARTICLES = 240


@pytest.fixture(scope="module")
def server() -> DemoServer:
    with DemoServer(generated(ARTICLES)) as running:
        yield running


def frontiers(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("newsmon-frontier-*"))


def queued_bytes(tmp: Path) -> int:
    """What the crawls' frontiers hold on disk now."""
    return sum(f.stat().st_size for f in tmp.glob("newsmon-frontier-*/**/*") if f.is_file())


def start_crawl(tmp: Path, db_path: Path, seeds: Path) -> subprocess.Popen[bytes]:
    command = newsmon_command("crawl", "--quiet", "--db", str(db_path), "--seeds", str(seeds))
    return spawn(command, environment(tmp), stdout=subprocess.DEVNULL)


def environment(tmp: Path) -> dict[str, str]:
    """Frontiers under ``tmp``, spilling to disk past 20 requests: the site is small."""
    return {"TMPDIR": str(tmp), "NEWSMON_FRONTIER_MEMORY": "20"}


def wait_for_queue(process: subprocess.Popen[bytes], tmp: Path) -> None:
    """Until requests wait in a frontier on disk (failing if the crawl ends first)."""
    deadline = time.monotonic() + 60
    while queued_bytes(tmp) == 0:
        assert process.poll() is None, "the crawl ended before any request waited on disk"
        assert time.monotonic() < deadline, "no request waited on disk within a minute"
        time.sleep(0.02)


def stored_paths(db_path: Path) -> list[str]:
    return [path_of(row["url"]) for row in Database(db_path)["articles"].rows]


def queued_crawl(
    tmp_path: Path, server: DemoServer
) -> tuple[Path, Path, Path, subprocess.Popen[bytes]]:
    """A crawl of the site's two sources started, once requests wait on disk: its temporary
    folder, database, seeds and process."""
    tmp, db_path = tmp_path / "tmp", tmp_path / "news.db"
    tmp.mkdir()
    seeds = write_seeds(tmp_path / "seeds.toml", server.url)
    process = start_crawl(tmp, db_path, seeds)
    wait_for_queue(process, tmp)
    return tmp, db_path, seeds, process


def crawl_the_rest(tmp: Path, db_path: Path, seeds: Path, server: DemoServer) -> None:
    """A second crawl, after which every article of the site is stored."""
    newsmon(
        "crawl", "--quiet", "--db", str(db_path), "--seeds", str(seeds), env=environment(tmp)
    )
    assert sorted(stored_paths(db_path)) == sorted(paths_of(server.site, ("gen", "gen-local")))


def test_crawlers_side_by_side_queue_on_disk_store_every_article_once_and_clean_up(
    tmp_path: Path, server: DemoServer
) -> None:
    tmp, db_path, seeds, process = queued_crawl(tmp_path, server)
    assert process.wait(timeout=300) == 0
    paths = stored_paths(db_path)
    assert sorted(paths) == sorted(paths_of(server.site, ("gen", "gen-local")))
    assert len(paths) == ARTICLES
    assert not frontiers(tmp)


def test_a_crawl_stopped_by_sigterm_removes_its_frontier_and_the_next_run_reads_the_rest(
    tmp_path: Path, server: DemoServer
) -> None:
    tmp, db_path, seeds, process = queued_crawl(tmp_path, server)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    assert not frontiers(tmp)
    stopped = len(stored_paths(db_path))
    assert stopped < ARTICLES
    crawl_the_rest(tmp, db_path, seeds, server)
    assert not frontiers(tmp)


def test_the_frontier_of_a_killed_crawl_is_removed_by_the_next_crawl(
    tmp_path: Path, server: DemoServer
) -> None:
    tmp, db_path, seeds, process = queued_crawl(tmp_path, server)
    process.kill()
    process.wait(timeout=30)
    assert frontiers(tmp), "kill -9 gave the crawl no chance to remove its frontier"
    crawl_the_rest(tmp, db_path, seeds, server)
    assert not frontiers(tmp)
