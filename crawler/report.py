"""Plain-text views of the database for the command line; they only read, so a missing
database is an error (crawler.errors.NoDatabase), never a new empty one."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from crawler.db import CHECKED_UP_TO, check_pages, open_db
from crawler.diff import TextDiff, render_text
from crawler.extract.template import quality_drop
from crawler.keys import ALERT_KEYS, STATUS_KEYS
from crawler.progress import plural

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
where alerts.id > :after and (:since is null or alerts.created >= :since)
and (:kinds = '[]' or alerts.kind in (select value from json_each(:kinds)))
order by alerts.id
"""


def alerts_data(
    db_path: str | Path,
    after_id: int = 0,
    limit: int | None = None,
    since: str | None = None,
    kinds: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The alerts raised after ``after_id`` (and at or after the stored time ``since``, of
    ``kinds`` if any), the last ``limit`` of them, oldest first, each with the other URLs
    of its story."""
    db = open_db(db_path, create=False, write=False)
    params = {"after": after_id, "since": since, "kinds": json.dumps(list(kinds))}
    rows = list(db.query(ALERTS, params))
    if limit is not None:
        rows = rows[-limit:] if limit > 0 else []
    alerts = []
    for row in rows:
        story = row["story_id"] or row["article_story"]
        copies = (
            db.query(
                "select url from articles where story_id = ? and id != ? order by id",
                [story, row["article_id"]],
            )
            if story is not None
            else []
        )
        detail = json.loads(row["detail"]) if row["detail"] else {}
        also_on = [copy["url"] for copy in copies]
        policy = _policy(db, row["policy_id"]) if row["kind"] == "new_policy" else None
        alerts.append(
            {k: row[k] for k in ALERT_KEYS[:6]}
            | {"detail": detail, "also_on": also_on, "policy": policy}
        )
    db.close()
    return alerts


def alerts_report(alerts: list[dict[str, Any]]) -> str:
    """Alerts (``alerts_data``) a few lines each: what, where, and the diff."""
    lines = []
    for alert in alerts:
        lines.append(f"[{alert['kind']}] {alert['title'] or ''}  {alert['url'] or ''}".rstrip())
        detail = alert["detail"]
        if alert["kind"] in ("changed_article", "changed_attachment"):
            lines += [
                "    " + line for line in render_text(TextDiff.from_json(detail)).splitlines()
            ]
        elif alert["kind"] == "new_policy":
            lines += _policy_lines(detail, alert["policy"])
        lines += [f"    also on {url}" for url in alert["also_on"]]
    return "\n".join(lines) if lines else "no alerts"


POLICY = """
select p.issuer, p.doc_number, p.kind, p.status, draft.title as draft_title
from policies p left join policies draft on draft.id = p.draft_id where p.id = ?
"""


def _policy(db: Database, policy_id: int | None) -> dict[str, Any] | None:
    """What the store knows of a policy now: issuer, number, kind, status, and its draft."""
    if policy_id is None:
        return None
    return next(db.query(POLICY, [policy_id]), None)


def _policy_lines(detail: dict[str, Any], policy: dict[str, Any] | None) -> list[str]:
    """A new policy's region and date; who issued it under which number, its kind and
    status, and the draft it is the final version of."""
    lines = [f"    {detail.get('region') or ''} {detail.get('date') or ''}".rstrip()]
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
LAST_RUN_ERRORS = """
select error, count(*) n, min(url) url, group_concat(distinct source_id) sources from fetches
where error is not null and run_id in (select max(id) from crawl_runs group by source_id)
group by error order by n desc, error
"""
FAILING = ("failed", "interrupted")


def status_data(
    db_path: str | Path, seed_problems: list[str], source_ids: list[str] | None
) -> dict[str, Any]:
    """Is everything working, as data: a summary, seed-file problems, the sources never
    crawled, each source's last run, and the errors of the last runs, each message once.

    ``source_ids`` are the sources of the seed files (None when they could not be read)."""
    db = open_db(db_path, create=False, write=False)
    try:
        # Opening checks every page of a file up to db.CHECKED_UP_TO only; status is where a
        # user asks whether all is well, so it reads every page, however large the file.
        if Path(db_path).stat().st_size > CHECKED_UP_TO:
            check_pages(db, db_path)
        runs = list(db.query(LAST_RUNS))
        errors = [
            {
                "error": row["error"],
                "count": row["n"],
                "sources": sorted(row["sources"].split(",")),
                "url": row["url"],
            }
            for row in db.query(LAST_RUN_ERRORS)
        ]
        templates = list(db.query("select source_id, state from templates order by source_id"))
    finally:
        db.close()
    crawled = {run["source_id"] for run in runs}
    never = [i for i in source_ids or [] if i not in crawled]
    by_status = Counter(run["status"] for run in runs)
    summary = {
        # Those of the seed files, and those removed from them since they were crawled.
        "sources": len(crawled | set(source_ids or ())),
        "ok": by_status["ok"],
        "failing": sum(by_status[s] for s in FAILING),
        "running": by_status["running"],
        "never_crawled": len(never),
        "errors": sum(run["errors"] or 0 for run in runs),
    }
    sources = [
        {
            "id": run["source_id"],
            "status": run["status"],
            "started": run["started"],
            "finished": run["finished"],
            "pages": run["pages"] or 0,
            "new": run["articles_new"] or 0,
            "updated": run["articles_updated"] or 0,
            "errors": run["errors"] or 0,
            "error": run["error"],
        }
        for run in runs
    ]
    extraction = [
        {"id": row["source_id"], "problem": problem}
        for row in templates
        if (problem := quality_drop(json.loads(row["state"]).get("runs", [])))
    ]
    values = (summary, seed_problems, never, sources, errors, extraction)
    return dict(zip(STATUS_KEYS, values, strict=True))


def summary_line(summary: dict[str, int]) -> str:
    """``12 sources: 9 ok, 2 failing, 1 never crawled; 37 errors in the last runs``."""
    parts = [f"{summary['ok']} ok", f"{summary['failing']} failing"]
    if summary["running"]:
        parts.append(f"{summary['running']} running")
    parts.append(f"{summary['never_crawled']} never crawled")
    return (
        f"{plural(summary['sources'], 'source')}: {', '.join(parts)};"
        f" {plural(summary['errors'], 'error')} in the last runs"
    )


def status_report(data: dict[str, Any], db_path: str | Path, errors: int = 10) -> str:
    """``status_data`` as text: the summary line first, each source's last run, then each
    error message of the last runs once, with its count and a URL to try."""
    problems = data["seed_problems"]
    lines = [summary_line(data["summary"])]
    lines += [f"seed files: {len(problems)} problems", *(f"  {p}" for p in problems)]
    lines.append(f"{db_path}: last run of {len(data['sources'])} sources")
    for run in data["sources"]:
        counts = (
            f"{run['pages']} pages, {run['new']} new, {run['updated']} updated,"
            f" {run['errors']} errors"
        )
        lines.append(f"  {run['id']}: {run['status']} at {run['started']}: {counts}")
        if run["error"]:
            lines.append(f"    {run['error']}")
    if data["never_crawled"]:
        lines.append(f"never crawled: {', '.join(data['never_crawled'])}")
    for drop in data["extraction"]:
        lines.append(f"extraction quality dropped: {drop['id']}: {drop['problem']}")
    kinds = data["errors"]
    if kinds:
        lines.append("errors in the last runs:")
    for problem in kinds[:errors]:
        times = f" ×{problem['count']}" if problem["count"] > 1 else ""
        lines.append(
            f"  {problem['error']}{times} ({', '.join(problem['sources'])})  {problem['url']}"
        )
    if len(kinds) > errors:
        lines.append(f"  … {len(kinds) - errors} more kinds of error (--errors N)")
    return "\n".join(lines)


def needs_attention(data: dict[str, Any]) -> bool:
    """Whether a seed file is invalid or a source's last run failed or was cut off: what
    ``status`` exits 1 for."""
    return bool(data["seed_problems"]) or any(s["status"] in FAILING for s in data["sources"])
