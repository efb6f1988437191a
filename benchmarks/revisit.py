"""Revisits: what a second and a third crawl of a large site cost, and the alerts they raise.

    .venv/bin/python benchmarks/revisit.py [--articles 2000] [--changed 0.01]

Generates a site of N article pages from the bundled demo articles (each page its own story
number and lead sentence; tests/support/sites.py), serves it on 127.0.0.1, and crawls it three
times with `newsmon crawl`, each its own process as cron runs it: the first crawl, a revisit of
the site unchanged, and a revisit after a sentence was edited in a share of the articles (the
site's sitemap then dates them anew, as real sites do). For each pass it prints requests, bytes
the site sent, article pages parsed, wall time and alerts raised.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from sqlite_utils import Database

from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoArticle, DemoSite

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import newsmon  # noqa: E402
from tests.support.sites import generated  # noqa: E402

SOURCE = r"""
[[source]]
id = "bench"
name = "generated site"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
verified = true
lists = ["/policy/", "/industry/", "/local/"]
feeds = ["/rss.xml"]
sitemaps = ["/sitemap.xml"]
article_urls = ['^/[a-z]+/\d{{6}}/t\d{{8}}_\d+\.html$']
list_urls = ['^/(policy|industry|local)/(index_\d+\.html)?$']
max_list_pages = 3
delay = 0
concurrency = 16
"""


def edited(site: DemoSite, share: float) -> tuple[DemoSite, int]:
    """The site with one sentence changed in ``share`` of its articles."""
    step = max(1, round(1 / share))
    revised = now()
    articles: list[DemoArticle] = []
    changed = 0
    for i, article in enumerate(site.articles):
        if i % step == 0:
            lead = article.paragraphs[0].replace("已进入实施阶段", "已全部进入实施阶段")
            article = replace(
                article,
                paragraphs=(lead, *article.paragraphs[1:]),
                revision=article.revision + 1,
                revised=revised,
            )
            changed += 1
        articles.append(article)
    return DemoSite(articles), changed


def crawl(seeds: Path, db_path: Path) -> float:
    started = time.perf_counter()
    args = ("crawl", "--quiet", "--source", "bench", "--seeds", str(seeds), "--db", str(db_path))
    newsmon(*args, capture=False, timeout=None)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--changed", type=float, default=0.01)
    args = parser.parse_args()
    site = generated(args.articles)
    print(f"{'pass':22} {'requests':>9} {'bytes':>12} {'parsed':>7} {'seconds':>8} {'alerts':>7}")
    with DemoServer(site) as server, tempfile.TemporaryDirectory() as tmp:
        seeds, db_path = Path(tmp) / "bench.toml", Path(tmp) / "bench.db"
        seeds.write_text(SOURCE.format(url=server.url), encoding="utf-8")
        first = None
        for name in ("first crawl", "revisit, unchanged", "revisit, some changed"):
            if name == "revisit, some changed":
                changed_site, changed = edited(site, args.changed)
                server.update(changed_site)
                name = f"revisit, {changed} changed"
            requests, sent = len(server.requested), server.bytes_sent
            db = Database(db_path) if db_path.exists() else None
            alerts_before = db["alerts"].count if db else 0
            runs_before = db["crawl_runs"].count if db else 0
            seconds = crawl(seeds, db_path)
            db = Database(db_path)
            parsed = next(
                db.query(
                    "select count(*) n from fetches f join crawl_runs r on r.id = f.run_id"
                    " where f.kind = 'article' and f.status = 200 and r.id > ?",
                    [runs_before],
                )
            )["n"]
            row = (
                len(server.requested) - requests,
                server.bytes_sent - sent,
                parsed,
                seconds,
                db["alerts"].count - alerts_before,
            )
            first = first or row
            print(f"{name:22} {row[0]:9d} {row[1]:12d} {row[2]:7d} {row[3]:8.1f} {row[4]:7d}")
            if row is not first:
                print(
                    f"{'':22} {row[0] / first[0]:9.1%} {row[1] / first[1]:12.2%} "
                    f"{'':7} {row[3] / first[3]:8.1%}   of the first crawl"
                )


if __name__ == "__main__":
    main()
