"""Sources are data: every shipped seed file loads, and mistakes are one line naming the place."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler import demo, paths
from crawler.sources import SourceError, load_sources
from tests.support.run import newsmon
from tests.support.sites import CITY_SEED

SHIPPED = {s.id: s for s in load_sources([paths.shipped_seeds()])}
# Guangdong's provincial and city portals all publish through the gkmlpt platform.
GUANGDONG_HOSTS = ("gd.gov.cn", "sz.gov.cn", "gz.gov.cn")


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
    assert set(demo.SOURCES) <= ids and len(sources) >= 40
    real = [s for s in sources if s.id not in demo.SOURCES]
    assert all(not s.verified for s in real), "nothing here can reach the real sites"
    regions = {s.region for s in real}
    assert {"北京", "上海", "深圳", "广东", "武汉", "杭州", "成都"} <= regions
    for source in real:
        starts = [u for urls in source.start_urls.values() for u in urls]
        assert not any(source.domains and s.startswith("http://127.") for s in starts)


@pytest.mark.parametrize(
    ("source_id", "url"),
    [
        # Feed and share links carry flags that the canonical URL drops.
        ("36kr", "https://36kr.com/p/2396489581718661?f=rss"),
        ("thepaper-tech", "https://www.thepaper.cn/newsDetail_forward_27760000?commTag=true"),
        ("sz-gxj", "https://gxj.sz.gov.cn/gkmlpt/content/12/12956/post_12956819.html?jump=true"),
        ("tmtpost", "https://www.tmtpost.com/6842788.html?utm_source=rss&f=rss"),
        # Documents of the shared platforms, under paths no column pattern names.
        ("gd-gov", "https://www.gd.gov.cn/gkmlpt/content/4/4427/post_4427812.html"),
        ("zj-jxt", "https://jxt.zj.gov.cn/col/col1229886900/art/2026/art_7ecbc859150f48e4.html"),
        ("bj-kw", "https://kw.beijing.gov.cn/art/2020/6/2/art_736_573808.html"),
        ("ah-gov", "https://www.ah.gov.cn/public/1681/565495721.html"),
        # Documents on a sibling host of the portal.
        ("ndrc-policy", "https://zfxxgk.ndrc.gov.cn/web/iteminfo.jsp?id=20523"),
        ("ndrc-news", "https://zfxxgk.ndrc.gov.cn/web/iteminfo.jsp?id=20632"),
        ("zqcn", "http://epaper.zqcn.com.cn/content/2024-06/19/content_52781.htm"),
        (
            "sh-sheitc",
            "https://www.sheitc.sh.gov.cn/zwgk/tz/20260312/974925ba5f954a68bc0278a9e7601d4b.html",
        ),
        # TRS documents with their _ext page.
        ("ndrc-news", "https://www.ndrc.gov.cn/xwdt/xwfb/202406/t20240618_1387070_ext.html"),
        (
            "wh-gov",
            "https://www.wuhan.gov.cn/zwgk/xxgk/zfwj/gfxwj/202502/t20250218_2496739_ext.shtml",
        ),
        ("most-news", "https://www.most.gov.cn/tztg/202404/t20240425_190494_ext.html"),
        (
            "cq-gov",
            "https://www.cq.gov.cn/zwgk/zfxxgkml/szfwj/qtgw/202512/t20251217_15251374_ext.html",
        ),
    ],
)
def test_real_article_links_are_articles_of_their_source(source_id: str, url: str) -> None:
    source = SHIPPED[source_id]
    assert source.is_article(url)
    assert urlsplit(url).hostname in source.domains


def test_listings_and_mobile_copies_are_not_articles() -> None:
    assert not SHIPPED["cq-gov"].is_article(
        "https://www.cq.gov.cn/zwgk/zfxxgkml/szfwj/qtgw/202512/t20251217_15251374_app.html"
    )
    assert not SHIPPED["gd-gov"].is_article("https://www.gd.gov.cn/gkmlpt/index")
    assert not SHIPPED["ndrc-news"].is_article("https://www.ndrc.gov.cn/xwdt/xwfb/index_1.html")


def test_every_guangdong_portal_reads_the_gkmlpt_platform() -> None:
    portals = [s for s in SHIPPED.values() if any(d.endswith(GUANGDONG_HOSTS) for d in s.domains)]
    assert len(portals) >= 7
    for source in portals:
        host = source.domains[0]
        assert source.is_article(f"https://{host}/gkmlpt/content/10/10886/post_10886098.html"), (
            source.id
        )


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
        (
            ('every = "6h"', 'platforms = ["gkmpt"]'),
            "unknown platform 'gkmpt' (did you mean 'gkmlpt'?)",
        ),
        (
            ("article_urls = ['^/zwgk/tzgg/\\d{6}/t\\d{8}_\\d+\\.html$']", ""),
            "no article_urls nor platforms",
        ),
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
