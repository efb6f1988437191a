"""Bad input that used to pass in silence: pages with a few bad bytes, pages nested too deep,
seeds that hang or overflow a crawl, and hosts written in a form the crawl did not match."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlite_utils import Database

from crawler import paths
from crawler.demo.server import DemoServer
from crawler.extract import extract_article
from crawler.extract.decode import decode_page
from crawler.patterns import backtracking_risk
from crawler.sources import Source, SourceError, load_sources
from crawler.urls import canonical_url
from tests.support.run import newsmon
from tests.support.sites import CITY_SEED

SENTENCES = [
    f"第{i}条，上海市将加快建设人工智能创新高地，支持企业开展大模型研发和应用，推动算力基础设施建设。"
    for i in range(1, 13)
]
TRADITIONAL = "臺北市發佈人工智慧產業發展措施，支援算力券與模型券，推動資料中心建設。" * 30


def page(body: str, charset: str = "utf-8", title: str = "上海发布人工智能若干措施") -> str:
    return (
        f"<html><head><meta charset='{charset}'><title>{title}</title></head>"
        f"<body>{body}</body></html>"
    )


def article_html() -> str:
    paragraphs = "".join(f"<p>{s}</p>" for s in SENTENCES)
    return f"<article><h1>上海发布人工智能若干措施</h1>{paragraphs}</article>"


def with_bad_bytes(data: bytes, at: int, bad: bytes = b"\xff\xfe") -> bytes:
    return data[:at] + bad + data[at:]


# --- decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", ["both", "header", "meta", "none"])
def test_utf8_page_with_a_few_bad_bytes_stays_utf8(declared: str) -> None:
    raw = page(article_html(), "utf-8" if declared in ("both", "meta") else "x").encode()
    content_type = "text/html; charset=utf-8" if declared in ("both", "header") else "text/html"
    at = raw.index(b"<p>", len(raw) // 2) + 3  # between two characters
    got = extract_article(with_bad_bytes(raw, at), "http://a.cn/a/1.html", content_type)
    assert got is not None and got.encoding == "utf-8"
    assert got.title == "上海发布人工智能若干措施"
    assert SENTENCES[0] in got.text and SENTENCES[-1] in got.text
    assert [f for f in got.flags if f.startswith("bad_bytes:")] == ["bad_bytes:2"]


@pytest.mark.parametrize(
    ("codec", "text", "expected"),
    [("gbk", "".join(SENTENCES) * 3, "gb18030"), ("big5", TRADITIONAL, "big5hkscs")],
)
def test_gb_and_big5_pages_with_a_few_bad_bytes_keep_their_charset(
    codec: str, text: str, expected: str
) -> None:
    raw = page(f"<p>{text}</p><p>{text}</p>", codec, title="算力券").encode(codec)
    decoded = decode_page(with_bad_bytes(raw, raw.rindex(b"<p>") + 3, b"\xff\xff"))
    assert decoded.codec == expected and decoded.bad_bytes == 2
    assert text[:40] in decoded.text


def test_a_declaration_the_bytes_contradict_is_still_overruled() -> None:
    raw = page(article_html(), "utf-8").encode("gbk")
    decoded = decode_page(with_bad_bytes(raw, 500), "text/html; charset=utf-8")
    assert decoded.codec == "gb18030" and SENTENCES[-1] in decoded.text
    utf8_declared_gbk = with_bad_bytes(page(article_html(), "gbk").encode(), 500, b"\xff")
    decoded = decode_page(utf8_declared_gbk)
    assert decoded.codec == "utf-8" and SENTENCES[-1] in decoded.text


def test_a_clean_page_has_no_bad_bytes_flag() -> None:
    got = extract_article(page(article_html()).encode(), "http://a.cn/a/1.html")
    assert got is not None and not [f for f in got.flags if f.startswith("bad_bytes")]


# --- nesting --------------------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "count"), [("div", 300), ("font", 300), ("span", 3000)])
def test_article_after_hundreds_of_unclosed_tags_comes_out(tag: str, count: int) -> None:
    html = page(f"<{tag}>" * count + article_html())
    got = extract_article(html.encode(), "http://a.cn/a/1.html")
    assert got is not None
    assert SENTENCES[0] in got.text and SENTENCES[-1] in got.text


# --- seeds ----------------------------------------------------------------------------------



def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "city.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load_sources([path])
    return info.value.problems


@pytest.mark.parametrize("pattern", ["^/(a+)+$", "(x+x+)+y", "(a|aa)+$", "(\\w+\\s?)+$"])
def test_a_catastrophic_pattern_is_refused_at_load(tmp_path: Path, pattern: str) -> None:
    text = CITY_SEED.replace("article_urls = [", f"list_urls = ['{pattern}']\narticle_urls = [")
    (line,) = problems_of(tmp_path, text)
    assert line.startswith(f"{tmp_path / 'city.toml'}:6: source 'city-a': pattern ")
    assert "can hang the crawl" in line and "list_urls" in line


def test_shipped_patterns_and_safe_repeats_pass() -> None:
    safe = ["(?:[\\w-]+/)+\\d+\\.html$", "(?:\\d+,)+$", "(?:/\\w+)+\\.html$", "(?:ab|cd)+"]
    # As the crawl matches them: a source's own patterns and those of its platforms.
    shipped = [
        p
        for s in load_sources([paths.shipped_seeds()])
        for p in [a.pattern for a in s.article_patterns] + list(s.list_urls)
    ]
    assert len(shipped) > 100
    assert [p for p in safe + shipped if backtracking_risk(p)] == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("delay = inf", "'delay' must be a number from 0 to 3600, not inf"),
        ("delay = nan", "'delay' must be a number from 0 to 3600, not nan"),
        ("timeout = inf", "'timeout' must be a number from 1 to 3600"),
        ("timeout = 0.5", "'timeout' must be a number from 1 to 3600"),
        ("concurrency = 1000", "'concurrency' must be a whole number from 1 to 64"),
        ("max_pages = 0", "'max_pages' must be a whole number from 1 to"),
        ('every = "0s"', "interval '0s' out of range"),
        ('every = "999999999999d"', "interval '999999999999d' out of range"),
        ('watch = ["1h", "99999999d"]', "interval '99999999d' out of range"),
    ],
)
def test_every_number_in_a_source_is_bounded(tmp_path: Path, line: str, expected: str) -> None:
    text = re.sub(r'(?m)^every = "6h"$', "", CITY_SEED) + line + "\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.startswith(f"{tmp_path / 'city.toml'}:") and expected in problem


def test_smtp_timeout_is_bounded(tmp_path: Path) -> None:
    from crawler.config import load_config

    for bad in ("inf", "nan", "0", "10000"):
        path = tmp_path / "config.toml"
        path.write_text(f"[smtp]\ntimeout = {bad}\n", encoding="utf-8")
        with pytest.raises(ValueError, match=r"\[smtp\] timeout must be a number 1-600"):
            load_config(path)


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_socket(path: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


def make_directory(path: Path) -> None:
    path.mkdir()


def make_dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "gone.toml")


@pytest.mark.parametrize("make", [make_fifo, make_socket, make_directory, make_dangling_link])
def test_a_seed_folder_entry_that_is_not_a_file_is_a_problem_line(
    tmp_path: Path, make: object
) -> None:
    (tmp_path / "good.toml").write_text(CITY_SEED, encoding="utf-8")
    odd = tmp_path / "x.toml"
    make(odd)  # type: ignore[operator]
    with pytest.raises(SourceError) as info:
        load_sources([tmp_path])  # a FIFO opened for reading would block here
    assert info.value.problems[0].startswith(f"{odd}: cannot read seed file: ")
    run = newsmon("sources", "--seeds", str(tmp_path), check=False, timeout=60)
    assert run.returncode != 0 and "Traceback" not in run.stderr and str(odd) in run.stderr


# --- hosts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "http://例子.测试/news/",
        "http://xn--fsqu00a.xn--0zwm56d/news/",
        "http://[::ffff:127.0.0.1]:8000/",
    ],
)
def test_domains_are_in_the_form_of_the_canonical_urls(start: str) -> None:
    source = Source(id="x", name="x", article_urls=("^/a$",), lists=(start,))
    assert source.domains == (urlsplit(canonical_url(start)).hostname,)


def test_a_start_url_outside_allowed_domains_is_a_load_error(tmp_path: Path) -> None:
    text = CITY_SEED.replace("every =", 'allowed_domains = ["www.a.gov.cn"]\nevery =')
    (problem,) = problems_of(tmp_path, text)
    assert "start URL https://jxj.a.gov.cn/zwgk/tzgg/ is outside allowed_domains" in problem


def test_a_source_on_an_ipv6_mapped_loopback_address_is_crawled(tmp_path: Path) -> None:
    demo = paths.demo_seeds().read_text("utf-8")
    with DemoServer() as server:
        port = server.url.rstrip("/").rsplit(":", 1)[1]
        seed = re.sub(
            r'(?m)^base_url = ".*"$', f'base_url = "http://[::ffff:127.0.0.1]:{port}/"', demo
        )
        seed = seed.replace('private_hosts = ["127.0.0.1"]', 'private_hosts = ["::ffff:127.0.0.1"]')
        (tmp_path / "seeds").mkdir()
        (tmp_path / "seeds" / "demo.toml").write_text(seed, "utf-8")
        db = tmp_path / "news.db"
        run = newsmon("crawl", "--seeds", str(tmp_path / "seeds"), "--db", str(db))
    assert "Traceback" not in run.stderr
    stored = Database(db)["articles"].count
    assert stored >= 20, run.stdout + run.stderr
