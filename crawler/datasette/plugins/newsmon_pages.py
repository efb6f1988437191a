"""Datasette plugin for newsmon: the same metadata for every database served, readable diffs,
an article's body and versions on its row page, and a policy's page: the document, its
attachments and its life from draft to reports. Everything shown is read from the tables."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

from datasette import hookimpl
from markupsafe import Markup, escape

from crawler.charts import Milestone, timeline
from crawler.diff import TextDiff, render_html
from crawler.periods import period_bound
from crawler.search import search_query

METADATA = resources.files("crawler").joinpath("datasette", "metadata.json")
# Long columns shown in tables as a preview; the row page and .json have them whole.
PREVIEW_COLUMNS = {"text", "text_simplified", "search_tokens"}
PREVIEW_CHARS = 80
# A canned query's column of this name holds a policy's id: shown as a link to the policy's
# page (and the row's 标题 with it), so that an analyst never reads an internal id.
POLICY_PAGE_COLUMN = "政策页"
# The same for an article's page: its title (标题, title, first_article) links there.
ARTICLE_PAGE_COLUMN = "文章页"
PAGE_TABLES = {POLICY_PAGE_COLUMN: "policies", ARTICLE_PAGE_COLUMN: "articles"}
# Columns of canned queries that hold a stored diff (TextDiff JSON).
DIFF_COLUMNS = {"diff", "修改"}
# How an article stands to a policy, as its life lists it; the first role of an article that
# has several (the draft's text names its final version) is the one shown.
ROLE_LABELS = {"text": "正式版本", "explains": "政策解读", "names": "新闻报道"}
DRAFT_STATUS = "征求意见稿"  # the status of a draft, and how its text is labelled
# An article that names a policy and is itself a document (a city's plan citing national
# policy) is no news report of it.
CITED_LABEL = "文件引用"
# How an article stands to each policy it relates to, as its own page says it.
ARTICLE_ROLE_LABELS = {"text": "本文", "explains": "解读", "names": "提及"}


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
    # The period a canned query takes (本月, last month, 2025-06 …) as bounds of stored times.
    conn.create_function("newsmon_period", 2, period_bound)


def life_of_policy(
    relations: Iterable[Mapping[str, Any]], draft_ids: set[int]
) -> list[dict[str, Any]]:
    """The articles of a policy's life in date order, each once, labelled by how it stands to
    the policy: ``relations`` are article_policies joined with articles (``is_document``: the
    article is some policy's text); an article that is the text of a policy in ``draft_ids``
    is its draft."""
    roles = list(ROLE_LABELS)
    chosen: dict[int, Mapping[str, Any]] = {}
    for row in relations:
        known = chosen.get(row["article_id"])
        if known is None or roles.index(row["role"]) < roles.index(known["role"]):
            chosen[row["article_id"]] = row
    life = []
    for row in chosen.values():
        label = ROLE_LABELS[row["role"]]
        if row["role"] == "text" and row["policy_id"] in draft_ids:
            label = DRAFT_STATUS
        elif row["role"] == "names" and row["is_document"]:
            label = CITED_LABEL
        life.append(
            {
                "date": (row["published"] or row["first_seen"] or "")[:10],
                "label": label,
                "article_id": row["article_id"],
                "title": row["title"],
                "outlet": row["outlet"],
            }
        )
    return sorted(life, key=lambda entry: (entry["date"], entry["article_id"]))


def size_label(size: int | None) -> str:
    """A file's size as a reader says it: 812 B, 34 KB, 2.1 MB."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _page_link(row: Any, value: Any, column: str, database: str, datasette: Any) -> Any:
    """A canned query's page columns as 查看 links, and its titles as links to the page of
    the policy (else the article) the row is about; None for any other cell."""
    # "in" on a sqlite3.Row looks among its values, not its column names.
    pages = {
        key: str(datasette.urls.row(database, PAGE_TABLES[key], row[key]))
        for key in row.keys()  # noqa: SIM118
        if key in PAGE_TABLES and row[key] is not None
    }
    if column in PAGE_TABLES:
        return Markup(f'<a href="{escape(pages[column])}">查看</a>') if column in pages else ""
    if column == "first_article":
        href = pages.get(ARTICLE_PAGE_COLUMN)
    elif column in ("标题", "title"):
        href = pages.get(POLICY_PAGE_COLUMN) or pages.get(ARTICLE_PAGE_COLUMN)
    else:
        return None
    if href is None or value is None:
        return None
    return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Any:
    if column in DIFF_COLUMNS:
        return diff_html(value)
    if table is None:
        page = _page_link(row, value, column, database, datasette)
        if page is not None:
            return page
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
    if view_name != "row" or request is None:
        return None
    if table == "policies":
        return _policy_vars(datasette, database, request.url_vars.get("pks", ""))
    if table != "articles":
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
        policies = [
            {
                "title": row["title"],
                "label": ARTICLE_ROLE_LABELS[row["role"]],
                "href": str(datasette.urls.row(database, "policies", row["id"])),
            }
            for row in (
                await db.execute(
                    "select p.id, p.title, coalesce(ap.role, 'names') as role"
                    " from article_policies ap"
                    " join policies p on p.id = ap.policy_id where ap.article_id = ?"
                    " order by p.id",
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
            "newsmon_policies": policies,
        }

    return article_vars


def _policy_vars(datasette: Any, database: str | None, pk: str) -> Any:
    async def policy_vars() -> dict[str, Any]:
        db = datasette.get_database(database)

        async def rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
            return [dict(row) for row in (await db.execute(sql, params)).rows]

        found = await rows("select * from policies where id = ?", [pk])
        if not found:
            return {}
        policy = found[0]
        # Its draft, or the final version that replaced it: one life, told on either's page.
        draft = await rows("select * from policies where id = ?", [policy["draft_id"]])
        final = await rows("select * from policies where draft_id = ?", [policy["id"]])
        family = [policy, *draft, *final]
        draft_ids = {p["id"] for p in family if p["status"] == DRAFT_STATUS}
        marks = ", ".join("?" * len(family))
        relations = await rows(
            # Rows older than roles (m011) only named their policy.
            "select ap.article_id, ap.policy_id, coalesce(ap.role, 'names') as role, a.title,"
            " a.published, a.first_seen,"
            " coalesce(a.outlet, s.name, a.source_id) as outlet,"
            " exists(select 1 from article_policies o where o.article_id = a.id"
            " and o.role = 'text') as is_document"
            " from article_policies ap"
            " join articles a on a.id = ap.article_id left join sources s on s.id = a.source_id"
            f" where ap.policy_id in ({marks})",
            [p["id"] for p in family],
        )
        text = await rows("select * from articles where id = ?", [policy["text_article_id"]])
        attachments = await rows(
            "select name, url, kind, bytes, text, error from attachments where article_id = ?"
            " order by id",
            [policy["text_article_id"]],
        )

        def article_href(article_id: int) -> str:
            return str(datasette.urls.row(database, "articles", article_id))

        def policy_href(policies: list[dict[str, Any]]) -> str | None:
            first = policies[0]["id"] if policies else None
            return None if first is None else str(datasette.urls.row(database, "policies", first))

        life = [
            entry | {"href": article_href(entry["article_id"])}
            for entry in life_of_policy(relations, draft_ids)
        ]
        return {
            "newsmon_policy": policy,
            "newsmon_timeline": timeline(
                [Milestone(e["date"], e["label"], e["title"] or "") for e in life],
                f"{policy['title']}：历程",
            ),
            "newsmon_draft_href": policy_href(draft),
            "newsmon_final_href": policy_href(final),
            "newsmon_life": life,
            "newsmon_text": text[0] if text else None,
            "newsmon_text_href": article_href(text[0]["id"]) if text else None,
            "newsmon_text_link": web_link(text[0]["url"]) if text else None,
            "newsmon_text_body": body_html(text[0]["text"]) if text else None,
            "newsmon_attachments": [
                {
                    "name": a["name"] or a["url"].rsplit("/", 1)[-1],
                    "href": web_link(a["url"]),
                    "kind": (a["kind"] or "").upper(),
                    "size": size_label(a["bytes"]),
                    "error": a["error"],
                    "body": body_html(a["text"]),
                }
                for a in attachments
            ],
        }

    return policy_vars
