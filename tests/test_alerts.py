"""The rules that decide which alerts a run raises, without a database."""

from __future__ import annotations

import json

import pytest

from crawler.alerts import (
    FAILING_AFTER,
    HEALTH_KINDS,
    KINDS,
    Alert,
    changed_article,
    new_article,
    new_policy,
    source_baseline,
    source_health,
    story_to_join,
)
from crawler.classify.policies import PolicyMention
from crawler.dedup import NEAR_DISTANCE

AT = "2025-06-20T08:00:00+00:00"
OLD = "北京出台算力券实施细则。单个企业年度最高可获3000万元支持。申报截止6月30日。"
NEW = "北京出台算力券实施细则。单个企业年度最高可获5000万元支持。申报截止6月30日。"


def health_alerts(statuses: list[str]) -> list[Alert]:
    """The health alerts of a source whose runs end with ``statuses``, oldest first, fed to
    the rule the way the store does: the last finished runs newest first, and the kind of
    the last health alert raised."""
    raised: list[Alert] = []
    for run_id, status in enumerate(statuses, start=1):
        recent = statuses[:run_id][::-1][:FAILING_AFTER]
        last_kind = raised[-1].kind if raised else None
        alert = source_health("gov", run_id, status, "connection refused", recent, last_kind, AT)
        if alert is not None:
            raised.append(alert)
    return raised


def test_a_source_is_failing_after_three_failed_runs_and_said_once() -> None:
    alerts = health_alerts(["ok", "failed", "failed", "failed", "failed", "failed"])
    assert [(a.kind, a.subject) for a in alerts] == [("source_failing", "source:gov:run:4")]
    assert alerts[0].title == "gov: 3 failed runs"
    assert alerts[0].detail == {"error": "connection refused"}


def test_two_failed_runs_or_a_failure_between_successes_raise_nothing() -> None:
    assert health_alerts(["failed", "failed", "ok", "failed", "failed", "ok"]) == []


def test_an_ok_run_after_failing_says_recovered_and_the_next_failures_count_again() -> None:
    alerts = health_alerts(["failed"] * 3 + ["ok", "ok"] + ["failed"] * 3)
    assert [(a.kind, a.subject) for a in alerts] == [
        ("source_failing", "source:gov:run:3"),
        ("source_recovered", "source:gov:run:4"),
        ("source_failing", "source:gov:run:8"),
    ]
    assert alerts[1].title == "gov recovered" and alerts[1].detail is None


def test_a_near_duplicate_joins_its_story_and_raises_nothing() -> None:
    fingerprint = 0xF0F0_0000_1234_5678
    near = fingerprint ^ (1 << NEAR_DISTANCE) - 1  # NEAR_DISTANCE bits apart
    far = fingerprint ^ (1 << NEAR_DISTANCE + 1) - 1
    assert story_to_join(fingerprint, [(7, far), (9, near)]) == 9
    assert story_to_join(fingerprint, [(7, far)]) is None
    # An article not yet put in a story (its own write still open) is no story to join.
    assert story_to_join(fingerprint, [(None, fingerprint)]) is None


def test_an_article_that_opens_a_story_is_a_new_article() -> None:
    alert = new_article(4, 12, "demo", "武汉发布算力券管理办法", "http://x.cn/a.html", AT)
    assert alert.row() == {
        "kind": "new_article",
        "subject": "story:4",
        "created": AT,
        "source_id": "demo",
        "article_id": 12,
        "story_id": 4,
        "policy_id": None,
        "title": "武汉发布算力券管理办法",
        "url": "http://x.cn/a.html",
        "detail": None,
    }


def test_a_changed_text_raises_changed_article_with_the_changed_sentence() -> None:
    alert = changed_article(
        OLD, NEW, article_id=12, version=3, source_id="demo", title="t", url="u", seen_at=AT
    )
    assert alert is not None
    assert (alert.kind, alert.subject) == ("changed_article", "article:12:v3")
    assert alert.detail is not None
    [change] = alert.detail["changes"]
    assert (change["old"], change["new"]) == (
        "单个企业年度最高可获3000万元支持。",
        "单个企业年度最高可获5000万元支持。",
    )


def test_the_same_text_raises_nothing() -> None:
    same = changed_article(
        OLD, OLD, article_id=12, version=3, source_id="demo", title="t", url="u", seen_at=AT
    )
    assert same is None


def test_a_new_policy_is_stored_with_its_region_date_and_sentence_as_json() -> None:
    mention = PolicyMention("武汉市算力券管理办法（试行）", "武汉", "2025-06-20", "武汉印发《…》。")
    row = new_policy(5, mention, 12, AT).row()
    assert (row["kind"], row["subject"], row["policy_id"], row["article_id"]) == (
        "new_policy",
        "policy:5",
        5,
        12,
    )
    # Stored as before: Chinese as is, not \\u escapes, so a digest and Datasette read it.
    assert row["detail"] == (
        '{"region": "武汉", "date": "2025-06-20", "context": "武汉印发《…》。"}'
    )
    assert json.loads(row["detail"])["region"] == "武汉"


def test_alert_kinds_are_declared() -> None:
    assert sorted(KINDS) == [
        "changed_article",
        "changed_attachment",
        "new_article",
        "new_policy",
        "source_baseline",
        "source_failing",
        "source_recovered",
    ]
    # Every recipient hears of a source's health, whatever their filters.
    assert sorted(HEALTH_KINDS) == ["source_failing", "source_recovered"]
    with pytest.raises(ValueError, match="unknown alert kind 'new_artcle'"):
        Alert("new_artcle", "story:1", AT)


def test_a_baseline_is_one_alert_that_counts_what_it_stored() -> None:
    alert = source_baseline("sz-gxj", "深圳工信局", 7, 240, 12, AT)
    assert (alert.kind, alert.subject) == ("source_baseline", "source:sz-gxj:run:7")
    assert alert.title == "深圳工信局：240 篇作为基线收录"
    assert alert.detail == {"articles": 240, "policies": 12}
    # Not a source's health: a recipient's region filter decides, as for an article.
    assert "source_baseline" not in HEALTH_KINDS
