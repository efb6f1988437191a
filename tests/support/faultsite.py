"""The site the fault classes are measured against (tests/support/faultcases.py): pages that
go bad in a second life, sitemaps with odd dates, feeds that are no feed, refresh loops.

Like tests/support/hostile.py (whose response helpers it uses) it serves each page at its own
URL on 127.0.0.1 and declares its pages as data; unlike it, each page carries the gold a
measure needs: the article's true text, and what a monitor must make of the bad life.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from crawler.demo.site import DemoArticle
from tests.support.hostile import article_html, to_traditional
from tests.support.serving import Handler, LoopbackServer, send
from tests.support.sites import generated

Body = Callable[[DemoArticle], bytes]
Respond = Callable[[Handler, DemoArticle], None]

# What the crawl of the bad life must make of a page:
SAME = "same"  # the stored article keeps its text and versions (an error line may say why)
ERROR = "error"  # the stored article keeps its text and versions, and the fetch is an error
STORED = "stored"  # a page new in the bad life: its article is stored with its true text


def lead(article: DemoArticle) -> str:
    """A sentence only this article's true text holds."""
    return article.paragraphs[0].removeprefix("## ")[:24]


def page(article: DemoArticle, charset: str | None = "utf-8", traditional: bool = False) -> str:
    text = article_html(article, charset)
    return to_traditional(text) if traditional else text


def spoil(data: bytes, count: int, bad: bytes = b"\xff") -> bytes:
    """``data`` with ``count`` invalid bytes put in after paragraph openings (between
    characters, so the page's true text is unchanged)."""
    starts = [i + 3 for i in range(len(data)) if data.startswith(b"<p>", i)]
    for at in sorted(starts[-count:] if count else [], reverse=True):
        data = data[:at] + bad + data[at:]
    return data


def encoded(charset: str, bad: int = 0, traditional: bool = False, meta: bool = True) -> Respond:
    """The page in ``charset`` (declared in the header, and in a meta unless not ``meta``),
    with ``bad`` invalid bytes."""

    def respond(h: Handler, a: DemoArticle) -> None:
        body = spoil(page(a, charset if meta else None, traditional).encode(charset), bad)
        send(h, 200, body, {"Content-Type": f"text/html; charset={charset}"})

    return respond


def utf8(body: Body) -> Respond:
    return lambda h, a: send(h, 200, body(a), {"Content-Type": "text/html; charset=utf-8"})


def double_encoded(a: DemoArticle) -> bytes:
    """The page's UTF-8 read as Latin-1 and written out as UTF-8 again: mojibake."""
    return page(a).encode().decode("latin-1").encode()


def mostly_bad(a: DemoArticle) -> bytes:
    """Every fourth byte of the body's text an invalid one."""
    data = bytearray(page(a).encode())
    start = data.index(b"<article>")
    for i in range(start + 40, len(data) - 40, 4):
        if data[i] >= 0x80:
            data[i] = 0xFF
    return bytes(data)


def maintenance(a: DemoArticle) -> bytes:
    return (
        f"<html><head><meta charset='utf-8'><title>{escape(a.title)}</title></head><body>"
        "<div class='nav'><a href='/'>首页</a></div><article><p>系统维护中，请稍后访问。</p>"
        "</article></body></html>"
    ).encode()


def nested(tag: str, count: int, closed: bool = False) -> Body:
    """The article after ``count`` ``tag`` elements opened (and closed after it, or never)."""

    def body(a: DemoArticle) -> bytes:
        text = page(a)
        opened = f"<{tag} class='wrap'>" * count
        closing = f"</{tag}>" * count if closed else ""
        text = text.replace("<body>", "<body>" + opened).replace("</body>", closing + "</body>")
        return text.encode()

    return body


def cut_by_length(h: Handler, a: DemoArticle) -> None:
    body = page(a).encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body[: len(body) * 2 // 5])
    h.close_connection = True


def cut_gzip(h: Handler, a: DemoArticle) -> None:
    packed = gzip.compress(page(a).encode())
    packed = packed[: len(packed) * 3 // 5]  # the stream ends inside the deflate data
    send(h, 200, packed, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})


def cut_chunked(h: Handler, a: DemoArticle) -> None:
    body = page(a).encode()
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    part = body[: len(body) // 2]
    h.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")  # and never the last chunk
    h.close_connection = True


@dataclass(frozen=True)
class Page:
    """A page at ``/c/<name>.html``: sound in the first life (``first`` None: not there yet),
    ``bad`` in the second; ``expect`` is what the crawl of the second life must make of it."""

    name: str
    expect: str
    bad: Respond
    first: Respond | None = encoded("utf-8")

    @property
    def path(self) -> str:
        return f"/c/{self.name}.html"


PAGES = (
    Page("utf8-3-bad-bytes", SAME, encoded("utf-8", bad=3)),
    Page(
        "utf8-header-only-2-bad",
        SAME,
        encoded("utf-8", 2, meta=False),
        encoded("utf-8", meta=False),
    ),
    Page("gbk-2-bad-bytes", SAME, encoded("gbk", bad=2), encoded("gbk")),
    Page("gb18030-3-bad-bytes", SAME, encoded("gb18030", bad=3), encoded("gb18030")),
    Page(
        "big5-3-bad-bytes",
        SAME,
        encoded("big5", bad=3, traditional=True),
        encoded("big5", traditional=True),
    ),
    Page("double-encoded-utf8", ERROR, utf8(double_encoded)),
    Page("every-4th-byte-bad", ERROR, utf8(mostly_bad)),
    Page("maintenance-page", ERROR, utf8(maintenance)),
    Page("shorter-than-content-length", ERROR, cut_by_length),
    Page("gzip-stream-cut", ERROR, cut_gzip),
    Page("chunked-cut", ERROR, cut_chunked),
    Page("300-unclosed-divs", STORED, utf8(nested("div", 300)), None),
    Page("500-unclosed-fonts", STORED, utf8(nested("font", 500)), None),
    Page("3000-nested-spans", STORED, utf8(nested("span", 3000, closed=True)), None),
)

# Sitemaps whose second entry has a <lastmod> in a form other than ISO 8601: every entry
# must be followed all the same. The entries after it come in the second life, when the
# second is a stored article whose lastmod a revisit reads.
LASTMODS = {
    "slashes": "2024/05/31",
    "dots": "31.05.2024",
    "no-padding": "2024-5-31 8:00",
    "words": "yesterday",
    "empty": "",
    "impossible": "2024-13-45",
    "epoch": "1717113600",
}
SITEMAP_ENTRIES = 4


def sitemap_paths(form: str) -> list[str]:
    return [f"/s/{form}-{i}.html" for i in range(SITEMAP_ENTRIES)]


def sitemap(form: str, whole: bool) -> bytes:
    dates = ["2024-05-30", LASTMODS[form], None, "2024-06-01T08:00:00+08:00"]
    paths = sitemap_paths(form)[: None if whole else 2]
    entries = "".join(
        f"<url><loc>{{base}}{path.lstrip('/')}</loc>"
        + (f"<lastmod>{escape(date)}</lastmod>" if date is not None else "")
        + "</url>"
        for path, date in zip(paths, dates, strict=False)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


# Feed URLs that answer something that is no feed: each must be an error of its own.
NOT_FEEDS: dict[str, tuple[str, bytes]] = {
    "html": (
        "text/html; charset=utf-8",
        b"<html><body><p>\xe9\xa6\x96\xe9\xa1\xb5</p></body></html>",
    ),
    "text": ("text/plain; charset=utf-8", b"feed moved, see our homepage\n"),
    "json": ("application/json", b'{"items": []}'),
    "html-as-xml": ("application/xml", b"<!DOCTYPE html><html><body>hi</body></html>"),
}

# Pages that send the crawler round in circles: (path, what it answers), each an error.
LOOP_PAGES = {
    "/m/refresh-self.html": ("refresh", "/m/refresh-self.html"),
    "/m/refresh-a.html": ("refresh", "/m/refresh-b.html"),
    "/m/refresh-b.html": ("refresh", "/m/refresh-a.html"),
    "/m/refresh-quoted-a.html": ("refresh-quoted", "/m/refresh-quoted-b.html"),
    "/m/refresh-quoted-b.html": ("refresh-quoted", "/m/refresh-quoted-a.html"),
    "/m/30x-self.html": ("302", "/m/30x-self.html"),
    "/m/30x-a.html": ("301", "/m/30x-b.html"),
    "/m/30x-b.html": ("302", "/m/30x-a.html"),
}
# The loops by the URL the list links to.
LOOPS = ("refresh-self", "refresh-a", "refresh-quoted-a", "30x-self", "30x-a")

PLAIN_ARTICLES = 12
# A link of the plain list page that a catastrophic pattern backtracks over for ever.
BACKTRACKING_LINK = "/p/" + "a" * 40 + "!"

SEEDS = r"""
[[source]]
id = "pages"
name = "pages that go bad"
base_url = "{url}"
lists = ["/"]
article_urls = ['^/c/']
private_hosts = ["127.0.0.1"]
watch = ["1s", "1s", "1s"]
delay = 0
concurrency = 8
timeout = 5

[[source]]
id = "skips"
name = "sitemaps, feeds and loops"
base_url = "{url}"
lists = ["/loops/"]
feeds = [{feeds}]
sitemaps = [{sitemaps}]
article_urls = ['^/(s|m)/']
private_hosts = ["127.0.0.1"]
delay = 0
concurrency = 8
timeout = 5
"""

# One source of sound pages, at ``{base}``: for crawls whose fault is elsewhere (the
# database, the start URL's spelling).
PLAIN_SEED = r"""
[[source]]
id = "plain"
name = "a sound site"
lists = ["{base}plain/"]
article_urls = ['^/p/']
private_hosts = [{hosts}]
delay = 0
concurrency = 8
timeout = 5
"""


class FaultSite(LoopbackServer):
    """The site on a loopback port, in a background thread; ``bad`` switches its life."""

    def __init__(self) -> None:
        super().__init__()
        self.bad = False
        articles = generated(len(PAGES) + len(LASTMODS) * SITEMAP_ENTRIES + PLAIN_ARTICLES).articles
        paths = [
            *(p.path for p in PAGES),
            *(path for form in LASTMODS for path in sitemap_paths(form)),
            *(f"/p/{i}.html" for i in range(PLAIN_ARTICLES)),
        ]
        self.articles = dict(zip(paths, articles, strict=True))

    def seeds(self) -> str:
        feeds = ", ".join(f'"/feeds/{name}.xml"' for name in NOT_FEEDS)
        sitemaps = ", ".join(f'"/sitemaps/{form}.xml"' for form in LASTMODS)
        return SEEDS.format(url=self.url, feeds=feeds, sitemaps=sitemaps)

    def plain_seed(self, base: str | None = None, hosts: str = '"127.0.0.1"') -> str:
        return PLAIN_SEED.format(base=base or self.url, hosts=hosts)

    def links(self, paths: list[str]) -> bytes:
        items = "".join(f'<li><a href="{escape(p)}">{i}</a></li>' for i, p in enumerate(paths))
        return f"<html><body><ul>{items}</ul></body></html>".encode()

    def respond(self, h: Handler, path: str) -> None:
        if path == "/":
            pages = [p.path for p in PAGES if self.bad or p.first is not None]
            send(h, 200, self.links(pages), {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/plain/":
            pages = [*(f"/p/{i}.html" for i in range(PLAIN_ARTICLES)), BACKTRACKING_LINK]
            send(h, 200, self.links(pages), {"Content-Type": "text/html; charset=utf-8"})
        elif path == "/loops/":
            pages = [f"/m/{name}.html" for name in LOOPS]
            send(h, 200, self.links(pages), {"Content-Type": "text/html; charset=utf-8"})
        elif path.startswith("/sitemaps/") and path[10:-4] in LASTMODS:
            body = sitemap(path[10:-4], self.bad).replace(b"{base}", self.url.encode())
            send(h, 200, body, {"Content-Type": "application/xml"})
        elif path.startswith("/feeds/") and path[7:-4] in NOT_FEEDS:
            content_type, body = NOT_FEEDS[path[7:-4]]
            send(h, 200, body, {"Content-Type": content_type})
        elif path in LOOP_PAGES:
            how, to = LOOP_PAGES[path]
            if how.isdigit():
                send(h, int(how), b"", {"Location": to})
            else:
                target = f"'{self.url.rstrip('/')}{to}'" if how == "refresh-quoted" else to
                refresh = f'<meta http-equiv="refresh" content="0; url={target}">'
                body = f"<html><head>{refresh}</head><body>转到新页面</body></html>".encode()
                send(h, 200, body, {"Content-Type": "text/html; charset=utf-8"})
        elif (case := next((p for p in PAGES if p.path == path), None)) is not None:
            respond = case.bad if self.bad else case.first
            if respond is None:
                send(h, 404, b"not found")
            else:
                respond(h, self.articles[path])
        elif path in self.articles:
            encoded("utf-8")(h, self.articles[path])
        else:
            send(h, 404, b"not found")
