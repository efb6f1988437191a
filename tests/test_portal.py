"""Portal document pages: the 政府信息公开 table is metadata, the page is its policy's text.

The pages of tests/fixtures/portal (written in the style of real provincial, city and ministry
portals) and their gold.toml; a real crawl of them over loopback into a real SQLite file.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from crawler.classify import classify
from crawler.classify.policies import (
    document_kind,
    find_policies,
    normalise_title,
    page_policies,
    status_of,
)
from crawler.classify.regions import places_in
from crawler.extract import Article, extract_article
from crawler.pipelines.classify import document_info
from tests.support.run import newsmon
from tests.support.serving import PageSite

PORTAL = Path(__file__).parent / "fixtures" / "portal"
GOLD: dict[str, dict[str, Any]] = tomllib.loads((PORTAL / "gold.toml").read_text("utf-8"))["pages"]
SEEDS = """[[source]]
id = "portal"
name = "portal document pages"
base_url = "{url}"
lists = ["/list.html"]
article_urls = ['^/a/']
private_hosts = ["127.0.0.1"]
delay = 0
"""


def extracted(name: str) -> Article:
    article = extract_article((PORTAL / name).read_bytes(), f"http://127.0.0.1/a/{name}")
    assert article is not None, name
    return article


@pytest.mark.parametrize("name", sorted(GOLD))
def test_the_information_table_fills_fields_and_never_the_body(name: str) -> None:
    gold, article = GOLD[name], extracted(name)
    for field in ("issuer", "doc_number", "written", "subject"):
        assert getattr(article, field) == gold.get(field), field
    assert (article.published or "").startswith(gold["published"])
    for snippet in gold["body_has"]:
        assert snippet in article.text
    for snippet in gold["body_not"]:
        assert snippet not in article.text


def test_labels_scattered_over_a_news_page_are_no_table() -> None:
    story = "".join(
        f"<p>深圳市今天发布人工智能产业发展报告，全市第{n}批人工智能企业名单公布，产业规模持续扩大。</p>"
        for n in range(8)
    )
    page = (
        "<html><head><meta charset='utf-8'><title>深圳人工智能企业超两千六百家</title></head><body>"
        "<div><a href='/'>首页</a> <span>分类：</span><a href='/kj/'>科技</a></div>"
        "<h1>深圳人工智能企业超两千六百家</h1><div>发布时间：2024-03-09 08:15</div>"
        f"<div class='content'>{story}</div>"
        "<div class='footer'>发布机构：深圳新闻网</div></body></html>"
    )
    article = extract_article(page.encode(), "http://127.0.0.1/a/1.html")
    assert article is not None and article.issuer is None
    assert article.text.count("产业规模持续扩大") == 8


@pytest.mark.parametrize("name", sorted(GOLD))
def test_each_page_is_or_explains_or_names_its_policies(name: str) -> None:
    gold, article = GOLD[name], extracted(name)
    info = document_info(article)
    tags = classify(article.simplified, article.title, article.published, None, info)
    assert list(tags.regions.primary) == gold["primary"]
    got = {p.title: p for p in tags.policies}
    assert set(got) == {p["title"] for p in gold["policies"]}
    for policy in gold["policies"]:
        found = got[policy["title"]]
        for field, value in policy.items():
            if field != "draft":
                assert getattr(found, field) == value, (policy["title"], field)


@pytest.mark.parametrize(
    ("title", "policy"),
    [
        (
            "深圳市人民政府办公厅关于印发深圳市加快打造人工智能先锋城市若干措施的通知",
            "深圳市加快打造人工智能先锋城市若干措施",
        ),
        (
            "关于印发《上海市人工智能产业集聚区认定管理办法(试行)》的通知",
            "上海市人工智能产业集聚区认定管理办法（试行）",
        ),
        ("国务院办公厅转发国家发展改革委关于印发〈数字经济发展规划〉的通知", "数字经济发展规划"),
        (
            "工业和信息化部办公厅关于发布《人工智能赋能新型工业化典型场景清单》的通知",
            "人工智能赋能新型工业化典型场景清单",
        ),
        (
            "广东省工业和信息化厅关于公开征求《广东省人工智能产业发展行动计划》意见的公告",
            "广东省人工智能产业发展行动计划（征求意见稿）",
        ),
        (
            "《深圳市数据交易管理办法（征求意见稿）》公开征求意见",
            "深圳市数据交易管理办法（征求意见稿）",
        ),
        (
            "关于《武汉市算力券管理办法》向社会公开征求意见的通知",
            "武汉市算力券管理办法（征求意见稿）",
        ),
        # A notice that sends no document, or two, is the notice.
        ("关于做好2024年人工智能揭榜挂帅工作的通知", "关于做好2024年人工智能揭榜挂帅工作的通知"),
        (
            "关于印发《甲市数据条例》和《乙市数据条例》的通知",
            "关于印发〈甲市数据条例〉和〈乙市数据条例〉的通知",
        ),
    ],
)
def test_a_cover_letter_names_the_document_it_sends(title: str, policy: str) -> None:
    assert normalise_title(title) == policy


def test_two_names_of_one_document_are_one_policy() -> None:
    text = (
        "会议传达了《国务院关于深入实施“人工智能+”行动的意见》。"
        "全市要落实〈关于深入实施“人工智能+”行动的意见〉，抓好《关于深入实施“人工智能+”"
        "行动的意见》各项任务。"
    )
    policies, _ = find_policies(text, places_in)
    assert [(p.title, p.issuer, p.region) for p in policies] == [
        ("关于深入实施“人工智能+”行动的意见", "国务院", "全国")
    ]


@pytest.mark.parametrize(
    ("title", "kind", "status"),
    [
        ("广东省人工智能产业发展行动计划（征求意见稿）", "计划", "征求意见稿"),
        ("上海市人工智能产业集聚区认定管理办法（试行）", "办法", "试行"),
        ("深圳市数据交易管理暂行办法", "办法", "试行"),
        ("北京市促进人工智能产业高质量发展实施方案（2024—2026年）", "方案", "正式"),
        ("武汉市算力券管理规定（2025年修订）", "规定", "修订"),
        ("深圳经济特区人工智能产业促进条例", "条例", "正式"),
        ("人工智能赋能新型工业化典型场景清单", "清单", "正式"),
    ],
)
def test_kind_and_status_of_a_document(title: str, kind: str, status: str) -> None:
    assert (document_kind(title), status_of(title)) == (kind, status)
    assert status_of(title, validity="已失效") == "废止"


# A city's document as a reader copies it from the portal: its number, a citation of national
# policy, and the issuer and date that sign it off (the cleaner drops a date alone on its line
# as a dateline, so the date is the one given with --published).
CITY_DOCUMENT = """深府办函〔2024〕18号
各区人民政府，市政府直属各单位：
《深圳市加快打造人工智能先锋城市若干措施》已经市政府同意，现印发给你们，请认真组织实施。
为贯彻落实《国务院关于深入实施“人工智能+”行动的意见》，加快建设全国领先的人工智能先锋城市，\
国家和省有关部门的支持政策一并落实。全国一体化算力网络的枢纽节点要服务全国。
深圳市人民政府办公厅
2024年3月5日
"""


def test_a_city_document_citing_national_policy_is_the_citys(tmp_path: Path) -> None:
    body = tmp_path / "measures.txt"
    body.write_text(CITY_DOCUMENT, encoding="utf-8")
    title = "深圳市人民政府办公厅关于印发深圳市加快打造人工智能先锋城市若干措施的通知"
    tag = ("tag", str(body), "--title", title, "--published", "2024-03-08", "--json")
    shown = json.loads(newsmon(*tag).stdout)
    assert shown["regions"]["primary"] == ["深圳"]
    assert shown["policies"] == [
        {
            "title": "深圳市加快打造人工智能先锋城市若干措施",
            "region": "深圳",
            "date": "2024-03-08",
            "issuer": "深圳市人民政府办公厅",
            "doc_number": "深府办函〔2024〕18号",
            "kind": "措施",
            "status": "正式",
        },
        {
            "title": "关于深入实施“人工智能+”行动的意见",
            "region": "全国",
            "date": None,
            "issuer": "国务院",
            "doc_number": None,
            "kind": "意见",
            "status": "正式",
        },
    ]


def test_a_report_quoting_a_documents_number_is_not_the_document() -> None:
    text = (
        "近日，深圳市人民政府办公厅印发《深圳市加快打造人工智能先锋城市若干措施》"
        "（深府办函〔2024〕18号），从算力、模型、场景和人才四个方面推出支持政策。\n"
        "深圳市人民政府办公厅"
    )
    headline = "深圳出台加快打造人工智能先锋城市若干措施"
    assert page_policies(headline, text, places_in) == ()
    (named,), _ = find_policies(text, places_in)
    assert named.role == "names" and named.issuer == "深圳市人民政府办公厅"


def test_a_report_names_policies_in_its_headline_and_without_brackets() -> None:
    text = (
        "记者从市政府获悉，条例明确了数据权益保护规则。\n"
        "同日，市政府办公厅印发深圳市公共数据开放管理办法的通知，要求各区抓好落实。"
    )
    tags = classify(text, "《深圳经济特区数据条例》今起施行")
    assert [(p.title, p.region, p.role) for p in tags.policies] == [
        ("深圳市公共数据开放管理办法", "深圳", "names"),
        ("深圳经济特区数据条例", "深圳", "names"),
    ]


class Portal(PageSite):
    """The fixture pages under /a/, and a list page linking them."""

    def page(self, path: str) -> tuple[str, str] | None:
        if path == "/list.html":
            links = "".join(f'<li><a href="/a/{name}">{name}</a></li>' for name in sorted(GOLD))
            return f"<html><body><ul>{links}</ul></body></html>", "text/html; charset=utf-8"
        name = path.removeprefix("/a/")
        if name in GOLD:
            return (PORTAL / name).read_text("utf-8"), "text/html; charset=utf-8"
        return None


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    with Portal() as site:
        crawl = site.crawl(tmp_path_factory.mktemp("portal"), SEEDS)
    assert "Traceback" not in crawl.output
    yield Database(crawl.db_path)


def policy_row(db: Database, title: str) -> dict[str, Any]:
    rows = list(db.query("select * from policies where title = ?", [title]))
    assert len(rows) == 1, title
    return rows[0]


def article_id(db: Database, name: str) -> int:
    return next(db.query("select id from articles where url like ?", [f"%/a/{name}"]))["id"]


def test_a_crawl_stores_each_document_as_its_policy(crawled: Database) -> None:
    for name, gold in GOLD.items():
        for expected in (p for p in gold["policies"] if p["role"] == "text"):
            row = policy_row(crawled, expected["title"])
            assert row["text_article_id"] == article_id(crawled, name)
            for field in ("issuer", "doc_number", "kind", "status", "date", "region"):
                assert row[field] == expected.get(field), (name, field)
    stored = next(crawled.query("select * from articles where url like '%sz-gov-measures.html'"))
    assert (stored["issuer"], stored["doc_number"], stored["written"]) == (
        "深圳市人民政府办公厅",
        "深府办函〔2024〕18号",
        "2024-03-05",
    )


def test_a_final_version_links_to_its_draft(crawled: Database) -> None:
    for gold in GOLD.values():
        for expected in (p for p in gold["policies"] if "draft" in p):
            final, draft = (
                policy_row(crawled, expected["title"]),
                policy_row(crawled, expected["draft"]),
            )
            assert final["draft_id"] == draft["id"] and draft["draft_id"] is None


def test_interpretations_and_reports_link_to_the_policy_they_explain(crawled: Database) -> None:
    measures = policy_row(crawled, "深圳市加快打造人工智能先锋城市若干措施")
    roles = {
        row["url"].rsplit("/", 1)[1]: row["role"]
        for row in crawled.query(
            "select url, role from article_policies join articles on articles.id = article_id"
            " where policy_id = ?",
            [measures["id"]],
        )
    }
    assert roles == {
        "sz-gov-measures.html": "text",
        "sz-gov-interpretation.html": "explains",
        "sztqb-news.html": "names",
    }
    # The national opinion its page is, and the name the city's document cites it by: one.
    opinion = policy_row(crawled, "关于深入实施“人工智能+”行动的意见")
    assert opinion["text_article_id"] == article_id(crawled, "gov-cn-opinion.html")
    assert opinion["issuer"] == "国务院" and opinion["region"] == "全国"
