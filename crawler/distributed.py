"""Crawling from several hosts as one: scrapy-redis's frontier, and items to one writer.

With ``--redis-url``, each source's crawl keeps its queue of requests and its duplicate filter
in Redis (scrapy-redis's scheduler), so crawler processes on any number of hosts share them:
a URL one of them has asked for is asked for by no other. Their items do not touch SQLite:
they go to a Redis list that one process, ``newsmon ingest``, writes into the database.

The crawlers of a source that run at the same time share a *round*. The first to join finds
no live member and starts a round: it empties the frontier and the duplicate filter left by
the last one, so a revisit asks for the list pages again. Later crawlers join the same round.
A member holds a lease it renews while it runs; one killed with ``kill -9`` drops out when
its lease runs out. A crawler with nothing left to do stays while another member is still
busy (that one may find more links) and leaves when all are idle. The writer turns each
round into one run of the source, finished when every crawler that opened it has closed.

What crawlers need from the database, the revisit plan of each source (validators for
conditional requests, the articles stored and when each is due), the writer publishes in
Redis after each run.

Everything crossing Redis is JSON, not pickle (scrapy-redis's default): whoever can write to
that Redis could otherwise run code on every crawler and on the writer.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import sys
import time
import types
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from urllib.parse import urlsplit

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy.settings import Settings
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.classify import Tags
from crawler.clock import now
from crawler.db import Store, open_db
from crawler.extract import Article
from crawler.items import Fetch, Page
from crawler.pipelines.store import RunWriter, count_fetch, finish_reason
from crawler.revisit import RevisitPlan
from crawler.sources import Source

ITEMS = "newsmon:items"
# Messages the writer has taken but not yet committed: a writer killed meanwhile takes them
# again when it starts (the store is idempotent: an article saved twice is "unchanged").
TAKEN = "newsmon:items:taken"
# Messages of sources the writer's seed files do not know: kept, not dropped.
REJECTED = "newsmon:items:rejected"
FRONTIER = "newsmon:%(spider)s:frontier"
SEEN = "newsmon:%(spider)s:seen"
LEASE_SECONDS = 60
RETRY_SECONDS = 5  # the writer's wait for a Redis that went away


def redacted(url: str) -> str:
    """A Redis URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()


def connect(url: str) -> redis.Redis:
    """A client of the Redis at ``url``, checked; ValueError with one line if unreachable."""
    try:
        server = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ValueError(f"Redis at {redacted(url)}: {exc}") from None
    return server


def share_through_redis(settings: Settings, url: str) -> None:
    """Turn a crawl's settings into a crawl that shares its frontier and sends its items to
    the writer through the Redis at ``url``."""
    # scrapy-redis 0.9 calls what Scrapy 2.13 deprecated; a user can do nothing about it.
    warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")
    pipelines = settings.getdict("ITEM_PIPELINES")
    pipelines.pop("crawler.pipelines.store.StorePipeline", None)
    pipelines["crawler.distributed.ToWriter"] = 800
    for key, value in {
        "REDIS_URL": url,
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_QUEUE_KEY": FRONTIER,
        "SCHEDULER_DUPEFILTER_KEY": SEEN,
        "SCHEDULER_SERIALIZER": RequestCodec,
        # The frontier outlives each crawler (another may still need it); a new round
        # empties it.
        "SCHEDULER_PERSIST": True,
        "ITEM_PIPELINES": pipelines,
    }.items():
        settings.set(key, value, priority="cmdline")


# -- JSON for what crosses Redis ----------------------------------------------------------


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it: dataclasses as objects, bytes in base64, mappings with
    keys that are not strings as pairs."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) for k in value):
            return {k: plain(v) for k, v in value.items()}
        return {"$pairs": [[plain(k), plain(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def unplain(value: Any) -> Any:
    """What :func:`plain` made, back (as lists and dicts where no type says otherwise)."""
    if isinstance(value, dict):
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
        if "$pairs" in value:
            return {unplain(k): unplain(v) for k, v in value["$pairs"]}
        return {k: unplain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unplain(v) for v in value]
    return value


def build(hint: Any, data: Any) -> Any:
    """An instance of the type ``hint`` (a dataclass, or a container of them) from
    :func:`plain`'s output."""
    if data is None:
        return None
    origin = get_origin(hint)
    if is_dataclass(hint) and isinstance(hint, type):
        hints = get_type_hints(hint)
        return hint(**{f.name: build(hints[f.name], data[f.name]) for f in fields(hint)})
    if origin in (Union, types.UnionType):
        return build(next(a for a in get_args(hint) if a is not type(None)), data)
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(build(args[0], v) for v in data)
        return tuple(build(a, v) for a, v in zip(args, data, strict=True))
    if origin in (dict, Counter):
        return origin({k: build(get_args(hint)[-1], v) for k, v in data.items()})
    return data


class RequestCodec:
    """scrapy-redis's serializer for the frontier: Scrapy's request dicts as JSON."""

    @staticmethod
    def dumps(request: dict[str, Any]) -> str:
        return json.dumps(plain(request), ensure_ascii=False)

    @staticmethod
    def loads(text: bytes | str) -> dict[str, Any]:
        result: dict[str, Any] = unplain(json.loads(text))
        return result


def plan_key(source_id: str) -> str:
    return f"newsmon:plan:{source_id}"


def publish_plan(server: redis.Redis, source_id: str, plan: RevisitPlan) -> None:
    server.set(plan_key(source_id), json.dumps(plain(plan), ensure_ascii=False))


def read_plan(server: redis.Redis, source_id: str, at: str) -> RevisitPlan | None:
    """The plan the writer published for ``source_id``, as of ``at``; None before the
    writer has run (the crawl then asks for everything)."""
    raw = server.get(plan_key(source_id))
    if raw is None:
        return None
    published: RevisitPlan = build(RevisitPlan, json.loads(raw))
    return replace(published, at=at)


# -- The crawlers' side ---------------------------------------------------------------------

JOIN = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('INCR', KEYS[5])
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return tonumber(redis.call('GET', KEYS[5]))
"""
RENEW = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
"""
OTHERS_BUSY = """
local now = tonumber(redis.call('TIME')[1])
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  if member ~= ARGV[1] and redis.call('HEXISTS', KEYS[2], member) == 0 then return 1 end
end
return 0
"""


class Round:
    """One crawler's membership of the round of a source (see the module's docstring).
    The lease is counted in Redis's clock, so hosts' clocks need not agree."""

    def __init__(self, server: redis.Redis, spider_name: str, worker: str):
        self.server = server
        self.worker = worker
        self.keys = {
            "members": f"newsmon:{spider_name}:members",
            "frontier": FRONTIER % {"spider": spider_name},
            "seen": SEEN % {"spider": spider_name},
            "idle": f"newsmon:{spider_name}:idle",
            "number": f"newsmon:{spider_name}:round",
        }
        self.is_idle = False

    def join(self) -> int:
        """Join the running round, or start one; its number."""
        number = self.server.eval(JOIN, 5, *self.keys.values(), self.worker, LEASE_SECONDS)
        return int(number)  # type: ignore[arg-type]

    def renew(self) -> None:
        self.server.eval(RENEW, 1, self.keys["members"], self.worker, LEASE_SECONDS)

    def idle(self) -> bool:
        """Say this crawler has nothing to do; whether it may leave (no other is busy)."""
        self.is_idle = True
        self.server.hset(self.keys["idle"], self.worker, 1)
        busy = self.server.eval(
            OTHERS_BUSY, 2, self.keys["members"], self.keys["idle"], self.worker
        )
        return not busy

    def busy(self) -> None:
        if self.is_idle:
            self.is_idle = False
            self.server.hdel(self.keys["idle"], self.worker)

    def leave(self) -> None:
        self.server.zrem(self.keys["members"], self.worker)
        self.server.hdel(self.keys["idle"], self.worker)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class ToWriter:
    """In place of the store: sends each item through Redis to the writer, and takes this
    crawler's part in the source's round."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.stats = crawler.stats
        self.server = get_redis_from_settings(crawler.settings)
        self.round: Round | None = None
        self.renewal = task.LoopingCall(self._renew)

    @classmethod
    def from_crawler(cls, crawler: Any) -> ToWriter:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(pipeline.busy, signal=signals.request_reached_downloader)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    @property
    def source(self) -> Source:
        source: Source = self.crawler.spider.source
        return source

    def _send(self, kind: str, **body: Any) -> None:
        assert self.round is not None
        message = {"type": kind, "source": self.source.id, "worker": self.round.worker}
        message["round"] = self.stats.get_value("newsmon/round")
        self.server.rpush(ITEMS, json.dumps({**message, **body}, ensure_ascii=False))

    def open_spider(self) -> None:
        # Before the start requests reach the scheduler: a new round empties the frontier.
        self.round = Round(self.server, self.crawler.spider.name, worker_name())
        self.stats.set_value("newsmon/round", self.round.join())
        self.stats.set_value("newsmon/articles/sent", 0)
        self.renewal.start(LEASE_SECONDS / 4, now=False)
        self._send("open")

    def process_item(self, item: Fetch | Page) -> Fetch | Page:
        fetch = item.fetch if isinstance(item, Page) else item
        count_fetch(fetch, self.stats.inc_value)
        if isinstance(item, Page):
            if item.article is not None:
                self.stats.inc_value("newsmon/articles/sent")
            self._send(
                "item",
                fetch=plain(fetch),
                article=plain(item.article),
                tags=plain(item.tags),
                search_tokens=item.search_tokens,
            )
        else:
            self._send("item", fetch=plain(fetch))
        return item

    def _renew(self) -> None:
        assert self.round is not None
        try:
            self.round.renew()
        except redis.RedisError as exc:  # the next renewal may get through before it expires
            self.crawler.spider.logger.warning("could not renew the lease in Redis: %s", exc)

    def spider_idle(self) -> None:
        assert self.round is not None
        if not self.round.idle():
            raise DontCloseSpider  # another crawler may still put links in the frontier

    def busy(self) -> None:
        if self.round is not None:
            self.round.busy()

    def spider_closed(self, reason: str) -> None:
        if self.renewal.running:
            self.renewal.stop()
        stats = {k: v for k, v in self.stats.get_stats().items() if k.startswith("newsmon/")}
        self._send("close", stats=plain(stats), reason=reason)
        assert self.round is not None
        self.round.leave()


# -- The writer ---------------------------------------------------------------------------


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
