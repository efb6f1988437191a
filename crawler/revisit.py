"""Revisits: which stored pages a crawl asks for again, and when an article is next due. Pure.

The store reads the rows a plan is built from (validators, known articles, the last run) and
writes the ``next_check`` these functions compute; the spider follows the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class RevisitPlan:
    """What a crawl needs to revisit a source cheaply: validators for conditional requests,
    and the articles already stored with when each is next due."""

    at: str
    validators: dict[str, tuple[str | None, str | None]]  # url: (ETag, Last-Modified)
    known: dict[str, tuple[str | None, str]]  # url: (next check or None, last seen)

    def due(self) -> list[str]:
        """The stored articles whose next check has come."""
        return [url for url, (due, _) in self.known.items() if due and due <= self.at]

    def skip(self, url: str, lastmod: str | None = None) -> bool:
        """Whether a link to ``url`` needs no request: stored, not due, not newer (sitemap)."""
        if url not in self.known:
            return False
        due, seen = self.known[url]
        # At or after the last visit: both are whole seconds, and a request that finds
        # nothing new costs a 304.
        if lastmod and _moment(lastmod) >= datetime.fromisoformat(seen):
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


def _moment(text: str) -> datetime:
    """A sitemap's lastmod as a UTC time; a bare date counts as its whole day (it may be
    later than the last visit that same day)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if len(text.strip()) <= 10:
        moment += timedelta(days=1) - timedelta(seconds=1)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
