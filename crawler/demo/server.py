"""Serve the demo site over real HTTP on 127.0.0.1, on a free port unless told otherwise."""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

from crawler.demo.site import DemoSite, Resource, load_site


class DemoServer:
    """The demo site on a loopback port, in a background thread; use as a context manager."""

    def __init__(self, site: DemoSite | None = None, port: int = 0):
        self.site = site or load_site()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.pages: dict[str, Resource] = self.site.pages(self.url)
        # Every path asked for, in order: lets a test see what a crawler fetched (or didn't).
        self.requested: list[str] = []
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

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
            server.requested.append(self.path)
            path = urlsplit(self.path).path
            resource = server.pages.get(path)
            if resource is None:
                body = "404 页面不存在".encode()
                self.send_response(HTTPStatus.NOT_FOUND)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
            else:
                body = resource.body
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass  # a demo site that logs every request drowns the crawl's own output

    return Handler
