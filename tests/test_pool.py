"""The worker pool of the extract and tag stages: the same articles, text and tags as inline,
and no worker left behind, whether the pool is closed or its process is killed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.demo.site import load_site
from crawler.items import Fetch, Page
from crawler.pipelines.classify import ClassifyPipeline
from crawler.pipelines.extract import ExtractPipeline
from crawler.pipelines.pool import Pool, acquire, release
from tests.support.run import PROJECT, SHARED

FETCHED_AT = "2024-06-01T08:00:00+08:00"


class Stats:
    """Scrapy's ``inc_value``, into a Counter."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: float = 1) -> None:
        self.values[key] += count


class Settings(dict[str, Any]):
    def getlist(self, key: str) -> list[str]:
        return list(self.get(key) or [])


def pages() -> list[Page]:
    """The demo site's pages and, when the shared corpus is there, its real ones."""
    found = [
        Page(Fetch(f"http://demo.test{path}", "article", FETCHED_AT, 200, 0, None, r.content_type),
             r.body)
        for path, r in load_site().pages("http://demo.test/").items()
        if r.content_type.startswith("text/html")
    ]  # fmt: skip
    corpus = SHARED / "corpus"
    if corpus.exists():
        for line in (corpus / "index.jsonl").read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            body = (corpus / entry["file"]).read_bytes()
            found.append(Page(Fetch(entry["url"], "article", FETCHED_AT, 200), body))
    return found


def through(pool: Pool | None, items: list[Page]) -> tuple[list[Page], Counter[str]]:
    """``items`` (copies) through the extract and tag pipelines, all at once as Scrapy would
    send them; the items and the stats without the timings."""
    stats = Stats()
    extract, tag = ExtractPipeline(stats, pool), ClassifyPipeline(stats, (), pool)

    async def one(item: Page) -> Page:
        return await tag.process_item(await extract.process_item(item))  # type: ignore[no-any-return]

    async def every() -> list[Page]:
        return await asyncio.gather(*(one(Page(p.fetch, p.body)) for p in items))

    done = asyncio.run(every())
    counts = Counter({k: v for k, v in stats.values.items() if not k.startswith("newsmon/time")})
    return done, counts


@pytest.fixture(scope="module")
def pool() -> Iterator[Pool]:
    pool = Pool(2)
    yield pool
    pool.shutdown()


def test_the_pool_extracts_and_tags_exactly_as_inline(pool: Pool) -> None:
    items = pages()
    inline, inline_stats = through(None, items)
    pooled, pooled_stats = through(pool, items)
    assert sum(p.article is not None for p in inline) >= 20
    for a, b in zip(inline, pooled, strict=True):
        assert a.fetch.url == b.fetch.url
        assert a.article == b.article, a.fetch.url
        assert (a.article and a.article.removed) == (b.article and b.article.removed)
        assert a.tags == b.tags, a.fetch.url
        assert a.search_tokens == b.search_tokens, a.fetch.url
    assert inline_stats == pooled_stats


def test_stage_times_are_counted(pool: Pool) -> None:
    stats = Stats()
    item = pages()[-1]
    asyncio.run(ExtractPipeline(stats, pool).process_item(Page(item.fetch, item.body)))
    assert stats.values["newsmon/time/extract"] > 0


def test_a_dead_worker_is_replaced_and_its_page_tried_again(pool: Pool) -> None:
    os.kill(next(iter(pool.executor._processes)), signal.SIGKILL)
    item = pages()[-1]
    stats = Stats()
    done = asyncio.run(ExtractPipeline(stats, pool).process_item(Page(item.fetch, item.body)))
    assert done.article == through(None, [item])[0][0].article
    assert len(alive(set(pool.executor._processes))) == 2


def test_no_workers_setting_runs_inline() -> None:
    assert acquire(Settings(NEWSMON_WORKERS=0)) is None


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.add(int(entry.name))
    return found


def alive(pids: set[int]) -> set[int]:
    left = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.add(pid)
    return left


def wait_gone(pids: set[int], seconds: float = 10) -> set[int]:
    deadline = time.monotonic() + seconds
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def test_closing_the_last_user_stops_the_workers() -> None:
    settings = Settings(NEWSMON_WORKERS=2)
    before = children(os.getpid())
    first, second = acquire(settings), acquire(settings)
    assert first is second and first is not None
    workers = children(os.getpid()) - before
    assert len(workers) >= 2
    release(first)
    assert alive(workers) == workers  # one user is still crawling
    release(second)
    assert not wait_gone(workers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_workers_die_with_a_killed_crawl() -> None:
    script = (
        "import os, sys, time\n"
        "from crawler.pipelines.pool import Pool\n"
        "pool = Pool(2)\n"
        "print(' '.join(str(p) for p in pool.executor._processes), flush=True)\n"
        "time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            workers = {int(pid) for pid in process.stdout.readline().split()}
            assert len(workers) == 2 and alive(workers) == workers
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            assert not wait_gone(workers), "workers outlived their crawl"
        finally:
            process.kill()
