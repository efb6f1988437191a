"""Reading the files a user names (seeds, settings, taxonomies) without waiting for ever."""

from __future__ import annotations

import stat
from pathlib import Path


class NotAFile(OSError):
    """A path that names no regular file: a FIFO, a socket, a directory, a dangling link."""


def not_a_file(path: Path) -> str | None:
    """Why ``path`` is not a regular file to read, or None: opening a FIFO for reading would
    wait for a writer for ever, and a directory or a dangling link cannot be read at all."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "a link to nothing" if path.is_symlink() else "no such file"
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))
    return next((f"{kind}, not a file" for test, kind in kinds if test(mode)), "not a regular file")


def read_text(path: Path) -> str:
    """The UTF-8 text of the file at ``path``; NotAFile when it is none (checked before it is
    opened), OSError or UnicodeDecodeError when it cannot be read."""
    problem = not_a_file(path)
    if problem is not None:
        raise NotAFile(problem)
    return path.read_text(encoding="utf-8")
