"""Attachments: how much of the text written into each kind of file comes back out.

    .venv/bin/python benchmarks/attachments.py [--articles 40]

Makes one attachment of each kind (PDF with a Chinese text layer, DOCX, XLSX, ZIP of a PDF
and an XLSX; crawler/demo/documents.py) from each of the first N public articles of the
bundled demo site, reads each with crawler.attachments.read_attachment, and prints per kind
the mean and the lowest character-bigram F1 against the text the generator wrote (the score
of benchmarks/extraction.py); the share of the lines it wrote (paragraphs, table rows) found
whole in the text read, which the F1 (blind to whitespace) cannot tell: a paragraph broken at
the PDF's line wraps splits a sentence for the diff and a word for search; and the reading
time per file. Then whether a scanned PDF is flagged. Target: F1 >= 0.98 for every kind.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))

from benchmarks.extraction import bigram_f1  # noqa: E402
from crawler.attachments import read_attachment  # noqa: E402
from crawler.demo.documents import samples, scanned_pdf  # noqa: E402
from crawler.demo.site import load_site  # noqa: E402
from tests.support.sites import public  # noqa: E402

TARGET = 0.98


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=40, help="demo articles to use")
    args = parser.parse_args()
    articles = public(load_site())[: args.articles]
    scores: defaultdict[str, list[float]] = defaultdict(list)
    seconds: defaultdict[str, float] = defaultdict(float)
    whole: defaultdict[str, list[bool]] = defaultdict(list)
    for article in articles:
        for sample in samples(article.title, list(article.paragraphs)):
            started = time.perf_counter()
            read = read_attachment(sample.data, sample.name)
            seconds[read.kind] += time.perf_counter() - started
            scores[read.kind].append(bigram_f1(read.text, sample.text))
            whole[read.kind] += [line in read.text for line in sample.text.splitlines() if line]
    print(f"attachments of {len(articles)} demo articles, one of each kind per article")
    print(
        f"{'kind':6} {'files':>5} {'mean F1':>8} {'min F1':>8} {'lines whole':>11} {'ms/file':>8}"
    )
    for kind, values in scores.items():
        mean = sum(values) / len(values)
        ms = 1000 * seconds[kind] / len(values)
        flag = "" if min(values) >= TARGET else f"  below {TARGET}"
        lines = sum(whole[kind]) / len(whole[kind])
        low = min(values)
        print(f"{kind:6} {len(values):5d} {mean:8.4f} {low:8.4f} {lines:11.1%} {ms:8.1f}{flag}")
    scan = read_attachment(scanned_pdf(pages=2), "扫描件.pdf")
    print(f"scanned PDF: text {len(scan.text)} characters, error {scan.error!r}")


if __name__ == "__main__":
    main()
