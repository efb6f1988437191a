"""Scrapy adapter around :func:`crawler.attachments.read_attachment`."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from crawler.attachments import BrokenAttachment, read_attachment
from crawler.items import AttachmentFile
from crawler.pipelines.pool import Pool, acquire, release


class AttachmentPipeline:
    """Fills ``AttachmentFile.read`` (in a worker process unless ``NEWSMON_WORKERS = 0``: a
    long PDF takes seconds); a broken file becomes an error of its fetch. Counts each kind
    read, the files without text, the broken ones and the CPU time reading took."""

    def __init__(self, stats: Any, pool: Pool | None = None):
        self.stats = stats
        self.pool = pool

    @classmethod
    def from_crawler(cls, crawler: Any) -> AttachmentPipeline:
        return cls(crawler.stats, acquire(crawler.settings))

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, AttachmentFile) or item.fetch.status == 304:
            return item
        if item.fetch.error is None:
            started = time.process_time()
            try:
                args = (item.body, item.name, item.fetch.url)
                if self.pool is None:
                    item.read = read_attachment(*args)
                else:
                    item.read = await self.pool.run(read_attachment, *args)
            except BrokenAttachment as exc:
                item.fetch = replace(item.fetch, error=f"attachment: {exc}")
            self.stats.inc_value("newsmon/time/attachments", time.process_time() - started)
        if item.read is None:
            self.stats.inc_value("newsmon/attachments/broken")
            # Kept, its validators would answer the next request with a 304 for a file that
            # was never read whole.
            item.fetch = replace(item.fetch, etag=None, last_modified=None)
        else:
            self.stats.inc_value(f"newsmon/attachments/{item.read.kind}")
            if item.read.error is not None:
                self.stats.inc_value("newsmon/attachments/no_text")
        return item

    def close_spider(self) -> None:
        release(self.pool)
        self.pool = None
