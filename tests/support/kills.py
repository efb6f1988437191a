"""kill -9 at random moments: of a crawl, of the daemon, of a digest run, each followed by a
run to the end; and digest runs side by side. Each driver returns a Tally of what it saw."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import closing, suppress
from pathlib import Path

from crawler.clock import now
from crawler.db import open_db
from crawler.demo.server import DemoServer
from tests.support.run import newsmon, newsmon_command, spawn, start
from tests.support.sites import changed_site, path_of, paths_of, write_seeds
from tests.support.smtp import Inbox
from tests.support.state import Tally, read_state


def kill_moment(
    rng: random.Random, process: subprocess.Popen[bytes], db_path: Path, runs: int, longest: float
) -> float | None:
    """Wait for a random moment of ``process``'s run: in a quarter of the rounds while it
    starts (imports, schema), else up to ``longest`` seconds after it began a run (a new
    crawl_runs row). How long its run lasted when it ended before that moment, else None."""
    if rng.random() < 0.25:
        running(process, rng.uniform(0, 2.5))
        return None
    deadline = time.monotonic() + 30
    while process.poll() is None and time.monotonic() < deadline:
        if len(read_state(db_path).runs) > runs:
            break
        time.sleep(0.05)
    began = time.monotonic()
    if running(process, rng.uniform(0, longest)):
        return None
    return time.monotonic() - began


def running(process: subprocess.Popen[bytes], seconds: float) -> bool:
    """Whether ``process`` is still running ``seconds`` from now (returns when it ends)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return process.poll() is None


def crawl_kills(rounds: int, seed: int, workdir: Path, articles: int = 150) -> Tally:
    """``rounds`` crawls killed at random moments, the site changing between them, then one
    crawl to the end; the database checked after each."""
    rng = random.Random(seed)
    tally = Tally("crawl")
    db_path, log = workdir / "crawl.db", workdir / "crawl.log"
    args = ("crawl", "--db", str(db_path), "--seeds", str(workdir / "crawl.toml"))
    command = newsmon_command(*args)
    longest = 8.0  # seconds a run lasts; learnt from runs that ended before their kill
    with DemoServer(changed_site(articles, 0)) as server:
        write_seeds(workdir / "crawl.toml", server.url)
        before = read_state(db_path)
        for round_no in range(rounds):
            server.update(changed_site(articles, round_no))
            process = start(command, log)
            lasted = kill_moment(rng, process, db_path, len(before.runs), longest)
            tally.rounds += 1
            if process.poll() is None:
                tally.killed += 1
                process.kill()
            elif lasted is not None:
                longest = max(1.0, lasted)
            process.wait()
            after = read_state(db_path)
            tally.check(before, after, f"crawl round {round_no}")
            before = after
        resumed = newsmon(*args, check=False, timeout=None)
        after = read_state(db_path)
        tally.check(before, after, "crawl run to the end")
        tally.check_runs(after)
        if resumed.returncode != 0:
            tally.problems.append(f"the crawl to the end failed: {resumed.stderr[-500:]}")
        expected = {a.path for a in server.site.articles}
        tally.incomplete = len(expected - {path_of(url) for url in after.articles})
        if tally.incomplete:
            tally.problems.append(f"{tally.incomplete} articles never stored")
    tally.check_log(log.read_text("utf-8", "replace") + resumed.stderr, "crawl output")
    return tally


def crawls_of(db_path: Path) -> list[int]:
    """Pids of the `newsmon crawl` processes writing to ``db_path`` (Linux: from /proc)."""
    wanted = str(db_path).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"crawl" in args and wanted in args:
            pids.append(int(entry.name))
    return pids


def daemon_kills(
    rounds: int,
    seed: int,
    workdir: Path,
    articles: int = 150,
    sources: tuple[str, ...] = ("gen", "gen-local"),
) -> Tally:
    """``rounds`` daemons of ``sources`` killed at random moments, each started again at
    once; then one stopped with SIGTERM after a run of each source. Counts crawls that
    outlived their daemon, runs of a source that overlapped, and crawls skipped by the
    source lock."""
    rng = random.Random(seed)
    tally = Tally("daemon")
    db_path, log = workdir / "daemon.db", workdir / "daemon.log"
    seeds = workdir / "daemon.toml"
    chosen = [arg for source in sources for arg in ("--source", source)]
    command = newsmon_command("daemon", "--db", str(db_path), "--seeds", str(seeds), *chosen)
    outlived: set[int] = set()
    checks: list[threading.Timer] = []

    def check_outlived(pids: list[int]) -> None:
        # Still running 10 s after the daemon died: no one would have stopped it.
        outlived.update(pid for pid in pids if pid in crawls_of(db_path))

    with DemoServer(changed_site(articles, 0)) as server:
        write_seeds(seeds, server.url, every=("2s", "3s"))
        before = read_state(db_path)
        for round_no in range(rounds):
            server.update(changed_site(articles, round_no))
            daemon = start(command, log)
            running(daemon, rng.uniform(1.0, 7.0))
            tally.rounds += 1
            if daemon.poll() is None:
                tally.killed += 1
                children = crawls_of(db_path)
                os.kill(daemon.pid, signal.SIGKILL)
                checks.append(threading.Timer(10, check_outlived, [children]))
                checks[-1].start()
            daemon.wait()
            after = read_state(db_path)
            tally.check(before, after, f"daemon round {round_no}")
            before = after
        # The last daemon runs until each source has had a run of its own, then is stopped.
        daemon = start(command, log)
        last = {r["source_id"]: r["id"] for r in before.runs}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and daemon.poll() is None:
            done = {
                r["source_id"]
                for r in read_state(db_path).runs
                if r["id"] > last.get(r["source_id"], 0) and r["status"] == "ok"
            }
            if set(sources) <= done:
                break
            time.sleep(0.2)
        else:
            tally.problems.append("the last daemon did not complete a run of each source")
        os.kill(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            tally.problems.append("the last daemon did not stop within 60 s of SIGTERM")
            daemon.kill()
            daemon.wait()
        for timer in checks:
            timer.join()
        tally.outlived = len(outlived)
        for pid in crawls_of(db_path):  # the daemons' crawls: none may be left behind
            tally.problems.append(f"crawl {pid} still running after the last daemon stopped")
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        after = read_state(db_path)
        tally.check(before, after, "daemon stopped")
        # What the daemons left undone, a crawl finishes: every article of the site is stored.
        crawl = ("crawl", "--db", str(db_path), "--seeds", str(seeds), *chosen)
        resumed = newsmon(*crawl, check=False, timeout=None)
        final = read_state(db_path)
        tally.check(after, final, "crawl after the daemons")
        tally.check_runs(final)
        expected = paths_of(server.site, sources)
        tally.incomplete = len(expected - {path_of(url) for url in final.articles})
        if tally.incomplete:
            tally.problems.append(f"{tally.incomplete} articles never stored")
    tally.check_log(log.read_text("utf-8", "replace") + resumed.stderr, "daemon log")
    return tally


def digest_setup(workdir: Path, port: int, name: str) -> tuple[Path, tuple[str, ...]]:
    """An empty database and settings pointing at the SMTP server; the digest's arguments."""
    db_path, config = workdir / f"{name}.db", workdir / f"{name}.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from = "newsmon@example.cn"\nto = ["analyst@example.cn"]\ntimeout = 10\n',
        encoding="utf-8",
    )
    open_db(db_path).close()
    return db_path, ("digest", "--db", str(db_path), "--config", str(config))


def add_alerts(db_path: Path, round_no: int, count: int) -> list[str]:
    """``count`` new alerts, as a crawl raises them; their tokens."""
    tokens = [f"FAULT-{round_no}-{i}" for i in range(count)]
    with closing(sqlite3.connect(db_path, timeout=30)) as db, db:
        db.executemany(
            "insert into alerts (kind, subject, title, url, created) values (?, ?, ?, ?, ?)",
            [
                ("new_article", f"story:{t}", f"演练稿件 {t}", f"http://127.0.0.1/{t}.html", now())
                for t in tokens
            ],
        )
    return tokens


def digest_kills(rounds: int, seed: int, workdir: Path) -> Tally:
    """``rounds`` digest runs killed at random moments (every third one the moment the server
    took the message), each followed by a run to the end; every alert must arrive."""
    rng = random.Random(seed)
    tally = Tally("digest")
    log = workdir / "digest.log"
    tokens: list[str] = []
    with Inbox() as inbox:
        db_path, args = digest_setup(workdir, inbox.port, "digest")
        command = newsmon_command(*args)
        before = read_state(db_path)
        longest = 1.5
        for round_no in range(rounds):
            tokens += add_alerts(db_path, round_no, rng.randint(1, 40))
            at_acceptance = round_no % 3 == 0
            started = time.monotonic()
            process = start(command, log)
            if at_acceptance:
                inbox.kill_pid = process.pid
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                inbox.kill_pid = None
            else:
                running(process, rng.uniform(0, longest))
            tally.rounds += 1
            if process.poll() is None:
                process.kill()
            if process.wait() == -signal.SIGKILL:
                tally.killed += 1
            else:
                longest = max(longest, time.monotonic() - started)
            after = read_state(db_path)
            tally.check(before, after, f"digest round {round_no}")
            resumed = newsmon(*args, check=False, timeout=None)
            with log.open("a") as out:
                out.write(resumed.stdout + resumed.stderr)
            if resumed.returncode != 0:
                tally.problems.append(f"digest round {round_no}: run to the end: {resumed.stderr}")
            before = read_state(db_path)
            tally.check(after, before, f"digest round {round_no}, run to the end")
        with closing(sqlite3.connect(db_path)) as db:
            unsent = db.execute("select count(*) from alerts where sent_at is null").fetchone()[0]
            sending = db.execute("select count(*) from digests where status = 'sending'")
            left = sending.fetchone()[0]
        if unsent or left:
            tally.problems.append(f"after the last run: {unsent} alerts unsent, {left} sending")
        count_deliveries(tally, inbox, tokens)
    tally.check_log(log.read_text("utf-8", "replace"), "digest output")
    return tally


def count_deliveries(tally: Tally, inbox: Inbox, tokens: list[str]) -> None:
    copies, messages = inbox.deliveries()
    tally.alerts += len(tokens)
    tally.undelivered += sum(1 for t in tokens if not copies[t])
    tally.redelivered += sum(1 for t in tokens if copies[t] > 1 and messages[t] == 1)
    tally.doubled += sum(1 for t in tokens if messages[t] > 1)
    if tally.undelivered or tally.doubled:
        tally.problems.append(
            f"{tally.undelivered} alerts never arrived, {tally.doubled} arrived in two messages"
        )


def concurrent_digests(pairs: int, seed: int, workdir: Path) -> Tally:
    """``pairs`` times two digest runs started together over the same new alerts; the server
    answers slowly so that they overlap. No alert may arrive twice."""
    rng = random.Random(seed)
    tally = Tally("two digests at once")
    tokens: list[str] = []
    outputs = []
    with Inbox() as inbox:
        inbox.delay = 0.5
        db_path, args = digest_setup(workdir, inbox.port, "pairs")
        for round_no in range(pairs):
            tokens += add_alerts(db_path, round_no, rng.randint(1, 20))
            both = [
                spawn(newsmon_command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                for _ in range(2)
            ]
            for process in both:
                out, _ = process.communicate(timeout=60)
                outputs.append(out.decode("utf-8", "replace"))
            tally.rounds += 1
        count_deliveries(tally, inbox, tokens)
    tally.skipped = sum("already being sent" in out for out in outputs)
    tally.check_log("\n".join(outputs), "digest output")
    return tally
