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

Everything crossing Redis is JSON, not pickle. One module per part: ``keys`` (what is where in
Redis), ``connection``, ``codec`` (the JSON), ``rounds``, ``plans``, ``pipeline`` (the
crawlers' side) and ``ingest`` (the writer's).
"""

from crawler.distributed.connection import connect
from crawler.distributed.ingest import run_ingest
from crawler.distributed.keys import ITEMS, REJECTED, TAKEN
from crawler.distributed.pipeline import share_through_redis
from crawler.distributed.plans import read_plan

__all__ = [
    "ITEMS",
    "REJECTED",
    "TAKEN",
    "connect",
    "read_plan",
    "run_ingest",
    "share_through_redis",
]
