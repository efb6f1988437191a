"""The daemon at scale: K sources due at once, crawled by its one crawl process, against one
`newsmon crawl` of the same sources.

    NEWSMON_SHARED=/work/shared .venv/bin/python benchmarks/sources.py [--sources 10,50,200]
        [--articles 50]

For each K: K generated sites of N articles (tests/support/sites.py; Simplified pages, as the
fault benchmarks serve them), each a DemoServer on its own port of 127.0.0.1 and a source of
its own in one seed file, polite as a real site wants: delay 0.5 s, concurrency 2 (a site of
50 articles then takes a source ~35 s however fast the machine). Rows:

    daemon, round 1     `newsmon daemon`, fresh database, every source due at start (every 6h)
    crawl               one `newsmon crawl` of the same K sources, fresh database
    daemon, round 2     the daemon restarted on round 1's database with an `every` just short
                        of the time since round 1's runs started: each source due again at
                        start, its revisit answered 304 by the unchanged site
    daemon, 1 stalled   as round 1, one of the K sites accepting connections and never
                        answering: the wall time is that of the other K-1 sources' runs

Columns: wall time until every source's run has ended (polled from crawl_runs every 0.1 s; the
daemon is then stopped), peak PSS of the whole process tree and of the command's own process
(the daemon without its crawl process), the most processes in the tree at once (sampled from
/proc every 0.1 s, as benchmarks/crawl.py samples), the tree's CPU seconds as last sampled, runs
started (more than K: a source ran twice), and the requests the runs recorded and how many of
them were answered 304. Then the ratios daemon / crawl and the targets of issue 15. The load
average is printed with each K: the machine may be shared, and wall times are worth only as
much as the cores were free.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from benchmarks.crawl import tree_sample  # noqa: E402
from crawler.demo.server import DemoServer  # noqa: E402
from tests.support.run import newsmon_command, start  # noqa: E402
from tests.support.serving import StallingSite  # noqa: E402
from tests.support.sites import changed_site  # noqa: E402

SOURCE = r"""
[[source]]
id = "site-{n}"
name = "generated site {n}"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/policy/", "/industry/", "/local/"]
feeds = ["/rss.xml"]
sitemaps = ["/sitemap.xml"]
article_urls = ['^/[a-z]+/\d{{6}}/t\d{{8}}_\d+\.html$']
list_urls = ['^/(policy|industry|local)/(index_\d+\.html)?$']
max_list_pages = 3
every = "{every}"
delay = 0.5
concurrency = 2
"""
SAMPLE_SECONDS = 0.1
# A round that has not ended by then is reported as such, not waited for.
ROUND_LIMIT_SECONDS = 1800.0
# Round 2's `every` is at least this: no source falls due a second time within the round.
ROUND_TWO_EVERY = 120
STOP_SECONDS = 60.0


@dataclass(frozen=True)
class Measured:
    """One row: a command's run until the sources' runs ended."""

    seconds: float
    pss: int  # bytes, the tree's peak
    own: int  # bytes, the command's own process's peak PSS (the daemon without its crawls)
    processes: int  # most at once, the command's own included
    cpu: float  # seconds, the tree's
    runs: int  # runs started
    fetches: int  # requests the runs recorded
    unchanged: int  # of them answered 304


def write_seeds(path: Path, urls: Iterable[str], every: str) -> None:
    """A source ``site-N`` for the Nth of ``urls``, each run ``every``."""
    text = "".join(SOURCE.format(n=n, url=url, every=every) for n, url in enumerate(urls))
    path.write_text(text, encoding="utf-8")


def read_runs(db_path: Path, after: int) -> list[tuple[str, str, str]]:
    """The runs after run ``after``: source, status, started; read-only, the crawls write."""
    if not db_path.exists():
        return []
    try:
        with closing(sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute(
                "select source_id, status, started from crawl_runs where id > ?", [after]
            )
            return [tuple(row) for row in rows]
    except sqlite3.OperationalError:  # the first crawl is creating the schema
        return []


def read_fetches(db_path: Path, after: int) -> tuple[int, int]:
    """How many requests the runs after run ``after`` recorded, and how many were answered 304."""
    with closing(sqlite3.connect(db_path)) as db:
        found = db.execute(
            "select count(*), coalesce(sum(status = 304), 0) from fetches where run_id > ?", [after]
        ).fetchone()
        return int(found[0]), int(found[1])


def last_run_id(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path)) as db:
        return int(db.execute("select coalesce(max(id), 0) from crawl_runs").fetchone()[0])


def measure(command: list[str], db_path: Path, wanted: set[str], log: Path) -> Measured:
    """Run ``command`` until the runs of ``wanted`` it started have ended, sampling its tree;
    a daemon is then stopped (SIGTERM, a second one if it keeps going)."""
    after = last_run_id(db_path) if db_path.exists() else 0
    started = time.perf_counter()
    process = start(command, log)
    peak = own = most = 0
    cpu: dict[int, float] = {}
    try:
        while True:
            now_seen: dict[int, float] = {}
            pss, _, root = tree_sample(process.pid, now_seen)
            peak, most, own = max(peak, pss), max(most, len(now_seen)), max(own, root)
            for pid, seconds in now_seen.items():
                cpu[pid] = max(cpu.get(pid, 0.0), seconds)
            runs = read_runs(db_path, after)
            ended = {source for source, status, _ in runs if status != "running"}
            if wanted <= ended:
                break
            if process.poll() is not None:
                ended_log = log.read_text("utf-8", "replace")[-2000:]
                raise SystemExit(f"{command[1]} ended ({process.returncode}):\n{ended_log}")
            if time.perf_counter() - started > ROUND_LIMIT_SECONDS:
                raise SystemExit(f"{command[1]}: runs still going after {ROUND_LIMIT_SECONDS}s")
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
    finally:
        stop(process)
    fetches, unchanged = read_fetches(db_path, after)
    return Measured(seconds, peak, own, most, sum(cpu.values()), len(runs), fetches, unchanged)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``process`` as a user would: SIGTERM, and a second one if it does not end."""
    for _ in range(2):
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue
    process.kill()
    process.wait()


def round_two_every(db_path: Path) -> int:
    """An `every` in seconds after which every source is due again now (jitter included: up
    to a tenth of it); waits until that is at least ROUND_TWO_EVERY."""
    newest = max(datetime.fromisoformat(started) for _, _, started in read_runs(db_path, 0))
    since = (datetime.now(UTC) - newest).total_seconds()
    if since < 1.1 * ROUND_TWO_EVERY + 2:
        time.sleep(1.1 * ROUND_TWO_EVERY + 2 - since)
        since = 1.1 * ROUND_TWO_EVERY + 2
    return int((since - 2) / 1.1)


def row(name: str, measured: Measured, beside: str = "") -> str:
    return (
        f"{name:18} {measured.seconds:7.1f} {measured.pss / 2**20:7.0f} {measured.own / 2**20:6.0f}"
        f" {measured.processes:5d} {measured.cpu:7.1f} {measured.runs:5d} {measured.fetches:7d}"
        f" {measured.unchanged:6d}  {beside}"
    )


def bench(count: int, articles: int, folder: Path) -> None:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nK={count} sources of {articles} articles; load average {load}", flush=True)
    site = changed_site(articles, 0)
    daemon = newsmon_command("daemon")
    crawl = newsmon_command("crawl", "--quiet")
    with ExitStack() as servers:
        urls = [servers.enter_context(DemoServer(site)).url for _ in range(count)]
        stalled = servers.enter_context(StallingSite())
        seeds = folder / "seeds.toml"
        write_seeds(seeds, urls, "6h")
        wanted = {f"site-{n}" for n in range(count)}
        print(
            f"{'':18} {'wall s':>7} {'PSS MB':>7} {'own MB':>6} {'procs':>5} {'CPU s':>7}"
            f" {'runs':>5} {'fetches':>7} {'304':>6}",
            flush=True,
        )

        def run(name: str, command: list[str], db_path: Path, sources: set[str]) -> Measured:
            args = ["--db", str(db_path), "--seeds", str(seeds)]
            return measure([*command, *args], db_path, sources, folder / f"{name}.log")

        first_db = folder / "daemon.db"
        first = run("round-1", daemon, first_db, wanted)
        print(row("daemon, round 1", first), flush=True)
        once = run("crawl", crawl, folder / "crawl.db", wanted)
        print(row("crawl", once), flush=True)
        # Before round 2, which waits until round 1's runs are old enough.
        write_seeds(seeds, [*urls[1:], stalled.url], "6h")
        others = {f"site-{n}" for n in range(count - 1)}
        stuck = run("stalled", daemon, folder / "stalled.db", others)
        beside = f"{count - 1} others; round 1: {first.seconds:.1f} s"
        print(row("daemon, 1 stalled", stuck, beside), flush=True)
        write_seeds(seeds, urls, f"{round_two_every(first_db)}s")
        second = run("round-2", daemon, first_db, wanted)
        print(row("daemon, round 2", second, "revisits, 304"), flush=True)
    pss, wall = first.pss / once.pss, first.seconds / once.seconds
    print(f"daemon / crawl: peak PSS {pss:.2f}x, wall {wall:.2f}x", flush=True)
    if count == 50:
        print(
            f"targets K=50: daemon PSS {first.pss / 2**20:.0f} MB (<= 500), {pss:.2f}x the"
            f" crawl's (<= 1.2), wall {wall:.2f}x (<= 1.2)",
            flush=True,
        )
    if count == 200:
        print(
            f"targets K=200: daemon PSS {first.pss / 2**20:.0f} MB (<= 600), round 2"
            f" {second.seconds:.1f} s (< 60)",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sources", default="10,50,200", help="values of K, comma-separated")
    parser.add_argument("--articles", type=int, default=50, help="articles on each site")
    args = parser.parse_args()
    counts = [int(k) for k in args.sources.split(",")]
    print(f"{os.cpu_count()} cores")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            bench(count, args.articles, Path(tmp))


if __name__ == "__main__":
    main()
