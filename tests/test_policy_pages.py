"""A policy's page in `newsmon serve`, as an analyst reads it in headless Chromium: the
document's issuer, number and status, its official text and attachment, and its life in date
order (draft, final version, report, interpretation), over a real crawl of a tiny portal on
127.0.0.1 into a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.demo.documents import pdf_document
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite, Resource
from tests.support.run import newsmon
from tests.support.web import CHROMIUM, SCREENSHOTS, chromium, get, get_json, served

HTML = "text/html; charset=utf-8"
POLICY = "武汉市算力券管理办法"
DRAFT = f"{POLICY}（征求意见稿）"
ISSUER = "武汉市经济和信息化局"
NUMBER = "武经信规〔2024〕3号"
ATTACHMENT = f"{POLICY}.pdf"
CITED = "湖北省人工智能产业发展三年行动方案"  # a policy the final version cites
PDF_TEXT = "条款：对租用智能算力的企业发放算力券，单个企业年度最高支持五百万元。"
PAGE = (
    "<html><head><meta charset='utf-8'><title>{title}</title>"
    "<meta name='PubDate' content='{published}'></head><body>"
    "<div class='nav'><a href='/'>首页</a> <a href='/zwgk/'>政务公开</a></div>"
    "<h1>{title}</h1><div class='info'>发布时间：{published}</div>"
    "<div class='content'>{body}</div>"
    "<div class='footer'>武汉市经济和信息化局主办 鄂ICP备00000000号</div></body></html>"
)
# path: (headline, published, paragraphs). The list page gives them out of date order, so
# that the order of the crawl is not the order of the policy's life.
PAGES = {
    "/a/report.html": (
        "武汉发布算力券管理办法 企业最高可获五百万元支持",
        "2024-08-21 08:30",
        [
            f"近日，{ISSUER}印发《{POLICY}》，对租用智能算力的人工智能企业发放算力券。",
            "根据办法，单个企业年度最高可获五百万元支持，申报全年受理。",
            "业内人士表示，算力券将降低中小企业使用智能算力的成本，推动大模型在制造业落地。",
        ],
    ),
    "/a/final.html": (
        f"{ISSUER}关于印发{POLICY}的通知",
        "2024-08-20 09:00",
        [
            NUMBER,
            "各区经济和信息化主管部门，各有关单位：",
            f"《{POLICY}》已经市人民政府同意，现印发给你们，请认真贯彻执行。",
            "办法明确了算力券的申领、使用和兑付流程，支持人工智能企业租用智能算力开展模型训练。",
            f"各单位要结合落实《{CITED}》，做好算力券申领的组织工作。",
            "附件：<a href='/files/measures.pdf'>" + ATTACHMENT + "</a>",
            ISSUER,
            "2024年8月16日",
        ],
    ),
    "/a/interpretation.html": (
        f"《{POLICY}》政策解读",
        "2024-08-23 10:00",
        [
            f"一、出台背景。为降低企业使用智能算力的成本，{ISSUER}起草了《{POLICY}》。",
            "二、主要内容。办法从申领、使用、兑付三个环节规定了算力券的管理要求。",
            "三、适用对象。办法适用于在武汉市注册、具有独立法人资格的人工智能企业。",
        ],
    ),
    "/a/draft.html": (
        f"关于《{POLICY}》向社会公开征求意见的通知",
        "2024-05-06 09:00",
        [
            f"为降低企业使用智能算力的成本，我局起草了《{DRAFT}》，现向社会公开征求意见。",
            "征求意见稿提出，对租用智能算力的企业发放算力券，单个企业年度最高支持三百万元。",
            "意见反馈截止时间为2024年6月5日，联系电话：027-12345678。",
            ISSUER,
            "2024年5月6日",
        ],
    ),
}
SEEDS = """[[source]]
id = "wh-portal"
name = "武汉市经济和信息化局"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/list/"]
article_urls = ['^/a/']
delay = 0
"""


@dataclass
class Portal(DemoSite):
    """A list page, the four pages of one policy's life, and the final version's PDF."""

    def pages(self, base_url: str) -> dict[str, Resource]:
        links = "".join(f"<li><a href='{path}'>{PAGES[path][0]}</a></li>" for path in PAGES)
        served = {
            "/list/": Resource(f"<html><body><ul>{links}</ul></body></html>".encode(), HTML),
            "/files/measures.pdf": Resource(pdf_document(POLICY, [PDF_TEXT]), "application/pdf"),
        }
        for path, (title, published, paragraphs) in PAGES.items():
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            page = PAGE.format(title=title, published=published, body=body)
            served[path] = Resource(page.encode(), HTML)
        return served


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal crawled once into a real database."""
    folder = tmp_path_factory.mktemp("policy-pages")
    with DemoServer(Portal(articles=[])) as server:
        seeds = folder / "seeds.toml"
        seeds.write_text(SEEDS.format(url=server.url), encoding="utf-8")
        ran = newsmon("crawl", "--db", str(folder / "news.db"), "--seeds", str(seeds))
    assert "Traceback" not in ran.stdout + ran.stderr
    return folder / "news.db"


@pytest.fixture(scope="module")
def site(crawled: Path) -> Iterator[str]:
    """`newsmon serve` of the crawled database; its base URL."""
    with served(crawled) as base:
        yield base


def policy_id(db_path: Path, title: str) -> int:
    found: int = next(Database(db_path).query("select id from policies where title = ?", [title]))[
        "id"
    ]
    return found


# How each page stands to the policy, as its life on the policy's page labels it.
LABELS = {
    "/a/draft.html": "征求意见稿",
    "/a/final.html": "正式版本",
    "/a/interpretation.html": "政策解读",
    "/a/report.html": "新闻报道",
}
LIFE_ENTRY = re.compile(
    r'<li><time>(?P<date>[^<]*)</time>\s*<span class="role">(?P<label>[^<]*)</span>\s*'
    r'<a href="(?P<href>[^"]+)">(?P<title>[^<]*)</a>'
)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")
def test_a_policys_page_shows_the_document_its_attachment_and_its_life_in_date_order(
    site: str, crawled: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    profile = tmp_path_factory.mktemp("chromium-profile")
    url = f"{site}/news/policies/{policy_id(crawled, POLICY)}"
    dom = chromium("--dump-dom", url, profile=profile)
    assert f"<h1>{POLICY}</h1>" in dom
    assert f'<dd class="issuer">{ISSUER}</dd>' in dom
    assert f'<dd class="doc-number">{NUMBER}</dd>' in dom
    assert '<dd class="status">正式</dd>' in dom
    # The official text is the final version's page, with the PDF it links and the PDF's text.
    assert "已经市人民政府同意，现印发给你们" in dom
    assert f">{ATTACHMENT}</a>" in dom and PDF_TEXT in dom
    # Draft, final version, report, interpretation: by the dates the pages give, not by the
    # order they were crawled in, each linking to its article's page.
    by_date = sorted(PAGES, key=lambda path: PAGES[path][1])
    life = [m.groupdict() for m in LIFE_ENTRY.finditer(dom)]
    assert [(e["date"], e["label"], e["title"]) for e in life] == [
        (PAGES[path][1][:10], LABELS[path], PAGES[path][0]) for path in by_date
    ]
    for entry in life:
        assert f"<h1>{entry['title']}</h1>" in get(f"{site}{entry['href']}")
    # An analyst reads names and labels, never the tables' ids or a record's JSON.
    policy = dom.split('<article class="newsmon-policy">', 1)[1].split("</article>", 1)[0]
    shown = re.sub(r"<[^>]+>", " ", policy)
    assert "Stored record" not in dom
    assert not re.search(r"_id\b|[{}]|\bnull\b", shown)
    shots = tmp_path_factory.mktemp("policy-screenshots", numbered=False)
    shot = shots / "policy-page.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,1600", url, profile=profile)
    assert shot.stat().st_size > 10_000
    SCREENSHOTS.append(shot)
    print(f"policy page screenshot: {shot}")


def test_the_drafts_page_leads_to_its_final_version(site: str, crawled: Path) -> None:
    page = get(f"{site}/news/policies/{policy_id(crawled, DRAFT)}")
    assert f"<h1>{DRAFT}</h1>" in page and '<dd class="status">征求意见稿</dd>' in page
    final = f"/news/policies/{policy_id(crawled, POLICY)}"
    assert f'正式版本：<a href="{final}">' in page


def test_new_policies_lists_the_newest_first_with_links_to_their_pages(site: str) -> None:
    listed = get_json(f"{site}/news/new_policies.json?_shape=array")
    # A policy only cited, its date unknown, is as new as the crawl that first saw it.
    assert [tuple(p.values())[:6] for p in listed] == [
        (CITED, None, None, None, "正式", "湖北"),
        (POLICY, ISSUER, NUMBER, PAGES["/a/final.html"][1][:10], "正式", "武汉"),
        (DRAFT, ISSUER, None, PAGES["/a/draft.html"][1][:10], "征求意见稿", "武汉"),
    ]
    page = get(f"{site}/news/new_policies")
    links = re.findall(r'<a href="(/news/policies/\d+)">([^<]+)</a>', page)
    assert [title for _, title in links if title != "查看"] == [CITED, POLICY, DRAFT]
    for href, title in links:
        if title != "查看":
            assert f"<h1>{title}</h1>" in get(f"{site}{href}")


def life_on(page: str) -> list[tuple[str, str, str]]:
    """The policy's life as its page lists it: date, label and title of each article."""
    return [(m["date"], m["label"], m["title"]) for m in LIFE_ENTRY.finditer(page)]


def test_a_policy_cited_by_a_document_lists_it_as_a_citation_not_news(
    site: str, crawled: Path
) -> None:
    page = get(f"{site}/news/policies/{policy_id(crawled, CITED)}")
    title, published, _ = PAGES["/a/final.html"]
    assert life_on(page) == [(published[:10], "文件引用", title)]
    assert "尚未收录这份文件本身" in page


def test_an_articles_page_links_to_the_policies_it_is_explains_or_names(
    site: str, crawled: Path
) -> None:
    db = Database(crawled)
    for path, label in (("/a/interpretation.html", "解读"), ("/a/draft.html", "本文")):
        article = next(db.query("select id from articles where url like ?", [f"%{path}"]))
        page = get(f"{site}/news/articles/{article['id']}")
        policy = DRAFT if path == "/a/draft.html" else POLICY
        href = f"/news/policies/{policy_id(crawled, policy)}"
        assert f'<a href="{href}">{policy}</a>（{label}）' in page
