"""Shared fixtures: the demo site on a loopback port and `newsmon` run as a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler import paths
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite, load_site

PROJECT = Path(__file__).resolve().parent.parent
# Pictures tests took of pages, listed at the end of the run so that a person can look.
SCREENSHOTS: list[Path] = []
SHARED = Path(os.environ.get("NEWSMON_SHARED", PROJECT.parent / "shared"))
# The tests crawl the bundled demo site, or sites they write seed files for: the demo's seed
# file is the sources of every command run here that names none, as for a user who set it.
os.environ[paths.SEEDS_ENV] = str(paths.demo_seeds())


def newsmon(*args: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run the newsmon command in its own process (Scrapy's reactor runs once per process)."""
    result = subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"newsmon {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    """A loopback port that nothing listens on (until a test starts something there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def site() -> DemoSite:
    return load_site()


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoServer]:
    with DemoServer() as server:
        yield server


@pytest.fixture(scope="session")
def crawled(tmp_path_factory: pytest.TempPathFactory, demo_server: DemoServer) -> dict[str, object]:
    """The demo site crawled twice into one database, with both runs' output."""
    db_path = tmp_path_factory.mktemp("crawl") / "news.db"
    args = (
        "crawl", "--source", "demo", "--base-url", demo_server.url, "--db", str(db_path),
        "--progress",
    )  # fmt: skip
    first = newsmon(*args)
    after_first = {t: Database(db_path)[t].count for t in ("articles", "versions", "fetches")}
    requested_first = list(demo_server.requested)
    second = newsmon(*args)
    return {
        "db": Database(db_path),
        "path": db_path,
        "first": first,
        "second": second,
        "after_first": after_first,
        "requested_first": requested_first,
    }


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for shot in SCREENSHOTS:
        terminalreporter.write_line(f"screenshot: {shot}")
