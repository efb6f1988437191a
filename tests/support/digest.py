"""Digests as the digest tests send them: a settings file, a run, and what arrived."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.reporters import run_digest


def write_config(
    path: Path, port: int, extra: str = "", to: str = '["analyst@example.cn"]'
) -> Path:
    """Settings that send to the SMTP server on ``port``, with ``extra`` lines in [digest]."""
    path.write_text(
        f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "新闻监测 <newsmon@example.cn>"
to = {to}
timeout = 5

[digest]
subject_prefix = "[政策日报]"
{extra}
""",
        encoding="utf-8",
    )
    return path


def digest(db_path: Path, config: Path, **kw: Any) -> str:
    """A digest run in this process, as `newsmon digest` runs it; its summary line."""
    return run_digest(
        db_path,
        kw.get("since", "1d"),
        kw.get("to", ()),
        kw.get("out"),
        kw.get("dry_run", False),
        config,
    )


def unsent(db_path: Path) -> int:
    """How many alerts no digest has sent yet."""
    return int(
        next(Database(db_path).query("select count(*) n from alerts where sent_at is null"))["n"]
    )


def bodies(message: EmailMessage) -> tuple[str, str]:
    """A digest's plain text and HTML."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()
