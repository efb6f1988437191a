"""Where the database, the seed files and the settings file are found, from any directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler import paths
from crawler.cli import main
from crawler.config import CONFIG_ENV, USER_CONFIG_ENV
from crawler.sources import load_sources

OWN_SOURCE = """
[[source]]
id = "city-a"
name = "A 市经信局"
lists = ["https://jxj.a.gov.cn/zwgk/tzgg/"]
article_urls = ['^/zwgk/tzgg/\\d{6}/t\\d{8}_\\d+\\.html$']
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory, with no path or settings file named in the environment."""
    for name in (paths.DB_ENV, paths.SEEDS_ENV, CONFIG_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(USER_CONFIG_ENV, str(tmp_path / "config"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_with_nothing_set_the_shipped_sources_and_db_news_db(workdir: Path) -> None:
    assert paths.database() == Path("db/news.db")
    shipped = {s.id for s in load_sources([paths.seeds()])}
    assert len(shipped) >= 40 and "demo" not in shipped
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 0 and "miit-policy" in result.output


def test_a_seeds_folder_with_a_seed_file_replaces_the_shipped_sources(workdir: Path) -> None:
    write(workdir / "seeds" / "README.md", "my sources")
    assert paths.seeds() == paths.shipped_seeds()
    write(workdir / "seeds" / "mine.toml", OWN_SOURCE)
    assert paths.seeds() == Path("seeds")
    result = CliRunner().invoke(main, ["sources"])
    assert result.exit_code == 0 and result.output.startswith("city-a ")


def test_the_option_then_the_environment_then_the_settings_file(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(workdir / "newsmon.toml", '[paths]\ndb = "settings.db"\nseeds = "settings-seeds"\n')
    assert paths.database() == Path("settings.db")
    assert paths.seeds() == Path("settings-seeds")
    monkeypatch.setenv(paths.DB_ENV, "env.db")
    monkeypatch.setenv(paths.SEEDS_ENV, "env-seeds")
    assert (paths.database(), paths.seeds()) == (Path("env.db"), Path("env-seeds"))
    assert paths.database(Path("given.db")) == Path("given.db")
    assert paths.seeds(Path("given")) == Path("given")


def test_settings_paths_are_taken_from_the_settings_files_folder(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = write(workdir / "etc" / "newsmon.toml", '[paths]\ndb = "data/news.db"\n')
    monkeypatch.setenv(CONFIG_ENV, str(settings))
    assert paths.database() == workdir / "etc" / "data" / "news.db"
    write(settings, '[paths]\ndb = "/srv/newsmon/news.db"\n')
    assert paths.database() == Path("/srv/newsmon/news.db")


def test_the_user_config_folder_when_the_current_directory_has_no_settings(
    workdir: Path, tmp_path: Path
) -> None:
    own = write(tmp_path / "own" / "mine.toml", OWN_SOURCE)
    write(tmp_path / "config" / "newsmon" / "newsmon.toml", f'[paths]\nseeds = "{own}"\n')
    assert paths.seeds() == own
    write(workdir / "newsmon.toml", "")  # ./newsmon.toml comes first, as before
    assert paths.seeds() == paths.shipped_seeds()


def test_a_commands_database_comes_from_the_resolution(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setenv(paths.DB_ENV, str(workdir / "from-env.db"))
    # A command that only reads names the database it looked for, and creates none.
    result = runner.invoke(main, ["reclassify"])
    assert result.exit_code == 1 and f"no database at {workdir / 'from-env.db'}" in result.output
    assert not (workdir / "from-env.db").exists() and not (workdir / "db").exists()
    # digest's --config is read before --db is filled in: its [paths] db counts
    monkeypatch.delenv(paths.DB_ENV)
    settings = write(workdir / "etc" / "digest.toml", '[paths]\ndb = "digest.db"\n')
    result = runner.invoke(main, ["digest", "--config", str(settings), "--out", "d.html"])
    assert result.exit_code == 1 and f"no database at {workdir / 'etc' / 'digest.db'}" in (
        result.output
    )


def test_a_bad_paths_table_is_one_line_naming_the_file(workdir: Path) -> None:
    settings = write(workdir / "newsmon.toml", '[paths]\ndatabase = "x.db"\n')
    result = CliRunner().invoke(main, ["alerts"])
    assert result.exit_code == 1
    assert result.output == f"Error: {settings.name} [paths]: unknown key database\n"
    write(settings, "[paths]\ndb = 3\n")
    result = CliRunner().invoke(main, ["alerts"])
    assert result.output == "Error: newsmon.toml [paths] db must be a path in quotes, not 3\n"
