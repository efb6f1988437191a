"""Lists whose pager a script draws (TRS WCM's createPageHTML and its kin), over a real
loopback crawl: the articles of their later pages are stored, within the source's page cap."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.demo.site import DemoArticle, DemoSite, Resource
from crawler.pagination import script_pages
from tests.support.serving import PageSite
from tests.support.sites import generated, path_of

PAGES = 12
MAX_LIST_PAGES = 5  # the seed's max_list_pages
LIST_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><ul><li><a href="{href}">{headline}</a></li></ul>
<div id="page_div"></div><script type="text/javascript">{script}</script></body></html>
"""


@dataclass(frozen=True)
class ScriptList:
    """A list of PAGES pages whose pager ``script`` draws, each page naming its number."""

    folder: str
    first: str  # the first page's file name ("" for the folder itself)
    ext: str
    script: str  # formatted with the page's number from 0 (n) and from 1 (n1)

    def path(self, n: int) -> str:
        return f"/{self.folder}/" + (f"index_{n}.{self.ext}" if n else self.first)


LISTS = (
    ScriptList("tzgg", "", "html", 'createPageHTML({pages}, {n}, "index", "html");'),
    ScriptList(
        "xwdt", "index.html", "html", "createPageHTML('page_div',{pages},{n1},'index','html',36);"
    ),
    ScriptList(
        "gzdt", "index.shtml", "shtml", "var countPage = {pages};//共多少页\nvar currentPage = {n};"
    ),
)
SEEDS = """[[source]]
id = "script-lists"
name = "lists paged by script"
base_url = "{url}"
lists = ["/tzgg/", "/xwdt/index.html", "/gzdt/index.shtml"]
article_urls = ['^/(?:policy|industry|local)/\\d{{6}}/t\\d{{8}}_\\d+\\.html$']
max_list_pages = 5
private_hosts = ["127.0.0.1"]
delay = 0
concurrency = 4
"""


class ScriptListSite(PageSite):
    """The three lists, page n of list l linking article l * PAGES + n alone."""

    def __init__(self) -> None:
        super().__init__()
        # Plain UTF-8 pages: a Traditional one costs the renderer a converter each, and paging
        # needs no difficulty of a Chinese page.
        self.articles: list[DemoArticle] = [
            replace(a, traditional=False, garbled=False, encoding="utf-8")
            for a in generated(len(LISTS) * PAGES).articles
        ]
        self.rendered: dict[str, Resource] | None = None

    def article_on(self, listing: int, n: int) -> DemoArticle:
        return self.articles[listing * PAGES + n]

    def page(self, path: str) -> tuple[str, str] | None:
        for number, listing in enumerate(LISTS):
            for n in range(PAGES):
                if path == listing.path(n):
                    article = self.article_on(number, n)
                    script = listing.script.format(pages=PAGES, n=n, n1=n + 1)
                    html = LIST_PAGE.format(
                        title=listing.folder,
                        href=article.path,
                        headline=article.title,
                        script=script,
                    )
                    return html, "text/html; charset=utf-8"
        if self.rendered is None:
            self.rendered = DemoSite(self.articles).pages(self.url)
        found = self.rendered.get(path)
        return (found.body.decode(), found.content_type) if found else None


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptListSite, set[str]]]:
    """The site after one crawl, and the paths of the articles stored."""
    tmp: Path = tmp_path_factory.mktemp("pagination")
    with ScriptListSite() as site:
        db_path = site.crawl(tmp, SEEDS, "--quiet").db_path
        stored = {path_of(row["url"]) for row in Database(db_path)["articles"].rows}
        yield site, stored


@pytest.mark.parametrize("listing", range(len(LISTS)), ids=[listing.folder for listing in LISTS])
def test_articles_of_a_script_paged_list_are_stored_to_its_page_cap(
    crawled: tuple[ScriptListSite, set[str]], listing: int
) -> None:
    site, stored = crawled
    within = {site.article_on(listing, n).path for n in range(MAX_LIST_PAGES)}
    assert within <= stored  # page 5 among them
    beyond = [LISTS[listing].path(n) for n in range(MAX_LIST_PAGES, PAGES)]
    assert not any(site.requested[path] for path in beyond)
    assert all(site.article_on(listing, n).path not in stored for n in range(MAX_LIST_PAGES, PAGES))


@pytest.mark.parametrize(
    ("script", "url", "pages"),
    [
        # A page named outside the pattern: the script's counter, from 1 in this variant.
        (
            "createPageHTML('page_div',12,3,'index','html',180);",
            "http://gov.example.cn/zwgk/list.html",
            ["http://gov.example.cn/zwgk/index_3.html", "http://gov.example.cn/zwgk/index_4.html"],
        ),
        # The last page draws no page after it.
        ('createPageHTML(12, 11, "index", "html");', "http://gov.example.cn/a/index_11.html", []),
        # The pager's definition names no numbers: no pages.
        (
            "function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {}",
            "http://gov.example.cn/a/",
            [],
        ),
    ],
)
def test_the_pages_a_script_draws(script: str, url: str, pages: list[str]) -> None:
    assert script_pages([script], url, limit=2) == pages
