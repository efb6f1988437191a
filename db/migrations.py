"""Schema history of the newsmon database. Append new migrations; never edit applied ones.

Each migration runs in a transaction together with its record in ``_sqlite_migrations``
(sqlite-utils' Migrations), so a crash leaves the schema either before or after a step.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("newsmon")


@migrations()
def m001_foundation(db: Database) -> None:
    db["sources"].create(
        {
            "id": str,
            "name": str,
            "homepage": str,
            "region": str,
            "verified": int,
            "file": str,
            "config": str,
            "updated": str,
        },
        pk="id",
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "source_id": str,
            "started": str,
            "finished": str,
            "status": str,
            "pages": int,
            "articles_new": int,
            "articles_updated": int,
            "articles_unchanged": int,
            "errors": int,
            "error": str,
            "stats": str,
        },
        pk="id",
        foreign_keys=[("source_id", "sources")],
    )
    db["fetches"].create(
        {
            "id": int,
            "run_id": int,
            "source_id": str,
            "url": str,
            "kind": str,
            "status": int,
            "bytes": int,
            "elapsed_ms": int,
            "content_type": str,
            "etag": str,
            "last_modified": str,
            "error": str,
            "fetched_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs"), ("source_id", "sources")],
    )
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "source_id": str,
            "title": str,
            "published": str,
            "author": str,
            "outlet": str,
            "text": str,
            "text_hash": str,
            "encoding": str,
            "version": int,
            "first_seen": str,
            "last_seen": str,
            "last_changed": str,
        },
        pk="id",
        foreign_keys=[("source_id", "sources")],
    )
    db["versions"].create(
        {
            "id": int,
            "article_id": int,
            "version": int,
            "title": str,
            "text": str,
            "text_hash": str,
            "seen_at": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles"), ("run_id", "crawl_runs")],
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["source_id", "first_seen"])
    db["versions"].create_index(["article_id", "version"], unique=True)
    db["fetches"].create_index(["url", "fetched_at"])
    db["fetches"].create_index(["run_id"])
    db["crawl_runs"].create_index(["source_id", "started"])


@migrations()
def m002_cleaned_text(db: Database) -> None:
    """What the cleaning stage adds to an article: its Simplified text, editor, captions and
    how damaged the page's script was."""
    articles = db.table("articles")
    articles.add_column("text_simplified", str)
    articles.add_column("editor", str)
    articles.add_column("captions", str)
    articles.add_column("quality", float)
    articles.add_column("flags", str)
