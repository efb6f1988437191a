"""Metadata of Chinese news pages: title, publication time, author, outlet. Pure functions.

One walk over the tree collects the ``<title>``, the meta tags, JSON-LD, the ``<h1>`` headings
and the visible text (a line per block); each field is then read from that, anchored at the
headline: the info line under it holds the date, the outlet and the byline, while dates further
away belong to related-article lists, comments and footers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import accumulate
from urllib.parse import unquote

from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import extract_title

from crawler.clean.script import remove_pinyin_tags

# Chinese pages print Beijing time; relative times ("3小时前") count back from the fetch in it.
BEIJING = timezone(timedelta(hours=8))
EARLIEST = datetime(1995, 1, 1)  # before any Chinese news site

# Elements whose text a reader never sees (or sees as a widget, like a year <select>), and
# <meta> and <title>, read on their own.
OWN_TEXT = frozenset(
    {"meta", "title", "script", "style", "noscript", "template", "select", "textarea"}
)
# Elements that start a new line on screen; an info line never runs across them.
BLOCKS = frozenset(
    ("address", "article", "aside", "blockquote", "br", "center", "dd", "div", "dl", "dt")
    + ("fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6")
    + ("header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td")
    + ("th", "thead", "tr", "ul")
)
# Line breaks in the source are spaces on screen: only block boundaries (marked BREAK while
# the text is gathered) end a line of text.
BREAK = "\x1e"
ONE_LINE = str.maketrans({"\r": " ", "\n": " ", BREAK: "\n"})
SPACES = re.compile(r"[\s\u3000\xa0]+")
# A toned pinyin syllable in brackets right after a character: 監(jiān), 濟(jì).
# Zero-width and control characters, which some pages leave in their titles.
INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x1f\x7f]")

# <title> separators between headline, channel and site. A single hyphen only where it touches
# a Chinese character ("宣传-搜狐财经"), so "Wi-Fi" and "1-2月" stay whole; a single em dash and
# "——" belong to Chinese headlines, and "丨" joins a column label to its headline.
TITLE_SEPARATORS = re.compile(
    r"\s*(?:_+|\||｜|::|»|>|┊|--+|\s[-–—·]\s)\s*"
    r"|(?<=[^\x00-\x7f])\s*-\s*|\s*-\s*(?=[^\x00-\x7f])"
)
# How <title> segments that name a site or channel end.
SITE_NAME = re.compile(
    r"(?:网|網|频道|頻道|新闻|新聞|中心|门户|門戶|网站|網站|官网|首页|首頁|论坛|論壇|社区|社區|博客"
    r"|日报|日報|晚报|晚報|报|報|百科|在线|在線|\.(?:com|cn|net|org)(?:\.\w+)?|powered by.*)$",
    re.IGNORECASE,
)
TRUNCATED = re.compile(r"(?:\.{2,}|…+)$")

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
# Times relative to the fetch, as feeds and portals print them.
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
    r"(?:发布|發布|发表|發表|发稿|發稿|更新|时间|時間|日期|发文|成文|公布|印发|刊登|Posted|Published|Date)"
    r"(?:时间|時間|日期|于|於)?\s*[：:]?\s*$",
    re.IGNORECASE,
)
OTHER_DATE = re.compile(
    r"(?:(?:引用|访问|訪問|检索|檢索|建立|成立|出生|生于|截至|截止|注册|註冊|加入|有效期|到期)"
    r"(?:日期|时间|時間|于|於)?|至|到|自|于|從|从|在)\s*[：:]?\s*$"
)
# A reprint that names only its magazine issue: ——《北京之春》1998年3月号.
ISSUE_MONTH = re.compile(r"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>1[0-2]|0?[1-9])\s*月(?:号|號|刊)")
# A dated article path: /2024/0424/, t20240619_, /2005-03-21/, /2005/07/31/.
URL_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<sep>[-/_]?)(?P<m>0[1-9]|1[0-2])(?:(?P=sep)|/)?"
    r"(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
)
CHINESE_DIGITS = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"零": 0}
SECONDS = {"秒": 1, "分钟": 60, "分鐘": 60, "小时": 3600, "小時": 3600}
DAYS_BACK = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}

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
META_TITLE = ("og:title", "twitter:title", "title", "headline", "articletitle")
META_AUTHOR = ("author", "article:author", "dc.creator", "byline")
META_OUTLET = ("source", "article:source", "og:article:source")
JSON_FIELD = re.compile(
    r'"(?P<key>datePublished|dateCreated|headline)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"'
)
JSON_AUTHOR = re.compile(r'"author"\s*:\s*[\[{][^\]}]*?"name"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"')

# "来源：经济日报", "來源:北京國際工程咨詢有限公司", "稿源：…". The labels' own checks on the
# character before them are made in code: a leading lookbehind would slow the scan fourfold.
OUTLET_LABEL = re.compile(
    r"(?:来源|來源|稿源|出处|出處|转自|轉自|转载自|轉載自)\s*[：:]\s*(?P<value>[^\n]{1,60})"
)
NOT_OUTLET_LABEL = re.compile(r"[图圖片据據料]")  # 图片来源, 数据来源 credit a picture, a figure
# Where an outlet ends: the next label of the info line, a separator, a date.
OUTLET_END = re.compile(
    r"\s|[|｜/,，;；(（]|作者|编辑|編輯|责编|責編|记者|記者|点击|點擊|阅读|閱讀|浏览|瀏覽|发布|發布"
    r"|时间|時間|日期|字号|字號|分享|打印|(?:评论|評論)\s*[(（\d:：]|\d{4}[-年/.]"
)
BRACKETS = "[]【】《》「」『』()（）〔〕<>\"'“”‘’ .。:："
# A bare outlet after the date on the info line ("2021年2月23日 08:03  第一財經"), known by the
# words the names of papers, agencies, stations and sites end with.
OUTLET_NAME = re.compile(
    r"^(?:《[^》]{2,20}》|[\w·]{1,18}?(?:报|報|网|網|社|台|刊|志|誌|新闻|新聞|财经|財經|在线|在線"
    r"|客户端|客戶端|频道|頻道))(?=$|\s)"
)
NOT_OUTLET = re.compile(
    r"[=<>\"]|https?:|www\.|\.(?:com|cn|net|org)\b|^(?:网络|網絡|互联网|本站|本网|未知)$"
    r"|原创|原創|转载|轉載"
)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LETTER = re.compile(r"[^\W\d_]")

# "作者：陈晓", "撰文/张三", "文｜李四" (a bare 文 only with a separator: names start with 文 too).
AUTHOR_LABEL = re.compile(
    r"(?P<label>作者|撰文|撰稿|采写|採寫|文)\s*[：:/／|｜]\s*(?P<value>[^\n]{1,60})"
)
# "记者 陈晓", "本报记者：张三", "（记者张三、李四）", "〔記者巫其倫／台北報導〕": the role, then
# names after a space, a colon or inside brackets; "记者从…获悉" in a story has none of these.
REPORTER = re.compile(
    r"[(（〔【\[]\s*[\u4e00-\u9fff]{0,6}(?:记者|記者)\s*"
    r"(?P<bracketed>[^()（）〔〕【】\[\]\n]{2,40})[)）〕】\]]"
    r"|(?:记者|記者)(?:[ \t\u3000\xa0]*[：:][ \t\u3000\xa0]*|[ \t\u3000\xa0]+)"
    r"(?P<value>[^\n]{2,60})"
)
# "编辑：张三" (the 责任编辑 who checked the page is no author).
EDITOR_LABEL = re.compile(r"(?:编辑|編輯)\s*[：:]\s*(?P<value>[^\n]{1,40})")
NOT_EDITOR_LABEL = re.compile(r"[任責责]")
# "…共同发展。（李建国）": a name in brackets closing a paragraph is its writer.
TRAILING_NAME = re.compile(
    r"[。”」』][ \t\u3000\xa0]*[(（](?P<name>[\u4e00-\u9fff]{2,4})[)）][ \t\u3000\xa0]*(?=\n|$)"
)
# The role before the names, with whose reporter it is: "记者", "本报记者", "南都见习记者".
ROLES = re.compile(
    r"^(?:[\u4e00-\u9fff]{0,6}?(?:记者|記者|通讯员|通訊員|实习生|實習生)|编辑|編輯|作者|撰文|摄影|攝影)"
    r"\s*[：:]?\s*"
)
# Where a byline's names end: the next label, "／台北報導", "报道", a date or a count.
AUTHOR_END = re.compile(
    r"[/／][\u4e00-\u9fff]{1,6}(?:报道|報導|电|電)|报道|報導|责任|責任|来源|來源|稿源|编辑|編輯"
    r"|责编|責編|时间|時間|日期|发布|發布|点击|點擊|阅读|閱讀|浏览|瀏覽|字号|字號|发自|發自|摄影|攝影"
    r"|\d|[|｜]"
)
NAME = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}|[\u4e00-\u9fff]{1,4}·[\u4e00-\u9fff]{1,6})$")
CHINESE_NAME = re.compile(r"^[\u4e00-\u9fff]+$")
NAME_SEPARATORS = re.compile(r"[\s、,，/／;；]+")
NOT_A_NAME = frozenset(
    ("记者", "記者", "编辑", "編輯", "作者", "通讯员", "通訊員", "实习生", "本报", "本報", "新华社")
    + ("新華社", "报道", "報導", "摄影", "攝影", "整理", "编译", "編譯", "综合", "綜合", "未知")
    + (
        "佚名",
        "匿名",
        "管理员",
        "待续",
        "待續",
        "未完",
        "全文完",
        "本报讯",
        "本報訊",
        "组图",
        "組圖",
    )
    + (
        "附图",
        "资料",
        "資料",
        "视频",
        "視頻",
        "图片",
        "圖片",
        "原创",
        "原創",
        "转载",
        "轉載",
        "整合",
    )
    + ("综述", "綜述", "出品", "网络", "網絡", "责任", "責任")
)
# Common surnames, Simplified and Traditional: a bracketed word closing a paragraph is a
# writer's name only if it starts with one ("（李建国）", not "（视觉中国）" or "（按月）").
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴"
    "莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪"
    "梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简"
    "车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄"
    "丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区"
    "郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍"
    "辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣"
    "信展阴昝智幸奉植衡富尧闭由"
    "來儲劉勞區厲叢吳呂喬單嚴國堯塗婁孫宮寧嶽帥師幹張強應戰時晉楊榮樂樓樸權欒歐況湯溫滿烏畢盤盧竇範簡"
    "紀練繆羅聞聶荊莊華萬葉蓋蔣藍藺蘆蘇蘭衛計許談諶諸謝譚豐費賀賈賓趙車農連遊遲邊鄒鄔鄧鄭鄺銀錢鍾門閆"
    "閉閔闕關闞陰陳陸陽雲鞏韋韓項顏顧餘饒馬馮駱鬱魯鮑鮮麥黃黨齊龍龐龔"
)
COMPOUND_SURNAMES = frozenset(
    ("欧阳", "歐陽", "司马", "司馬", "上官", "诸葛", "諸葛", "东方", "東方", "皇甫", "令狐", "慕容")
    + ("司徒", "夏侯", "长孙", "長孫", "宇文")
)
# A photo or drawing credit: "刘通摄", "李四/图".
CREDIT = re.compile(r"(?:摄|攝|图|圖|绘|繪|制图|製圖)$")
CREDITS = frozenset(("摄", "攝", "图", "圖", "摄影", "攝影", "绘", "繪"))
ORGANISATION = re.compile(
    r"(?:网|網|报|報|社|台|局|委|部|院|中心|公司|集团|集團|频道|頻道|新闻|新聞)$|\."
)


@dataclass(frozen=True)
class PageMeta:
    """Who published a page, when, under which headline."""

    title: str | None = None
    # "YYYY-MM-DD HH:MM", "YYYY-MM-DD" when no time is given, "YYYY-MM" for a magazine issue
    published: str | None = None
    author: str | None = None
    outlet: str | None = None


@dataclass
class _Page:
    """What one walk over the tree collects."""

    title: str = ""
    metas: dict[str, str] = field(default_factory=dict)
    json_ld: list[str] = field(default_factory=list)
    h1: list[tuple[str, int]] = field(default_factory=list)  # text, where it ends in ``text``
    text: str = ""


@dataclass(frozen=True)
class _Stamp:
    """A publication time, and whether the page gave the time of day."""

    moment: datetime
    timed: bool

    def __str__(self) -> str:
        return f"{self.moment:%Y-%m-%d %H:%M}" if self.timed else f"{self.moment:%Y-%m-%d}"


@dataclass(frozen=True)
class _Found:
    """A date in the page text and what surrounds it."""

    stamp: _Stamp
    start: int
    end: int
    labelled: bool  # 发布时间：…
    short_line: bool  # on a short line of its own, as in an info line

    @property
    def strong(self) -> bool:
        """Looks like an info line's date rather than one in a sentence."""
        return self.labelled or self.stamp.timed or self.short_line


def page_metadata(tree: HtmlElement, url: str, fetched_at: datetime | None = None) -> PageMeta:
    """The metadata of the page ``tree`` (not modified); ``fetched_at`` anchors 3小时前/昨天."""
    page = _walk(tree)
    fetched = _beijing(fetched_at) if fetched_at else None
    # A page cannot be published after it was fetched (a saved page: after today).
    latest = (fetched or _beijing(datetime.now(UTC))) + timedelta(days=1)
    title = _title(page, tree)
    anchor = _anchor(page, title)
    stamp, dateline = _published(page, url, anchor, fetched, latest)
    outlet = _outlet(page, anchor, dateline)
    return PageMeta(
        title=title,
        published=str(stamp) if stamp else _issue_month(page.text),
        author=_author(page, title, anchor, outlet),
        outlet=outlet,
    )


def _walk(tree: HtmlElement) -> _Page:
    """The one pass over the tree."""
    page = _Page()
    parts: list[str] = []
    open_elements: list[HtmlElement] = []  # held so that their end events reuse the proxies
    open_h1: list[int] = []  # where in ``parts`` each open <h1> started
    h1_parts: list[tuple[int, int]] = []
    walker = etree.iterwalk(tree, events=("start", "end", "comment", "pi"))
    for event, element in walker:
        if event == "start":
            tag = element.tag
            open_elements.append(element)
            if tag in OWN_TEXT:
                _read_hidden(page, element, parts)
                walker.skip_subtree()
                continue
            if tag == "h1":
                open_h1.append(len(parts))
            if tag in BLOCKS:
                parts.append(BREAK)
            if text := element.text:
                parts.append(text)
            continue
        if event == "end":
            open_elements.pop()
            tag = element.tag
            if tag == "h1" and open_h1:
                h1_parts.append((open_h1.pop(), len(parts)))
            if tag in BLOCKS:
                parts.append(BREAK)
        if tail := element.tail:
            parts.append(tail)
    page.text = "".join(parts).translate(ONE_LINE)
    if h1_parts:
        offsets = [0, *accumulate(map(len, parts))]  # where each part ends in the text
        page.h1 = [(_clean("".join(parts[start:end])), offsets[end]) for start, end in h1_parts]
    return page


def _read_hidden(page: _Page, element: HtmlElement, parts: list[str]) -> None:
    """What <meta>, <title> and scripts tell: the text of none of them is shown as such."""
    tag = element.tag
    if tag == "meta":
        key = element.get("name") or element.get("property") or element.get("itemprop")
        content = element.get("content")
        if key and content:
            page.metas.setdefault(key.strip().lower(), content.strip())
    elif tag == "title" and not page.title:
        page.title = _clean(element.text_content())
    elif tag == "script" and element.get("type", "").lower() == "application/ld+json":
        page.json_ld.append(element.text or "")
    elif tag == "script" and _prints_date(element):
        parts.append(f"{BREAK}{element.text}{BREAK}")


def _prints_date(script: HtmlElement) -> bool:
    """A short inline script such as ``showDate("2020/04/17 01:43")`` that writes a dateline."""
    code = script.text or ""
    return not script.get("src") and len(code) < 200 and bool(DATE.search(code))


def _clean(text: str) -> str:
    return SPACES.sub(" ", INVISIBLE.sub("", text)).strip()


def _keyed(text: str) -> tuple[str, list[int]]:
    """``text`` for comparing titles (full-width folded, lower case, no spaces), and for each
    character of that the index in ``text`` it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for folded in unicodedata.normalize("NFKC", ch).lower():
            if not folded.isspace():
                chars.append(folded)
                origin.append(i)
    return "".join(chars), origin


def _key(text: str) -> str:
    return _keyed(text)[0]


# ---------------------------------------------------------------------------------- title


def _title(page: _Page, tree: HtmlElement) -> str | None:
    """The headline segment of <title> (else of the meta title), chosen with the headings and
    meta titles found in it; without either, the first heading."""
    headings = [text for text, _ in page.h1 if text]
    metas = [_clean(page.metas[k]) for k in META_TITLE if page.metas.get(k)]
    metas += [_json_string(v) for k, v in _json_fields(page) if k == "headline"]
    whole = page.title or next(iter(metas), "")
    if not whole:
        return next(iter(headings), None) or _clean(extract_title(tree) or "") or None
    segments = _segments(whole)
    covered = _covered(whole, segments, [*headings, *metas])
    if not covered:  # trafilatura's pick (class="title" and the like) when the plain ones fail
        covered = _covered(whole, segments, [_clean(extract_title(tree) or "")])

    def weight(span: tuple[int, int]) -> float:
        segment = whole[span[0] : span[1]]
        chinese = sum(1 for ch in segment if ch >= "\u2e80")
        score = chinese + 0.4 * (len(segment) - chinese)
        score *= 0.3 if SITE_NAME.search(segment) else 1
        return score * 3 if span in covered else score

    best = max(segments, key=weight)
    title = whole[best[0] : best[1]].strip()
    if TRUNCATED.search(title):  # cut short ("…无敌免..."): a heading may have it whole
        stem = _key(TRUNCATED.sub("", title))
        longer = (c for c in [*headings, *metas] if _key(c).startswith(stem))
        return next((c for c in longer if not TRUNCATED.search(c)), title)
    if not covered and len(headings) == 1 and SITE_NAME.search(title):
        # <title> names only the site: the one heading is the headline, unless a site name too.
        return title if SITE_NAME.search(headings[0]) else headings[0]
    return title


def _segments(title: str) -> list[tuple[int, int]]:
    """The spans of <title> between its separators."""
    spans, start = [], 0
    for separator in [*TITLE_SEPARATORS.finditer(title), None]:
        end = separator.start() if separator else len(title)
        if title[start:end].strip():
            spans.append((start, end))
        start = separator.end() if separator else end
    return spans or [(0, len(title))]


def _covered(
    title: str, segments: list[tuple[int, int]], candidates: list[str]
) -> set[tuple[int, int]]:
    """The segments of ``title`` that the longest candidate found in it spans."""
    keyed, origin = _keyed(title)
    best: set[tuple[int, int]] = set()
    longest = 0
    for candidate in candidates:
        key = _key(candidate)
        at = keyed.find(key) if key else -1
        if at < 0 or len(key) <= longest or (key == keyed and len(segments) > 1):
            continue
        first, last = origin[at], origin[at + len(key) - 1]
        best = {(s, e) for s, e in segments if s <= last and e > first}
        longest = len(key)
    return best


def _anchor(page: _Page, title: str | None) -> int | None:
    """Where the headline ends in the page text: the info line follows it."""
    if not title:
        return None
    wanted, whole = _key(title), _key(page.title)
    matching = [
        (len(k), end) for text, end in page.h1 if (k := _key(text)) and (wanted in k or k in whole)
    ]
    if matching:
        return max(matching)[1]
    letters = [re.escape(ch) for ch in title if not ch.isspace()]
    found = re.search(r"\s*".join(letters), page.text)
    return found.end() if found else None


# ----------------------------------------------------------------------------------- date


def _beijing(moment: datetime) -> datetime:
    """``moment`` as naive Beijing time (naive input is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(BEIJING).replace(tzinfo=None)


def _published(
    page: _Page, url: str, anchor: int | None, fetched: datetime | None, latest: datetime
) -> tuple[_Stamp | None, _Found | None]:
    """The publication time, and the date in the text it was read from (if it was).

    In order: the first dateline-like date after the headline, the meta tags and JSON-LD, one
    just above the headline, the URL's date, the first labelled date, the modified time, and
    the first timed or lone date."""
    meta = _meta_date(page, META_PUBLISHED, latest)
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
    from_url = _url_date(url, latest)
    if from_url:
        same_day = [f for f in found if f.stamp.moment.date() == from_url.moment.date()]
        return (same_day[0].stamp, same_day[0]) if same_day else (from_url, None)
    labelled = [f for f in found if f.labelled]
    if labelled:
        return labelled[0].stamp, labelled[0]
    # Modified is an upper bound, and usually the day itself: closer than a stray date.
    modified = _meta_date(page, META_MODIFIED, latest)
    if modified:
        return modified, None
    for chosen in ([f for f in found if f.stamp.timed], [f for f in found if f.short_line]):
        if chosen:
            return chosen[0].stamp, chosen[0]
    return None, None


def _issue_month(text: str) -> str | None:
    """ "YYYY-MM" of a magazine issue, for a reprint that gives no finer date."""
    issue = ISSUE_MONTH.search(text)
    return f"{issue['y']}-{int(issue['m']):02d}" if issue else None


def _with_time(stamp: _Stamp, other: _Stamp | None) -> _Stamp:
    """``stamp``, or ``other`` when it names the same day and also the time."""
    if stamp.timed or not other or not other.timed:
        return stamp
    return other if other.moment.date() == stamp.moment.date() else stamp


def _dates(
    text: str, fetched: datetime | None, latest: datetime, start: int = 0, end: int | None = None
) -> list[_Found]:
    """The possible dates that begin in ``text[start:end]``: absolute ones and, given a fetch
    time, relative ones, in order."""
    stop = len(text) if end is None else min(len(text), end + 40)  # room for "日 08:03:57"
    found: list[_Found] = []
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


def _context(text: str, stamp: _Stamp, start: int, end: int) -> _Found:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    # A label may sit in the table cell before the date ("成文日期：</td><td>2022年01月27日").
    before = SPACES.sub("", text[max(0, start - 40) : start])[-12:]
    other = OTHER_DATE.search(before)
    if other and not DATE_LABEL.search(before[: other.start()] + "于"):  # 发表于 is a label
        return _Found(stamp, start, end, labelled=False, short_line=False)
    short = len(line.strip()) <= 40
    return _Found(stamp, start, end, bool(DATE_LABEL.search(before)), short)


def _absolute(match: re.Match[str], text: str) -> tuple[_Stamp | None, int]:
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
    return _Stamp(moment, False), match.end()


def _chinese_number(text: str) -> int:
    """一 … 三十一 as an int."""
    if "十" not in text:
        return CHINESE_DIGITS.get(text, 0)
    tens, _, units = text.partition("十")
    return CHINESE_DIGITS.get(tens, 1) * 10 + CHINESE_DIGITS.get(units, 0)


def _at_time(day: datetime, time: re.Match[str]) -> _Stamp | None:
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
        moment = _beijing(moment.replace(tzinfo=zone))
    return _Stamp(moment, True)


def _relative(match: re.Match[str], fetched: datetime) -> _Stamp:
    if match["now"]:
        return _Stamp(fetched, True)
    if match["n"]:
        count, unit = int(match["n"]), match["unit"]
        if unit == "天":
            return _Stamp(fetched - timedelta(days=count), False)
        return _Stamp(fetched - timedelta(seconds=count * SECONDS[unit]), True)
    day = (fetched - timedelta(days=DAYS_BACK[match["day"]])).replace(hour=0, minute=0)
    if match["H"] and int(match["H"]) < 24 and int(match["M"]) < 60:
        return _Stamp(day.replace(hour=int(match["H"]), minute=int(match["M"])), True)
    return _Stamp(day, False)


def _without_year(match: re.Match[str], fetched: datetime) -> _Stamp | None:
    """A month, day and time in the year that makes it the latest moment up to the fetch."""
    month, day = int(match["m"]), int(match["d"] or match["d2"])
    for year in (fetched.year, fetched.year - 1):
        try:
            moment = datetime(year, month, day, int(match["H"]), int(match["M"]))
        except ValueError:
            return None
        if moment <= fetched + timedelta(days=1):
            return _Stamp(moment, True)
    return None


def _meta_date(page: _Page, names: tuple[str, ...], latest: datetime) -> _Stamp | None:
    """The first plausible date in the meta tags ``names`` (and JSON-LD, for published)."""
    values = [page.metas[name] for name in names if page.metas.get(name)]
    if names is META_PUBLISHED:
        values += [v for k, v in _json_fields(page) if k in ("datePublished", "dateCreated")]
    for value in values:
        match = DATE.search(value)
        stamp = _absolute(match, value)[0] if match else None
        if stamp and EARLIEST <= stamp.moment <= latest:
            # Midnight sharp is a CMS filling in a day without a time.
            midnight = stamp.moment.hour == stamp.moment.minute == 0
            return _Stamp(stamp.moment, False) if midnight else stamp
    return None


def _json_fields(page: _Page) -> Iterator[tuple[str, str]]:
    for script in page.json_ld:
        for match in JSON_FIELD.finditer(script):
            yield match["key"], match["value"]


def _json_string(raw: str) -> str:
    try:
        return _clean(json.loads(f'"{raw}"'))
    except ValueError:
        return _clean(raw)


def _url_date(url: str, latest: datetime) -> _Stamp | None:
    """The day in a dated article path: /2024/0424/, t20240619_, /2005-03-21/ (not /202406/)."""
    path = unquote(url.partition("?")[0].partition("://")[2].partition("/")[2])
    for match in URL_DATE.finditer("/" + path):
        try:
            moment = datetime(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            continue
        if EARLIEST <= moment <= latest:
            return _Stamp(moment, False)
    return None


# --------------------------------------------------------------------------- outlet, author


def _outlet(page: _Page, anchor: int | None, dateline: _Found | None) -> str | None:
    """The outlet a 来源 label names, else the name after the dateline, else the meta tag."""
    for match in OUTLET_LABEL.finditer(page.text, max(0, (anchor or 0) - 300)):
        if _follows(page.text, match, NOT_OUTLET_LABEL):
            continue
        if outlet := _outlet_value(match["value"]):
            return outlet
    if dateline:
        line_end = page.text.find("\n", dateline.end)
        rest = page.text[dateline.end : len(page.text) if line_end < 0 else line_end]
        if bare := OUTLET_NAME.match(remove_pinyin_tags(rest).strip()):
            return bare.group().strip(BRACKETS)
    for name in META_OUTLET:
        value = _clean(page.metas.get(name, ""))
        if value and len(value) <= 30 and not NOT_OUTLET.search(value):
            return value
    return None


def _outlet_value(raw: str) -> str | None:
    value = remove_pinyin_tags(raw).strip().lstrip(BRACKETS).strip()
    if NOT_OUTLET.search(value.partition(" ")[0]):  # before a URL is cut at its "/"
        return None
    end = OUTLET_END.search(value)
    value = (value[: end.start()] if end else value).strip(BRACKETS)
    if len(value) < 2 or NOT_OUTLET.search(value) or not LETTER.search(value):
        return None
    return value


def _author(page: _Page, title: str | None, anchor: int | None, outlet: str | None) -> str | None:
    """The byline: 作者/记者 labels, else a name in brackets closing the story, else meta."""
    start = max(0, (anchor or 0) - 200)
    for match in AUTHOR_LABEL.finditer(page.text, start):
        if match["label"] == "文" and _follows(page.text, match, CHINESE):
            continue  # 原文：, 全文：; names start with 文 too
        if names := _names(match["value"], outlet):
            return names
    for match in REPORTER.finditer(page.text, start):
        if names := _names(match["bracketed"] or match["value"], outlet):
            return names
    if trailing := _trailing_name(page.text, anchor):
        return trailing
    metas = [_clean(page.metas.get(name, "")) for name in META_AUTHOR]
    metas += [_json_string(m["value"]) for s in page.json_ld for m in JSON_AUTHOR.finditer(s)]
    # Sites name themselves as author ("网易" on "…_网易财经"); a writer is not in <title>'s tail.
    site = _key(page.title.replace(title or "", "") + page.metas.get("og:site_name", ""))
    for value in metas:
        if not value or ORGANISATION.search(value) or _key(value) in site:
            continue
        names = _names(value, outlet)
        if names and all(_person(n) or not CHINESE_NAME.match(n) for n in names.split()):
            return names
    for match in EDITOR_LABEL.finditer(page.text, start):
        if _follows(page.text, match, NOT_EDITOR_LABEL):
            continue
        if names := _names(match["value"], outlet):
            return names
    return None


def _follows(text: str, match: re.Match[str], before: re.Pattern[str]) -> bool:
    """Whether the character before ``match`` matches ``before``."""
    return match.start() > 0 and bool(before.match(text, match.start() - 1))


def _names(raw: str, outlet: str | None) -> str | None:
    """The names a byline starts with, and the roles between them: "记者 张三 通讯员 李四 报道"
    → "张三 通讯员 李四"; None for a photo credit ("记者 才扬 摄")."""
    value = remove_pinyin_tags(raw.strip())
    while (role := ROLES.match(value)) and role.end():
        value = value[role.end() :]
    end = AUTHOR_END.search(value)
    names: list[str] = []
    role_before = ""
    for token in NAME_SEPARATORS.split(value[: end.start()] if end else value):
        token = token.strip(BRACKETS)
        if role := ROLES.match(token):
            role_before, token = token[: role.end()].rstrip(" ：:"), token[role.end() :]
        if not token:
            continue
        if token in CREDITS or CREDIT.search(token):
            return None
        # After the first name, a word is another name only if it reads as one ("访问统计").
        if not NAME.match(token) or token in NOT_A_NAME or token == outlet:
            break
        if names and CHINESE_NAME.match(token) and not _person(token):
            break
        names += [role_before, token] if names and role_before else [token]
        role_before = ""
    return " ".join(names) or None


def _trailing_name(text: str, anchor: int | None) -> str | None:
    """The first name in brackets closing a paragraph after the headline (later ones close
    comments and related stories)."""
    for match in TRAILING_NAME.finditer(text, anchor or 0):
        if _person(match["name"]):
            return match["name"]
    return None


def _person(name: str) -> bool:
    """Whether a word of two to four Chinese characters reads as a person's name."""
    if name in NOT_A_NAME or ORGANISATION.search(name) or CREDIT.search(name):
        return False
    if len(name) == 4:
        return name[:2] in COMPOUND_SURNAMES
    return name[0] in SURNAMES
