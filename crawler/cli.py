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
from urllib.parse import urlsplit

import click

from crawler import __version__, paths
from crawler.errors import DatabaseError
from crawler.keys import ALERT_KEYS, SOURCE_KEYS, STATUS_KEYS, TRIAL_KEYS
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


def json_option(what: str, keys: tuple[str, ...]) -> Callable[[F], F]:
    return click.option(
        "--json", "as_json", is_flag=True, help=f"Print {what} as JSON, keys: {', '.join(keys)}."
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


class NewsmonCommand(click.Command):
    """A command that refuses to run while $NEWSMON_CONFIG names no file: one that reads no
    setting, or is given every path, would otherwise run on without the settings the user
    meant. Its --help still works."""

    def invoke(self, ctx: click.Context) -> Any:
        from crawler.config import CONFIG_ENV
        from crawler.files import not_a_file

        named = os.environ.get(CONFIG_ENV)
        problem = not_a_file(Path(named)) if named else None
        if problem is not None:
            raise click.ClickException(
                f"{named}: cannot read the settings file (${CONFIG_ENV}): {problem}"
            )
        return super().invoke(ctx)


class NewsmonSubgroup(NewsmonCommand, click.Group):
    """A command with subcommands of its own (``sources add``), checked as every command is."""

    command_class = NewsmonCommand


class NewsmonGroup(click.Group):
    """The command group, where a database or disk problem met by any command becomes one
    line and a non-zero exit, not a traceback."""

    command_class = NewsmonCommand

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatabaseError as exc:
            raise click.ClickException(str(exc)) from None
        except sqlite3.Error as exc:
            # Imported only here: crawler.db brings the extractors and taggers, ~70 MB that
            # the daemon would hold for months without using them.
            from crawler.db import database_error

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
@click.option(
    "--baseline/--no-baseline",
    default=None,
    help="--baseline: store what this crawl finds without an alert per article or policy, one"
    " line in the digest instead. --no-baseline: alert on everything. Default: a baseline for"
    " a new source (none of its runs ended ok yet), alerts for the others.",
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
    baseline: bool | None,
    redis_url: str | None,
    db_path: Path,
    seeds: Path,
    taxonomy: tuple[Path, ...],
) -> None:
    """Crawl sources once and store new and changed articles (what cron runs).

    Revisits are cheap: listings are asked for with If-None-Match/If-Modified-Since, and a
    stored article is fetched again only when its watch window says so or its sitemap
    entry is newer. A new source's first crawl is a baseline: its back catalogue is stored
    and searchable, and the digest says it in one line. Exits non-zero when a source could
    not be read at all.

    Example:

        newsmon crawl --source miit-policy --db db/news.db
    """
    from crawler.crawl import run_crawl
    from crawler.errors import RedisUnreachable
    from crawler.pipelines.store import BASELINE

    sources = _select(_load(seeds), source_ids)
    if base_url:
        sources = [s.rebased(base_url) for s in sources]
    _check_taxonomy(taxonomy)
    shared = _redis_url(redis_url)
    if shared is not None and baseline is not None:
        # The writer on the database's host decides, as for a crawl of its own.
        raise click.ClickException(
            "--baseline/--no-baseline needs the database here: with --redis-url, the writer"
            " (newsmon ingest) makes a new source's first run a baseline"
        )
    settings = {"NEWSMON_TAXONOMY": [str(p) for p in taxonomy], BASELINE: baseline}
    if from_stdin:
        from crawler.service import serve_crawls

        serve_crawls({s.id: s for s in sources}, db_path, redis_url=shared, **settings)
        return
    if progress is None:
        progress = not quiet and sys.stderr.isatty()
    try:
        summary = run_crawl(sources, db_path, progress=progress, redis_url=shared, **settings)
    except RedisUnreachable as exc:
        raise click.ClickException(str(exc)) from None
    if not quiet:
        click.echo(summary.line())
    if summary.failed:
        raise click.ClickException(summary.failure())


def _source_record(source: Source) -> dict[str, Any]:
    """A source as `sources --json` prints it."""
    values = {**vars(source), **{f"{k}s": urls for k, urls in source.start_urls.items()}}
    return {k: list(values[k]) if isinstance(values[k], tuple) else values[k] for k in SOURCE_KEYS}


@main.group(cls=NewsmonSubgroup, invoke_without_command=True)
@click.option("--check", is_flag=True, help="Only validate the seed files; print problems.")
@json_option(
    "a list, one object a source (lists, feeds and sitemaps as absolute URLs),", SOURCE_KEYS
)
@seeds_option()
@click.pass_context
def sources(ctx: click.Context, check: bool, as_json: bool, seeds: Path) -> None:
    """List the sources defined in the seed files, or check them; `sources add URL` writes
    the entry of a new one.

    Example:

        newsmon sources --check --seeds seeds/
    """
    if ctx.invoked_subcommand is not None:
        return
    loaded = _load(seeds)
    if as_json:
        records = [_source_record(s) for s in loaded]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        return
    if check:
        files = len({s.file for s in loaded})
        click.echo(f"ok: {len(loaded)} sources in {files} files")
        return
    for s in loaded:
        schedule = f"every {s.every}" if s.every else (f"cron {s.cron}" if s.cron else "manual")
        starts = " ".join(f"{len(v)} {k}" for k, v in s.start_urls.items() if v)
        state = "verified" if s.verified else "unverified"
        click.echo(f"{s.id:24} {s.region or '':6} {schedule:14} {starts:28} {state:10} {s.name}")


@sources.command("add")
@click.argument("url")
@click.option("--id", "given_id", metavar="ID", help="The source's id. Default: from the host.")
@click.option("--name", help="The source's name. Default: the page's <title>.")
@click.option("--region", help="The region hint (深圳, 湖北 …).")
@click.option(
    "--private-host",
    "private_hosts",
    multiple=True,
    metavar="HOST",
    help="A host that may resolve to a loopback or private address (an intranet site).",
)
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The seed file to append the entry to. Default: the seed file read, else ID.toml in"
    " the seeds folder (./seeds/ when the shipped sources are read).",
)
@click.option(
    "--delay",
    type=click.FloatRange(0, 3600),
    help="Seconds between requests, now and in the entry. Default: a source's, 1.",
)
@click.option("--yes", "-y", is_flag=True, help="Write the entry without asking.")
@seeds_option()
def sources_add(
    url: str,
    given_id: str | None,
    name: str | None,
    region: str | None,
    private_hosts: tuple[str, ...],
    delay: float | None,
    target: Path | None,
    yes: bool,
    seeds: Path,
) -> None:
    """Add a source from one of its pages (a list page, its RSS feed or sitemap): fetches it
    as a crawl would (address guard, robots.txt), finds the feeds and sitemaps, proposes
    article_urls and list_urls from the links it sees, shows a few of the articles they
    take, and appends the [[source]] entry to a seed file once you agree.

    Example:

        newsmon sources add http://gxj.sz.gov.cn/xxgk/xxgkml/qt/tzgg/ --region 深圳
    """
    from crawler.discover import discover, propose, target_file, write_entry
    from crawler.propose import unused_id
    from crawler.urls import canonical_url

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.ClickException(f"not a web address: {url!r} (give http://… or https://…)")
    shipped = paths.shipped_seeds()
    loaded = _load(seeds) if seeds.exists() else []
    start = canonical_url(url)
    taken = next(
        (s for s in loaded for u in s.start_urls.values() if start in map(canonical_url, u)), None
    )
    if taken is not None:
        raise click.ClickException(f"{start} is a start URL of source {taken.id!r} already")
    if sys.stderr.isatty():  # a person waiting; a script reads only the outcome
        click.echo(f"reading {url}, its feeds, sitemaps and a few articles…", err=True)
    found = discover(url, private_hosts, delay)
    if found.error:
        hint = " (--private-host HOST if it is an intranet site)" if found.private else ""
        raise click.ClickException(f"{url}: {found.error}{hint}")
    try:
        proposal = propose(found, given_id, name, region, private_hosts, delay)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    ids = {s.id for s in loaded}
    if given_id in ids:
        raise click.ClickException(f"source id {given_id!r} is taken (see `newsmon sources`)")
    chosen = proposal.fields["id"] = unused_id(proposal.fields["id"], ids)
    click.echo("\n".join(proposal.report))
    click.echo("\n" + proposal.entry)
    destination = target or target_file(seeds, chosen, shipped, paths.USER_SEEDS)
    if not yes and not click.confirm(f"append it to {destination}?", default=True):
        click.echo("nothing written")
        return
    read = seeds.glob("*.toml") if seeds.is_dir() else [seeds]
    beside = list(destination.parent.glob("*.toml")) if seeds == shipped else list(read)
    try:
        write_entry(destination, proposal.entry, beside)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"wrote {destination}: `newsmon crawl --source {chosen}` takes it in (its first crawl"
        " is a baseline: stored and searchable, one line in the digest)"
    )
    if seeds == shipped:
        click.echo(
            f"note: {destination.parent}/ now holds a seed file, so commands read it instead of"
            f" the shipped sources; copy those you want from {shipped}"
        )


@main.command()
@click.argument(
    "folder", required=False, default=".", type=click.Path(file_okay=False, path_type=Path)
)
def init(folder: Path) -> None:
    """Start a newsmon folder (default: this one): a commented settings file, newsmon.toml,
    and seeds/ with one example source, commented out. Refuses to overwrite either file.

    From that folder every command finds both: the database goes to db/news.db, and the
    sources in seeds/ replace the shipped ones.

    Example:

        newsmon init ~/policy-watch
    """
    from crawler.starter import write_starter

    try:
        settings, example = write_starter(folder)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {settings}: the settings, commented; [paths] names db/news.db and seeds/")
    click.echo(
        f"wrote {example}: one example source, commented out; write yours there, then"
        " `newsmon sources --check`, `newsmon try URL --source ID` and `newsmon crawl`"
    )


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


@main.command("try")
@click.argument("url")
@click.option(
    "--source",
    "source_id",
    metavar="ID",
    help="Read the page as this source's crawl would: its patterns, politeness and"
    " private_hosts. Default: the source whose hosts include the URL's, else none.",
)
@json_option(
    "what it found (tags as `newsmon tag --json`; each link as url, follow: article, list or"
    " null, and the pattern that matched)",
    TRIAL_KEYS,
)
@seeds_option()
@taxonomy_option()
def try_page(
    url: str, source_id: str | None, as_json: bool, seeds: Path, taxonomy: tuple[Path, ...]
) -> None:
    """What newsmon makes of one page: fetched as a crawl fetches it (address guard,
    robots.txt, size caps), then whether it is an article, its title, date, first lines and
    tags, and the page's links with the source's article_urls/list_urls they match. Stores
    nothing.

    Example:

        newsmon try https://gxj.sz.gov.cn/xxgk/xxgkml/qt/tzgg/ --source sz-gxj
    """
    from crawler.trial import trial, trial_report
    from crawler.urls import canonical_host

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.ClickException(f"not a web address: {url!r} (give http://… or https://…)")
    chosen = _check_taxonomy(taxonomy)
    source: Source | None
    if source_id is not None:
        source = _select(_load(seeds), (source_id,))[0]
    else:
        host = canonical_host(parts.hostname)
        loaded = _load(seeds) if seeds.exists() else []
        source = next((s for s in loaded if host in s.domains), None)
    record = trial(source, url, chosen)
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        click.echo(trial_report(record))
    if record["error"]:
        sys.exit(1)


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

    if taxonomy:
        # Only the user's files can be wrong; loading the shipped taxonomy (jieba, OpenCC)
        # would keep ~40 MB in the daemon for months that only its crawl process uses.
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
            " issuer, doc_number, written, validity from articles"
        )
    )
    new_policies = topics = 0
    with click.progressbar(rows, label="reclassifying", file=sys.stderr) as bar:
        for row in bar:
            document = DocumentInfo(
                row["issuer"], row["doc_number"], row["written"], row["validity"]
            )
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
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the text part each recipient would get; send nothing, mark nothing.",
)
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

    Changed articles come first, with the changed sentence, then new policies and new
    articles by region and topic; a source's first crawl is one line. Every alert not yet
    sent goes in, however old: after SMTP or cron was down, the next digest catches up.
    Alerts are marked sent only after the SMTP server accepted the message; with --out the
    digest is written to a file and the alerts are marked sent to that file. --since only
    narrows a --dry-run preview. Times are in [digest] timezone (Beijing time); with
    [serve] base_url each item links to its page in `newsmon serve`.

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
    from crawler.serve import PortInUse, run_serve

    open_db(db_path, create=False, write=False).close()  # a one-line error, not Datasette's
    try:
        raise SystemExit(run_serve(db_path, host, port))
    except PortInUse as exc:
        raise click.ClickException(str(exc)) from None


class AlertKindOption(click.Option):
    """An option whose help ends in the alert kinds of crawler.alerts, read only when help is
    shown: that module imports the tagging stages, seconds that no other use of the command
    line should wait."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from crawler.alerts import KINDS

        record = super().get_help_record(ctx)
        return record and (record[0], f"{record[1]} {', '.join(KINDS)}.")


@main.command()
@click.option("--errors", type=int, default=10, show_default=True, help="Kinds of error shown.")
@json_option(
    "the report (summary: sources, ok, failing, running, never_crawled, errors)", STATUS_KEYS
)
@db_option()
@seeds_option()
def status(errors: int, as_json: bool, db_path: Path, seeds: Path) -> None:
    """Is everything working? A summary line (sources, ok, failing, never crawled, errors in
    the last runs), problems in the seed files, each source's last run, the sources never
    crawled, and each error message of the last runs once, with a count and a URL to try.
    Exits 1 when a seed file is invalid or a source's last run failed or was cut off, so that
    cron or a monitor can tell.

    Example:

        newsmon status --db db/news.db --seeds seeds
    """
    from crawler.report import needs_attention, status_data, status_report

    problems: list[str] = []
    source_ids: list[str] | None = None
    if not seeds.exists():
        problems = [f"{seeds}: no seed files there"]
    else:
        try:
            source_ids = [s.id for s in load_sources([seeds])]
        except SourceError as exc:
            problems = exc.problems
    data = status_data(db_path, problems, source_ids)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(status_report(data, db_path, errors))
    if needs_attention(data):
        sys.exit(1)


@main.command()
@click.option("--last", type=int, default=20, show_default=True, help="How many alerts.")
@click.option(
    "--since",
    metavar="AGE",
    help="Only the alerts raised this long ago or later: 1w, 1d, 12h, 30m.",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    cls=AlertKindOption,
    help="Only alerts of this kind (repeatable):",
)
@json_option("a list of alerts, oldest first,", ALERT_KEYS)
@db_option()
def alerts(
    last: int, since: str | None, kinds: tuple[str, ...], as_json: bool, db_path: Path
) -> None:
    """Show the latest alerts: new stories, changed articles (with the diff), new policies,
    failing and recovered sources.

    Example:

        newsmon alerts --since 1w --kind changed_article --db db/news.db
    """
    from crawler.alerts import KINDS
    from crawler.report import alerts_data, alerts_report
    from crawler.reporters.render import since_moment

    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise click.ClickException(f"unknown alert kind {unknown[0]!r} (kinds: {', '.join(KINDS)})")
    try:
        moment = since_moment(since) if since else None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    chosen = alerts_data(db_path, limit=last, since=moment, kinds=kinds)
    if as_json:
        click.echo(json.dumps(chosen, ensure_ascii=False, indent=2))
    else:
        click.echo(alerts_report(chosen))


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
