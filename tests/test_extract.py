"""Extraction on the bundled pages and on real corpus pages: text, title, charset."""

from __future__ import annotations

import codecs
import json

import opencc
import pytest

from crawler.demo.site import DemoSite
from crawler.extract import extract_article
from crawler.extract.decode import decode_html
from tests.support.run import SHARED, newsmon

BASE = "http://127.0.0.1:8000"
to_traditional = opencc.OpenCC("s2t").convert


@pytest.fixture(scope="module")
def pages(site: DemoSite) -> dict:
    return site.pages(BASE)


def test_every_demo_article_extracts_its_metadata_and_body(site: DemoSite, pages: dict) -> None:
    for article in site.articles:
        page = pages[article.path]
        got = extract_article(page.body, BASE + article.path, page.content_type)
        assert got is not None, article.id
        assert got.published == article.published
        written_traditional = article.traditional and not article.garbled
        expected = (to_traditional if written_traditional else str)(article.outlet)
        assert got.outlet == expected, article.id
        if article.traditional:
            continue  # script: test_script_of_traditional_and_garbled_pages
        assert got.title == article.title
        body = got.text.replace("\n", "")
        for paragraph in article.paragraphs:
            assert paragraph.removeprefix("## ") in body, (article.id, paragraph[:20])


def test_script_of_traditional_and_garbled_pages(site: DemoSite, pages: dict) -> None:
    for article in (a for a in site.articles if a.traditional):
        page = pages[article.path]
        got = extract_article(page.body, BASE + article.path, page.content_type)
        assert got is not None and "traditional" in got.flags
        first = next(p for p in article.paragraphs if not p.startswith("## "))
        if article.garbled:
            # Machine-converted (pinyin tags betray it): read in Simplified, marked damaged.
            assert first[:12] in got.text and "pinyin_garbled" in got.flags
            assert got.title == article.title
            assert got.quality < 1.0
        else:
            # Written in Traditional: kept so, with a Simplified copy for tagging and search.
            assert to_traditional(first[:12]) in got.text and first[:12] in got.simplified
            assert got.quality == 1.0


@pytest.mark.parametrize("charset", ["both", "header", "meta", "none"])
@pytest.mark.parametrize("encoding", ["gbk", "big5"])
def test_legacy_encodings_with_and_without_declaration(
    encoding: str, charset: str, site: DemoSite
) -> None:
    import dataclasses

    article = next(a for a in site.articles if a.encoding == encoding)
    variant = dataclasses.replace(article, charset=charset)
    page = DemoSite([variant]).pages(BASE)[variant.path]
    assert ("charset" in page.content_type) == (charset in ("both", "header"))
    got = extract_article(page.body, BASE + variant.path, page.content_type)
    assert got is not None and "\ufffd" not in got.text
    expected_codec = "gb18030" if encoding == "gbk" else "big5hkscs"
    assert got.encoding == expected_codec
    assert got.title and len(got.title) > 8


def test_a_lying_declaration_is_overruled() -> None:
    text = (
        "<html><head><meta charset='utf-8'><title>算力券</title></head>"
        "<body><p>上海发布算力券。</p></body></html>"
    )
    decoded, codec = decode_html(text.encode("gbk"), "text/html; charset=utf-8")
    assert codec == "gb18030" and "上海发布算力券" in decoded
    latin, codec = decode_html(text.encode("gbk"), "text/html; charset=iso-8859-1")
    assert codec == "gb18030" and "算力券" in latin


def test_gb2312_declared_page_with_gbk_only_characters() -> None:
    text = "<meta charset='gb2312'><p>镕基、喆、堃等字不在GB2312里。</p>"
    decoded, codec = decode_html(text.encode("gb18030"))
    assert codec == "gb18030" and "镕基" in decoded and "喆" in decoded


def test_bom_and_truncated_utf8() -> None:
    decoded, codec = decode_html(codecs.BOM_UTF16_LE + "人工智能".encode("utf-16-le"))
    assert decoded == "人工智能"
    cut = "人工智能产业".encode()[:-1]
    decoded, codec = decode_html(cut)
    assert codec == "utf-8" and decoded.startswith("人工智能产")


def test_empty_and_binary_pages_are_not_articles() -> None:
    assert extract_article(b"", "http://x/") is None
    assert extract_article(b"%PDF-1.7\n\x00\x01\x02binary", "http://x/a.pdf") is None
    assert (
        extract_article(b"<html><body><p>\xe7\x82\xb9\xe8\xb5\x9e</p></body></html>", "http://x/")
        is None
    )


def test_extract_command_json_contract(tmp_path, pages: dict, site: DemoSite) -> None:
    article = site.articles[0]
    page = tmp_path / "page.html"
    page.write_bytes(pages[article.path].body)
    result = newsmon("extract", str(page), "--url", BASE + article.path, "--json")
    record = json.loads(result.stdout)
    assert list(record)[:6] == ["title", "text", "published", "outlet", "author", "url"]
    assert record["editor"] == article.editor and record["quality"] == 1.0
    assert "责任编辑" not in record["text"] and "相关稿件" not in record["text"]
    assert record["title"] == article.title and record["url"] == BASE + article.path
    assert record["outlet"] == article.outlet


def test_real_gbk_page_from_the_corpus() -> None:
    corpus = SHARED / "corpus"
    if not corpus.exists():
        pytest.skip(f"no corpus at {corpus} (set NEWSMON_SHARED)")
    gold = json.loads((corpus / "cx_extractor_163" / "001.json").read_text("utf-8"))
    raw = (corpus / "cx_extractor_163" / "001.html").read_bytes()
    got = extract_article(raw, "https://money.163.com/15/0803/07/AVUNLQ3J00253B0H.html")
    assert got is not None and got.encoding == "gb18030"
    assert got.title and got.title in gold["title"] and "\ufffd" not in got.text
    assert gold["silver_text"][:30] in got.text.replace("\n", "")


# A body shape no <p> marks (the failures of issue 17), with navigation and a related list
# around it: paragraphs written for the project, each long enough to read as sentences.
PARAGRAPHS = [
    "市经济和信息化局今天发布新一轮算力券申领指南，面向本市中小企业和科研团队，"
    "每家单位每年最多可申领五十万元，用于租用公共算力平台的训练和推理资源。",
    "指南明确，申领单位须在本市注册满一年，近两年无重大违法记录，并提交算力使用计划，"
    "平台将按季度核验实际用量，未使用部分次年不再结转，节余额度统一收回重新分配。",
    "负责人介绍，去年首批算力券共发放两千余万元，带动企业新增算力采购近一亿元，"
    "今年将把智能网联汽车、生物医药和工业设计等领域的模型训练列为重点支持方向。",
]
NAVIGATION = "".join(f'<li><a href="/n{i}.html">栏目导航第{i}项</a></li>' for i in range(12))
RELATED = "".join(
    f'<li><a href="/r{i}.html">相关新闻：本市召开第{i}次产业推进会部署下一步工作</a></li>'
    for i in range(8)
)


@pytest.mark.parametrize(
    "body",
    [
        "<span>" + "<br><br>".join(PARAGRAPHS) + "</span>",  # bare text split by <br><br>
        "".join(f"<span>{p}</span><br>" for p in PARAGRAPHS),
        '<dl><a href="/full.html">' + "<br><br>".join(PARAGRAPHS) + "</a></dl>",  # one link
    ],
    ids=["br-separated", "spans", "inside-one-link"],
)
def test_bodies_without_paragraph_tags(body: str) -> None:
    page = (
        "<html><head><title>算力券申领指南发布</title></head><body>"
        f"<ul>{NAVIGATION}</ul><div class='main'>{body}</div>"
        f"<div>最熱門新聞</div><ul>{RELATED}</ul></body></html>"
    )
    got = extract_article(page.encode("utf-8"), "http://127.0.0.1/news/1.html")
    assert got is not None
    text = got.text.replace("\n", "")
    assert all(p in text for p in PARAGRAPHS)
    assert "栏目导航" not in text and "产业推进会" not in text


OTHER_ENTRY = [
    "周末带孩子去了城郊的湿地公园，芦苇已经长得比人还高，栈道两边不时有白鹭飞起，"
    "孩子一路数到了二十多只，回家还念念不忘，说下次要带上望远镜再来看个清楚。",
    "公园里新开了一家自然教育中心，志愿者讲解候鸟迁徙的路线和季节，"
    "墙上的地图标出了每年经过这里的几十种鸟，孩子们围着问了很久才肯离开。",
]


def test_a_blog_index_page_reads_as_its_first_entry() -> None:
    def entry(title: str, paragraphs: list[str], posted: str, comments: int) -> str:
        return (
            f"<div class='entry'><h3><a href='/e/{comments}.html'>{title}</a> | {posted}</h3>"
            + "".join(f"<p>{p}</p>" for p in paragraphs)
            + f"<div class='foot'>由博主张贴 @ {posted} (370) 共 {comments} 篇评论"
            " <a href='#'>发表评论</a> &gt;&gt;&gt;</div></div>"
        )

    page = (
        "<html><head><title>博主的博客 | 文章归档</title></head><body>"
        f"<ul>{NAVIGATION}</ul>"
        + entry("算力券申领指南发布", PARAGRAPHS, "2024-06-14 03:25:55", 11)
        + entry("湿地公园看白鹭", OTHER_ENTRY, "2024-06-10 15:00:14", 29)
        + entry("湿地公园再访", OTHER_ENTRY[::-1], "2024-06-09 09:12:40", 3)
        + "</body></html>"
    )
    got = extract_article(page.encode("utf-8"), "http://127.0.0.1/archives.php?date=202406")
    assert got is not None
    text = got.text.replace("\n", "")
    assert all(p in text for p in PARAGRAPHS)
    assert not any(p in text for p in OTHER_ENTRY)


def test_a_news_page_with_a_dateline_and_a_comment_bar_reads_whole() -> None:
    # A posting time with a comment count under the lede and again under the body, as on many
    # news pages: unlike a blog's entry footers, the two are not alike, and the page is one
    # story.
    lines = [
        OTHER_ENTRY[0],
        "2024-06-14 03:25 来源：本报 发表评论",
        *PARAGRAPHS[:2],
        "发布于 2024-06-14 03:25 | 评论(3) | 分享",
        PARAGRAPHS[2],
    ]
    page = (
        "<html><head><title>算力券申领指南发布</title></head><body>"
        f"<ul>{NAVIGATION}</ul><article>"
        + "".join(f"<p>{line}</p>" for line in lines)
        + "</article></body></html>"
    )
    got = extract_article(page.encode("utf-8"), "http://127.0.0.1/news/2.html")
    assert got is not None
    text = got.text.replace("\n", "")
    assert all(p in text for p in PARAGRAPHS)


def test_a_forum_index_of_teasers_is_not_an_article() -> None:
    # Each thread: the reply count, the poster's name cut short before the time of the last
    # reply, its title, the board it is on (cut short too) and the date, and its first post:
    # sentences, and only the short lines cut.
    threads = [
        ("算力券怎么申领", PARAGRAPHS[0], "对酒当歌...", "15:00", 478),
        ("申领条件有哪些", PARAGRAPHS[1], "海博伦之...", "14:50", 212),
        ("去年发了多少", PARAGRAPHS[2], "驴肉火烧", "14:53", 0),
        ("湿地公园看白鹭", OTHER_ENTRY[0], "啊啊坏脾...", "7-12", 35),
        ("自然教育中心开了", OTHER_ENTRY[1], "高校招生...", "14:42", 12),
    ]
    items = "".join(
        f"<li><div>{name} {time}</div><span class='count'>{replies}</span>"
        f"<a href='/p/{replies}'>{title}</a><div>本地生活... 8-1</div>"
        f"<div class='abstract'>{post}</div></li>"
        for title, post, name, time, replies in threads
    )
    page = (
        "<html><head><title>本地生活吧-百度贴吧</title></head><body>"
        f"<ul>{NAVIGATION}</ul><ul class='threads'>{items}</ul></body></html>"
    )
    assert extract_article(page.encode("utf-8"), "http://127.0.0.1/f?kw=local") is None
