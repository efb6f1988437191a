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
