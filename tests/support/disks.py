"""Disks of a test's own: a small tmpfs, for databases on a full or read-only disk."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[str | None]:
    """A tmpfs of ``size`` mounted at ``folder`` (made here) while the block lasts; yields None
    once mounted, or why it could not be (mounting needs root)."""
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield mounted.stderr.strip() or f"mount exited {mounted.returncode}"
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)
