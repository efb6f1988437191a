"""What a database holds, read to compare it before and after a fault, and the tally of what
the rounds of one kind of fault saw."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

LOCKED = re.compile(r"database (table )?is locked|SQLITE_BUSY", re.IGNORECASE)


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
