"""The ``newsmon`` command: each subcommand is a thin call into the library."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click

from crawler import __version__, paths
from crawler.errors import DatabaseError
from crawler.sources import Source, SourceError, load_sources

F = TypeVar("F", bound=Callable[..., Any])


def _resolve(
    resolve: Callable[[Path | None, Path | None], Path],
) -> Callable[[click.Context, click.Parameter, Path | None], Path]:
    """An option callback that fills in the path the user did not give (crawler.paths)."""

    def callback(ctx: click.Context, _param: click.Parameter, given: Path | None) -> Path:
        try:
            # --config, where a command has it, is eager: parsed before this.
            return resolve(given, ctx.params.get("config_path"))
        except (OSError, ValueError) as exc:  # an unreadable or invalid settings file
            raise click.ClickException(str(exc)) from None

    return callback


DB_META = "newsmon.db"


def db_option(default: Path | None = None) -> Callable[[F], F]:
    resolve = _resolve(paths.database)

    def callback(ctx: click.Context, param: click.Parameter, given: Path | None) -> Path:
        # Kept for NewsmonGroup: an SQLite error met anywhere in the command names the file.
        ctx.meta[DB_META] = path = resolve(ctx, param, given)
        return path

    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=default,
        show_default=default is not None,
        callback=callback,
        help="SQLite database file."
        + ("" if default else " Default: $NEWSMON_DB, [paths] db in the settings, db/news.db."),
    )


def seeds_option() -> Callable[[F], F]:
    return click.option(
        "--seeds",
        "seeds",
        type=click.Path(path_type=Path),
        callback=_resolve(paths.seeds),
        help="Seed file or folder of seed files (*.toml). Default: $NEWSMON_SEEDS, [paths]"
        " seeds in the settings, ./seeds if it holds *.toml, else the shipped sources.",
    )


def source_option(verb: str) -> Callable[[F], F]:
    return click.option(
        "--source",
        "source_ids",
        multiple=True,
        metavar="ID",
        help=f"{verb} only this source (repeatable). Default: all sources.",
    )


def taxonomy_option() -> Callable[[F], F]:
    return click.option(
        "--taxonomy",
        "taxonomy",
        multiple=True,
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A taxonomy file extending the shipped topics (repeatable).",
    )


def redis_option(verb: str) -> Callable[[F], F]:
    return click.option(
        "--redis-url",
        "redis_url",
        envvar="NEWSMON_REDIS_URL",
        metavar="URL",
        help=f'{verb} (scrapy-redis; see README, "Several hosts"). Also $NEWSMON_REDIS_URL'
        " or `url` in the [redis] table of the settings file (newsmon.toml).",
    )


def _redis_url(given: str | None) -> str | None:
    """The Redis to share crawls through: the option, else the settings file's, else none."""
    if given:
        return given
    from crawler.config import load_config

    try:
        return load_config().redis_url
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


class NewsmonGroup(click.Group):
    """The command group, where a database or disk problem met by any command becomes one
    line and a non-zero exit, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from crawler.db import database_error

        try:
            return super().invoke(ctx)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.Error as exc:
            error = database_error(exc, ctx.meta.get(DB_META, "the database"))
            raise click.ClickException(str(error)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(where + (exc.strerror or str(exc)).splitlines()[0]) from None


@click.group(cls=NewsmonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsmon")
def main() -> None:
    """newsmon: watch news sites and government portals for regional policy news."""


def _load(seeds: Path) -> list[Source]:
    if not seeds.exists():
        raise click.ClickException(f"no seed files at {seeds} (pass --seeds or set $NEWSMON_SEEDS)")
    try:
        return load_sources([seeds])
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None


def _select(sources: list[Source], ids: tuple[str, ...]) -> list[Source]:
    if not ids:
        return sources
    known = {s.id: s for s in sources}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise click.ClickException(f"unknown source {unknown[0]!r} (see `newsmon sources`)")
    return [known[i] for i in ids]


@main.command()
@source_option("Crawl")
@click.option(
    "--base-url",
    metavar="URL",
    help="Serve the chosen source's relative URLs from here (the demo site elsewhere).",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Print nothing on success (for cron): only errors."
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress lines on stderr (default: when it is a terminal).",
)
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Crawl each source whose id arrives on standard input (one a line) as it arrives, "
    "beside the runs going, until end of input; a JSON line a finished run on standard "
    "output. What the daemon runs: one process for all its runs.",
)
@redis_option("Share the crawl with other crawlers through this Redis; send items to its writer")
@db_option()
@seeds_option()
@taxonomy_option()
def crawl(
    source_ids: tuple[str, ...],
    base_url: str | None,
    quiet: bool,
    progress: bool | None,
    from_stdin: bool,
    redis_url: str | None,
    db_path: Path,
    seeds: Path,
    taxonomy: tuple[Path, ...],
) -> None:
    """Crawl sources once and store new and changed articles (what cron runs).

    Revisits are cheap: listings are asked for with If-None-Match/If-Modified-Since, and a
    stored article is fetched again only when its watch window says so or its sitemap
    entry is newer. Exits non-zero when a source could not be read at all.

    Example:

        newsmon crawl --source miit-policy --db db/news.db
    """
    from crawler.crawl import run_crawl
    from crawler.errors import RedisUnreachable

    sources = _select(_load(seeds), source_ids)
    if base_url:
        sources = [s.rebased(base_url) for s in sources]
    _check_taxonomy(taxonomy)
    if from_stdin:
        from crawler.service import serve_crawls

        serve_crawls(
            {s.id: s for s in sources},
            db_path,
            redis_url=_redis_url(redis_url),
            NEWSMON_TAXONOMY=[str(p) for p in taxonomy],
        )
        return
    if progress is None:
        progress = not quiet and sys.stderr.isatty()
    try:
        summary = run_crawl(
            sources,
            db_path,
            progress=progress,
            redis_url=_redis_url(redis_url),
            NEWSMON_TAXONOMY=[str(p) for p in taxonomy],
        )
    except RedisUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        click.echo(summary.line())
    if summary.failed:
        raise click.ClickException(summary.failure())


@main.command()
@click.option("--check", is_flag=True, help="Only validate the seed files; print problems.")
@seeds_option()
def sources(check: bool, seeds: Path) -> None:
    """List the sources defined in the seed files, or check them.

    Example:

        newsmon sources --check --seeds seeds/
    """
    loaded = _load(seeds)
    if check:
        files = len({s.file for s in loaded})
        click.echo(f"ok: {len(loaded)} sources in {files} files")
        return
    for s in loaded:
        schedule = f"every {s.every}" if s.every else (f"cron {s.cron}" if s.cron else "manual")
        starts = " ".join(f"{len(v)} {k}" for k, v in s.start_urls.items() if v)
        state = "verified" if s.verified else "unverified"
        click.echo(f"{s.id:24} {s.region or '':6} {schedule:14} {starts:28} {state:10} {s.name}")


@main.command()
@click.argument("page", type=click.File("rb"))
@click.option("--url", required=True, help="The URL the page was served from.")
@click.option("--content-type", help="The Content-Type header it was served with, if known.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON: title, text, published, outlet, author, url, then editor, captions, "
    "quality, flags, simplified.",
)
def extract(page: BinaryIO, url: str, content_type: str | None, as_json: bool) -> None:
    """Extract the article from a saved page (a file, or - for standard input).

    Example:

        newsmon extract page.html --url https://www.example.gov.cn/art/1.html --json
    """
    from crawler.extract import extract_article

    article = extract_article(page.read(), url, content_type)
    if as_json:
        keys = ("title", "text", "published", "outlet", "author", "url")
        record: dict[str, Any] = {k: getattr(article, k) if article else None for k in keys}
        record["url"] = url
        if article is not None:
            record |= {
                "editor": article.editor,
                "captions": list(article.captions),
                "quality": article.quality,
                "flags": list(article.flags),
                "simplified": article.simplified,
            }
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    if article is None:
        raise click.ClickException("no article found in this page")
    click.echo(
        f"{article.title}\n{article.published or ''} {article.outlet or ''} "
        f"{article.author or ''}\n\n{article.text}"
    )


@main.command()
@source_option("Schedule")
@redis_option("Crawl through this Redis, as a crawler host (each run as `crawl --redis-url`)")
@db_option()
@seeds_option()
@taxonomy_option()
def daemon(
    source_ids: tuple[str, ...],
    redis_url: str | None,
    db_path: Path,
    seeds: Path,
    taxonomy: tuple[Path, ...],
) -> None:
    """Run every source on its own schedule until stopped (SIGTERM or Ctrl-C).

    Each run is a `newsmon crawl` of one source; the plan lives in the database, so a
    restart resumes it. `python scheduler.py` is the same.

    Example:

        newsmon daemon --db db/news.db --seeds seeds/
    """
    from crawler.daemon import run_daemon

    _check_taxonomy(taxonomy)
    sources = _select(_load(seeds), source_ids)
    url = _redis_url(redis_url)
    if url is not None:
        # The runs find it here, not on their command lines, where `ps` shows a password.
        os.environ["NEWSMON_REDIS_URL"] = url
    ids = tuple(s.id for s in sources)
    raise SystemExit(run_daemon(db_path, seeds, ids, taxonomy, shared=url is not None))


@main.command()
@redis_option("Write what the crawlers sharing this Redis send")
@click.option(
    "--until-idle",
    type=float,
    metavar="SECONDS",
    help="Exit once nothing came for this long and no round is open. Default: run until"
    " SIGTERM or Ctrl-C.",
)
@db_option()
@seeds_option()
def ingest(redis_url: str | None, until_idle: float | None, db_path: Path, seeds: Path) -> None:
    """Be the one writer of the database for crawlers on other hosts (`crawl --redis-url`).

    Takes their fetches and articles from Redis and stores them; each source's crawls that
    ran together become one run. Publishes each source's revisit plan for the crawlers.
    Run exactly one per database, on the host that has the file.

    Example:

        newsmon ingest --redis-url redis://10.0.0.5:6379/0 --db db/news.db
    """
    from crawler.distributed import run_ingest
    from crawler.errors import RedisUnreachable

    url = _redis_url(redis_url)
    if url is None:
        raise click.ClickException("no Redis to read from: pass --redis-url")
    try:
        written = run_ingest(url, db_path, _load(seeds), until_idle)
    except RedisUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"ingest: wrote {written} messages into {db_path}")


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--title", help="The article's headline (helps find its top and its regions).")
@click.option("--published", metavar="DATE", help="When it was published (completes 5月31日).")
@click.option("--json", "as_json", is_flag=True, help="Print the tags as JSON.")
@taxonomy_option()
def tag(
    file: BinaryIO,
    title: str | None,
    published: str | None,
    as_json: bool,
    taxonomy: tuple[Path, ...],
) -> None:
    """Tag a plain-text article (a file, or - for standard input).

    Prints regions (mentioned, primary), topics, policy documents, keywords, amounts and
    release events. The text is cleaned first, so a page copied whole is fine.

    Example:

        newsmon tag article.txt --title "深圳发布人工智能行动方案" --json
    """
    from crawler.classify import classify
    from crawler.clean import clean_text
    from crawler.extract.decode import decode_html

    text, _ = decode_html(file.read())
    cleaned = clean_text(text, title)
    tags = classify(cleaned.simplified, title, published, _check_taxonomy(taxonomy))
    record = tags.to_json()
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    regions = record["regions"]
    click.echo(
        f"regions:  {' '.join(regions['primary'])}  (mentioned: {' '.join(regions['mentioned'])})"
    )
    for topic in tags.topics:
        click.echo(f"topic:    {topic.topic} ({topic.score:g}): {topic.evidence[:60]}")
    for policy in tags.policies:
        click.echo(f"policy:   《{policy.title}》 {policy.region or ''} {policy.date or ''}")
    click.echo(f"keywords: {' '.join(tags.keywords)}")


@main.command()
@db_option()
@taxonomy_option()
def reclassify(db_path: Path, taxonomy: tuple[Path, ...]) -> None:
    """Re-tag every stored article, after a taxonomy change.

    Example:

        newsmon reclassify --db db/news.db --taxonomy my-topics.toml
    """
    from crawler.classify import classify
    from crawler.classify.policies import DocumentInfo
    from crawler.clock import now
    from crawler.db import Store, open_db

    chosen = _check_taxonomy(taxonomy)
    store = Store(open_db(db_path, create=False))
    rows = list(
        store.db.query(
            "select id, title, published, coalesce(text_simplified, text) as body,"
            " issuer, doc_number, written from articles"
        )
    )
    new_policies = topics = 0
    with click.progressbar(rows, label="reclassifying", file=sys.stderr) as bar:
        for row in bar:
            document = DocumentInfo(row["issuer"], row["doc_number"], row["written"])
            tags = classify(row["body"], row["title"], row["published"], chosen, document)
            new_policies += len(store.save_tags(row["id"], tags, now()))
            topics += len(tags.topics)
    click.echo(
        f"reclassified {len(rows)} articles: {topics} topic tags, "
        f"{new_policies} policies seen for the first time"
    )


def _check_taxonomy(paths: tuple[Path, ...]) -> Any:
    """The shipped taxonomy extended by ``paths``; a bad file is a one-line error."""
    from crawler.classify.topics import load_taxonomy

    try:
        return load_taxonomy(*paths)
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option(
    "--since",
    metavar="AGE",
    help="With --dry-run, show only the unsent alerts of this long ago: 1w, 1d, 12h, 30m."
    " Default: [digest] since in the settings, else all. A digest sent or written holds every"
    " alert not yet sent, however old.",
)
@click.option(
    "--to",
    "recipients",
    multiple=True,
    metavar="ADDR",
    help="Send to this one address (repeat for more). Default: [smtp] to and"
    " [[digest.recipient]] in the settings.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the HTML digest to this file instead of sending it.",
)
@click.option("--dry-run", is_flag=True, help="Render and show, send nothing, mark nothing.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    is_eager=True,
    help="Settings file (TOML): [smtp], [digest] and [paths] sections.",
)
@db_option()
def digest(
    since: str | None,
    recipients: tuple[str, ...],
    out: Path | None,
    dry_run: bool,
    config_path: Path | None,
    db_path: Path,
) -> None:
    """Email the alerts not yet sent: new policies, new and changed articles, failing sources.

    Every alert not yet sent goes in, however old: after SMTP or cron was down, the next
    digest catches up. Alerts are marked sent only after the SMTP server accepted the
    message; with --out the digest is written to a file and the alerts are marked sent to
    that file. --since only narrows a --dry-run preview.

    Example:

        newsmon digest --to analyst@example.com
    """
    from crawler.reporters import run_digest

    try:
        click.echo(run_digest(db_path, since, recipients, out, dry_run, config_path))
    except (OSError, ValueError) as exc:
        raise click.ClickException(str(exc).splitlines()[0]) from None


@main.command()
@click.option("--port", default=8001, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@db_option()
def serve(port: int, host: str, db_path: Path) -> None:
    """Browse the database in Datasette (read-only): search, facets, canned queries.

    Example:

        newsmon serve --db db/news.db --port 8001
    """
    from crawler.db import open_db
    from crawler.serve import run_serve

    open_db(db_path, create=False, write=False).close()  # a one-line error, not Datasette's
    raise SystemExit(run_serve(db_path, host, port))


@main.command()
@click.option(
    "--errors", type=int, default=10, show_default=True, help="Kinds of error shown per source."
)
@db_option()
@seeds_option()
def status(errors: int, db_path: Path, seeds: Path) -> None:
    """Is everything working? Problems in the seed files, each source's last run, and the
    errors it met (one line each, with a URL to try). Exits 1 when a seed file is invalid or a
    source's last run failed or was cut off, so that cron or a monitor can tell.

    Example:

        newsmon status --db db/news.db --seeds seeds
    """
    from crawler.report import needs_attention, status_report

    problems: list[str] = []
    if not seeds.exists():
        problems = [f"{seeds}: no seed files there"]
    else:
        try:
            load_sources([seeds])
        except SourceError as exc:
            problems = exc.problems
    click.echo(status_report(db_path, problems, errors))
    if problems or needs_attention(db_path):
        sys.exit(1)


@main.command()
@click.option("--last", type=int, default=20, show_default=True, help="How many alerts.")
@db_option()
def alerts(last: int, db_path: Path) -> None:
    """Show the latest alerts: new stories, changed articles (with the diff), new policies,
    failing and recovered sources.

    Example:

        newsmon alerts --last 50 --db db/news.db
    """
    from crawler.report import alerts_report

    click.echo(alerts_report(db_path, limit=last))


@main.command()
@db_option(paths.DEMO_DB)
@click.option(
    "--seeds",
    "seeds",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Seed file with the demo's sources. Default: the demo's own (crawler/demo/seeds.toml).",
)
def demo(db_path: Path, seeds: Path | None) -> None:
    """Serve the bundled news site and its 政府信息公开 section on 127.0.0.1, crawl them,
    change them, crawl them again, and show what was stored and the alerts the changes raised.

    Needs no network: the site is written for newsmon and served from this process. The
    demo's database starts empty each time.

    Example:

        newsmon demo --db db/demo.db
    """
    from crawler import demo as flow

    seeds = seeds or paths.demo_seeds()
    _select(_load(seeds), flow.SOURCES)
    try:
        flow.run(db_path, seeds, click.echo)
    except flow.DemoCrawlFailed as exc:
        raise click.ClickException(str(exc)) from None


@main.command("demo-site")
@click.option("--port", default=8000, show_default=True, help="Port on 127.0.0.1.")
def demo_site(port: int) -> None:
    """Serve the bundled news site on 127.0.0.1 until interrupted.

    The demo's seed file (crawler/demo/seeds.toml) points at port 8000: the command it
    prints crawls the site served.

    Example:

        newsmon demo-site --port 8000
    """
    from crawler.demo import SOURCES
    from crawler.demo.server import DemoServer

    try:
        server = DemoServer(port=port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    click.echo(f"serving the demo site at {server.url} (Ctrl-C stops)")
    crawl = ["newsmon", "crawl", "--seeds", str(paths.demo_seeds())]
    crawl += [arg for source in SOURCES for arg in ("--source", source)]
    if port != 8000:  # the port the demo's seed file names
        crawl += ["--base-url", server.url]
    click.echo(f"crawl it: {shlex.join(crawl)}")
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()
