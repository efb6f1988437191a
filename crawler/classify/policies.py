"""Policy documents named in an article (《…》), and the events of their release. Pure.

A 《…》 title is a policy when it ends like one (方案, 措施, 意见, 规划, 条例, 办法, 通知 …);
reports (报告, 白皮书, 蓝皮书, 观察) and publications (日报, 杂志, 周刊) are not, whatever they
discuss. The same document is one policy however many articles name it, so titles are
normalised: Simplified, full-width brackets, one kind of dash between years, no issuer before
关于, and a cover letter (关于印发《X》的通知) is the X it sends.

A page may also be a document itself (TAXONOMY.md §3): its headline is a policy's name and it
carries a document's marks (a 发文字号, a portal's information table, an issuer and date
signing it off); or it explains one (政策解读, 图解, 答记者问).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from crawler.clean.script import to_simplified
from crawler.extract.meta.portal import doc_number
from crawler.text import FULL_STOPS, HAN, Marks

TITLE = re.compile(r"[《〈]([^《》〈〉\n]{2,80})[》〉]")
# A parenthesised year or year range closing a title: （2023—2024年）, (2021-2025), （试行）.
TRAILER = re.compile(r"[（(][^（）()]{1,20}[)）]$")
POLICY_END = re.compile(
    r"(?:方案|措施|意见|规划|条例|办法|通知|计划|要点|细则|政策|决定|纲要|指南|指引|规定|法|规则"
    r"|实施意见|行动计划|若干措施|导则|制度|意见稿|批复|公告|通告|目录|清单)$"
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
# 为落实国务院印发的…: the issuer is who the clause's purpose names.
PURPOSE = re.compile(r"^.*(?:贯彻落实|落实|贯彻|根据|按照|依据|依照)")
LEADING_TIME = re.compile(r"^[，,、\s]*(?:近日|日前|今年以来|目前|此前|早在|去年|今年)?[，,、\s]*")
ADVERBS = re.compile(r"(?:正式|近日|日前|已经|已|率先|也|还|先后|同步|共同|就|又|再次|首次|相继)+$")
NATIONAL_ISSUERS = re.compile(
    r"国务院|中共中央|全国人大|工业和信息化部|工信部|国家发展改革委|国家发改委|发改委|科技部|科学技术部"
    r"|国家数据局|国家网信办|网信办|财政部|教育部|商务部|人力资源社会保障部|国家标准委"
)
# A document's kind is the word its name ends with, before any bracketed status or years.
KINDS = (
    "条例", "办法", "规定", "意见", "方案", "计划", "规划", "措施", "细则", "通知", "指南", "清单"
    , "要点", "决定", "纲要", "指引", "规则", "政策", "导则", "制度", "批复", "公告", "通告"
    , "目录", "法",
)  # fmt: skip
KIND = re.compile(f"(?:{'|'.join(KINDS)})$")
# The statuses a document's name carries in brackets (or its 暂行 before the kind); a portal's
# 有效性 of 失效 or 废止 retires it.
STATUSES = (
    ("征求意见稿", re.compile(r"征求意见|意见稿|送审稿|草案")),
    ("试行", re.compile(r"试行|暂行")),
    ("修订", re.compile(r"修订")),
)
RETIRED = re.compile(r"失效|废止|作废")
DRAFT_STATUS = re.compile(r"（(?:[^（）]*?)(?:征求意见稿|送审稿|草案)）")
# 国务院关于…, 中共中央 国务院关于…, 深圳市人民政府办公厅关于…: the issuer before 关于, known by
# how the names of government bodies end.
ISSUER_BEFORE = re.compile(
    r"^(?P<issuer>[^，。、：“”《》〈〉的]{2,40}?"
    r"(?:人民政府|政府|办公厅|办公室|委员会|国务院|中共中央|党委|市委|省委|区委|常委会|管委会"
    r"|领导小组|[部厅局委院署办]))(?=关于.)"
)
# A cover letter sends the document it names: (…关于)印发《X》的通知, 转发X的通知.
COVER = re.compile(
    r"^(?:.{0,40}?关于)?(?:联合)?(?:印发|转发|发布|颁布|公布|修订印发|重新印发)(?:修订后的)?"
    r"(?P<x>.{4,}?)的(?:通知|公告|通告|决定)$"
)
# A call for comments on a draft: 关于公开征求《X（征求意见稿）》意见的公告.
DRAFT_CALL = re.compile(
    r"^(?:.{0,40}?关于)?(?:就|对)?(?:公开)?征求(?P<x>.{4,}?)(?:修改)?意见(?:和建议|建议)?的"
    r"(?:通知|公告|通告|函)$"
    r"|^(?:.{0,40}?关于)?(?:就|对)?(?P<y>〈.{4,}?〉(?:（[^（）]*）)?)(?:向社会)?(?:公开)?征求(?:社会)?意见"
    r"(?:的(?:通知|公告|通告|函))?$"
)
# A page that explains a document: 《X》政策解读, 一图读懂《X》, 关于《X》的解读, X答记者问.
EXPLAINS = re.compile(
    r"^(?:图解|一图读懂|一图看懂|一图了解|解读|政策解读)[：:|丨｜\s]*(?P<a>.{4,})$"
    r"|^(?:关于)?(?P<b>.{4,}?)(?:的)?(?:政策|文件)?(?:解读|图解|答记者问|问答)(?:材料)?$"
)
# A headline that reports a release is news about the document, not the document (关于发布…的
# 通知 is the notice's own name).
REPORTED = re.compile(r"(?<!关于)(?:印发|发布|出台|公布|颁布|推出|出炉)")
# A document's marks are in its head or its tail: the 发文字号 under the headline, the issuer
# and the date that sign it off (or the issuer alone, last but for notes such as （此件公开发布）,
# where the date line was cleaned away as a dateline).
MARK_CHARS = 300
SIGNATURE = re.compile(
    rf"(?:^|\n)[^\S\n]*(?P<issuer>[{HAN}]{{2,20}}(?:人民政府|政府|办公厅|办公室|委员会|[部厅局委院署办]))"
    r"[^\S\n]*(?:\n\s*(?P<date>(?:19|20)\d\d\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)"
    r"|(?:\s*[（(][^（）()\n]{2,40}[)）])*\s*$)"
)
# A name in a report without 《》: 印发深圳市加快打造…若干措施, that begins with a place or 关于.
BARE_NAME = re.compile(
    r"(?P<verb>印发|发布|出台|公布|颁布|制定|推出)了?"
    rf"(?P<x>(?:关于)?[{HAN}A-Za-z0-9“”\-—（）]{{6,60}}?(?:{'|'.join(KINDS)})(?:（[^（）]{{1,12}}）)?)"
    r"(?=[，。；、：\s]|$)"
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
    issuer: str | None = None  # the body that issued it, where the article says
    doc_number: str | None = None  # 发文字号, as 深府办〔2024〕3号
    kind: str | None = None  # the word its name ends with: 条例, 办法, 意见, 方案 …
    status: str = "正式"  # 征求意见稿, 试行, 正式, 修订, 废止
    role: str = "names"  # how the article relates to it: names, text (it is it), explains


@dataclass(frozen=True)
class DocumentInfo:
    """What a portal's information table says of the document on its page."""

    issuer: str | None = None
    doc_number: str | None = None
    written: str | None = None  # 成文日期, YYYY-MM-DD
    validity: str | None = None


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
    """One spelling per document: Simplified, no spaces, （）, — between years, no issuer
    before 关于, and the document a cover letter sends rather than the letter."""
    return split_issuer(title)[1]


def split_issuer(title: str) -> tuple[str | None, str]:
    """The issuer a title names before 关于 (or None), and the normalised title."""
    text = to_simplified(re.sub(r"\s+", "", title))
    text = text.replace("(", "（").replace(")", "）").replace("《", "〈").replace("》", "〉")
    text = YEAR_RANGE.sub(r"\1—\2", text)
    issuer = None
    for _ in range(3):  # 转发省政府关于印发〈X〉的通知: a letter may send a letter
        if before := ISSUER_BEFORE.match(text):
            issuer = issuer or before["issuer"]
            text = text[before.end() :]
        sent = COVER.match(text)
        call = None if sent else DRAFT_CALL.match(text)
        if sent and kind_of(_unbracket(sent["x"])) == "policy" and "〉和〈" not in text:
            text = _unbracket(sent["x"])
        elif call:
            text = _unbracket(call["x"] or call["y"])
            if not DRAFT_STATUS.search(text):
                text += "（征求意见稿）"
        else:
            break
    return issuer, text


def _unbracket(name: str) -> str:
    """A name sent whole in 〈〉 without them (〈X〉 → X, 〈X〉（试行） → X（试行））."""
    name = name.removesuffix("的")
    if name.startswith("〈") and name.count("〈") == 1 and "〉" in name:
        inner, _, rest = name[1:].partition("〉")
        return inner + rest
    return name


def document_kind(title: str) -> str | None:
    """The kind of document a normalised policy title names: 方案, 意见, 办法 …"""
    core = title
    while trailer := TRAILER.search(core):
        core = core[: trailer.start()]
    found = KIND.search(core)
    return found.group() if found else None


def status_of(title: str, validity: str | None = None) -> str:
    """征求意见稿, 试行, 修订 as the title's brackets say (试行 too for a 暂行 document), 废止 as
    the portal's 有效性 says, else 正式."""
    if validity and RETIRED.search(validity):
        return "废止"
    brackets = "".join(re.findall(r"（([^（）]{1,20})）", title))
    for status, pattern in STATUSES:
        if pattern.search(brackets):
            return status
    return "试行" if "暂行" in title else "正式"


def draft_title(title: str) -> str:
    """The title without its draft status: what a final version of a draft is called."""
    return DRAFT_STATUS.sub("", title)


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
        named, title = split_issuer(match.group(1))
        # A title named again after its release adds nothing (a long page names one thousands
        # of times).
        if title in events or kind_of(title) != "policy":
            continue
        before = _between_titles(_clause_before(text, match.start()))
        region = _issuing_region(match.group(1), before, places_in)
        date = _date(before, year)
        release = RELEASE.search(before)
        issuer = named or (_issuer(before[: release.start()]) if release else None)
        if title not in mentions:
            context = _sentence(text, clauses, match)
            mentions[title] = _mention(title, region, date, context, issuer)
        if release:
            events[title] = Event(date, issuer or region or "未知", release.group(1), title)
    for match in BARE_NAME.finditer(text):
        # Only a name that begins with its issuer's place or with 关于 reads as a document's.
        # 印发X的通知 sends X, as a cover letter's name does.
        sent = COVER.match(match["verb"] + match["x"])
        named, title = split_issuer(sent["x"] if sent else match["x"])
        if title in mentions or kind_of(title) != "policy":
            continue
        if not (title.startswith("关于") or places_in(title[:6])):
            continue
        before = _clause_before(text, match.start())
        region = _issuing_region(match["x"], before, places_in)
        date, issuer = _date(before, year), named or _issuer(before)
        context = _sentence(text, clauses, match)
        mentions[title] = _mention(title, region, date, context, issuer)
        events[title] = Event(date, issuer or region or "未知", match["verb"], title)
    return tuple(mentions.values()), tuple(events.values())


def page_policies(
    title: str | None,
    text: str,
    places_in: Callable[[str], tuple[str, ...]],
    published: str | None = None,
    document: DocumentInfo | None = None,
) -> tuple[PolicyMention, ...]:
    """The policy the page is (role ``text``) or explains (role ``explains``), by its headline
    ``title``, the document's marks in ``text`` and the portal's ``document`` info."""
    if not title:
        return ()
    headline = to_simplified(re.sub(r"\s+", "", title))
    context = headline
    if explained := EXPLAINS.match(headline):
        named = [m.group(1) for m in TITLE.finditer(headline)] or [explained["a"] or explained["b"]]
        found = []
        for name in named:
            issuer, policy = split_issuer(name)
            if kind_of(policy) == "policy":
                region = _issuing_region(name, "", places_in)
                found.append(_mention(policy, region, None, context, issuer, role="explains"))
        return tuple(found)
    issuer_named, policy = split_issuer(headline)
    if kind_of(policy) != "policy":
        return ()
    document = document or DocumentInfo()
    if not (document.issuer or document.doc_number) and REPORTED.search(policy):
        return ()
    head, tail = text[:MARK_CHARS], text[-MARK_CHARS:]
    number = document.doc_number or doc_number(head) or doc_number(tail)
    signed = _signature(tail)
    if not (number or document.issuer or signed):
        return ()  # a headline that names a document, on a page that is not the document
    issuer = document.issuer or issuer_named or (signed["issuer"] if signed else None)
    date = document.written or (_day(signed["date"]) if signed and signed["date"] else None)
    date = date or published
    # The issuer's place decides (a ministry's 批复 to 上海 is national), else the name's.
    region = _issuing_region(issuer, "", places_in) if issuer else None
    region = region or _issuing_region(headline, "", places_in)
    return (
        _mention(
            policy,
            region,
            date[:10] if date else None,
            context,
            issuer,
            doc_number=doc_number(number) or number if number else None,
            status=status_of(policy, document.validity),
            role="text",
        ),
    )


def _mention(
    title: str,
    region: str | None,
    date: str | None,
    context: str,
    issuer: str | None,
    doc_number: str | None = None,
    status: str | None = None,
    role: str = "names",
) -> PolicyMention:
    return PolicyMention(
        title,
        region,
        date,
        context,
        issuer=issuer,
        doc_number=doc_number,
        kind=document_kind(title),
        status=status or status_of(title),
        role=role,
    )


def _signature(tail: str) -> re.Match[str] | None:
    """The last issuer-and-date lines of a document's tail, if it is signed off so."""
    return next(reversed(list(SIGNATURE.finditer(tail))), None)


def _day(date: str) -> str:
    y, m, d = re.findall(r"\d+", date)
    return f"{y}-{int(m):02d}-{int(d):02d}"


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
    if NATIONAL_ISSUERS.search(before) or NATIONAL_ISSUERS.match(title):
        return "全国"
    return "全国" if title.startswith(("国家", "全国")) else None


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


def _issuer(subject: str) -> str | None:
    """The body that released the document: the clause's subject, if it reads as one."""
    subject = DATE.sub("", subject)
    subject = LEADING_TIME.sub("", PURPOSE.sub("", subject))
    subject = ADVERBS.sub("", subject.strip("，,、 ")).strip("，,、 ")
    return subject if 2 <= len(subject) <= 24 else None


def _sentence(text: str, clauses: Marks, match: re.Match[str]) -> str:
    """The clause naming the title, with the mark that ends it."""
    return text[clauses.start_of(match.start()) : clauses.end_of(match.end()) + 1].strip()
