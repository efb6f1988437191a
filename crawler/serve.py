"""Browse a newsmon database in Datasette, read-only, with newsmon's metadata and pages."""

from __future__ import annotations

import contextlib
import errno
import shlex
import socket
from pathlib import Path

from crawler.paths import package_path

DEFAULT_PORT = 8001
# Long bodies are previews in table pages; a row page shows them whole.
SETTINGS = {
    "truncate_cells_html": "200",
    "sql_time_limit_ms": "3000",
    "default_page_size": "50",
    # Suggested facets run a query per column on every table page: seconds of each search
    # page at 50,000 articles. The facets metadata.json names are still shown.
    "suggest_facets": "off",
}


def datasette_args(db_path: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> list[str]:
    """The arguments of ``datasette`` that serve ``db_path`` as newsmon does."""
    # A database file given as an argument (not --immutable) is read through connections
    # opened with ?mode=ro: Datasette never writes to it, and in WAL mode it reads while a
    # crawl writes.
    datasette_dir = package_path("datasette")
    args = [
        "serve",
        str(db_path),
        "--host",
        host,
        "--port",
        str(port),
        "--metadata",
        str(datasette_dir / "metadata.json"),
        "--template-dir",
        str(datasette_dir / "templates"),
        "--plugins-dir",
        str(datasette_dir / "plugins"),
    ]
    for name, value in SETTINGS.items():
        args += ["--setting", name, value]
    return args


def serve_command(db_path: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
    """The command line a user runs to browse ``db_path``."""
    args = ["newsmon", "serve", "--db", str(db_path)]
    if port != DEFAULT_PORT:
        args += ["--port", str(port)]
    if host != "127.0.0.1":
        args += ["--host", host]
    return shlex.join(args)


def datasette_command(db_path: Path, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> str:
    """The same site as a plain ``datasette`` command line."""
    return shlex.join(["datasette", *datasette_args(db_path, host, port)])


class PortInUse(OSError):
    """Something else listens on the port asked for; the message names a free one."""


def _in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def check_port(host: str, port: int) -> None:
    """Raise PortInUse when ``port`` is taken, before Datasette starts: uvicorn would print
    its own lines and a traceback-like log instead of one line."""
    if not _in_use(host, port):
        return
    free = next((p for p in range(port + 1, min(port + 100, 65536)) if not _in_use(host, p)), None)
    hint = f"; try --port {free}" if free is not None else ""
    raise PortInUse(f"port {port} is in use{hint}")


def run_serve(db_path: Path, host: str, port: int) -> int:
    """Serve ``db_path`` read-only in Datasette until interrupted; the exit status."""
    from datasette.cli import cli

    check_port(host, port)
    print(f"serving {db_path} at http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        cli.main(
            args=datasette_args(db_path, host, port), prog_name="datasette", standalone_mode=False
        )
    return 0
