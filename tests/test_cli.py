"""The command line: documented, one-line errors, and the demo a new user runs first."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from sqlite_utils import Database

from crawler.cli import main
from crawler.demo.site import DemoSite
from tests.conftest import PROJECT, newsmon


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    readme = (PROJECT / "README.md").read_text("utf-8")
    runner = CliRunner()
    for name in main.commands:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example:" in result.output and f"newsmon {name}" in result.output, name
        assert re.search(rf"`newsmon {name}\b", readme), f"README does not document {name}"


def test_readme_opens_with_the_two_setup_commands() -> None:
    readme = (PROJECT / "README.md").read_text("utf-8")
    first_block = readme.split("```")[1]
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == [
        "make demo",
        "make test",
    ]


def test_unknown_source_is_a_one_line_error() -> None:
    result = newsmon("crawl", "--source", "no-such-source", "--db", "/dev/null", check=False)
    assert result.returncode == 1
    assert result.stderr == "Error: unknown source 'no-such-source' (see `newsmon sources`)\n"


def test_missing_seeds_is_a_one_line_error(tmp_path: Path) -> None:
    result = newsmon("sources", "--seeds", str(tmp_path / "nope"), check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1


def test_extract_of_a_page_without_an_article(tmp_path: Path) -> None:
    page = tmp_path / "empty.html"
    page.write_text("<html><body><a href='/'>首页</a></body></html>", encoding="utf-8")
    result = newsmon("extract", str(page), "--url", "http://127.0.0.1/", check=False)
    assert result.returncode == 1 and result.stderr == "Error: no article found in this page\n"


def test_demo_crawls_the_bundled_site_into_its_database(tmp_path: Path, site: DemoSite) -> None:
    db_path = tmp_path / "demo.db"
    result = newsmon("demo", "--db", str(db_path))
    public = [a for a in site.articles if a.linked_from != ("private",)]
    assert f"({len(public)} new, 0 updated, 0 unchanged)" in result.stdout
    assert f"{db_path}: {len(public)} articles, {len(public)} versions" in result.stdout
    assert f"datasette {db_path}" in result.stdout
    db = Database(db_path)
    assert db["articles"].count == len(public)
    assert {r["encoding"] for r in db["articles"].rows} == {"utf-8", "gb18030", "big5hkscs"}
