"""Scale of the database: search, facets and the digest over a million articles.

    .venv/bin/python benchmarks/db_scale.py [--articles 1000000] [--db PATH] [--queries 20]
        [--setting NAME VALUE] [--sql] [--build-only]

Builds a database of N synthetic articles through ``open_db`` (the real schema and
migrations): the bundled demo articles' paragraphs recombined by a seeded RNG, their regions
swapped for others of the gazetteer, with topics, policies, stories, versions and alerts as
``Store.save_article`` and ``save_tags`` write them, spread over two years (about 1,400 alerts
a day). Rows go in by the batch, not one ``save_article`` each: a million of those would take
hours. Search tokens are ``crawler.search.search_tokens`` of each distinct paragraph and
title, computed once and joined (jieba cuts at line breaks, so the join is what the whole text
gives). Then it serves the file with ``newsmon serve`` and prints full-text search latency
(p50/p95) for two- and four-character words through Datasette's JSON API as the articles page
asks it, facet page latency, the digest build time for the last day's alerts, and the file
size. With --db the database is kept, and reused when it already holds N articles (migrations
added since are applied first); --build-only builds it and measures nothing. The pages are
timed as JSON and as the HTML page a user sees. --setting serves with a Datasette setting that
newsmon serve does not pass (yet), to try one; --sql times each query behind a search page on
its own, with its query plan, to show where a slow page's time goes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.classify.gazetteer import DATA, load_gazetteer
from crawler.db import open_db, text_hash
from crawler.dedup import bands
from crawler.demo.site import CITIES, load_site
from crawler.diff import diff_texts
from crawler.migrations import ROLL_UP_REGIONS
from crawler.reporters.render import collect, render_digest, since_moment
from crawler.search import search_tokens
from crawler.serve import datasette_args

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import free_port, newsmon_command, spawn  # noqa: E402
from tests.support.web import answers  # noqa: E402

SEED = 20240821
DAYS = 730
SOURCES = 40
BATCH = 20_000
SHORT_WORDS = ("算力", "芯片", "基金", "模型")
# 数据要素: a taxonomy phrase jieba's dictionary lacks, a word of the search tokens (m009).
LONG_WORDS = ("人工智能", "实施方案", "中小企业", "数据要素")
POLICY = re.compile(r"《([^》]{6,40})》")


class Corpus:
    """Paragraphs, titles and policy names of the demo site, with regions to swap in."""

    def __init__(self, rng: random.Random) -> None:
        gazetteer = load_gazetteer()
        self.places = {c: p for c in CITIES if (p := gazetteer.place(c)) is not None}
        self.regions = list(self.places)
        site = load_site()
        # Each demo paragraph with its article's region swapped for a few others: a pool of
        # distinct paragraphs, each tokenized once.
        self.paragraphs: list[tuple[str, str, str]] = []  # (region, text, tokens)
        self.titles: list[tuple[str, str]] = []  # (title with {r} for the region, region)
        self.policies: list[str] = []  # policy names with {r}
        for article in site.articles:
            home = article.region
            self.titles.append((article.title.replace(home, "{r}"), home))
            for name in POLICY.findall(article.text):
                stem = name.replace(home, "{r}")
                if "{r}" in stem and stem not in self.policies:
                    self.policies.append(stem)
            for paragraph in article.paragraphs:
                text = paragraph.removeprefix("## ")
                for region in rng.sample(self.regions, 12):
                    swapped = text.replace(home, region)
                    self.paragraphs.append((region, swapped, search_tokens(None, swapped)))
        self.topics = list(tomllib.loads((DATA / "taxonomy.toml").read_text("utf-8"))["topics"])
        self._title_tokens: dict[str, str] = {}

    def title_tokens(self, title: str) -> str:
        if title not in self._title_tokens:
            self._title_tokens[title] = search_tokens(title, None)
        return self._title_tokens[title]


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def build(path: Path, count: int, end: datetime) -> float:
    """Write ``count`` articles ending at ``end`` into a new database; the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    corpus = Corpus(rng)
    db = open_db(path)
    # Only while building: a crash leaves a file to throw away, not one to trust.
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -400000")
    sources = [
        {
            "id": f"bench-{i:02d}",
            "name": f"{corpus.regions[i % len(corpus.regions)]}新闻网",
            "homepage": f"https://news{i:02d}.example.cn/",
            "region": corpus.regions[i % len(corpus.regions)],
            "verified": 1,
            "file": "seeds/bench.toml",
            "config": "{}",
            "updated": iso(end),
        }
        for i in range(SOURCES)
    ]
    with db.conn:
        db.table("sources").insert_all(sources, pk="id")
        names = {n for p in corpus.places.values() for n in (p.name, p.parent, p.province) if n}
        gazetteer = load_gazetteer()
        db.table("regions").upsert_all(
            [asdict(p) for n in sorted(names) if (p := gazetteer.place(n)) is not None], pk="name"
        )
        # One run per source and day: what versions.run_id points at.
        runs = []
        for day in range(DAYS + 1):
            at = iso(end - timedelta(days=DAYS - day))
            for s in sources:
                runs.append(
                    {"source_id": s["id"], "started": at, "finished": at, "status": "ok"}
                    | {"pages": 0, "articles_new": 0, "errors": 0, "finish_reason": "finished"}
                )
        db.table("crawl_runs").insert_all(runs, batch_size=BATCH)
    # The full-text index is filled once at the end ('rebuild'), not by the insert trigger
    # row by row; the trigger is put back as it was.
    trigger = db.execute("select sql from sqlite_master where name = 'articles_ai'").fetchone()[0]
    db.execute("drop trigger articles_ai")
    step = DAYS * 86400 / count
    maker = Maker(corpus, end, random.Random(SEED + 1))
    rows: dict[str, list[dict[str, Any]]] = {}
    for number in range(1, count + 1):
        seen = end - timedelta(days=DAYS) + timedelta(seconds=(number - 1 + rng.random()) * step)
        for table, row in maker.article(number, seen):
            rows.setdefault(table, []).append(row)
        if number % BATCH == 0 or number == count:
            with db.conn:
                for table in ORDER:
                    insert_many(db, table, rows.pop(table, []))
            elapsed = time.perf_counter() - started
            print(
                f"  {number:>9,} articles  {elapsed:7.1f} s  ({number / elapsed:,.0f}/s)",
                file=sys.stderr,
                flush=True,
            )
    with db.conn:
        db.execute("insert into articles_fts (articles_fts) values ('rebuild')")
        db.execute(trigger)
        db.execute(ROLL_UP_REGIONS, {"article_id": None})
    print(f"  full-text index  {time.perf_counter() - started:7.1f} s", file=sys.stderr)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA analysis_limit = 1000")
    db.execute("ANALYZE")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


def insert_many(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """Rows of one shape into ``table``: sqlite-utils' insert_all, without its per-value
    conversions (a third of the build's time), which these plain values do not need."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" * len(columns))
    db.conn.executemany(
        f"insert into [{table}] ({names}) values ({marks})",
        [[row[c] for c in columns] for row in rows],
    )


ORDER = (
    "articles",
    "versions",
    "article_bands",
    "stories",
    "policies",
    "article_regions",
    "article_topics",
    "article_policies",
    "alerts",
)


class Maker:
    """The rows of synthetic articles, numbered in order, as save_article and save_tags
    write them; it numbers stories, policies and alerts itself."""

    def __init__(self, corpus: Corpus, end: datetime, rng: random.Random) -> None:
        self.corpus, self.end, self.rng = corpus, end, rng
        self.policies: dict[str, int] = {}
        self.stories: list[tuple[int, str]] = []  # (id, title) of the latest stories
        self.story_count = 0
        self.alert_count = 0

    def article(self, number: int, seen: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
        """The rows article ``number``, first seen at ``seen``, adds."""
        corpus, rng = self.corpus, self.rng
        region = rng.choice(corpus.regions)
        source = f"bench-{rng.randrange(SOURCES):02d}"
        # A syndicated copy of a recent story: same title, no alert of its own.
        copy = bool(self.stories) and rng.random() < 0.15
        if copy:
            story_id, title = rng.choice(self.stories)
        else:
            title = rng.choice(corpus.titles)[0].replace("{r}", region)
            self.story_count += 1
            story_id = self.story_count
            self.stories = [*self.stories[-199:], (story_id, title)]
        chosen = rng.sample(corpus.paragraphs, rng.randint(4, 12))
        text = "\n".join(p[1] for p in chosen)
        tokens = " ".join([corpus.title_tokens(title), *(p[2] for p in chosen)])
        seen_at = iso(seen)
        changed_at = seen + timedelta(days=rng.random() * 3)
        changed = rng.random() < 0.02 and changed_at < self.end
        body = text.replace("。", "，并将适时调整。", 1) if changed else text
        recent = self.end - seen < timedelta(days=7)
        fingerprint = rng.getrandbits(64)
        url = (
            f"https://news{source[-2:]}.example.cn/policy/{seen:%Y%m}/t{seen:%Y%m%d}_{number}.html"
        )
        yield (
            "articles",
            {
                "id": number,
                "url": url,
                "source_id": source,
                "title": title,
                "published": (seen + timedelta(hours=8, minutes=-rng.randrange(600))).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "author": "记者 "
                + rng.choice("王李张刘陈杨黄赵吴周")
                + rng.choice("明华强伟静敏丽军"),
                "outlet": (region if rng.random() < 0.6 else rng.choice(corpus.regions)) + "日报",
                "text": body,
                "text_hash": text_hash(body),
                "encoding": "utf-8",
                "version": 2 if changed else 1,
                "first_seen": seen_at,
                "last_seen": iso(changed_at) if changed else seen_at,
                "last_changed": iso(changed_at) if changed else seen_at,
                "text_simplified": None,
                "editor": rng.choice("罗何谭冉") + rng.choice("成雨晓茂"),
                "captions": None,
                "quality": 1.0,
                "flags": None,
                "keywords": json.dumps([region, *rng.sample(corpus.topics, 3)], ensure_ascii=False),
                "amounts": "[]",
                "events": "[]",
                "tagged_at": seen_at,
                "checks": 0 if recent else 5,
                "next_check": iso(seen + timedelta(hours=1)) if recent else None,
                "simhash": f"{fingerprint:016x}",
                "story_id": story_id,
                "search_tokens": tokens,
            },
        )
        for key in bands(fingerprint):
            yield "article_bands", {"band": key, "article_id": number}
        run = (seen - self.end + timedelta(days=DAYS)).days * SOURCES + int(source[-2:]) + 1
        yield "versions", self.version(number, 1, title, text, seen_at, run, None)
        if not copy:
            yield (
                "stories",
                {
                    "id": story_id,
                    "first_article_id": number,
                    "title": title,
                    "created": seen_at,
                },
            )
            yield (
                "alerts",
                self.alert("new_article", f"story:{story_id}", seen, source, number)
                | {
                    "story_id": story_id,
                    "title": title,
                    "url": url,
                },
            )
        yield from self.tags(number, region, title, chosen, seen)
        if changed:
            diff = diff_texts(text, body)
            yield "versions", self.version(number, 2, title, body, iso(changed_at), run, diff)
            yield (
                "alerts",
                self.alert("changed_article", f"article:{number}:v2", changed_at, source, number)
                | {
                    "title": title,
                    "url": url,
                    "detail": json.dumps(diff.to_json(), ensure_ascii=False),
                },
            )

    def tags(
        self,
        number: int,
        region: str,
        title: str,
        chosen: list[tuple[str, str, str]],
        seen: datetime,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """What save_tags writes: regions, topics and the policies named."""
        corpus, rng = self.corpus, self.rng
        mentioned = dict.fromkeys([region, *(p[0] for p in chosen)])
        implied = {corpus.places[region].province} - {None, *mentioned}
        for name in [*mentioned, *implied]:
            yield (
                "article_regions",
                {
                    "article_id": number,
                    "region": name,
                    "mentioned": int(name in mentioned),
                    "is_primary": int(name == region),
                    "implied": int(name in implied),
                    "evidence": title if name == region else None,
                },
            )
        for topic in rng.sample(corpus.topics, rng.choice((1, 2, 2, 3))):
            yield (
                "article_topics",
                {
                    "article_id": number,
                    "topic": topic,
                    "score": round(2 + rng.random() * 10, 2),
                    "evidence": chosen[0][1],
                },
            )
        if rng.random() < 0.3:
            year = seen.year + rng.choice((0, 0, 1))
            name = rng.choice(corpus.policies).replace("{r}", region) + f"（{year}年）"
            date = seen.strftime("%Y-%m-%d")
            context = chosen[0][1]
            if name not in self.policies:
                policy_id = self.policies[name] = len(self.policies) + 1
                yield (
                    "policies",
                    {
                        "id": policy_id,
                        "title": name,
                        "region": region,
                        "date": date,
                        "first_article_id": number,
                        "first_seen": iso(seen),
                    },
                )
                detail = {"region": region, "date": date, "context": context}
                yield (
                    "alerts",
                    self.alert("new_policy", f"policy:{policy_id}", seen, None, number)
                    | {
                        "policy_id": policy_id,
                        "title": name,
                        "detail": json.dumps(detail, ensure_ascii=False),
                    },
                )
            yield (
                "article_policies",
                {
                    "article_id": number,
                    "policy_id": self.policies[name],
                    "region": region,
                    "date": date,
                    "context": context,
                },
            )

    @staticmethod
    def version(
        number: int, version: int, title: str, text: str, seen_at: str, run: int, diff: Any
    ) -> dict[str, Any]:
        return {
            "article_id": number,
            "version": version,
            "title": title,
            "text": text,
            "text_hash": text_hash(text),
            "seen_at": seen_at,
            "run_id": run,
            "diff": json.dumps(diff.to_json(), ensure_ascii=False) if diff else None,
        }

    def alert(
        self, kind: str, subject: str, created: datetime, source: str | None, article: int
    ) -> dict[str, Any]:
        """An alert, sent in the digest just after midnight unless that is still to come."""
        self.alert_count += 1
        sent = (created + timedelta(days=1)).replace(hour=0, minute=5, second=0)
        return {
            "id": self.alert_count,
            "kind": kind,
            "subject": subject,
            "source_id": source,
            "article_id": article,
            "policy_id": None,
            "story_id": None,
            "title": None,
            "url": None,
            "detail": None,
            "created": iso(created),
            "sent_at": iso(sent) if sent <= self.end else None,
        }


def fetch(url: str) -> tuple[float, dict[str, Any]]:
    """Seconds a GET of ``url`` took, and its JSON (an error's too); an HTML page's JSON is {}
    unless it failed."""
    began = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        body = error.read()
        return time.perf_counter() - began, {"error": f"{error.code} {body[:200]!r}"}
    took = time.perf_counter() - began
    if ".json" not in urllib.parse.urlparse(url).path:
        return took, {}
    try:
        return took, json.loads(body)
    except ValueError:
        return took, {"error": body[:200].decode("utf-8", "replace")}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_http(
    path: Path, queries: int, settings: list[tuple[str, str]], only: tuple[str, ...] = ("",)
) -> list[tuple[str, str, str, str]]:
    """Search and facet pages through ``newsmon serve``: (what, p50, p95 and notes). With
    ``settings``, Datasette as newsmon serve runs it plus those settings."""
    port = free_port()
    command = newsmon_command("serve", "--db", str(path), "--port", str(port))
    if settings:
        extra = [arg for name, value in settings for arg in ("--setting", name, value)]
        command = [sys.executable, "-m", "datasette", *datasette_args(path, port=port), *extra]
    server = spawn(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/{path.stem}"
    figures = []
    try:
        answers(f"http://127.0.0.1:{port}", server, 60)
        # The articles page's search box: ?_search= on the table whose fts_table metadata
        # names articles_fts, sorted and faceted as metadata.json says; the HTML page a user
        # sees and the JSON behind it run the same queries, the page renders them too.
        pages = {
            "search, 2 chars (.json)": [f"{base}/articles.json?_search={w}" for w in SHORT_WORDS],
            "search, 4 chars (.json)": [f"{base}/articles.json?_search={w}" for w in LONG_WORDS],
            "search, 2 chars (HTML)": [f"{base}/articles?_search={w}" for w in SHORT_WORDS],
            "search, 4 chars (HTML)": [f"{base}/articles?_search={w}" for w in LONG_WORDS],
            # The canned query for large databases: the newest matches, no count, no facets.
            "search query, 2 chars": [f"{base}/search.json?q={w}" for w in SHORT_WORDS],
            "search query, 4 chars": [f"{base}/search.json?q={w}" for w in LONG_WORDS],
            "articles page (facets)": [f"{base}/articles.json"],
            "article_index page (facets)": [f"{base}/article_index.json"],
            "article_index, region facet": [
                f"{base}/article_index.json?_facet_array=regions&regions__arraycontains=成都"
            ],
            "article_regions ?region=": [f"{base}/article_regions.json?region=成都"],
            # What people browse (m015): the narrow article_list with its four facets (region
            # rolled up, topic, month, source), its search box, a region filter, the alerts.
            "article_list (facets, .json)": [f"{base}/article_list.json"],
            "article_list (facets, HTML)": [f"{base}/article_list"],
            "article_list search, 2 chars": [
                f"{base}/article_list.json?_search={w}" for w in SHORT_WORDS
            ],
            "article_list search, 4 chars": [
                f"{base}/article_list.json?_search={w}" for w in LONG_WORDS
            ],
            "article_list search (HTML)": [f"{base}/article_list?_search={w}" for w in SHORT_WORDS],
            "article_list ?_region=": [
                f"{base}/article_list.json?_region={r}" for r in ("成都", "四川", "广东")
            ],
            "article_list region + search": [
                f"{base}/article_list.json?_region=广东&_search={w}" for w in SHORT_WORDS
            ],
            "alerts (newest 500)": [f"{base}/alerts.json"],
            "alerts.atom": [f"{base}/alerts.atom"],
            "charts page": [f"{base}/-/charts"],
        }
        pages = {what: urls for what, urls in pages.items() if any(o in what for o in only)}
        for what, urls in pages.items():
            urls = [urllib.parse.quote(u, safe=":/?=&_") for u in urls]
            for url in urls:  # warm the page cache
                fetch(url)
            times, notes = [], set()
            for _ in range(queries):
                for url in urls:
                    took, data = fetch(url)
                    times.append(took)
                    if "error" in data and data.get("error"):
                        notes.add(f"error: {str(data['error'])[:60]}")
                    if not data:
                        continue  # an HTML page: its figures are those of its .json
                    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
                    rows = data.get("filtered_table_rows_count")
                    counted = (
                        f"{len(data.get('rows', []))} newest"
                        if "q" in query
                        else "no count"
                        if rows is None
                        else f"{rows:,}"
                    )
                    # Datasette's JSON leaves out a facet that ran out of time (and does not
                    # say so): the facets that came back.
                    facets = "/".join(data.get("facet_results", {})) or "no"
                    word = query.get("_search") or query.get("q")
                    prefix = f"{word[0]} " if word else ""
                    notes.add(f"{prefix}{counted} ({facets} facets)")
            figures.append(
                (
                    what,
                    f"{percentile(times, 0.5) * 1000:8.0f} ms",
                    f"{percentile(times, 0.95) * 1000:8.0f} ms",
                    "; ".join(sorted(notes)),
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


# The queries Datasette 0.65's table view runs for articles?_search= (its own SQL, with the
# sort and facets of metadata.json): what a search page's time goes to.
MATCHING = "rowid in (select rowid from articles_fts where articles_fts match :search)"
SEARCH_SQL = {
    "page, by id": f"select * from articles where {MATCHING} order by id desc limit 51",
    "page, by first_seen": f"select * from articles where {MATCHING}"
    " order by first_seen desc, id desc limit 51",
    "count": f"select count(*) from articles where {MATCHING}",
    "count, index alone": "select count(*) from articles_fts where articles_fts match :search",
    **{
        f"facet {column}": f"select {column} as value, count(*) as count from"
        f" (select * from articles where {MATCHING}) where {column} is not null"
        f" group by {column} order by count desc, value limit 31"
        for column in ("source_id", "outlet", "story_id")
    },
}


def measure_sql(path: Path, words: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """Each query of a search page timed on its own, once warm: (what, time, query plan)."""
    db = Database(path)
    figures = []
    for word in words:
        search = {"search": f'"{word}"'}  # Datasette quotes each term so
        for what, sql in SEARCH_SQL.items():
            db.execute(sql, search).fetchall()
            began = time.perf_counter()
            db.execute(sql, search).fetchall()
            took = time.perf_counter() - began
            plan = "; ".join(row[3] for row in db.execute(f"explain query plan {sql}", search))
            figures.append((f"{word}: {what}", f"{took * 1000:8.0f} ms", plan))
    db.close()
    return figures


def measure_digest(path: Path, end: datetime) -> tuple[float, int]:
    """Seconds to collect and render (text and HTML) the last day's unsent alerts."""
    db = Database(path)
    began = time.perf_counter()
    digest = collect(db, since_moment("1d", end))
    render_digest(digest, "text")
    render_digest(digest, "html")
    took = time.perf_counter() - began
    db.close()
    return took, len(digest.items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="keep the database here (reused if complete)")
    parser.add_argument("--queries", type=int, default=20, help="requests per search word")
    parser.add_argument(
        "--setting",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="serve with this Datasette setting too (one newsmon serve does not set yet)",
    )
    parser.add_argument(
        "--sql", action="store_true", help="also time each query of a search page in SQLite"
    )
    parser.add_argument("--build-only", action="store_true", help="build --db, measure nothing")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="time only the pages whose figure names TEXT (article_list, search …)",
    )
    args = parser.parse_args()
    if args.build_only and (args.db is None or args.db.exists()):
        raise SystemExit("--build-only needs a --db that does not exist yet")
    # The digest goes out just after midnight: the newest alerts are a whole day's, unsent.
    end = datetime.now(UTC).replace(hour=0, minute=4, second=59, microsecond=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "scale.db"
        built = None
        if path.exists():
            db = Database(path)
            have = db.execute("select count(*) from articles").fetchone()[0]
            last = db.execute("select max(created) from alerts").fetchone()[0]
            db.close()
            if have != args.articles:
                raise SystemExit(f"{path} holds {have:,} articles, not {args.articles:,}")
            # The build ended at the first digest time (00:04:59) after its last alert.
            newest = datetime.fromisoformat(last)
            end = newest.replace(hour=0, minute=4, second=59)
            end += timedelta(days=1) if end < newest else timedelta()
            open_db(path).close()  # migrations added since the build (indexes)
        else:
            built = build(path, args.articles, end)
            if args.build_only:
                print(f"built {args.articles:,} articles in {built:.0f} s: {path}")
                return
        size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
        db = Database(path)
        alerts = db.execute(
            "select count(*) from alerts where created >= ?", [since_moment("1d", end)]
        ).fetchone()[0]
        db.close()
        only = tuple(args.only) or ("",)
        http = measure_http(path, args.queries, [tuple(s) for s in args.setting], only)
        digest, items = measure_digest(path, end)
        sql = measure_sql(path, (SHORT_WORDS[0], LONG_WORDS[-1])) if args.sql else []
    print(f"database of {args.articles:,} articles: {path}")
    for name, value in args.setting:
        print(f"served with --setting {name} {value}")
    print(f"{'figure':<30} {'p50':>11} {'p95':>11}  notes")
    for what, p50, p95, notes in http:
        print(f"{what:<30} {p50:>11} {p95:>11}  {notes}")
    print(
        f"{'digest of a day':<30} {digest * 1000:8.0f} ms {'':>11}  collect + render,"
        f" {items:,} of {alerts:,} alerts"
    )
    print(f"{'file size':<30} {size / 1e9:8.2f} GB")
    if built is not None:
        print(f"{'build time':<30} {built:8.0f} s")
    for what, took, plan in sql:
        print(f"{what:<30} {took:>11} {'':>11}  {plan}")


if __name__ == "__main__":
    main()
