"""Datasette plugin for newsmon: the same metadata for every database served, readable diffs,
and an article's body and versions on its row page. Everything shown is read from the tables."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from crawler.diff import TextDiff, render_html
from crawler.search import search_query

METADATA = resources.files("crawler").joinpath("datasette", "metadata.json")
# Long columns shown in tables as a preview; the row page and .json have them whole.
PREVIEW_COLUMNS = {"text", "text_simplified", "search_tokens"}
PREVIEW_CHARS = 80


@cache
def _database_block() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(METADATA.read_text(encoding="utf-8"))
    return dict(data.get("databases", {}).get("*", {}))


@hookimpl
def get_metadata(datasette: Any, key: str, database: str | None, table: str | None) -> Any:
    # Table settings, facets and canned queries are keyed by database name, which is the
    # file's name: metadata.json gives them once under "*" and this applies them to each.
    names = [name for name in datasette.databases if not name.startswith("_")]
    return {"databases": {name: copy.deepcopy(_database_block()) for name in names}}


def diff_html(value: Any) -> Markup | None:
    """A stored TextDiff (JSON) as HTML; None when ``value`` is not one."""
    if not isinstance(value, str) or '"changes"' not in value:
        return None
    try:
        diff = TextDiff.from_json(json.loads(value))
    except (ValueError, KeyError, TypeError):
        return None
    return Markup(render_html(diff) or "<em>no change</em>")


def body_html(text: str | None) -> Markup:
    """Body text as paragraphs, one per line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return Markup("\n".join(f"<p>{escape(line)}</p>" for line in lines))


def web_link(url: Any) -> str | None:
    """``url`` when it is an http(s) address: a stored ``javascript:`` URL never becomes a link."""
    text = str(url or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


@hookimpl
def prepare_connection(conn: Any) -> None:
    # The search query cuts what was typed into words as the articles were cut.
    conn.create_function("newsmon_search", 1, search_query, deterministic=True)


@hookimpl
def render_cell(value: Any, column: str, table: str | None) -> Any:
    if column == "diff":
        return diff_html(value)
    long_text = isinstance(value, str) and len(value) > PREVIEW_CHARS
    if table in ("articles", "versions") and column in PREVIEW_COLUMNS and long_text:
        return f"{value[:PREVIEW_CHARS]}… ({len(value)} chars)"
    return None


@hookimpl
def extra_template_vars(
    template: str,
    database: str | None,
    table: str | None,
    view_name: str,
    request: Any,
    datasette: Any,
) -> Any:
    if view_name != "row" or table != "articles" or request is None:
        return None

    async def article_vars() -> dict[str, Any]:
        pk = request.url_vars.get("pks", "")
        db = datasette.get_database(database)
        rows = (await db.execute("select * from articles where id = ?", [pk])).rows
        if not rows:
            return {}
        article = dict(rows[0])
        versions = [
            {
                "version": row["version"],
                "seen_at": row["seen_at"],
                "diff": diff_html(row["diff"]),
            }
            for row in (
                await db.execute(
                    "select version, seen_at, diff from versions where article_id = ?"
                    " order by version",
                    [pk],
                )
            ).rows
        ]
        regions = [
            row["region"]
            for row in (
                await db.execute(
                    "select region from article_regions where article_id = ? and is_primary"
                    " order by region",
                    [pk],
                )
            ).rows
        ]
        topics = [
            row["topic"]
            for row in (
                await db.execute(
                    "select topic from article_topics where article_id = ? order by score desc",
                    [pk],
                )
            ).rows
        ]
        return {
            "newsmon_article": article,
            "newsmon_href": web_link(article["url"]),
            "newsmon_body": body_html(article["text"]),
            "newsmon_versions": versions,
            "newsmon_regions": regions,
            "newsmon_topics": topics,
        }

    return article_vars
