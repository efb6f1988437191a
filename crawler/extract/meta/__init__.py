"""Metadata of Chinese news pages: title, publication time, author, outlet. Pure functions.

One walk over the tree (:mod:`.page`) collects the ``<title>``, the meta tags, JSON-LD, the
``<h1>`` headings and the visible text (a line per block); each field is then read from that
(:mod:`.title`, :mod:`.dates`, :mod:`.byline`), anchored at the headline: the info line under
it holds the date, the outlet and the byline, while dates further away belong to
related-article lists, comments and footers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml.html import HtmlElement

from crawler.extract.meta.byline import author, outlet
from crawler.extract.meta.dates import beijing, issue_month, published
from crawler.extract.meta.page import walk
from crawler.extract.meta.portal import PortalMeta, portal_metadata
from crawler.extract.meta.title import headline, headline_end


@dataclass(frozen=True)
class PageMeta:
    """Who published a page, when, under which headline."""

    title: str | None = None
    # "YYYY-MM-DD HH:MM", "YYYY-MM-DD" when no time is given, "YYYY-MM" for a magazine issue
    published: str | None = None
    author: str | None = None
    outlet: str | None = None
    portal: PortalMeta = PortalMeta()  # a government portal's information table and meta tags


def page_metadata(
    tree: HtmlElement,
    url: str,
    fetched_at: datetime | None = None,
    info_table: HtmlElement | None = None,
) -> PageMeta:
    """The metadata of the page ``tree`` (not modified); ``fetched_at`` anchors 3小时前/昨天,
    ``info_table`` is its 政府信息公开 table (:func:`.portal.info_table`)."""
    page = walk(tree)
    portal = portal_metadata(page, info_table)
    fetched = beijing(fetched_at) if fetched_at else None
    # A page cannot be published after it was fetched (a saved page: after today).
    latest = (fetched or beijing(datetime.now(UTC))) + timedelta(days=1)
    title = headline(page, tree)
    anchor = headline_end(page, title)
    stamp, dateline = published(page, url, anchor, fetched, latest)
    source = outlet(page, anchor, dateline)
    when = str(stamp) if stamp else issue_month(page.text)
    # The table's 发布日期 is the portal's own record; a date on the info line that disagrees
    # is the 成文日期 or a revision's.
    if portal.published and not (when or "").startswith(portal.published):
        when = portal.published
    return PageMeta(
        title=title or portal.name,
        published=when,
        author=author(page, title, anchor, source),
        outlet=source,
        portal=portal,
    )
