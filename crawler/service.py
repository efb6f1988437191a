"""The daemon's crawl process: one Scrapy reactor and one worker pool for every run.

``newsmon crawl --stdin`` reads source ids, one a line, and starts a run of each as its id
arrives, beside the runs already going; each finished run is a JSON line on stdout. The daemon
keeps one such process and sends it every source that falls due, so that a hundred sources
due at once are a hundred Scrapy crawlers in one reactor (what Scrapy is built for), sharing
one pool of extract workers, instead of a hundred processes that each load Scrapy, jieba, the
gazetteer and a pool of their own (~370 MB each, as measured before this design).

This was chosen over running the reactor in the daemon itself: the daemon stays a small
supervisor that outlives whatever a crawl does to its process (a leak, a C parser's crash, a
kill by the out-of-memory killer); it logs the runs the crawl process took down with it and
starts a new one for the next run. A source that hangs holds only its own crawler: the others
go on in the same reactor.

SIGTERM or SIGINT lets every running crawl finish its pages in flight and close its run (as a
plain ``newsmon crawl`` does); a second one stops at once. End of input means no more runs:
the process exits once the running ones have finished.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.ossignal import install_shutdown_handlers
from scrapy.utils.reactor import install_reactor
from twisted.internet import stdio
from twisted.internet.interfaces import IHalfCloseableProtocol
from twisted.protocols.basic import LineReceiver
from twisted.python.failure import Failure
from zope.interface import implementer

from crawler.clock import now
from crawler.crawl import (
    RUNS_AT_ONCE,
    CrawlSummary,
    SourceResult,
    claim,
    database_failed,
    limit_sqlite_heap,
    read_plans,
    record_finishes,
)
from crawler.distributed import connect, read_plan, share_through_redis
from crawler.locks import FileLock
from crawler.logs import setup_logging
from crawler.settings import build_settings, share_pages_waiting
from crawler.sources import Source
from crawler.spiders.news import NewsSpider

STOP_RETRY_SECONDS = 0.1


def serve_crawls(
    sources: Mapping[str, Source],
    db_path: str | Path,
    redis_url: str | None = None,
    **settings: Any,
) -> None:
    """Crawl each source whose id arrives on standard input until end of input or a signal;
    blocks. A JSON line a finished run on standard output: ``source``, ``status`` (``ok``,
    ``failed`` or ``skipped``) and ``line``, the run's one-line summary."""
    CrawlService(sources, db_path, redis_url, **settings).serve()


class CrawlService:
    """Runs crawls in one reactor as their ids arrive."""

    def __init__(
        self,
        sources: Mapping[str, Source],
        db_path: str | Path,
        redis_url: str | None = None,
        **settings: Any,
    ):
        self.sources = sources
        self.db_path = db_path
        self.settings = build_settings(db_path, **settings)
        share_pages_waiting(self.settings, RUNS_AT_ONCE)
        # Shared through Redis, the plans are the round's and the writer, on another host,
        # records the runs: no locks or database here.
        self.redis = None if redis_url is None else connect(redis_url)
        if redis_url is not None:
            share_through_redis(self.settings, redis_url)
        self.waiting: deque[str] = deque()
        self.running: dict[str, Crawler] = {}
        self.stopping = False
        self.no_more = False  # the input has ended
        self.reactor: Any = None  # installed by ``serve``, after the settings chose it

    def serve(self) -> None:
        install_reactor(self.settings["TWISTED_REACTOR"], self.settings["ASYNCIO_EVENT_LOOP"])
        from twisted.internet import reactor

        self.reactor = reactor
        limit_sqlite_heap()
        self.process = CrawlerProcess(self.settings)
        setup_logging()
        reactor.callWhenRunning(install_shutdown_handlers, self.on_signal)
        # Read by the reactor, not by a thread: a thread blocked reading sys.stdin holds its
        # lock, and the worker pool's fork child, which closes sys.stdin, would wait on it.
        self.pipe = stdio.StandardIO(Requests(self))
        self.process.start(stop_after_crawl=False, install_signal_handlers=False)

    def request(self, source_id: str) -> None:
        if self.stopping:
            return
        if source_id in self.running or source_id in self.waiting:
            return  # one run of a source at a time; the daemon asks for no more than that
        self.waiting.append(source_id)
        self.start_waiting()

    def start_waiting(self) -> None:
        while self.waiting and len(self.running) < RUNS_AT_ONCE and not self.stopping:
            self.start(self.waiting.popleft())
        if (self.no_more or self.stopping) and not self.running and not self.waiting:
            self.stop_reactor()

    def start(self, source_id: str) -> None:
        source = self.sources.get(source_id)
        if source is None:
            self.report(source_id, "failed", f"{source_id}: no such source in the seed files")
            return
        at = now()
        lock = None
        if self.redis is not None:
            plan = read_plan(self.redis, source_id, at)
        else:
            lock = claim(source, self.db_path)
            if lock is None:
                self.report(source_id, "skipped", f"{source_id}: already being crawled; skipped")
                return
            try:
                plan = read_plans([source], self.db_path, at)[source_id]
            except sqlite3.Error as exc:
                lock.release()
                self.finished(database_failed(source, self.db_path, exc))
                return
        crawler = self.process.create_crawler(NewsSpider)
        self.running[source_id] = crawler
        done = self.process.crawl(crawler, source=source, plan=plan)
        done.addBoth(self.crawl_ended, source_id, crawler, lock, at)

    def crawl_ended(
        self, outcome: Any, source_id: str, crawler: Crawler, lock: FileLock | None, at: str
    ) -> None:
        del self.running[source_id]
        broke = isinstance(outcome, Failure)
        if broke:
            # A crawl that could not start or broke down in Scrapy itself: what the run
            # stored is kept, and the run counts as failed.
            message = f"{source_id}: the crawl broke off: {outcome.getErrorMessage()}"
            print(message, file=sys.stderr, flush=True)
        result = SourceResult(source_id, {} if broke else crawler.stats.get_stats())
        if lock is not None:
            record_finishes([result], self.db_path, at)
            lock.release()
        self.finished(result)
        self.start_waiting()

    def finished(self, result: SourceResult) -> None:
        summary = CrawlSummary([result])
        if result.failed:
            self.report(result.source_id, "failed", summary.failure())
        else:
            self.report(result.source_id, "ok", summary.line())

    def report(self, source_id: str, status: str, line: str) -> None:
        record = {"source": source_id, "status": status, "line": line}
        # Gone with the daemon, the line is lost; the run is in the database all the same.
        self.pipe.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")

    def end_of_requests(self) -> None:
        self.no_more = True
        self.start_waiting()

    def on_signal(self, signum: int, frame: Any) -> None:
        """First signal: finish the pages in flight; second: stop now. (Only what is safe in
        a handler here: the reactor does the rest.)"""
        install_shutdown_handlers(self.on_second_signal)
        self.reactor.callFromThread(self.shut_down)

    def on_second_signal(self, signum: int, frame: Any) -> None:
        self.reactor.callFromThread(self.stop_reactor)

    def shut_down(self) -> None:
        self.stopping = True
        self.waiting.clear()
        starting = False
        for crawler in list(self.running.values()):
            # A crawler whose engine is not running yet would take the stop as done and then
            # start all the same (stop_async only stops a running engine): it is asked again.
            if crawler.engine is not None and crawler.engine.running:
                deferred_from_coro(crawler.stop_async())
            else:
                starting = True
        if starting:
            self.reactor.callLater(STOP_RETRY_SECONDS, self.shut_down)
        elif not self.running:
            self.stop_reactor()

    def stop_reactor(self) -> None:
        if self.reactor.running:
            self.reactor.stop()


@implementer(IHalfCloseableProtocol)
class Requests(LineReceiver):
    """Source ids from standard input, a line each. Its end ends only the requests: the runs
    going still report on standard output."""

    delimiter = b"\n"

    def __init__(self, service: CrawlService):
        self.service = service

    def lineReceived(self, line: bytes) -> None:
        source_id = line.decode("utf-8", "replace").strip()
        if source_id:
            self.service.request(source_id)

    def readConnectionLost(self) -> None:
        self.service.end_of_requests()

    def writeConnectionLost(self) -> None:
        pass  # the reader of the results is gone; the runs are recorded in the database
