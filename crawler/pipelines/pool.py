"""Worker processes for the CPU-bound stages, so that every core extracts and tags while the
crawl's own process downloads and stores.

Extraction (~16 ms a page) and tagging (~3 ms) run inline on Scrapy's event loop, and while
one runs nothing is downloaded; threads would not help, as both hold the GIL. So the
pipelines hand them to a pool of processes forked from the crawl, one per core but the one
the crawl's own process keeps busy, by default (``NEWSMON_WORKERS``; 0 runs them inline).

The workers are forked after the heavy parts are loaded and used once in this process
(jieba's dictionary and the gazetteer's, OpenCC, the taxonomy, the extractors), and after
``gc.freeze()``: the collector then never writes to those objects, so the workers share
their pages with the crawl copy-on-write instead of each holding a copy. The taxonomy is not
sent with each page: a worker finds the very object the crawl loaded (the tagger's caches are
keyed by it) under its key in ``TAXONOMIES``.

The workers die with the crawl: each asks the kernel for SIGTERM when the crawl ends
(``kill -9`` included, as the daemon's crawls do), ignores SIGINT (a Ctrl-C reaches the whole
process group; the crawl decides what it means), and the pool is shut down when its last
spider closes. At most ``QUEUED_PER_WORKER`` jobs a worker wait in the pool; other items
wait in the pipeline, their responses counted against Scrapy's
``SCRAPER_SLOT_MAX_ACTIVE_SIZE``, which stops downloads while it is exceeded: that bounds
the pages in memory however slow the workers are. And no page holds a worker for long: each
stage of each page has a CPU cap (``NEWSMON_PAGE_CPU_SECONDS``, :func:`capped`), and a page
past it is an error of that page (:func:`page_failed`), recorded as its fetch's error.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.classify import Tags, classify
from crawler.classify.policies import DocumentInfo
from crawler.classify.topics import Taxonomy, load_taxonomy
from crawler.daemon import die_with_parent
from crawler.errors import PageFailed, PageTooSlow, WorkerDied
from crawler.extract import extract_article
from crawler.items import Page
from crawler.search import search_tokens

log = logging.getLogger(__name__)

# Enough queued work that a worker never waits for the crawl between two pages; no more,
# so that a shutdown has little to finish and each item spends little time queued.
QUEUED_PER_WORKER = 2

# Taxonomies by the extra files they were loaded from; filled before the fork, so workers
# find the crawl's own objects here.
TAXONOMIES: dict[tuple[str, ...], Taxonomy] = {}

# Whether this process is one of the pool's workers, which the kernel may end past a cap;
# the crawl's own process (stages run inline) must never be.
_in_worker = False

# A page that takes each lazily loaded part through its first use before the fork.
WARM_PAGE = """<html><head><meta charset="utf-8">
<title>国务院关于推进数字经济发展的通知_新闻</title>
<meta name="author" content="新华社"><meta name="pubdate" content="2024-05-31 10:00:00"></head>
<body><div class="nav"><a href="/">首页</a> <a href="/policy/">政策解读</a></div>
<div class="article"><h1>国务院关于推进数字经济发展的通知</h1>
<p>发布时间：2024年5月31日 来源：新华社</p>
<p>本报讯 5月31日，国务院印发《关于推进数字经济高质量发展的若干意见》，提出到2025年，
北京市、上海市和广东省深圳市的人工智能、算力基础设施和数据要素市场建设取得明显进展。</p>
<p>意见明确，中央财政安排专项资金12.5亿元，支持中小企业数字化转型，推动制造业智能化改造，
加快5G网络和数据中心建设。各地要结合实际，制定具体实施方案，确保各项措施落到实处。</p>
<p>國家發展改革委負責人表示，將會同有關部門加強統籌協調，及時總結推廣經驗做法。</p>
<p>责任编辑：王小明</p></div></body></html>"""


def taxonomy_for(paths: Sequence[str]) -> Taxonomy:
    """The taxonomy extended by ``paths``, loaded once per process (and shared by forks)."""
    key = tuple(paths)
    if key not in TAXONOMIES:
        TAXONOMIES[key] = load_taxonomy(*map(Path, key))
    return TAXONOMIES[key]


def classify_page(
    text: str,
    title: str | None,
    published: str | None,
    taxonomy: tuple[str, ...],
    document: DocumentInfo | None = None,
) -> tuple[Tags, str]:
    """:func:`classify` with the taxonomy of those extra files, and the article's search
    tokens (jieba again, so here rather than in the crawl's process, which stores)."""
    tags = classify(text, title, published, taxonomy_for(taxonomy), document)
    return tags, search_tokens(title, text)


def capped[T](stage: str, cap: float, fn: Callable[..., T], *args: Any) -> tuple[T, float]:
    """``fn(*args)`` and the CPU seconds it took; :class:`PageTooSlow` once it has taken
    ``cap`` seconds. The caps on page and text size bound every stage to a few seconds (a
    6 MB page of benchmarks/page_size.py: 2.0 s to extract, 1.9 s to tag its 1,000,000
    characters and cut them into search words), so the cap is the backstop for what they
    miss.

    A timer of the process's CPU time raises inside the stage; where a stage is inside C
    code that never returns to Python, the kernel ends a worker at twice the cap instead
    (SIGVTALRM's default action), which :func:`run_stage` tells as :class:`WorkerDied`."""
    too_slow = (
        f"{stage} took over {cap:g} s of CPU (NEWSMON_PAGE_CPU_SECONDS): the page was given up"
    )
    fired = False

    def give_up(signum: int, frame: object) -> None:
        nonlocal fired
        fired = True
        raise PageTooSlow(too_slow)

    previous = signal.signal(signal.SIGPROF, give_up)
    signal.setitimer(signal.ITIMER_PROF, cap)
    if _in_worker:
        signal.setitimer(signal.ITIMER_VIRTUAL, 2 * cap)
    started = time.process_time()
    try:
        result = fn(*args)
    finally:
        # The kill first: a job that ended is never killed by its timer. (A timer left armed
        # by a signal arriving here is armed again by the next job.)
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    if fired:  # the stage caught the error (extract_article catches every Exception)
        raise PageTooSlow(too_slow)
    return result, time.process_time() - started


async def run_stage[T](
    pool: Pool | None, stage: str, cap: float, fn: Callable[..., T], *args: Any
) -> tuple[T, float]:
    """:func:`capped` ``fn(*args)`` in a worker of ``pool``, or inline when it is None; a
    :class:`PageFailed` when the page cannot be done."""
    if pool is None:
        return capped(stage, cap, fn, *args)
    try:
        return await pool.run(capped, stage, cap, fn, *args)
    except BrokenProcessPool as exc:
        raise WorkerDied(
            f"{stage} ended its worker process twice (past {2 * cap:g} s of CPU, out of"
            " memory or a crash): the page was given up"
        ) from exc


def page_failed(item: Page, failure: PageFailed, stats: Any) -> None:
    """``item`` as an error of its own: its fetch records why, nothing else of it is stored
    (an article stored before at its URL stays as it was)."""
    item.fetch.error = str(failure)
    item.article, item.tags, item.search_tokens = None, None, None
    stats.inc_value(f"newsmon/errors/{failure.kind}")


def warm(taxonomy: Sequence[str]) -> None:
    """Load and use once everything the stages load lazily, so that forks share it."""
    fetched = datetime.fromisoformat("2024-05-31T12:00:00+08:00")
    article = extract_article(
        WARM_PAGE.encode(), "http://example.cn/a/t20240531_1.html", None, fetched
    )
    text = article.simplified if article else "国务院印发通知，北京市推进人工智能发展。"
    classify(text, article.title if article else None, "2024-05-31", taxonomy_for(taxonomy))
    search_tokens("数字经济", text)


def default_workers() -> int:
    """One worker per core this process may run on, less the core the crawl's own process
    takes (fetch, parse, store: about half the CPU of a page), at least one. A worker's own
    memory is ~23 MB beyond what it shares; on 2 cores, 2 workers crawled 2,000 pages in 65 s,
    1 worker in 74 s; benchmarks/crawl.py --workers N."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


class Pool:
    """A fork-context process pool with a bounded queue; ``run`` is awaited on the reactor."""

    def __init__(self, workers: int, taxonomy: Sequence[str] = ()):
        warm(taxonomy)
        gc.collect()
        gc.freeze()  # the collector leaves what is loaded alone: its pages stay shared
        self.workers = workers
        self.executor = self._start()
        self.slots: asyncio.Semaphore | None = None  # made on the loop that awaits it
        self.loop: asyncio.AbstractEventLoop | None = None
        self.users = 0

    async def run[T](self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker, once one of the queue's slots is free."""
        loop = asyncio.get_running_loop()
        if self.slots is None or self.loop is not loop:
            self.slots, self.loop = asyncio.Semaphore(self.workers * QUEUED_PER_WORKER), loop
        async with self.slots:
            executor = self.executor
            try:
                return await asyncio.wrap_future(executor.submit(fn, *args))
            except BrokenProcessPool:
                # A worker died (killed, out of memory, a crash in a C parser): new workers,
                # and the page is tried once more. One that kills a worker again is an error
                # of that page alone (run_stage: WorkerDied), as an exception is.
                if self.executor is executor:
                    log.warning("a worker process died; starting the pool again")
                    executor.shutdown(wait=False, cancel_futures=True)
                    self.executor = self._start()
                return await asyncio.wrap_future(self.executor.submit(fn, *args))

    def _start(self) -> ProcessPoolExecutor:
        executor = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(die_with_parent(),),
        )
        # A fork pool starts its workers at the first submit, from the submitting thread;
        # the kernel's parent-death signal follows that thread, so it is this one, now.
        executor.submit(int).result()
        return executor

    def shutdown(self) -> None:
        """Stop the workers and wait for them."""
        self.executor.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _start_worker(die_with_crawl: Callable[[], None] | None) -> None:
    # The fork copied the crawl's signal handlers (Scrapy's graceful stop), which mean nothing
    # here: SIGTERM ends a worker, and SIGINT is the crawl's to act on. SIGVTALRM ends it
    # too: the hard cap of capped().
    global _in_worker
    _in_worker = True
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGVTALRM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if die_with_crawl is not None:
        die_with_crawl()


_shared: Pool | None = None


def acquire(settings: Any) -> Pool | None:
    """The process's pool per the crawl's settings (started on first use), or None: inline."""
    global _shared
    workers = settings.get("NEWSMON_WORKERS")
    workers = default_workers() if workers is None else int(workers)
    if workers <= 0:
        # Inline, the first pages would load the dictionaries within their CPU cap, and a
        # load the cap cuts short starts again with the next page.
        warm(settings.getlist("NEWSMON_TAXONOMY"))
        return None
    if _shared is None:
        _shared = Pool(workers, settings.getlist("NEWSMON_TAXONOMY"))
    _shared.users += 1
    return _shared


def release(pool: Pool | None) -> None:
    """One user is done with ``pool``; the last one shuts it down."""
    global _shared
    if pool is None:
        return
    pool.users -= 1
    if pool.users <= 0:
        pool.shutdown()
        if _shared is pool:
            _shared = None
