"""`newsmon` run as a user runs it, each run a process of its own (Scrapy's reactor runs once
per process), and the places tests read from."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("NEWSMON_SHARED", PROJECT.parent / "shared"))
# The console script installed beside this interpreter (not resolved: a venv's python is a
# link to the system's), so runs go through the entry point a user types.
NEWSMON = Path(sys.executable).with_name("newsmon")


def newsmon_command(*args: str) -> list[str]:
    """The command line of ``newsmon ARGS``."""
    return [str(NEWSMON), *args]


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with NEWSMON_SHARED set, plus ``extra``."""
    return {**os.environ, "NEWSMON_SHARED": str(SHARED), **(extra or {})}


def spawn(
    command: list[str], env: Mapping[str, str] | None = None, **options: Any
) -> subprocess.Popen[Any]:
    """``command`` started from the checkout with :func:`environment`; ``options`` go to Popen."""
    return subprocess.Popen(command, cwd=PROJECT, env=environment(env), **options)


def start(
    command: list[str], log: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``command`` in a session of its own (as a shell starts one), its output appended to log."""
    with log.open("ab") as out:
        return spawn(command, env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def newsmon(
    *args: str,
    check: bool = True,
    timeout: float | None = 120,
    capture: bool = True,
    env: Mapping[str, str] | None = None,
    input: str | None = None,  # noqa: A002 - subprocess.run's name
) -> subprocess.CompletedProcess[str]:
    """Run ``newsmon ARGS`` to its end (``input`` on its standard input, else none); with
    ``check``, fail with its output unless it exits 0."""
    result = subprocess.run(
        newsmon_command(*args),
        cwd=PROJECT,
        env=environment(env),
        capture_output=capture,
        text=True,
        timeout=timeout,
        input=input,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"newsmon {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def free_port() -> int:
    """A loopback port that nothing listens on (until a test starts something there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
