"""Shared fixtures: the demo site, served on a loopback port and crawled twice; the run's
screenshots listed at its end. What tests share beyond fixtures is in tests/support/."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from crawler import paths
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite, load_site
from tests.support.run import newsmon
from tests.support.web import DESCRIPTIONS, SCREENSHOTS

# The tests crawl the bundled demo site, or sites they write seed files for: the demo's seed
# file is the sources of every command run here that names none, as for a user who set it.
os.environ[paths.SEEDS_ENV] = str(paths.demo_seeds())


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
        what = DESCRIPTIONS.get(shot)
        terminalreporter.write_line(f"screenshot: {shot}" + (f"  ({what})" if what else ""))
