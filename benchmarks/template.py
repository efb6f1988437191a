"""Learning each source's template: extraction of a site whose chrome changes from page to page.

    .venv/bin/python benchmarks/template.py [--pages 200] [--crawl]

A generated site (tests/support/templated.py) of ``--pages`` article pages; around each body,
chrome drawn from a site-wide pool (recommended teasers and an advertising line inside the
article's block, related news beside it), different on every page. Its pages go in order
through extraction with the source's template learned as they pass (what a crawl does), and
without (the generic extractor alone). Prints the mean character-bigram F1 against the bodies
the generator knows of the first 10 pages and of the last 100, for both; then the same site
redesigned (other blocks, other chrome) read on with the same template: F1 of its first 10
and last 50 pages, and how often the template was learned again; and the stored template's
size. With ``--crawl`` the site is served on 127.0.0.1 and crawled for real in rounds of 20
new pages (each round a `newsmon crawl`, the template kept in the database between them), and
the stored bodies are scored. With ``--corpus PATH`` (the shared corpus) it also reads real
pages: for each site of the dev splits with more than ``--min-pages`` gold pages, each page
with the template learned from the site's other pages, against the generic extractor alone
(the template's own threshold lowered to ``--min-pages``: no site there has many pages).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from sqlite_utils import Database  # noqa: E402

from benchmarks.extraction import bigram_f1, gold_of, load_split, url_of  # noqa: E402
from crawler.extract import extract_article, template  # noqa: E402
from crawler.extract.template import Template  # noqa: E402
from crawler.pipelines.extract import extract_learning  # noqa: E402
from tests.support.templated import (  # noqa: E402
    SEEDS,
    TemplatedPage,
    TemplatedSite,
    redesigned,
    templated_site,
)

URL = "http://127.0.0.1:8000"
ROUND = 20


def score(page: TemplatedPage, text: str | None) -> float:
    return bigram_f1(text or "", "\n".join(page.body))


def read(pages: list[TemplatedPage], template: Template | None) -> list[float]:
    """F1 of each page in order, with ``template`` learned as they pass (None: without)."""
    scores = []
    for page in pages:
        html = page.html.encode()
        if template is None:
            article = extract_article(html, URL + page.path)
        else:
            article, observed = extract_learning(html, URL + page.path, None, None, template.hint())
            if observed is not None:
                template.learn(observed, URL + page.path)
        scores.append(score(page, article.text if article else None))
    return scores


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def crawled(site: list[TemplatedPage]) -> list[float]:
    """F1 of each page's stored body after crawling the site in rounds of ROUND new pages."""
    with tempfile.TemporaryDirectory() as folder, TemplatedSite(site, shown=0) as served:
        for shown in range(ROUND, len(site) + 1, ROUND):
            served.shown = shown
            served.crawl(Path(folder), SEEDS, "--quiet")
        db = Database(Path(folder) / "news.db")
        texts = {
            url.split("/", 3)[3]: text for url, text in db.execute("select url, text from articles")
        }
    return [score(page, texts.get(page.path.lstrip("/"))) for page in site]


def real_pages(corpus: Path, least: int) -> None:
    """Each page of a site with more than ``least`` gold pages in the dev splits, read with
    the template of the site's other pages and without: mean F1 of both, pages changed."""
    template.MIN_PAGES = least
    sites: dict[str, list[Path]] = defaultdict(list)
    for split in ("dev_gold_text", "dev_daniel"):
        for page in load_split(corpus, split):
            gold = gold_of(page)
            host = urlsplit(url_of(gold)).hostname
            if gold.get("text") and host and page not in sites[host]:
                sites[host].append(page)
    without, with_template, changed = [], [], 0
    for pages in sites.values():
        if len(pages) <= least:
            continue
        for held in pages:
            learned = Template()
            for page in pages:
                if page != held:
                    url = url_of(gold_of(page))
                    _, observed = extract_learning(
                        page.read_bytes(), url, None, None, learned.hint()
                    )
                    if observed is not None:
                        learned.learn(observed, url)
            gold, html = gold_of(held), held.read_bytes()
            plain = extract_article(html, url_of(gold))
            article, _ = extract_learning(html, url_of(gold), None, None, learned.hint())
            without.append(bigram_f1(plain.text if plain else "", str(gold["text"])))
            with_template.append(bigram_f1(article.text if article else "", str(gold["text"])))
            changed += abs(without[-1] - with_template[-1]) > 0.001
    print(
        f"real pages, sites of more than {least} (leave one out): {len(without)} pages,"
        f" F1 without {mean(without):.4f}, with the template {mean(with_template):.4f},"
        f" {changed} changed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--crawl", action="store_true", help="crawl the site on 127.0.0.1")
    parser.add_argument("--corpus", type=Path, help="also read the real pages of this corpus")
    parser.add_argument("--min-pages", type=int, default=4)
    args = parser.parse_args()
    if args.pages < 110:
        parser.error("--pages must be at least 110 (the first 10 and the last 100 are scored)")
    site = templated_site(args.pages)
    print(f"{args.pages} pages, chrome from a site-wide pool changing on every page")
    print(f"{'':34} {'first 10':>9} {'last 100':>9} {'pages/s':>8}")
    template = Template()
    for name, learning in (("learning off (generic extractor)", None), ("learning on", template)):
        started = time.perf_counter()
        scores = read(site, learning)
        speed = len(site) / (time.perf_counter() - started)
        print(f"{name:34} {mean(scores[:10]):9.3f} {mean(scores[-100:]):9.3f} {speed:8.1f}")
    size = len(json.dumps(template.state()))
    print(f"template after {template.seen} pages: {size:,} bytes of JSON")
    after = redesigned(site)[:100]
    print(f"{'redesigned, 100 pages':34} {'first 10':>9} {'last 50':>9}")
    for name, learning in (("learning off", None), ("learning on (same template)", template)):
        scores = read(after, learning)
        print(f"{name:34} {mean(scores[:10]):9.3f} {mean(scores[-50:]):9.3f}")
    print(f"template learned again {template.relearned} time(s)")
    if args.crawl:
        scores = crawled(site)
        print(
            f"{'crawled on 127.0.0.1, rounds of 20':34} {mean(scores[:10]):9.3f}"
            f" {mean(scores[-100:]):9.3f}"
        )
    if args.corpus:
        real_pages(args.corpus, args.min_pages)


if __name__ == "__main__":
    main()
