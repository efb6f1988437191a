"""The command-line habits a user of such a tool expects, over a real crawl into a real
database: --json, alerts --since/--kind, a quiet cron crawl, a one-line status summary, a busy
port, a missing settings file, `newsmon init` and `newsmon try`."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from crawler import paths
from crawler.alerts import KINDS
from crawler.clock import now
from crawler.config import load_config
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from crawler.keys import ALERT_KEYS, SOURCE_KEYS, STATUS_KEYS, TRIAL_KEYS
from crawler.middlewares import address_kind
from crawler.sources import load_sources
from tests.support.hostile import CASES, HostileSite
from tests.support.run import free_port, newsmon
from tests.support.sites import public

# Beside the demo's sources (its news site crawled, its 政府信息公开 section never): a source
# whose site is down, and one that was never crawled.
MORE_SOURCES = """
[[source]]
id = "gone"
name = "a portal that is down"
base_url = "http://127.0.0.1:{port}/"
private_hosts = ["127.0.0.1"]
lists = ["/news/", "/notice/"]
article_urls = ['^/news/\\d+\\.html$']
delay = 0

[[source]]
id = "later"
name = "a source added since the last crawl"
lists = ["https://later.example.cn/news/"]
article_urls = ['^/news/\\d+\\.html$']
"""


@dataclass(frozen=True)
class Watched:
    """The demo site crawled, changed and crawled again beside a source that is down."""

    server: DemoServer
    db_path: Path
    seeds: Path
    failing: Any  # the first crawl: demo and gone, quiet
    succeeding: Any  # the second: demo only, quiet


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    folder = tmp_path_factory.mktemp("commands")
    db_path, seeds = folder / "news.db", folder / "seeds.toml"
    with DemoServer() as server:
        demo = paths.demo_seeds().read_text("utf-8").replace("http://127.0.0.1:8000/", server.url)
        seeds.write_text(demo + MORE_SOURCES.format(port=free_port()), encoding="utf-8")
        crawl = ("crawl", "--db", str(db_path), "--seeds", str(seeds), "--quiet", "--source")
        failing = newsmon(*crawl, "demo", "--source", "gone", check=False)
        server.update(server.site.updated(load_updates(), now()))
        succeeding = newsmon(*crawl, "demo", check=False)
        yield Watched(server, db_path, seeds, failing, succeeding)


def test_quiet_crawl_prints_nothing_on_success_and_only_its_errors(watched: Watched) -> None:
    assert (watched.succeeding.returncode, watched.succeeding.stdout) == (0, "")
    assert watched.succeeding.stderr == ""
    # Every page of the site that is down failed, and each is stored: only the line
    # that says which source failed reaches cron's mail, not Scrapy's retry lines.
    assert watched.failing.returncode == 1
    assert watched.failing.stderr == "Error: failed sources: gone\n"
    refused = Database(watched.db_path).query(
        "select count(*) n from fetches where source_id = 'gone' and error = 'connection refused'"
    )
    assert next(refused)["n"] == 2


def _status(watched: Watched, *options: str) -> Any:
    return newsmon(
        "status", "--db", str(watched.db_path), "--seeds", str(watched.seeds), *options, check=False
    )


def _last_runs(db: Database) -> list[dict[str, Any]]:
    latest = "select max(id) from crawl_runs group by source_id"
    return list(db.query(f"select * from crawl_runs where id in ({latest})"))


def test_status_opens_with_a_summary_and_tells_each_error_once(watched: Watched) -> None:
    shown = _status(watched)
    assert shown.returncode == 1  # gone's last run failed
    db = Database(watched.db_path)
    errors = sum(run["errors"] or 0 for run in _last_runs(db))
    lines = shown.stdout.splitlines()
    assert lines[0] == (
        f"4 sources: 1 ok, 1 failing, 2 never crawled; {errors} errors in the last runs"
    )
    assert "never crawled: demo-gov, later" in lines
    refused = [line for line in lines if "connection refused" in line and "gone" in line]
    assert len(refused) == 1, shown.stdout
    urls = {r["url"] for r in db.query("select url from fetches where source_id = 'gone'")}
    assert "×2 (gone)" in refused[0] and refused[0].split()[-1] in urls


def test_status_json_is_the_same_report_as_data(watched: Watched) -> None:
    shown = _status(watched, "--json")
    assert shown.returncode == 1
    report = json.loads(shown.stdout)
    assert tuple(report) == STATUS_KEYS
    summary = report["summary"]
    assert (summary["sources"], summary["ok"], summary["failing"]) == (4, 1, 1)
    assert report["never_crawled"] == ["demo-gov", "later"] and report["seed_problems"] == []
    runs = _last_runs(Database(watched.db_path))
    assert [(s["id"], s["status"], s["pages"]) for s in report["sources"]] == sorted(
        (run["source_id"], run["status"], run["pages"] or 0) for run in runs
    )
    refused = next(e for e in report["errors"] if e["error"] == "connection refused")
    assert refused["count"] == 2 and refused["sources"] == ["gone"]


@pytest.fixture
def aged(watched: Watched, tmp_path: Path) -> Path:
    """A copy of the crawled database whose new-article alerts were raised 30 days ago."""
    copy = tmp_path / "aged.db"
    Database(watched.db_path).conn.backup(Database(copy).conn)
    db = Database(copy)
    with db.conn:
        db.execute(
            "update alerts set created = '2000-01-01T00:00:00+00:00' where kind = 'new_article'"
        )
    db.close()
    return copy


def _alerts(db_path: Path, *options: str) -> list[dict[str, Any]]:
    shown = newsmon("alerts", "--db", str(db_path), "--last", "1000", "--json", *options)
    return list(json.loads(shown.stdout))


def test_alerts_by_age_and_kind_as_json(aged: Path) -> None:
    db = Database(aged)
    stored = {kind: db["alerts"].count_where("kind = ?", [kind]) for kind in KINDS}
    assert stored["new_article"] and stored["changed_article"] and stored["new_policy"]
    every = _alerts(aged)
    assert len(every) == sum(stored.values()) and tuple(every[0]) == ALERT_KEYS
    recent = _alerts(aged, "--since", "1w")
    assert len(recent) == len(every) - stored["new_article"]
    assert "new_article" not in {a["kind"] for a in recent}
    changed = _alerts(aged, "--kind", "changed_article", "--kind", "new_policy")
    assert sorted(a["kind"] for a in changed) == sorted(
        ["changed_article"] * stored["changed_article"] + ["new_policy"] * stored["new_policy"]
    )
    diff = next(a for a in changed if a["kind"] == "changed_article")["detail"]
    assert diff["changes"], diff
    text = newsmon("alerts", "--db", str(aged), "--kind", "changed_article").stdout
    assert text.startswith("[changed_article] ") and "〖+5+〗" in text


def test_a_bad_kind_or_age_is_one_line(aged: Path) -> None:
    bad = newsmon("alerts", "--db", str(aged), "--kind", "changed", check=False)
    assert bad.returncode == 1
    assert bad.stderr == f"Error: unknown alert kind 'changed' (kinds: {', '.join(KINDS)})\n"
    bad = newsmon("alerts", "--db", str(aged), "--since", "a week", check=False)
    assert bad.returncode == 1 and len(bad.stderr.splitlines()) == 1
    assert "1w, 1d, 12h or 30m" in bad.stderr


def test_sources_json(watched: Watched) -> None:
    listed = json.loads(newsmon("sources", "--json", "--seeds", str(watched.seeds)).stdout)
    assert [s["id"] for s in listed] == ["demo", "demo-gov", "gone", "later"]
    assert all(tuple(s) == SOURCE_KEYS for s in listed)
    demo = listed[0]
    assert demo["lists"] == [
        f"{watched.server.url}{p[1:]}" for p in ("/policy/", "/industry/", "/local/")
    ]
    assert demo["every"] == "1h" and demo["verified"] is True


def test_a_plain_crawl_reads_only_real_sources(tmp_path: Path) -> None:
    # What the README's hourly cron line crawls on a fresh install: no --seeds, no
    # $NEWSMON_SEEDS, no seeds/ of the user's. The demo's loopback site is not among them.
    listed = json.loads(newsmon("sources", "--json", env={paths.SEEDS_ENV: ""}).stdout)
    assert [s["id"] for s in listed] == [s.id for s in load_sources([paths.shipped_seeds()])]
    assert "demo" not in {s["id"] for s in listed}
    for source in listed:
        for url in source["lists"] + source["feeds"] + source["sitemaps"]:
            host = re.sub(r"^https?://([^/:]+).*", r"\1", url)
            assert host != "localhost", url
            assert not re.fullmatch(r"[\d.]+", host) or address_kind(host) is None, url


def test_serve_on_a_busy_port_is_one_line(watched: Watched) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        shown = newsmon("serve", "--db", str(watched.db_path), "--port", str(port), check=False)
    assert shown.returncode == 1
    match = re.fullmatch(rf"Error: port {port} is in use; try --port (\d+)\n", shown.stderr)
    assert match, shown.stderr
    with socket.socket() as probe:  # the port suggested is one to listen on
        probe.bind(("127.0.0.1", int(match[1])))


def test_a_missing_settings_file_is_one_line(watched: Watched, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    given = newsmon(
        "digest", "--dry-run", "--db", str(watched.db_path), "--config", str(missing), check=False
    )
    from_env = newsmon(
        "status", "--db", str(watched.db_path), env={"NEWSMON_CONFIG": str(missing)}, check=False
    )
    for shown in (given, from_env):
        assert shown.returncode == 1 and shown.stdout == ""
        assert len(shown.stderr.splitlines()) == 1 and str(missing) in shown.stderr


def test_init_writes_a_starter_folder_once(tmp_path: Path) -> None:
    folder = tmp_path / "watch"
    made = newsmon("init", str(folder))
    settings, example = folder / "newsmon.toml", folder / "seeds" / "example.toml"
    assert str(settings) in made.stdout and str(example) in made.stdout
    config = load_config(settings)
    assert (config.db, config.seeds) == (folder / "db" / "news.db", folder / "seeds")
    # The example is commented out; uncommented, it is a valid source.
    assert load_sources([example]) == []
    source = example.read_text("utf-8").split("# [[source]]", 1)[1]
    uncommented = "[[source]]" + re.sub(r"(?m)^# ", "", source)
    (folder / "seeds" / "example.toml").write_text(uncommented, encoding="utf-8")
    mine = newsmon("sources", "--check", env={"NEWSMON_CONFIG": str(settings), paths.SEEDS_ENV: ""})
    assert mine.stdout == "ok: 1 sources in 1 files\n"
    before = settings.read_text("utf-8")
    again = newsmon("init", str(folder), check=False)
    assert again.returncode == 1
    assert again.stderr == f"Error: {settings} exists already; newsmon init writes only new files\n"
    assert settings.read_text("utf-8") == before


def _try(watched: Watched, url: str, *options: str) -> Any:
    return newsmon("try", url, "--seeds", str(watched.seeds), *options, check=False)


def test_try_shows_what_a_crawl_makes_of_an_article(watched: Watched) -> None:
    site = watched.server.site
    article = next(a for a in public(site) if a.section == "policy")
    url = watched.server.url + article.path[1:]
    shown = _try(watched, url, "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert tuple(record) == TRIAL_KEYS
    assert (record["source"], record["status"], record["article"]) == ("demo", 200, True)
    assert record["title"] == article.title and record["published"].startswith(article.published)
    assert record["page_matches"] == [
        f"article_urls[0] '{load_sources([watched.seeds])[0].article_urls[0]}'"
    ]
    assert article.region in record["tags"]["regions"]["mentioned"]
    followed = {link["url"] for link in record["links"] if link["follow"] == "article"}
    linked = {watched.server.url + a.path[1:] for a in public(site)}
    assert followed and followed <= linked
    text = _try(watched, url).stdout.splitlines()
    assert text[2:4] == ["article: yes", f"title: {article.title}"]
    assert f"  {article.text.splitlines()[0]}" in text


def test_try_of_a_list_page_and_of_a_refused_one(watched: Watched) -> None:
    listing = json.loads(_try(watched, watched.server.url + "policy/", "--json").stdout)
    assert listing["article"] is False and listing["page_matches"][0] == "list start URL"
    kinds = {link["follow"] for link in listing["links"]}
    assert {"article", "list"} <= kinds
    # No source reads this host: the crawl's address guard refuses loopback, as in a crawl.
    other = f"http://127.0.0.1:{free_port()}/x.html"
    refused = newsmon("try", other, env={paths.SEEDS_ENV: str(paths.shipped_seeds())}, check=False)
    assert refused.returncode == 1
    assert "error: refused: 127.0.0.1 is a loopback address" in refused.stdout
    assert "Traceback" not in refused.stderr
    bad = newsmon("try", "gxj.sz.gov.cn/news/", check=False)
    assert (bad.returncode, len(bad.stderr.splitlines())) == (1, 1)


@pytest.mark.parametrize("name", ["huge-unannounced", "gzip-bomb", "redirect-self"])
def test_try_fetches_through_the_crawls_caps(tmp_path: Path, name: str) -> None:
    case = next(c for c in CASES if c.name == name)
    with HostileSite() as site:
        site.hostile = True
        seeds = tmp_path / "seeds.toml"
        seeds.write_text(site.seeds(), encoding="utf-8")
        shown = newsmon("try", site.url + case.path[1:], "--seeds", str(seeds), check=False)
    assert shown.returncode == 1 and "Traceback" not in shown.stderr
    assert f"error: {case.expect}" in shown.stdout, shown.stdout
