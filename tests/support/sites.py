"""Sites to crawl on 127.0.0.1: the demo site's public articles, generated sites of any size
made from them, and the two sources that read a generated site."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from crawler.clock import now
from crawler.demo.site import DemoArticle, DemoSite, load_site

# A valid seed file of one real-looking source, for tests that load seeds or spoil them.
CITY_SEED = """
[[source]]
id = "city-a"
name = "A 市经信局"
lists = ["https://jxj.a.gov.cn/zwgk/tzgg/"]
article_urls = ['^/zwgk/tzgg/\\d{6}/t\\d{8}_\\d+\\.html$']
every = "6h"
"""

# Two sources on one generated site, apart: `gen` reads policy and industry, `gen-local` local.
SOURCES = r"""
[[source]]
id = "gen"
name = "generated site: policy and industry"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/policy/", "/industry/"]
sitemaps = ["/sitemap.xml"]
article_urls = ['^/(policy|industry)/\d{{6}}/t\d{{8}}_\d+\.html$']
list_urls = ['^/(policy|industry)/(index_\d+\.html)?$']
max_list_pages = 3
{schedule}delay = 0
concurrency = 8

[[source]]
id = "gen-local"
name = "generated site: local"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/local/"]
article_urls = ['^/local/\d{{6}}/t\d{{8}}_\d+\.html$']
list_urls = ['^/local/(index_\d+\.html)?$']
max_list_pages = 30
{schedule_local}delay = 0
concurrency = 8
"""


def public(site: DemoSite) -> list[DemoArticle]:
    """The articles a crawl can reach: all but those linked from nowhere public."""
    return [a for a in site.articles if a.linked_from != ("private",)]


def generated(count: int) -> DemoSite:
    """``count`` distinct articles made from the demo's: a numbered lead sentence each."""
    base = public(load_site())
    articles = []
    for i in range(count):
        model = base[i % len(base)]
        lead = (
            f"本报讯（第{i}号）记者从有关部门获悉，第{i}批项目已进入实施阶段，"
            f"涉及{i % 97 + 3}个重点方向。"
        )
        articles.append(
            replace(
                model,
                id=f"gen-{i}",
                number=100000 + i,
                title=f"{model.title}（{i}）",
                paragraphs=(lead, *model.paragraphs),
                linked_from=("list", "sitemap"),
            )
        )
    return DemoSite(articles)


def changed_site(articles: int, round_no: int, share: float = 0.05) -> DemoSite:
    """The generated site as it is in round ``round_no``: a few more articles each round, and
    a different ``share`` of them edited (the sitemap dates those anew)."""
    site = generated(articles + 3 * round_no)
    step = max(1, round(1 / share))
    revised = now()
    pages = []
    for i, article in enumerate(site.articles):
        # Pages in Traditional cost the demo site 80 ms each to render (a converter each);
        # faults need many pages, not every difficulty of a Chinese page.
        article = replace(
            article,
            traditional=False,
            garbled=False,
            encoding="utf-8" if article.encoding.startswith("big5") else article.encoding,
        )
        if round_no and i % step == round_no % step:
            lead = article.paragraphs[0] + f"第{round_no}轮核查后更新了有关数据。"
            article = replace(
                article,
                paragraphs=(lead, *article.paragraphs[1:]),
                revision=round_no,
                revised=revised,
            )
        pages.append(article)
    return DemoSite(pages)


def write_seeds(path: Path, url: str, every: tuple[str, str] | None = None) -> Path:
    """The two sources on the site at ``url``; with ``every`` each runs on that schedule."""
    schedule = ("", "") if every is None else tuple(f'every = "{e}"\n' for e in every)
    text = SOURCES.format(url=url, schedule=schedule[0], schedule_local=schedule[1])
    path.write_text(text, encoding="utf-8")
    return path


def path_of(url: str) -> str:
    """The path of an article's stored URL, as the site names it."""
    return "/" + url.split("/", 3)[3]


def paths_of(site: DemoSite, sources: tuple[str, ...]) -> set[str]:
    """The paths of the site's articles that ``sources`` read (gen-local: the local ones)."""
    read = {"gen": ("policy", "industry"), "gen-local": ("local",)}
    sections = {section for source in sources for section in read[source]}
    return {a.path for a in site.articles if a.section in sections}
