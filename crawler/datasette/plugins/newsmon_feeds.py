"""Datasette plugin for newsmon: Atom feeds. Any page of articles, policies or alerts (a
table, a canned query, a search, a filter) with ``.atom`` added is a feed of its rows, each
linking to its article's or policy's page: /news/alerts.atom, /news/article_list.atom?_search=
算力&_region=武汉, /news/new_policies_by_region.atom?region=湖北. /alerts.atom is the first
database's alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from crawler.atom import Entry, atom_feed
from crawler.periods import BEIJING

# Where a row's page is: a canned query's page columns, else the id of a table's own rows.
PAGE_COLUMNS = (("政策页", "policies"), ("文章页", "articles"))
ROW_TABLES = {"article_list": "articles", "articles": "articles", "policies": "policies"}
TITLE_COLUMNS = ("标题", "title")
# A row's time, best first: stored UTC times, then times shown in Beijing time.
UTC_COLUMNS = ("first_seen", "seen_at", "created")
BEIJING_COLUMNS = ("时间", "published", "日期", "date")
SUMMARY_COLUMNS = ("类别", "地区", "regions", "region", "日期", "published", "outlet", "来源")
CONTENT_TYPE = "application/atom+xml; charset=utf-8"


def _moment(row: dict[str, Any]) -> datetime | None:
    for columns, zone in ((UTC_COLUMNS, UTC), (BEIJING_COLUMNS, BEIJING)):
        for column in columns:
            try:
                moment = datetime.fromisoformat(str(row.get(column) or "").strip())
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return None


def _page(row: dict[str, Any], table: str | None) -> tuple[str, Any] | None:
    for column, target in PAGE_COLUMNS:
        if row.get(column) is not None:
            return target, row[column]
    if table in ROW_TABLES and row.get("id") is not None:
        return ROW_TABLES[table], row["id"]
    return None


def entries(
    rows: list[dict[str, Any]], table: str | None, link: Any, fallback: str, feed_id: str
) -> list[Entry]:
    """The feed's entries, ``link(table, id)`` making each page's URL (``fallback`` for a row
    about no article or policy, a failing source's alert); rows without a time are left out."""
    found = []
    for row in rows:
        title = next((row[c] for c in TITLE_COLUMNS if row.get(c)), None)
        moment = _moment(row)
        if title is None or moment is None:
            continue
        page = _page(row, table)
        summary = " · ".join(str(row[c]) for c in SUMMARY_COLUMNS if row.get(c))
        kind = row.get("类别") or ""
        where = f"{page[0]}:{page[1]}" if page else "-"
        found.append(
            Entry(
                id=f"{feed_id}:{where}:{kind}:{moment.isoformat()}",
                title=str(title),
                link=link(*page) if page else fallback,
                updated=moment,
                summary=summary,
            )
        )
    return found


async def render_atom(
    datasette: Any,
    request: Any,
    rows: list[Any],
    database: str,
    table: str | None,
    query_name: str | None,
    data: dict[str, Any],
) -> Response:
    name = query_name or table or "query"
    feed_id = f"urn:newsmon:{database}:{name}"

    def link(target: str, pk: Any) -> str:
        return str(datasette.absolute_url(request, datasette.urls.row(database, target, pk)))

    if data.get("error"):
        return Response.text(f"{name}: {data['error']}", status=400)
    if not can_render_atom(list(data.get("columns") or []), table):
        return Response.text(
            f"{name} is no feed: a feed is of articles, policies or alerts (rows with a title"
            " and an article's or policy's page)",
            status=400,
        )
    page = request.full_path.replace(".atom", "", 1)
    found = entries(
        [dict(row) for row in rows], table, link, datasette.absolute_url(request, page), feed_id
    )
    canned = await datasette.get_canned_query(database, query_name, request.actor)
    title = (canned or datasette.table_metadata(database, table) or {}).get("title") or name
    if request.args.get("_search") or request.args.get("q"):
        title += f": {request.args.get('_search') or request.args.get('q')}"
    body = atom_feed(
        f"newsmon · {title}",
        feed_id + (f"?{request.query_string}" if request.query_string else ""),
        datasette.absolute_url(request, request.full_path),
        datasette.absolute_url(request, page),
        found,
    )
    return Response(body, content_type=CONTENT_TYPE)


def can_render_atom(columns: list[str], table: str | None) -> bool:
    titled = any(c in columns for c in TITLE_COLUMNS)
    paged = table in ROW_TABLES or any(c in columns for c, _ in PAGE_COLUMNS)
    return titled and paged


@hookimpl
def register_output_renderer(datasette: Any) -> dict[str, Any]:
    return {"extension": "atom", "render": render_atom, "can_render": can_render_atom}


async def _alerts_feed(datasette: Any, request: Any) -> Response:
    names = [name for name in datasette.databases if not name.startswith("_")]
    if not names:
        return Response.text("no database is served", status=404)
    return Response.redirect(datasette.urls.path(f"/{names[0]}/alerts.atom"))


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/alerts\.atom$", _alerts_feed)]
