"""The bundled demo site: a small Chinese policy-news site with a city portal's 政府信息公开
section, written for newsmon, served on 127.0.0.1 for the offline demo, the tests and the
benchmarks; and the ``newsmon demo`` flow that crawls it, changes it and crawls it again."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# The demo's sources in its seed file: the news site and its 政府信息公开 section.
SOURCES = ("demo", "demo-gov")


class DemoCrawlFailed(Exception):
    """A crawl of the demo site did not finish (its own output said why)."""


def run(db_path: Path, seeds: Path, echo: Callable[[str], None]) -> None:
    """Serve the site, crawl it, apply updates.toml, crawl again, and ``echo`` what was
    stored, the alerts the changes raised and the digest; ``db_path`` starts empty."""
    # Imported here: the package is imported by every user of the site, the flow by one.
    from crawler.clock import now
    from crawler.demo.server import DemoServer
    from crawler.demo.site import load_updates
    from crawler.report import (
        alerts_data,
        alerts_report,
        copies_report,
        database_summary,
        last_id,
    )
    from crawler.reporters import run_digest
    from crawler.serve import serve_command

    for leftover in db_path.parent.glob(db_path.name + "*"):
        leftover.unlink()
    started = time.monotonic()
    with DemoServer() as server:
        echo(
            f"1. serving the demo site at {server.url}; first crawl, a baseline (stored and"
            " searchable, one line in the digest):"
        )
        _crawl(server.url, db_path, seeds)
        echo(alerts_report(alerts_data(db_path)))
        before, known = last_id(db_path, "alerts"), last_id(db_path, "articles")
        server.update(server.site.updated(load_updates(), now()))
        echo(
            "2. the site changed (one sentence edited, one page's chrome only, one article"
            " syndicated, one new article; in 政府信息公开 the final version of a draft for"
            " comment, one attachment replaced); second crawl:"
        )
        _crawl(server.url, db_path, seeds)
    echo(database_summary(db_path))
    echo("3. alerts raised by the second crawl:")
    echo(alerts_report(alerts_data(db_path, after_id=before)))
    echo(copies_report(db_path, after_id=known))
    digest_path = db_path.with_name(db_path.stem + "-digest.html")
    written = run_digest(db_path, None, (), digest_path, False, None)
    echo(f"4. the digest of all alerts not yet sent: {written}")
    echo(f"done in {time.monotonic() - started:.1f}s; browse it: {serve_command(db_path)}")


def _crawl(base_url: str, db_path: Path, seeds: Path) -> None:
    """One `newsmon crawl` of the demo's sources, in its own process (one reactor per process)."""
    selected = [arg for source in SOURCES for arg in ("--source", source)]
    args = [sys.executable, "-m", "crawler", "crawl", *selected, "--base-url", base_url]
    args += ["--db", str(db_path), "--seeds", str(seeds)]
    if subprocess.run(args, check=False).returncode != 0:
        raise DemoCrawlFailed("the demo site could not be crawled")
