"""Who wrote a page and who published it: the byline's names and the outlet (来源)."""

from __future__ import annotations

import re

from crawler.clean.script import remove_pinyin_tags
from crawler.extract.meta.dates import Found
from crawler.extract.meta.page import Page, clean, json_string, key
from crawler.text import HAN, INLINE_SPACES, alternation, words

META_AUTHOR = ("author", "article:author", "dc.creator", "byline")
META_OUTLET = ("source", "article:source", "og:article:source", "contentsource")
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
    rf"^(?:《[^》]{{2,20}}》|[\w·]{{1,18}}?(?:{alternation('outlet_name_endings')}))(?=$|\s)"
)
NOT_OUTLET = re.compile(
    r"[=<>\"]|https?:|www\.|\.(?:com|cn|net|org)\b|^(?:网络|網絡|互联网|本站|本网|未知)$"
    r"|原创|原創|转载|轉載"
)
CHINESE = re.compile(f"[{HAN}]")
LETTER = re.compile(r"[^\W\d_]")

# "作者：陈晓", "撰文/张三", "文｜李四" (a bare 文 only with a separator: names start with 文 too).
AUTHOR_LABEL = re.compile(
    r"(?P<label>作者|撰文|撰稿|采写|採寫|文)\s*[：:/／|｜]\s*(?P<value>[^\n]{1,60})"
)
# "记者 陈晓", "本报记者：张三", "（记者张三、李四）", "〔記者巫其倫／台北報導〕": the role, then
# names after a space, a colon or inside brackets; "记者从…获悉" in a story has none of these.
REPORTER = re.compile(
    rf"[(（〔【\[]\s*[{HAN}]{{0,6}}(?:记者|記者)\s*"
    r"(?P<bracketed>[^()（）〔〕【】\[\]\n]{2,40})[)）〕】\]]"
    rf"|(?:记者|記者)(?:[{INLINE_SPACES}]*[：:][{INLINE_SPACES}]*|[{INLINE_SPACES}]+)"
    r"(?P<value>[^\n]{2,60})"
)
# "编辑：张三" (the 责任编辑 who checked the page is no author).
EDITOR_LABEL = re.compile(r"(?:编辑|編輯)\s*[：:]\s*(?P<value>[^\n]{1,40})")
NOT_EDITOR_LABEL = re.compile(r"[任責责]")
# "…共同发展。（李建国）": a name in brackets closing a paragraph is its writer.
TRAILING_NAME = re.compile(
    rf"[。”」』][{INLINE_SPACES}]*[(（](?P<name>[{HAN}]{{2,4}})[)）][{INLINE_SPACES}]*(?=\n|$)"
)
# The role before the names, with whose reporter it is: "记者", "本报记者", "南都见习记者".
ROLES = re.compile(
    rf"^(?:[{HAN}]{{0,6}}?(?:记者|記者|通讯员|通訊員|实习生|實習生)|编辑|編輯|作者|撰文|摄影|攝影)"
    r"\s*[：:]?\s*"
)
# Where a byline's names end: the next label, "／台北報導", "报道", a date or a count.
AUTHOR_END = re.compile(
    rf"[/／][{HAN}]{{1,6}}(?:报道|報導|电|電)|报道|報導|责任|責任|来源|來源|稿源|编辑|編輯"
    r"|责编|責編|时间|時間|日期|发布|發布|点击|點擊|阅读|閱讀|浏览|瀏覽|字号|字號|发自|發自|摄影|攝影"
    r"|\d|[|｜]"
)
NAME = re.compile(rf"^(?:[{HAN}]{{2,4}}|[{HAN}]{{1,4}}·[{HAN}]{{1,6}})$")
CHINESE_NAME = re.compile(f"^[{HAN}]+$")
NAME_SEPARATORS = re.compile(r"[\s、,，/／;；]+")
NOT_A_NAME = frozenset(words("not_a_name"))
# A bracketed word closing a paragraph is a writer's name only if it starts with a common
# surname ("（李建国）", not "（视觉中国）" or "（按月）").
SURNAMES = frozenset(words("surnames"))
COMPOUND_SURNAMES = frozenset(words("compound_surnames"))
# A photo or drawing credit: "刘通摄", "李四/图".
CREDIT = re.compile(r"(?:摄|攝|图|圖|绘|繪|制图|製圖)$")
CREDITS = frozenset(words("photo_credits"))
ORGANISATION = re.compile(rf"(?:{alternation('organisation_endings')})$|\.")


def outlet(page: Page, anchor: int | None, dateline: Found | None) -> str | None:
    """The outlet a 来源 label names, else the name after the dateline, else the meta tag."""
    for match in OUTLET_LABEL.finditer(page.text, max(0, (anchor or 0) - 300)):
        if _follows(page.text, match, NOT_OUTLET_LABEL):
            continue
        if value := _outlet_value(match["value"]):
            return value
    if dateline:
        line_end = page.text.find("\n", dateline.end)
        rest = page.text[dateline.end : len(page.text) if line_end < 0 else line_end]
        if bare := OUTLET_NAME.match(remove_pinyin_tags(rest).strip()):
            return bare.group().strip(BRACKETS)
    for name in META_OUTLET:
        value = clean(page.metas.get(name, ""))
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


def author(page: Page, title: str | None, anchor: int | None, outlet: str | None) -> str | None:
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
    metas = [clean(page.metas.get(name, "")) for name in META_AUTHOR]
    metas += [json_string(m["value"]) for s in page.json_ld for m in JSON_AUTHOR.finditer(s)]
    # Sites name themselves as author ("网易" on "…_网易财经"); a writer is not in <title>'s tail.
    site = key(page.title.replace(title or "", "") + page.metas.get("og:site_name", ""))
    for value in metas:
        if not value or ORGANISATION.search(value) or key(value) in site:
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
