"""Atom feeds (RFC 4287) of what newsmon found: a pure function from entries to the XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

NS = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Entry:
    """One item of a feed: ``id`` is stable across fetches, so readers show it once."""

    id: str
    title: str
    link: str
    updated: datetime
    summary: str = ""


def _stamp(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def atom_feed(
    title: str, feed_id: str, self_url: str, page_url: str, entries: Sequence[Entry]
) -> bytes:
    """The Atom document of ``entries``; its ``updated`` is the newest entry's (or the
    epoch for an empty feed, so that an unchanged feed is the same bytes)."""
    ET.register_namespace("", NS)
    feed = ET.Element(f"{{{NS}}}feed")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> None:
        child = ET.SubElement(parent, f"{{{NS}}}{tag}", attrs)
        child.text = text

    add(feed, "title", title)
    add(feed, "id", feed_id)
    newest = max((e.updated for e in entries), default=datetime(1970, 1, 1, tzinfo=UTC))
    add(feed, "updated", _stamp(newest))
    add(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    add(feed, "link", rel="alternate", href=page_url, type="text/html")
    author = ET.SubElement(feed, f"{{{NS}}}author")
    add(author, "name", "newsmon")
    for entry in entries:
        item = ET.SubElement(feed, f"{{{NS}}}entry")
        add(item, "title", entry.title)
        add(item, "id", entry.id)
        add(item, "updated", _stamp(entry.updated))
        add(item, "link", rel="alternate", href=entry.link, type="text/html")
        if entry.summary:
            add(item, "summary", entry.summary)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body
