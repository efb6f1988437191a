"""Datasette plugin for newsmon: the article list people browse. Facets and filters by
region (rolled up: 武汉 includes 东湖高新区) and by topic (named as the taxonomy names them),
titles that link to the article's page, and labels in Chinese."""

from __future__ import annotations

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


class TagFacet(Facet):  # type: ignore[misc]
    """Counts of a tag table's values among the selected articles; ``?{arg}=value`` filters."""

    arg = ""
    tags = ""  # the tag table, with article_id
    column = ""  # its value column
    condition = "1"

    def label(self, value: str) -> str:
        return value

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        results, timed_out = [], []
        size = self.get_facet_size()
        for config in self.get_configs():
            name = config["config"].get("column") or config["config"]["simple"]
            # The whole table: every row counts, by the tag table's index alone.
            selection, sampled = "", False
            if " where " in self.sql.lower():
                sampled = (
                    await self.ds.execute(
                        self.database,
                        f"select count(*) > {FACET_SAMPLE} from"
                        f" (select 1 from ({self.sql}) limit {FACET_SAMPLE + 1})",
                        self.params,
                    )
                ).first()[0]
                selection = (
                    f" and t.article_id in (select id from ({self.sql})"
                    f" order by id desc limit {FACET_SAMPLE})"
                )
            sql = (
                f"select t.{self.column} as value, count(*) as count from {self.tags} t"
                f" where {self.condition}{selection} group by t.{self.column}"
                f" order by count desc, value limit {size + 1}"
            )
            try:
                rows = await self.ds.execute(
                    self.database,
                    sql,
                    self.params,
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


class RegionFacet(TagFacet):
    """Regions an article is about, each counted with the places inside it."""

    type = "region"
    arg = "_region"
    tags = "article_regions"
    column = "region"
    condition = "t.covers = 1"


class TopicFacet(TagFacet):
    """Topics, by their Chinese names."""

    type = "topic"
    arg = "_topic"
    tags = "article_topics"
    column = "topic"

    def label(self, value: str) -> str:
        return topic_names().get(value, value)


@hookimpl
def register_facet_classes() -> list[type[Facet]]:
    return [RegionFacet, TopicFacet]


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
