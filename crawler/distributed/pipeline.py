"""The crawlers' side: a crawl's settings turned to share its frontier through Redis, and the
pipeline that sends its items to the writer in place of the store."""

from __future__ import annotations

import json
import warnings
from typing import Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, ScrapyDeprecationWarning
from scrapy.settings import Settings
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.distributed.codec import RequestCodec, plain
from crawler.distributed.keys import FRONTIER, ITEMS, SEEN
from crawler.distributed.rounds import LEASE_SECONDS, Round, worker_name
from crawler.items import AttachmentFile, Fetch, Page
from crawler.pipelines.store import count_fetch
from crawler.sources import Source


def share_through_redis(settings: Settings, url: str) -> None:
    """Turn a crawl's settings into a crawl that shares its frontier and sends its items to
    the writer through the Redis at ``url``."""
    # scrapy-redis 0.9 calls what Scrapy 2.13 deprecated; a user can do nothing about it.
    warnings.filterwarnings("ignore", category=ScrapyDeprecationWarning, module="scrapy_redis")
    pipelines = settings.getdict("ITEM_PIPELINES")
    pipelines.pop("crawler.pipelines.store.StorePipeline", None)
    pipelines["crawler.distributed.pipeline.ToWriter"] = 800
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
        "NEWSMON_TEMPLATES": False,
    }.items():
        settings.set(key, value, priority="cmdline")


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

    def process_item(self, item: Fetch | Page | AttachmentFile) -> Fetch | Page | AttachmentFile:
        if isinstance(item, AttachmentFile):
            # Only the fetch goes to the writer: attachments' text is not carried through
            # Redis yet, and the fetch is what status shows of a broken file.
            count_fetch(item.fetch, self.stats.inc_value)
            self._send("item", fetch=plain(item.fetch))
            return item
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
