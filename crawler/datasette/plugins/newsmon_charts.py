"""Datasette plugin for newsmon: pictures. /DB/-/charts shows the policies each region issued
per month; a policy's page draws its life on a time axis (newsmon_pages adds it)."""

from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from crawler.charts import month_grid

REGIONS_SHOWN = 15
MONTHS_SHOWN = 24
# A policy's month: its 成文日期, else when newsmon first saw it named.
POLICY_MONTHS = """
select region, month, count(*) as n from (
  select p.region, substr(coalesce(nullif(p.date, ''), p.first_seen), 1, 7) as month
  from policies p where p.region is not null and p.region != ''
) where month glob '[12][0-9][0-9][0-9]-[01][0-9]'
group by region, month
"""


def top_cells(rows: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The cells of the busiest regions over the latest months, busiest region first."""
    months = sorted({month for _, month, _ in rows})[-MONTHS_SHOWN:]
    shown = [r for r in rows if r[1] in months]
    totals: dict[str, int] = {}
    for region, _, n in shown:
        totals[region] = totals.get(region, 0) + n
    regions = sorted(totals, key=lambda r: (-totals[r], r))[:REGIONS_SHOWN]
    order = {region: i for i, region in enumerate(regions)}
    return sorted((r for r in shown if r[0] in order), key=lambda r: (order[r[0]], r[1]))


async def charts_page(datasette: Any, request: Any) -> Response:
    database = request.url_vars["database"]
    if database not in datasette.databases:
        raise NotFound(f"no database {database}")
    db = datasette.get_database(database)
    rows = [(r["region"], r["month"], r["n"]) for r in (await db.execute(POLICY_MONTHS)).rows]
    cells = top_cells(rows)
    return Response.html(
        await datasette.render_template(
            "newsmon_charts.html",
            {
                "database": database,
                "policies_chart": month_grid(cells, "各地区每月新政策数"),
                "policies_total": sum(n for _, _, n in cells),
                "policies_url": datasette.urls.table(database, "policies"),
                "regions_shown": REGIONS_SHOWN,
                "months_shown": MONTHS_SHOWN,
            },
            request=request,
        )
    )


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/(?P<database>[^/]+)/-/charts$", charts_page)]


@hookimpl
def database_actions(datasette: Any, database: str) -> list[dict[str, str]]:
    return [
        {"href": datasette.urls.path(f"/{database}/-/charts"), "label": "图表：各地区每月新政策"}
    ]
