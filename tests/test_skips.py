"""Entries of a sitemap or a feed that cannot be followed as they are: each skip is counted, is
one error line that `newsmon status` shows, and costs none of the page's other entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.support.run import newsmon
from tests.support.serving import PageSite

ARTICLE = (
    "<html><head><meta charset='utf-8'><title>{path}</title></head><body><h1>{path}</h1>"
    + "<p>武汉将向人工智能企业发放算力券，单个企业最高可获三百万元，申报截至今年年底。</p>" * 5
    + "</body></html>"
)
SEEDS = """[[source]]
id = "skips"
name = "a sitemap and a feed with entries that cannot be read"
base_url = "{url}"
sitemaps = ["/sitemap.xml"]
feeds = ["/rss.xml"]
article_urls = ['^/a/']
private_hosts = ["127.0.0.1"]
watch = ["1d"]
delay = 0
"""
FIRST = {"/a/1.html": "2020-01-01", "/a/2.html": "2020-01-01", "/a/3.html": "2020-01-01"}
# Stored pages first, with lastmods in forms other than the protocol's (one newer than the
# last visit, one no date at all), then new pages.
SECOND = {
    "/a/1.html": "31/05/2099",
    "/a/2.html": "garbage",
    "/a/3.html": "2020-01-01",
    "/a/4.html": "2024-5-31 8:00",
    "/a/5.html": "gibberish",
    "/a/6.html": None,
    "/a/7.html": "2024/05/31",
}
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>要闻</title>
  <item><title>没有链接的条目</title></item>
  <item><title>武汉算力券</title><link>/a/feed-1.html</link></item>
</channel></rss>
"""


class Site(PageSite):
    """The site on a loopback port; ``lastmods`` is its sitemap (path: lastmod or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.lastmods: dict[str, str | None] = dict(FIRST)

    def page(self, path: str) -> tuple[str, str] | None:
        if path == "/sitemap.xml":
            return self.sitemap(), "application/xml"
        if path == "/rss.xml":
            return FEED, "application/xml"
        if path.startswith("/a/"):
            return ARTICLE.format(path=path), "text/html; charset=utf-8"
        return None

    def sitemap(self) -> str:
        entries = "".join(
            f"<url><loc>{self.url}{path.lstrip('/')}</loc>"
            + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "")
            + "</url>"
            for path, lastmod in self.lastmods.items()
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Path, Path, str]]:
    """The site crawled twice, its sitemap changed between: the site, the database, the seeds
    and the second crawl's output."""
    tmp = tmp_path_factory.mktemp("skips")
    with Site() as site:
        site.crawl(tmp, SEEDS)
        site.lastmods = dict(SECOND)
        site.requested.clear()
        second = site.crawl(tmp, SEEDS, check=False)
    yield site, second.db_path, second.seeds, second.output


def test_a_lastmod_not_understood_loses_no_entry_after_it(
    crawled: tuple[Site, Path, Path, str],
) -> None:
    site, db_path, _, output = crawled
    assert "Traceback" not in output and "Spider error" not in output
    stored = {
        row["url"].split("/", 3)[3] for row in Database(db_path).query("select url from articles")
    }
    assert {f"a/{n}.html" for n in range(1, 8)} <= stored
    # Newer than the last visit in a form of its own: asked for again; older or unread: not.
    assert site.requested["/a/1.html"] == 1
    assert site.requested["/a/2.html"] == 0 and site.requested["/a/3.html"] == 0


def test_status_shows_each_kind_of_skip_with_an_example(
    crawled: tuple[Site, Path, Path, str],
) -> None:
    _, db_path, seeds, _ = crawled
    shown = newsmon("status", "--db", str(db_path), "--seeds", str(seeds)).stdout
    assert "skips: ok" in shown
    lines = shown.splitlines()
    assert any(
        "sitemap: 2 lastmod values not understood, e.g. 'garbage'" in line
        and "/sitemap.xml" in line
        for line in lines
    ), shown
    assert any(
        "feed: 1 entries without a link, e.g. '没有链接的条目'" in line and "/rss.xml" in line
        for line in lines
    ), shown
    stats = next(Database(db_path).query("select stats from crawl_runs order by id desc"))
    assert '"newsmon/skipped/lastmod": 2' in stats["stats"]
