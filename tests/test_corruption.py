"""Corruption: a bad fetch never becomes a new version, and a database that fails under a
crawl stops it with one clear line, never a run recorded ok or article text on stderr."""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from sqlite_utils import Database

from crawler.clock import now
from crawler.demo.server import DemoServer
from crawler.demo.site import load_updates
from crawler.extract import extract_article
from crawler.suspect import Body, suspect_change
from tests.support.hostile import HostileSite, article_html
from tests.support.run import newsmon


def crawl(
    server: DemoServer, db_path: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    args = ("crawl", "--source", "demo", "--base-url", server.url, "--db", str(db_path))
    return newsmon(*args, "--quiet", check=check)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site crawled once, its database checkpointed into one file."""
    db_path = tmp_path_factory.mktemp("good") / "news.db"
    with DemoServer() as server:
        crawl(server, db_path)
    with sqlite3.connect(db_path) as db:
        db.execute("pragma wal_checkpoint(truncate)")
    return db_path


def damaged_copy(crawled: Path, folder: Path, table: str) -> Path:
    """A copy of the crawled database with every page of ``table`` (and of its indexes)
    overwritten with random bytes, as a failing disk leaves them."""
    db_path = folder / "news.db"
    shutil.copy(crawled, db_path)
    with sqlite3.connect(db_path) as db:
        page_size = db.execute("pragma page_size").fetchone()[0]
        names = [table] + [
            row[0]
            for row in db.execute("select name from sqlite_master where tbl_name = ?", [table])
        ]
        pages = [
            row[0]
            for row in db.execute(
                f"select pageno from dbstat where name in ({', '.join('?' * len(names))})", names
            )
        ]
    noise = random.Random(7)
    with db_path.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * page_size)
            file.write(noise.randbytes(page_size))
    return db_path


def texts(crawled: Path) -> list[str]:
    return [row["text"] for row in Database(crawled).query("select text from articles")]


@pytest.mark.parametrize("table", ["versions", "articles", "fetches"])
def test_a_damaged_database_stops_the_crawl_with_one_line(
    crawled: Path, tmp_path: Path, table: str
) -> None:
    db_path = damaged_copy(crawled, tmp_path, table)
    with DemoServer() as server:
        # A changed page and a new article: the crawl has articles and versions to write.
        server.update(server.site.updated(load_updates(), now()))
        result = crawl(server, db_path, check=False)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    database_lines = [line for line in lines if "database" in line]
    assert database_lines, result.stderr
    assert all(len(line) < 300 for line in lines), result.stderr
    stored = texts(crawled)
    assert not any(text[:40] in result.stderr for text in stored), result.stderr


def test_a_damaged_database_is_refused_before_the_crawl_writes(
    crawled: Path, tmp_path: Path
) -> None:
    db_path = damaged_copy(crawled, tmp_path, "versions")
    before = db_path.read_bytes()
    with DemoServer() as server:
        server.update(server.site.updated(load_updates(), now()))
        result = crawl(server, db_path, check=False)
    assert result.returncode != 0 and "damaged" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert db_path.read_bytes() == before
    # status reads every page too, and says the same in one line.
    status = newsmon("status", "--db", str(db_path), check=False)
    assert status.returncode != 0 and "damaged" in status.stderr, status.stderr
    assert "Traceback" not in status.stderr and len(status.stderr.strip().splitlines()) == 1


def _body(html: bytes) -> Body | None:
    article = extract_article(html, "http://127.0.0.1/a/1.html")
    return None if article is None else Body(article.text, article.quality, article.flags)


def test_real_edits_are_not_suspect_and_damaged_pages_are() -> None:
    site = HostileSite()
    site.httpd.server_close()
    for article in {a.id: a for a in site.articles.values()}.values():
        page = article_html(article).encode()
        stored = _body(page)
        assert stored is not None
        paragraphs = article.paragraphs
        edits = [
            (paragraphs[0].replace("。", "，并", 1), *paragraphs[1:]),
            (*paragraphs, "记者从有关部门获悉，相关配套细则将于近期发布，企业可登录平台申报。"),
            paragraphs[:-1] if len(paragraphs) > 2 else paragraphs,
        ]
        for edit in edits:
            edited = article_html(replace(article, paragraphs=edit))
            assert suspect_change(stored, _body(edited.encode())) is None, (article.id, edit)
        garbled = page.decode().encode("utf-8").replace(b"\xe7", b"\xff")
        assert (suspect_change(stored, _body(garbled)) or "").startswith("suspect: "), article.id


def test_a_page_cut_down_for_good_is_taken_the_second_time_a_garbled_one_never() -> None:
    site = HostileSite()
    site.httpd.server_close()
    article = max(site.articles.values(), key=lambda a: len(a.paragraphs))
    stored = _body(article_html(article).encode())
    shortened = _body(article_html(replace(article, paragraphs=article.paragraphs[:1])).encode())
    assert stored is not None
    # The stored text with one character in 20 read as a replacement character.
    spoiled = "".join("\ufffd" if i % 20 == 7 else c for i, c in enumerate(stored.text))
    garbled = Body(spoiled, stored.quality, (f"bad_bytes:{spoiled.count(chr(0xFFFD))}",))
    assert stored is not None and shortened is not None and garbled is not None
    # Held the first time: it may be a cut fetch.
    assert (suspect_change(stored, shortened) or "").startswith("suspect: ")
    # The same sound body again on a later run: the editors cut it.
    assert suspect_change(stored, shortened, held_before=True) is None
    # A garbled body stays held however often it comes.
    assert (suspect_change(stored, garbled, held_before=True) or "").startswith("suspect: ")
