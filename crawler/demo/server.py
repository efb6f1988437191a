"""Serve the demo site over real HTTP on 127.0.0.1, on a free port unless told otherwise.

It answers conditional requests (ETag, Last-Modified) as a well-run news site does, so that
revisits can be cheap, and counts what it was asked and what it sent.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from crawler.demo.site import DemoSite, Resource, load_site


@dataclass(frozen=True)
class Served:
    """A resource with its validators."""

    resource: Resource
    etag: str
    modified: datetime


class DemoServer:
    """The demo site on a loopback port, in a background thread; use as a context manager."""

    def __init__(self, site: DemoSite | None = None, port: int = 0):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.pages: dict[str, Served] = {}
        # Every path asked for, in order, and the bytes sent: what a crawler cost the site.
        self.requested: list[str] = []
        self.bytes_sent = 0
        self.lock = threading.Lock()
        self.update(site or load_site())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def update(self, site: DemoSite) -> None:
        """Serve ``site`` from now on; pages whose bytes changed get a new Last-Modified."""
        self.site = site
        # HTTP dates have whole seconds: a page changed now must compare as newer.
        at = datetime.now(UTC).replace(microsecond=0)
        pages = {}
        for path, resource in site.pages(self.url).items():
            etag = '"' + hashlib.sha1(resource.body).hexdigest()[:16] + '"'
            before = self.pages.get(path)
            modified = before.modified if before is not None and before.etag == etag else at
            pages[path] = Served(resource, etag, modified)
        self.pages = pages

    def start(self) -> DemoServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _handler(server: DemoServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "newsmon-demo/1"

        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            self._respond(with_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._respond(with_body=False)

        def _respond(self, with_body: bool) -> None:
            served = server.pages.get(urlsplit(self.path).path)
            if served is None:
                self._send(
                    HTTPStatus.NOT_FOUND,
                    "404 页面不存在".encode(),
                    with_body,
                    {"Content-Type": "text/plain; charset=utf-8"},
                )
                return
            headers = {
                "ETag": served.etag,
                "Last-Modified": format_datetime(served.modified, usegmt=True),
            }
            if self._not_modified(served):
                self._send(HTTPStatus.NOT_MODIFIED, b"", False, headers)
                return
            headers["Content-Type"] = served.resource.content_type
            self._send(HTTPStatus.OK, served.resource.body, with_body, headers)

        def _not_modified(self, served: Served) -> bool:
            if etags := self.headers.get("If-None-Match"):
                return served.etag in (tag.strip() for tag in etags.split(","))
            if since := self.headers.get("If-Modified-Since"):
                try:
                    return served.modified <= parsedate_to_datetime(since)
                except (TypeError, ValueError):
                    return False
            return False

        def _send(
            self, status: HTTPStatus, body: bytes, with_body: bool, headers: dict[str, str]
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != HTTPStatus.NOT_MODIFIED:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)
            with server.lock:
                server.requested.append(self.path)
                server.bytes_sent += len(body) if with_body else 0

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # a demo site that logs every request drowns the crawl's own output

    return Handler
