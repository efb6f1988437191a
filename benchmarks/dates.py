"""Dates by method: newsmon's readers against htmldate's and dateparser's, on the corpus gold.

    .venv/bin/python benchmarks/dates.py [--corpus ../shared/corpus] [-v]

Prints, over the pages of dev_gold_text and dev_partial_gold with a gold date, how many days
each whole-page reader gets right (newsmon's page_metadata, htmldate.find_date fast and
extensive); then the meta/JSON-LD readers and the URL readers alone: on how many pages each
gives a date, and how many of those are right; then the relative forms ("3小时前", "昨日 08:00")
read by newsmon and by dateparser from a fixed fetch time. The figures are the ones quoted in
crawler/extract/meta/dates.py. The corpus path comes as in benchmarks/extraction.py.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import htmldate
import lxml.html
from dateparser.date import DateDataParser
from extraction import date_matches, gold_of, load_split, url_of  # run as a script, beside it
from htmldate.core import examine_header
from htmldate.extractors import extract_url_date, json_search
from htmldate.utils import Extractor
from lxml.html import HtmlElement

from crawler.extract.decode import decode_html
from crawler.extract.meta import page_metadata
from crawler.extract.meta.dates import EARLIEST, META_PUBLISHED, meta_date, url_date
from crawler.extract.meta.page import walk

PROJECT = Path(__file__).resolve().parent.parent
OUTPUT = "%Y-%m-%d %H:%M"
FETCHED = datetime(2024, 6, 19, 10, 0)  # Beijing time
RELATIVE_FORMS = {
    "3小时前": "2024-06-19 07:00",
    "3小時前": "2024-06-19 07:00",
    "30分钟前": "2024-06-19 09:30",
    "30分鐘前": "2024-06-19 09:30",
    "10秒前": "2024-06-19 09:59",
    "2天前": "2024-06-17",
    "刚刚": "2024-06-19 10:00",
    "剛剛": "2024-06-19 10:00",
    "今天 08:00": "2024-06-19 08:00",
    "今日": "2024-06-19",
    "昨天 14:20": "2024-06-18 14:20",
    "昨日 08:00": "2024-06-18 08:00",
    "前天": "2024-06-17",
}
Reader = Callable[[HtmlElement, str], str | None]


def htmldate_options(latest: datetime) -> Extractor:
    return Extractor(False, latest, EARLIEST, True, OUTPUT)


def newsmon_page(tree: HtmlElement, url: str) -> str | None:
    return page_metadata(tree, url).published


def htmldate_page(extensive: bool) -> Reader:
    def read(tree: HtmlElement, url: str) -> str | None:
        return htmldate.find_date(tree, url=url, extensive_search=extensive, original_date=True)

    return read


def newsmon_meta(tree: HtmlElement, url: str) -> str | None:
    stamp = meta_date(walk(tree), META_PUBLISHED, datetime.now() + timedelta(days=1))
    return str(stamp) if stamp else None


def htmldate_meta(tree: HtmlElement, url: str) -> str | None:
    options = htmldate_options(datetime.now() + timedelta(days=1))
    return examine_header(tree, options) or json_search(tree, options)


def newsmon_url(tree: HtmlElement, url: str) -> str | None:
    stamp = url_date(url, datetime.now() + timedelta(days=1))
    return str(stamp) if stamp else None


def htmldate_url(tree: HtmlElement, url: str) -> str | None:
    return extract_url_date(url, htmldate_options(datetime.now() + timedelta(days=1)))


def newsmon_relative(form: str) -> str | None:
    html = f"<html><body><h1>深圳发布算力券新政</h1><div>{form}</div><p>正文。</p></body></html>"
    fetched = FETCHED.replace(tzinfo=UTC) - timedelta(hours=8)
    return page_metadata(lxml.html.document_fromstring(html), "http://x.cn/a", fetched).published


def dateparser_relative(parser: DateDataParser, form: str) -> str | None:
    data = parser.get_date_data(form)
    if data.date_obj is None:
        return None
    return f"{data.date_obj:%Y-%m-%d}" if data.period == "day" else f"{data.date_obj:{OUTPUT}}"


def main() -> None:
    default_corpus = Path(os.environ.get("NEWSMON_SHARED", PROJECT.parent / "shared")) / "corpus"
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus)
    parser.add_argument("-v", "--verbose", action="store_true", help="list the wrong answers")
    args = parser.parse_args()
    corpus: Path = args.corpus
    if not (corpus / "splits").is_dir():
        parser.error(f"no corpus at {corpus} (pass --corpus or set NEWSMON_SHARED)")
    pages = sorted(
        p
        for name in ("dev_gold_text", "dev_partial_gold")
        for p in load_split(corpus, name)
        if gold_of(p).get("date")
    )
    texts = {p: decode_html(p.read_bytes(), None)[0] for p in pages}

    print(f"{len(pages)} pages with a gold date")
    print(f"{'reader':34} {'answered':>8} {'right':>6} {'of all':>7} {'seconds':>8}")
    readers: dict[str, Reader] = {
        "newsmon page_metadata": newsmon_page,
        "htmldate find_date, fast": htmldate_page(extensive=False),
        "htmldate find_date, extensive": htmldate_page(extensive=True),
        "newsmon meta tags + JSON-LD": newsmon_meta,
        "htmldate examine_header+json_search": htmldate_meta,
        "newsmon URL": newsmon_url,
        "htmldate extract_url_date": htmldate_url,
    }
    for name, read in readers.items():
        answered = right = 0
        started = time.perf_counter()
        for page in pages:
            gold = gold_of(page)
            got = read(lxml.html.document_fromstring(texts[page]), url_of(gold))
            answered += got is not None
            right += date_matches(got, str(gold["date"]))
            if args.verbose and got and not date_matches(got, str(gold["date"])):
                print(f"    wrong: {page.relative_to(corpus)} {got} (gold {gold['date']})")
        seconds = time.perf_counter() - started
        print(f"{name:34} {answered:8d} {right:6d} {right / len(pages):7.2f} {seconds:8.2f}")

    dateparser = DateDataParser(
        languages=["zh", "zh-Hant"],
        settings={"RELATIVE_BASE": FETCHED, "RETURN_TIME_AS_PERIOD": True},
    )
    relative = {
        "newsmon": newsmon_relative,
        "dateparser (zh, zh-Hant)": lambda form: dateparser_relative(dateparser, form),
    }
    print(f"\nrelative forms, fetched {FETCHED:{OUTPUT}} Beijing time")
    for name, read in relative.items():
        started = time.perf_counter()
        got = {form: read(form) for form in RELATIVE_FORMS}
        per_call = (time.perf_counter() - started) / len(RELATIVE_FORMS) * 1000
        right = [form for form, want in RELATIVE_FORMS.items() if got[form] == want]
        missed = ", ".join(form for form in RELATIVE_FORMS if form not in right) or "none"
        print(f"{name:26} {len(right):2d}/{len(RELATIVE_FORMS)} right, {per_call:.2f} ms a form")
        print(f"{'':26} wrong or missed: {missed}")


if __name__ == "__main__":
    main()
