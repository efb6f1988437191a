"""Feeds over a real loopback crawl: every kind's items are followed, and a page that is no feed
is recorded as an error of that feed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.support.serving import PageSite

# RSS 1.0: the items sit beside the channel, in the RSS 1.0 namespace inside rdf:RDF.
RSS_1_0 = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="{url}rdf.xml">
    <title>政策速递</title><link>{url}</link><description>RSS 1.0</description>
    <items><rdf:Seq><rdf:li rdf:resource="{url}a/rdf-1.html"/></rdf:Seq></items>
  </channel>
  <item rdf:about="{url}a/rdf-1.html">
    <title>深圳发布算力券新政</title><link>{url}a/rdf-1.html</link>
  </item>
  <item rdf:about="{url}a/rdf-2.html">
    <title>北京人工智能产业扶持办法</title><link>{url}a/rdf-2.html</link>
  </item>
</rdf:RDF>
"""
RSS_2_0 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>要闻</title>
  <item><title>武汉算力中心</title><link>/a/rss-1.html</link></item>
</channel></rss>
"""
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>专题</title>
  <entry><title>上海大模型</title><link href="/a/atom-1.html"/>
    <link rel="enclosure" href="/a/atom-1.mp3"/></entry>
</feed>
"""
NOT_A_FEED = "<!doctype html><html><head><title>首页</title></head><body><p>首页</p></body></html>"
ARTICLE = (
    "<html><head><meta charset='utf-8'><title>{path}</title></head><body><h1>{path}</h1>"
    + "<p>深圳将向中小企业发放算力券，单个企业最高可获五百万元，申报截至今年年底。</p>" * 5
    + "</body></html>"
)
SEEDS = """[[source]]
id = "feeds"
name = "feeds of every kind"
base_url = "{url}"
feeds = ["/rdf.xml", "/rss.xml", "/atom.xml", "/not-a-feed.xml"]
article_urls = ['^/a/']
private_hosts = ["127.0.0.1"]
delay = 0
"""


class FeedSite(PageSite):
    def page(self, path: str) -> tuple[str, str] | None:
        feeds = {"/rdf.xml": RSS_1_0, "/rss.xml": RSS_2_0, "/atom.xml": ATOM}
        if path in feeds:
            return feeds[path].format(url=self.url), "application/xml"
        if path == "/not-a-feed.xml":
            return NOT_A_FEED, "text/html; charset=utf-8"
        if path.startswith("/a/"):
            return ARTICLE.format(path=path), "text/html; charset=utf-8"
        return None


@pytest.fixture(scope="module")
def fetches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str | None]]:
    """The crawl of the feed site: each fetched path and its error."""
    tmp: Path = tmp_path_factory.mktemp("feeds")
    with FeedSite() as site:
        db_path = site.crawl(tmp, SEEDS, "--quiet", check=False).db_path
    rows = Database(db_path).query("select url, error from fetches")
    yield {row["url"].split(":", 2)[2].partition("/")[2]: row["error"] for row in rows}


def test_items_of_rss_1_0_2_0_and_atom_are_followed(fetches: dict[str, str | None]) -> None:
    articles = {"a/rdf-1.html", "a/rdf-2.html", "a/rss-1.html", "a/atom-1.html"}
    assert articles <= fetches.keys()
    assert all(fetches[path] is None for path in articles)
    assert "a/atom-1.mp3" not in fetches  # an enclosure is no article link


def test_a_feed_url_that_answers_a_web_page_is_an_error(fetches: dict[str, str | None]) -> None:
    error = fetches["not-a-feed.xml"]
    assert error is not None and error.startswith("not a feed: ")
    assert all(fetches[feed] is None for feed in ("rdf.xml", "rss.xml", "atom.xml"))
