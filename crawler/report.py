"""Plain-text views of the database for the command line; they only read, so a missing
database is an error (crawler.errors.NoDatabase), never a new empty one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.db import CHECKED_UP_TO, check_pages, open_db
from crawler.diff import TextDiff, render_text
from crawler.errors import NotADatabase

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
    db = open_db(db_path, create=False, write=False)
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


ALERTS = """
select alerts.*, articles.story_id as article_story from alerts
left join articles on articles.id = alerts.article_id
where alerts.id > ? order by alerts.id
"""


def alerts_report(db_path: str | Path, after_id: int = 0, limit: int | None = None) -> str:
    """The alerts raised after ``after_id``, a few lines each: what, where, and the diff."""
    db = open_db(db_path, create=False, write=False)
    rows = list(db.query(ALERTS, [after_id]))
    if limit is not None:
        rows = rows[-limit:]
    lines = []
    for row in rows:
        lines.append(f"[{row['kind']}] {row['title'] or ''}  {row['url'] or ''}".rstrip())
        detail = json.loads(row["detail"]) if row["detail"] else {}
        if row["kind"] in ("changed_article", "changed_attachment"):
            lines += [
                "    " + line for line in render_text(TextDiff.from_json(detail)).splitlines()
            ]
        elif row["kind"] == "new_policy":
            lines += _policy_lines(db, row["policy_id"], detail)
        story = row["story_id"] or row["article_story"]
        if story is not None:
            lines += [
                f"    also on {copy['url']}"
                for copy in db.query(
                    "select url from articles where story_id = ? and id != ? order by id",
                    [story, row["article_id"]],
                )
            ]
    db.close()
    return "\n".join(lines) if lines else "no alerts"


POLICY = """
select p.issuer, p.doc_number, p.kind, p.status, draft.title as draft_title
from policies p left join policies draft on draft.id = p.draft_id where p.id = ?
"""


def _policy_lines(db: Database, policy_id: int | None, detail: dict[str, Any]) -> list[str]:
    """A new policy's region and date, and what the store knows of it now: who issued it
    under which number, its kind and status, and the draft it is the final version of."""
    lines = [f"    {detail.get('region') or ''} {detail.get('date') or ''}".rstrip()]
    policy = next(db.query(POLICY, [policy_id]), None) if policy_id is not None else None
    if policy is None:
        return lines
    described = " · ".join(
        v for v in (policy["issuer"], policy["doc_number"], policy["kind"], policy["status"]) if v
    )
    if described:
        lines.append(f"    {described}")
    if policy["draft_title"]:
        lines.append(f"    final version of 《{policy['draft_title']}》")
    return lines


def last_id(db_path: str | Path, table: str) -> int:
    """The highest id in ``table`` (alerts, articles): what came later is what a run added."""
    db = open_db(db_path, create=False, write=False)
    value = next(db.query(f"select coalesce(max(id), 0) n from [{table}]"))["n"]
    db.close()
    return int(value)


def copies_report(db_path: str | Path, after_id: int) -> str:
    """Articles stored after ``after_id`` that joined an older story: no alert, by design."""
    db = open_db(db_path, create=False, write=False)
    rows = db.query(
        "select a.title, a.url, first.url as first_url from articles a"
        " join stories s on s.id = a.story_id join articles first on first.id = s.first_article_id"
        " where a.id > ? and s.first_article_id != a.id order by a.id",
        [after_id],
    )
    lines = [
        f"syndicated copy (same story, no alert): {r['title']}\n    {r['url']}\n"
        f"    first seen at {r['first_url']}"
        for r in rows
    ]
    db.close()
    return "\n".join(lines)


LAST_RUNS = """
select r.* from crawl_runs r join (
  select source_id, max(id) id from crawl_runs group by source_id
) last on last.id = r.id order by r.source_id
"""
RUN_ERRORS = """
select error, count(*) n, min(url) url from fetches
where run_id = ? and error is not null group by error order by n desc, error
"""


def status_report(db_path: str | Path, seed_problems: list[str], errors: int = 10) -> str:
    """Is everything working: seed-file problems, each source's last run, and its errors
    grouped by message, one line each with a URL to try."""
    lines = [f"seed files: {len(seed_problems)} problems", *(f"  {p}" for p in seed_problems)]
    db = open_db(db_path, create=False, write=False)
    # Opening checks every page of a file up to db.CHECKED_UP_TO only; status is where a user
    # asks whether all is well, so it reads every page, however large the file.
    if Path(db_path).stat().st_size > CHECKED_UP_TO:
        try:
            check_pages(db, db_path)
        except NotADatabase:
            db.close()
            raise
    runs = list(db.query(LAST_RUNS))
    lines.append(f"{db_path}: last run of {len(runs)} sources")
    for run in runs:
        counts = (
            f"{run['pages'] or 0} pages, {run['articles_new'] or 0} new,"
            f" {run['articles_updated'] or 0} updated, {run['errors'] or 0} errors"
        )
        lines.append(f"  {run['source_id']}: {run['status']} at {run['started']}: {counts}")
        if run["error"]:
            lines.append(f"    {run['error']}")
        problems = list(db.query(RUN_ERRORS, [run["id"]]))
        for problem in problems[:errors]:
            times = f" ×{problem['n']}" if problem["n"] > 1 else ""
            lines.append(f"    {problem['error']}{times}  {problem['url']}")
        if len(problems) > errors:
            lines.append(f"    … {len(problems) - errors} more kinds of error (--errors N)")
    db.close()
    return "\n".join(lines)


def needs_attention(db_path: str | Path) -> bool:
    """Whether a source's last run failed or was cut off: what ``status`` exits 1 for."""
    db = open_db(db_path, create=False, write=False)
    bad = any(run["status"] in ("failed", "interrupted") for run in db.query(LAST_RUNS))
    db.close()
    return bad
