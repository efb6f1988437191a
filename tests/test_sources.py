"""Sources are data: every shipped seed file loads, and mistakes are one line naming the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler import paths
from crawler.sources import SourceError, load_sources
from tests.support.run import newsmon
from tests.support.sites import CITY_SEED


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(*paths: Path) -> list[str]:
    with pytest.raises(SourceError) as info:
        load_sources(paths)
    return info.value.problems


def test_every_shipped_seed_file_loads() -> None:
    sources = load_sources([paths.shipped_seeds(), paths.demo_seeds()])
    ids = {s.id for s in sources}
    assert "demo" in ids and len(sources) >= 40
    real = [s for s in sources if s.id != "demo"]
    assert all(not s.verified for s in real), "nothing here can reach the real sites"
    regions = {s.region for s in real}
    assert {"北京", "上海", "深圳", "广东", "武汉", "杭州", "成都"} <= regions
    for source in real:
        starts = [u for urls in source.start_urls.values() for u in urls]
        assert not any(source.domains and s.startswith("http://127.") for s in starts)


def test_a_good_file_loads_with_its_schedule(tmp_path: Path) -> None:
    (source,) = load_sources([write(tmp_path, "a.toml", CITY_SEED)])
    assert source.every == "6h" and source.cron is None
    assert source.domains == ("jxj.a.gov.cn",)


def test_unknown_key_names_file_line_and_source(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", CITY_SEED + 'lsits = ["https://x.gov.cn/"]\n')
    (problem,) = problems(path)
    assert problem == (f"{path}:8: source 'city-a': unknown key 'lsits' (did you mean 'lists'?)")


def test_duplicate_ids_and_urls_across_files(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", CITY_SEED)
    b = write(tmp_path, "b.toml", CITY_SEED)
    found = problems(a, b)
    assert any("duplicate source id 'city-a'" in p and str(a) in p for p in found)
    assert any("https://jxj.a.gov.cn/zwgk/tzgg/ is also a start URL" in p for p in found)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('lists = ["https://jxj.a.gov.cn/zwgk/tzgg/"]', 'lists = ["jxj.a.gov.cn/zwgk"]'),
            "malformed URL 'jxj.a.gov.cn/zwgk' in 'lists'",
        ),
        (
            ('lists = ["https://jxj.a.gov.cn/zwgk/tzgg/"]', 'lists = ["ftp://jxj.a.gov.cn/"]'),
            "malformed URL",
        ),
        (('every = "6h"', 'every = "often"'), "bad interval 'often'"),
        (('every = "6h"', 'cron = "61 * * * *"'), "bad cron expression"),
        (("['^/zwgk", "['^/(zwgk"), "bad pattern"),
        (('id = "city-a"', 'id = "City A"'), "id must be lowercase"),
        (('name = "A 市经信局"', ""), "missing required key 'name'"),
    ],
)
def test_malformed_entries_are_rejected(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, "a.toml", CITY_SEED.replace(*change))
    found = problems(path)
    assert len(found) == 1 and message in found[0] and str(path) in found[0]


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", CITY_SEED + "[[source]\n")
    (problem,) = problems(path)
    assert problem.startswith(f"{path}: cannot read seed file:") and "\n" not in problem


def test_sources_check_command(tmp_path: Path) -> None:
    ok = newsmon("sources", "--check")
    assert ok.stdout.startswith("ok: ") and "sources in" in ok.stdout
    bad = write(tmp_path, "bad.toml", CITY_SEED.replace("every", "evrey"))
    result = newsmon("sources", "--check", "--seeds", str(bad), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"Error: {bad}:7: source 'city-a': unknown key 'evrey' (did you mean 'every'?)"
    )
