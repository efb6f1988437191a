"""Schema history of the newsmon database. Append new migrations; never edit applied ones.

Each migration runs in a transaction together with its record in ``_sqlite_migrations``
(sqlite-utils' Migrations), so a crash leaves the schema either before or after a step.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("newsmon")


@migrations()
def m001_foundation(db: Database) -> None:
    db.table("sources").create(
        {
            "id": str,
            "name": str,
            "homepage": str,
            "region": str,
            "verified": int,
            "file": str,
            "config": str,
            "updated": str,
        },
        pk="id",
    )
    db.table("crawl_runs").create(
        {
            "id": int,
            "source_id": str,
            "started": str,
            "finished": str,
            "status": str,
            "pages": int,
            "articles_new": int,
            "articles_updated": int,
            "articles_unchanged": int,
            "errors": int,
            "error": str,
            "stats": str,
        },
        pk="id",
        foreign_keys=[("source_id", "sources")],
    )
    db.table("fetches").create(
        {
            "id": int,
            "run_id": int,
            "source_id": str,
            "url": str,
            "kind": str,
            "status": int,
            "bytes": int,
            "elapsed_ms": int,
            "content_type": str,
            "etag": str,
            "last_modified": str,
            "error": str,
            "fetched_at": str,
        },
        pk="id",
        foreign_keys=[("run_id", "crawl_runs"), ("source_id", "sources")],
    )
    db.table("articles").create(
        {
            "id": int,
            "url": str,
            "source_id": str,
            "title": str,
            "published": str,
            "author": str,
            "outlet": str,
            "text": str,
            "text_hash": str,
            "encoding": str,
            "version": int,
            "first_seen": str,
            "last_seen": str,
            "last_changed": str,
        },
        pk="id",
        foreign_keys=[("source_id", "sources")],
    )
    db.table("versions").create(
        {
            "id": int,
            "article_id": int,
            "version": int,
            "title": str,
            "text": str,
            "text_hash": str,
            "seen_at": str,
            "run_id": int,
        },
        pk="id",
        foreign_keys=[("article_id", "articles"), ("run_id", "crawl_runs")],
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["source_id", "first_seen"])
    db.table("versions").create_index(["article_id", "version"], unique=True)
    db.table("fetches").create_index(["url", "fetched_at"])
    db.table("fetches").create_index(["run_id"])
    db.table("crawl_runs").create_index(["source_id", "started"])


@migrations()
def m002_cleaned_text(db: Database) -> None:
    """What the cleaning stage adds to an article: its Simplified text, editor, captions and
    how damaged the page's script was."""
    articles = db.table("articles")
    articles.add_column("text_simplified", str)
    articles.add_column("editor", str)
    articles.add_column("captions", str)
    articles.add_column("quality", float)
    articles.add_column("flags", str)


@migrations()
def m003_tags(db: Database) -> None:
    """Tags: regions (a gazetteer slice), topics with evidence, policy documents, and the
    keywords, amounts and release events of each article."""
    db.table("regions").create(
        {"name": str, "level": str, "code": str, "parent": str, "province": str}, pk="name"
    )
    db.table("article_regions").create(
        {
            "article_id": int,
            "region": str,
            "mentioned": int,
            "is_primary": int,
            "implied": int,
            "evidence": str,
        },
        pk=("article_id", "region"),
        foreign_keys=[("article_id", "articles"), ("region", "regions")],
    )
    db.table("article_topics").create(
        {"article_id": int, "topic": str, "score": float, "evidence": str},
        pk=("article_id", "topic"),
        foreign_keys=[("article_id", "articles")],
    )
    db.table("policies").create(
        {
            "id": int,
            "title": str,
            "region": str,
            "date": str,
            "first_article_id": int,
            "first_seen": str,
        },
        pk="id",
        foreign_keys=[("first_article_id", "articles")],
    )
    db.table("policies").create_index(["title"], unique=True)
    db.table("article_policies").create(
        {"article_id": int, "policy_id": int, "region": str, "date": str, "context": str},
        pk=("article_id", "policy_id"),
        foreign_keys=[("article_id", "articles"), ("policy_id", "policies")],
    )
    db.table("article_regions").create_index(["region"])
    db.table("article_topics").create_index(["topic"])
    articles = db.table("articles")
    for column in ("keywords", "amounts", "events", "tagged_at"):
        articles.add_column(column, str)


@migrations()
def m004_revisits_and_alerts(db: Database) -> None:
    """Revisits (validators, a decaying watch window), versions' diffs, stories of syndicated
    copies, and the alerts that tell people what is new or changed."""
    db.table("validators").create(
        {"url": str, "source_id": str, "etag": str, "last_modified": str, "updated": str},
        pk="url",
    )
    db.table("validators").create_index(["source_id"])
    articles = db.table("articles")
    articles.add_column("checks", int)
    articles.add_column("next_check", str)
    articles.add_column("simhash", str)
    articles.add_column("story_id", int)
    articles.create_index(["source_id", "next_check"])
    db.table("versions").add_column("diff", str)
    db.table("stories").create(
        {"id": int, "first_article_id": int, "title": str, "created": str},
        pk="id",
        foreign_keys=[("first_article_id", "articles")],
    )
    # Each of a hash's four 16-bit bands, so that near-duplicates are found by index.
    db.table("article_bands").create(
        {"band": int, "article_id": int},
        pk=("band", "article_id"),
        foreign_keys=[("article_id", "articles")],
    )
    db.table("alerts").create(
        {
            "id": int,
            "kind": str,
            "subject": str,
            "source_id": str,
            "article_id": int,
            "policy_id": int,
            "story_id": int,
            "title": str,
            "url": str,
            "detail": str,
            "created": str,
            "sent_at": str,
        },
        pk="id",
        foreign_keys=[
            ("source_id", "sources"),
            ("article_id", "articles"),
            ("policy_id", "policies"),
            ("story_id", "stories"),
        ],
    )
    # An alert is raised once: its subject names what it is about (article:12:v3, policy:5).
    db.table("alerts").create_index(["kind", "subject"], unique=True)
    db.table("alerts").create_index(["sent_at"])


@migrations()
def m005_digests(db: Database) -> None:
    """Digests: each email (or file) made from unsent alerts, whether it went out, and why not."""
    db.table("digests").create(
        {
            "id": int,
            "created": str,
            "sent_at": str,
            "recipients": str,
            "subject": str,
            "alerts": int,
            "out_path": str,
            "error": str,
        },
        pk="id",
    )
    db.table("digests").create_index(["created"])


@migrations()
def m006_search(db: Database) -> None:
    """Full-text search of Chinese: jieba tokens of title and body (Simplified) in
    ``articles.search_tokens``, with an FTS5 index kept current by triggers; a view of
    articles with their month, regions and topics for facets."""
    from crawler.search import search_tokens

    articles = db.table("articles")
    articles.add_column("search_tokens", str)
    for row in list(db.query("select id, title, text, text_simplified from articles")):
        tokens = search_tokens(row["title"], row["text_simplified"] or row["text"])
        articles.update(row["id"], {"search_tokens": tokens})
    articles.enable_fts(["search_tokens"], fts_version="FTS5", create_triggers=True)
    db.create_view(
        "article_index",
        """
        select
          a.id, a.title, a.source_id, a.outlet, a.published,
          substr(a.published, 1, 7) as month,
          (select json_group_array(r.region) from article_regions r
            where r.article_id = a.id and r.is_primary) as regions,
          (select json_group_array(t.topic) from article_topics t
            where t.article_id = a.id) as topics,
          a.first_seen, a.version, a.url
        from articles a
        """,
    )


@migrations()
def m007_delivery_and_resume(db: Database) -> None:
    """Each digest email is stored with its Message-ID and the alerts it holds before it is
    sent (status ``sending``), so that a run cut off mid-send is finished by the next run with
    the very same message instead of a new one; ``sent``, ``failed`` (refused: its alerts go
    to the next digest) or ``written`` (--out) once the outcome is known. And why each crawl
    run ended (Scrapy's finish reason: ``finished``, ``shutdown`` …), so that the run after
    one cut short reads every listing again."""
    digests = db.table("digests")
    digests.add_column("status", str)
    digests.add_column("message_id", str)
    digests.add_column("message", bytes)
    digests.add_column("attempts", int)
    db.execute(
        "update digests set status = case when sent_at is null then 'failed'"
        " when out_path is not null then 'written' else 'sent' end"
    )
    digests.create_index(["status"])
    db.table("digest_alerts").create(
        {"digest_id": int, "alert_id": int},
        pk=("digest_id", "alert_id"),
        foreign_keys=[("digest_id", "digests"), ("alert_id", "alerts")],
    )
    db.table("digest_alerts").create_index(["alert_id"])
    db.table("crawl_runs").add_column("finish_reason", str)


@migrations()
def m008_article_indexes(db: Database) -> None:
    """Indexes the figures of benchmarks/db_scale.py asked for. Without them every query below
    scans the whole articles table, long bodies and all: the articles page (sorted by
    first_seen), article_index (sorted by published), the outlet and story_id facets, and the
    digest, which looks up each new story's other copies by story_id."""
    articles = db.table("articles")
    articles.create_index(["first_seen"])
    articles.create_index(["published"])
    articles.create_index(["story_id"])
    articles.create_index(["outlet"])


@migrations()
def m009_search_terms(db: Database) -> None:
    """Search tokens cut with the taxonomy's phrases as words (数据要素, 智能网联 whole, not in
    pieces no search finds), the dictionary words of four or more characters inside a longer
    word, and the words of jieba's own cut as before: every article's tokens recomputed. The
    update trigger is set aside meanwhile and the full-text index rebuilt once, which is many
    times faster than a delete and an insert in it per row."""
    from crawler.search import search_tokens

    trigger = db.execute("select sql from sqlite_master where name = 'articles_au'").fetchone()
    if trigger:
        db.execute("drop trigger articles_au")
    last = 0
    while True:
        rows = db.execute(
            "select id, title, text, text_simplified, search_tokens from articles"
            " where id > ? order by id limit 5000",
            [last],
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        changed = [
            (tokens, id_)
            for id_, title, text, simplified, old in rows
            if (tokens := search_tokens(title, simplified or text)) != old
        ]
        db.conn.executemany("update articles set search_tokens = ? where id = ?", changed)
    db.execute("insert into articles_fts (articles_fts) values ('rebuild')")
    if trigger:
        db.execute(trigger[0])



@migrations()
def m010_held_fetches(db: Database) -> None:
    """A fetch held as suspect keeps the hash of the body it held (crawler/suspect.py): the same
    sound body on the next run is the page's new text, not another bad fetch."""
    db.table("fetches").add_column("held_hash", str)


@migrations()
def m011_policy_fields(db: Database) -> None:
    """A policy as an entity: who issued it, its 发文字号, kind and status, the draft a final
    version replaces and the article that is its official text; how each article relates to
    it (names, text, explains); and the portal fields of a document page's article."""
    policies = db.table("policies")
    for column in ("issuer", "doc_number", "kind", "status"):
        policies.add_column(column, str)
    policies.add_column("draft_id", int)  # the policy this is the final version of
    policies.add_column("text_article_id", int)  # the article that is the document itself
    policies.create_index(["draft_id"])
    db.table("article_policies").add_column("role", str)
    # A policy's page lists every article that relates to it.
    db.table("article_policies").create_index(["policy_id"])
    articles = db.table("articles")
    for column in ("issuer", "doc_number", "written", "subject", "validity"):
        articles.add_column(column, str)


@migrations()
def m012_attachments(db: Database) -> None:
    """Attachments of articles (附件: PDF, Word, Excel, ZIP …): each file's kind, size, hash,
    text and version, or why it has no text; searchable by jieba tokens of its name and text
    in ``attachments_fts``, as articles are."""
    attachments = db.table("attachments")
    attachments.create(
        {
            "id": int,
            "article_id": int,
            "article_url": str,
            "source_id": str,
            "url": str,
            "name": str,
            "kind": str,
            "bytes": int,
            "sha256": str,
            "text": str,
            "version": int,
            "error": str,
            "fetched_at": str,
            "first_seen": str,
            "last_changed": str,
            "search_tokens": str,
        },
        pk="id",
        foreign_keys=[("article_id", "articles"), ("source_id", "sources")],
    )
    attachments.create_index(["url"], unique=True)
    attachments.create_index(["article_id"])
    attachments.create_index(["source_id"])
    attachments.enable_fts(["search_tokens"], fts_version="FTS5", create_triggers=True)


@migrations()
def m013_baseline_runs(db: Database) -> None:
    """Whether a crawl run was a baseline (a source's first crawl, or ``crawl --baseline``):
    its new articles and policies are stored and searchable but raise no alerts, only one
    ``source_baseline`` line; runs before this migration were not."""
    db.table("crawl_runs").add_column("baseline", int, not_null_default=0)


@migrations()
def m014_templates(db: Database) -> None:
    """Each source's template (crawler/extract/template.py) as JSON: its recurring lines and
    blocks, where its body is, and the figures of its last runs' extraction."""
    db.table("templates").create(
        {"source_id": str, "state": str, "pages": int, "updated": str},
        pk="source_id",
        foreign_keys=[("source_id", "sources")],
    )


# An article is "in" its primary regions and in every region that contains one of them
# (东湖高新区 → 武汉 → 湖北), as the regions table's parents say: filters and facets on 武汉
# find the articles about its zones. Rows for the containing regions are added where the
# tagger did not name them; ``:article_id`` null rolls up every article.
ROLL_UP_REGIONS = """
insert into article_regions (article_id, region, mentioned, is_primary, implied, covers)
select distinct p.article_id, up.ancestor, 0, 0, 1, 1
from article_regions p join region_ancestors up on up.region = p.region
where p.is_primary and (:article_id is null or p.article_id = :article_id)
on conflict (article_id, region) do update set covers = 1
"""


@migrations()
def m015_article_list(db: Database) -> None:
    """What people browse: ``article_list``, one narrow row per article (title, date,
    outlet, primary regions, topics, month, source), kept by triggers, so that its facets and
    search box read a few MB instead of the bodies of ``articles``; regions rolled up
    (``article_regions.covers`` marks the primary regions and the regions containing them);
    and ``facet_totals``, each facet value's count over all articles, kept by triggers: at a
    million articles counting them afresh takes 0.1-0.3 s per facet on every page."""
    db.execute(
        """
        create view region_ancestors as
        with recursive up(region, ancestor) as (
          select name, name from regions
          union
          select up.region, r.parent from up join regions r on r.name = up.ancestor
          where r.parent is not null and r.parent != ''
        )
        select region, ancestor from up
        """
    )
    db.table("article_regions").add_column("covers", int, not_null_default=0)
    db.execute(ROLL_UP_REGIONS, {"article_id": None})
    # Filters look up a region's articles; facets an article's regions.
    db.execute(
        "create index article_regions_covers on article_regions (region, article_id)"
        " where covers = 1"
    )
    db.execute(
        "create index article_regions_covered on article_regions (article_id, region)"
        " where covers = 1"
    )
    db.execute(
        """
        create table article_list (
          id integer primary key references articles(id),
          title text, published text, outlet text, regions text, topics text,
          month text, source_id text, first_seen text
        )
        """
    )
    regions = (
        "(select group_concat(region, ' ') from article_regions"
        " where article_id = {id} and is_primary)"
    )
    topics = "(select group_concat(topic, ' ') from article_topics where article_id = {id})"
    month = "case when {p} glob '[12][0-9][0-9][0-9]-[01][0-9]*' then substr({p}, 1, 7) end"
    columns = "id, title, published, outlet, regions, topics, month, source_id, first_seen"

    def values(row: str) -> str:
        return (
            f"{row}.id, {row}.title, {row}.published, {row}.outlet,"
            f" {regions.format(id=row + '.id')}, {topics.format(id=row + '.id')},"
            f" {month.format(p=row + '.published')}, {row}.source_id, {row}.first_seen"
        )

    db.execute(f"insert into article_list ({columns}) select {values('a')} from articles a")
    db.execute(
        "create table facet_totals (facet text, value text, n integer,"
        " primary key (facet, value)) without rowid"
    )
    db.execute(
        """
        insert into facet_totals (facet, value, n)
        select 'regions', region, count(*) from article_regions where covers = 1 group by region
        union all select 'topics', topic, count(*) from article_topics group by topic
        union all select 'month', month, count(*) from article_list
          where month is not null group by month
        union all select 'source_id', source_id, count(*) from article_list
          where source_id is not null group by source_id
        """
    )

    def count(facet: str, value: str, step: int) -> str:
        return (
            f"insert into facet_totals (facet, value, n) select '{facet}', {value}, {step}"
            f" where {value} is not null on conflict (facet, value) do update set n = n + {step};"
        )

    def counts(row: str, step: int) -> str:
        return count("month", f"{row}.month", step) + count("source_id", f"{row}.source_id", step)

    triggers = {
        # articles → article_list
        "article_list_ai": "after insert on articles begin"
        f" insert into article_list ({columns}) values ({values('new')}); end",
        "article_list_au": "after update of title, published, outlet, source_id, first_seen"
        " on articles begin update article_list set title = new.title,"
        " published = new.published, outlet = new.outlet, source_id = new.source_id,"
        f" first_seen = new.first_seen, month = {month.format(p='new.published')}"
        " where id = new.id; end",
        "article_list_ad": "after delete on articles begin"
        " delete from article_list where id = old.id; end",
        # the regions and topics shown in article_list
        "article_list_regions_i": "after insert on article_regions when new.is_primary begin"
        f" update article_list set regions = {regions.format(id='new.article_id')}"
        " where id = new.article_id; end",
        "article_list_regions_d": "after delete on article_regions when old.is_primary begin"
        f" update article_list set regions = {regions.format(id='old.article_id')}"
        " where id = old.article_id; end",
        "article_list_topics_i": "after insert on article_topics begin"
        f" update article_list set topics = {topics.format(id='new.article_id')}"
        " where id = new.article_id; end",
        "article_list_topics_d": "after delete on article_topics begin"
        f" update article_list set topics = {topics.format(id='old.article_id')}"
        " where id = old.article_id; end",
        # facet_totals
        "facet_totals_list_i": f"after insert on article_list begin {counts('new', 1)} end",
        "facet_totals_list_d": f"after delete on article_list begin {counts('old', -1)} end",
        "facet_totals_list_u": "after update of month, source_id on article_list begin"
        f" {counts('old', -1)} {counts('new', 1)} end",
        "facet_totals_regions_i": "after insert on article_regions when new.covers = 1 begin"
        f" {count('regions', 'new.region', 1)} end",
        "facet_totals_regions_d": "after delete on article_regions when old.covers = 1 begin"
        f" {count('regions', 'old.region', -1)} end",
        "facet_totals_regions_u": "after update of covers on article_regions"
        " when old.covers != new.covers begin"
        f" {count('regions', 'new.region', 0)}"
        " update facet_totals set n = n + new.covers - old.covers"
        " where facet = 'regions' and value = new.region; end",
        "facet_totals_topics_i": "after insert on article_topics begin"
        f" {count('topics', 'new.topic', 1)} end",
        "facet_totals_topics_d": "after delete on article_topics begin"
        f" {count('topics', 'old.topic', -1)} end",
    }
    for name, body in triggers.items():
        db.execute(f"create trigger {name} {body}")
    for column in ("published", "month", "source_id", "first_seen"):
        db.execute(f"create index article_list_{column} on article_list ({column}, id)")
    db.execute("create index article_topics_topic_article on article_topics (topic, article_id)")


def unknown_migrations(db: Database) -> list[str]:
    """Migrations recorded in ``db`` that this newsmon does not have: a newer one wrote it."""
    # What is pending for an empty database is every migration this newsmon knows.
    known = {m.name for m in migrations.pending(Database(memory=True))}
    return [m.name for m in migrations.applied(db) if m.name not in known]
