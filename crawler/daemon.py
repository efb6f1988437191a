"""The long-running scheduler: every source crawled on its own schedule, all runs in one
crawl process.

The runs go to one ``newsmon crawl --stdin`` child (``crawler.service``), which crawls each
source it is sent beside the others, in one reactor with one pool of extract workers: memory
is that of one crawl however many sources there are or fall due at once (one child per run
held ~370 MB each, ~3 GB for ten sources due together, as measured for issue 15; now
benchmarks/sources.py compares the daemon with one ``newsmon crawl``). The crawls are
in a child, not in this process: a leak, a crash or a stuck parser stays in the child, whose
runs this process logs as ended with it before it starts another for the next run, and the
daemon that runs for months stays small. A child idle for ``IDLE_SECONDS`` is let go, so that
the memory between rounds is the daemon's alone and nothing a crawl left behind accumulates.

The plan lives in the database: on start, each source's next run follows from when its last
run started, so a restart resumes the plan instead of crawling everything again.

The crawls die with the daemon: on Linux the child asks the kernel for SIGTERM when the daemon
ends, ``kill -9`` included, and finishes the pages in flight as on a normal stop (the next run
of a source then reads every listing again). Without that a killed daemon would leave crawls
running that no one supervises and whose errors no one logs. And whatever starts crawls (the
daemon, cron, a person), a crawl of a source that is already being crawled is skipped (a lock
beside the database, ``crawler.crawl``): a restarted daemon never runs a source twice.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.clock import duration_seconds
from crawler.config import load_config
from crawler.logs import OneLineFormatter, setup_logging
from crawler.sources import Source, crontab_fields, load_sources

log = logging.getLogger(__name__)

# The digest runs in a process of its own beside the crawl process.
PARALLEL_RUNS = 2
# A crawl process with no run for this long exits; the next run starts a new one (~3 s).
IDLE_SECONDS = 60.0
# Runs start up to 10% of their interval late, at most 5 minutes, so that sources with the same
# schedule do not all start in the same second.
JITTER_SHARE = 0.1
MAX_JITTER_SECONDS = 300
# Signal handlers only count signals; the main thread looks at the count this often, and
# sends the crawl process the runs that fell due since.
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def run_daemon(
    db_path: Path,
    seeds: Path,
    source_ids: tuple[str, ...],
    taxonomy: tuple[Path, ...],
    shared: bool = False,
) -> int:
    """Crawl the given sources on their schedules until SIGTERM or SIGINT; the exit code.
    ``shared``: the runs crawl through Redis ($NEWSMON_REDIS_URL) and the database, with the
    digest, is the writer's, on another host."""
    setup_logging(logging.INFO)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(TimestampFormatter())
    log.setLevel(logging.INFO)
    sources = [s for s in load_sources([seeds]) if s.id in source_ids]
    return Daemon(db_path, seeds, taxonomy, shared).run(sources)


class TimestampFormatter(OneLineFormatter):
    """One line per record with its local time first: the daemon's log is read for months."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {super().format(record)}"


class Daemon:
    """Sends the sources' runs to the crawl process on their schedules and stops it cleanly."""

    def __init__(
        self, db_path: Path, seeds: Path, taxonomy: tuple[Path, ...], shared: bool = False
    ):
        self.db_path = db_path
        self.seeds = seeds
        self.taxonomy = taxonomy
        self.shared = shared
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(PARALLEL_RUNS)}
        )
        # Sources fallen due, from the scheduler's threads to the main thread: the crawl
        # process is started from the main thread, whose end the kernel's parent-death
        # signal follows (a pool thread may end while the daemon goes on).
        self.due: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.lock = threading.Lock()  # guards what follows
        self.crawls: CrawlProcess | None = None  # the one that takes new runs
        self.processes: set[subprocess.Popen[str]] = set()  # crawl processes and digests alive
        self.running: dict[str, tuple[CrawlProcess, float]] = {}  # source: its process, start
        self.idle_since = time.monotonic()
        self.stopping = False
        self.signals = 0

    def run(self, sources: list[Source]) -> int:
        """Schedule ``sources``, run until signalled, let running crawls finish; the exit code."""
        # Handlers are installed first so that a signal during the start is not lost.
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        now = datetime.now(UTC)
        last = last_starts(self.db_path)
        for source in sources:
            trigger = make_trigger(source, last.get(source.id), now)
            if trigger is None:
                log.info("%s: no schedule (every or cron), not scheduled", source.id)
                continue
            due = first_run(trigger, last.get(source.id), now)
            self.scheduler.add_job(
                self.due.put,
                trigger,
                args=[source.id],
                id=source.id,
                name=source.id,
                next_run_time=due,
                coalesce=True,  # runs missed while asleep or stopped are one run, not many
                misfire_grace_time=None,  # however late, a missed run still runs (once)
            )
            log.info(
                "%s: %s, last run %s, next run %s",
                source.id,
                describe(source),
                local_time(last[source.id]) if source.id in last else "never",
                local_time(due),
            )
        if not self.scheduler.get_jobs():
            log.error("no source to schedule: give them `every` or `cron` in %s", self.seeds)
            return 1
        self.schedule_digest()
        self.scheduler.start()
        while not self.signals:
            while not self.due.empty():
                self.start_run(self.due.get())
            self.let_idle_go()
            time.sleep(POLL_SECONDS)
        self.stop()
        return 0

    def schedule_digest(self) -> None:
        """The daily digest at [digest] time, when the settings name someone to send it to."""
        if self.shared:
            log.info("digest: not scheduled here: the crawls go to the writer through Redis")
            return
        try:
            config = load_config()
        except ValueError as exc:
            log.error("digest: not scheduled: %s", str(exc).splitlines()[0])
            return
        if not (config.smtp.to or config.digest.recipients):
            log.info("digest: no recipients in the settings (newsmon.toml), not scheduled")
            return
        hour, minute = config.digest.time.split(":")
        self.scheduler.add_job(
            self.run_process,
            CronTrigger(hour=int(hour), minute=int(minute)),
            args=["digest", [sys.executable, "-m", "crawler", "digest", "--db", str(self.db_path)]],
            id="digest",
            name="digest",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,  # a morning digest an hour late is still wanted
        )
        log.info("digest: daily at %s", config.digest.time)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """Count the signal; the main thread acts on it (little is safe inside a handler)."""
        self.signals += 1

    def stop(self) -> None:
        """Start no more runs, ask the running crawls to finish, and wait for them."""
        self.scheduler.shutdown(wait=False)
        with self.lock:
            self.stopping = True
            running = len(self.running)
        log.info("stopping: waiting for %d running crawls to finish", running)
        # SIGTERM makes Scrapy finish the pages in flight and close the run's row; a second
        # signal would make it stop at once, which is why the crawls run in sessions of their
        # own: a Ctrl-C in a terminal reaches only this process, which sends exactly one. (For
        # the same reason a systemd unit wants KillMode=mixed.)
        self.signal_all(signal.SIGTERM)
        while self.processes and self.signals < 2:
            time.sleep(POLL_SECONDS)
        if self.processes:
            log.warning("second signal: killing %d running crawls", len(self.running))
            self.signal_all(signal.SIGKILL)
            while self.processes:
                time.sleep(POLL_SECONDS)
        log.info("stopped")

    def signal_all(self, signum: int) -> None:
        """Send ``signum`` to every crawl process and digest run."""
        with self.lock:
            for process in self.processes:
                process.send_signal(signum)

    def start_run(self, source_id: str) -> None:
        """Send a run of ``source_id`` to the crawl process, started if there is none."""
        with self.lock:
            if self.stopping:
                return
            if source_id in self.running:
                log.info("%s: its last run is still going; this run is skipped", source_id)
                return
            for _ in range(2):  # a process that ended just now: once more, with a new one
                if self.crawls is None:
                    self.crawls = CrawlProcess(self.command(), self)
                    self.processes.add(self.crawls.process)
                    log.info("crawl process started (pid %d)", self.crawls.process.pid)
                if self.crawls.send(source_id):
                    break
                self.crawls = None
            else:
                log.warning("%s: no crawl process would take the run; it is skipped", source_id)
                return
            self.running[source_id] = (self.crawls, time.monotonic())
        log.info("%s: run started", source_id)

    def run_ended(self, crawls: CrawlProcess, source_id: str, status: str, line: str) -> None:
        """The crawl process reported the end of a run (from its reader thread)."""
        with self.lock:
            ran = self.running.get(source_id)
            if ran is None or ran[0] is not crawls:
                return
            del self.running[source_id]
            if not self.running:
                self.idle_since = time.monotonic()
        level = logging.INFO if status == "ok" else logging.WARNING
        log.log(
            level,
            "%s: run ended, %s, %.1fs: %s",
            source_id,
            status,
            time.monotonic() - ran[1],
            line,
        )

    def process_ended(self, crawls: CrawlProcess, code: int) -> None:
        """The crawl process ended (from its reader thread): its runs still going end with it."""
        with self.lock:
            self.processes.discard(crawls.process)
            if self.crawls is crawls:
                self.crawls = None
            lost = [s for s, (p, _) in self.running.items() if p is crawls]
            for source_id in lost:
                del self.running[source_id]
            if not self.running:
                self.idle_since = time.monotonic()
        status = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        if code != 0 or lost:
            log.warning("crawl process ended, %s; next runs start another", status)
        for source_id in lost:
            log.warning("%s: run ended with the crawl process, %s", source_id, status)

    def let_idle_go(self) -> None:
        """End the crawl process once it has had no run for IDLE_SECONDS."""
        with self.lock:
            idle = self.crawls is not None and not self.running
            if not idle or time.monotonic() - self.idle_since < IDLE_SECONDS:
                return
            crawls, self.crawls = self.crawls, None
        assert crawls is not None
        crawls.close()

    def run_process(self, name: str, command: list[str]) -> None:
        """A digest run in its own process; logs its start, errors and end."""
        with self.lock:
            if self.stopping:
                return
            process = child(command, stdout=subprocess.DEVNULL)
            self.processes.add(process)
        started = time.monotonic()
        log.info("%s: run started (pid %d)", name, process.pid)
        assert process.stderr is not None
        log_lines(name, process.stderr)
        code = process.wait()
        level = logging.INFO if code == 0 else logging.WARNING
        status = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        log.log(level, "%s: run ended, %s, %.1fs", name, status, time.monotonic() - started)
        with self.lock:
            self.processes.discard(process)

    def command(self) -> list[str]:
        """The ``newsmon crawl --stdin`` with this daemon's database, seeds and taxonomy."""
        taxonomy = [arg for path in self.taxonomy for arg in ("--taxonomy", str(path))]
        return [
            *(sys.executable, "-m", "crawler", "crawl", "--stdin"),
            *("--db", str(self.db_path), "--seeds", str(self.seeds), *taxonomy),
        ]


class CrawlProcess:
    """The daemon's ``newsmon crawl --stdin``: takes runs by source id; two threads read what
    it says, the ends of runs (stdout) and its errors (stderr), and tell the daemon."""

    def __init__(self, command: list[str], daemon: Daemon):
        self.process = child(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.daemon = daemon
        threading.Thread(target=self.read_results, name="crawl-results", daemon=True).start()
        assert self.process.stderr is not None
        threading.Thread(
            target=log_lines, args=("crawl", self.process.stderr), name="crawl-errors", daemon=True
        ).start()

    def send(self, source_id: str) -> bool:
        """Ask for a run of ``source_id``; False if the process no longer reads."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(source_id + "\n")
            self.process.stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def close(self) -> None:
        """No more runs: the process ends once those going have."""
        assert self.process.stdin is not None
        with contextlib.suppress(OSError):
            self.process.stdin.close()

    def read_results(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                try:
                    record = json.loads(line)
                    ended = (record["source"], record["status"], record["line"])
                except (ValueError, KeyError, TypeError):
                    log.warning("crawl: %s", line.rstrip())
                    continue
                self.daemon.run_ended(self, *ended)
        self.daemon.process_ended(self, self.process.wait())


def child(command: list[str], stdout: int, stdin: int | None = None) -> subprocess.Popen[str]:
    """``command`` started as the daemon's child: text streams, its errors piped to the daemon,
    in a session of its own (a Ctrl-C reaches only the daemon, which passes on one SIGTERM),
    and ended by the kernel when the daemon ends."""
    return subprocess.Popen(
        command,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        errors="replace",
        start_new_session=True,
        preexec_fn=die_with_parent(),
        stdin=stdin,
        stdout=stdout,
    )


def log_lines(name: str, stream: IO[str]) -> None:
    """Each line a process writes to ``stream`` as a warning of the daemon's, until it ends."""
    with stream:
        for line in stream:
            log.warning("%s: %s", name, line.rstrip())


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child sent SIGTERM when this process dies (Linux), or None.

    The kernel sends it when the thread that started the child ends; here that is the pool
    thread waiting for the run, which ends after the run does, or with the daemon.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        # Runs in the child between fork and exec: a system call, no locks, no allocation
        # beyond the call itself.
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the daemon died before the request was made
            os._exit(1)

    return preexec


def last_starts(db_path: Path) -> dict[str, datetime]:
    """When each source's last run started, from ``crawl_runs``; read-only, crawls write."""
    if not db_path.exists():
        return {}
    uri = f"{db_path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute("select source_id, max(started) from crawl_runs group by source_id")
        return {source_id: datetime.fromisoformat(started) for source_id, started in rows}


def make_trigger(source: Source, last: datetime | None, now: datetime) -> BaseTrigger | None:
    """The source's trigger with jitter (an interval counts from the last run), or None."""
    if source.every:
        seconds = duration_seconds(source.every)
        return IntervalTrigger(seconds=seconds, start_date=last, jitter=jitter(seconds))
    if source.cron:
        fields = crontab_fields(source.cron)
        plain = CronTrigger(**fields)
        first = plain.get_next_fire_time(None, now)
        gap = plain.get_next_fire_time(first, first) - first
        return CronTrigger(**fields, jitter=jitter(gap.total_seconds()))
    return None


def first_run(trigger: BaseTrigger, last: datetime | None, now: datetime) -> datetime:
    """Now if the source never ran or is overdue, else its next fire time after the last run."""
    if last is None:
        return now
    # Started times are stored to the second; a run that started on the dot is not due again.
    due: datetime = trigger.get_next_fire_time(None, last + timedelta(seconds=1))
    return max(due, now)


def jitter(seconds: float) -> float:
    """How late a run may start, at random, on a schedule with runs ``seconds`` apart."""
    return min(MAX_JITTER_SECONDS, seconds * JITTER_SHARE)


def local_time(moment: datetime) -> str:
    """``moment`` as the log shows times: local, to the second."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def describe(source: Source) -> str:
    """The source's schedule as written in its seed file."""
    return f"every {source.every}" if source.every else f"cron {source.cron}"
