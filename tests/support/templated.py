"""A generated news site whose chrome changes from page to page, drawn from a site-wide pool
(related news, recommended teasers, advertising lines), around bodies it knows: what a
source's template (crawler/extract/template.py) must learn to drop. Also its redesign: the
same articles in another layout."""

from __future__ import annotations

import random
from dataclasses import dataclass
from html import escape

from tests.support.serving import PageSite

PLACES = ("北京市", "上海市", "深圳市", "武汉市", "杭州市", "成都市", "广州市", "南京市")
THINGS = (
    "人工智能", "算力基础设施", "数据要素市场", "集成电路", "智能网联汽车", "工业互联网",
    "生物医药", "低空经济", "新型储能", "智能制造",
)  # fmt: skip
ACTS = (
    "印发实施方案", "召开推进会议", "发布扶持政策", "设立专项资金", "开展试点示范",
    "组织项目申报", "公布评审结果", "启动招商活动",
)  # fmt: skip
# A sentence a few bodies share (an agency's stock phrase): it must stay in each of them.
STOCK = "有关部门表示，将持续跟踪政策落实情况，及时协调解决企业反映的问题。"


@dataclass(frozen=True)
class TemplatedPage:
    path: str
    title: str
    body: tuple[str, ...]  # the gold body, paragraph by paragraph
    html: str


def _sentence(rng: random.Random, n: int, i: int) -> str:
    place, thing, act = rng.choice(PLACES), rng.choice(THINGS), rng.choice(ACTS)
    amount = rng.randint(2, 900)
    return (
        f"{place}围绕{thing}{act}，第{n}期第{i}项安排资金{amount}万元，"
        f"支持{rng.randint(3, 60)}家企业开展{rng.choice(THINGS)}应用，"
        f"预计带动投资{amount * 7}万元。"
    )


def _pool(rng: random.Random, kind: str, size: int) -> list[str]:
    lines = []
    for i in range(size):
        place, thing = rng.choice(PLACES), rng.choice(THINGS)
        if kind == "related":
            lines.append(f"{place}{thing}产业发展情况通报（{i}）")
        elif kind == "teaser":
            lines.append(
                f"{place}出台{thing}新政，专家解读{rng.choice(ACTS)}的{i}个看点，值得关注。"
            )
        else:
            lines.append(
                f"{thing}博览会第{i}届{place}站火热报名中，展位有限，欢迎各界企业咨询参展。"
            )
    return lines


def templated_site(pages: int = 200, seed: int = 17) -> list[TemplatedPage]:
    """``pages`` article pages of one site in one layout, each with chrome from the pools."""
    rng = random.Random(seed)
    related, teasers = _pool(rng, "related", 60), _pool(rng, "teaser", 40)
    ads = _pool(rng, "ad", 12)
    site = []
    for n in range(pages):
        body = [_sentence(rng, n, i) for i in range(rng.randint(3, 7))]
        if n % 25 == 3:
            body.insert(rng.randint(1, len(body)), STOCK)
        title = f"{rng.choice(PLACES)}{rng.choice(THINGS)}工作动态（第{n}期）"
        chrome = {
            "related": rng.sample(related, 6),
            "teasers": rng.sample(teasers, 2),
            "ad": rng.choice(ads),
        }
        path = f"/news/2024{n % 12 + 1:02d}/t2024{n % 12 + 1:02d}15_{1000 + n}.html"
        site.append(TemplatedPage(path, title, tuple(body), _layout(title, body, chrome, n)))
    return site


def redesigned(site: list[TemplatedPage], seed: int = 18) -> list[TemplatedPage]:
    """The same articles after a redesign: other blocks, other classes, other chrome."""
    rng = random.Random(seed)
    related, ads = _pool(rng, "related", 50), _pool(rng, "ad", 10)
    return [
        TemplatedPage(
            page.path,
            page.title,
            page.body,
            _new_layout(page.title, page.body, rng.sample(related, 5), rng.choice(ads)),
        )
        for page in site
    ]


def _paragraphs(lines: list[str] | tuple[str, ...]) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in lines)


def _links(lines: list[str]) -> str:
    items = (f'<li><a href="/news/r{i}.html">{escape(t)}</a></li>' for i, t in enumerate(lines))
    return "".join(items)


def _layout(title: str, body: list[str], chrome: dict[str, list[str] | str], n: int) -> str:
    teasers, ad = chrome["teasers"], chrome["ad"]
    related = chrome["related"]
    assert isinstance(teasers, list) and isinstance(ad, str) and isinstance(related, list)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{escape(title)}_示范新闻网</title>
<meta name="pubdate" content="2024-{n % 12 + 1:02d}-15 09:00"></head><body>
<div class="top"><a href="/">首页</a> <a href="/news/">要闻</a> <a href="/policy/">政策</a></div>
<div class="main"><div class="left">
<h1>{escape(title)}</h1><div class="info">发布时间：2024-{n % 12 + 1:02d}-15 来源：示范新闻网</div>
<div class="content" id="zoom">{_paragraphs(body)}
<div class="tuijian">{_paragraphs(teasers)}</div>
<div class="ad_line"><p>{escape(ad)}</p></div></div>
<div class="xgxw"><ul>{_links(related)}</ul></div>
</div></div>
<div class="footer"><p>示范新闻网版权所有，未经书面授权不得转载，联系电话010-12345678。</p></div>
</body></html>"""


def _new_layout(title: str, body: tuple[str, ...], related: list[str], ad: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{escape(title)}</title></head><body>
<header id="masthead"><nav><a href="/">首页</a></nav></header>
<section id="page"><article class="story"><h1>{escape(title)}</h1>
<div class="story-body">{_paragraphs(body)}<div class="promo"><p>{escape(ad)}</p></div></div>
<div class="more-news"><ul>{_links(related)}</ul></div></article></section>
<footer><p>示范新闻网版权所有，联系电话010-12345678。</p></footer></body></html>"""


# The source that reads a TemplatedSite.
SEEDS = r"""
[[source]]
id = "tpl"
name = "generated site with changing chrome"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/news/"]
article_urls = ['^/news/\d{{6}}/t\d{{8}}_\d+\.html$']
delay = 0
concurrency = 4
"""


class TemplatedSite(PageSite):
    """:func:`templated_site` served on 127.0.0.1: its list page links the first ``shown``
    pages; a path in ``shells`` answers a page with no article in it."""

    def __init__(self, pages: list[TemplatedPage], shown: int) -> None:
        super().__init__()
        self.pages = {p.path: p for p in pages}
        self.order = [p.path for p in pages]
        self.shown = shown
        self.shells: set[str] = set()

    def page(self, path: str) -> tuple[str, str] | None:
        html = "text/html; charset=utf-8"
        if path == "/news/":
            links = "".join(
                f'<li><a href="{p}">{escape(self.pages[p].title)}</a></li>'
                for p in self.order[: self.shown]
            )
            return f"<html><body><ul>{links}</ul></body></html>", html
        if path in self.shells:
            return '<html><body><div id="app">加载中</div></body></html>', html
        found = self.pages.get(path)
        return None if found is None else (found.html, html)
