"""The command line: documented, one-line errors, and the demo a new user runs first."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlite_utils import Database

from crawler.cli import main
from crawler.clock import now
from crawler.demo.site import DemoSite, load_updates
from tests.support.run import PROJECT, newsmon
from tests.support.sites import public


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


def test_demo_crawls_changes_and_shows_the_alerts(tmp_path: Path, site: DemoSite) -> None:
    db_path = tmp_path / "demo.db"
    result = newsmon("demo", "--db", str(db_path))
    out = result.stdout
    # the first crawl: the news site's public articles and the 政府信息公开 section's documents
    assert f"({len(public(site)) + len(site.documents)} new, 0 updated, 0 unchanged)" in out
    alerts = out.split("3. alerts raised by the second crawl:")[1]
    kinds = sorted(line.split("]")[0][1:] for line in alerts.splitlines() if line.startswith("["))
    assert kinds == [
        "changed_article",
        "changed_attachment",
        *["new_article"] * 2,  # the news site's new article, the draft's final version
        *["new_policy"] * 2,  # the policies those two are the first to name
    ]
    assert "syndicated copy" in out and "雄安新区发布第二批人工智能应用场景清单" in out
    assert "最高〖-3-〗〖+5+〗000万元" in alerts  # the edited sentence, to the character
    assert "final version of 《西安市算力券管理暂行办法（征求意见稿）》" in alerts
    assert f"    + 三、{load_updates()['attachment'][0]['new']}" in alerts  # the attachment's
    assert f"newsmon serve --db {db_path}" in out
    # The first crawl was the baseline: the digest holds the second crawl's news, change first.
    assert "4. the digest of all alerts not yet sent: wrote" in out and "(更新 2 · " in out
    db = Database(db_path)
    # every article and document once, the new ones and the syndicated copy too
    changed = site.updated(load_updates(), now())
    assert db["articles"].count == len(public(changed)) + len(changed.documents)
    assert {r["encoding"] for r in db["articles"].rows} == {"utf-8", "gb18030", "big5hkscs"}


def test_tag_prints_the_json_contract(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(
        "5月31日，深圳市人民政府办公厅印发《深圳市加快推动人工智能高质量发展高水平应用行动方案"
        "（2023—2024年）》，统筹设立规模1000亿元的人工智能基金群，建设智能算力中心。\n"
        "方案提出，到2024年深圳人工智能核心产业规模突破3000亿元，打造一批应用场景。",
        encoding="gbk",  # any charset a saved page has
    )
    result = newsmon(
        "tag",
        str(article),
        "--title",
        "深圳发布人工智能行动方案",
        "--published",
        "2023-06-01",
        "--json",
    )
    tags = json.loads(result.stdout)
    assert list(tags) == ["regions", "topics", "policies", "keywords", "amounts", "events"]
    assert tags["regions"]["primary"] == ["深圳"]
    assert {"policy", "funding"} <= set(tags["topics"])
    assert tags["policies"] == [
        {
            "title": "深圳市加快推动人工智能高质量发展高水平应用行动方案（2023—2024年）",
            "region": "深圳",
            "date": "2023-05-31",
            "issuer": "深圳市人民政府办公厅",
            "doc_number": None,
            "kind": "方案",
            "status": "正式",
        }
    ]
    assert any(a["text"].startswith("1000亿元") for a in tags["amounts"])
    assert tags["events"][0]["issuer"] == "深圳市人民政府办公厅"


def test_reclassify_applies_a_new_taxonomy(tmp_path: Path, demo_server: Any) -> None:
    db_path = tmp_path / "news.db"
    newsmon("crawl", "--source", "demo", "--base-url", demo_server.url, "--db", str(db_path), "-q")
    extra = tmp_path / "mine.toml"
    extra.write_text(
        '[topics.ports]\nname = "港口"\nthreshold = 1.0\nmin_mentions = 1\n'
        '[topics.ports.cues]\n"港口" = 1.0\n"码头" = 1.0\n',
        encoding="utf-8",
    )
    result = newsmon("reclassify", "--db", str(db_path), "--taxonomy", str(extra))
    assert result.stdout.startswith("reclassified ")
    ports = list(Database(db_path).query("select * from article_topics where topic = 'ports'"))
    assert ports and all("港" in row["evidence"] or "码头" in row["evidence"] for row in ports)
    bad = tmp_path / "bad.toml"
    bad.write_text("[topics.x]\nweight = 'heavy'\n", encoding="utf-8")
    failed = newsmon("reclassify", "--db", str(db_path), "--taxonomy", str(bad), check=False)
    assert failed.returncode == 1 and len(failed.stderr.strip().splitlines()) == 1
