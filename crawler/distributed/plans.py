"""The revisit plan of each source, published by the writer for the crawlers on other hosts."""

from __future__ import annotations

import json
from dataclasses import replace

import redis

from crawler.distributed.codec import build, plain
from crawler.distributed.keys import plan_key
from crawler.revisit import RevisitPlan


def publish_plan(server: redis.Redis, source_id: str, plan: RevisitPlan) -> None:
    """Put ``plan`` where the crawlers of ``source_id`` read it."""
    server.set(plan_key(source_id), json.dumps(plain(plan), ensure_ascii=False))


def read_plan(server: redis.Redis, source_id: str, at: str) -> RevisitPlan | None:
    """The plan the writer published for ``source_id``, as of ``at``; None before the
    writer has run (the crawl then asks for everything)."""
    raw = server.get(plan_key(source_id))
    if raw is None:
        return None
    published: RevisitPlan = build(RevisitPlan, json.loads(raw))
    return replace(published, at=at)
