"""Plain-text views of the database for the command line."""

from __future__ import annotations

from pathlib import Path

from crawler.db import open_db


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
    ]
    for row in db.query(
        "select title, url from articles order by first_seen desc, id desc limit 5"
    ):
        lines.append(f"  · {row['title']}  {row['url']}")
    db.close()
    return "\n".join(lines)
