"""Datasette plugin for newsmon: the article list people browse. Facets and filters by
region (rolled up: 武汉 includes 东湖高新区) and by topic (named as the taxonomy names them),
titles that link to the article's page, and labels in Chinese."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import path_with_added_args, path_with_removed_args
from markupsafe import Markup, escape

from crawler.classify.topics import default_taxonomy

# Tables whose rows are articles by id: the filters below apply to both.
ARTICLE_TABLES = ("article_list", "articles")
# Over a large selection (a common word's 300,000 matches at a million articles) a facet
# counts the newest this many, and says so: a count over all of them takes seconds per facet.
FACET_SAMPLE = 20_000


@cache
def topic_names() -> dict[str, str]:
    """Topic id → its Chinese name in the shipped taxonomy."""
    return {topic.id: topic.name for topic in default_taxonomy().topics}


class ArticleFacet(Facet):  # type: ignore[misc]
    """Counts of a value of the selected articles (a column of ``tags``, whose ``id`` column
    holds the article's id); ``?{arg}=value`` filters by it. The whole table's counts are
    ``facet_totals`` (m015), kept by triggers; a selection's are counted over its newest
    :data:`FACET_SAMPLE` articles, all of them when it has no more."""

    arg = ""
    tags = ""
    id = "article_id"
    column = ""
    condition = "1"

    def label(self, value: str) -> str:
        return value

    async def newest(self) -> list[int]:
        """The selection's newest ids, looked up once for all the facets of a page."""
        found: dict[str, list[int]] = self.request.scope.setdefault("newsmon_newest", {})
        if self.sql not in found:
            rows = await self.ds.execute(
                self.database,
                f"select id from ({self.sql}) order by id desc limit {FACET_SAMPLE + 1}",
                self.params,
            )
            found[self.sql] = [row[0] for row in rows.rows]
        return found[self.sql]

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        results, timed_out = [], []
        size = self.get_facet_size()
        for config in self.get_configs():
            name = config["config"].get("column") or config["config"]["simple"]
            sampled = False
            if " where " not in self.sql.lower():
                sql = (
                    "select value, n as count from facet_totals where facet = :facet"
                    f" and n > 0 order by n desc, value limit {size + 1}"
                )
                params: dict[str, Any] = {"facet": name}
            else:
                ids = await self.newest()
                sampled = len(ids) > FACET_SAMPLE
                # From the ids to their tags (a cross join keeps that order), not through
                # every tag row of the table.
                sql = (
                    f"select t.{self.column} as value, count(*) as count"
                    f" from json_each(:ids) j cross join {self.tags} t on t.{self.id} = j.value"
                    f" where {self.condition} and t.{self.column} is not null"
                    f" group by t.{self.column} order by count desc, value limit {size + 1}"
                )
                params = {"ids": json.dumps(ids[:FACET_SAMPLE])}
            try:
                rows = await self.ds.execute(
                    self.database,
                    sql,
                    params,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(name)
                continue
            chosen = set(self.request.args.getlist(self.arg))
            values = []
            for row in rows.rows[:size]:
                value = str(row["value"])
                change = path_with_removed_args if value in chosen else path_with_added_args
                values.append(
                    {
                        "value": value,
                        "label": self.label(value),
                        "count": row["count"],
                        "toggle_url": self.ds.absolute_url(
                            self.request, change(self.request, {self.arg: value})
                        ),
                        "selected": value in chosen,
                    }
                )
            results.append(
                {
                    "name": name,
                    "type": self.type,
                    "results": values,
                    "hideable": config["source"] != "metadata",
                    "toggle_url": self.ds.urls.path(
                        path_with_removed_args(self.request, {f"_facet_{self.type}": name})
                    ),
                    "truncated": len(rows.rows) > size,
                    "sampled": FACET_SAMPLE if sampled else None,
                }
            )
        return results, timed_out


class RegionFacet(ArticleFacet):
    """Regions an article is about, each counted with the places inside it."""

    type = "region"
    arg = "_region"
    tags = "article_regions"
    column = "region"
    condition = "t.covers = 1"


class TopicFacet(ArticleFacet):
    """Topics, by their Chinese names."""

    type = "topic"
    arg = "_topic"
    tags = "article_topics"
    column = "topic"

    def label(self, value: str) -> str:
        return topic_names().get(value, value)


class MonthFacet(ArticleFacet):
    """Months of publication; ``?month=`` is Datasette's own filter of the column."""

    type = "month"
    arg = "month"
    tags = "article_list"
    id = "id"
    column = "month"


class SourceFacet(ArticleFacet):
    """The sources articles were found through."""

    type = "source"
    arg = "source_id"
    tags = "article_list"
    id = "id"
    column = "source_id"


@hookimpl
def register_facet_classes() -> list[type[Facet]]:
    return [RegionFacet, TopicFacet, MonthFacet, SourceFacet]


@hookimpl
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    if table not in ARTICLE_TABLES:
        return None
    wheres, params, described = [], {}, []
    for facet in (RegionFacet, TopicFacet):
        for n, value in enumerate(request.args.getlist(facet.arg)):
            key = f"{facet.type}_{n}"
            wheres.append(
                f"id in (select t.article_id from {facet.tags} t where {facet.condition}"
                f" and t.{facet.column} = :{key})"
            )
            params[key] = value
            label = topic_names().get(value, value) if facet is TopicFacet else value
            described.append(f"{'地区' if facet is RegionFacet else '主题'}: {label}")
    return FilterArguments(wheres, params, described)


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Any:
    if table != "article_list":
        return None
    if column == "title" and value:
        href = datasette.urls.row(database, "articles", row["id"])
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    if column == "topics" and value:
        return "、".join(topic_names().get(t, t) for t in str(value).split())
    if column == "regions" and value:
        return "、".join(str(value).split())
    return None
