"""The time as newsmon stores it, for every module that stamps a row or plans a visit."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    """The current time as stored: UTC, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")
