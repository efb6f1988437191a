"""Plain-text views of the database for the command line."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from crawler.db import open_db

PRIMARY_REGIONS = (
    "select region as name, count(*) n from article_regions where is_primary "
    "group by region order by n desc, region limit 8"
)
TOPICS = (
    "select topic as name, count(*) n from article_topics group by topic order by n desc limit 8"
)
SHARED_POLICIES = (
    "select count(*) n from (select policy_id from article_policies group by policy_id "
    "having count(*) > 1)"
)


def _counts(db: Database, sql: str) -> str:
    return ", ".join(f"{row['name']} {row['n']}" for row in db.query(sql))


def database_summary(db_path: str | Path) -> str:
    """What the database holds: articles by source and encoding, versions, the last runs."""
    db = open_db(db_path)
    articles = db["articles"].count
    versions = db["versions"].count
    by_encoding = ", ".join(
        f"{row['encoding']} {row['n']}"
        for row in db.query(
            "select encoding, count(*) n from articles group by encoding order by n desc"
        )
    )
    errors = ", ".join(
        f"{row['error']} {row['n']}"
        for row in db.query(
            "select error, count(*) n from fetches where error is not null "
            "group by error order by n desc"
        )
    )
    lines = [
        f"{db_path}: {articles} articles, {versions} versions, {db['fetches'].count} fetches",
        f"  encodings: {by_encoding or 'none'}",
        f"  fetch errors: {errors or 'none'}",
        f"  regions (primary): {_counts(db, PRIMARY_REGIONS) or 'none'}",
        f"  topics: {_counts(db, TOPICS) or 'none'}",
        f"  policies: {db['policies'].count} documents, "
        f"{next(db.query(SHARED_POLICIES))['n']} named by more than one article",
    ]
    for row in db.query(
        "select title, url from articles order by first_seen desc, id desc limit 5"
    ):
        lines.append(f"  · {row['title']}  {row['url']}")
    db.close()
    return "\n".join(lines)
