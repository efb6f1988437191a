"""The writer: the one process that stores what the crawlers send, a round as one run."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from crawler.classify import Tags
from crawler.clock import now
from crawler.db import Store, open_db
from crawler.distributed.codec import build
from crawler.distributed.connection import connect
from crawler.distributed.keys import ITEMS, REJECTED, TAKEN
from crawler.distributed.plans import publish_plan
from crawler.extract import Article
from crawler.items import Fetch
from crawler.pipelines.store import RunWriter, finish_reason
from crawler.sources import Source

RETRY_SECONDS = 5  # the writer's wait for a Redis that went away


@dataclass
class SharedRun:
    """One round of a source as one run in the database."""

    writer: RunWriter
    counts: Counter[str] = field(default_factory=Counter)
    opened: set[str] = field(default_factory=set)
    closed: dict[str, dict[str, Any]] = field(default_factory=dict)  # worker: its stats

    @property
    def over(self) -> bool:
        return bool(self.closed) and self.opened <= set(self.closed)

    def stats(self) -> dict[str, Any]:
        """The crawlers' stats summed (their counts of what was fetched and failed), with
        what the writer counted when it stored (articles new, updated, unchanged)."""
        merged: Counter[str] = Counter()
        reasons = []
        apart = ("newsmon/capped", "newsmon/round")  # not counts: not summed
        for stats in self.closed.values():
            reasons.append(finish_reason(stats))
            merged.update({k: v for k, v in stats.items() if isinstance(v, int) and k not in apart})
        capped = max((s.get("newsmon/capped", 0) for s in self.closed.values()), default=0)
        written = {k: v for k, v in self.counts.items() if k.startswith("newsmon/articles/")}
        reason = next((r for r in reasons if r != "finished"), "finished")
        return {
            **merged,
            "newsmon/round": next(iter(self.closed.values()))["newsmon/round"],
            **written,
            "newsmon/policies/new": self.counts["newsmon/policies/new"],
            **({"newsmon/capped": capped} if capped else {}),
            "finish_reason": reason,
        }


class Ingest:
    """The one writer of the database for crawlers that share rounds through Redis."""

    def __init__(self, server: redis.Redis, store: Store, sources: list[Source]):
        self.server = server
        self.store = store
        self.sources = {s.id: s for s in sources}
        self.runs: dict[tuple[str, int], SharedRun] = {}

    def publish_plans(self, source_ids: list[str] | None = None) -> None:
        at = now()
        for source_id in source_ids or list(self.sources):
            publish_plan(self.server, source_id, self.store.crawl_plan(source_id, at))

    def handle(self, message: dict[str, Any]) -> None:
        """Write one message of a crawler: it opened, sent an item, or closed."""
        key = (message["source"], int(message["round"]))
        run = self.runs.get(key)
        if run is None:
            counts: Counter[str] = Counter()
            writer = RunWriter(self.store, self.sources[key[0]], lambda k, n: counts.update({k: n}))
            run = self.runs[key] = SharedRun(writer, counts)
        worker = message["worker"]
        if message["type"] == "open":
            run.opened.add(worker)
        elif message["type"] == "item":
            run.writer.write(
                build(Fetch, message["fetch"]),
                build(Article, message.get("article")),
                build(Tags, message.get("tags")),
                message.get("search_tokens"),
            )
        elif message["type"] == "close":
            run.opened.add(worker)
            run.closed[worker] = {**message["stats"], "finish_reason": message["reason"]}
            if run.over:
                self._finish(key, run)

    def _finish(self, key: tuple[str, int], run: SharedRun) -> None:
        stats = run.stats()
        run.writer.finish(stats)
        self.store.record_finish_reason(key[0], self._started(run), stats["finish_reason"])
        del self.runs[key]
        self.publish_plans([key[0]])

    def _started(self, run: SharedRun) -> str:
        row = self.store.db.table("crawl_runs").get(run.writer.run_id)
        return str(row["started"])

    def take(self, timeout: int) -> bytes | None:
        raw = self.server.blmove(ITEMS, TAKEN, timeout, "LEFT", "RIGHT")
        return raw  # type: ignore[return-value]

    def write(self, raw: bytes) -> None:
        """Write one message taken from Redis, then let go of it. One that cannot be written
        (a source the seed files lack, or not a message of newsmon's) is kept aside."""
        try:
            message = json.loads(raw)
            if message.get("source") not in self.sources:
                raise KeyError(f"unknown source {message.get('source')!r} (not in the seed files)")
            self.handle(message)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problem = exc.args[0] if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            print(
                f"ingest: {problem}; the message is kept in Redis list {REJECTED}",
                file=sys.stderr,
                flush=True,
            )
            self.server.rpush(REJECTED, raw)
        self.server.lrem(TAKEN, 1, raw)  # type: ignore[arg-type] # bytes are what it stores

    def run(self, stopping: Callable[[], bool], until_idle: float | None = None) -> int:
        """Write messages until ``stopping()``, or until none came for ``until_idle``
        seconds with no round open; how many were written."""
        written = 0
        left: list[bytes] = self.server.lrange(TAKEN, 0, -1)  # type: ignore[assignment]
        for message in left:  # by a writer that was killed
            self.write(message)
            written += 1
        quiet_since = time.monotonic()
        while not stopping():
            try:
                raw = self.take(timeout=1)
            except redis.ConnectionError as exc:
                print(f"ingest: Redis unreachable ({exc}); trying again", file=sys.stderr)
                time.sleep(RETRY_SECONDS)
                continue
            if raw is not None:
                self.write(raw)
                written += 1
                quiet_since = time.monotonic()
            elif (
                until_idle is not None
                and not self.runs
                and time.monotonic() - quiet_since >= until_idle
            ):
                break
        return written


def run_ingest(
    url: str, db_path: str | Path, sources: list[Source], until_idle: float | None = None
) -> int:
    """Be the writer of the database at ``db_path`` for the crawlers sharing the Redis at
    ``url`` until SIGTERM or Ctrl-C (the message being written is finished first), or until
    idle for ``until_idle`` seconds; how many messages were written."""
    server = connect(url)
    store = Store(open_db(db_path))
    stops: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, frame: stops.append(number))
    ingest = Ingest(server, store, sources)
    store.sync_sources(sources)
    ingest.publish_plans()
    try:
        return ingest.run(lambda: bool(stops), until_idle)
    finally:
        store.db.close()
