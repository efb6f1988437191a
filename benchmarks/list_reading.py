"""How well `newsmon sources add` reads a site's links into article_urls, on real pages.

    .venv/bin/python benchmarks/list_reading.py [--corpus PATH]

Article pages link their siblings (相关新闻, 上一篇, lists beside the body), so the patterns
proposed from an article page's links should take that page's own address: the share of the
corpus's article pages (every split but the list pages) whose URL a proposed pattern matches
is a measure that needs no gold (pages whose address has no number are left out: the
site's root, slugs). For the list and forum pages of ``negatives_list_pages``
it prints what was proposed and how many of the page's headline links it takes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html

from crawler.extract.decode import decode_html
from crawler.propose import DIGITS, Anchor, article_patterns, is_headline
from crawler.sources import Source
from crawler.urls import canonical_url, path_and_query

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import SHARED  # noqa: E402


def anchors(html: bytes, url: str) -> list[Anchor]:
    """The page's links on its own host, as `sources add` reads them."""
    text, _ = decode_html(html)
    try:
        doc = lxml.html.fromstring(text)
    except ValueError:
        doc = lxml.html.fromstring(text.encode("utf-8"))
    host = urlsplit(url).hostname
    found = []
    for a in doc.xpath("//a[@href]"):
        try:
            link = canonical_url(urljoin(url, a.get("href").strip()))
        except ValueError:
            continue
        if urlsplit(link).hostname == host:
            found.append(Anchor(path_and_query(link), " ".join(a.text_content().split())))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    corpus = parser.parse_args().corpus
    splits = corpus / "splits"
    lists = set((splits / "negatives_list_pages.txt").read_text().split())
    rows = [json.loads(line) for line in (corpus / "index.jsonl").read_text().splitlines()]
    outcome: Counter[str] = Counter()
    for row in rows:
        # A page named by its site's root or by an address with no number (a slug) is not
        # one whose address sources add could learn: counted apart.
        if row["file"] in lists or not row.get("url"):
            continue
        if not DIGITS.search(path_and_query(row["url"])):
            outcome["(not counted: an address without a number)"] += 1
            continue
        found = anchors((corpus / row["file"]).read_bytes(), row["url"])
        patterns = article_patterns(found)
        source = Source(id="x", name="x", article_urls=tuple(p.regex for p in patterns))
        if not patterns:
            outcome["no pattern proposed"] += 1
        elif source.is_article(row["url"]):
            outcome["own URL matched"] += 1
        else:
            outcome["own URL not matched"] += 1
    total = sum(n for key, n in outcome.items() if not key.startswith("("))
    print(f"article pages with a number in their address: {total}")
    for key, n in outcome.most_common():
        print(f"  {key}: {n}" + ("" if key.startswith("(") else f" ({n / total:.0%})"))
    print("list and forum pages (negatives_list_pages):")
    for name in sorted(lists):
        meta = json.loads((corpus / name).with_suffix(".json").read_text("utf-8"))
        found = anchors((corpus / name).read_bytes(), meta.get("url") or "http://example.invalid/")
        heads = sum(map(is_headline, found))
        patterns = article_patterns(found)
        taken = sum(len(p.paths) for p in patterns)
        print(f"  {name}: {len(found)} links, {heads} headlines, {taken} taken")
        for p in patterns:
            print(f"      {p.regex}  ({len(p.paths)})")


if __name__ == "__main__":
    main()
