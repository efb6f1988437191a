"""A database that is missing, damaged, another program's, migrated by a newer newsmon,
read-only or on a full disk: every command says so in one line, exits 1 and changes nothing.
Real CLI runs, real files, real read-only and full mounts (tmpfs)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from crawler.clock import now
from crawler.db import open_db
from crawler.paths import demo_seeds
from tests.support.digest import unsent, write_config
from tests.support.disks import tmpfs
from tests.support.run import newsmon
from tests.support.smtp import Inbox

READERS = (("alerts",), ("status",), ("digest", "--dry-run"), ("serve", "--port", "9"))
WRITERS = (
    ("digest",),
    ("reclassify",),
    ("crawl", "--source", "demo", "--seeds", str(demo_seeds())),
)


def stored(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` and a hash of its bytes: what a refused command must not touch."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def refused(db_path: Path, *args: str) -> str:
    """Run ``newsmon ARGS --db db_path``; it must fail in one line; that line."""
    result = newsmon(*args, "--db", str(db_path), check=False, timeout=60)
    assert result.returncode == 1, (args, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, (
        args,
        result.stderr,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.stderr


def alert_db(db_path: Path) -> Path:
    """A current database holding one unsent alert."""
    open_db(db_path).close()
    with closing(sqlite3.connect(db_path)) as db, db:
        db.execute(
            "insert into alerts (kind, subject, title, url, created) values (?, ?, ?, ?, ?)",
            ("new_article", "story:x", "稿件 X", "http://127.0.0.1/x", now()),
        )
    return db_path


def test_a_reading_command_refuses_a_missing_database_and_creates_none(tmp_path: Path) -> None:
    for args in (*READERS, ("digest",), ("reclassify",)):
        for db_path in (tmp_path / "typo.db", tmp_path / "no" / "such" / "folder.db"):
            line = refused(db_path, *args)
            assert f"no database at {db_path} (crawl first, or check --db)" in line, args
    assert list(tmp_path.iterdir()) == []


def damaged(folder: Path) -> Iterator[tuple[str, Path]]:
    """Files that are not a usable newsmon database, by how they got so."""
    noise = folder / "noise.db"
    noise.write_bytes(os.urandom(20_000))
    yield "random bytes", noise
    whole = alert_db(folder / "whole.db")
    data = whole.read_bytes()
    truncated = folder / "truncated.db"
    truncated.write_bytes(data[: len(data) // 2])
    yield "truncated", truncated
    page = int.from_bytes(data[16:18], "big")
    overwritten = folder / "overwritten.db"
    overwritten.write_bytes(data[:page] + os.urandom(len(data) - page))
    yield "pages overwritten", overwritten
    foreign = folder / "foreign.db"
    with closing(sqlite3.connect(foreign)) as db, db:
        db.execute("create table accounts (id integer primary key, owner text)")
    yield "another program's", foreign
    whole.unlink()


def test_a_damaged_or_foreign_file_is_one_line_for_every_command(tmp_path: Path) -> None:
    for how, db_path in damaged(tmp_path):
        before = stored(tmp_path)
        for args in (*READERS, *WRITERS):
            line = refused(db_path, *args)
            assert str(db_path) in line and (
                "damaged" in line or "not a" in line or "truncated" in line
            ), (how, args, line)
        assert stored(tmp_path) == before, how


def test_a_database_from_a_newer_newsmon_is_neither_read_nor_written(tmp_path: Path) -> None:
    db_path = alert_db(tmp_path / "news.db")
    with closing(sqlite3.connect(db_path)) as db, db:
        db.execute(
            "insert into _sqlite_migrations (migration_set, name, applied_at) values (?, ?, ?)",
            ("newsmon", "m099_from_the_future", now()),
        )
    before = stored(tmp_path)
    for args in (*READERS, *WRITERS):
        line = refused(db_path, *args)
        assert "written by a newer newsmon (migration m099_from_the_future)" in line, args
    assert stored(tmp_path) == before


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of its own (100 KB over what the database needs), unmounted after."""
    folder = tmp_path / "mnt"
    with tmpfs(folder, "1m") as refused:
        if refused is not None:
            pytest.skip(f"cannot mount a tmpfs here (needs root): {refused}")
        yield folder


def test_a_read_only_database_changes_nothing_and_sends_nothing(
    mount: Path, tmp_path: Path
) -> None:
    db_path = alert_db(mount / "news.db")
    subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
    before = stored(mount)
    with Inbox() as inbox:
        config = write_config(tmp_path / "c.toml", inbox.port)
        for args in (*READERS, *WRITERS, ("digest", "--config", str(config))):
            line = refused(db_path, *args)
            assert "read-only" in line.lower() or "cannot open or write" in line, (args, line)
        assert inbox.envelopes == []
    assert stored(mount) == before


def test_a_full_disk_sends_nothing_then_the_digest_catches_up(mount: Path, tmp_path: Path) -> None:
    db_path = alert_db(mount / "news.db")
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    with Inbox() as inbox:
        config = write_config(tmp_path / "c.toml", inbox.port)
        for args in (("digest", "--config", str(config)), ("reclassify",)):
            line = refused(db_path, *args)
            assert "disk is full" in line or "No space left" in line, (args, line)
        assert inbox.envelopes == []
        filler.unlink()
        assert unsent(db_path) == 1
        sent = newsmon("digest", "--config", str(config), "--db", str(db_path))
        assert sent.stdout.startswith("sent ") and len(inbox.envelopes) == 1
    assert unsent(db_path) == 0
