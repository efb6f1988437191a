"""A crawl's frontier on disk: Scrapy's scheduler with its request queues in a folder of the
crawler's own, removed when the crawler closes.

A sitemap of N entries is N requests waiting at once; in Scrapy's memory queues each is a
``Request`` with its headers, meta and callbacks (~0.8 KB), so a crawl's memory grew with the
size of the site. Past the first ``MEMORY_REQUESTS``, pickled into Scrapy's disk queues
(``SCHEDULER_DISK_QUEUE``), they cost ~350 bytes of a file each and nothing in memory. The
queues keep their order (last in, first out: depth first; those in memory go first), and a
request that cannot be pickled waits in memory, as without a folder.

The folder is per crawler, never Scrapy's ``JOBDIR``: a run starts afresh (the revisit plan,
not a saved queue, is how a run follows one that was cut off), and the daemon runs many
crawlers in one process. It goes when the crawler closes (a finished run, a stop on SIGTERM),
else when the process exits; one left by a killed process is removed by the next crawl that
starts on the machine.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.utils.misc import build_from_crawler, load_object
from twisted.internet.defer import Deferred

PREFIX = "newsmon-frontier-"
# Requests that wait in memory before the rest go to disk: pickling every one cost a crawl of
# 2,000 articles 16 s of 87 (benchmarks/crawl.py); a site's lists and a page's links stay
# under it, a big sitemap spills. ~0.8 MB a crawler at most. The environment variable
# NEWSMON_FRONTIER_MEMORY sets another bound (the tests' small sites spill at 20).
MEMORY_REQUESTS = int(os.environ.get("NEWSMON_FRONTIER_MEMORY") or 1000)


class DiskFrontier(Scheduler):
    """Scrapy's scheduler, its queues in a temporary folder that lives as long as it does."""

    folder: Path
    remove_folder: weakref.finalize[..., Any]

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DiskFrontier:
        remove_orphans(Path(tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        settings = crawler.settings
        # Scrapy's own from_crawler, but for the folder: it reads JOBDIR, which stays unset so
        # that the dupefilter and the spider-state extension keep nothing on disk.
        scheduler = cls(
            dupefilter=build_from_crawler(load_object(settings["DUPEFILTER_CLASS"]), crawler),
            jobdir=str(folder),
            dqclass=load_object(settings["SCHEDULER_DISK_QUEUE"]),
            mqclass=load_object(settings["SCHEDULER_MEMORY_QUEUE"]),
            logunser=settings.getbool("SCHEDULER_DEBUG"),
            stats=crawler.stats,
            pqclass=load_object(settings["SCHEDULER_PRIORITY_QUEUE"]),
            crawler=crawler,
        )
        scheduler.folder = folder
        # A crawl stopped by a second signal never closes its scheduler: the folder goes when
        # the process exits (or the scheduler is collected), whichever comes first.
        scheduler.remove_folder = weakref.finalize(
            scheduler, shutil.rmtree, folder, ignore_errors=True
        )
        return scheduler

    def _dqpush(self, request: Any) -> bool:
        if len(self.mqs) < MEMORY_REQUESTS:
            return False  # Scrapy then keeps it in the memory queue
        return bool(super()._dqpush(request))

    def close(self, reason: str) -> Deferred[None] | None:
        closed = super().close(reason)
        self.remove_folder()
        return closed


def remove_orphans(parent: Path) -> None:
    """Remove the frontier folders under ``parent`` whose process is gone (killed: nothing of
    it closed them); those of running processes stay."""
    for folder in parent.glob(f"{PREFIX}*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
