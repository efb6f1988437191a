"""Load and validate sources (``seeds/*.toml``) into :class:`Source` objects.

A source is data: a new site is a few lines of TOML, not a new class. The loader is strict
because a typo in a seed file otherwise shows up weeks later as a source that never finds
anything: unknown keys, duplicate ids, duplicate start URLs, malformed URLs and bad patterns
are each reported as one line naming the file, the line and the source.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from apscheduler.triggers.cron import CronTrigger

from crawler.clock import duration_seconds
from crawler.files import not_a_file, read_text
from crawler.patterns import backtracking_risk
from crawler.urls import canonical_host, canonical_url, path_and_query

SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# "0s" would crawl a site back to back; a year is already longer than any sane schedule, and
# far more overflows the daemon's clock arithmetic.
SHORTEST_INTERVAL = 1
LONGEST_INTERVAL = 366 * 86400
# Bounds of a source's numbers, each (smallest, largest, whole): past them a value is a typo or
# a crawl that would hammer a site, wait for ever or never stop.
NUMBER_BOUNDS: dict[str, tuple[float, float, bool]] = {
    "max_list_pages": (1, 10_000, True),
    "max_pages": (1, 1_000_000, True),
    "max_attachments": (0, 1000, True),
    "max_attachment_bytes": (1024, 1 << 30, True),
    "concurrency": (1, 64, True),
    "delay": (0, 3600, False),
    "timeout": (1, 3600, False),
}
# Crontab counts weekdays from Sunday (0 and 7).
CRONTAB_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Document paths that a shared publishing platform serves on every portal that runs it, so a
# source names its platforms (``platforms = ["gkmlpt"]``) instead of copying their patterns.
PLATFORMS: dict[str, tuple[str, ...]] = {
    # 广东省政府信息公开平台: every Guangdong provincial and city portal publishes its
    # 政府信息公开目录 at /gkmlpt/, e.g. /gkmlpt/content/4/4713/post_4713026.html.
    "gkmlpt": (r"^/gkmlpt/content/\d+/\d+/post_\d+\.html$",),
    # Hanweb (大汉) CMS of Zhejiang and Jiangsu portals: /art/2024/6/19/art_1229123402_1.html,
    # or under a column, /col/col1229886900/art/2026/art_<32 hex>.html.
    "hanweb": (r"^/(?:col/col\d+/)?art/\d{4}/(?:\d{1,2}/\d{1,2}/)?art_\w+\.html$",),
    # Anhui's 政府信息公开 platform of the province and its cities: /public/1741/40408761.html.
    "ah-public": (r"^/public/\d+/\d+\.html$",),
}

# After an article is first seen it is checked again after each of these, then no more: news
# is corrected within hours, rarely after a week.
DEFAULT_WATCH = ("1h", "6h", "1d", "7d")


@dataclass(frozen=True)
class Source:
    """One site to watch, as written in a seed file."""

    id: str
    name: str
    article_urls: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    list_urls: tuple[str, ...] = ()
    max_list_pages: int = 5
    # A run requests at most this many pages: a list that links to ever-new pages (a
    # calendar) or a site gone wrong cannot keep a crawl going for ever.
    max_pages: int = 2000
    # Attachments (附件) fetched per article page, and the size cap of each: a policy's annexes
    # are a few files of a few MB; a page linking hundreds, or a 1 GB archive, is not that.
    max_attachments: int = 20
    max_attachment_bytes: int = 20 * 1024 * 1024
    homepage: str | None = None
    base_url: str | None = None
    region: str | None = None
    verified: bool = False
    every: str | None = None
    cron: str | None = None
    delay: float = 1.0
    concurrency: int = 2
    timeout: float = 30.0  # seconds a request may take; slow government sites need more
    allowed_domains: tuple[str, ...] = ()
    # Hosts the crawl may reach although they resolve to loopback, private or link-local
    # addresses (an intranet site, the demo on 127.0.0.1); every other such host is refused.
    private_hosts: tuple[str, ...] = ()
    drop_params: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    watch: tuple[str, ...] = DEFAULT_WATCH
    notes: str = ""
    file: str = field(default="", compare=False)

    def resolve(self, url: str) -> str:
        """An absolute URL for ``url``, which may be relative to the source's ``base_url``."""
        return urljoin(self.base_url, url) if self.base_url else url

    @property
    def start_urls(self) -> dict[str, tuple[str, ...]]:
        """Absolute start URLs by kind: ``list``, ``feed``, ``sitemap``."""
        return {
            "list": tuple(self.resolve(u) for u in self.lists),
            "feed": tuple(self.resolve(u) for u in self.feeds),
            "sitemap": tuple(self.resolve(u) for u in self.sitemaps),
        }

    @property
    def domains(self) -> tuple[str, ...]:
        """Hosts the crawl may visit: the declared ones, else those of the start URLs.

        In the form the canonical URLs the spider requests carry (punycode, compressed IPv6):
        a host written otherwise would match none of them, and every request would be dropped
        as offsite."""
        if self.allowed_domains:
            return tuple(canonical_host(d) for d in self.allowed_domains)
        urls = [canonical_url(u) for kind in self.start_urls.values() for u in kind]
        return tuple(sorted({urlsplit(u).hostname or "" for u in urls} - {""}))

    @cached_property
    def article_patterns(self) -> tuple[re.Pattern[str], ...]:
        """The source's own article patterns and those of the platforms it publishes through."""
        shared = tuple(p for name in self.platforms for p in PLATFORMS[name])
        return tuple(re.compile(p) for p in self.article_urls + shared)

    def is_article(self, url: str) -> bool:
        """Whether ``url`` is an article of this source, tracking parameters aside."""
        target = path_and_query(canonical_url(url, self.drop_params))
        return any(p.search(target) for p in self.article_patterns)

    @property
    def list_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.list_urls)

    @property
    def watch_seconds(self) -> tuple[int, ...]:
        """The watch window as seconds between checks."""
        return tuple(duration_seconds(step) for step in self.watch)

    def rebased(self, base_url: str) -> Source:
        """The same source served from another address (the bundled site on a free port).

        The new host may be a private one: the user named it (``--base-url``)."""
        host = urlsplit(base_url).hostname or ""
        return dataclasses.replace(
            self, base_url=base_url, allowed_domains=(), private_hosts=(canonical_host(host),)
        )


def crontab_fields(expression: str) -> dict[str, str]:
    """A crontab expression as APScheduler's CronTrigger fields.

    Built field by field rather than with CronTrigger.from_crontab, which reads weekdays with
    APScheduler's numbering (from Monday): "1-5" would be Tuesday to Saturday."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(f"expected 5 fields, got {len(parts)}")
    minute, hour, day, month, weekdays = parts
    return {
        "minute": minute,
        "hour": hour,
        "day": day,
        "month": month,
        "day_of_week": _crontab_weekdays(weekdays),
    }


def _crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field ("1-5", "0,6", "*/2", "mon-fri") as day names."""
    if field == "*":
        return field
    days: dict[str, None] = {}
    for part in field.split(","):
        span, _, step = part.partition("/")
        first, _, last = ("0-6" if span == "*" else span).partition("-")
        start = _weekday_number(first)
        end = _weekday_number(last) if last else (6 if step else start)
        if end < start:  # "sat-sun"
            end += 7
        for number in range(start, end + 1, int(step or 1)):
            days[CRONTAB_DAYS[number % 7]] = None
    return ",".join(days)


def _weekday_number(token: str) -> int:
    if token.isdigit():
        return int(token)
    if token.lower() not in CRONTAB_DAYS:
        raise ValueError(f"bad day of week {token!r}")
    return CRONTAB_DAYS.index(token.lower())


class SourceError(ValueError):
    """One or more seed files are invalid; each problem is one line of the message."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


FIELDS = {f.name: f for f in dataclasses.fields(Source) if f.name != "file"}
REQUIRED = ("id", "name")
URL_LISTS = ("lists", "feeds", "sitemaps")
PATTERN_LISTS = ("article_urls", "list_urls")
STRING_LISTS = (
    *URL_LISTS,
    *PATTERN_LISTS,
    "allowed_domains",
    "private_hosts",
    "drop_params",
    "platforms",
    "watch",
)
STRINGS = ("id", "name", "homepage", "base_url", "region", "every", "cron", "notes")


def load_sources(paths: Iterable[str | Path]) -> list[Source]:
    """Every source in ``paths`` (seed files or folders of them), validated together."""
    files = sorted(f for p in map(Path, paths) for f in (p.glob("*.toml") if p.is_dir() else [p]))
    problems: list[str] = []
    sources: list[Source] = []
    for path in files:
        problem = not_a_file(path)
        if problem:
            problems.append(f"{path}: cannot read seed file: {problem}")
        else:
            sources.extend(_load_file(path, problems))
    _check_unique(sources, problems)
    if problems:
        raise SourceError(problems)
    return sources


def _load_file(path: Path, problems: list[str]) -> list[Source]:
    try:
        text = read_text(path)
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path}: cannot read seed file: {exc}")
        return []
    lines = text.splitlines()
    extra = sorted(set(data) - {"source"})
    if extra:
        problems.append(f"{path}: unknown top-level key {extra[0]!r} (expected [[source]] tables)")
    entries = data.get("source", [])
    if not isinstance(entries, list):
        problems.append(f"{path}: 'source' must be an array of tables ([[source]])")
        return []
    headers = [i for i, line in enumerate(lines, 1) if line.strip().startswith("[[source]]")]
    sources = []
    for n, entry in enumerate(entries):
        start = headers[n] if n < len(headers) else 1
        where = _Where(path, lines, start, entry.get("id", f"#{n + 1}"))
        source = _parse_entry(entry, where, problems)
        if source is not None:
            sources.append(source)
    return sources


@dataclass
class _Where:
    """Points a problem at its file, line and source."""

    path: Path
    lines: list[str]
    start: int
    source_id: object

    def __call__(self, key: str | None, message: str) -> str:
        line = self.start
        if key is not None:
            key_line = re.compile(rf"^\s*{re.escape(key)}\s*=")
            for i in range(self.start, len(self.lines)):
                if self.lines[i].strip().startswith("[["):
                    break
                if key_line.match(self.lines[i]):
                    line = i + 1
                    break
        return f"{self.path}:{line}: source {self.source_id!r}: {message}"


def _parse_entry(entry: dict[str, Any], where: _Where, problems: list[str]) -> Source | None:
    before = len(problems)
    for key in sorted(set(entry) - set(FIELDS)):
        hint = _closest(key, FIELDS)
        problems.append(
            where(key, f"unknown key {key!r}" + (f" (did you mean {hint!r}?)" if hint else ""))
        )
    for key in REQUIRED:
        if key not in entry:
            problems.append(where(None, f"missing required key {key!r}"))
    for key in STRINGS:
        if key in entry and not isinstance(entry[key], str):
            problems.append(where(key, f"{key!r} must be a string"))
    for key in STRING_LISTS:
        value = entry.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            problems.append(where(key, f"{key!r} must be a list of strings"))
    if len(problems) > before:
        return None

    source_id = str(entry["id"])
    if not SOURCE_ID.match(source_id):
        problems.append(where("id", "id must be lowercase letters, digits, '-' or '_'"))
    base_url = entry.get("base_url")
    for key in ("homepage", "base_url"):
        if key in entry and not _is_http_url(str(entry[key])):
            problems.append(where(key, f"malformed URL {entry[key]!r}"))
    for key in URL_LISTS:
        for url in entry.get(key, []):
            absolute = urljoin(str(base_url), url) if base_url else url
            if not _is_http_url(absolute):
                problems.append(where(key, f"malformed URL {url!r} in {key!r}"))
    if not any(entry.get(key) for key in URL_LISTS):
        problems.append(where(None, "no start URLs: give at least one of lists, feeds, sitemaps"))
    for key in PATTERN_LISTS:
        for pattern in entry.get(key, []):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(where(key, f"bad pattern {pattern!r} in {key!r}: {exc}"))
                continue
            risk = backtracking_risk(pattern)
            if risk:
                problems.append(
                    where(key, f"pattern {pattern!r} in {key!r} can hang the crawl ({risk}):"
                          " bound the inner repeat or make its parts exclusive")
                )  # fmt: skip
    for name in entry.get("platforms", []):
        if name not in PLATFORMS:
            hint = _closest(name, PLATFORMS)
            known = f"did you mean {hint!r}?" if hint else f"known: {', '.join(PLATFORMS)}"
            problems.append(where("platforms", f"unknown platform {name!r} ({known})"))
    if not entry.get("article_urls") and not entry.get("platforms"):
        problems.append(
            where("article_urls", "no article_urls nor platforms: no link would be an article")
        )
    _check_schedule(entry, where, problems)
    _check_numbers(entry, where, problems)
    hosts = _check_hosts(entry, where, problems)
    if len(problems) > before:
        return None

    values: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value for key, value in entry.items()
    }
    source = Source(**{**values, **hosts}, file=str(where.path))
    domains = source.domains
    for url in (u for kind in source.start_urls.values() for u in kind):
        host = urlsplit(canonical_url(url)).hostname or ""
        if not any(host == d or host.endswith(f".{d}") for d in domains):
            problems.append(
                where("allowed_domains", f"start URL {url} is outside allowed_domains,"
                      " so the crawl would drop it")
            )  # fmt: skip
    return None if len(problems) > before else source


def _check_hosts(
    entry: dict[str, Any], where: _Where, problems: list[str]
) -> dict[str, tuple[str, ...]]:
    """``allowed_domains`` and ``private_hosts`` in the canonical form requests carry."""
    hosts: dict[str, tuple[str, ...]] = {}
    for key in ("allowed_domains", "private_hosts"):
        if key not in entry:
            continue
        canonical = []
        for host in entry[key]:
            try:
                canonical.append(canonical_host(host))
            except ValueError:
                problems.append(where(key, f"{host!r} in {key!r} is not a host name"))
        hosts[key] = tuple(canonical)
    return hosts


def _check_schedule(entry: dict[str, Any], where: _Where, problems: list[str]) -> None:
    if "every" in entry and "cron" in entry:
        problems.append(where("cron", "give either 'every' or 'cron', not both"))
    if "every" in entry:
        problem = _interval_problem(str(entry["every"]))
        if problem:
            problems.append(where("every", f"{problem} (e.g. '30m', '6h', '1d')"))
    for step in entry.get("watch", []):
        problem = _interval_problem(step)
        if problem:
            problems.append(where("watch", f"{problem} in 'watch' (e.g. '1h', '1d')"))
    if "cron" in entry:
        try:
            CronTrigger(**crontab_fields(str(entry["cron"])))
        except ValueError as exc:
            problems.append(where("cron", f"bad cron expression {entry['cron']!r}: {exc}"))


def _interval_problem(text: str) -> str | None:
    """What is wrong with an interval such as "30m", or None."""
    try:
        seconds = duration_seconds(text)
    except ValueError as exc:
        return str(exc)
    if not SHORTEST_INTERVAL <= seconds <= LONGEST_INTERVAL:
        return f"interval {text!r} out of range: from 1s to {LONGEST_INTERVAL // 86400}d"
    return None


def _check_numbers(entry: dict[str, Any], where: _Where, problems: list[str]) -> None:
    for key, (minimum, maximum, whole) in NUMBER_BOUNDS.items():
        value = entry.get(key, minimum)
        kinds = int if whole else (int, float)
        if (
            isinstance(value, bool)
            or not isinstance(value, kinds)
            or not math.isfinite(value)
            or not minimum <= value <= maximum
        ):
            kind = "a whole number" if whole else "a number"
            problems.append(
                where(key, f"{key!r} must be {kind} from {minimum:g} to {maximum:g}, not {value!r}")
            )
    if "verified" in entry and not isinstance(entry["verified"], bool):
        problems.append(where("verified", "'verified' must be true or false"))


def _check_unique(sources: list[Source], problems: list[str]) -> None:
    seen_ids: dict[str, Source] = {}
    seen_urls: dict[str, Source] = {}
    for source in sources:
        if source.id in seen_ids:
            other = seen_ids[source.id]
            problems.append(
                f"{source.file}: duplicate source id {source.id!r} (also in {other.file})"
            )
        seen_ids.setdefault(source.id, source)
        for url in (u for kind in source.start_urls.values() for u in kind):
            if url in seen_urls and seen_urls[url] is not source:
                other = seen_urls[url]
                problems.append(
                    f"{source.file}: source {source.id!r}: start URL {url} "
                    f"is also a start URL of {other.id!r} ({other.file})"
                )
            seen_urls.setdefault(url, source)


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and " " not in url


def _closest(key: str, known: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(key, list(known), n=1, cutoff=0.7)
    return matches[0] if matches else None
