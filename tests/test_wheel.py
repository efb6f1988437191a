"""The wheel is the program: installed into a venv outside the checkout, newsmon runs from an
empty directory (`newsmon demo`, then `newsmon serve` of what it stored)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlite_utils import Database

from crawler import paths
from crawler.demo.site import load_site, load_updates
from crawler.sources import load_sources
from tests.support.run import PROJECT, free_port

# What the wheel is built from; anything else the build needs must be listed in pyproject.toml.
SOURCES = ("pyproject.toml", "README.md", "crawler")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a command to completion; its output, or a failure showing it."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the checkout (setuptools leaves build/ and egg-info beside the
    sources, and a stale build/ in the checkout would be packed too)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (PROJECT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(PROJECT / name, source / name, ignore=ignore)
        else:
            shutil.copy2(PROJECT / name, source / name)
    dist = tmp_path / "dist"
    pip = (sys.executable, "-m", "pip")
    run(
        *pip,
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        dist,
        source,
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("newsmon-*.whl")
    return wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A new venv with the wheel installed; the dependencies are this venv's, seen through a
    .pth line. A line adds a folder to sys.path without running that folder's own .pth files,
    so the editable install of the checkout in this venv stays out of the new one."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--no-deps",
        "--no-index",
        wheel,
        cwd=tmp_path,
    )
    site = Path(
        run(
            python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path
        ).strip()
    )
    (site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return str(response.read().decode("utf-8"))


def test_the_installed_wheel_runs_the_demo_and_serves_it_from_anywhere(tmp_path: Path) -> None:
    venv = fresh_venv(tmp_path, build_wheel(tmp_path))
    bin_dir = venv / "bin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("NEWSMON_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    imported = run(
        bin_dir / "python", "-c", "import crawler; print(crawler.__file__)", cwd=elsewhere, env=env
    )
    assert Path(imported.strip()).is_relative_to(venv), imported

    shipped = load_sources([paths.shipped_seeds()])
    checked = run(bin_dir / "newsmon", "sources", "--check", cwd=elsewhere, env=env)
    assert checked == f"ok: {len(shipped)} sources in {len({s.file for s in shipped})} files\n"

    out = run(bin_dir / "newsmon", "demo", cwd=elsewhere, env=env)
    db_path = elsewhere / "db" / "demo.db"
    assert f"newsmon serve --db {Path('db/demo.db')}" in out
    site = load_site().updated(load_updates(), "2025-07-01T00:00:00+00:00")
    public = [a for a in site.articles if a.linked_from != ("private",)]
    assert Database(db_path)["articles"].count == len(public) + len(site.documents)

    port = free_port()
    serve = subprocess.Popen(
        [bin_dir / "newsmon", "serve", "--db", db_path, "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = get(f"http://127.0.0.1:{port}/demo/articles")
                break
            except (urllib.error.URLError, ConnectionError):
                assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.3)
        assert any(a.title in page for a in public)
        # the package's Datasette metadata and plugin, not the checkout's
        assert "newsmon: Chinese regional policy news" in get(f"http://127.0.0.1:{port}/")
        assert "newsmon_pages.py" in get(f"http://127.0.0.1:{port}/-/plugins.json")
    finally:
        serve.terminate()
        serve.communicate(timeout=30)
