"""Extraction quality and speed: newsmon against bare trafilatura and readability-lxml.

    .venv/bin/python benchmarks/extraction.py [--corpus ../shared/corpus] [--split dev_gold_text]

Prints, per extractor, over the pages of one split: mean character-bigram F1 against the gold
text (the corpus README's score), pages below 0.5, pages/s; then title and date accuracy over
every page with a gold title or date (the split, dev_partial_gold and the other pages with
gold), and how many of the list pages in negatives_list_pages were rejected as not articles.
The corpus path comes from --corpus, else $NEWSMON_SHARED/corpus, else ../shared/corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import lxml.html
import trafilatura
from readability import Document

from crawler.extract import extract_article

PROJECT = Path(__file__).resolve().parent.parent
Extractor = Callable[[bytes, str], "Result"]
TITLE_SEPARATORS = re.compile(r"\s*(?:_|\||-{1,2}|–|—(?!—)|·|::|»|>|┊|｜)\s*")


@dataclass
class Result:
    text: str
    title: str | None = None
    published: str | None = None


def newsmon(html: bytes, url: str) -> Result:
    article = extract_article(html, url)
    if article is None:
        return Result("")
    return Result(article.text, article.title, article.published)


def bare_trafilatura(html: bytes, url: str) -> Result:
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if not isinstance(doc, trafilatura.settings.Document):
        return Result("")
    return Result(doc.text or "", doc.title, doc.date)


def readability(html: bytes, url: str) -> Result:
    try:
        doc = Document(html, url=url)
        summary = doc.summary(html_partial=True)
        text = lxml.html.fromstring(summary).text_content() if summary.strip() else ""
        return Result(text, doc.short_title())
    except Exception:  # noqa: BLE001 - a baseline that fails scores zero on that page
        return Result("")


EXTRACTORS: dict[str, Extractor] = {
    "newsmon": newsmon,
    "trafilatura": bare_trafilatura,
    "readability-lxml": readability,
}


def bigrams(text: str) -> Counter[str]:
    chars = re.sub(r"\s", "", text)
    return Counter(chars[i : i + 2] for i in range(len(chars) - 1))


def bigram_f1(predicted: str, gold: str) -> float:
    """The corpus README's score: F1 of the multisets of adjacent character pairs."""
    p, g = bigrams(predicted), bigrams(gold)
    shared = sum((p & g).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(p.values()), shared / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def normal(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text).lower()


def title_matches(predicted: str | None, gold: str) -> bool:
    """Right when equal to the gold page title or to a run of its separator-delimited parts
    (a headline without the site's suffix, as newsmon gives it)."""
    if not predicted:
        return False
    if normal(predicted) == normal(gold):
        return True
    parts = [normal(p) for p in TITLE_SEPARATORS.split(gold) if p.strip()]
    wanted = normal(predicted)
    return any(
        "".join(parts[i:j]) == wanted or "".join(parts[i:j]) == re.sub(r"\W", "", wanted)
        for i in range(len(parts))
        for j in range(i + 1, len(parts) + 1)
    )


def date_matches(predicted: str | None, gold: str) -> bool:
    if not predicted:
        return False
    numbers = [int(n) for n in re.findall(r"\d+", gold)[:3]]
    got = [int(n) for n in re.findall(r"\d+", predicted)[:3]]
    return got[: len(numbers)] == numbers


def load_split(corpus: Path, name: str) -> list[Path]:
    lines = (corpus / "splits" / f"{name}.txt").read_text("utf-8").split()
    return [corpus / line for line in lines]


def gold_of(page: Path) -> dict[str, object]:
    return json.loads(page.with_suffix(".json").read_text("utf-8"))


def url_of(gold: dict[str, object]) -> str:
    return str(gold.get("url") or "http://127.0.0.1/article.html")


def main() -> None:
    default_corpus = Path(os.environ.get("NEWSMON_SHARED", PROJECT.parent / "shared")) / "corpus"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("--split", default="dev_gold_text")
    parser.add_argument("--only", choices=list(EXTRACTORS), action="append")
    parser.add_argument("--worst", type=int, default=0, help="list newsmon's N worst pages")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "splits").is_dir():
        parser.error(f"no corpus at {corpus} (pass --corpus or set NEWSMON_SHARED)")

    pages = [p for p in load_split(corpus, args.split) if gold_of(p).get("text")]
    titled = sorted(
        {p for name in ("dev_gold_text", "dev_partial_gold") for p in load_split(corpus, name)}
        | set(pages)
    )
    negatives = load_split(corpus, "negatives_list_pages")
    articles = load_split(corpus, "dev_no_gold_articles")
    raw = {p: p.read_bytes() for p in set(pages) | set(titled) | set(negatives) | set(articles)}

    print(f"corpus {corpus}, split {args.split}: {len(pages)} pages with gold text")
    print(
        f"{'extractor':18} {'mean F1':>8} {'<0.5':>5} {'pages/s':>8} "
        f"{'title':>12} {'date':>12} {'lists rejected':>15} {'articles kept':>14}"
    )
    speeds = {}
    for name in args.only or EXTRACTORS:
        extractor = EXTRACTORS[name]
        started = time.perf_counter()
        results = {p: extractor(raw[p], url_of(gold_of(p))) for p in pages}
        speed = len(pages) / (time.perf_counter() - started)
        scores = {p: bigram_f1(results[p].text, str(gold_of(p)["text"])) for p in pages}
        titles = dates = titles_right = dates_right = 0
        for page in titled:
            gold = gold_of(page)
            result = results.get(page) or extractor(raw[page], url_of(gold))
            if gold.get("title"):
                titles += 1
                titles_right += title_matches(result.title, str(gold["title"]))
            if gold.get("date"):
                dates += 1
                dates_right += date_matches(result.published, str(gold["date"]))
        rejected = sum(not extractor(raw[p], url_of(gold_of(p))).text.strip() for p in negatives)
        kept = sum(bool(extractor(raw[p], url_of(gold_of(p))).text.strip()) for p in articles)
        speeds[name] = speed
        mean = sum(scores.values()) / len(scores)
        low = sum(s < 0.5 for s in scores.values())
        print(
            f"{name:18} {mean:8.3f} {low:5d} {speed:8.1f} "
            f"{titles_right:>4}/{titles:<3}{titles_right / max(titles, 1):5.2f} "
            f"{dates_right:>4}/{dates:<3}{dates_right / max(dates, 1):5.2f} "
            f"{rejected:>9}/{len(negatives)} {kept:>9}/{len(articles)}"
        )
        if name == "newsmon" and args.worst:
            for page, score in sorted(scores.items(), key=lambda kv: kv[1])[: args.worst]:
                print(f"    {score:.3f} {page.relative_to(corpus)}")
    if {"newsmon", "trafilatura"} <= speeds.keys():
        ratio = speeds["newsmon"] / speeds["trafilatura"]
        print(f"throughput newsmon / bare trafilatura, same run: {ratio:.2f}")


if __name__ == "__main__":
    main()
