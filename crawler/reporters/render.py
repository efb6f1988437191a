"""A digest of unsent alerts: gathered from the database, grouped the way an analyst reads,
and rendered (jinja2) as text, HTML and a multipart email. Nothing here sends or writes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from sqlite_utils import Database

from crawler.alerts import HEALTH_KINDS
from crawler.classify.topics import default_taxonomy
from crawler.clock import duration_seconds
from crawler.config import Recipient
from crawler.diff import TextDiff, render_html, render_text

NO_REGION = "未标注地区"
NO_TOPIC = "其他"
# Zones that keep Beijing time: their readers are told 北京时间, not a zone's name.
BEIJING_TIME = frozenset({"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"})
# What the digest says of a policy: (column, label).
POLICY_FACTS = (
    ("issuer", "发文机关"),
    ("doc_number", "文号"),
    ("date", "日期"),
    ("status", "状态"),
)
ALERTS = """
select alerts.*, articles.story_id as article_story, articles.outlet, articles.published,
  policies.first_article_id, first.title as first_title, first.url as first_url,
  first.outlet as first_outlet, sources.name as source_name, sources.region as source_region
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


def local_time(value: Any, zone: ZoneInfo, with_time: bool = True) -> str:
    """A stored time as the reader's clock shows it: ``2025-06-20 16:04``. A time without an
    offset is a publisher's own (a Chinese page's, Beijing time) and is shown as written;
    a value that is no time at all is shown as it is."""
    text = oneline(value)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    elif len(text) <= 10:  # a date alone
        return text
    return moment.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def zone_label(name: str) -> str:
    """How the digest names its time zone."""
    return "北京时间" if name in BEIJING_TIME else f"时区 {name}"


@cache
def topic_names() -> dict[str, str]:
    """Each shipped topic's name (算力) by its id (compute)."""
    return {topic.id: topic.name for topic in default_taxonomy().topics}


@dataclass
class Item:
    """One alert as the digest shows it."""

    alert_id: int
    kind: str
    title: str
    url: str = ""
    # The group the item is shown in: a city (or province) with its districts and zones.
    region: str = ""
    # The place inside ``region`` the item is about, when it is a district or zone of it.
    place: str = ""
    date: str = ""
    outlet: str = ""
    article_id: int | None = None
    first_title: str = ""
    first_outlet: str = ""
    topics: tuple[str, ...] = ()
    # The article's regions with their parents and provinces: what a region filter matches.
    places: frozenset[str] = frozenset()
    also_on: tuple[str, ...] = ()
    diff_text: str = ""
    diff_html: Markup = Markup("")
    error: str = ""
    # A policy's facts as (label, value), and where its official text is.
    facts: tuple[tuple[str, str], ...] = ()
    official_url: str = ""
    attachments: tuple[tuple[str, str], ...] = ()  # the official text's files: (name, url)
    # The item's page in Datasette, when [serve] base_url says where that is.
    browse: str = ""

    @property
    def topic(self) -> str:
        return self.topics[0] if self.topics else NO_TOPIC

    @property
    def topic_name(self) -> str:
        """The top topic as a reader names it (算力), not its id."""
        return topic_names().get(self.topic, self.topic)

    @property
    def byline(self) -> str:
        """Where and when: ``东湖高新区 · 长江日报 · 2025-06-20``, the parts it has."""
        return " · ".join(part for part in (self.place, self.outlet, self.date) if part)

    @property
    def facts_line(self) -> str:
        """``发文机关：… · 文号：… · 日期：…``."""
        return " · ".join(f"{label}：{value}" for label, value in self.facts)

    @property
    def place_untold(self) -> str:
        """The place inside the region, unless the title names it already."""
        return self.place if self.place not in self.title else ""

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
    """What is new since a moment, in the order a reader wants it: changes to what they know,
    new policies, new articles, sources taken in as a baseline, and sources' health."""

    since: str
    changed: list[Item] = field(default_factory=list)
    policies: list[Item] = field(default_factory=list)
    articles: list[Item] = field(default_factory=list)
    baselines: list[Item] = field(default_factory=list)
    sources: list[Item] = field(default_factory=list)
    zone: str = "Asia/Shanghai"

    @property
    def items(self) -> list[Item]:
        return [*self.changed, *self.policies, *self.articles, *self.baselines, *self.sources]

    @property
    def alert_ids(self) -> list[int]:
        return sorted(item.alert_id for item in self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def failing(self) -> list[Item]:
        return [s for s in self.sources if s.kind == "source_failing"]

    @property
    def since_local(self) -> str:
        """The heading's moment on the reader's clock, with the clock named."""
        shown = local_time(self.since, ZoneInfo(self.zone))
        return f"{shown}（{zone_label(self.zone)}）" if shown else ""

    def counts(self) -> str:
        """``更新 1 · 新政策 3 · 新文章 12``: what the digest holds, in its order; none of 0."""
        recovered = len(self.sources) - len(self.failing)
        parts = (
            ("更新", len(self.changed)),
            ("新政策", len(self.policies)),
            ("新文章", len(self.articles)),
            ("新来源", len(self.baselines)),
            ("故障来源", len(self.failing)),
            ("恢复来源", recovered),
        )
        return " · ".join(f"{label} {n}" for label, n in parts if n)

    def subject(self, prefix: str = "") -> str:
        return oneline(f"{prefix} {self.counts()}")

    def policies_by_region(self) -> list[tuple[str, list[Item]]]:
        return _grouped(self.policies, lambda i: i.region or NO_REGION)

    def articles_by_region(self) -> list[tuple[str, list[tuple[str, list[Item]]]]]:
        """New articles by city (districts and zones inside theirs), then by (top) topic."""
        return [
            (region, _grouped(items, lambda i: i.topic_name if i.topics else NO_TOPIC))
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
            changed=keep(self.changed),
            policies=keep(self.policies),
            articles=keep(self.articles),
            baselines=keep(self.baselines),
            sources=keep(self.sources),
        )


def _grouped(items: Iterable[Item], key: Any) -> list[tuple[str, list[Item]]]:
    """Items grouped by ``key``, biggest group first, then by name; order kept inside."""
    groups: dict[str, list[Item]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    unnamed = (NO_REGION, NO_TOPIC)
    return sorted(groups.items(), key=lambda kv: (kv[0] in unnamed, -len(kv[1]), kv[0]))


class _Places:
    """The stored regions' parents: a district or zone is shown under its city."""

    def __init__(self, db: Database):
        self.parent = {
            row["name"]: (row["level"], row["parent"])
            for row in db.query("select name, level, parent from regions")
        }

    def city(self, name: str) -> str:
        """The city (or province) ``name`` lies in: 东湖高新区 → 武汉, 前海 → 深圳."""
        seen = {name}
        level, parent = self.parent.get(name, (None, None))
        while level == "district" and parent and parent not in seen:
            name = parent
            seen.add(name)
            level, parent = self.parent.get(name, (None, None))
        return name

    def place(self, item: Item, name: str) -> None:
        """Put ``item`` under the city of ``name``, naming ``name`` when it lies inside."""
        item.region = self.city(name) if name else ""
        item.place = name if name != item.region else ""


def collect(
    db: Database,
    since: str | None = None,
    zone: str = "Asia/Shanghai",
    browse: str | None = None,
) -> Digest:
    """Every unsent alert, whatever its age, as a digest; with ``since`` (stored ISO time),
    only those created at or after it (a preview's window). Times are shown in ``zone``;
    ``browse`` is the database's address in Datasette, where each item links to its page."""
    rows = list(db.query(ALERTS, [since or ""]))
    # "Since" in the heading: the window asked for, else the oldest alert the digest owes.
    digest = Digest(since=since or min((row["created"] for row in rows), default=""), zone=zone)
    clock = ZoneInfo(zone)
    places = _Places(db)
    for row in rows:
        kind = row["kind"]
        detail = json.loads(row["detail"]) if row["detail"] else {}
        item = Item(
            alert_id=row["id"],
            kind=kind,
            title=oneline(row["title"]),
            url=oneline(row["url"]),
            outlet=oneline(row["outlet"]),
            date=local_time(row["published"], clock, with_time=False),
            article_id=row["article_id"],
        )
        if browse and row["article_id"] is not None:
            item.browse = f"{browse}/articles/{row['article_id']}"
        article_id = row["first_article_id"] or row["article_id"]
        if article_id is not None:
            regions = list(db.query(REGIONS, [article_id]))
            primary = [r["region"] for r in regions if r["is_primary"]]
            places.place(item, primary[0] if primary else "")
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
            policy = _policy(db, row["policy_id"])
            places.place(item, oneline(policy.get("region") or detail.get("region") or ""))
            item.places |= {item.region, item.place} - {""}
            item.date = oneline(policy.get("date") or detail.get("date") or "")
            item.facts = tuple(
                (label, oneline(policy[column]))
                for column, label in POLICY_FACTS
                if policy.get(column)
            )
            item.official_url, item.attachments = _official_text(db, policy)
            item.first_title = oneline(row["first_title"])
            item.first_outlet = oneline(row["first_outlet"])
            item.url = item.url or oneline(row["first_url"])
            if browse and row["policy_id"] is not None:
                item.browse = f"{browse}/policies/{row['policy_id']}"
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
        elif kind == "source_baseline":
            name = oneline(row["source_name"] or row["source_id"])
            item.outlet = name
            if "articles" in detail:
                item.title = f"{name}：{detail['articles']} 篇作为基线收录" + (
                    f"，含政策文件 {detail['policies']} 项" if detail.get("policies") else ""
                )
            region = oneline(row["source_region"])
            item.places = frozenset({region, places.city(region)} - {""})
            digest.baselines.append(item)
        elif kind in HEALTH_KINDS:
            item.title = item.title or oneline(row["source_id"])
            item.outlet = oneline(row["source_name"] or row["source_id"])
            item.error = oneline(detail.get("error") or "")
            digest.sources.append(item)
    return digest


def _policy(db: Database, policy_id: int | None) -> dict[str, Any]:
    """The policy's stored row."""
    if policy_id is None:
        return {}
    return next(db.query("select * from policies where id = ?", [policy_id]), {})


def _official_text(
    db: Database, policy: dict[str, Any]
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The URL of the article that is the policy's official text, if one is stored, and the
    names and URLs of that article's attachments."""
    if not policy.get("text_article_id"):
        return "", ()
    row = next(
        db.query("select url from articles where id = ?", [policy["text_article_id"]]), None
    )
    files = db.query(
        "select name, url from attachments where article_id = ? order by id",
        [policy["text_article_id"]],
    )
    return (
        oneline(row["url"]) if row else "",
        tuple((oneline(f["name"] or f["url"]), oneline(f["url"])) for f in files),
    )


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
