"""Work per page against its size: extract, clean and tag pages of 100 KB to 6 MB.

    .venv/bin/python benchmarks/page_size.py [--family article|links|both] [--sizes 100K,6M]

Two families of generated pages, both made of the demo site's article texts (crawler.demo.site):
``article`` is one article page (head, navigation, breadcrumb, the article's paragraphs
repeated, each pass in another order under its own heading, a related-links list and a footer
link farm) grown to the size; ``links`` is a page of many short items, each a link and a
paragraph (at 1.5 MB about 8,000 of each), the shape of a long listing or a forum thread.

For each page it prints the CPU seconds of extract (``extract_article``, which cleans the
candidate bodies inside it), of clean alone (``clean_text`` over the whole page's text: part
of extract, not added to the total) and of tag (``classify`` of the extracted body with its
title); the total (extract and tag), the wall-clock seconds of that total, and CPU seconds per
MB: flat down the column is linear work. CPU time, because the load average (printed first)
on a shared machine stretches wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from html import escape

import lxml.html

from crawler.classify import classify
from crawler.clean import clean_text
from crawler.demo.site import DemoArticle, load_site
from crawler.extract import extract_article

MB = 1024 * 1024
SIZES = "100K,200K,400K,800K,1.5M,3M,6M"
URL = "http://127.0.0.1/policy/202305/t20230531_1001.html"
TITLE = "深圳发布人工智能高质量发展行动方案 统筹设立千亿元基金群"
HEAD = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>{TITLE}_政策解读_智策新闻网</title>
<meta name="keywords" content="人工智能,行动方案,深圳">
<meta name="description" content="深圳市人民政府办公厅正式印发行动方案">
<meta name="publishdate" content="2023-05-31 18:20">
</head><body>
<div class="top">智策新闻网 聚焦区域人工智能产业政策</div>
"""

ARTICLE_TOP = (
    '<div class="crumb">当前位置：<a href="/">首页</a> &gt;&gt; 政策解读 &gt;&gt; 正文</div>'
    f'<div class="article"><h1>{TITLE}</h1>'
    '<div class="info">2023-05-31 18:20 来源：深圳特区报 作者：记者 陈晓</div>'
    '<div class="content" id="content">\n'
)


def parse_size(text: str) -> int:
    """100K, 1.5M → bytes."""
    unit = {"K": 1024, "M": MB}[text[-1].upper()]
    return int(float(text[:-1]) * unit)


def articles() -> list[DemoArticle]:
    return load_site().articles


def nav() -> str:
    site = load_site()
    items = "".join(f'<li><a href="/{key}/">{label}</a></li>' for key, label in site.sections)
    cities = "".join(f'<li><a href="/local/?city={c}">{c}</a></li>' for c in site.friend_links[:24])
    return f'<ul class="nav"><li><a href="/">首页</a></li>{items}</ul><ul class="nav">{cities}</ul>'


def related(count: int) -> str:
    links = (
        f'<li><a href="{a.path}">{escape(a.title)}</a> <span>{a.published[:10]}</span></li>'
        for a in articles()[:count]
    )
    return f'<div class="related"><h3>相关稿件</h3><ul>{"".join(links)}</ul></div>'


def footer() -> str:
    links = " ".join(f'<a href="/">{name}</a>' for name in load_site().friend_links)
    return (
        f'<div class="friends">友情链接：{links}</div>'
        '<div class="footer">版权所有 智策新闻网 京ICP备00000000号</div></body></html>'
    )


def article_passes() -> Iterator[str]:
    """The article's body, one pass at a time: every demo paragraph, each pass rotated."""
    paragraphs = [p for a in articles() for p in a.paragraphs]
    k = 0
    while True:
        k += 1
        shift = (k * 7) % len(paragraphs)
        rotated = paragraphs[shift:] + paragraphs[:shift]
        parts = [f"<h3>第{k}部分 政策要点</h3>"]
        for p in rotated:
            tag = "h3" if p.startswith("## ") else "p"
            parts.append(f"<{tag}>{escape(p.removeprefix('## '))}</{tag}>")
        yield "\n".join(parts)


def link_items() -> Iterator[str]:
    """Items of a long listing: a link to an article and a sentence of one."""
    demo = articles()
    sentences = [s + "。" for a in demo for p in a.paragraphs for s in p.split("。") if len(s) > 20]
    n = 0
    while True:
        n += 1
        a = demo[n % len(demo)]
        sentence = escape(sentences[n % len(sentences)])
        yield (
            f'<li><a href="/{a.section}/{n}.html">{escape(a.title)}（{n}）</a>'
            f"<p>{sentence}</p></li>"
        )


def article_page(size: int) -> bytes:
    head = HEAD + nav() + ARTICLE_TOP
    tail = "</div><p>（责任编辑：刘洋）</p></div>" + related(20) + footer()
    return grown(head, tail, article_passes(), size)


def links_page(size: int) -> bytes:
    head = HEAD + nav() + f'<div class="list"><h1>{TITLE}</h1><ul>\n'
    return grown(head, "</ul></div>" + footer(), link_items(), size)


def grown(head: str, tail: str, parts: Iterator[str], size: int) -> bytes:
    """``head``, as many of ``parts`` as reach ``size`` bytes in UTF-8, ``tail``."""
    chunks, total = [head], len(head.encode()) + len(tail.encode())
    while total < size:
        chunk = next(parts) + "\n"
        chunks.append(chunk)
        total += len(chunk.encode())
    return ("".join(chunks) + tail).encode()


def timed[T](work: Callable[[], T]) -> tuple[float, float, T]:
    """CPU and wall-clock seconds of ``work``, and its result."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = work()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def measure(family: str, page: bytes) -> str:
    extract_s, extract_wall, article = timed(lambda: extract_article(page, URL))
    page_text = lxml.html.document_fromstring(page).text_content()
    clean_s, _, _ = timed(lambda: clean_text(page_text, TITLE))
    body = article.simplified if article is not None else page_text
    title = article.title if article is not None else TITLE
    tag_s, tag_wall, tags = timed(lambda: classify(body, title, "2023-05-31"))
    total = extract_s + tag_s
    mb = len(page) / MB
    notes = [f"{len(tags.topics)} topics"]
    if article is None:
        notes.append("no article: tagged the page text")
    elif article.flags:
        notes.append(" ".join(article.flags))
    if tags.truncated_for_tagging:
        notes.append("truncated_for_tagging")
    return (
        f"{family:8} {mb:7.2f} {len(body):10,} {extract_s:8.2f} {clean_s:7.2f} {tag_s:7.2f}"
        f" {total:7.2f} {extract_wall + tag_wall:7.2f} {total / mb:8.2f}   {', '.join(notes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=("article", "links", "both"), default="both")
    parser.add_argument("--sizes", default=SIZES, help=f"comma-separated (default {SIZES})")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    families = {"article": article_page, "links": links_page}
    chosen = families if args.family == "both" else {args.family: families[args.family]}
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average (1, 5, 15 min): {load} on {os.cpu_count()} cores")
    classify("预热：人工智能。", None, None)  # dictionaries and automata load outside the timings
    print(
        f"{'family':8} {'MB':>7} {'chars':>10} {'extract':>8} {'clean':>7} {'tag':>7}"
        f" {'total':>7} {'wall':>7} {'s per MB':>8}"
    )
    for family, make in chosen.items():
        for size in sizes:
            print(measure(family, make(size)), flush=True)


if __name__ == "__main__":
    main()
