"""Faults: kill -9 of crawls, of the daemon and of digest runs at random moments, and readers
querying the database while crawls write, and a site whose every page goes bad; prints a
tally.

    .venv/bin/python benchmarks/faults.py [--rounds 20] [--seconds 60] [--pairs 3] [--seed 1]

Everything runs for real: `newsmon` processes against a generated news site on 127.0.0.1
(benchmarks/revisit.py), an SMTP server (aiosmtpd) in this process, `newsmon serve`
(Datasette) and a plain sqlite3 connection as readers.

- bad inputs: the site of tests/hostile.py crawled sound, then once every page went bad
  (charsets, binary and huge bodies, gzip bombs, redirect loops, HTTP errors, stalls, resets,
  private addresses, traps and an endless calendar); each case checked as the tests do.
- crawl: `newsmon crawl` of two sources, killed at a random moment (a quarter of the rounds
  while it starts and migrates, the rest after its run began); the site changes between
  rounds; then a crawl to the end, which must store every article of the site.
- daemon: `newsmon daemon` with both sources due every few seconds, killed at a random moment
  and started again at once, as systemd's Restart= does; then stopped with SIGTERM, and a
  crawl to the end. Counts crawls that outlived their daemon and runs of a source that
  overlapped.
- digest: `newsmon digest` to the SMTP server, killed at a random moment, or (every third
  round) the moment the server has taken the message, before the client hears the 250; then
  run again to the end. And pairs of digest runs started together.
- concurrent reads: Datasette and a sqlite3 connection query for --seconds while crawls
  write, counting "database is locked" on both sides; and --pairs times two crawls writing
  at once, as the daemon runs sources side by side.

After every kill and after the resumed run: PRAGMA integrity_check, no duplicate articles
(url), versions (article, version) or alerts (kind, subject), and nothing stored before lost;
every alert reached the SMTP server at least once, and how often one arrived twice.

The tally is rows (what, figure) made by the section functions in SECTIONS; another kind of
fault is one more section. tests/test_crashes.py and tests/test_concurrency.py run the same
drivers with fewer rounds.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from crawler.clock import now
from crawler.db import open_db
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from benchmarks.revisit import generated  # noqa: E402

# Two sources on one generated site, apart: `gen` reads policy and industry, `gen-local` local.
SOURCES = r"""
[[source]]
id = "gen"
name = "generated site: policy and industry"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/policy/", "/industry/"]
sitemaps = ["/sitemap.xml"]
article_urls = ['^/(policy|industry)/\d{{6}}/t\d{{8}}_\d+\.html$']
list_urls = ['^/(policy|industry)/(index_\d+\.html)?$']
max_list_pages = 3
{schedule}delay = 0
concurrency = 8

[[source]]
id = "gen-local"
name = "generated site: local"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/local/"]
article_urls = ['^/local/\d{{6}}/t\d{{8}}_\d+\.html$']
list_urls = ['^/local/(index_\d+\.html)?$']
max_list_pages = 30
{schedule_local}delay = 0
concurrency = 8
"""
LOCKED = re.compile(r"database (table )?is locked|SQLITE_BUSY", re.IGNORECASE)
TOKEN = re.compile(r"FAULT-\d+-\d+")


def newsmon(*args: str) -> list[str]:
    """The command line of ``newsmon ARGS`` as a user runs it from the checkout."""
    return [sys.executable, "-m", "crawler", *args]


def start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A process in a session of its own (as a shell starts one), its output appended to log."""
    with log.open("ab") as out:
        return subprocess.Popen(
            command, cwd=PROJECT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def write_seeds(path: Path, url: str, every: tuple[str, str] | None = None) -> Path:
    """The two sources on the site at ``url``; with ``every`` each runs on that schedule."""
    schedule = ("", "") if every is None else tuple(f'every = "{e}"\n' for e in every)
    text = SOURCES.format(url=url, schedule=schedule[0], schedule_local=schedule[1])
    path.write_text(text, encoding="utf-8")
    return path


def changed_site(articles: int, round_no: int, share: float = 0.05) -> DemoSite:
    """The generated site as it is in round ``round_no``: a few more articles each round, and
    a different ``share`` of them edited (the sitemap dates those anew)."""
    site = generated(articles + 3 * round_no)
    step = max(1, round(1 / share))
    revised = now()
    pages = []
    for i, article in enumerate(site.articles):
        # Pages in Traditional cost the demo site 80 ms each to render (a converter each);
        # faults need many pages, not every difficulty of a Chinese page.
        article = replace(
            article,
            traditional=False,
            garbled=False,
            encoding="utf-8" if article.encoding.startswith("big5") else article.encoding,
        )
        if round_no and i % step == round_no % step:
            lead = article.paragraphs[0] + f"第{round_no}轮核查后更新了有关数据。"
            article = replace(
                article,
                paragraphs=(lead, *article.paragraphs[1:]),
                revision=round_no,
                revised=revised,
            )
        pages.append(article)
    return DemoSite(pages)


# What a database holds, to compare before and after a kill.


@dataclass(frozen=True)
class State:
    integrity: str
    articles: frozenset[str]  # url
    versions: frozenset[tuple[str, int]]  # (article url, version)
    alerts: frozenset[tuple[str, str]]  # (kind, subject)
    duplicates: tuple[int, ...]  # duplicated keys of articles, versions, alerts
    runs: tuple[dict[str, Any], ...]  # crawl_runs, oldest first


EMPTY = State("ok", frozenset(), frozenset(), frozenset(), (0, 0, 0), ())

DUPLICATES = (
    "select count(*) from (select url from articles group by url having count(*) > 1)",
    "select count(*) from (select 1 from versions group by article_id, version"
    " having count(*) > 1)",
    "select count(*) from (select 1 from alerts group by kind, subject having count(*) > 1)",
)


def read_state(db_path: Path) -> State:
    """The database's integrity, keys and runs, read through a plain sqlite3 connection."""
    if not db_path.exists():
        return EMPTY
    with closing(sqlite3.connect(db_path, timeout=30)) as db:
        db.row_factory = sqlite3.Row
        integrity = "; ".join(r[0] for r in db.execute("pragma integrity_check"))
        tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
        if "alerts" not in tables:  # killed while creating the schema
            return replace(EMPTY, integrity=integrity)
        db.execute("begin")  # one snapshot for every query below
        state = State(
            integrity=integrity,
            articles=frozenset(r[0] for r in db.execute("select url from articles")),
            versions=frozenset(
                (r[0], r[1])
                for r in db.execute(
                    "select a.url, v.version from versions v join articles a on a.id = v.article_id"
                )
            ),
            alerts=frozenset((r[0], r[1]) for r in db.execute("select kind, subject from alerts")),
            duplicates=tuple(db.execute(sql).fetchone()[0] for sql in DUPLICATES),
            runs=tuple(dict(r) for r in db.execute("select * from crawl_runs order by id")),
        )
        db.rollback()
        return state


@dataclass
class Tally:
    """What the rounds of one kind of fault saw; ``problems`` says what went wrong where."""

    kind: str
    rounds: int = 0
    killed: int = 0  # rounds whose process was still running when it was killed
    integrity_failures: int = 0
    duplicates: list[int] = field(default_factory=lambda: [0, 0, 0])
    lost: int = 0  # keys stored before a kill and missing after it
    overlaps: int = 0  # runs of one source that ran at the same time
    outlived: int = 0  # crawls still running 10 s after a daemon was killed
    skipped: int = 0  # crawls skipped because their source was already being crawled
    lock_errors: list[str] = field(default_factory=list)  # "database is locked" in output
    incomplete: int = 0  # site articles missing after the final run to the end
    # Digests: alerts made, alerts never received, received twice with the same Message-ID,
    # received in two different messages (a doubled digest).
    alerts: int = 0
    undelivered: int = 0
    redelivered: int = 0
    doubled: int = 0
    problems: list[str] = field(default_factory=list)

    def check(self, before: State, after: State, where: str) -> None:
        """Count what is wrong with ``after``, the database as ``before`` was plus a fault."""
        if after.integrity != "ok":
            self.integrity_failures += 1
            self.problems.append(f"{where}: integrity_check: {after.integrity[:200]}")
        for i, n in enumerate(after.duplicates):
            self.duplicates[i] += n
            if n:
                self.problems.append(f"{where}: {n} duplicated {('url', 'version', 'alert')[i]}")
        lost = (
            len(before.articles - after.articles)
            + len(before.versions - after.versions)
            + len(before.alerts - after.alerts)
        )
        if lost:
            self.lost += lost
            self.problems.append(f"{where}: {lost} rows stored before are gone")

    def check_runs(self, state: State) -> None:
        """Runs of one source never overlap: each starts after the one before it finished."""
        by_source: dict[str, list[dict[str, Any]]] = {}
        for run in state.runs:
            by_source.setdefault(run["source_id"], []).append(run)
        for runs in by_source.values():
            for previous, run in zip(runs, runs[1:], strict=False):
                if previous["finished"] and run["started"] < previous["finished"]:
                    self.overlaps += 1
                    self.problems.append(f"runs overlap: {previous} and {run}")

    def check_log(self, text: str, where: str) -> None:
        """Lock errors (apart from other problems: their cause is the crawl's transactions)
        and crawls skipped because their source was already being crawled."""
        self.lock_errors += [
            f"{where}: {line[:300]}" for line in text.splitlines() if LOCKED.search(line)
        ]
        self.skipped += text.count("already being crawled by")


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
    command = newsmon("crawl", "--db", str(db_path), "--seeds", str(workdir / "crawl.toml"))
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
        resumed = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
        after = read_state(db_path)
        tally.check(before, after, "crawl run to the end")
        tally.check_runs(after)
        if resumed.returncode != 0:
            tally.problems.append(f"the crawl to the end failed: {resumed.stderr[-500:]}")
        expected = {a.path for a in server.site.articles}
        tally.incomplete = len(expected - {_path(url) for url in after.articles})
        if tally.incomplete:
            tally.problems.append(f"{tally.incomplete} articles never stored")
    tally.check_log(log.read_text("utf-8", "replace") + resumed.stderr, "crawl output")
    return tally


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def paths_of(site: DemoSite, sources: tuple[str, ...]) -> set[str]:
    """The paths of the site's articles that ``sources`` read (gen-local: the local ones)."""
    read = {"gen": ("policy", "industry"), "gen-local": ("local",)}
    sections = {section for source in sources for section in read[source]}
    return {a.path for a in site.articles if a.section in sections}


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
    command = newsmon("daemon", "--db", str(db_path), "--seeds", str(seeds), *chosen)
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
        crawl = newsmon("crawl", "--db", str(db_path), "--seeds", str(seeds), *chosen)
        resumed = subprocess.run(crawl, cwd=PROJECT, capture_output=True, text=True)
        final = read_state(db_path)
        tally.check(after, final, "crawl after the daemons")
        tally.check_runs(final)
        expected = paths_of(server.site, sources)
        tally.incomplete = len(expected - {_path(url) for url in final.articles})
        if tally.incomplete:
            tally.problems.append(f"{tally.incomplete} articles never stored")
    tally.check_log(log.read_text("utf-8", "replace") + resumed.stderr, "daemon log")
    return tally


# Digests.


class Inbox:
    """An SMTP server's handler that notes the alerts (FAULT-r-i in titles) of every message
    it takes, by Message-ID; it can kill the sender the moment it has taken a message."""

    def __init__(self) -> None:
        self.received: list[tuple[str, frozenset[str]]] = []
        self.kill_pid: int | None = None
        self.delay = 0.0
        self.hang_up = False  # close the connection instead of answering the data
        self.lock = threading.Lock()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        with self.lock:
            self.received.append((str(message["Message-ID"]), frozenset(TOKEN.findall(text))))
            pid, self.kill_pid = self.kill_pid, None
        if pid is not None:
            os.kill(pid, signal.SIGKILL)  # taken, and the sender never hears the 250
        if self.hang_up:
            server.transport.close()  # taken, and the connection breaks before the 250
        if self.delay:
            time.sleep(self.delay)
        return "250 OK"

    def deliveries(self) -> tuple[Counter[str], Counter[str]]:
        """How often each alert arrived, and in how many distinct messages (Message-IDs)."""
        with self.lock:
            received = list(self.received)
        copies = Counter(t for _, tokens in received for t in tokens)
        messages = Counter(t for t, _ in {(t, mid) for mid, ts in received for t in ts})
        return copies, messages


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on a free port of 127.0.0.1, in this process."""
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def digest_setup(workdir: Path, port: int, name: str) -> tuple[Path, list[str]]:
    """An empty database and settings pointing at the SMTP server; the digest command."""
    db_path, config = workdir / f"{name}.db", workdir / f"{name}.toml"
    config.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
        f'from = "newsmon@example.cn"\nto = ["analyst@example.cn"]\ntimeout = 10\n',
        encoding="utf-8",
    )
    open_db(db_path).close()
    return db_path, newsmon("digest", "--db", str(db_path), "--config", str(config))


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
    with smtp_server() as (inbox, port):
        db_path, command = digest_setup(workdir, port, "digest")
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
            resumed = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True)
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
    with smtp_server() as (inbox, port):
        inbox.delay = 0.5
        db_path, command = digest_setup(workdir, port, "pairs")
        for round_no in range(pairs):
            tokens += add_alerts(db_path, round_no, rng.randint(1, 20))
            both = [
                subprocess.Popen(
                    command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
                )
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


# Readers while crawls write.


@dataclass
class Reads:
    """What the readers and writers of a concurrency run saw."""

    seconds: float = 0.0
    http: int = 0  # requests answered
    sql: int = 0  # queries run on the plain connection
    lock_errors: int = 0  # readers' "database is locked", HTTP and SQL
    errors: int = 0  # other failures of readers (HTTP 5xx, exceptions)
    crawls: int = 0
    writer_lock_errors: int = 0  # in the crawls' output, crawl_runs and fetches
    articles_written: int = 0  # articles and versions added while the readers read
    problems: list[str] = field(default_factory=list)


# What users ask Datasette: search, facets, the article_index view, canned queries.
HTTP_PATHS = (
    "/news/articles.json?_search=" + quote("算力") + "&_size=20",
    "/news/articles?_search=" + quote("人工智能"),
    "/news/article_index.json?_facet=month&_facet=source_id&_size=10",
    "/news/article_index?_facet_array=regions&_facet_array=topics",
    "/news/article_regions.json?_facet=region&_size=5",
    "/news/new_this_week.json?_shape=array",
    "/news/changed_articles.json?_shape=array",
    "/news/source_health.json?_shape=array",
    "/news/stories_with_copies.json?_shape=array",
    "/news/alerts.json?_sort_desc=id&_size=20",
    "/news/crawl_runs.json?_sort_desc=id",
    "/news.json?sql=" + quote("select count(*) as n from fetches"),
)
# What a user runs in a sqlite3 shell or a notebook.
SQL = (
    (
        "select a.id, a.title from articles_fts f join articles a on a.id = f.rowid"
        " where articles_fts match ? order by rank limit 20",
        ("算力",),
    ),
    ("select source_id, count(*) from article_index group by source_id", ()),
    ("select month, count(*) from article_index group by month order by 2 desc", ()),
    (
        "select j.value, count(*) from article_index, json_each(article_index.regions) j"
        " group by j.value order by 2 desc limit 20",
        (),
    ),
    ("select topic, count(*) from article_topics group by topic", ()),
    ("select * from article_index order by published desc limit 50", ()),
    ("select count(*) from versions where version > 1", ()),
    ("select status, count(*) from crawl_runs group by status", ()),
)


def read_http(base: str, stop: threading.Event, reads: Reads, lock: threading.Lock) -> None:
    i = 0
    while not stop.is_set():
        url = base + HTTP_PATHS[i % len(HTTP_PATHS)]
        i += 1
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = response.read().decode("utf-8", "replace")
            failed = None
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            failed = f"HTTP {exc.code}"
        except OSError as exc:
            body, failed = str(exc), type(exc).__name__
        with lock:
            reads.http += 1
            if LOCKED.search(body):
                reads.lock_errors += 1
                reads.problems.append(f"{url}: {failed or 'HTTP 200'}: database is locked")
            elif failed:
                reads.errors += 1
                reads.problems.append(f"{url}: {failed}: {body[:200]}")


def read_sql(db_path: Path, stop: threading.Event, reads: Reads, lock: threading.Lock) -> None:
    i = 0
    db = sqlite3.connect(db_path)  # as a user opens it: the default 5 s busy timeout
    try:
        while not stop.is_set():
            sql, params = SQL[i % len(SQL)]
            i += 1
            if i % 50 == 0:  # users come and go: a new connection now and then
                db.close()
                db = sqlite3.connect(db_path)
            try:
                db.execute(sql, params).fetchall()
                failed = None
            except sqlite3.Error as exc:
                failed = f"{type(exc).__name__}: {exc}"
            with lock:
                reads.sql += 1
                if failed and LOCKED.search(failed):
                    reads.lock_errors += 1
                    reads.problems.append(f"{sql[:60]}: {failed}")
                elif failed:
                    reads.errors += 1
                    reads.problems.append(f"{sql[:60]}: {failed}")
    finally:
        db.close()


def wait_for_http(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"newsmon serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(base + "/-/versions.json", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("newsmon serve did not answer")


def concurrent_reads(seconds: float, workdir: Path, articles: int = 3000) -> Reads:
    """Datasette and a sqlite3 connection query for ``seconds`` while crawls of a generated
    site write (again and again, the site changing in between); counts lock errors."""
    reads, lock = Reads(), threading.Lock()
    db_path, log = workdir / "news.db", workdir / "reads-crawl.log"
    seeds = workdir / "reads.toml"
    crawl = newsmon("crawl", "--quiet", "--db", str(db_path), "--seeds", str(seeds))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    with DemoServer(changed_site(articles, 0)) as server:
        write_seeds(seeds, server.url)
        writer = start(crawl, log)
        # The readers start once the crawl stored its first articles.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not read_state(db_path).articles:
            time.sleep(0.2)
        serve = start(newsmon("serve", "--db", str(db_path), "--port", str(port)), log)
        stop = threading.Event()
        threads = []
        try:
            wait_for_http(base, serve)
            before = read_state(db_path)
            threads = [
                threading.Thread(target=read_http, args=(base, stop, reads, lock)),
                threading.Thread(target=read_sql, args=(db_path, stop, reads, lock)),
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            round_no = 0
            while time.monotonic() - started < seconds:
                if writer.poll() is not None:  # a crawl ended: change the site, crawl again
                    reads.crawls += 1
                    round_no += 1
                    server.update(changed_site(articles, round_no))
                    writer = start(crawl, log)
                time.sleep(0.2)
            reads.seconds = time.monotonic() - started
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            serve.terminate()
            serve.wait(timeout=30)
            # SIGTERM lets the crawl finish its pages in flight and close its run.
            writer.send_signal(signal.SIGTERM)
            writer.wait(timeout=120)
        reads.crawls += 1
    after = read_state(db_path)
    reads.articles_written = len(after.articles - before.articles) + len(
        after.versions - before.versions
    )
    output = log.read_text("utf-8", "replace")
    failures = [line for line in output.splitlines() if LOCKED.search(line)]
    with closing(sqlite3.connect(db_path)) as db:
        runs = list(db.execute("select id, status, error from crawl_runs"))
        failures += [f"crawl_runs {r[0]}: {r[1]} {r[2]}" for r in runs if LOCKED.search(r[2] or "")]
        reads.problems += [f"crawl_runs {r[0]}: {r[1]} {r[2]}" for r in runs if r[1] != "ok"]
        failures += [
            f"fetch {r[0]}: {r[1]}"
            for r in db.execute("select url, error from fetches where error like '%locked%'")
        ]
    reads.writer_lock_errors = len(failures)
    reads.problems += failures[:10]
    return reads


def parallel_crawls(workdir: Path, articles: int = 150) -> Tally:
    """Two crawls writing at once, as the daemon runs sources side by side: each source in a
    process of its own, started together on one database. Counts their lock errors."""
    tally = Tally("two crawls at once")
    db_path, log = workdir / "parallel.db", workdir / "parallel.log"
    seeds = workdir / "parallel.toml"
    open_db(db_path).close()  # the schema first: both crawls start on a migrated file
    with DemoServer(changed_site(articles, 0)) as server:
        write_seeds(seeds, server.url)
        both = [
            start(newsmon("crawl", "--db", str(db_path), "--seeds", str(seeds), "--source", s), log)
            for s in ("gen", "gen-local")
        ]
        for process in both:
            process.wait(timeout=300)
        tally.rounds = 1
        state = read_state(db_path)
        tally.check(EMPTY, state, "two crawls at once")
        expected = {a.path for a in server.site.articles}
        tally.incomplete = len(expected - {_path(url) for url in state.articles})
    runs = [f"crawl_runs {r['id']}: {r['status']} {r['error']}" for r in state.runs]
    tally.check_log(log.read_text("utf-8", "replace") + "\n".join(runs), "crawl output")
    return tally


# The tally: each section is a function (arguments, working folder) -> rows (what, figure).

Row = tuple[str, str]


def crash_rows(args: argparse.Namespace, workdir: Path) -> list[Row]:
    """kill -9 of crawls, daemons and digest runs, and digest runs side by side."""
    kinds = [
        crawl_kills(args.rounds, args.seed, workdir),
        daemon_kills(args.rounds, args.seed, workdir),
        digest_kills(args.rounds, args.seed, workdir),
    ]
    crawl, daemon, digest = kinds
    pairs = concurrent_digests(max(3, args.rounds // 4), args.seed, workdir)
    for tally in [*kinds, pairs]:
        for problem in (tally.problems + tally.lock_errors)[:10]:
            print(f"  {tally.kind}: {problem[:200]}", file=sys.stderr)

    def each(value: Callable[[Tally], int]) -> str:
        return "/".join(str(value(t)) for t in kinds)

    return [
        ("kill -9 rounds (crawl/daemon/digest)", each(lambda t: t.rounds)),
        ("  of them killed while running", each(lambda t: t.killed)),
        ("integrity failures", each(lambda t: t.integrity_failures)),
        (
            "duplicate articles/versions/alerts",
            "/".join(str(sum(t.duplicates[i] for t in kinds)) for i in range(3)),
        ),
        ("rows stored before a kill and lost", each(lambda t: t.lost)),
        (
            "site articles missing after the crawl to the end (crawl/daemon)",
            f"{crawl.incomplete}/{daemon.incomplete}",
        ),
        ("runs of one source overlapping (crawl/daemon)", f"{crawl.overlaps}/{daemon.overlaps}"),
        ("crawls outliving their killed daemon by 10 s", str(daemon.outlived)),
        ("crawls skipped: source already being crawled", str(daemon.skipped + crawl.skipped)),
        ("lock errors in the processes' output", each(lambda t: len(t.lock_errors))),
        ("alerts in killed digest runs", str(digest.alerts)),
        ("lost digests (alerts that never arrived)", str(digest.undelivered)),
        ("doubled digests (alerts in two messages)", str(digest.doubled)),
        ("same message sent again (same Message-ID)", str(digest.redelivered)),
        (
            f"two digest runs at once ({pairs.rounds} pairs): doubled/lost/skipped",
            f"{pairs.doubled + pairs.redelivered}/{pairs.undelivered}/{pairs.skipped}",
        ),
    ]


def concurrency_rows(args: argparse.Namespace, workdir: Path) -> list[Row]:
    """Datasette and a sqlite3 reader against crawls writing; two crawls writing at once."""
    reads = concurrent_reads(args.seconds, workdir)
    for problem in reads.problems[:10]:
        print(f"  reads: {problem[:200]}", file=sys.stderr)
    writers = [parallel_crawls(workdir / f"writers-{i}") for i in range(args.pairs)]
    for tally in writers:
        for problem in (tally.problems + tally.lock_errors)[:3]:
            print(f"  {tally.kind}: {problem[:200]}", file=sys.stderr)
    return [
        (
            f"lock errors over {reads.seconds:.0f} s of concurrent reads (queries run)",
            f"{reads.lock_errors} ({reads.http} HTTP, {reads.sql} SQL)",
        ),
        ("  other reader errors", str(reads.errors)),
        (
            "lock errors of the crawls writing meanwhile (crawls)",
            f"{reads.writer_lock_errors} ({reads.crawls})",
        ),
        ("  articles and versions written meanwhile", str(reads.articles_written)),
        (
            f"two crawls writing at once ({len(writers)} times): lock errors, articles missed",
            f"{sum(len(t.lock_errors) for t in writers)}, {sum(t.incomplete for t in writers)}",
        ),
    ]


# Each section adds its rows to the tally; a new kind of fault is one more function here
# (e.g. bad_inputs(): hostile pages and files tried / passed).
def bad_input_rows(args: argparse.Namespace, workdir: Path) -> list[Row]:
    """tests/hostile.py's site crawled sound, then with every page gone bad (as the tests do)."""
    from tests.hostile import HostileSite, crawl_both_lives

    folder = workdir / "hostile"
    folder.mkdir()
    with HostileSite() as site:
        lives = crawl_both_lives(site, folder)
        problems = lives.problems(site)
    failed = [f"{name}: {problem}" for name, problem in problems.items() if problem]
    crashed = sum("Traceback" in run.stderr or run.returncode != 0 for run in lives.outputs)
    return [
        ("bad inputs tried, passed", f"{len(problems)}, {len(problems) - len(failed)}"),
        *(("  failed", line) for line in failed),
        ("crawls that crashed over them", str(crashed)),
    ]


SECTIONS: list[Callable[[argparse.Namespace, Path], list[Row]]] = [
    bad_input_rows,
    crash_rows,
    concurrency_rows,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="kill -9 rounds of each kind")
    parser.add_argument("--seconds", type=float, default=60, help="of concurrent reads")
    parser.add_argument("--seed", type=int, default=1, help="of the random kill moments")
    parser.add_argument("--pairs", type=int, default=3, help="runs of two crawls at once")
    args = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="newsmon-faults-") as tmp:
        for section in SECTIONS:
            rows += section(args, Path(tmp))
    width = max(len(what) for what, _ in rows)
    for what, figure in rows:
        print(f"{what:{width}}  {figure}")
    print(f"{'(wall time)':{width}}  {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
