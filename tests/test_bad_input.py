"""Bad input from a real loopback site: each failure is one line in the database and in
`newsmon status`, the crawl carries on, and nothing stored before is lost."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from tests.support.hostile import CASES, Case, HostileSite, Lives, case_problem, crawl_both_lives
from tests.support.run import newsmon


@pytest.fixture(scope="module")
def site() -> Iterator[HostileSite]:
    with HostileSite() as site:
        yield site


@pytest.fixture(scope="module")
def lives(site: HostileSite, tmp_path_factory: pytest.TempPathFactory) -> Lives:
    return crawl_both_lives(site, tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_bad_page_is_recorded_and_loses_nothing(
    site: HostileSite, lives: Lives, case: Case
) -> None:
    db = Database(lives.db_path)
    problem = case_problem(site, case, db, lives.before, lives.run_id)
    assert problem is None, problem


def test_the_crawl_carries_on_through_every_bad_page(lives: Lives) -> None:
    for run in lives.outputs:
        assert run.returncode == 0
        assert "Traceback" not in run.stderr
        assert "Spider error" not in run.stderr
    db = Database(lives.db_path)
    assert db["articles"].count >= len(lives.before)
    statuses = [row["status"] for row in db.query("select status from crawl_runs")]
    assert statuses == ["ok"] * 4


def test_errors_are_one_line_each(lives: Lives) -> None:
    db = Database(lives.db_path)
    errors = [r["error"] for r in db.query("select error from fetches where error is not null")]
    errors += [r["error"] for r in db.query("select error from crawl_runs where error is not null")]
    assert len(errors) >= len([c for c in CASES if c.expect not in ("stored", "unchanged")])
    for error in errors:
        assert "\n" not in error and len(error) < 200, error


def test_status_shows_each_error_with_its_url(lives: Lives) -> None:
    shown = newsmon(
        "status", "--db", str(lives.db_path), "--seeds", str(lives.seeds),
        "--errors", "100",
    ).stdout  # fmt: skip
    assert "seed files: 0 problems" in shown
    for case in CASES:
        if case.expect not in ("stored", "unchanged"):
            line = next((line for line in shown.splitlines() if case.expect in line), None)
            assert line is not None, case.name
            assert "/a/" in line
    assert "calendar: ok" in shown
    assert "stopped after max_pages = 40 requests" in shown


def test_traps_and_endless_calendars_end(lives: Lives) -> None:
    requested = lives.requested
    trap = sum(n for path, n in requested.items() if path.startswith("/trap/"))
    assert trap == 3  # max_list_pages
    calendar = sum(n for path, n in requested.items() if path.startswith("/cal/"))
    assert 30 <= calendar <= 40  # max_pages, without the duplicate links


def test_retry_after_is_respected_and_errors_retried(lives: Lives) -> None:
    requested = lives.requested
    assert requested["/a/busy-503.html"] == 1
    assert requested["/a/error-500.html"] == 3  # RETRY_TIMES = 2


def test_private_addresses_are_refused_unless_the_source_allows_them(tmp_path: Path) -> None:
    with HostileSite() as site:
        seeds = tmp_path / "seeds.toml"
        seeds.write_text(
            site.seeds().split("[[source]]")[1].replace('private_hosts = ["127.0.0.1"]', ""),
            encoding="utf-8",
        )
        seeds.write_text("[[source]]" + seeds.read_text(encoding="utf-8"), encoding="utf-8")
        db_path = tmp_path / "news.db"
        result = newsmon("crawl", "--db", str(db_path), "--seeds", str(seeds), check=False)
        assert sum(site.requested.values()) == 0
    assert result.returncode != 0
    errors = {r["error"] for r in Database(db_path).query("select error from fetches")}
    assert "refused: 127.0.0.1 is a loopback address (not in the source's private_hosts)" in errors
    status = newsmon("status", "--db", str(db_path), "--seeds", str(seeds), check=False)
    assert status.returncode == 1
    assert "hostile: failed" in status.stdout


BAD_SEEDS = {
    "broken.toml": '[[source]]\nid = "x"\nname = "unclosed\n',
    "unknown.toml": (
        '[[source]]\nid = "a"\nname = "A"\nlists = ["http://a.example/"]\n'
        "article_urls = ['^/a/']\nevry = \"1h\"\n"
    ),
    "twice.toml": "".join(
        f'[[source]]\nid = "b"\nname = "B"\nlists = ["http://{host}/"]\narticle_urls = ["x"]\n'
        for host in ("b.example", "b2.example")
    ),
}


def test_bad_seed_files_stop_nothing_stored(lives: Lives, tmp_path: Path) -> None:
    for name, text in BAD_SEEDS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    db = Database(lives.db_path)
    runs, articles = db["crawl_runs"].count, db["articles"].count
    result = newsmon("crawl", "--db", str(lives.db_path), "--seeds", str(tmp_path), check=False)
    assert result.returncode != 0
    problems = [line for line in result.stderr.splitlines() if line.strip()]
    assert any("broken.toml" in p and "cannot read seed file" in p for p in problems)
    assert any("unknown.toml:6" in p and "did you mean 'every'" in p for p in problems)
    assert any("duplicate source id 'b'" in p for p in problems)
    assert (db["crawl_runs"].count, db["articles"].count) == (runs, articles)
    status = newsmon("status", "--db", str(lives.db_path), "--seeds", str(tmp_path), check=False)
    assert status.returncode == 1
    assert "seed files: 3 problems" in status.stdout
