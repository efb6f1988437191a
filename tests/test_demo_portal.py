"""The demo site's 政府信息公开 section (crawler/demo/portal.toml), crawled by the demo's
demo-gov source over loopback into a real SQLite file, changed by updates.toml, crawled again:
documents stored as their policies, the pager a script draws followed, attachments read, and
the draft's final version and a replaced attachment told as alerts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import PORTAL_PAGE_SIZE, DemoSite, load_site, load_updates
from tests.support.run import newsmon

# The draft for comment and its final version, which arrives with the demo's updates.
(FINAL_GOLD,) = [
    policy
    for entry in load_updates()["document"]
    for policy in entry["policies"]
    if "draft" in policy
]
DRAFT, FINAL = FINAL_GOLD["draft"], FINAL_GOLD["title"]


@dataclass
class Crawled:
    """The section crawled once, then again after updates.toml."""

    db_path: Path
    first: DemoSite
    second: DemoSite
    alerts_before: int  # the last alert id of the first crawl
    draft_id_after_first: int | None
    requested_first: list[str]
    alerts_shown: str

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        db = Database(self.db_path)
        found = list(db.query(sql, params or []))
        db.close()
        return found

    def article(self, site: DemoSite, document_id: str) -> dict[str, Any]:
        path = site.document(document_id).path
        (row,) = self.rows("select * from articles where url like ?", [f"%{path}"])
        return row


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    db_path = tmp_path_factory.mktemp("portal") / "news.db"
    first = load_site()
    with DemoServer(first) as server:
        crawl = ("crawl", "--source", "demo-gov", "--base-url", server.url, "--db", str(db_path))
        output = newsmon(*crawl)
        assert "Traceback" not in output.stderr
        requested_first = list(server.requested)
        db = Database(db_path)
        alerts_before = next(db.query("select max(id) n from alerts"))["n"]
        draft = next(db.query("select draft_id from policies where title = ?", [FINAL]), None)
        db.close()
        second = first.updated(load_updates(), now())
        server.update(second)
        time.sleep(1.1)  # the source's watch checks its documents again after a second
        newsmon(*crawl)
    shown = newsmon("alerts", "--db", str(db_path), "--last", "10").stdout
    yield Crawled(
        db_path,
        first,
        second,
        alerts_before,
        draft and draft["draft_id"],
        requested_first,
        shown,
    )


def test_each_document_is_stored_with_its_information_table(crawled: Crawled) -> None:
    for document in crawled.second.documents:
        row = crawled.article(crawled.second, document.id)
        assert row["title"] == document.title
        assert (row["issuer"], row["doc_number"], row["written"]) == (
            document.issuer if document.index_no else None,
            document.doc_number,
            document.written,
        ), document.id
        # The table is the page's metadata, never its text. (The cleaner closes the space of
        # 第一条 为…: text between Han characters has none.)
        assert "".join(max(document.paragraphs, key=len).split()) in "".join(row["text"].split())
        assert "索引号" not in row["text"] and "陕ICP备" not in row["text"]


def test_each_document_is_its_policy_with_issuer_number_kind_and_status(crawled: Crawled) -> None:
    for document in crawled.second.documents:
        article = crawled.article(crawled.second, document.id)
        assert document.expected_policies, document.id
        for expected in document.expected_policies:
            (policy,) = crawled.rows("select * from policies where title = ?", [expected["title"]])
            for field in ("kind", "status", "region"):
                assert policy[field] == expected[field], (document.id, field)
            (link,) = crawled.rows(
                "select role from article_policies where article_id = ? and policy_id = ?",
                [article["id"], policy["id"]],
            )
            assert link["role"] == expected["role"], document.id
            if expected["role"] == "text":
                assert policy["text_article_id"] == article["id"]
                for field in ("issuer", "doc_number", "date"):
                    assert policy[field] == expected.get(field), (document.id, field)
        regions = crawled.rows(
            "select region from article_regions where article_id = ? and is_primary",
            [article["id"]],
        )
        assert [r["region"] for r in regions] == list(document.primary)


def test_the_list_pager_drawn_by_a_script_is_followed(crawled: Crawled) -> None:
    listed = sorted(crawled.first.documents, key=lambda d: d.published, reverse=True)
    on_second_page = listed[PORTAL_PAGE_SIZE:]
    assert on_second_page, "the section's list has a second page"
    assert "/xxgk/index_1.html" in crawled.requested_first
    first_page = crawled.first.pages("http://127.0.0.1/")["/xxgk/"].body.decode()
    assert "index_1.html" not in first_page and "createPageHTML(" in first_page
    stored = {row["url"].split("/", 3)[3] for row in crawled.rows("select url from articles")}
    assert {d.path.lstrip("/") for d in on_second_page} <= stored


def test_the_final_version_links_to_its_draft_after_the_second_crawl(crawled: Crawled) -> None:
    assert crawled.draft_id_after_first is None  # no final version yet
    (draft,) = crawled.rows("select * from policies where title = ?", [DRAFT])
    (final,) = crawled.rows("select * from policies where title = ?", [FINAL])
    assert final["draft_id"] == draft["id"] and draft["draft_id"] is None


def test_every_attachment_is_stored_with_its_text(crawled: Crawled) -> None:
    stored = {
        row["url"].split("/", 3)[3]: row
        for row in crawled.rows("select * from attachments where error is null")
    }
    expected = {
        document.attachment_path(i).lstrip("/"): (document, attachment)
        for document in crawled.second.documents
        for i, attachment in enumerate(document.attachments)
    }
    assert set(stored) == set(expected)
    for path, (document, attachment) in expected.items():
        row = stored[path]
        assert row["kind"] == attachment.kind and row["name"].endswith(attachment.name)
        assert row["article_id"] == crawled.article(crawled.second, document.id)["id"]
        for line in attachment.text.splitlines():
            assert line in row["text"], (path, line)
    change = load_updates()["attachment"][0]
    (replaced,) = [row for row in stored.values() if row["name"].endswith(change["name"])]
    assert replaced["version"] == 2 and change["new"] in replaced["text"]


def test_the_alerts_are_the_policies_and_the_changes(crawled: Crawled) -> None:
    alerts = crawled.rows("select * from alerts order by id")
    first = [a for a in alerts if a["id"] <= crawled.alerts_before]
    second = [a for a in alerts if a["id"] > crawled.alerts_before]
    # The first crawl is the source's baseline: its policies are stored, and one line says so.
    named = {p["title"] for document in crawled.first.documents for p in document.policies}
    assert [a["kind"] for a in first] == ["source_baseline"]
    stored = {p["title"] for p in crawled.rows("select title from policies")}
    assert named <= stored
    edit = load_updates()["attachment"][0]
    known = {d.id for d in crawled.first.documents}
    (replaced,) = crawled.rows("select * from attachments where version = 2")
    assert replaced["name"].endswith(edit["name"])  # as the page's link shows it: 2.…docx
    assert sorted((a["kind"], a["title"]) for a in second) == sorted(
        [
            *(("new_article", d.title) for d in crawled.second.documents if d.id not in known),
            ("new_policy", FINAL),
            ("changed_attachment", replaced["name"]),
        ]
    )
    (change,) = [a for a in second if a["kind"] == "changed_attachment"]
    changes = json.loads(change["detail"])["changes"]
    assert len(changes) == 1 and edit["old"] in changes[0]["old"]
    assert edit["new"] in changes[0]["new"]
    # What `newsmon alerts` shows of them: the final version's draft, the changed sentence.
    assert f"final version of 《{DRAFT}》" in crawled.alerts_shown
    assert f"+ {changes[0]['new'].strip()}" in crawled.alerts_shown
