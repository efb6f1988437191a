"""A digest owes every alert not yet sent: none is dropped for its age, the settings file's
[digest] since counts, and one --to is one address. Real CLI runs, a real SMTP server."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.db import open_db
from tests.support.digest import unsent, write_config
from tests.support.run import free_port, newsmon
from tests.support.smtp import Inbox


def add_alert(db_path: Path, token: str, days_ago: float) -> None:
    """A new-article alert raised ``days_ago`` days ago, as a crawl stores it."""
    created = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(timespec="seconds")
    with closing(sqlite3.connect(db_path)) as db, db:
        db.execute(
            "insert into alerts (kind, subject, title, url, created) values (?, ?, ?, ?, ?)",
            (
                "new_article",
                f"story:{token}",
                f"稿件 {token}",
                f"http://127.0.0.1/{token}",
                created,
            ),
        )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    open_db(path).close()
    return path


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox() as handler:
        yield handler


def test_alerts_left_over_from_days_of_smtp_down_all_go_in_the_next_digest(
    db_path: Path, inbox: Inbox, tmp_path: Path
) -> None:
    down = write_config(tmp_path / "down.toml", free_port())
    add_alert(db_path, "OLD-3D", 3)
    failed = newsmon("digest", "--db", str(db_path), "--config", str(down), check=False)
    assert failed.returncode == 1 and unsent(db_path) == 1
    add_alert(db_path, "NEW-1H", 1 / 24)
    config = write_config(tmp_path / "up.toml", inbox.port)
    # The cron line names a day; what is owed from before still goes.
    sent = newsmon("digest", "--since", "1d", "--db", str(db_path), "--config", str(config))
    assert sent.stdout.startswith("sent ") and "新文章 2" in sent.stdout
    [message] = inbox.messages()
    body = message.get_body(("plain",))
    assert body is not None and "OLD-3D" in body.get_content() and "NEW-1H" in body.get_content()
    assert unsent(db_path) == 0
    again = newsmon("digest", "--db", str(db_path), "--config", str(config))
    assert again.stdout.startswith("nothing new") and len(inbox.envelopes) == 1


def test_a_file_digest_also_holds_every_owed_alert(db_path: Path, tmp_path: Path) -> None:
    add_alert(db_path, "OLD-40D", 40)
    out = tmp_path / "digest.html"
    newsmon("digest", "--since", "1h", "--out", str(out), "--db", str(db_path))
    assert "OLD-40D" in out.read_text(encoding="utf-8") and unsent(db_path) == 0


def test_the_settings_since_narrows_a_dry_run_unless_the_option_is_given(
    db_path: Path, tmp_path: Path
) -> None:
    add_alert(db_path, "TEN-DAYS", 10)
    add_alert(db_path, "FORTY-DAYS", 40)
    config = write_config(tmp_path / "c.toml", 25, 'since = "30d"')
    preview = newsmon("digest", "--dry-run", "--db", str(db_path), "--config", str(config))
    assert "新文章 1 " in preview.stdout
    narrower = newsmon(
        "digest", "--dry-run", "--since", "1d", "--db", str(db_path), "--config", str(config)
    )
    assert narrower.stdout.startswith("nothing new since")
    everything = write_config(tmp_path / "all.toml", 25)
    preview = newsmon("digest", "--dry-run", "--db", str(db_path), "--config", str(everything))
    assert "新文章 2 " in preview.stdout and unsent(db_path) == 2


def test_a_bad_since_in_the_settings_is_one_line(db_path: Path, tmp_path: Path) -> None:
    add_alert(db_path, "ANY", 0)
    config = write_config(tmp_path / "c.toml", 25, 'since = "yesterday"')
    result = newsmon(
        "digest", "--dry-run", "--db", str(db_path), "--config", str(config), check=False
    )
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "[digest] since must look like 1w, 1d, 12h or 30m" in result.stderr


LISTS = (
    "a@example.cn, b@example.cn",
    "a@example.cn;b@example.cn",
    "<a@example.cn> <b@example.cn>",
    "Team <a@example.cn>, b@example.cn",
    "a@example.cn b@example.cn",
    "a @example.cn",
    "a@example.cn\r\nBcc: b@example.cn",
    "a@example.cn\nb@example.cn",
)


def test_one_to_is_one_address_and_a_list_sends_nothing(
    db_path: Path, inbox: Inbox, tmp_path: Path
) -> None:
    add_alert(db_path, "ANY", 0)
    config = write_config(tmp_path / "c.toml", inbox.port)
    for value in LISTS:
        result = newsmon(
            "digest", "--to", value, "--db", str(db_path), "--config", str(config), check=False
        )
        assert result.returncode == 1 and result.stderr.count("\n") == 1, value
        assert "--to: not an email address (one per value" in result.stderr, value
        listed = write_config(tmp_path / "l.toml", inbox.port, to=f"[{value!r}]".replace("'", '"'))
        result = newsmon("digest", "--db", str(db_path), "--config", str(listed), check=False)
        assert result.returncode == 1 and "[smtp] to: not an email address" in result.stderr
    assert inbox.envelopes == [] and unsent(db_path) == 1
    named = newsmon(
        "digest", "--to", "分析员 <a@example.cn>", "--db", str(db_path), "--config", str(config)
    )
    assert named.stdout.startswith("sent ") and len(inbox.envelopes) == 1
    assert inbox.envelopes[0].rcpt_tos == ["a@example.cn"]
