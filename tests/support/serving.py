"""What every test server on 127.0.0.1 shares: it runs while a ``with`` block lasts; an HTTP
one answers on a free port in a thread of its own; and a small site whose pages a test gives
by path, crawled with its seeds."""

from __future__ import annotations

import contextlib
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self
from urllib.parse import urlsplit

from tests.support.run import newsmon

Handler = BaseHTTPRequestHandler


class Background(ABC):
    """A server that runs from entering a ``with`` block to leaving it."""

    @abstractmethod
    def start(self) -> None:
        """Begin to answer, in the background."""

    @abstractmethod
    def stop(self) -> None:
        """Stop answering and let the port go."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def send(
    handler: Handler, status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> None:
    """An answer of ``status`` with ``body``, its length announced unless ``headers`` do."""
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if "Content-Length" not in (headers or {}):
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: LoopbackServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a crawler hanging up on a stalled or oversized answer is no news here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        assert isinstance(self.server, QuietServer)
        # The crawler hangs up on stalled, cut and oversized answers, as it may.
        with contextlib.suppress(OSError):
            self.server.site.respond(self, urlsplit(self.path).path)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        """Quiet: the crawl's own records are what tests read."""


class LoopbackServer(Background):
    """An HTTP server on a free port of 127.0.0.1 (``url``, ending in a slash) that answers
    each GET with :meth:`respond`, in a thread of its own."""

    def __init__(self) -> None:
        self.httpd = QuietServer(self)
        self.port = self.httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @abstractmethod
    def respond(self, h: Handler, path: str) -> None:
        """Answer the GET of ``path`` (the URL's path, without its query)."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class StallingSite(LoopbackServer):
    """A site that takes every request and never answers (until it stops): a hung portal."""

    def __init__(self) -> None:
        super().__init__()
        self.stopped = threading.Event()

    def respond(self, h: Handler, path: str) -> None:
        self.stopped.wait()

    def stop(self) -> None:
        self.stopped.set()
        super().stop()


class Crawl(NamedTuple):
    db_path: Path
    seeds: Path
    output: str  # what the crawl printed, stdout then stderr


class PageSite(LoopbackServer):
    """A site whose pages :meth:`page` gives by path (text and content type; None answers
    404); ``requested`` counts the paths asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.requested: Counter[str] = Counter()

    @abstractmethod
    def page(self, path: str) -> tuple[str, str] | None:
        """The text at ``path`` and its content type, or None where there is no page."""

    def respond(self, h: Handler, path: str) -> None:
        self.requested[path] += 1
        found = self.page(path)
        if found is None:
            send(h, 404, b"not found")
        else:
            text, content_type = found
            send(h, 200, text.encode(), {"Content-Type": content_type})

    def crawl(
        self,
        folder: Path,
        seeds: str,
        *options: str,
        check: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> Crawl:
        """`newsmon crawl OPTIONS` of ``seeds`` (TOML whose ``{url}`` is this site's) into
        ``folder``/news.db, with ``env`` added to the environment."""
        seeds_path = folder / "seeds.toml"
        seeds_path.write_text(seeds.format(url=self.url), encoding="utf-8")
        db_path = folder / "news.db"
        args = ("crawl", "--db", str(db_path), "--seeds", str(seeds_path), *options)
        ran = newsmon(*args, check=check, env=env)
        return Crawl(db_path, seeds_path, ran.stdout + ran.stderr)
