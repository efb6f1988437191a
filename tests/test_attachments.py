"""Attachments (附件) of an article page, crawled from a portal on 127.0.0.1: each kind's text
stored and searchable, a scan flagged, a broken or oversized file an error that `newsmon
status` shows and nothing stored, an unchanged file a 304, a changed one an alert."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlite_utils import Database

from crawler.attachments import BrokenAttachment, is_attachment, read_attachment
from crawler.demo.documents import (
    docx_document,
    pdf_document,
    scanned_pdf,
    xlsx_document,
    zip_archive,
)
from crawler.demo.server import DemoServer
from crawler.demo.site import DemoSite, Resource
from crawler.search import search_query
from tests.support.run import newsmon
from tests.support.web import get_json, served

HTML = "text/html; charset=utf-8"
TITLE = "武汉市算力券实施细则"
POLICY = [
    "为加快建设人工智能创新高地，市经信局制定本细则。",
    "对租用智能算力的企业发放算力券，单个企业年度最高支持三百万元。",
    "申报截至今年十二月三十一日，逾期不予受理。",
]
CHANGED = "对租用智能算力的企业发放算力券，单个企业年度最高支持五百万元。"
GUIDE = ["申报单位应在武汉市注册并具有独立法人资格。", "申报材料一式三份，加盖公章后提交。"]
ROWS: list[list[str | int | float]] = [
    ["企业名称", "金额（万元）"],
    ["武汉某某智能科技有限公司", 300],
]
# Over the source's max_attachment_bytes (below), announced in Content-Length.
HUGE = b"PK\x03\x04" + bytes(200_000)
LINKS = [
    ("/files/policy.pdf", f"{TITLE}.pdf"),
    ("/files/guide.docx", "申报指南"),
    ("/files/list.xlsx", "补贴企业清单"),
    ("/files/bundle.zip", "申报材料包"),
    ("/files/scan.pdf", "盖章件（扫描件）"),
    ("/files/form.doc", "申报表"),
    ("/files/notice.ofd", "通知（OFD版）"),
    ("/download.jsp?id=9", "承诺书"),  # no suffix: an attachment because it is under 附件
    ("/files/cut.pdf", "附表"),
    ("/files/huge.zip", "全部材料"),
    ("/zwgk/", "返回列表"),  # under 附件 too, but a folder of the portal
    ("/files/extra.pdf", "第十一个附件"),  # past max_attachments
]
ARTICLE = (
    "<html><head><meta charset='utf-8'><title>关于印发{title}的通知</title></head><body>"
    "<h1>关于印发{title}的通知</h1>"
    + "<p>武汉市经济和信息化局印发算力券实施细则，支持人工智能企业租用智能算力，推动产业发展。</p>"
    * 6
    + "<div class='fj'><p>附件：</p><ul>{links}</ul></div></body></html>"
)
SEEDS = """[[source]]
id = "portal"
name = "a portal whose notices have attachments"
base_url = "{url}"
private_hosts = ["127.0.0.1"]
lists = ["/list/"]
article_urls = ['^/a/']
watch = ["1s", "1s", "1s", "1s"]
delay = 0
max_attachments = 10
max_attachment_bytes = 100000
"""


def files(policy: list[str] = POLICY, guide_cut: bool = False) -> dict[str, bytes]:
    """The portal's files; ``guide_cut``: the Word document served cut short."""
    guide = docx_document("申报指南", GUIDE)
    whole_pdf = pdf_document("附表", ["附表一：申报企业基本情况。"])
    return {
        "/files/policy.pdf": pdf_document(TITLE, policy),
        "/files/guide.docx": guide[: len(guide) // 2] if guide_cut else guide,
        "/files/list.xlsx": xlsx_document("清单", ROWS),
        "/files/bundle.zip": zip_archive(
            {"政策原文.pdf": pdf_document(TITLE, POLICY), "清单.xlsx": xlsx_document("清单", ROWS)}
        ),
        "/files/scan.pdf": scanned_pdf(),
        "/files/form.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000),
        "/files/notice.ofd": zip_archive(
            {"OFD.xml": b"<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>"}
        ),
        "/download.jsp": docx_document("承诺书", ["本单位承诺所报材料真实有效。"]),
        "/files/cut.pdf": whole_pdf[: len(whole_pdf) - 200],
        "/files/huge.zip": HUGE,
    }


@dataclass
class Portal(DemoSite):
    """A list page, one notice linking its attachments, and the files (path: bytes)."""

    files: dict[str, bytes] = field(default_factory=files)

    def pages(self, base_url: str) -> dict[str, Resource]:
        links = "".join(f"<li><a href='{href}'>{text}</a></li>" for href, text in LINKS)
        return {
            "/list/": Resource(
                "<html><body><a href='/a/1.html'>通知</a></body></html>".encode(), HTML
            ),
            "/a/1.html": Resource(ARTICLE.format(title=TITLE, links=links).encode(), HTML),
            **{
                path: Resource(data, "application/octet-stream")
                for path, data in self.files.items()
            },
        }


@dataclass
class Crawled:
    """The portal as served, and the database and seeds its crawls use."""

    server: DemoServer
    db_path: Path
    seeds: Path

    def crawl(self) -> None:
        """`newsmon crawl` of the portal, as cron runs it."""
        newsmon("crawl", "--db", str(self.db_path), "--seeds", str(self.seeds))

    def attachments(self) -> dict[str, dict[str, Any]]:
        """The stored attachments by the path (and query) of their URL."""
        db = Database(self.db_path)
        rows = {row["url"].split("/", 3)[3]: row for row in db["attachments"].rows}
        db.close()
        return rows

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """What ``sql`` selects from the database."""
        db = Database(self.db_path)
        found = list(db.query(sql, params or []))
        db.close()
        return found


def crawled_portal(folder: Path) -> Iterator[Crawled]:
    """The portal served, crawled once into ``folder``."""
    with DemoServer(Portal(articles=[])) as server:
        seeds = folder / "seeds.toml"
        seeds.write_text(SEEDS.format(url=server.url), encoding="utf-8")
        crawled = Crawled(server, folder / "news.db", seeds)
        crawled.crawl()
        yield crawled


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """The portal crawled once, for the tests that only read what the crawl stored."""
    yield from crawled_portal(tmp_path_factory.mktemp("portal"))


@pytest.fixture
def revisited(tmp_path: Path) -> Iterator[Crawled]:
    """The portal crawled once, for a test that changes it and crawls again."""
    yield from crawled_portal(tmp_path)


def test_each_kind_of_attachment_is_stored_with_its_text(portal: Crawled) -> None:
    stored = portal.attachments()
    article = portal.rows("select id from articles where url like '%/a/1.html'")[0]["id"]
    policy = stored["files/policy.pdf"]
    served = portal.server.pages["/files/policy.pdf"].resource.body
    assert (policy["kind"], policy["error"], policy["version"]) == ("pdf", None, 1)
    assert policy["name"] == f"{TITLE}.pdf" and policy["article_id"] == article
    assert policy["sha256"] == hashlib.sha256(served).hexdigest()
    assert policy["bytes"] == len(served)
    assert all(sentence in policy["text"] for sentence in [TITLE, *POLICY])
    guide = stored["files/guide.docx"]
    assert guide["kind"] == "docx" and all(s in guide["text"] for s in GUIDE)
    assert "武汉某某智能科技有限公司\t300" in stored["files/list.xlsx"]["text"]
    bundle = stored["files/bundle.zip"]["text"]
    assert "政策原文.pdf" in bundle and POLICY[1] in bundle and "武汉某某智能科技有限公司" in bundle
    pledge = stored["download.jsp?id=9"]
    assert (pledge["kind"], pledge["name"]) == ("docx", "承诺书")
    assert "本单位承诺所报材料真实有效。" in pledge["text"]


def test_a_scan_is_flagged_and_ofd_and_legacy_documents_are_unsupported(
    portal: Crawled,
) -> None:
    stored = portal.attachments()
    scan = stored["files/scan.pdf"]
    assert (scan["kind"], scan["text"], scan["error"]) == ("pdf", "", "scanned: no text layer")
    form = stored["files/form.doc"]
    assert (form["kind"], form["error"]) == ("doc", "unsupported: legacy Word document (.doc)")
    notice = stored["files/notice.ofd"]
    assert (notice["kind"], notice["text"], notice["error"]) == ("ofd", "", "unsupported: OFD")


def test_broken_oversized_and_extra_files_are_errors_in_status_not_stored(
    portal: Crawled,
) -> None:
    assert {"files/cut.pdf", "files/huge.zip", "zwgk/", "files/extra.pdf"}.isdisjoint(
        portal.attachments()
    )
    assert "/zwgk/" not in portal.server.requested
    assert "/files/extra.pdf" not in portal.server.requested
    status = newsmon("status", "--db", str(portal.db_path), "--seeds", str(portal.seeds)).stdout
    assert "attachment: PDF cut short (no %%EOF at its end)" in status
    assert "attachment: over the source's max_attachment_bytes = 100000" in status
    assert "attachment: 1 links over max_attachments = 10, e.g." in status


def test_attachment_text_is_found_by_full_text_search(portal: Crawled) -> None:
    found = portal.rows(
        "select a.url from attachments a join attachments_fts f on f.rowid = a.id"
        " where attachments_fts match ?",
        [search_query("智能算力")],
    )
    assert {row["url"].split("/", 3)[3] for row in found} == {
        "files/policy.pdf",
        "files/bundle.zip",
    }


def test_the_site_searches_attachments_with_the_article_that_links_them(
    portal: Crawled,
) -> None:
    query = urlencode({"q": "算力券 三百万元", "_shape": "array"})
    with served(portal.db_path) as base:
        found = get_json(f"{base}/news/search_attachments.json?{query}")
    assert {(row["name"], row["article"]) for row in found} == {
        (f"{TITLE}.pdf", f"关于印发{TITLE}的通知"),
        ("申报材料包", f"关于印发{TITLE}的通知"),
    }


def test_revisits_ask_conditionally_and_a_changed_attachment_raises_one_alert(
    revisited: Crawled,
) -> None:
    time.sleep(1.1)  # the notice is due again after its watch's first second
    asked = len(revisited.server.requested)
    revisited.crawl()
    again = revisited.server.requested[asked:]
    assert "/a/1.html" in again and "/files/policy.pdf" in again
    statuses = {
        row["url"].split("/", 3)[3]: row["status"]
        for row in revisited.rows(
            "select url, status from fetches where kind = 'attachment' and run_id ="
            " (select max(id) from crawl_runs)"
        )
    }
    assert statuses["files/policy.pdf"] == statuses["files/scan.pdf"] == 304
    assert {row["version"] for row in revisited.attachments().values()} == {1}

    before = revisited.attachments()
    changed = [CHANGED if s == POLICY[1] else s for s in POLICY]
    revisited.server.update(Portal(articles=[], files=files(changed, guide_cut=True)))
    time.sleep(1.1)
    revisited.crawl()
    after = revisited.attachments()
    assert (
        after["files/policy.pdf"]["version"] == 2 and CHANGED in after["files/policy.pdf"]["text"]
    )
    # A file cut short on the way is its fetch's error: the stored text stays, no alert.
    assert after["files/guide.docx"] == before["files/guide.docx"]
    alerts = revisited.rows("select * from alerts where kind = 'changed_attachment'")
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["subject"] == f"attachment:{after['files/policy.pdf']['id']}:v2"
    assert alert["title"] == f"{TITLE}.pdf"
    changes = json.loads(alert["detail"])["changes"]
    assert [(c["old"].strip(), c["new"].strip()) for c in changes] == [(POLICY[1], CHANGED)]
    # The digest tells it among the changed articles, with the edit marked.
    out = revisited.db_path.with_name("digest.html")
    newsmon("digest", "--out", str(out), "--db", str(revisited.db_path))
    digest = out.read_text(encoding="utf-8")
    assert f'files/policy.pdf">{TITLE}.pdf</a>' in digest
    assert re.search("最高支持<del[^>]*>三</del><ins[^>]*>五</ins>百万元", digest)
    errors = [
        row["error"] for row in revisited.rows("select error from fetches where error is not null")
    ]
    assert any(e.startswith("attachment: Word document that does not open") for e in errors)


def test_link_rules_and_broken_bytes_without_a_crawl() -> None:
    assert is_attachment("http://x.cn/u/a.PDF", "", labelled=False)
    assert is_attachment("http://x.cn/down?id=1", "实施细则.docx", labelled=False)
    assert not is_attachment("http://x.cn/down?id=1", "实施细则", labelled=False)
    assert not is_attachment("http://x.cn/zwgk/t1.html", "上一篇", labelled=True)
    with pytest.raises(BrokenAttachment, match="a web page"):
        read_attachment(b"<!DOCTYPE html><html><body>login</body></html>", "细则.pdf")
    with pytest.raises(BrokenAttachment, match="an empty file"):
        read_attachment(b"", "细则.pdf")
