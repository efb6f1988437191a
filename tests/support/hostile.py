"""A news site on 127.0.0.1 that goes bad: every way a page can fail, each at its own URL.

In its first life every article URL serves a sound article; once ``hostile`` is set, each
serves its case instead (a charset trick, a binary body, a redirect loop, a stall …). A crawl
before and a crawl after show what a monitor must do: record each failure as one line, carry
on with the rest, and lose nothing it stored before.
"""

from __future__ import annotations

import gzip
import socket
import struct
import subprocess
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import opencc
from sqlite_utils import Database

from crawler.demo.site import DemoArticle, load_site
from tests.support.run import newsmon
from tests.support.serving import Handler, LoopbackServer, send

MB = 1024 * 1024
# Seconds a stalled response waits: longer than the source's timeout below.
STALL_SECONDS = 4

SEEDS = r"""
[[source]]
id = "hostile"
name = "a site gone bad"
base_url = "{url}"
lists = ["/", "/trap/", "/binary-list/"]
feeds = ["/rss.xml"]
sitemaps = ["/sitemap.xml"]
article_urls = ['^/a/']
list_urls = ['^/trap/']
max_list_pages = 3
# Hosts the redirect cases lead to, declared the source's own: the address guard, not the
# offsite filter, must stop them.
allowed_domains = ["127.0.0.1", "localhost", "169.254.169.254"]
private_hosts = ["127.0.0.1"]
watch = ["1s", "1s", "1s"]
delay = 0
concurrency = 8
timeout = 2

[[source]]
id = "calendar"
name = "an endless calendar"
base_url = "{url}"
lists = ["/cal/2026-11-22"]
article_urls = ['^/a/']
list_urls = ['^/cal/']
max_list_pages = 1000
max_pages = 40
private_hosts = ["127.0.0.1"]
delay = 0
concurrency = 8
"""

MALFORMED_LINKS = (
    "http://[::1",
    "http://exa mple.com/a/x.html",
    "http://127.0.0.1:99999/a/port.html",
    "javascript:void(0)",
    "mailto:editor@example.com",
    "//",
    "http://",
    "/a/" + "x" * 5000 + ".html?" + "q=1&" * 500,
    "\x00/a/nul.html",
)


def article_html(article: DemoArticle, charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    paragraphs = "\n".join(f"<p>{escape(p.removeprefix('## '))}</p>" for p in article.paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{escape(article.title)}</title></head>"
        f"<body><div class='nav'><a href='/'>首页</a></div><article><h1>{escape(article.title)}"
        f"</h1><div class='info'>{article.published} 来源：{article.outlet}</div>"
        f"{paragraphs}</article></body></html>"
    )


Respond = Callable[[Handler, DemoArticle], None]


@dataclass(frozen=True)
class Case:
    """One way a page goes bad, at ``/a/<name>.html``."""

    name: str
    # "unchanged": the same article in other bytes; "stored": a new article kept whole or in
    # part; anything else: the start of the one-line error its fetch records.
    expect: str
    respond: Respond
    before: bool = True  # served sound in the site's first life

    @property
    def path(self) -> str:
        return f"/a/{self.name}.html"


def sound(h: Handler, a: DemoArticle) -> None:
    send(h, 200, article_html(a).encode(), {"Content-Type": "text/html; charset=utf-8"})


def html(body: bytes, charset: str | None = None) -> Respond:
    content_type = "text/html" + (f"; charset={charset}" if charset else "")
    return lambda h, a: send(h, 200, body, {"Content-Type": content_type})


def encoded(codec: str, meta: str | None, header: str | None, traditional: bool = False) -> Respond:
    def respond(h: Handler, a: DemoArticle) -> None:
        page = article_html(a, meta)
        if traditional:
            page = to_traditional(page)
        content_type = "text/html" + (f"; charset={header}" if header else "")
        send(h, 200, page.encode(codec), {"Content-Type": content_type})

    return respond


def to_traditional(text: str) -> str:
    # Taiwan's standard forms: Big5 has 為, not the 爲 that plain s2t writes.
    return str(opencc.OpenCC("s2tw").convert(text))


def truncated(h: Handler, a: DemoArticle) -> None:
    page = article_html(a).encode()
    send(h, 200, page[: len(page) * 3 // 5], {"Content-Type": "text/html; charset=utf-8"})


def with_rare_characters(h: Handler, a: DemoArticle) -> None:
    # 𠮷 and 𫟦 exist in GB18030 only as four-byte sequences: GBK cannot say them.
    page = article_html(a, "gb18030").replace("</h1>", "</h1><p>参会企业：𠮷野科技、𫟦源智能。</p>")
    send(h, 200, page.encode("gb18030"), {"Content-Type": "text/html"})


def binary(content_type: str, head: bytes) -> Respond:
    body = head + bytes(range(256)) * 64
    return lambda h, a: send(h, 200, body, {"Content-Type": content_type})


def huge(announced: bool) -> Respond:
    def respond(h: Handler, a: DemoArticle) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        if announced:
            h.send_header("Content-Length", str(50 * MB))
        else:
            h.close_connection = True
        h.end_headers()
        chunk = b"<p>" + "填充".encode() * 20_000 + b"</p>"
        sent = 0
        try:
            while sent < 50 * MB:
                h.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the crawler hung up, as it should

    return respond


@cache
def gzip_bomb() -> bytes:
    """200 MB of spaces in about 200 KB of gzip."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * MB
    return b"".join(packer.compress(block) for _ in range(200)) + packer.flush()


def bomb(h: Handler, a: DemoArticle) -> None:
    send(h, 200, gzip_bomb(), {"Content-Type": "text/html", "Content-Encoding": "gzip"})


def redirect(to: Callable[[Handler], str]) -> Respond:
    return lambda h, a: send(h, 302, b"", {"Location": to(h)})


def redirect_hops(h: Handler, a: DemoArticle, hops: int) -> None:
    query = urlsplit(h.path).query
    hop = int(query.removeprefix("hop=")) if query else 0
    path = urlsplit(h.path).path
    if hop < hops:
        send(h, 302, b"", {"Location": f"{path}?hop={hop + 1}"})
    else:
        sound(h, a)


def refresh(to: Callable[[Handler], str]) -> Respond:
    """A page whose <meta http-equiv="refresh"> sends the browser to ``to``."""

    def respond(h: Handler, a: DemoArticle) -> None:
        meta = f'<meta http-equiv="refresh" content="0; url={escape(to(h))}">'
        page = f"<html><head>{meta}</head><body>moved</body></html>".encode()
        send(h, 200, page, {"Content-Type": "text/html; charset=utf-8"})

    return respond


def back_and_forth(path: str) -> Callable[[Handler], str]:
    """``path?b=1`` from ``path``, and back: a loop of two pages."""
    return lambda h: path if "b=1" in h.path else f"{path}?b=1"


def status(code: int, headers: dict[str, str] | None = None) -> Respond:
    return lambda h, a: send(h, code, f"{code}".encode(), headers)


def stall(h: Handler, a: DemoArticle) -> None:
    time.sleep(STALL_SECONDS)


def reset(h: Handler, a: DemoArticle) -> None:
    # SO_LINGER with a zero timeout: close() sends a TCP RST, as a crashing server does.
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.close_connection = True


def cut_short(h: Handler, a: DemoArticle) -> None:
    body = article_html(a).encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body) * 2))
    h.end_headers()
    h.wfile.write(body[:500])
    h.close_connection = True


def cut_mid_body(h: Handler, a: DemoArticle) -> None:
    # Content-Length 5000, 2000 bytes, then the connection closes.
    body = (article_html(a) + "<!-- " + "x" * 5000 + " -->").encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", "5000")
    h.end_headers()
    h.wfile.write(body[:2000])
    h.close_connection = True


def chunked_cut(h: Handler, a: DemoArticle) -> None:
    body = article_html(a).encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    half = body[: len(body) // 2]
    h.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")
    h.close_connection = True  # no last chunk: the body never ends


def gzip_cut(h: Handler, a: DemoArticle) -> None:
    packed = gzip.compress(article_html(a).encode())
    # The length announced is the length sent: only the stream itself shows it is cut.
    send(
        h,
        200,
        packed[: len(packed) * 3 // 5],
        {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
    )


def html_cut(h: Handler, a: DemoArticle) -> None:
    page = article_html(a).encode()
    send(h, 200, page[: len(page) * 45 // 100], {"Content-Type": "text/html; charset=utf-8"})


def bad_bytes(h: Handler, a: DemoArticle) -> None:
    page = bytearray(article_html(a).encode())
    for i in range(page.index(b"</h1>"), len(page), 200):
        page[i] = 0xFF
    send(h, 200, bytes(page), {"Content-Type": "text/html; charset=utf-8"})


def maintenance(h: Handler, a: DemoArticle) -> None:
    page = "<html><head><title>系统维护</title></head><body><p>系统维护中，请稍后访问。</p></body>"
    send(h, 200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})


def elsewhere(host: str, path: str = "/a/sound.html") -> Callable[[Handler], str]:
    return lambda h: f"http://{host}:{h.server.server_port}{path}"


CASES = (
    Case("sound", "unchanged", sound),
    Case("truncated", "stored", truncated, before=False),
    Case("no-charset", "unchanged", encoded("gbk", None, None)),
    Case("wrong-charset", "unchanged", encoded("gbk", "utf-8", "iso-8859-1")),
    Case("gb18030", "stored", with_rare_characters, before=False),
    Case("big5", "stored", encoded("big5hkscs", "big5", None, traditional=True), before=False),
    Case("utf16-bom", "unchanged", encoded("utf-16", None, None)),
    Case("utf16-header", "unchanged", encoded("utf-16-le", None, "utf-16le")),
    Case("pdf", "not a web page: a PDF document", binary("application/pdf", b"%PDF-1.7\n")),
    Case("png", "not a web page: a PNG image", binary("image/png", b"\x89PNG\r\n\x1a\n")),
    Case("zip-as-html", "not a web page: a zip archive", binary("text/html", b"PK\x03\x04")),
    Case("empty", "not a web page: an empty response", html(b"")),
    Case("huge", "response over the size cap", huge(announced=True)),
    Case("huge-unannounced", "response over the size cap", huge(announced=False)),
    Case("gzip-bomb", "response over the size cap once unpacked", bomb),
    Case(
        "redirect-loop",
        "redirect loop",
        lambda h, a: (
            send(h, 302, b"", {"Location": "/a/redirect-loop.html?again=1"})
            if "again" not in h.path
            else send(h, 301, b"", {"Location": "/a/redirect-loop.html"})
        ),
    ),
    Case("redirect-self", "redirect loop", redirect(lambda h: "/a/redirect-self.html")),
    Case("refresh-self", "redirect loop", refresh(lambda h: "/a/refresh-self.html")),
    Case("refresh-loop", "redirect loop", refresh(back_and_forth("/a/refresh-loop.html"))),
    Case(
        "redirect-to-known",
        "redirected to http://127.0.0.1",
        redirect(lambda h: "/a/sound.html"),
    ),
    Case(
        "refresh-offsite",
        "redirected off the source's domains",
        refresh(elsewhere("example.com", "/a/refreshed.html")),
    ),
    Case("redirect-chain", "stored", lambda h, a: redirect_hops(h, a, 3), before=False),
    Case("redirect-endless", "too many redirects", lambda h, a: redirect_hops(h, a, 10)),
    Case("gone-404", "HTTP 404", status(404)),
    Case("gone-410", "HTTP 410", status(410)),
    Case("error-500", "HTTP 500", status(500)),
    Case("busy-503", "HTTP 503, asked to come back after 120", status(503, {"Retry-After": "120"})),
    Case("stall", "timed out", stall),
    Case("reset", "connection", reset),
    Case("cut-short", "connection lost before the response was complete", cut_short),
    Case(
        "to-localhost", "refused: localhost resolves to 127.0.0.1", redirect(elsewhere("localhost"))
    ),
    Case(
        "to-metadata",
        "refused: 169.254.169.254 is a cloud metadata address",
        redirect(lambda h: "http://169.254.169.254/latest/meta-data/"),
    ),
    Case(
        "to-offsite",
        "redirected off the source's domains, to example.com",
        redirect(elsewhere("example.com")),
    ),
    Case("robots-forbidden", "Forbidden by robots.txt", sound, before=False),
    Case("cut-mid-body", "connection lost before the response was complete", cut_mid_body),
    Case("chunked-cut", "connection lost before the response was complete", chunked_cut),
    Case("gzip-cut", "gzip stream cut short", gzip_cut),
    Case("html-cut", "suspect: ", html_cut),
    Case("bad-bytes", "suspect: ", bad_bytes),
    Case("maintenance", "suspect: no article in the page any more", maintenance),
)
ROBOTS_TXT = b"User-agent: *\nDisallow: /a/robots-forbidden.html\n"


class HostileSite(LoopbackServer):
    """The site on a loopback port, in a background thread; use as a context manager."""

    def __init__(self) -> None:
        super().__init__()
        self.hostile = False
        self.requested: Counter[str] = Counter()  # paths (without query) asked for
        self.lock = threading.Lock()
        plain = [a for a in load_site().articles if a.encoding == "utf-8" and not a.garbled]
        self.articles = {case.name: plain[i % len(plain)] for i, case in enumerate(CASES)}

    def seeds(self) -> str:
        return SEEDS.format(url=self.url)

    def cases(self) -> list[Case]:
        """The cases the site serves in its current life."""
        return [c for c in CASES if self.hostile or c.before]

    def index(self) -> bytes:
        links = [*MALFORMED_LINKS, *(c.path for c in self.cases())]
        items = "\n".join(
            f'<li><a href="{escape(link)}">{i}</a></li>' for i, link in enumerate(links)
        )
        return f"<html><body><ul>{items}</ul></body></html>".encode()

    def respond(self, h: Handler, path: str) -> None:
        with self.lock:
            self.requested[path] += 1
        page = {
            "/": lambda: html(self.index(), "utf-8"),
            "/robots.txt": lambda: lambda h, a: send(h, 200, ROBOTS_TXT),
            "/trap/": lambda: html(b'<a href="more/">more</a>'),
            "/rss.xml": lambda: html(b"<rss><channel><item><link>/a/from-feed.ht"),
            "/sitemap.xml": lambda: binary("application/xml", b"\x89PNG"),
            "/binary-list/": lambda: binary("application/octet-stream", b"\x00\x01"),
        }
        if path in page:
            page[path]()(h, self.articles["sound"])
            return
        if path.startswith("/trap/"):
            html(b'<a href="more/">more</a>')(h, self.articles["sound"])
            return
        if path.startswith("/cal/"):
            html(_calendar(path.removeprefix("/cal/")))(h, self.articles["sound"])
            return
        case = next((c for c in self.cases() if path == c.path), None)
        if case is None:
            send(h, 404, b"not found")
        else:
            respond = case.respond if self.hostile else sound
            respond(h, self.articles[case.name])


def _calendar(day: str) -> bytes:
    """A day of a calendar that links to the next and previous weeks, for ever."""
    number = int(day.replace("-", ""))
    links = "".join(f'<a href="/cal/{number + step}">{number + step}</a>' for step in range(-7, 8))
    return f"<html><body>{links}</body></html>".encode()


def case_problem(
    site: HostileSite, case: Case, db: Database, before: dict[str, str], run_id: int
) -> str | None:
    """What went wrong with ``case`` in the crawl of the site's hostile life (run ``run_id``),
    or None. ``before`` is the text of each article stored by the crawl of its first life."""
    like = f"%{case.path.removesuffix('.html')}%"
    stored = {
        row["url"]: row
        for row in db.query("select url, text, version from articles where url like ?", [like])
    }
    errors = [
        row["error"]
        for row in db.query(
            "select error from fetches where run_id = ? and url like ? and error is not null",
            [run_id, like],
        )
    ]
    for url, text in before.items():
        if case.path in url and (url not in stored or stored[url]["text"] != text):
            return f"the article stored before at {url} was lost or changed"
    if case.expect == "unchanged":
        if errors:
            return f"fetch failed: {errors[0]}"
        if [row["version"] for row in stored.values()] != [1]:
            return f"expected one article, unchanged: {len(stored)} stored"
        return None
    if case.expect == "stored":
        article = site.articles[case.name]
        marker = article.paragraphs[0].removeprefix("## ")[:12]
        if case.name == "big5":
            marker = to_traditional(article.paragraphs[0].removeprefix("## "))[:12]
        if case.name == "gb18030":
            marker = "𠮷野科技、𫟦源智能"
        if not any(marker in row["text"] for row in stored.values()):
            return f"no stored article holds {marker!r}"
        return None
    if not any(error.startswith(case.expect) for error in errors):
        return f"expected an error starting {case.expect!r}, got {errors}"
    return None


@dataclass
class Lives:
    """The site crawled in its first life and again once every page went bad."""

    db_path: Path
    seeds: Path
    before: dict[str, str]  # url: text of each article the first crawl stored
    outputs: list[subprocess.CompletedProcess[str]]  # the two crawls
    run_id: int  # the second crawl's run of the hostile source
    requested: Counter[str]  # paths the second crawl asked for

    def problems(self, site: HostileSite) -> dict[str, str | None]:
        """Each case's problem (None when it behaved)."""
        db = Database(self.db_path)
        return {c.name: case_problem(site, c, db, self.before, self.run_id) for c in CASES}


def crawl_both_lives(site: HostileSite, folder: Path) -> Lives:
    seeds = folder / "seeds"
    seeds.mkdir()
    db_path = folder / "news.db"
    (seeds / "hostile.toml").write_text(site.seeds(), encoding="utf-8")
    args = ("crawl", "--db", str(db_path), "--seeds", str(seeds))
    first = newsmon(*args)
    db = Database(db_path)
    before = {row["url"]: row["text"] for row in db.query("select url, text from articles")}
    time.sleep(1.1)  # the articles' watch (1 s) is over: the next crawl checks them all
    site.hostile = True
    requested_before = site.requested.copy()
    second = newsmon(*args)
    run = next(db.query("select max(id) id from crawl_runs where source_id = 'hostile'"))
    db.close()
    return Lives(
        db_path, seeds, before, [first, second], run["id"], site.requested - requested_before
    )
