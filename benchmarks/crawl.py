"""Speed of one machine: a whole crawl of a generated site, against trafilatura's own crawl.

    .venv/bin/python benchmarks/crawl.py [--articles 2000] [--skip-trafilatura] [--workers N]

Generates a site of N article pages (as benchmarks/revisit.py does), serves it on 127.0.0.1
and crawls it end to end with `newsmon crawl` in its own process (fetch, extract, clean, tag,
store). Prints pages/s, CPU per page of the whole process tree, CPU per article page by stage
from the pipelines' ``newsmon/time/<stage>`` stats, CPU per page of the crawl's own process
(which runs Scrapy and the store) apart from its worker processes (extraction, tagging), and
peak memory, sampled from /proc every 0.1 s: the crawl's process tree summed as PSS (pages a
fork shares counted once) and the RSS of its largest single process. Then crawls the same site
with trafilatura's own crawler (`trafilatura.spider`: its URL store and link extraction)
running `trafilatura.extract` on every page it fetches, in its own process, and prints the
ratio. trafilatura drops links to an IP address with a port, so the site is served on port 80.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlite_utils import Database

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import newsmon_command, spawn  # noqa: E402

STAGES = ("extract", "classify", "store")


def _memory(pid: int) -> tuple[int, int]:
    """A process's proportional set size (shared pages split among sharers) and its RSS."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Pss", "Rss"):
                values[key] = int(rest.split()[0]) * 1024
    return values.get("Pss", 0), values.get("Rss", 0)


def tree_sample(root: int, cpu: dict[int, float]) -> tuple[int, int, int]:
    """Of ``root`` and all its descendants, from /proc: the summed PSS, the largest RSS, and
    the PSS of ``root`` alone; records each one's CPU seconds so far in ``cpu``."""
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    total, largest, own, todo = 0, 0, 0, [root]
    while todo:
        pid = todo.pop()
        try:
            pss, rss = _memory(pid)
        except OSError:  # gone already
            pss = rss = 0
        total, largest = total + pss, max(largest, rss)
        own = pss if pid == root else own
        cpu[pid] = max(cpu.get(pid, 0.0), used.get(pid, 0.0))
        todo.extend(children.get(pid, []))
    return total, largest, own


def run_measured(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command``; its wall time, CPU seconds and peak memory (the tree's PSS summed, and
    of it the command's own process; the largest process's RSS)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = spawn(command, env, stdout=subprocess.PIPE, text=True)
    peak = largest = own = 0
    cpu: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, largest, own
        while not done.wait(0.1):
            summed, one, root = tree_sample(process.pid, cpu)
            if summed > peak:
                peak, own = summed, root
            largest = max(largest, one)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    code = process.returncode
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if code:
        raise SystemExit(f"{command[:4]} exited with {code}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The child and the descendants it waited for, exactly (a process pool joined at the
    # end); or, if more, the tree as last sampled: descendants reaped by another process
    # are in no rusage of ours. Samples lag by up to 0.1 s.
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    main = cpu.get(process.pid, 0.0)
    others = sum(seconds for pid, seconds in cpu.items() if pid != process.pid)
    return {
        "seconds": seconds,
        "cpu": max(reaped, main + others),
        "main_cpu": main,
        "workers_cpu": others,
        "tree_rss": peak,
        "max_rss": largest,
        "own_pss": own,
        "stdout": out,
    }


def newsmon_crawl(seeds: Path, db_path: Path, workers: int | None) -> dict[str, Any]:
    measured: dict[str, Any] = run_measured(
        newsmon_command("crawl", "--quiet", "--source", "bench")
        + ["--seeds", str(seeds), "--db", str(db_path)],
        {} if workers is None else {"NEWSMON_WORKERS": str(workers)},
    )
    db = Database(db_path)
    run = next(db.query("select stats from crawl_runs order by id desc limit 1"))
    measured["stats"] = json.loads(run["stats"] or "{}")
    measured["articles"] = next(
        db.query("select count(*) n from fetches where kind = 'article' and status = 200")
    )["n"]
    measured["requests"] = db["fetches"].count
    return measured


def trafilatura_crawl(start: str, limit: int) -> None:
    """trafilatura's focused crawler, extracting every page it fetches (run in a child)."""
    from trafilatura import extract
    from trafilatura.downloads import fetch_response
    from trafilatura.settings import use_config
    from trafilatura.spider import URL_STORE, init_crawl, process_response

    config = use_config()
    config.set("DEFAULT", "SLEEP_TIME", "0")
    config.set("DEFAULT", "SSRF_PROTECTION", "off")  # the site is on 127.0.0.1
    params = init_crawl(start, config=config)
    pages = extracted = 0
    while params.is_on and params.i < limit:
        url = URL_STORE.get_url(params.base)
        if not url:
            break
        params.i += 1
        response = fetch_response(url, decode=False, config=config)
        process_response(response, params)
        params.update_metadata(URL_STORE)
        if response is not None and response.data:
            pages += 1
            if extract(response.data, url=url, with_metadata=True) is not None:
                extracted += 1
    print(json.dumps({"pages": pages, "extracted": extracted}), flush=True)


def row(name: str, pages: int, measured: dict[str, Any]) -> str:
    return (
        f"{name:24} {pages:7d} {measured['seconds']:8.1f} {pages / measured['seconds']:8.1f} "
        f"{measured['cpu'] / pages * 1000:10.2f} {measured['tree_rss'] / 2**20:9.0f} "
        f"{measured['max_rss'] / 2**20:9.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--skip-trafilatura", action="store_true")
    parser.add_argument(
        "--workers",
        type=int,
        help="NEWSMON_WORKERS for the crawl (0: inline; default: per core less one)",
    )
    parser.add_argument("--trafilatura-child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trafilatura_child:
        trafilatura_crawl(args.trafilatura_child, 3 * args.articles + 100)
        return

    from benchmarks.revisit import SOURCE
    from crawler.demo.server import DemoServer
    from tests.support.sites import generated

    site = generated(args.articles)
    # trafilatura's link filter (courlan) drops every link to an IP address with a port, so
    # the site is served on port 80 when this process may bind it, else on a free port.
    try:
        server_ = DemoServer(site, port=80)
    except OSError:
        server_ = DemoServer(site)
        args.skip_trafilatura = True
        print("port 80 not available: trafilatura's crawler skipped (it drops IP:port links)")
    print(f"{args.articles} articles on {os.cpu_count()} cores")
    print(
        f"{'crawler':24} {'pages':>7} {'seconds':>8} {'pages/s':>8} {'cpu ms/pg':>10} "
        f"{'tree PSS':>9} {'max RSS':>9}"
    )
    with server_ as server, tempfile.TemporaryDirectory() as tmp:
        seeds, db_path = Path(tmp) / "bench.toml", Path(tmp) / "bench.db"
        seeds.write_text(
            SOURCE.format(url=server.url) + f"max_pages = {2 * args.articles + 100}\n",
            encoding="utf-8",
        )
        ours = newsmon_crawl(seeds, db_path, args.workers)
        print(row("newsmon crawl", ours["requests"], ours))
        articles = ours["articles"]
        stats = ours["stats"]
        timed = [s for s in STAGES if f"newsmon/time/{s}" in stats]
        if timed:
            parts = ", ".join(
                f"{s} {stats[f'newsmon/time/{s}'] / articles * 1000:.2f}" for s in timed
            )
            rest = ours["cpu"] - sum(stats[f"newsmon/time/{s}"] for s in timed)
            print(
                f"{'':24} CPU ms per article page: {parts}, "
                f"fetch and the rest {rest / articles * 1000:.2f}"
            )
        pages = ours["requests"]
        print(
            f"{'':24} CPU ms per page: crawl process {ours['main_cpu'] / pages * 1000:.2f}"
            f" ({ours['main_cpu'] / ours['seconds']:.0%} of a core),"
            f" its child processes {ours['workers_cpu'] / pages * 1000:.2f}"
        )
        print(
            f"{'':24} of the peak tree PSS: crawl process {ours['own_pss'] / 2**20:.0f} MB,"
            f" its child processes {(ours['tree_rss'] - ours['own_pss']) / 2**20:.0f} MB"
        )
        if args.skip_trafilatura:
            return
        server.requested.clear()
        theirs = run_measured(
            [sys.executable, __file__, "--articles", str(args.articles)]
            + ["--trafilatura-child", server.url.replace(":80/", "/")]
        )
        requests = len(server.requested)
        found = json.loads(theirs["stdout"].strip().splitlines()[-1])
        print(row("trafilatura spider", requests, theirs))
        print(f"{'':24} extracted text from {found['extracted']} of {found['pages']} pages")
        ratio = (ours["requests"] / ours["seconds"]) / (requests / theirs["seconds"])
        faster = theirs["seconds"] / ours["seconds"]
        print(
            f"newsmon crawled the site (stored {articles} articles) {faster:.2f}x as fast as"
            f" trafilatura's crawler + extract; {ratio:.2f}x in pages/s"
        )


if __name__ == "__main__":
    main()
