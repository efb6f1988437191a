"""The email digest end to end: a database from two real crawls of the demo site, a real SMTP
server on 127.0.0.1 (aiosmtpd), and exactly-once delivery when the server refuses or is gone;
what its reader sees first (the change), topics by name, Beijing time, zones under their
city, policies with what is known of them, and links to the article's page in Datasette."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import lxml.html
import pytest
from sqlite_utils import Database

from crawler.classify.topics import default_taxonomy
from crawler.clock import now
from crawler.config import load_config
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from tests.support.digest import bodies, digest, unsent, write_config
from tests.support.run import free_port, newsmon
from tests.support.smtp import Inbox, raw
from tests.support.web import CHROMIUM, SCREENSHOTS, chromium

NEW_POLICY = "武汉市算力券管理办法（试行）"
CHANGED = "北京出台算力券实施细则"


def crawl(server_url: str, db_path: Path, *options: str) -> None:
    newsmon(
        "crawl", "--source", "demo", "--base-url", server_url, "--db", str(db_path), "--quiet",
        *options,
    )  # fmt: skip


def checkpointed(db_path: Path) -> Path:
    db = Database(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return db_path


@pytest.fixture(scope="module")
def second_crawl_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo crawled (a baseline), its first digest written to first.html beside it (all
    sent), the site changed by updates.toml and crawled again: unsent are a new policy, a new
    article and a change."""
    folder = tmp_path_factory.mktemp("digest")
    db_path = folder / "news.db"
    with DemoServer() as server:
        crawl(server.url, db_path)
        out = folder / "first.html"
        newsmon("digest", "--db", str(db_path), "--out", str(out))
        assert out.exists()
        server.update(server.site.updated(load_updates(), now()))
        crawl(server.url, db_path)
    return checkpointed(db_path)


@pytest.fixture(scope="module")
def every_alert_db(tmp_path_factory: pytest.TempPathFactory, demo_server: DemoServer) -> Path:
    """The demo crawled once with --no-baseline: every story and policy is an unsent alert."""
    db_path = tmp_path_factory.mktemp("every") / "news.db"
    crawl(demo_server.url, db_path, "--no-baseline")
    return checkpointed(db_path)


def preview(db_path: Path, config: Path | None = None) -> str:
    """What `newsmon digest --dry-run` prints: the summary, then the text part."""
    args = ("--config", str(config)) if config else ()
    return newsmon("digest", "--db", str(db_path), "--dry-run", "--to", "a@x.cn", *args).stdout


def block(text: str, heading: str) -> str:
    """The lines of a text digest's ``[heading]`` group, up to the next group or section."""
    lines = []
    for line in text.split(f"\n{heading}\n", 1)[1].splitlines():
        if line.startswith(("[", "==")):
            break
        lines.append(line)
    return "\n".join(lines)


@pytest.fixture
def db_path(second_crawl_db: Path, tmp_path: Path) -> Path:
    """A copy of the twice-crawled database for one test to mark as it likes."""
    path = tmp_path / "news.db"
    shutil.copy(second_crawl_db, path)
    return path


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    with Inbox() as handler:
        yield handler, handler.port


def test_the_digest_arrives_grouped_and_is_sent_once(
    db_path: Path, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    config = write_config(tmp_path / "newsmon.toml", port)
    assert unsent(db_path) == 3
    summary = digest(db_path, config)
    assert summary == "sent [政策日报] 更新 1 · 新政策 1 · 新文章 1 to analyst@example.cn"
    [message] = handler.messages()
    headers = raw(handler.envelopes[0]).split(b"\r\n\r\n")[0]
    assert b"=?utf-8?" in headers  # Chinese subject and sender name encoded, not raw bytes
    assert message["Subject"] == "[政策日报] 更新 1 · 新政策 1 · 新文章 1"
    assert message["From"].addresses[0].display_name == "新闻监测"
    assert message.get_content_type() == "multipart/alternative"
    text, html = bodies(message)
    # The change first, with the edit highlighted: only the edited character, 3000 to 5000.
    assert re.findall(r'<h2 id="(\w+)"', html) == ["changed", "policies", "articles"]
    changed = html.split('id="changed"')[1].split('id="policies"')[0]
    assert CHANGED in changed
    assert re.search(r"<del[^>]*>3</del><ins[^>]*>5</ins>000万元", changed)
    assert re.findall(r"^== (.+) ==$", text, re.M) == ["更新的文章", "新政策文件", "新文章"]
    first = text.split("== 更新的文章 ==\n")[1].split("\n== ")[0]
    assert CHANGED in first and "+ " in first and "5000万元" in first
    # The new policy under its issuing region, with its first article.
    policies = html.split('id="policies"')[1].split('id="articles"')[0]
    assert policies.index(">武汉<") < policies.index(NEW_POLICY)
    assert "武汉发布算力券管理办法" in policies
    assert "[武汉]\n· " + NEW_POLICY in text
    # The new article under its primary region and topic, with its publication date.
    articles = html.split('id="articles"')[1]
    assert "武汉发布算力券管理办法" in articles and ">武汉<" in articles
    assert "（长江日报 · 2025-06-20）" in text.split("== 新文章 ==")[1]
    assert unsent(db_path) == 0
    row = next(Database(db_path).query("select * from digests order by id desc limit 1"))
    assert row["sent_at"] and row["alerts"] == 3 and row["error"] is None
    # A second run finds nothing new and sends nothing.
    assert digest(db_path, config).startswith("nothing new since")
    assert len(handler.envelopes) == 1


def test_a_refused_digest_is_delivered_by_the_next_run(
    db_path: Path, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    config = write_config(tmp_path / "newsmon.toml", port)
    handler.refuse = True
    with pytest.raises(OSError, match="refused the digest: 550"):
        digest(db_path, config)
    assert handler.envelopes == [] and unsent(db_path) == 3
    failed = next(Database(db_path).query("select * from digests order by id desc limit 1"))
    assert failed["sent_at"] is None and "550" in failed["error"]
    handler.refuse = False
    assert digest(db_path, config).startswith("sent ")
    assert digest(db_path, config).startswith("nothing new")
    assert len(handler.envelopes) == 1 and unsent(db_path) == 0


def test_an_unreachable_server_leaves_alerts_for_the_next_run(
    db_path: Path, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    closed = write_config(tmp_path / "closed.toml", free_port())
    with pytest.raises(OSError, match="unreachable"):
        digest(db_path, closed)
    assert unsent(db_path) == 3
    config = write_config(tmp_path / "newsmon.toml", port)
    assert digest(db_path, config).startswith("sent ")
    assert digest(db_path, config).startswith("nothing new")
    assert len(handler.envelopes) == 1 and unsent(db_path) == 0


def test_out_writes_a_file_and_dry_run_marks_nothing(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "digest.html"
    dry = newsmon("digest", "--db", str(db_path), "--dry-run", "--to", "a@example.cn")
    assert "dry run" in dry.stdout and unsent(db_path) == 3
    # The text part it would send, after the line that says so.
    summary, text = dry.stdout.split("\n--- to a@example.cn ---\n")
    assert summary.startswith("dry run, nothing sent: 更新 1 · 新政策 1 · 新文章 1 to a@e")
    assert text.startswith("更新 1 · 新政策 1 · 新文章 1\n自 ") and "5000万元" in text
    result = newsmon("digest", "--db", str(db_path), "--out", str(out))
    assert result.stdout.startswith(f"wrote {out}")
    page = out.read_text(encoding="utf-8")
    assert NEW_POLICY in page and "<ins" in page
    assert unsent(db_path) == 0


def test_since_limits_the_window(db_path: Path, tmp_path: Path) -> None:
    Database(db_path).execute(
        "update alerts set created = '2000-01-01T00:00:00+00:00' where kind = 'changed_article'"
    )
    summary = digest(db_path, write_config(tmp_path / "c.toml", 25), since="12h", dry_run=True)
    # The subject counts what the message holds, and no section is announced empty.
    assert summary.splitlines()[0].endswith("新政策 1 · 新文章 1 to analyst@example.cn")
    assert "更新" not in summary
    with pytest.raises(ValueError, match="since"):
        digest(db_path, write_config(tmp_path / "c.toml", 25), since="yesterday", dry_run=True)


def test_recipients_get_only_their_regions(
    db_path: Path, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    recipients = """
[[digest.recipient]]
address = "wuhan@example.cn"
regions = ["武汉"]

[[digest.recipient]]
address = "beijing@example.cn"
regions = ["北京"]
"""
    config = write_config(tmp_path / "newsmon.toml", port, recipients, to="[]")
    digest(db_path, config)
    received = {
        e.rcpt_tos[0]: m for e, m in zip(handler.envelopes, handler.messages(), strict=True)
    }
    assert set(received) == {"wuhan@example.cn", "beijing@example.cn"}
    _, wuhan = bodies(received["wuhan@example.cn"])
    _, beijing = bodies(received["beijing@example.cn"])
    assert NEW_POLICY in wuhan and "北京出台算力券实施细则" not in wuhan
    assert "北京出台算力券实施细则" in beijing and NEW_POLICY not in beijing
    assert received["beijing@example.cn"]["Subject"] == "[政策日报] 更新 1"
    assert received["wuhan@example.cn"]["Subject"] == "[政策日报] 新政策 1 · 新文章 1"
    assert unsent(db_path) == 0


def test_a_hostile_title_is_escaped_and_injects_no_header(
    db_path: Path, inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    handler, port = inbox
    Database(db_path)["alerts"].insert(
        {
            "kind": "new_article",
            "subject": "story:hostile",
            "title": "<script>alert(1)</script>\r\nBcc: victim@evil.example\r\n\r\n正文",
            "url": "javascript:alert(1)",
            "created": now(),
        }
    )
    bad = write_config(tmp_path / "bad.toml", port, to='["a@example.cn\\r\\nBcc: v@evil.example"]')
    with pytest.raises(ValueError, match="not an email address"):
        digest(db_path, bad)
    config = write_config(tmp_path / "newsmon.toml", port)
    with pytest.raises(ValueError, match="not an email address"):
        digest(db_path, config, to=("a@example.cn\nBcc: v@evil.example",))
    digest(db_path, config)
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["analyst@example.cn"]
    headers = raw(envelope).split(b"\r\n\r\n")[0]
    assert not [line for line in headers.split(b"\r\n") if line.lower().startswith(b"bcc")]
    _, html = bodies(handler.messages()[0])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert 'href="javascript:' not in html


def test_settings_merge_over_defaults_and_keep_the_password_out(tmp_path: Path) -> None:
    path = tmp_path / "newsmon.toml"
    path.write_text('[smtp]\nhost = "mail.example.cn"\nuser = "bot"\npassword_env = "NM_PW"\n')
    config = load_config(path)
    assert config.smtp.host == "mail.example.cn" and config.smtp.port == 587
    assert config.smtp.security == "starttls" and config.digest.time == "07:30"
    with pytest.raises(ValueError, match="NM_PW"):
        config.smtp.password()
    path.write_text('[smtp]\npassword = "hunter2"\n')
    with pytest.raises(ValueError, match="password_env"):
        load_config(path)
    path.write_text('[smtp]\nsecurity = "tls"\n[digest]\nbogus = 1\n')
    with pytest.raises(ValueError, match="unknown key bogus|security"):
        load_config(path)


def test_the_first_crawls_digest_is_one_line_for_the_source(second_crawl_db: Path) -> None:
    page = (second_crawl_db.parent / "first.html").read_text(encoding="utf-8")
    db = Database(second_crawl_db)
    first_stored = (
        "select article_id from versions where version = 1"
        " and run_id = (select min(id) from crawl_runs)"
    )
    stored = db.execute(f"select count(*) from ({first_stored})").fetchone()[0]
    policies = db.execute(
        f"select count(*) from policies where first_article_id in ({first_stored})"
    ).fetchone()[0]
    assert stored > 20 and policies > 20
    [line] = re.findall(r"<li>(.*)</li>", page)
    assert line == f"智策新闻网（内置演示站）：{stored} 篇作为基线收录，含政策文件 {policies} 项"
    assert re.findall(r'<h2 id="(\w+)"', page) == ["baselines"]
    assert "<title>新来源 1</title>" in page


def test_topics_are_named_and_zones_are_under_their_city(every_alert_db: Path) -> None:
    text = preview(every_alert_db).split("--- to a@x.cn ---\n")[1]
    articles = text.split("== 新文章 ==\n")[1]
    topic_lines = {line.strip() for line in articles.splitlines() if re.match(r"^  [^\s·]", line)}
    names = {topic.name for topic in default_taxonomy().topics} | {"其他"}
    assert topic_lines and topic_lines <= names
    ids = {topic.id for topic in default_taxonomy().topics}
    assert not [line for line in text.splitlines() if line.strip() in ids]
    # A zone is a group of its city's, named on its articles; never a group of its own.
    assert "[东湖高新区]" not in text and "[前海]" not in text
    assert "（东湖高新区 · " in block(articles, "[武汉]")
    assert "（前海 · " in block(articles, "[深圳]")
    # Every label is Chinese: headings, groups, topics, the words before a link or a colon.
    labels = [
        line.split("http")[0].split("：")[0]
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith(("·", "- ", "+ ", "~ "))
    ]
    assert len(labels) > 40
    assert not [line for line in labels if re.search(r"[A-Za-z]{2,}", line)], labels


def test_times_are_beijing_time_unless_the_settings_say_otherwise(
    every_alert_db: Path, tmp_path: Path
) -> None:
    [oldest] = Database(every_alert_db).query("select min(created) as at from alerts")
    moment = datetime.fromisoformat(oldest["at"])
    beijing = moment.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert f"\n自 {beijing}（北京时间）以来\n" in preview(every_alert_db)
    config = write_config(tmp_path / "utc.toml", 25, 'timezone = "UTC"')
    utc = moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")
    assert f"\n自 {utc}（时区 UTC）以来\n" in preview(every_alert_db, config)
    bad = write_config(tmp_path / "bad.toml", 25, 'timezone = "Beijing"')
    args = ("digest", "--db", str(every_alert_db), "--dry-run", "--config", str(bad))
    result = newsmon(*args, check=False)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "[digest] timezone must name a time zone like Asia/Shanghai" in result.stderr


def test_items_link_to_their_page_in_datasette_when_base_url_is_set(
    db_path: Path, tmp_path: Path
) -> None:
    assert "库内页面" not in preview(db_path)
    config = write_config(tmp_path / "c.toml", 25)
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[serve]\nbase_url = "http://10.0.0.5:8001/"\n',
        encoding="utf-8",
    )
    text = preview(db_path, config)
    db = Database(db_path)
    [changed] = db.query("select article_id from alerts where kind = 'changed_article'")
    [policy] = db.query("select policy_id from alerts where kind = 'new_policy'")
    first = text.split("== 更新的文章 ==\n")[1].split("\n== ")[0]
    assert f"库内页面：http://10.0.0.5:8001/news/articles/{changed['article_id']}" in first
    assert f"库内页面：http://10.0.0.5:8001/news/policies/{policy['policy_id']}" in text


def test_a_policy_shows_what_is_known_of_it(db_path: Path) -> None:
    policy = block(preview(db_path), "[武汉]")
    [known] = Database(db_path).query("select date from policies where title = ?", [NEW_POLICY])
    assert f"· {NEW_POLICY}\n" in policy and f"日期：{known['date']}" in policy
    assert "\n  首见：" in policy
    # What is stored of the document, the digest shows: issuer, number, status, official text.
    db = Database(db_path)
    [text] = db.query("select id, url from articles order by id limit 1")
    db.execute(
        "update policies set issuer = '武汉市数据局', doc_number = '武数规〔2025〕2号',"
        " status = '试行', text_article_id = ? where title = ?",
        [text["id"], NEW_POLICY],
    )
    file_url = "http://www.wuhan.gov.cn/zwgk/2025/2.pdf"
    db["attachments"].insert({"article_id": text["id"], "url": file_url, "name": "管理办法.pdf"})
    db.conn.commit()
    policy = block(preview(db_path), "[武汉]")
    assert (
        f"  发文机关：武汉市数据局 · 文号：武数规〔2025〕2号 · 日期：{known['date']} · 状态：试行\n"
        f"  原文：{text['url']}\n"
        f"  附件：管理办法.pdf  {file_url}\n"
    ) in policy


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")
def test_the_digest_in_a_browser_opens_with_the_change(db_path: Path, tmp_path: Path) -> None:
    page = tmp_path / "digest.html"
    newsmon("digest", "--db", str(db_path), "--out", str(page))
    profile = tmp_path / "chromium-profile"
    dom = lxml.html.fromstring(chromium("--dump-dom", page.as_uri(), profile=profile))
    headings = [" ".join(h.text_content().split()) for h in dom.iter("h2")]
    assert headings == ["更新的文章", "新政策文件", "新文章"]
    first_item = dom.xpath("//h2[@id='changed']/following-sibling::h3[1]")[0].text_content()
    assert CHANGED in first_item
    assert "5000万元" in dom.xpath("//h2[@id='changed']/following-sibling::*[2]")[0].text_content()
    shot = tmp_path / "digest.png"
    chromium(f"--screenshot={shot}", "--window-size=900,1200", page.as_uri(), profile=profile)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    SCREENSHOTS.append(shot)


def test_a_preview_needs_no_recipients_and_a_digest_does(db_path: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "newsmon.toml", 25, to="[]")
    args = ("digest", "--db", str(db_path), "--config", str(config))
    shown = newsmon(*args, "--dry-run").stdout
    assert "to no one yet" in shown.splitlines()[0]
    sections = re.findall(r"^== (.+) ==$", shown, re.M)
    assert sections[0] == "更新的文章" and CHANGED in shown.split("== 更新的文章 ==")[1]
    refused = newsmon(*args, check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("Error: no recipients:")
    assert len(refused.stderr.splitlines()) == 1 and unsent(db_path) == 3
