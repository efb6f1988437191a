"""The publication time of a page: the info line under the headline, meta tags and JSON-LD, the
URL, relative times ("3小时前") counted back from the fetch.

Measured against the libraries that read dates (benchmarks/dates.py, on the 69 pages of
dev_gold_text and dev_partial_gold with a gold date), newsmon's own rules are kept:
htmldate.find_date alone gets 50/69 days right (0.72, either search mode), these rules 66/69.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING
from urllib.parse import unquote

from crawler.text import SPACE_RUN, alternation

if TYPE_CHECKING:
    from crawler.extract.meta.page import Page

# Chinese pages print Beijing time; relative times ("3小时前") count back from the fetch in it.
BEIJING = timezone(timedelta(hours=8))
EARLIEST = datetime(1995, 1, 1)  # before any Chinese news site

# A date as Chinese pages print it: 2021年2月23日, 2023-11-21, 2023/11/21, 2022.01.20,
# "2020 / 03 / 12", 二〇二四年六月十九日; or 7/5/2005, the US order of old ASP pages.
DATE = re.compile(
    r"(?=[\d〇零一二])(?<![\d.])(?:"  # the lookahead lets the scan skip other characters fast
    r"(?P<y>(?:19|20)\d\d)\s*(?:年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
    r"|(?P<sep>[-/.])\s?(?P<m2>\d{1,2})\s?(?P=sep)\s?(?P<d2>\d{1,2})(?![\d.]))"
    r"|(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>(?:19|20)\d\d)(?!\d)"
    r"|(?P<cy>[一二][〇零一二三四五六七八九]{3})年(?P<cm>[一二三四五六七八九十]{1,2})月"
    r"(?P<cd>[一二三四五六七八九十]{1,3})日"
    r")"
)
# A time right after a date: " 08:03", "08:03:57", "T08:03:00+08:00", "下午 3:05", "9:23:57 PM",
# "0时10分"; a weekday may sit between ("2020年3月12日 星期四 20:19").
TIME = re.compile(
    r"(?:[\sT,，]*(?:星期.|周.|[(（].[)）]))?[\sT,，]*(?P<half>上午|下午|晚上|早上|凌晨|中午|傍晚)?\s*"
    r"(?P<H>\d{1,2})\s*[:：时時]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*\d{1,2})?(?:\.\d+)?"
    r"(?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?(?P<tz>Z|[+-]\d\d:?\d\d)?"
)
# Times relative to the fetch, as feeds and portals print them. dateparser 1.5 (languages zh
# and zh-Hant) reads 11 of the 13 forms of benchmarks/dates.py and misses 今日 and 昨日; this
# reads all 13.
RELATIVE = re.compile(
    r"(?P<n>\d{1,3})\s*(?P<unit>秒|分钟|分鐘|小时|小時|天)前|(?P<now>刚刚|剛剛)"
    r"|(?P<day>今天|今日|昨天|昨日|前天)(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2}))?"
)
# A month and day without the year ("06-19 14:20", "6月19日 14:20"), only with a time: without
# one it is as likely a date in the story.
NO_YEAR = re.compile(
    r"(?=\d)(?<![\d年/.-])(?P<m>\d{1,2})(?:月(?P<d>\d{1,2})日|-(?P<d2>\d{1,2}))\s*"
    r"(?P<H>\d{1,2}):(?P<M>\d{2})(?![\d:])"
)
# What comes just before a publication date, and what before a date that is something else
# ("建立于", "截至", "自…起", "于…在上海逝世").
DATE_LABEL = re.compile(
    rf"(?:{alternation('date_labels')})(?:时间|時間|日期|于|於)?\s*[：:]?\s*$", re.IGNORECASE
)
OTHER_DATE = re.compile(
    rf"(?:(?:{alternation('other_date_labels')})(?:日期|时间|時間|于|於)?|至|到|自|于|從|从|在)"
    r"\s*[：:]?\s*$"
)
# A reprint that names only its magazine issue: ——《北京之春》1998年3月号.
ISSUE_MONTH = re.compile(r"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月(?:号|號|刊)")
# A dated article path: /2024/0424/, t20240619_, /2005-03-21/, /2005/07/31/. htmldate's URL
# reader (extract_url_date) wants separators: it reads 11 of the 69 gold pages' URLs (10
# right), this one 20 (19 right).
URL_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<sep>[-/_]?)(?P<m>0[1-9]|1[0-2])(?:(?P=sep)|/)?"
    r"(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
)
CHINESE_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}
SECONDS = {"秒": 1, "分钟": 60, "分鐘": 60, "小时": 3600, "小時": 3600}
DAYS_BACK = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}
# htmldate's header and JSON-LD readers (examine_header, json_search) get the same 15 of the 17
# gold pages whose meta tags date them as this list does, but know none of the Chinese
# platforms' names (weibo:article:create_at, bytedance:published_time, publishtime, …) and
# drop the UTC offset of "…T00:03:00Z".
META_PUBLISHED = (
    "article:published_time",
    "og:article:published_time",
    "og:release_date",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish_date",
    "publishtime",
    "published_time",
    "firstpublishedtime",
    "weibo:article:create_at",
    "bytedance:published_time",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "citation_publication_date",
    "citation_date",
    "date",
    "date.available",
    "datecreated",
)
META_MODIFIED = ("article:modified_time", "datemodified", "dateupdate", "og:updated_time")


@dataclass(frozen=True)
class Stamp:
    """A publication time, and whether the page gave the time of day."""

    moment: datetime
    timed: bool

    def __str__(self) -> str:
        return f"{self.moment:%Y-%m-%d %H:%M}" if self.timed else f"{self.moment:%Y-%m-%d}"


@dataclass(frozen=True)
class Found:
    """A date in the page text and what surrounds it."""

    stamp: Stamp
    start: int
    end: int
    labelled: bool  # 发布时间：…
    short_line: bool  # on a short line of its own, as in an info line

    @property
    def strong(self) -> bool:
        """Looks like an info line's date rather than one in a sentence."""
        return self.labelled or self.stamp.timed or self.short_line


def beijing(moment: datetime) -> datetime:
    """``moment`` as naive Beijing time (naive input is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).replace(tzinfo=None)


def published(
    page: Page, url: str, anchor: int | None, fetched: datetime | None, latest: datetime
) -> tuple[Stamp | None, Found | None]:
    """The publication time, and the date in the text it was read from (if it was).

    In order: the first dateline-like date after the headline, the meta tags and JSON-LD, one
    just above the headline, the URL's date, the first labelled date, the modified time, and
    the first timed or lone date."""
    meta = meta_date(page, META_PUBLISHED, latest)
    if anchor is not None:
        after = [f for f in _dates(page.text, fetched, latest, anchor, anchor + 600) if f.strong]
        if after:
            return _with_time(after[0].stamp, meta), after[0]
    found = _dates(page.text, fetched, latest)
    if meta:
        day = meta.moment.date()
        timed = (f.stamp for f in found if f.stamp.timed and f.stamp.moment.date() == day)
        return _with_time(meta, next(timed, None)), None
    if anchor is not None:
        before = [f for f in found if anchor - 300 <= f.start < anchor and f.strong]
        if before:
            return before[-1].stamp, before[-1]
    from_url = url_date(url, latest)
    if from_url:
        same_day = [f for f in found if f.stamp.moment.date() == from_url.moment.date()]
        return (same_day[0].stamp, same_day[0]) if same_day else (from_url, None)
    labelled = [f for f in found if f.labelled]
    if labelled:
        return labelled[0].stamp, labelled[0]
    # Modified is an upper bound, and usually the day itself: closer than a stray date.
    modified = meta_date(page, META_MODIFIED, latest)
    if modified:
        return modified, None
    for chosen in ([f for f in found if f.stamp.timed], [f for f in found if f.short_line]):
        if chosen:
            return chosen[0].stamp, chosen[0]
    return None, None


def issue_month(text: str) -> str | None:
    """ "YYYY-MM" of a magazine issue, for a reprint that gives no finer date."""
    issue = ISSUE_MONTH.search(text)
    return f"{issue['y']}-{int(issue['m']):02d}" if issue else None


def _with_time(stamp: Stamp, other: Stamp | None) -> Stamp:
    """``stamp``, or ``other`` when it names the same day and also the time."""
    if stamp.timed or not other or not other.timed:
        return stamp
    return other if other.moment.date() == stamp.moment.date() else stamp


def _dates(
    text: str, fetched: datetime | None, latest: datetime, start: int = 0, end: int | None = None
) -> list[Found]:
    """The possible dates that begin in ``text[start:end]``: absolute ones and, given a fetch
    time, relative ones, in order."""
    stop = len(text) if end is None else min(len(text), end + 40)  # room for "日 08:03:57"
    found: list[Found] = []
    for match in DATE.finditer(text, start, stop):
        stamp, until = _absolute(match, text)
        if stamp:
            found.append(_context(text, stamp, match.start(), until))
    if fetched:
        for match in RELATIVE.finditer(text, start, stop):
            stamp = _relative(match, fetched)
            item = _context(text, stamp, match.start(), match.end())
            if item.short_line or stamp.timed:  # a bare 昨天 in a sentence is no dateline
                found.append(item)
        for match in NO_YEAR.finditer(text, start, stop):
            if guessed := _without_year(match, fetched):
                found.append(_context(text, guessed, match.start(), match.end()))
        found.sort(key=lambda f: f.start)
    limit = stop if end is None else end
    return [f for f in found if f.start <= limit and EARLIEST <= f.stamp.moment <= latest]


def _context(text: str, stamp: Stamp, start: int, end: int) -> Found:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    # A label may sit in the table cell before the date ("成文日期：</td><td>2022年01月27日").
    before = SPACE_RUN.sub("", text[max(0, start - 40) : start])[-12:]
    other = OTHER_DATE.search(before)
    if other and not DATE_LABEL.search(before[: other.start()] + "于"):  # 发表于 is a label
        return Found(stamp, start, end, labelled=False, short_line=False)
    short = len(line.strip()) <= 40
    return Found(stamp, start, end, bool(DATE_LABEL.search(before)), short)


def _absolute(match: re.Match[str], text: str) -> tuple[Stamp | None, int]:
    """The date ``match`` found, with the time that follows it in ``text``, and where it ends."""
    if match["y"]:
        year, month, day = match["y"], match["m"] or match["m2"], match["d"] or match["d2"]
    elif match["uy"]:
        year, month, day = match["uy"], match["um"], match["ud"]
        if int(month) > 12:  # 17/9/2004: the day came first after all
            month, day = day, month
    else:
        year = "".join(str(CHINESE_DIGITS[ch]) for ch in match["cy"])
        month, day = str(_chinese_number(match["cm"])), str(_chinese_number(match["cd"]))
    try:
        moment = datetime(int(year), int(month), int(day))
    except ValueError:
        return None, match.end()
    time = TIME.match(text, match.end())
    if time and (timed := _at_time(moment, time)):
        return timed, time.end()
    return Stamp(moment, False), match.end()


def _chinese_number(text: str) -> int:
    """一 … 三十一 as an int."""
    if "十" not in text:
        return CHINESE_DIGITS.get(text, 0)
    tens, _, units = text.partition("十")
    return CHINESE_DIGITS.get(tens, 1) * 10 + CHINESE_DIGITS.get(units, 0)


def _at_time(day: datetime, time: re.Match[str]) -> Stamp | None:
    hour, minute = int(time["H"]), int(time["M"])
    ampm = (time["ampm"] or "").lower()
    if (time["half"] in ("下午", "晚上", "傍晚") or ampm.startswith("p")) and hour < 12:
        hour += 12
    elif ampm.startswith("a") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    moment = day.replace(hour=hour, minute=minute)
    digits = "0000" if time["tz"] == "Z" else (time["tz"] or "").replace(":", "")[1:]
    if digits and int(digits[:2]) < 24 and int(digits[2:]) < 60:
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        zone = timezone(-offset if time["tz"].startswith("-") else offset)
        moment = beijing(moment.replace(tzinfo=zone))
    return Stamp(moment, True)


def _relative(match: re.Match[str], fetched: datetime) -> Stamp:
    if match["now"]:
        return Stamp(fetched, True)
    if match["n"]:
        count, unit = int(match["n"]), match["unit"]
        if unit == "天":
            return Stamp(fetched - timedelta(days=count), False)
        return Stamp(fetched - timedelta(seconds=count * SECONDS[unit]), True)
    day = (fetched - timedelta(days=DAYS_BACK[match["day"]])).replace(hour=0, minute=0)
    if match["H"] and int(match["H"]) < 24 and int(match["M"]) < 60:
        return Stamp(day.replace(hour=int(match["H"]), minute=int(match["M"])), True)
    return Stamp(day, False)


def _without_year(match: re.Match[str], fetched: datetime) -> Stamp | None:
    """A month, day and time in the year that makes it the latest moment up to the fetch."""
    month, day = int(match["m"]), int(match["d"] or match["d2"])
    for year in (fetched.year, fetched.year - 1):
        try:
            moment = datetime(year, month, day, int(match["H"]), int(match["M"]))
        except ValueError:
            return None
        if moment <= fetched + timedelta(days=1):
            return Stamp(moment, True)
    return None


def meta_date(page: Page, names: tuple[str, ...], latest: datetime) -> Stamp | None:
    """The first plausible date in the meta tags ``names`` (and JSON-LD, for published)."""
    values = [page.metas[name] for name in names if page.metas.get(name)]
    if names is META_PUBLISHED:
        values += [v for k, v in page.json_fields() if k in ("datePublished", "dateCreated")]
    for value in values:
        match = DATE.search(value)
        stamp = _absolute(match, value)[0] if match else None
        if stamp and EARLIEST <= stamp.moment <= latest:
            # Midnight sharp is a CMS filling in a day without a time.
            midnight = stamp.moment.hour == stamp.moment.minute == 0
            return Stamp(stamp.moment, False) if midnight else stamp
    return None


def url_date(url: str, latest: datetime) -> Stamp | None:
    """The day in a dated article path: /2024/0424/, t20240619_, /2005-03-21/ (not /202406/)."""
    path = unquote(url.partition("?")[0].partition("://")[2].partition("/")[2])
    for match in URL_DATE.finditer("/" + path):
        try:
            moment = datetime(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            continue
        if EARLIEST <= moment <= latest:
            return Stamp(moment, False)
    return None
