"""The 政府信息公开 information table of a portal's document page, and the meta tags of the
content systems most portals run on (PubDate, ColumnName, Keywords; ArticleTitle and
ContentSource are read with the title and the outlet).

The table sits above the document, as a <table>, a <dl> or rows of divs, with a label and a
value per field (索引号：…, [发文机关] …, 发文字号 | 深府办〔2024〕3号). It is found as the smallest
element that holds at least three of its labels, each at the start of a short text of its
own: a sentence in the body that names 发布日期 once is not a table. Its fields belong to
the article's metadata, and the element itself is dropped before the body is extracted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml.html import HtmlElement

from crawler.extract.meta.page import Page, clean
from crawler.text import HAN

# Each field's labels, as the portals of 北京, 上海, 广东 (gkmlpt), 深圳, 武汉 and the ministries
# print them.
LABELS = {
    "index_no": ("索引号",),
    "issuer": ("发布机构", "发文机关", "发文单位", "发布单位", "制发机关", "发文机构", "公开主体"),
    "doc_number": ("发文字号", "文号", "文件编号", "发文编号"),
    "written": ("成文日期", "成文时间", "印发日期", "发文日期"),
    "published": ("发布日期", "公开日期", "发布时间", "公开时间"),
    "subject": ("主题分类", "主题词", "分类", "主题"),
    "validity": ("有效性", "时效性", "时效", "是否有效", "效力状态"),
    "name": ("名称", "标题", "文件名称"),
}
FIELD_OF = {label: name for name, labels in LABELS.items() for label in labels}
# A label begins a text of its own (not 文号 inside 发文字号), in brackets or not, with or
# without a colon, its characters spaced out or not (文　　号, 索 引 号); the longest label is
# tried first.
LABEL = re.compile(
    rf"(?<![{HAN}])[\[【]?(?P<label>"
    + "|".join(r"\s*".join(k) for k in sorted(FIELD_OF, key=len, reverse=True))
    + r")[\]】]?\s*[：:]?"
)
# A text holding a label is this short at most: a label and its value, or two pairs.
MAX_LABELLED_CHARS = 80
MIN_LABELS = 3
# A table is a few lines of fields, no sentences (the one in the corpus, cwced/063, has 293
# characters); an element that holds three labels and a sentence or far more text is the page
# around labels scattered in its menus, info line and footer, and is never dropped as a table.
MAX_TABLE_CHARS = 1500
# A portal page dates itself in the table's or the meta tags' form: 2024-01-05, 2024年1月5日.
DAY = re.compile(r"((?:19|20)\d\d)\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})")
META_FIELDS = {"columnname": "column", "keywords": "keywords"}
# 深府办〔2024〕3号, 国发〔2024〕11号, 粤工信规字[2023]5号, 京政发(2024)8号: an agency's
# abbreviation, the year in brackets, the number.
DOC_NUMBER = re.compile(
    rf"(?P<agency>[{HAN}]{{1,12}})\s*[〔［\[【(（]\s*(?P<year>(?:19|20)\d\d)\s*[〕］\]】)）]"
    r"\s*(?P<n>\d{1,4})\s*号"
)


@dataclass(frozen=True)
class PortalMeta:
    """What a portal's information table and meta tags say about its document."""

    index_no: str | None = None
    issuer: str | None = None
    doc_number: str | None = None
    written: str | None = None  # 成文日期, YYYY-MM-DD
    published: str | None = None  # 发布日期, YYYY-MM-DD
    subject: str | None = None
    validity: str | None = None  # 有效, 失效, 废止 …
    name: str | None = None
    column: str | None = None  # the portal's column (ColumnName)
    keywords: str | None = None


def info_table(tree: HtmlElement) -> HtmlElement | None:
    """The element of ``tree`` that is the page's information table, if it has one."""
    labels_under: dict[HtmlElement, set[str]] = {}
    depth: dict[HtmlElement, int] = {}
    for holder, text in _texts(tree):
        # A label opens its text, or says it is one with a colon or brackets (主题教育 is none).
        fields = {_field(m) for m in LABEL.finditer(text) if m.start() == 0 or m[0] != m["label"]}
        if not fields:
            continue
        ancestors = [holder, *holder.iterancestors()]
        for level, element in enumerate(reversed(ancestors)):
            labels_under.setdefault(element, set()).update(fields)
            depth[element] = level
    tables = [e for e, found in labels_under.items() if len(found) >= MIN_LABELS]
    table = max(tables, key=depth.__getitem__, default=None)
    if table is None:
        return None
    text = "".join(table.itertext())
    return None if len(text) > MAX_TABLE_CHARS or "。" in text else table


def portal_metadata(page: Page, table: HtmlElement | None) -> PortalMeta:
    """The fields of the information table ``table`` (see :func:`info_table`), completed by
    the content system's meta tags of ``page``."""
    fields: dict[str, str] = {}
    if table is not None:
        fields = _table_fields(table)
    for key, name in META_FIELDS.items():
        if (value := clean(page.metas.get(key, ""))) and name not in fields:
            fields[name] = value
    if "published" not in fields and (stamp := page.metas.get("pubdate")):
        fields["published"] = stamp
    for name in ("written", "published"):
        if name in fields:
            day = DAY.search(fields[name])
            fields[name] = f"{day[1]}-{int(day[2]):02d}-{int(day[3]):02d}" if day else ""
    if "doc_number" in fields:
        fields["doc_number"] = doc_number(fields["doc_number"]) or fields["doc_number"]
    return PortalMeta(**{k: v for k, v in fields.items() if v})


def doc_number(text: str) -> str | None:
    """The first 发文字号 in ``text``, in one spelling: 深府办〔2024〕3号."""
    found = DOC_NUMBER.search(text)
    return f"{found['agency']}〔{found['year']}〕{found['n']}号" if found else None


def _texts(tree: HtmlElement) -> Iterator[tuple[HtmlElement, str]]:
    """Each short text of the tree (an element's text or a tail) with the element holding it."""
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("script", "style"):
            continue
        for text, holder in ((element.text, element), (element.tail, element.getparent())):
            if text and holder is not None and len(text.strip()) <= MAX_LABELLED_CHARS:
                yield holder, text.strip()


def _field(label: re.Match[str]) -> str:
    return FIELD_OF[re.sub(r"\s", "", label["label"])]


def _table_fields(table: HtmlElement) -> dict[str, str]:
    """Each label of the table with the text up to the next label: the value beside it in the
    same cell, or the next cell's."""
    parts = [clean(t) for t in table.itertext() if clean(t)]
    joined = "\n".join(parts)
    found = list(LABEL.finditer(joined))
    fields: dict[str, str] = {}
    for match, following in zip(found, [*found[1:], None], strict=True):
        end = following.start() if following else len(joined)
        lines = [line.strip(" ：:|｜") for line in joined[match.end() : end].split("\n")]
        value = next((line for line in lines if line), "")
        fields.setdefault(_field(match), value)
    return fields
