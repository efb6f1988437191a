"""The time as newsmon stores it, and the durations people write ("30m", "6h", "1d", "1w"),
for every module that stamps a row, plans a visit or looks back."""

from __future__ import annotations

import re
from datetime import UTC, datetime

DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def now() -> str:
    """The current time as stored: UTC, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def duration_seconds(text: str) -> int:
    """Seconds in a duration such as "30m", "6h", "1d" or "1w"; ValueError for anything else."""
    match = DURATION.match(text)
    if match is None:
        raise ValueError(f"bad interval {text!r}")
    number, unit = match.groups()
    return int(number) * UNIT_SECONDS[unit]
