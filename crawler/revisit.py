"""Revisits: which stored pages a crawl asks for again, and when an article is next due. Pure.

The store reads the rows a plan is built from (validators, known articles, the last run) and
writes the ``next_check`` these functions compute; the spider follows the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class RevisitPlan:
    """What a crawl needs to revisit a source cheaply: validators for conditional requests,
    and the articles already stored with when each is next due."""

    at: str
    validators: dict[str, tuple[str | None, str | None]]  # url: (ETag, Last-Modified)
    known: dict[str, tuple[str | None, str]]  # url: (next check or None, last seen)
    # article url: its stored attachments (url, name), asked for again when the page is
    # unchanged (304): a portal replaces a PDF without touching the page that links it.
    attachments: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def due(self) -> list[str]:
        """The stored articles whose next check has come."""
        return [url for url, (due, _) in self.known.items() if due and due <= self.at]

    def skip(self, url: str, lastmod: str | None = None) -> bool:
        """Whether a link to ``url`` needs no request: stored, not due, not newer (sitemap)."""
        if url not in self.known:
            return False
        due, seen = self.known[url]
        # At or after the last visit: both are whole seconds, and a request that finds
        # nothing new costs a 304. A lastmod not understood counts as none.
        moment = lastmod_moment(lastmod) if lastmod else None
        if moment is not None and moment >= datetime.fromisoformat(seen):
            return False
        return not (due and due <= self.at)


@dataclass(frozen=True)
class LastRun:
    """How a source's last run that read anything ended, as its row in crawl_runs says."""

    status: str  # running, interrupted or ok (failed runs read nothing)
    finish_reason: str | None


def crawl_plan(
    at: str,
    validators: dict[str, tuple[str | None, str | None]],
    known: dict[str, tuple[str | None, str]],
    last_run: LastRun | None,
) -> RevisitPlan:
    """The revisit plan of a crawl at ``at``. After a run that was cut short it has no
    validators: that run stored the ETags of listings whose links it never followed, and
    asked conditionally they would answer 304 and hide those articles until the listing
    changes. So the next run asks for everything."""
    cut_short = last_run is not None and cut_off(last_run)
    return RevisitPlan(at, {} if cut_short else validators, known)


def cut_off(run: LastRun) -> bool:
    """Whether a run stopped before it had followed every link it found: killed (still
    'running', or 'interrupted'), stopped by a signal, or capped."""
    return run.status in ("running", "interrupted") or run.finish_reason not in (None, "finished")


def next_check(moment: str, watch: tuple[int, ...], checks: int) -> str | None:
    """When the next check of an article checked ``checks`` times since it changed falls due
    (``watch`` is the seconds between checks), or None when its watch is over."""
    if checks >= len(watch):
        return None
    when = datetime.fromisoformat(moment) + timedelta(seconds=watch[checks])
    return when.isoformat(timespec="seconds")


# The forms sites write in place of the W3C datetime the sitemap protocol asks for: year first
# with any separator (2024/05/31, 2024-5-31 8:00, 2024年5月31日) or day first (31.05.2024).
# A handful of patterns, not dateparser: it reads "5 minutes" as a time relative to now, and at
# 1.2 ms a value (7 µs here) a sitemap of 50,000 entries would spend a minute in it.
_TIME = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?"
_YEAR_FIRST = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?" + _TIME)
_DAY_FIRST = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})" + _TIME)


def lastmod_moment(text: str) -> datetime | None:
    """A sitemap's lastmod as a UTC time, or None when it is not a date. A bare date counts
    as its whole day (it may be later than the last visit that same day); a time without a
    zone is UTC."""
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        whole_day = len(text) <= 10
    except ValueError:
        try:
            moment = _lenient(text) or parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        whole_day = moment.hour == moment.minute == moment.second == 0 and ":" not in text
    if whole_day:
        moment += timedelta(days=1) - timedelta(seconds=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _lenient(text: str) -> datetime | None:
    """``text`` in one of the year-first or day-first forms above, or None. A day-first date
    whose day and month could be either (05/06/2024) is the later of the two: a lastmod read
    too late costs a 304, one read too early hides a change."""
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day, *clock = match.groups()
        return _at(int(year), int(month), int(day), clock)
    if match := _DAY_FIRST.fullmatch(text):
        first, second, year, *clock = match.groups()
        readings = [(int(second), int(first)), (int(first), int(second))]
        moments = []
        for month, day in readings:
            try:
                moments.append(_at(int(year), month, day, clock))
            except ValueError:
                continue
        if not moments:
            raise ValueError(f"not a date: {text}")
        return max(moments)
    return None


def _at(year: int, month: int, day: int, clock: list[str | None]) -> datetime:
    """The moment of a date and the (hour, minute, second, zone) matched after it, if any."""
    hour, minute, second, zone = clock
    moment = datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0))
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return moment.replace(tzinfo=timezone(sign * offset))
    return moment.replace(tzinfo=UTC) if zone else moment
