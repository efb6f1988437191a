"""The demo's digests as a reader gets them: lines, sections and where the first change is.

    .venv/bin/python benchmarks/digest.py

The demo site is crawled, its digest sent (written to a file, as `newsmon demo` does), the
site changed by updates.toml, crawled again and its digest sent: the first and second
digests. Beside them, the same two crawls with --no-baseline and one digest of both, which is
what the demo wrote before a first crawl was a baseline. Each digest's text part is what
`newsmon digest --dry-run` prints; a section is a ``== … ==`` heading with its items
(lines starting ``·``), and the first change is the line of the first changed article.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from crawler.paths import demo_seeds

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import newsmon  # noqa: E402

DRY_RUN_HEAD = re.compile(r"\A.*?\n--- to [^\n]* ---\n", re.S)


def crawl(url: str, db_path: Path, *options: str) -> None:
    newsmon(
        "crawl", "--quiet", "--source", "demo", "--seeds", str(demo_seeds()), "--base-url", url,
        "--db", str(db_path), *options,
    )  # fmt: skip


def text_part(db_path: Path) -> str:
    """The digest's text part as `digest --dry-run` shows it; then the digest is sent (to a
    file), so that the next one holds only what came after."""
    shown = newsmon("digest", "--db", str(db_path), "--dry-run", "--to", "a@example.cn").stdout
    newsmon("digest", "--db", str(db_path), "--out", str(db_path.with_suffix(".html")))
    return DRY_RUN_HEAD.sub("", shown)


def figures(name: str, text: str) -> None:
    lines = text.rstrip("\n").splitlines()
    sections: list[tuple[str, int]] = []
    for line in lines:
        heading = re.match(r"^== (.+) ==$", line)
        if heading:
            sections.append((heading.group(1), 0))
        elif sections and line.lstrip().startswith("· "):
            sections[-1] = (sections[-1][0], sections[-1][1] + 1)
    change = next((n for n, line in enumerate(lines, 1) if line == "== 更新的文章 =="), None)
    first_change = f"line {change + 1} of {len(lines)}" if change else "no change"
    print(f"{name}: {len(lines)} lines, subject {lines[0]!r}; first change: {first_change}")
    for heading, items in sections:
        print(f"    {heading}: {items} items")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with DemoServer() as server:
            baseline, every = folder / "baseline.db", folder / "every.db"
            crawl(server.url, baseline)
            first = text_part(baseline)
            crawl(server.url, every, "--no-baseline")
            server.update(server.site.updated(load_updates(), now()))
            crawl(server.url, baseline)
            second = text_part(baseline)
            crawl(server.url, every)
            both = text_part(every)
        figures("first digest (first crawl, a baseline)", first)
        figures("second digest (second crawl)", second)
        figures("one digest of both crawls with --no-baseline (the demo's before)", both)


if __name__ == "__main__":
    main()
