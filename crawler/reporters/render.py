"""A digest of unsent alerts: gathered from the database, grouped the way an analyst reads,
and rendered (jinja2) as text, HTML and a multipart email. Nothing here sends or writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlite_utils import Database

from crawler.alerts import HEALTH_KINDS
from crawler.clock import duration_seconds
from crawler.config import Recipient
from crawler.diff import TextDiff, render_html, render_text

NO_REGION = "未标注地区"
NO_TOPIC = "其他"

ALERTS = """
select alerts.*, articles.story_id as article_story, articles.outlet, articles.published,
  policies.region as policy_region, policies.date as policy_date,
  policies.first_article_id, first.title as first_title, first.url as first_url,
  sources.name as source_name
from alerts
left join articles on articles.id = alerts.article_id
left join policies on policies.id = alerts.policy_id
left join articles first on first.id = policies.first_article_id
left join sources on sources.id = alerts.source_id
where alerts.sent_at is null and alerts.created >= ?
order by alerts.id
"""
REGIONS = """
select ar.region, ar.is_primary, r.parent, r.province from article_regions ar
left join regions r on r.name = ar.region where ar.article_id = ?
order by ar.is_primary desc, ar.mentioned desc, ar.region
"""


def parse_since(text: str) -> timedelta:
    """``1w``, ``1d``, ``12h``, ``30m`` as a timedelta."""
    try:
        return timedelta(seconds=duration_seconds(text))
    except (ValueError, OverflowError):
        raise ValueError(f"--since must look like 1w, 1d, 12h or 30m, not {text!r}") from None


def since_moment(text: str, at: datetime | None = None) -> str:
    """The stored (ISO, UTC) time ``text`` ago."""
    at = at or datetime.now(UTC)
    try:
        return (at - parse_since(text)).isoformat(timespec="seconds")
    except OverflowError:  # further back than the calendar goes: everything
        return datetime.min.replace(tzinfo=UTC).isoformat(timespec="seconds")


def oneline(value: Any) -> str:
    """A title on one line: CR, LF and runs of spaces become one space."""
    return " ".join(str(value or "").split())


def link(value: Any) -> str:
    """A URL fit for href: http(s) only, so a stored ``javascript:`` URL never becomes a link."""
    url = oneline(value)
    return url if url.lower().startswith(("http://", "https://")) else "#"


@dataclass
class Item:
    """One alert as the digest shows it."""

    alert_id: int
    kind: str
    title: str
    url: str = ""
    region: str = ""
    date: str = ""
    outlet: str = ""
    article_id: int | None = None
    first_title: str = ""
    topics: tuple[str, ...] = ()
    # The article's regions with their parents and provinces: what a region filter matches.
    places: frozenset[str] = frozenset()
    also_on: tuple[str, ...] = ()
    diff_text: str = ""
    diff_html: Markup = Markup("")
    error: str = ""

    @property
    def topic(self) -> str:
        return self.topics[0] if self.topics else NO_TOPIC

    def wanted_by(self, recipient: Recipient) -> bool:
        """Whether a recipient's filters let this item through (no filter: everything)."""
        if not recipient.filtered or self.kind in HEALTH_KINDS:
            return True
        return bool(
            (recipient.regions and self.places & set(recipient.regions))
            or (recipient.topics and set(self.topics) & set(recipient.topics))
        )


@dataclass
class Digest:
    """What is new since a moment: policies, articles, changes and sources' health."""

    since: str
    policies: list[Item] = field(default_factory=list)
    articles: list[Item] = field(default_factory=list)
    changed: list[Item] = field(default_factory=list)
    sources: list[Item] = field(default_factory=list)

    @property
    def items(self) -> list[Item]:
        return [*self.policies, *self.articles, *self.changed, *self.sources]

    @property
    def alert_ids(self) -> list[int]:
        return sorted(item.alert_id for item in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def failing(self) -> list[Item]:
        return [s for s in self.sources if s.kind == "source_failing"]

    def counts(self) -> str:
        """``新政策 3 · 新文章 12 · 更新 2`` (and failing sources, when there are some)."""
        parts = [
            f"新政策 {len(self.policies)}",
            f"新文章 {len(self.articles)}",
            f"更新 {len(self.changed)}",
        ]
        if self.failing:
            parts.append(f"故障来源 {len(self.failing)}")
        return " · ".join(parts)

    def subject(self, prefix: str = "") -> str:
        return oneline(f"{prefix} {self.counts()}")

    def policies_by_region(self) -> list[tuple[str, list[Item]]]:
        return _grouped(self.policies, lambda i: i.region or NO_REGION)

    def articles_by_region(self) -> list[tuple[str, list[tuple[str, list[Item]]]]]:
        """New articles by primary region, then by (top) topic."""
        return [
            (region, _grouped(items, lambda i: i.topic))
            for region, items in _grouped(self.articles, lambda i: i.region or NO_REGION)
        ]

    def for_recipient(self, recipient: Recipient) -> Digest:
        """The part of the digest a recipient's region and topic filters let through."""
        return self.only(lambda item: item.wanted_by(recipient))

    def only(self, wanted: Callable[[Item], bool]) -> Digest:
        """The digest with the items ``wanted`` lets through."""

        def keep(items: list[Item]) -> list[Item]:
            return [i for i in items if wanted(i)]

        return replace(
            self,
            policies=keep(self.policies),
            articles=keep(self.articles),
            changed=keep(self.changed),
            sources=keep(self.sources),
        )


def _grouped(items: Iterable[Item], key: Any) -> list[tuple[str, list[Item]]]:
    """Items grouped by ``key``, biggest group first, then by name; order kept inside."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    unnamed = (NO_REGION, NO_TOPIC)
    return sorted(groups.items(), key=lambda kv: (kv[0] in unnamed, -len(kv[1]), kv[0]))


def collect(db: Database, since: str | None = None) -> Digest:
    """Every unsent alert, whatever its age, as a digest; with ``since`` (stored ISO time),
    only those created at or after it (a preview's window)."""
    rows = list(db.query(ALERTS, [since or ""]))
    # "Since" in the heading: the window asked for, else the oldest alert the digest owes.
    digest = Digest(since=since or min((row["created"] for row in rows), default=""))
    for row in rows:
        kind = row["kind"]
        detail = json.loads(row["detail"]) if row["detail"] else {}
        item = Item(
            alert_id=row["id"],
            kind=kind,
            title=oneline(row["title"]),
            url=oneline(row["url"]),
            outlet=oneline(row["outlet"]),
            date=oneline(row["published"]),
            article_id=row["article_id"],
        )
        article_id = row["first_article_id"] or row["article_id"]
        if article_id is not None:
            regions = list(db.query(REGIONS, [article_id]))
            primary = [r["region"] for r in regions if r["is_primary"]]
            item.region = primary[0] if primary else ""
            item.places = frozenset(
                name for r in regions for name in (r["region"], r["parent"], r["province"]) if name
            )
            item.topics = tuple(
                r["topic"]
                for r in db.query(
                    "select topic from article_topics where article_id = ?"
                    " order by score desc, topic",
                    [article_id],
                )
            )
        if kind == "new_policy":
            item.region = oneline(row["policy_region"] or detail.get("region") or "")
            item.places |= {item.region} - {""}
            item.date = oneline(row["policy_date"] or detail.get("date") or "")
            item.first_title = oneline(row["first_title"])
            item.url = item.url or oneline(row["first_url"])
            digest.policies.append(item)
        elif kind == "new_article":
            story = row["story_id"] or row["article_story"]
            if story is not None:
                item.also_on = tuple(
                    oneline(c["url"])
                    for c in db.query(
                        "select url from articles where story_id = ? and id != ? order by id",
                        [story, row["article_id"]],
                    )
                )
            digest.articles.append(item)
        elif kind in ("changed_article", "changed_attachment"):
            diff = TextDiff.from_json(detail)
            item.diff_text = render_text(diff)
            # render_html escapes the article's text itself: its output is markup.
            item.diff_html = Markup(render_html(diff))
            digest.changed.append(item)
        elif kind in HEALTH_KINDS:
            item.title = item.title or oneline(row["source_id"])
            item.outlet = oneline(row["source_name"] or row["source_id"])
            item.error = oneline(detail.get("error") or "")
            digest.sources.append(item)
    return digest


ENV = Environment(
    loader=PackageLoader("crawler.reporters", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
ENV.filters["oneline"] = oneline
ENV.filters["link"] = link


def render_digest(digest: Digest, kind: str, subject: str = "") -> str:
    """The digest as ``text`` or ``html`` (escaped: titles are data, not markup)."""
    template = ENV.get_template(f"digest.{'txt' if kind == 'text' else kind}")
    return template.render(digest=digest, subject=subject or digest.subject())


def build_message(
    digest: Digest, sender: str, to: Iterable[str], subject_prefix: str = ""
) -> EmailMessage:
    """A multipart/alternative email, text then HTML; the email package encodes the headers."""
    subject = digest.subject(subject_prefix)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = oneline(sender)
    message["To"] = ", ".join(oneline(a) for a in to)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain="newsmon")
    message.set_content(render_digest(digest, "text", subject), subtype="plain", charset="utf-8")
    message.add_alternative(render_digest(digest, "html", subject), subtype="html", charset="utf-8")
    return message
