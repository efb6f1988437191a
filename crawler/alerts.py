"""Which alerts a run raises, from what it saw: a new story, a changed text, a source's run
outcomes, a policy's first sighting. Pure: plain data in, :class:`Alert` values out; the store
inserts them and the digest reads them back.

An alert is raised once: its ``subject`` names what it is about (``story:12``,
``article:12:v3``, ``attachment:4:v2``, ``source:ID:run:40``, ``policy:5``), and the store
ignores an alert whose kind and subject it holds already. Subjects and titles are stored
data: changing their form would raise every alert again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crawler.classify.policies import PolicyMention
from crawler.dedup import NEAR_DISTANCE, hamming
from crawler.diff import diff_texts

# Consecutive failed runs after which a source is reported failing.
FAILING_AFTER = 3


@dataclass(frozen=True)
class AlertKind:
    """What an alert of one kind tells its reader."""

    meaning: str
    # About a source's health, not an article: every recipient gets it, whatever their filters.
    health: bool = False


KINDS: dict[str, AlertKind] = {
    "new_article": AlertKind("an article that opens a story: no stored article is a near copy"),
    "changed_article": AlertKind("a stored article whose cleaned body changed; detail: the diff"),
    "changed_attachment": AlertKind(
        "an attachment of an article (附件) whose text changed; detail: the diff"
    ),
    "new_policy": AlertKind(
        "a policy document named for the first time; detail: its region, date and sentence"
    ),
    "source_failing": AlertKind(
        f"a source whose last {FAILING_AFTER} runs failed; detail: the last error", health=True
    ),
    "source_recovered": AlertKind("a failing source whose run succeeded again", health=True),
    "source_baseline": AlertKind(
        "a source's first crawl: its back catalogue stored without an alert per article or"
        " policy; detail: how many of each"
    ),
}
HEALTH_KINDS = frozenset(kind for kind, declared in KINDS.items() if declared.health)


@dataclass(frozen=True)
class Alert:
    """One alert as the alerts table stores it; ``detail`` is stored as JSON."""

    kind: str
    subject: str
    created: str
    source_id: str | None = None
    article_id: int | None = None
    story_id: int | None = None
    policy_id: int | None = None
    title: str | None = None
    url: str | None = None
    detail: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r} (known: {', '.join(KINDS)})")

    def row(self) -> dict[str, Any]:
        """The alert as a row of the alerts table."""
        detail = None if self.detail is None else json.dumps(self.detail, ensure_ascii=False)
        return {
            "kind": self.kind,
            "subject": self.subject,
            "created": self.created,
            "source_id": self.source_id,
            "article_id": self.article_id,
            "story_id": self.story_id,
            "policy_id": self.policy_id,
            "title": self.title,
            "url": self.url,
            "detail": detail,
        }


def story_to_join(fingerprint: int, candidates: Iterable[tuple[int | None, int]]) -> int | None:
    """The story of the first candidate (story id, SimHash) within NEAR_DISTANCE bits of the
    new article's ``fingerprint``: its near copy. None: the article opens a story."""
    return next(
        (
            story
            for story, simhash in candidates
            if story and hamming(simhash, fingerprint) <= NEAR_DISTANCE
        ),
        None,
    )


def new_article(
    story_id: int, article_id: int, source_id: str, title: str | None, url: str, seen_at: str
) -> Alert:
    """The alert of an article that opened story ``story_id``; its later copies raise none."""
    return Alert(
        "new_article",
        f"story:{story_id}",
        seen_at,
        source_id=source_id,
        article_id=article_id,
        story_id=story_id,
        title=title,
        url=url,
    )


def changed_article(
    old_text: str,
    new_text: str,
    *,
    article_id: int,
    version: int,
    source_id: str,
    title: str | None,
    url: str,
    seen_at: str,
) -> Alert | None:
    """The alert of a stored article whose text became ``version``, with the sentences that
    changed as its detail; None when the text is the same."""
    if new_text == old_text:
        return None
    return Alert(
        "changed_article",
        f"article:{article_id}:v{version}",
        seen_at,
        source_id=source_id,
        article_id=article_id,
        title=title,
        url=url,
        detail=diff_texts(old_text, new_text).to_json(),
    )


def changed_attachment(
    old_text: str,
    new_text: str,
    *,
    attachment_id: int,
    version: int,
    article_id: int | None,
    source_id: str,
    name: str,
    url: str,
    seen_at: str,
) -> Alert | None:
    """The alert of a stored attachment whose text became ``version``, with the sentences
    that changed as its detail; None when the text is the same (a file saved anew)."""
    if new_text == old_text:
        return None
    return Alert(
        "changed_attachment",
        f"attachment:{attachment_id}:v{version}",
        seen_at,
        source_id=source_id,
        article_id=article_id,
        title=name,
        url=url,
        detail=diff_texts(old_text, new_text).to_json(),
    )


def source_health(
    source_id: str,
    run_id: int,
    status: str,
    error: str | None,
    recent: Sequence[str],
    last_health_kind: str | None,
    at: str,
) -> Alert | None:
    """The alert a finished run raises about its source, if any: failing when ``recent`` (the
    statuses of its last FAILING_AFTER finished runs, newest first, this one included) all
    failed and it was not failing already; recovered when it was failing and this run is ok.
    ``last_health_kind`` is the kind of the source's last health alert."""
    failing = last_health_kind == "source_failing"
    subject = f"source:{source_id}:run:{run_id}"
    if status == "failed" and not failing and list(recent) == ["failed"] * FAILING_AFTER:
        return Alert(
            "source_failing",
            subject,
            at,
            source_id=source_id,
            title=f"{source_id}: {FAILING_AFTER} failed runs",
            detail={"error": error},
        )
    if status == "ok" and failing:
        return Alert(
            "source_recovered", subject, at, source_id=source_id, title=f"{source_id} recovered"
        )
    return None


def new_policy(policy_id: int, policy: PolicyMention, article_id: int, seen_at: str) -> Alert:
    """The alert of a policy first named by ``article_id``; later articles naming it raise none."""
    return Alert(
        "new_policy",
        f"policy:{policy_id}",
        seen_at,
        policy_id=policy_id,
        article_id=article_id,
        title=policy.title,
        detail={"region": policy.region, "date": policy.date, "context": policy.context},
    )


def source_baseline(
    source_id: str, source_name: str, run_id: int, articles: int, policies: int, at: str
) -> Alert:
    """The one alert of a baseline run (a source's first crawl): what it stored in silence.
    Its articles and policies raise none of their own, so the digest is not flooded by a
    back catalogue that is news to nobody."""
    return Alert(
        "source_baseline",
        f"source:{source_id}:run:{run_id}",
        at,
        source_id=source_id,
        title=f"{source_name}：{articles} 篇作为基线收录",
        detail={"articles": articles, "policies": policies},
    )
