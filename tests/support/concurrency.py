"""Readers while crawls write: Datasette and a plain sqlite3 connection querying while crawls
of a generated site write, and two crawls writing one database at once."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from crawler.db import open_db
from crawler.demo.server import DemoServer
from tests.support.run import free_port, newsmon_command, start
from tests.support.sites import changed_site, path_of, write_seeds
from tests.support.state import EMPTY, LOCKED, Tally, read_state
from tests.support.web import answers


@dataclass
class Reads:
    """What the readers and writers of a concurrency run saw."""

    seconds: float = 0.0
    http: int = 0  # requests answered
    sql: int = 0  # queries run on the plain connection
    lock_errors: int = 0  # readers' "database is locked", HTTP and SQL
    errors: int = 0  # other failures of readers (HTTP 5xx, exceptions)
    crawls: int = 0
    writer_lock_errors: int = 0  # in the crawls' output, crawl_runs and fetches
    articles_written: int = 0  # articles and versions added while the readers read
    problems: list[str] = field(default_factory=list)


# What users ask Datasette: search, facets, the article_index view, canned queries.
HTTP_PATHS = (
    "/news/articles.json?_search=" + quote("算力") + "&_size=20",
    "/news/articles?_search=" + quote("人工智能"),
    "/news/article_index.json?_facet=month&_facet=source_id&_size=10",
    "/news/article_index?_facet_array=regions&_facet_array=topics",
    "/news/article_regions.json?_facet=region&_size=5",
    "/news/new_this_week.json?_shape=array",
    "/news/changed_articles.json?_shape=array",
    "/news/source_health.json?_shape=array",
    "/news/stories_with_copies.json?_shape=array",
    "/news/alerts.json?_sort_desc=id&_size=20",
    "/news/crawl_runs.json?_sort_desc=id",
    "/news.json?sql=" + quote("select count(*) as n from fetches"),
)
# What a user runs in a sqlite3 shell or a notebook.
SQL = (
    (
        "select a.id, a.title from articles_fts f join articles a on a.id = f.rowid"
        " where articles_fts match ? order by rank limit 20",
        ("算力",),
    ),
    ("select source_id, count(*) from article_index group by source_id", ()),
    ("select month, count(*) from article_index group by month order by 2 desc", ()),
    (
        "select j.value, count(*) from article_index, json_each(article_index.regions) j"
        " group by j.value order by 2 desc limit 20",
        (),
    ),
    ("select topic, count(*) from article_topics group by topic", ()),
    ("select * from article_index order by published desc limit 50", ()),
    ("select count(*) from versions where version > 1", ()),
    ("select status, count(*) from crawl_runs group by status", ()),
)


def read_http(base: str, stop: threading.Event, reads: Reads, lock: threading.Lock) -> None:
    i = 0
    while not stop.is_set():
        url = base + HTTP_PATHS[i % len(HTTP_PATHS)]
        i += 1
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = response.read().decode("utf-8", "replace")
            failed = None
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            failed = f"HTTP {exc.code}"
        except OSError as exc:
            body, failed = str(exc), type(exc).__name__
        with lock:
            reads.http += 1
            if LOCKED.search(body):
                reads.lock_errors += 1
                reads.problems.append(f"{url}: {failed or 'HTTP 200'}: database is locked")
            elif failed:
                reads.errors += 1
                reads.problems.append(f"{url}: {failed}: {body[:200]}")


def read_sql(db_path: Path, stop: threading.Event, reads: Reads, lock: threading.Lock) -> None:
    i = 0
    db = sqlite3.connect(db_path)  # as a user opens it: the default 5 s busy timeout
    try:
        while not stop.is_set():
            sql, params = SQL[i % len(SQL)]
            i += 1
            if i % 50 == 0:  # users come and go: a new connection now and then
                db.close()
                db = sqlite3.connect(db_path)
            try:
                db.execute(sql, params).fetchall()
                failed = None
            except sqlite3.Error as exc:
                failed = f"{type(exc).__name__}: {exc}"
            with lock:
                reads.sql += 1
                if failed and LOCKED.search(failed):
                    reads.lock_errors += 1
                    reads.problems.append(f"{sql[:60]}: {failed}")
                elif failed:
                    reads.errors += 1
                    reads.problems.append(f"{sql[:60]}: {failed}")
    finally:
        db.close()


def concurrent_reads(seconds: float, workdir: Path, articles: int = 3000) -> Reads:
    """Datasette and a sqlite3 connection query for ``seconds`` while crawls of a generated
    site write (again and again, the site changing in between); counts lock errors."""
    reads, lock = Reads(), threading.Lock()
    db_path, log = workdir / "news.db", workdir / "reads-crawl.log"
    seeds = workdir / "reads.toml"
    crawl = newsmon_command("crawl", "--quiet", "--db", str(db_path), "--seeds", str(seeds))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with DemoServer(changed_site(articles, 0)) as server:
        write_seeds(seeds, server.url)
        writer = start(crawl, log)
        # The readers start once the crawl stored its first articles.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not read_state(db_path).articles:
            time.sleep(0.2)
        serve = start(newsmon_command("serve", "--db", str(db_path), "--port", str(port)), log)
        stop = threading.Event()
        threads = []
        try:
            if not answers(base, serve, 60):
                raise RuntimeError(f"newsmon serve did not answer (exit code {serve.poll()})")
            before = read_state(db_path)
            threads = [
                threading.Thread(target=read_http, args=(base, stop, reads, lock)),
                threading.Thread(target=read_sql, args=(db_path, stop, reads, lock)),
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            round_no = 0
            while time.monotonic() - started < seconds:
                if writer.poll() is not None:  # a crawl ended: change the site, crawl again
                    reads.crawls += 1
                    round_no += 1
                    server.update(changed_site(articles, round_no))
                    writer = start(crawl, log)
                time.sleep(0.2)
            reads.seconds = time.monotonic() - started
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            serve.terminate()
            serve.wait(timeout=30)
            # SIGTERM lets the crawl finish its pages in flight and close its run.
            writer.send_signal(signal.SIGTERM)
            writer.wait(timeout=120)
        reads.crawls += 1
    after = read_state(db_path)
    reads.articles_written = len(after.articles - before.articles) + len(
        after.versions - before.versions
    )
    output = log.read_text("utf-8", "replace")
    failures = [line for line in output.splitlines() if LOCKED.search(line)]
    with closing(sqlite3.connect(db_path)) as db:
        runs = list(db.execute("select id, status, error from crawl_runs"))
        failures += [f"crawl_runs {r[0]}: {r[1]} {r[2]}" for r in runs if LOCKED.search(r[2] or "")]
        reads.problems += [f"crawl_runs {r[0]}: {r[1]} {r[2]}" for r in runs if r[1] != "ok"]
        failures += [
            f"fetch {r[0]}: {r[1]}"
            for r in db.execute("select url, error from fetches where error like '%locked%'")
        ]
    reads.writer_lock_errors = len(failures)
    reads.problems += failures[:10]
    return reads


def parallel_crawls(workdir: Path, articles: int = 150) -> Tally:
    """Two crawls writing at once, as the daemon runs sources side by side: each source in a
    process of its own, started together on one database. Counts their lock errors."""
    tally = Tally("two crawls at once")
    db_path, log = workdir / "parallel.db", workdir / "parallel.log"
    seeds = workdir / "parallel.toml"
    open_db(db_path).close()  # the schema first: both crawls start on a migrated file
    with DemoServer(changed_site(articles, 0)) as server:
        write_seeds(seeds, server.url)
        both = [
            start(
                newsmon_command(
                    "crawl", "--db", str(db_path), "--seeds", str(seeds), "--source", s
                ),
                log,
            )
            for s in ("gen", "gen-local")
        ]
        for process in both:
            process.wait(timeout=300)
        tally.rounds = 1
        state = read_state(db_path)
        tally.check(EMPTY, state, "two crawls at once")
        expected = {a.path for a in server.site.articles}
        tally.incomplete = len(expected - {path_of(url) for url in state.articles})
    runs = [f"crawl_runs {r['id']}: {r['status']} {r['error']}" for r in state.runs]
    tally.check_log(log.read_text("utf-8", "replace") + "\n".join(runs), "crawl output")
    return tally
