"""Periods people type into a query (本月, this month, 2025-06, 2025-06-01..2025-06-30, 7d) as
the bounds of stored times. Calendar periods are Beijing's: 本月 starts at midnight in China."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from crawler.reporters.render import parse_since

BEIJING = timezone(timedelta(hours=8))
NAMED = {
    "today": "today", "今天": "today", "今日": "today",
    "this week": "week", "本周": "week",
    "this month": "month", "本月": "month",
    "last month": "last month", "上月": "last month", "上个月": "last month",
    "this year": "year", "今年": "year",
}  # fmt: skip
DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """Text that names no period; the message says what would."""


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _calendar(text: str, today: date) -> tuple[date, date]:
    """The first day of the period ``text`` names and the first day after it."""
    named = NAMED.get(text.lower())
    if named == "today":
        return today, today + timedelta(days=1)
    if named == "week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=7)
    if named == "month":
        start = today.replace(day=1)
        return start, _month_after(start)
    if named == "last month":
        end = today.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end
    if named == "year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    try:
        if found := DAY.match(text):
            start = date(*map(int, found.groups()))
            return start, start + timedelta(days=1)
        if found := MONTH.match(text):
            start = date(int(found[1]), int(found[2]), 1)
            return start, _month_after(start)
        if found := YEAR.match(text):
            return date(int(found[1]), 1, 1), date(int(found[1]) + 1, 1, 1)
    except ValueError:
        pass
    raise PeriodError(
        f"period must look like 本月, this month, last month, 本周, today, 2025-06,"
        f" 2025-06-01, 2025-06-01..2025-06-30 or 7d, not {text!r}"
    )


def period_bounds(text: str | None, at: datetime | None = None) -> tuple[datetime, datetime] | None:
    """The start (inclusive) and end (exclusive) of the period ``text`` names, or None for
    an empty one (no bound)."""
    text = " ".join((text or "").split())
    if not text:
        return None
    at = at or datetime.now(UTC)
    if text[-1] in "wdhm" and text[:-1].isdigit():
        return at - parse_since(text), at + timedelta(seconds=1)
    today = at.astimezone(BEIJING).date()
    first, _, last = text.partition("..")
    start, end = _calendar(first.strip(), today)
    if last:
        end = _calendar(last.strip(), today)[1]
    return (
        datetime.combine(start, datetime.min.time(), BEIJING),
        datetime.combine(end, datetime.min.time(), BEIJING),
    )


def period_bound(text: str | None, side: str, at: datetime | None = None) -> str:
    """One bound of ``text``'s period as stored times compare with it: ``start`` and ``end``
    as ISO times in UTC (first_seen, created), ``start_day`` and ``end_day`` as dates in
    Beijing (a policy's 成文日期, a page's publication date); '' for no period."""
    bounds = period_bounds(text, at)
    if bounds is None:
        return "" if side.startswith("start") else "9999"
    moment = bounds[0] if side.startswith("start") else bounds[1]
    if side.endswith("_day"):
        return moment.astimezone(BEIJING).date().isoformat()
    return moment.astimezone(UTC).isoformat(timespec="seconds")
