"""Log records as single lines: a crawl's errors are read by people and by cron mail, and
every failed page is already in ``fetches``; a traceback per refused connection helps no one."""

from __future__ import annotations

import logging
import sys


class OneLineFormatter(logging.Formatter):
    """``LEVEL logger: message`` with at most the exception's own last line appended."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().strip().splitlines()
        line = message[0] if message else ""
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if str(exc) not in line:
                line = f"{line} ({detail})"
        return f"{record.levelname.lower()}: {record.name}: {line}"


def setup_logging(level: int = logging.WARNING) -> None:
    """Route all records (Scrapy's included) to stderr, one line each."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    handler.setLevel(level)
    logging.getLogger().handlers[:] = [handler]
