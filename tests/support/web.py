"""newsmon's web pages read as a user reads them: `newsmon serve` on a free port, pages and
JSON over HTTP, and headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support.run import free_port, newsmon_command, spawn

CHROMIUM = shutil.which("chromium")
# Pictures tests took of pages, listed at the end of the run so that a person can look.
SCREENSHOTS: list[Path] = []
# What some of them show (tests.support.browser says), for that list.
DESCRIPTIONS: dict[Path, str] = {}


def answers(base: str, process: subprocess.Popen[Any], seconds: float) -> bool:
    """Whether the Datasette at ``base`` answers within ``seconds``, while ``process`` runs."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


@contextmanager
def served(db_path: Path) -> Iterator[str]:
    """`newsmon serve` of ``db_path`` on a free port; its base URL once it answers."""
    port = free_port()
    process = spawn(
        newsmon_command("serve", "--db", str(db_path), "--port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not answers(base, process, 30):
            if process.poll() is None:
                process.kill()
            output = process.stdout.read() if process.stdout else ""
            raise AssertionError(f"newsmon serve did not answer:\n{output}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def get(url: str) -> str:
    """The page at ``url``, which must answer 200."""
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        body: bytes = response.read()
        return body.decode("utf-8")


def get_json(url: str) -> Any:
    """The JSON at ``url``, which must answer 200."""
    return json.loads(get(url))


def chromium(*args: str, profile: Path) -> str:
    """What headless Chromium printed for ``args`` (``--dump-dom URL``, ``--screenshot``)."""
    assert CHROMIUM
    result = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout
