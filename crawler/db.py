"""The only module that writes the SQLite file. Every view a user sees is a query over it."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

from sqlite_utils import Database

from crawler.classify import Tags
from crawler.classify.gazetteer import load_gazetteer
from crawler.classify.policies import PolicyMention
from crawler.extract import Article
from crawler.sources import Source

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path("db/news.db")
Outcome = Literal["new", "updated", "unchanged"]


def _schema() -> ModuleType:
    # The schema history lives in db/ beside the databases it shapes (the project layout);
    # newsmon runs from its checkout, like a Scrapy project, so it is loaded from there.
    path = PROJECT_ROOT / "db" / "migrations.py"
    spec = importlib.util.spec_from_file_location("newsmon_migrations", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"schema history not found at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def now() -> str:
    """The current time as stored: UTC, ISO 8601, seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def open_db(path: str | Path) -> Database:
    """The database at ``path``, created and migrated to the current schema if needed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    # Readers (Datasette, the digest) run while a crawl writes: WAL lets them, and the busy
    # timeout makes a writer wait for another writer instead of failing.
    db.execute("PRAGMA busy_timeout = 10000")
    db.enable_wal()
    _schema().migrations.apply(db)
    return db


class Store:
    """Writes one crawl's sources, runs, fetches, articles and versions."""

    def __init__(self, db: Database):
        self.db = db

    def sync_sources(self, sources: list[Source]) -> None:
        rows = [
            {
                "id": s.id,
                "name": s.name,
                "homepage": s.homepage,
                "region": s.region,
                "verified": int(s.verified),
                "file": s.file,
                "config": json.dumps(
                    {k: v for k, v in asdict(s).items() if k != "file"}, ensure_ascii=False
                ),
                "updated": now(),
            }
            for s in sources
        ]
        self.db.table("sources").upsert_all(rows, pk="id")

    def start_run(self, source_id: str) -> int:
        return self._insert(
            "crawl_runs", {"source_id": source_id, "started": now(), "status": "running"}
        )

    def _insert(self, table: str, row: dict[str, Any]) -> int:
        """Insert ``row``; its id (tables here have an integer ``id`` primary key)."""
        rowid = self.db.table(table).insert(row).last_rowid
        if rowid is None:
            raise RuntimeError(f"insert into {table} returned no row id")
        return rowid

    def finish_run(
        self,
        run_id: int,
        status: str,
        counts: dict[str, int],
        error: str | None,
        stats: dict[str, Any],
    ) -> None:
        self.db.table("crawl_runs").update(
            run_id,
            {
                "finished": now(),
                "status": status,
                "error": error,
                "stats": json.dumps(stats, ensure_ascii=False, default=str),
                **counts,
            },
        )

    def last_error(self, run_id: int) -> str | None:
        """The most recent fetch error of a run, as the one line that explains a failed run."""
        row = next(
            self.db.query(
                "select url, error from fetches where run_id = ? and error is not null"
                " order by id desc limit 1",
                [run_id],
            ),
            None,
        )
        return f"{row['url']}: {row['error']}" if row else None

    def record_fetch(self, run_id: int, source_id: str, fetch: dict[str, Any]) -> None:
        self.db.table("fetches").insert({"run_id": run_id, "source_id": source_id, **fetch})

    def save_article(
        self, article: Article, source_id: str, run_id: int, seen_at: str
    ) -> tuple[Outcome, int]:
        """Insert or update the article at its canonical URL; a changed body is a new version.

        Returns what happened and the article's id."""
        digest = text_hash(article.text)
        fields = {
            "source_id": source_id,
            "title": article.title,
            "published": article.published,
            "author": article.author,
            "outlet": article.outlet,
            "text": article.text,
            "text_hash": digest,
            "encoding": article.encoding,
            # Only where it differs: most pages are Simplified already.
            "text_simplified": article.simplified if article.simplified != article.text else None,
            "editor": article.editor,
            "captions": _json_list(article.captions),
            "quality": article.quality,
            "flags": _json_list(article.flags),
            "last_seen": seen_at,
        }
        with self.db.atomic():
            row = next(
                self.db.query(
                    "select id, text_hash, version from articles where url = ?", [article.url]
                ),
                None,
            )
            if row is None:
                article_id = self._insert(
                    "articles",
                    {
                        "url": article.url,
                        **fields,
                        "version": 1,
                        "first_seen": seen_at,
                        "last_changed": seen_at,
                    },
                )
                self._add_version(article_id, 1, article, digest, seen_at, run_id)
                return "new", article_id
            if row["text_hash"] == digest:
                self.db.table("articles").update(row["id"], {"last_seen": seen_at})
                return "unchanged", row["id"]
            version = row["version"] + 1
            self.db.table("articles").update(
                row["id"], {**fields, "version": version, "last_changed": seen_at}
            )
            self._add_version(row["id"], version, article, digest, seen_at, run_id)
            return "updated", row["id"]

    def save_tags(self, article_id: int, tags: Tags, tagged_at: str) -> list[str]:
        """Replace the article's tags; returns the titles of policies seen here first."""
        new_policies = []
        with self.db.atomic():
            for table in ("article_regions", "article_topics", "article_policies"):
                self.db.execute(f"delete from [{table}] where article_id = ?", [article_id])
            self._save_regions(article_id, tags)
            self.db.table("article_topics").insert_all(
                {
                    "article_id": article_id,
                    "topic": t.topic,
                    "score": t.score,
                    "evidence": t.evidence,
                }
                for t in tags.topics
            )
            for policy in tags.policies:
                policy_id, new = self._policy_id(policy, article_id, tagged_at)
                if new:
                    new_policies.append(policy.title)
                self.db.table("article_policies").insert(
                    {
                        "article_id": article_id,
                        "policy_id": policy_id,
                        "region": policy.region,
                        "date": policy.date,
                        "context": policy.context,
                    },
                    replace=True,
                )
            tagged = tags.to_json()
            self.db.table("articles").update(
                article_id,
                {
                    "keywords": json.dumps(tagged["keywords"], ensure_ascii=False),
                    "amounts": json.dumps(tagged["amounts"], ensure_ascii=False),
                    "events": json.dumps(tagged["events"], ensure_ascii=False),
                    "tagged_at": tagged_at,
                },
            )
        return new_policies

    def _save_regions(self, article_id: int, tags: Tags) -> None:
        regions = tags.regions
        names = dict.fromkeys((*regions.mentioned, *regions.primary, *regions.implied))
        gazetteer = load_gazetteer()
        places = [gazetteer.place(name) for name in names]
        self.db.table("regions").upsert_all(
            [asdict(p) for p in places if p is not None]
            + [{"name": n} for n, p in zip(names, places, strict=True) if p is None],
            pk="name",
            alter=True,
        )
        self.db.table("article_regions").insert_all(
            {
                "article_id": article_id,
                "region": name,
                "mentioned": int(name in regions.mentioned),
                "is_primary": int(name in regions.primary),
                "implied": int(name in regions.implied),
                "evidence": regions.evidence.get(name),
            }
            for name in names
        )

    def _policy_id(self, policy: PolicyMention, article_id: int, seen_at: str) -> tuple[int, bool]:
        """The id of the policy with this title, and whether this sighting created it."""
        row = next(self.db.query("select id from policies where title = ?", [policy.title]), None)
        if row is not None:
            return row["id"], False
        new_id = self._insert(
            "policies",
            {
                "title": policy.title,
                "region": policy.region,
                "date": policy.date,
                "first_article_id": article_id,
                "first_seen": seen_at,
            },
        )
        return new_id, True

    def _add_version(
        self,
        article_id: int,
        version: int,
        article: Article,
        digest: str,
        seen_at: str,
        run_id: int,
    ) -> None:
        self.db.table("versions").insert(
            {
                "article_id": article_id,
                "version": version,
                "title": article.title,
                "text": article.text,
                "text_hash": digest,
                "seen_at": seen_at,
                "run_id": run_id,
            }
        )


def _json_list(values: tuple[str, ...]) -> str | None:
    return json.dumps(values, ensure_ascii=False) if values else None
