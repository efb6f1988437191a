"""Crawl the bundled demo site end to end (fetch, extract, store) and print the speed.

    .venv/bin/python benchmarks/demo_crawl.py [--runs 3]

Each run is a fresh `newsmon crawl` process into a fresh database, as cron would start it, so
the figures include process start-up and the Scrapy reactor.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlite_utils import Database

from crawler.demo.server import DemoServer
from crawler.paths import demo_seeds

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import newsmon  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    with DemoServer() as server, tempfile.TemporaryDirectory() as tmp:
        for n in range(1, runs + 1):
            db_path = Path(tmp) / f"run{n}.db"
            started = time.perf_counter()
            newsmon(
                "crawl", "--quiet", "--source", "demo", "--seeds", str(demo_seeds()),
                "--base-url", server.url,
                "--db", str(db_path),
            )  # fmt: skip
            seconds = time.perf_counter() - started
            db = Database(db_path)
            pages = db["fetches"].count
            articles = db["articles"].count
            print(
                f"run {n}: {pages} fetches, {articles} articles in {seconds:.2f}s = "
                f"{pages / seconds:.1f} pages/s, {articles / seconds:.1f} articles/s "
                "(wall time, process start included)"
            )


if __name__ == "__main__":
    main()
