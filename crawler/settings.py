"""Scrapy settings, built in one place. ``scrapy crawl news -a source=ID`` reads this module."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from crawler import paths

BOT_NAME = "newsmon"
SPIDER_MODULES = ["crawler.spiders"]
USER_AGENT = "newsmon/0.1 (news monitor; +https://github.com/newsmon/newsmon)"

ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
# A news page is well under a megabyte; anything far bigger is a mistake or an attack. The cap
# holds for the decompressed body too (a gzip bomb).
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
# A body shorter than its Content-Length (the connection closed mid-body) is a failed download,
# never a page: kept, it would become a truncated new version of its article. (Scrapy's
# default; stated because crawler.integrity relies on it, and catches the rest.)
DOWNLOAD_FAIL_ON_DATALOSS = True
# Responses whose items are still in the pipelines, in bytes; over it Scrapy downloads nothing
# more. CONCURRENT_ITEMS bounds only the items of one response: this bounds them all, and so
# the pages waiting for the extract workers. ~100 article pages keep the workers busy; Scrapy's
# 5 MB let ~500 wait, 50 MB more memory for nothing.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
# Scrapy starts this many tasks for every response's output, however few items it yields (an
# article page: one, and a request or two); at its 100, 50 sources' waiting pages held 35,000
# tasks. A list page's hundred requests need no more: queuing one is quick.
CONCURRENT_ITEMS = 8
# Requests waiting to be sent are pickled to a folder of the crawler's own (crawler.frontier):
# a sitemap of 10,000 articles is 10,000 of them at once, ~0.8 KB each in memory.
SCHEDULER = "crawler.frontier.DiskFrontier"
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
LOG_INSTALL_ROOT_HANDLER = False  # crawler.logs prints one line per record instead
LOG_FORMATTER = "crawler.logformatter.ItemUrls"  # items named by URL, never printed whole

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's, in their places, as subclasses whose refusals say their kind (RequestRefused).
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.middlewares.Offsite": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxt": 100,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.MetaRefresh": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.Decompression": 590,
    # Responses pass it before decompression (590): it reads a compressed body as sent.
    "crawler.integrity.CutShort": 595,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.Redirect": 600,
    # After the offsite filter (no lookup for a host that is off the source anyway), before
    # robots.txt is fetched from a host that must not be reached.
    "crawler.middlewares.AddressGuard": 60,
    # Its responses pass before the retry middleware's (550) sees them.
    "crawler.middlewares.RetryAfter": 560,
}
ITEM_PIPELINES = {
    "crawler.pipelines.extract.ExtractPipeline": 300,
    "crawler.pipelines.classify.ClassifyPipeline": 500,
    "crawler.pipelines.attachments.AttachmentPipeline": 600,
    "crawler.pipelines.store.StorePipeline": 800,
}
EXTENSIONS = {"crawler.progress.Progress": 500}

NEWSMON_DB = str(paths.DEFAULT_DB)
NEWSMON_PROGRESS = False
NEWSMON_TAXONOMY: list[str] = []  # users' taxonomy files extending the shipped one
# Each source's template (crawler/extract/template.py) is kept in NEWSMON_DB between runs;
# crawlers sharing Redis have no database, and learn within their run only.
NEWSMON_TEMPLATES = True
# Processes that extract and tag pages beside the crawl's (crawler.pipelines.pool): None is
# one per core less the crawl's own, at least one; 0 runs both stages inline in the crawl's
# process. The environment variable of that name sets it for every crawl (the daemon's too).
NEWSMON_WORKERS: int | None = (
    int(os.environ["NEWSMON_WORKERS"]) if os.environ.get("NEWSMON_WORKERS") else None
)


def _seconds_from_environment(name: str, default: float) -> float:
    """The seconds the environment variable ``name`` sets, else ``default``; a value that is
    not a number > 0 ends the command with one line naming it."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise SystemExit(f"Error: {name} must be a number of seconds > 0, not {text!r}")
    return seconds


# CPU seconds that extraction, and then tagging, may spend on one page before it is given up
# as an error of that page (crawler.pipelines.pool.capped): over ten times what the largest
# page takes once its size is capped. The environment variable of that name sets it too.
NEWSMON_PAGE_CPU_SECONDS = _seconds_from_environment("NEWSMON_PAGE_CPU_SECONDS", 30.0)


def share_pages_waiting(settings: Settings, crawlers: int) -> None:
    """Give each of ``crawlers`` crawling side by side in one process its share of the pages
    that may wait for the process's one pool of workers. Scrapy bounds them per crawler
    (SCRAPER_SLOT_MAX_ACTIVE_SIZE): each with the whole budget, fifty sources crawled at once
    held 2,400 pages waiting for a pool busy with ~50, and 50 times the memory."""
    share = settings.getint("SCRAPER_SLOT_MAX_ACTIVE_SIZE") // max(1, crawlers)
    settings.set("SCRAPER_SLOT_MAX_ACTIVE_SIZE", share, priority="cmdline")


def build_settings(db_path: str | Path, progress: bool = False, **overrides: Any) -> Settings:
    """The settings of one ``newsmon crawl``: this module's values, the database, overrides."""
    settings = Settings()
    settings.setmodule(__name__, priority="project")
    settings.set("NEWSMON_DB", str(db_path), priority="cmdline")
    settings.set("NEWSMON_PROGRESS", progress, priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    return settings
