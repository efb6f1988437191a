"""The revisit plan and the watch window, without a database or a crawl."""

from __future__ import annotations

import pytest

from crawler.revisit import LastRun, RevisitPlan, crawl_plan, next_check

AT = "2025-06-20T08:00:00+00:00"
SEEN = "2025-06-19T08:00:00+00:00"  # the last visit of every stored article below
STORED = "http://x.cn/a.html"


def plan(due: str | None) -> RevisitPlan:
    return RevisitPlan(AT, {}, {STORED: (due, SEEN)})


def test_the_watch_window_spaces_checks_out_then_ends() -> None:
    watch = (3600, 86400)
    assert next_check(AT, watch, 0) == "2025-06-20T09:00:00+00:00"
    assert next_check(AT, watch, 1) == "2025-06-21T08:00:00+00:00"
    assert next_check(AT, watch, 2) is None
    assert next_check(AT, (), 0) is None


def test_a_stored_article_is_skipped_until_its_check_is_due() -> None:
    later = plan("2025-06-21T00:00:00+00:00")
    assert later.skip(STORED) and later.due() == []
    due = plan("2025-06-20T07:00:00+00:00")
    assert not due.skip(STORED) and due.due() == [STORED]
    watch_over = plan(None)
    assert watch_over.skip(STORED) and watch_over.due() == []


def test_an_article_not_stored_is_wanted() -> None:
    assert not plan(None).skip("http://x.cn/b.html")


@pytest.mark.parametrize(
    ("lastmod", "wanted"),
    [
        ("2025-06-19T09:00:00Z", True),  # changed after the last visit
        ("2025-06-19T08:00:00+00:00", True),  # the same second: a 304 costs little
        ("2025-06-19T07:59:59+00:00", False),
        ("2025-06-19", True),  # a bare date is its whole day, later than a visit that day
        ("2025-06-18", False),
        ("2025-06-19T16:30:00+08:00", True),  # 08:30 UTC
        ("2025-06-19T15:30:00+08:00", False),  # 07:30 UTC
    ],
)
def test_a_sitemap_lastmod_newer_than_the_last_visit_makes_a_stored_article_wanted(
    lastmod: str, wanted: bool
) -> None:
    assert plan(None).skip(STORED, lastmod) is not wanted


VALIDATORS = {"http://x.cn/list.html": ('"etag-1"', None)}


@pytest.mark.parametrize(
    "last_run",
    [
        LastRun("running", None),  # killed
        LastRun("interrupted", None),
        LastRun("ok", "shutdown"),  # stopped by a signal
        LastRun("ok", "capped"),
    ],
)
def test_after_a_cut_off_run_the_plan_has_no_validators(last_run: LastRun) -> None:
    cut = crawl_plan(AT, VALIDATORS, {STORED: (None, SEEN)}, last_run)
    assert cut.validators == {} and cut.known == {STORED: (None, SEEN)}


@pytest.mark.parametrize("last_run", [None, LastRun("ok", "finished"), LastRun("ok", None)])
def test_after_a_whole_run_the_plan_keeps_its_validators(last_run: LastRun | None) -> None:
    assert crawl_plan(AT, VALIDATORS, {}, last_run).validators == VALIDATORS
