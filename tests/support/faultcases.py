"""The reliability issue measured: fault classes, each a set of cases declared as data, each
case run for real and measured in the columns a user would notice.

A class is a kind of harm (corruption, pages skipped without a word, hangs, digests that lose
or double alerts, database errors that are no clear line); a case is one concrete way of it.
Each case runs the real thing: `newsmon` processes (every one with a hard timeout, so that a
hang is counted, never waited out), the site of tests/support/faultsite.py on 127.0.0.1, real
SQLite files (on a tmpfs for the full and read-only disks), real SMTP servers. It comes back as
an :class:`Outcome`: passed, and the failures counted by column.

tests/test_fault_classes.py runs every case once; benchmarks/faults.py prints the tally.
Cases of one class share what they can (one crawl of the site's two lives, one crawled
database to spoil copies of), through :class:`Bench`.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from tests.support.disks import tmpfs
from tests.support.faultsite import (
    ERROR,
    LASTMODS,
    LOOPS,
    NOT_FEEDS,
    PAGES,
    PLAIN_ARTICLES,
    STORED,
    FaultSite,
    Page,
    lead,
    sitemap_paths,
)
from tests.support.kills import add_alerts, digest_setup
from tests.support.run import free_port, newsmon_command, spawn
from tests.support.serving import Background
from tests.support.smtp import Inbox, SlowServer

TRACEBACK = "Traceback (most recent call last)"
# Seconds a command may run past its own timeout before it counts as a hang: the start of a
# `newsmon` process (Scrapy, jieba) takes a few seconds on a busy two-core machine.
MARGIN = 12.0
# A crawl of the fault site takes seconds; one still running after this hangs.
CRAWL_LIMIT = 120.0
# A command that only checks its input and refuses it.
REFUSAL_LIMIT = 20.0
SMTP_TIMEOUT = 3  # the [smtp] timeout of the slow-server cases, the whole session's deadline


@dataclass(frozen=True)
class Ran:
    """One `newsmon` run: its exit status (None: killed at the hard timeout) and output."""

    args: tuple[str, ...]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def lines(self) -> list[str]:
        """The lines it printed on stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()]


def run(
    *args: str, limit: float, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Ran:
    """``newsmon ARGS``, killed (its whole session) once it ran 5 s past ``limit``."""
    started = time.monotonic()
    options: dict[str, Any] = {"cwd": cwd} if cwd else {}
    process = spawn(
        newsmon_command(*args),
        env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        text=True,
        **options,
    )
    try:
        out, err = process.communicate(timeout=limit + 5)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate()
        code = None
    return Ran(args, code, out, err, time.monotonic() - started)


@dataclass
class Outcome:
    """What one case came to: each failure counted in its column, and said in ``problems``."""

    kind: str
    case: str
    corrupted: int = 0  # stored articles changed to a text that is not the page's
    skipped: int = 0  # articles missing, or bad fetches, with no error recorded for them
    hangs: int = 0  # commands that ran past their timeout
    tracebacks: int = 0  # commands that printed a traceback
    lost: int = 0  # owed alerts not delivered (or marked sent without being delivered)
    doubled: int = 0  # alerts delivered twice
    tried: bool = True  # False: this machine cannot run it (say why in problems)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.tried and not self.problems and not any(self.counts)

    @property
    def counts(self) -> tuple[int, ...]:
        return (self.corrupted, self.skipped, self.hangs, self.tracebacks, self.lost, self.doubled)

    def saw(self, ran: Ran, limit: float) -> Ran:
        """Count a hang past ``limit`` and a traceback in ``ran``."""
        what = "newsmon " + " ".join(ran.args[:1])
        if ran.returncode is None or ran.seconds > limit:
            self.hangs += 1
            self.problems.append(f"{what} ran {ran.seconds:.0f} s, past {limit:.0f} s")
        if TRACEBACK in ran.output:
            self.tracebacks += 1
            self.problems.append(f"{what}: a traceback")
        return ran

    def refused(self, ran: Ran, limit: float, naming: str = "") -> None:
        """``ran`` must have refused: a non-zero exit, one line on stderr (naming ``naming``)."""
        self.saw(ran, limit)
        what = "newsmon " + " ".join(ran.args[:1])
        if ran.returncode == 0:
            self.problems.append(f"{what} exited 0: {(ran.stdout or ran.stderr)[-200:]!r}")
        elif len(ran.lines) != 1:
            self.problems.append(f"{what}: {len(ran.lines)} lines on stderr: {ran.stderr[-300:]!r}")
        elif naming and naming not in ran.stderr and repr(naming)[1:-1] not in ran.stderr:
            self.problems.append(f"{what}: the line does not name {naming!r}: {ran.lines[0]!r}")


@dataclass(frozen=True)
class FaultCase:
    """One case of a class: ``measure(bench, outcome, arg)`` runs it and fills the outcome."""

    kind: str
    name: str
    measure: Callable[[Bench, Outcome, Any], None]
    arg: Any = None

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"


# --- what cases share -----------------------------------------------------------------------


@dataclass(frozen=True)
class Lives:
    """The pages source crawled in the site's sound life, then in its bad one."""

    db_path: Path
    before: dict[str, str]  # url: text stored by the first crawl
    runs: tuple[Ran, Ran]
    run_id: int  # the second crawl's run


class Bench(Background):
    """The site, a working folder and what the cases of a class share (crawled once)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.site = FaultSite()
        self._numbers = iter(range(1_000_000))

    def start(self) -> None:
        self.site.start()

    def stop(self) -> None:
        self.site.stop()

    def folder(self, name: str) -> Path:
        """A new folder of its own for one case."""
        path = self.workdir / f"{next(self._numbers)}-{name}"
        path.mkdir(parents=True)
        return path

    def url(self, path: str) -> str:
        return self.site.url + path.lstrip("/")

    def seeds(self, text: str, name: str = "seeds") -> Path:
        folder = self.folder(name)
        (folder / "site.toml").write_text(text, encoding="utf-8")
        return folder

    def crawl(self, db_path: Path, seeds: Path, *more: str) -> Ran:
        return run("crawl", "--db", str(db_path), "--seeds", str(seeds), *more, limit=CRAWL_LIMIT)

    @cached_property
    def lives(self) -> Lives:
        """The pages crawled sound, then (their watch over) once each went bad."""
        self.site.bad = False
        seeds = self.seeds(self.site.seeds(), "lives")
        db_path = seeds / "news.db"
        first = self.crawl(db_path, seeds, "--source", "pages")
        db = Database(db_path)
        before = {r["url"]: r["text"] for r in db.query("select url, text from articles")}
        time.sleep(1.1)  # the watch (1 s) is over: the second crawl fetches every page again
        self.site.bad = True
        try:
            second = self.crawl(db_path, seeds, "--source", "pages")
        finally:
            self.site.bad = False
        run_id = next(db.query("select max(id) n from crawl_runs where source_id = 'pages'"))["n"]
        return Lives(db_path, before, (first, second), run_id)

    @cached_property
    def skips(self) -> tuple[Path, Ran]:
        """The source of odd sitemaps, feeds that are none, and refresh loops, crawled in
        the site's first life and again (a revisit) in its second; the second crawl."""
        seeds = self.seeds(self.site.seeds(), "skips")
        db_path = seeds / "news.db"
        self.site.bad = False
        self.crawl(db_path, seeds, "--source", "skips")
        self.site.bad = True
        try:
            return db_path, self.crawl(db_path, seeds, "--source", "skips")
        finally:
            self.site.bad = False

    @cached_property
    def sound_db(self) -> Path:
        """A database of the plain source crawled once, checkpointed into its one file."""
        seeds = self.seeds(self.site.plain_seed(), "sound")
        db_path = seeds / "news.db"
        ran = self.crawl(db_path, seeds)
        if ran.returncode != 0:
            raise AssertionError(f"the sound crawl failed: {ran.output[-2000:]}")
        with closing(sqlite3.connect(db_path)) as db:
            db.execute("pragma wal_checkpoint(truncate)")
        return db_path

    @cached_property
    def plain_seeds(self) -> Path:
        return self.seeds(self.site.plain_seed(), "plain")

    def texts(self) -> list[str]:
        """Sentences of every article of the site, to find article text dumped in output."""
        return [lead(a) for a in self.site.articles.values()]


def fetch_errors(db: Database, url_like: str, run_id: int | None = None) -> list[str]:
    where = "url like ? and error is not null" + (" and run_id = ?" if run_id else "")
    params: list[Any] = [url_like, *([run_id] if run_id else [])]
    return [r["error"] for r in db.query(f"select error from fetches where {where}", params)]


# --- corruption: a bad fetch never becomes a version ----------------------------------------


def measure_page(bench: Bench, out: Outcome, page: Page) -> None:
    lives = bench.lives
    url = bench.url(page.path)
    db = Database(lives.db_path)
    rows = list(db.query("select id, text, version from articles where url = ?", [url]))
    errors = fetch_errors(db, url, lives.run_id)
    if page.expect == STORED:
        if not rows:
            if errors:
                out.problems.append(f"not stored, with the error {errors[0]!r}")
            else:
                out.skipped += 1
                out.problems.append("not stored, and no error for it")
        elif lead(bench.site.articles[page.path]) not in rows[0]["text"]:
            out.corrupted += 1
            out.problems.append(f"stored without its text: {rows[0]['text'][:80]!r}")
        return
    before = lives.before.get(url)
    if before is None:
        out.problems.append("the first, sound crawl did not store it")
        return
    changed = list(
        db.query(
            "select title from alerts where kind = 'changed_article' and article_id = ?",
            [rows[0]["id"] if rows else -1],
        )
    )
    if not rows or rows[0]["text"] != before or rows[0]["version"] != 1 or changed:
        out.corrupted += 1
        text = rows[0]["text"][:60] if rows else None
        out.problems.append(
            f"stored text changed to {text!r}, version {rows[0]['version'] if rows else None},"
            f" {len(changed)} changed_article alerts"
        )
    if page.expect == ERROR and not errors:
        out.skipped += 1
        out.problems.append("no error recorded for the bad fetch")


def measure_lives_output(bench: Bench, out: Outcome, _: None) -> None:
    for ran in bench.lives.runs:
        out.saw(ran, CRAWL_LIMIT)
        dumped = [t for t in bench.texts() if t in ran.output]
        if dumped:
            out.problems.append(f"article text in the crawl's output: {dumped[0]!r}")


# --- skipped without a word -----------------------------------------------------------------


def measure_sitemap(bench: Bench, out: Outcome, form: str) -> None:
    db_path, ran = bench.skips
    out.saw(ran, CRAWL_LIMIT)
    db = Database(db_path)
    stored = {r["url"] for r in db.query("select url from articles")}
    for path in sitemap_paths(form):
        url = bench.url(path)
        if url in stored:
            continue
        errors = fetch_errors(db, url)
        if errors:
            out.problems.append(f"{path} not stored: {errors[0]}")
        else:
            out.skipped += 1
            out.problems.append(f"{path} (lastmod {LASTMODS[form]!r} before it) lost in silence")


def measure_not_feed(bench: Bench, out: Outcome, name: str) -> None:
    db_path, ran = bench.skips
    out.saw(ran, CRAWL_LIMIT)
    if not fetch_errors(Database(db_path), bench.url(f"/feeds/{name}.xml")):
        out.skipped += 1
        out.problems.append(f"the feed answering {NOT_FEEDS[name][0]} left no error")


def measure_loop(bench: Bench, out: Outcome, name: str) -> None:
    db_path, ran = bench.skips
    out.saw(ran, CRAWL_LIMIT)
    errors = fetch_errors(Database(db_path), bench.url(f"/m/{name.removesuffix('-a')}%"))
    if not errors:
        out.skipped += 1
        out.problems.append("the loop left no fetch with an error")


# The start URL of the plain source in other spellings of its host: (base, private_hosts).
START_URLS = {
    "ipv6-mapped": ("http://[::ffff:127.0.0.1]:{port}/", '"::ffff:127.0.0.1"'),
    "upper-case": ("HTTP://127.0.0.1:{port}/", '"127.0.0.1"'),
    "idn": ("http://例子.测试:{port}/", '"127.0.0.1"'),
    "idn-punycode-upper": ("http://XN--FSQU00A.XN--0ZWM56D:{port}/", '"127.0.0.1"'),
    "ipv6-loopback": ("http://[::1]:{port}/", '"::1"'),
}


def measure_start_url(bench: Bench, out: Outcome, name: str) -> None:
    """Every article crawled, or the start URL's failure recorded: never a silent nothing."""
    base, hosts = START_URLS[name]
    base = base.format(port=bench.site.port)
    seeds = bench.seeds(bench.site.plain_seed(base, hosts), name)
    db_path = seeds / "news.db"
    ran = out.saw(bench.crawl(db_path, seeds), CRAWL_LIMIT)
    if ran.returncode not in (0, None) and len(ran.lines) == 1 and not db_path.exists():
        return  # refused at load, in one line
    db = Database(db_path)
    stored = db["articles"].count if db["articles"].exists() else 0
    errors = fetch_errors(db, "%") if db["fetches"].exists() else []
    if stored < PLAIN_ARTICLES and not errors:
        out.skipped += PLAIN_ARTICLES - stored
        out.problems.append(f"{stored} of {PLAIN_ARTICLES} articles stored, and no error")


# --- hangs: nothing waits past its timeout --------------------------------------------------

CATASTROPHIC = (
    "^/p/(a+)+$",
    "^/p/(a|aa)+$",
    "^/p/(\\w+\\s?)+$",
    "^/p/(a*)*b$",
    "^/p/(?:a|a?)+$",
    "^/p/([a-z]+)*\\.html$",
    "^/p/(.*a){20}$",
    "^/p/(a+|b+)*c$",
)


def measure_pattern(bench: Bench, out: Outcome, pattern: str) -> None:
    """A pattern that backtracks for ever on the link the plain list page carries."""
    text = bench.site.plain_seed().replace(
        "article_urls = ['^/p/']", f"article_urls = ['{pattern}']"
    )
    seeds = bench.seeds(text, "pattern")
    out.refused(bench.crawl(seeds / "news.db", seeds), REFUSAL_LIMIT, naming=pattern)


NUMBERS = (
    "delay = inf",
    "delay = nan",
    "delay = 1e308",
    "timeout = inf",
    "timeout = nan",
    "timeout = 0",
    "concurrency = 0",
    "concurrency = 100000",
    'every = "0s"',
    'every = "999999999999d"',
    'every = "-1h"',
    'watch = ["0s"]',
    'watch = ["1h", "99999999999d"]',
    "max_pages = 1e400",
)


def with_setting(seed: str, line: str) -> str:
    """``seed`` with ``line`` in place of its own setting of that key (or added)."""
    key = line.split("=")[0].strip()
    lines = [x for x in seed.splitlines() if x.split("=")[0].strip() != key]
    return "\n".join([*lines, line, ""])


def measure_number(bench: Bench, out: Outcome, line: str) -> None:
    seeds = bench.seeds(with_setting(bench.site.plain_seed(), line), "number")
    out.refused(bench.crawl(seeds / "news.db", seeds), REFUSAL_LIMIT)


def fifo_in_seeds(bench: Bench, folder: Path) -> tuple[str, ...]:
    shutil.copy(bench.plain_seeds / "site.toml", folder / "site.toml")
    os.mkfifo(folder / "more.toml")
    return ("crawl", "--seeds", str(folder), "--db", str(folder / "news.db"))


def fifo_as_seeds(bench: Bench, folder: Path) -> tuple[str, ...]:
    os.mkfifo(folder / "seeds.toml")
    return ("sources", "--seeds", str(folder / "seeds.toml"))


def fifo_status_seeds(bench: Bench, folder: Path) -> tuple[str, ...]:
    os.mkfifo(folder / "more.toml")
    return ("status", "--seeds", str(folder), "--db", str(bench.sound_db))


def fifo_as_config(bench: Bench, folder: Path) -> tuple[str, ...]:
    os.mkfifo(folder / "newsmon.toml")
    db_path = folder / "news.db"
    shutil.copy(bench.sound_db, db_path)
    return ("digest", "--config", str(folder / "newsmon.toml"), "--db", str(db_path), "--dry-run")


def fifo_as_taxonomy(bench: Bench, folder: Path) -> tuple[str, ...]:
    os.mkfifo(folder / "mine.toml")
    return (
        "crawl", "--seeds", str(bench.plain_seeds), "--db", str(folder / "news.db"),
        "--taxonomy", str(folder / "mine.toml"),
    )  # fmt: skip


FIFOS: dict[str, Callable[[Bench, Path], tuple[str, ...]]] = {
    "fifo-in-seeds-folder": fifo_in_seeds,
    "fifo-as-seeds-file": fifo_as_seeds,
    "fifo-in-seeds-of-status": fifo_status_seeds,
    "fifo-as-config": fifo_as_config,
    "fifo-as-taxonomy": fifo_as_taxonomy,
}


def measure_fifo(bench: Bench, out: Outcome, name: str) -> None:
    """A FIFO where newsmon reads a file: opened for reading it blocks until a writer comes."""
    folder = bench.folder(name)
    args = FIFOS[name](bench, folder)
    ran = run(*args, limit=REFUSAL_LIMIT)
    if args[0] != "status":
        out.refused(ran, REFUSAL_LIMIT)
    elif out.saw(ran, REFUSAL_LIMIT).returncode == 0 or "more.toml" not in ran.output:
        out.problems.append(f"status did not name the FIFO as a problem: {ran.output[-200:]!r}")


def unsent(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path)) as db:
        return int(db.execute("select count(*) from alerts where sent_at is null").fetchone()[0])


def deliver(bench: Bench, out: Outcome, db_path: Path, tokens: list[str]) -> None:
    """A digest to a sound server now: every token in ``tokens`` must arrive, once."""
    with Inbox() as inbox:
        config = db_path.with_name("good.toml")
        config.write_text(
            f'[smtp]\nhost = "127.0.0.1"\nport = {inbox.port}\nsecurity = "none"\n'
            f'from = "newsmon@example.cn"\nto = ["analyst@example.cn"]\ntimeout = 10\n',
            encoding="utf-8",
        )
        ran = run("digest", "--db", str(db_path), "--config", str(config), limit=REFUSAL_LIMIT)
        out.saw(ran, REFUSAL_LIMIT)
        count_copies(out, inbox, tokens)


def count_copies(out: Outcome, inbox: Inbox, tokens: list[str]) -> None:
    _, messages = inbox.deliveries()
    lost = sum(1 for t in tokens if not messages[t])
    doubled = sum(1 for t in tokens if messages[t] > 1)
    out.lost += lost
    out.doubled += doubled
    if lost or doubled:
        out.problems.append(f"of {len(tokens)} alerts {lost} never arrived, {doubled} twice")


def measure_slow_smtp(bench: Bench, out: Outcome, mode: str) -> None:
    folder = bench.folder(f"smtp-{mode}")
    with SlowServer(mode=mode) as server:
        db_path, args = digest_setup(folder, server.port, "digest")
        config = Path(args[-1])
        config.write_text(
            config.read_text("utf-8").replace("timeout = 10", f"timeout = {SMTP_TIMEOUT}"), "utf-8"
        )
        tokens = add_alerts(db_path, 0, 5)
        out.refused(run(*args, limit=SMTP_TIMEOUT + MARGIN), SMTP_TIMEOUT + MARGIN)
    if unsent(db_path) != len(tokens):
        out.lost += len(tokens) - unsent(db_path)
        out.problems.append("alerts marked sent though the server never said it took them")
    deliver(bench, out, db_path, tokens)


# --- digests: each owed alert mailed once ---------------------------------------------------


def age(db_path: Path, tokens: list[str], hours: float) -> None:
    """Make the alerts of ``tokens`` ``hours`` old."""
    moment = (datetime.now(UTC) - timedelta(hours=hours)).isoformat(timespec="seconds")
    with closing(sqlite3.connect(db_path)) as db, db:
        for token in tokens:
            db.execute(
                "update alerts set created = ? where subject = ?", [moment, f"story:{token}"]
            )


@contextmanager
def digest_db(bench: Bench, name: str, extra: str = "") -> Iterator[tuple[Inbox, Path, Path]]:
    """An Inbox, a database of its own and settings (with ``extra`` lines in [digest])."""
    folder = bench.folder(name)
    with Inbox() as inbox:
        db_path, args = digest_setup(folder, inbox.port, "digest")
        config = Path(args[-1])
        if extra:
            with config.open("a", encoding="utf-8") as settings:
                settings.write(f"\n[digest]\n{extra}\n")
        yield inbox, db_path, config


def measure_ages(bench: Bench, out: Outcome, spec: tuple[tuple[float, ...], str, str]) -> None:
    """Alerts of the given ages in hours, one digest run (``--since`` / a [digest] setting):
    every one is owed, and must arrive once."""
    hours, since, setting = spec
    with digest_db(bench, "ages", setting) as (inbox, db_path, config):
        tokens = add_alerts(db_path, 0, len(hours))
        for token, old in zip(tokens, hours, strict=True):
            age(db_path, [token], old)
        more = ("--since", since) if since else ()
        args = ("digest", "--db", str(db_path), "--config", str(config), *more)
        ran = out.saw(run(*args, limit=REFUSAL_LIMIT), REFUSAL_LIMIT)
        if ran.returncode != 0:
            out.problems.append(f"digest failed: {ran.stderr[-200:]!r}")
        count_copies(out, inbox, tokens)


def measure_twice(bench: Bench, out: Outcome, _: None) -> None:
    with digest_db(bench, "twice") as (inbox, db_path, config):
        tokens = add_alerts(db_path, 0, 8)
        args = ("digest", "--db", str(db_path), "--config", str(config))
        for _run in range(2):
            out.saw(run(*args, limit=REFUSAL_LIMIT), REFUSAL_LIMIT)
        count_copies(out, inbox, tokens)


def refused_digest(out: Outcome, inbox: Inbox, db_path: Path, args: tuple[str, ...]) -> None:
    """A digest run that must refuse: one line, nothing sent, every alert still owed."""
    owed = unsent(db_path)
    out.refused(run(*args, limit=REFUSAL_LIMIT), REFUSAL_LIMIT)
    if inbox.messages():
        out.problems.append(f"{len(inbox.messages())} messages sent all the same")
    elif unsent(db_path) < owed:
        out.lost += owed - unsent(db_path)
        out.problems.append(f"{owed - unsent(db_path)} alerts marked sent, not sent")


def measure_bad_setting(bench: Bench, out: Outcome, line: str) -> None:
    """A bad ``[digest]`` setting is read, and refused: the setting counts."""
    with digest_db(bench, "setting", line) as (inbox, db_path, config):
        add_alerts(db_path, 0, 3)
        refused_digest(
            out, inbox, db_path, ("digest", "--db", str(db_path), "--config", str(config))
        )


RECIPIENTS = (
    "a@example.cn, b@example.cn",
    "a@example.cn;b@example.cn",
    "<a@example.cn>,<b@example.cn>",
    "a@example.cn b@example.cn",
    "a@example.cn\r\nBcc: c@example.cn",
    "Team <a@example.cn>, b@example.cn",
)


def measure_to(bench: Bench, out: Outcome, to: str) -> None:
    with digest_db(bench, "to") as (inbox, db_path, config):
        add_alerts(db_path, 0, 3)
        args = ("digest", "--db", str(db_path), "--config", str(config), "--to", to)
        refused_digest(out, inbox, db_path, args)


READ_COMMANDS: dict[str, tuple[str, ...]] = {
    "alerts": ("alerts",),
    "digest": ("digest", "--dry-run"),
    "digest-out": ("digest", "--out", "{folder}/digest.html"),
    "status": ("status", "--seeds", "{seeds}"),
    "reclassify": ("reclassify",),
    "serve": ("serve", "--port", "{port}"),
}


def measure_missing_db(bench: Bench, out: Outcome, name: str) -> None:
    """A read command given a --db that is not there: refused, and nothing created."""
    folder = bench.folder(f"missing-{name}")
    db_path = folder / "typo" / "news.db"
    values = {"folder": folder, "port": free_port(), "seeds": bench.plain_seeds}
    args = [a.format(**values) for a in READ_COMMANDS[name]]
    ran = run(*args, "--db", str(db_path), limit=REFUSAL_LIMIT)
    out.refused(ran, REFUSAL_LIMIT, naming=str(db_path))
    if db_path.parent.exists():
        out.problems.append(f"{db_path.parent} was created")


# --- databases: one line, nothing changed ---------------------------------------------------


def digest_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "-"


def random_bytes(db_path: Path) -> None:
    db_path.write_bytes(random.Random(1).randbytes(64 * 1024))


def truncated(db_path: Path) -> None:
    data = db_path.read_bytes()
    db_path.write_bytes(data[: len(data) // 2])


def pages_overwritten(db_path: Path) -> None:
    data = bytearray(db_path.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4 * 4096] = random.Random(2).randbytes(4 * 4096)
    db_path.write_bytes(bytes(data))


def header_zeroed(db_path: Path) -> None:
    data = bytearray(db_path.read_bytes())
    data[:100] = bytes(100)
    db_path.write_bytes(bytes(data))


def newer_migration(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as db:
        with db:
            db.execute(
                "insert into _sqlite_migrations (migration_set, name, applied_at) values (?, ?, ?)",
                ["newsmon", "m999_written_by_a_newer_newsmon", "2099-01-01 00:00:00+00:00"],
            )
        db.execute("pragma wal_checkpoint(truncate)")


SPOILS: dict[str, Callable[[Path], None]] = {
    "random-bytes": random_bytes,
    "truncated": truncated,
    "pages-overwritten": pages_overwritten,
    "header-zeroed": header_zeroed,
    "newer-migration": newer_migration,
}


def commands(bench: Bench, db_path: Path, folder: Path) -> dict[str, tuple[str, ...]]:
    """Every command that opens a database, writers first, as cron and people run them."""
    db = ("--db", str(db_path))
    return {
        "crawl": ("crawl", "--seeds", str(bench.plain_seeds), *db),
        "digest": ("digest", "--out", str(folder / "digest.html"), *db),
        "reclassify": ("reclassify", *db),
        "status": ("status", "--seeds", str(bench.plain_seeds), *db),
        "alerts": ("alerts", *db),
    }


def measure_spoiled(bench: Bench, out: Outcome, name: str) -> None:
    """A database spoiled so: every command refuses it in one line, and changes nothing."""
    folder = bench.folder(name)
    db_path = folder / "news.db"
    shutil.copy(bench.sound_db, db_path)
    SPOILS[name](db_path)
    before = digest_of(db_path)
    for what, args in commands(bench, db_path, folder).items():
        ran = run(*args, limit=CRAWL_LIMIT if what == "crawl" else REFUSAL_LIMIT)
        out.refused(ran, CRAWL_LIMIT)
        if digest_of(db_path) != before:
            out.problems.append(f"newsmon {what} changed the file")
            before = digest_of(db_path)


def on_small_disk(
    measure: Callable[[Bench, Outcome, Any, Path, Path], None],
) -> Callable[[Bench, Outcome, Any], None]:
    """``measure`` given a new folder of its own and a 16 MiB tmpfs mounted in it; where this
    process may not mount one, the case is not tried."""

    def measured(bench: Bench, out: Outcome, arg: Any) -> None:
        folder = bench.folder(measure.__name__.removeprefix("measure_"))
        with tmpfs(folder / "disk", "16m") as refused:
            if refused is None:
                measure(bench, out, arg, folder, folder / "disk")
            else:
                out.tried = False
                out.problems.append(f"cannot mount a tmpfs here (needs root): {refused}")

    return measured


@on_small_disk
def measure_read_only(bench: Bench, out: Outcome, _: None, folder: Path, disk: Path) -> None:
    """A database on a read-only mount: writers refuse in one line; readers read or refuse."""
    db_path = disk / "news.db"
    shutil.copy(bench.sound_db, db_path)
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    for what, args in commands(bench, db_path, folder).items():
        ran = run(*args, limit=CRAWL_LIMIT if what == "crawl" else REFUSAL_LIMIT)
        if what in ("status", "alerts") and ran.returncode == 0:
            out.saw(ran, REFUSAL_LIMIT)
        else:
            out.refused(ran, CRAWL_LIMIT)


def fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` up to ``leave`` bytes from full."""
    free = shutil.disk_usage(disk).free
    if free > leave:
        (disk / "filler").write_bytes(bytes(free - leave))


@on_small_disk
def measure_full_disk(bench: Bench, out: Outcome, leave: int, folder: Path, disk: Path) -> None:
    """A database whose disk has ``leave`` bytes left: a crawl and a digest that cannot write
    fail in one line with nothing in the output but it; what was stored stays whole."""
    db_path = disk / "news.db"
    shutil.copy(bench.sound_db, db_path)
    with closing(sqlite3.connect(db_path)) as db:  # new alerts for the digest to mark
        db.execute("update alerts set sent_at = null")
        db.commit()
    fill(disk, leave)
    site_texts = bench.texts()
    for what in ("crawl", "digest"):
        ran = run(*commands(bench, db_path, folder)[what], limit=CRAWL_LIMIT)
        if ran.returncode == 0:
            out.saw(ran, CRAWL_LIMIT)  # it had room enough
        else:
            out.refused(ran, CRAWL_LIMIT)
        dumped = [t for t in site_texts if t in ran.output]
        if dumped:
            out.problems.append(f"newsmon {what}: article text in its output: {dumped[0]!r}")
    (disk / "filler").unlink(missing_ok=True)
    with closing(sqlite3.connect(db_path)) as db:
        integrity = db.execute("pragma integrity_check").fetchone()[0]
    if integrity != "ok":
        out.corrupted += 1
        out.problems.append(f"integrity_check: {integrity[:200]}")


@on_small_disk
def measure_fills_mid_crawl(bench: Bench, out: Outcome, _: None, folder: Path, disk: Path) -> None:
    """A crawl into a new database on a disk that fills while it writes."""
    db_path = disk / "news.db"
    fill(disk, 700 * 1024)  # room for the schema and a few articles, not for the site
    ran = run(*commands(bench, db_path, folder)["crawl"], limit=CRAWL_LIMIT)
    out.refused(ran, CRAWL_LIMIT)
    dumped = [t for t in bench.texts() if t in ran.output]
    if dumped:
        out.problems.append(f"article text in the crawl's output: {dumped[0]!r}")


# --- the classes ----------------------------------------------------------------------------

CLASSES = ("corruption", "skipped", "hangs", "digests", "database")

CASES: tuple[FaultCase, ...] = (
    *(FaultCase("corruption", p.name, measure_page, p) for p in PAGES),
    FaultCase("corruption", "crawl-output", measure_lives_output),
    *(FaultCase("skipped", f"lastmod-{form}", measure_sitemap, form) for form in LASTMODS),
    *(FaultCase("skipped", f"feed-as-{name}", measure_not_feed, name) for name in NOT_FEEDS),
    *(FaultCase("skipped", f"loop-{name}", measure_loop, name) for name in LOOPS),
    *(FaultCase("skipped", f"start-{name}", measure_start_url, name) for name in START_URLS),
    *(FaultCase("hangs", f"regex-{i}", measure_pattern, p) for i, p in enumerate(CATASTROPHIC)),
    *(FaultCase("hangs", line, measure_number, line) for line in NUMBERS),
    *(FaultCase("hangs", name, measure_fifo, name) for name in FIFOS),
    *(
        FaultCase("hangs", f"smtp-{m}", measure_slow_smtp, m)
        for m in ("greeting", "after-data", "silent")
    ),
    FaultCase("digests", "all-older-than-since", measure_ages, ((72, 50, 30, 26), "1d", "")),
    FaultCase("digests", "some-older-than-since", measure_ages, ((0.1, 3, 72, 200), "2h", "")),
    FaultCase(
        "digests", "older-than-settings-since", measure_ages, ((0.1, 5, 30), "", 'since = "1h"')
    ),
    FaultCase("digests", "twice-in-a-row", measure_twice),
    *(
        FaultCase("digests", f"settings-since-{i}", measure_bad_setting, line)
        for i, line in enumerate(('since = "fortnight"', 'since = "0s"'))
    ),
    *(FaultCase("digests", f"to-{i}", measure_to, to) for i, to in enumerate(RECIPIENTS)),
    *(FaultCase("digests", f"missing-db-{n}", measure_missing_db, n) for n in READ_COMMANDS),
    *(FaultCase("database", name, measure_spoiled, name) for name in SPOILS),
    FaultCase("database", "read-only-mount", measure_read_only),
    FaultCase("database", "full-disk", measure_full_disk, 0),
    FaultCase("database", "almost-full-disk", measure_full_disk, 64 * 1024),
    FaultCase("database", "fills-mid-crawl", measure_fills_mid_crawl),
)


def run_case(bench: Bench, case: FaultCase) -> Outcome:
    """``case`` run and measured; a case whose harness broke fails with what broke."""
    out = Outcome(case.kind, case.name)
    try:
        case.measure(bench, out, case.arg)
    except Exception as exc:  # noqa: BLE001 - the tally must go on and say what broke
        out.problems.append(f"the case itself broke: {type(exc).__name__}: {exc}")
    return out


COLUMNS = (
    "tried",
    "passed",
    "corrupted",
    "skipped-silently",
    "hangs",
    "tracebacks",
    "alerts lost/doubled",
)


def class_rows(outcomes: list[Outcome]) -> list[tuple[str, ...]]:
    """One row per class and a total: cases tried, passed and each failure count."""
    rows = []
    for kind in (*CLASSES, "total"):
        mine = [o for o in outcomes if o.tried and kind in (o.kind, "total")]
        sums = [sum(o.counts[i] for o in mine) for i in range(6)]
        rows.append(
            (kind, str(len(mine)), str(sum(o.passed for o in mine)), *map(str, sums[:4]),
             f"{sums[4]}/{sums[5]}")
        )  # fmt: skip
    return rows
