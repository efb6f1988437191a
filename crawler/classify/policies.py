"""Policy documents named in an article (《…》), and the events of their release. Pure.

A 《…》 title is a policy when it ends like one (方案, 措施, 意见, 规划, 条例, 办法, 通知 …);
reports (报告, 白皮书, 蓝皮书, 观察) and publications (日报, 杂志, 周刊) are not, whatever they
discuss. The same document is one policy however many articles name it, so titles are
normalised: Simplified, full-width brackets, one kind of dash between years.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from crawler.clean.script import to_simplified
from crawler.text import FULL_STOPS, Marks

TITLE = re.compile(r"《([^《》\n]{2,80})》")
# A parenthesised year or year range closing a title: （2023—2024年）, (2021-2025), （试行）.
TRAILER = re.compile(r"[（(][^（）()]{1,20}[)）]$")
POLICY_END = re.compile(
    r"(?:方案|措施|意见|规划|条例|办法|通知|计划|要点|细则|政策|决定|纲要|指南|指引|规定|法|规则"
    r"|实施意见|行动计划|若干措施|导则|制度|意见稿|批复|公告|通告|目录)$"
)
REPORT = re.compile(r"报告|白皮书|蓝皮书|绿皮书|观察|指数|年鉴|调查|研究|评估|分析|榜单|排行")
PUBLICATION = re.compile(r"(?:日报|晚报|时报|商报|导报|周刊|月刊|杂志|报|刊|网|新闻|评论)$")
YEAR_RANGE = re.compile(r"(\d{4})\s*[-－–~～至]\s*(\d{4})")
# The date a clause gives for what it reports: 2018年, 5月31日, 2023年6月.
DATE = re.compile(
    r"(?:(?P<y>(?:19|20)\d\d)年)?(?:(?P<m>1[0-2]|0?[1-9])月)?(?:(?P<d>[12]\d|3[01]|0?[1-9])日)?"
)
CLAUSE_START = re.compile(f"[{FULL_STOPS}；\n]")
RELEASE = re.compile(
    r"((?:印发|发布|出台|公布|颁布|制定|推出|审议通过|通过|发出|出炉|实施|施行|修订|联合)+)(?:了)?的?\s*$"
)
LEADING_TIME = re.compile(r"^[，,、\s]*(?:近日|日前|今年以来|目前|此前|早在|去年|今年)?[，,、\s]*")
ADVERBS = re.compile(r"(?:正式|近日|日前|已经|已|率先|也|还|先后|同步|共同|就|又|再次|首次|相继)+$")
NATIONAL_ISSUERS = re.compile(
    r"国务院|中共中央|全国人大|工业和信息化部|工信部|国家发展改革委|国家发改委|发改委|科技部|科学技术部"
    r"|国家数据局|国家网信办|网信办|财政部|教育部|商务部|人力资源社会保障部|国家标准委"
)
# A policy's name says whose and what before its kind: 试验区建设工作|要点.
MIN_NAME_CHARS = 4
# How far before a title its issuer, verb and date are looked for.
CONTEXT_CHARS = 60


@dataclass(frozen=True)
class PolicyMention:
    """A policy document as one article names it."""

    title: str  # normalised: the key that makes it one policy across articles
    region: str | None  # the region that issued it; 全国 for national bodies
    date: str | None  # YYYY-MM-DD, YYYY-MM, YYYY or MM-DD (no year known)
    context: str  # the sentence naming it


@dataclass(frozen=True)
class Event:
    """Who released which document when: the offline form of a 重大事件摘要."""

    date: str | None
    issuer: str
    action: str
    policy: str


def kind_of(title: str) -> str:
    """policy, report, publication or other, for a 《…》 title."""
    core = TRAILER.sub("", title).strip()
    if REPORT.search(core):
        return "report"
    if ending := POLICY_END.search(core):
        # 《实施方案》, 《若干措施》: a back-reference to a document named before, not a name.
        return "policy" if ending.start() >= MIN_NAME_CHARS else "other"
    if PUBLICATION.search(core):
        return "publication"
    return "other"


def normalise_title(title: str) -> str:
    """One spelling per document: Simplified, no spaces, （）, and — between years."""
    text = to_simplified(re.sub(r"\s+", "", title))
    text = text.replace("(", "（").replace(")", "）")
    return YEAR_RANGE.sub(r"\1—\2", text)


def find_policies(
    text: str,
    places_in: Callable[[str], tuple[str, ...]],
    year: int | None = None,
) -> tuple[tuple[PolicyMention, ...], tuple[Event, ...]]:
    """The policy documents ``text`` names, and the release events it reports.

    ``places_in`` names the places in a short text (the region tagger's); ``year`` is the
    article's, to complete dates such as 5月31日."""
    mentions: dict[str, PolicyMention] = {}
    events: dict[str, Event] = {}  # by policy: the first release reported
    clauses = Marks(text, CLAUSE_START)
    for match in TITLE.finditer(text):
        title = normalise_title(match.group(1))
        # A title named again after its release adds nothing (a long page names one thousands
        # of times).
        if title in events or kind_of(title) != "policy":
            continue
        before = _between_titles(_clause_before(text, match.start()))
        region = _issuing_region(title, before, places_in)
        date = _date(before, year)
        if title not in mentions:
            mentions[title] = PolicyMention(title, region, date, _sentence(text, clauses, match))
        release = RELEASE.search(before)
        if release:
            issuer = _issuer(before[: release.start()], region)
            events[title] = Event(date, issuer, release.group(1), title)
    return tuple(mentions.values()), tuple(events.values())


def _clause_before(text: str, start: int) -> str:
    window = text[max(0, start - CONTEXT_CHARS) : start]
    cut = max((m.end() for m in CLAUSE_START.finditer(window)), default=0)
    return window[cut:]


def _between_titles(before: str) -> str:
    # 《A》《B》 and 《A》、《B》: the verb before the first title releases all of them.
    return re.sub(r"《[^》]*》[、和及与]?", "", before)


def _issuing_region(
    title: str, before: str, places_in: Callable[[str], tuple[str, ...]]
) -> str | None:
    named = places_in(title)
    if named:
        return named[0]
    nearby = places_in(before)
    if nearby:
        return nearby[-1]
    if NATIONAL_ISSUERS.search(before) or title.startswith(("国家", "全国")):
        return "全国"
    return None


def _date(before: str, year: int | None) -> str | None:
    found = [m for m in DATE.finditer(before) if m.group(0) and (m["m"] or m["y"])]
    if not found:
        return None
    last = found[-1]
    y = last["y"] or (str(year) if year and last["m"] else None)
    parts = [y] if y else []
    if last["m"]:
        parts.append(f"{int(last['m']):02d}")
        if last["d"]:
            parts.append(f"{int(last['d']):02d}")
    return "-".join(parts) if y or len(parts) == 2 else None


def _issuer(subject: str, region: str | None) -> str:
    """The body that released the document: the clause's subject, else its region."""
    subject = DATE.sub("", subject)
    subject = LEADING_TIME.sub("", subject)
    subject = ADVERBS.sub("", subject.strip("，,、 ")).strip("，,、 ")
    if 2 <= len(subject) <= 24:
        return subject
    return region or "未知"


def _sentence(text: str, clauses: Marks, match: re.Match[str]) -> str:
    """The clause naming the title, with the mark that ends it."""
    return text[clauses.start_of(match.start()) : clauses.end_of(match.end()) + 1].strip()
