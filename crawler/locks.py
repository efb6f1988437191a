"""Advisory locks in files beside the database: one crawl of a source at a time and one digest
run at a time, whoever started them (cron, the daemon, a person at a terminal).

The kernel drops a ``flock`` when its process dies, ``kill -9`` included, so a lock is never
left behind by a crash. The holder writes its pid into the file for the message of whoever
finds the lock taken. The files are not removed: removing one while another process waits on
it would let a third lock a new file of the same name.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class FileLock:
    """An exclusive lock held on an open file until :meth:`release` or the process ends."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd = fd

    def release(self) -> None:
        os.close(self.fd)  # closing the only descriptor releases the flock


def lock_path(db_path: str | Path, name: str) -> Path:
    """``<db>-<name>.lock`` beside the database (named like SQLite's ``-wal`` and ``-shm``),
    whichever path or symlink named the database."""
    path = Path(db_path).resolve()
    return path.with_name(f"{path.name}-{name}.lock")


def try_lock(path: Path) -> FileLock | None:
    """The lock on ``path`` if no other process holds it, else None; never waits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return FileLock(path, fd)


def holder(path: Path) -> str:
    """Who holds the lock on ``path``, for a message: ``pid 1234`` or ``another process``."""
    try:
        pid = path.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    # The holder writes its pid just after it got the lock: the file may still be empty.
    return f"pid {pid}" if pid.isdigit() else "another process"
