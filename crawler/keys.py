"""The keys of the JSON documents that commands print with --json, in their order: stable
contracts that each command's --help names. Here, apart from the code that fills them, so
that the command line imports no crawl or database code to show its help."""

from __future__ import annotations

# `newsmon status --json`
STATUS_KEYS = ("summary", "seed_problems", "never_crawled", "sources", "errors", "extraction")
# `newsmon alerts --json`: a list of these
ALERT_KEYS = ("id", "kind", "created", "source_id", "title", "url", "detail", "also_on", "policy")
# `newsmon sources --json`: a list of these
SOURCE_KEYS = (
    "id", "name", "region", "every", "cron", "lists", "feeds", "sitemaps", "article_urls",
    "list_urls", "verified", "file",
)  # fmt: skip
# `newsmon try --json`
TRIAL_KEYS = (
    "url", "source", "status", "content_type", "bytes", "error", "page_matches", "article",
    "title", "published", "outlet", "author", "text", "tags", "links",
)  # fmt: skip
