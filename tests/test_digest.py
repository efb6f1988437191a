"""The email digest end to end: a database from two real crawls of the demo site, a real SMTP
server on 127.0.0.1 (aiosmtpd), and exactly-once delivery when the server refuses or is gone."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.clock import now
from crawler.config import load_config
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from tests.support.digest import bodies, digest, unsent, write_config
from tests.support.run import free_port, newsmon
from tests.support.smtp import Inbox, raw

NEW_POLICY = "武汉市算力券管理办法（试行）"


def crawl(server_url: str, db_path: Path) -> None:
    newsmon("crawl", "--source", "demo", "--base-url", server_url, "--db", str(db_path), "--quiet")


@pytest.fixture(scope="module")
def second_crawl_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo crawled, its first digest written to a file (all sent), the site changed by
    updates.toml and crawled again: unsent are a new policy, a new article and a change."""
    folder = tmp_path_factory.mktemp("digest")
    db_path = folder / "news.db"
    with DemoServer() as server:
        crawl(server.url, db_path)
        out = folder / "first.html"
        newsmon("digest", "--db", str(db_path), "--out", str(out))
        assert out.exists()
        server.update(server.site.updated(load_updates(), now()))
        crawl(server.url, db_path)
    db = Database(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return db_path


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
    assert summary == "sent [政策日报] 新政策 1 · 新文章 1 · 更新 1 to analyst@example.cn"
    [message] = handler.messages()
    headers = raw(handler.envelopes[0]).split(b"\r\n\r\n")[0]
    assert b"=?utf-8?" in headers  # Chinese subject and sender name encoded, not raw bytes
    assert message["Subject"] == "[政策日报] 新政策 1 · 新文章 1 · 更新 1"
    assert message["From"].addresses[0].display_name == "新闻监测"
    assert message.get_content_type() == "multipart/alternative"
    text, html = bodies(message)
    # The new policy under its issuing region, with its first article.
    policies = html.split('id="policies"')[1].split('id="articles"')[0]
    assert policies.index(">武汉<") < policies.index(NEW_POLICY)
    assert "武汉发布算力券管理办法" in policies
    assert "[武汉]\n· " + NEW_POLICY in text
    # The new article under its primary region; the change with the edit highlighted.
    articles = html.split('id="articles"')[1].split('id="changed"')[0]
    assert "武汉发布算力券管理办法" in articles and ">武汉<" in articles
    changed = html.split('id="changed"')[1]
    assert "北京出台算力券实施细则" in changed
    # Only the edited character is marked: 3000 became 5000.
    assert re.search(r"<del[^>]*>3</del><ins[^>]*>5</ins>000万元", changed)
    assert "+ " in text and "5000" in text
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
    assert "新政策 1 · 新文章 1 · 更新 0" in summary
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
    assert received["beijing@example.cn"]["Subject"].endswith("新政策 0 · 新文章 0 · 更新 1")
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
