"""Render the bundled demo site from ``articles.toml`` and ``portal.toml`` into pages in memory.

The articles are kept clean (Simplified, whole words, no chrome) and every difficulty a real
page has (the seed documents' chrome, spam, Traditional script, pinyin garbling, duplicated
headings, broken lines, GBK and Big5 bytes) is applied here, at render time. So the data file
doubles as the gold text of each page.

``portal.toml`` is the site's 政府信息公开 section, as a city portal publishes it: a list whose
pager a script draws, and documents with their information table and attachments, the files
made at render time by :mod:`crawler.demo.documents`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import opencc
from markupsafe import Markup, escape

from crawler.demo import documents

LIST_PAGE_SIZE = 5
# A portal's list holds 15 or 20 documents a page; the demo's few fill two pages at 3.
PORTAL_PAGE_SIZE = 3
PORTAL_NAME = "西安市人民政府"
PORTAL_LIST = "/xxgk/"
PORTAL_FIRST_NUMBER = 3001
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SECTIONS = (("policy", "政策解读"), ("industry", "产业动态"), ("local", "地方观察"))
ROBOTS_TXT = "User-agent: *\nDisallow: /internal/\nDisallow: /search\n\nSitemap: /sitemap.xml\n"

# Written for this site: the kind of gambling/porn SEO line injected above real articles.
SPAM_LINE = (
    "澳门金沙娱乐城,真人百家乐在线开户,北京赛车pk10计划,六合彩开奖直播,成人视频免费看,体育投注平台"
)

# The bad Traditional conversion seen in seed 002 leaves a character's pinyin behind it.
PINYIN = {
    "監": "jiān",
    "區": "qū",
    "數": "shù",
    "據": "jù",
    "聯": "lián",
    "網": "wǎng",
    "導": "dǎo",
    "創": "chuàng",
    "應": "yìng",
    "進": "jìn",
    "濟": "jì",
    "產": "chǎn",
    "發": "fā",
    "體": "tǐ",
    "計": "jì",
    "實": "shí",
    "會": "huì",
    "與": "yǔ",
}

CITIES = [
    "北京",
    "天津",
    "石家庄",
    "太原",
    "呼和浩特",
    "沈阳",
    "大连",
    "长春",
    "哈尔滨",
    "上海",
    "南京",
    "苏州",
    "无锡",
    "杭州",
    "宁波",
    "温州",
    "合肥",
    "芜湖",
    "福州",
    "厦门",
    "南昌",
    "济南",
    "青岛",
    "烟台",
    "郑州",
    "洛阳",
    "武汉",
    "宜昌",
    "长沙",
    "株洲",
    "广州",
    "深圳",
    "珠海",
    "佛山",
    "东莞",
    "南宁",
    "桂林",
    "海口",
    "三亚",
    "重庆",
    "成都",
    "绵阳",
    "贵阳",
    "遵义",
    "昆明",
    "拉萨",
    "西安",
    "兰州",
    "西宁",
    "银川",
    "乌鲁木齐",
]
FRIEND_SUFFIXES = ("新闻网", "科技网")
FRIEND_EXTRA = (
    "中国产经在线",
    "数字经济观察",
    "智能制造网",
    "算力资讯",
    "新基建在线",
    "创投日报网",
    "大数据之家",
    "机器人产业网",
    "云计算频道",
    "芯片观察网",
    "互联网周刊网",
    "企业信用信息网",
)


@dataclass(frozen=True)
class DemoArticle:
    """One article of the demo site, as written in ``articles.toml``."""

    id: str
    section: str
    published: str
    title: str
    outlet: str
    author: str
    editor: str
    region: str
    paragraphs: tuple[str, ...]
    number: int
    encoding: str = "utf-8"
    charset: str = "both"
    traditional: bool = False
    garbled: bool = False
    spam: bool = False
    duplicate_headings: bool = False
    broken_words: bool = False
    linked_from: tuple[str, ...] = ("list", "feed", "sitemap")
    revision: int = 0  # bumped by every change to the page, chrome or body
    revised: str | None = None  # when it last changed (sitemap lastmod), ISO 8601

    @property
    def date(self) -> datetime:
        return datetime.strptime(self.published, "%Y-%m-%d %H:%M")

    @property
    def path(self) -> str:
        folder = "internal" if self.linked_from == ("private",) else self.section
        return f"/{folder}/{self.date:%Y%m}/t{self.date:%Y%m%d}_{self.number}.html"

    @property
    def rfc822(self) -> str:
        return format_datetime(self.date)

    @property
    def lastmod(self) -> str:
        return self.revised or self.published[:10]

    @property
    def text(self) -> str:
        """The clean body: what an extractor should keep of the page."""
        return "\n".join(p.removeprefix("## ") for p in self.paragraphs)


@dataclass(frozen=True)
class DemoAttachment:
    """A file a portal document links as its 附件, made from its text when served."""

    name: str  # the file name the link shows; its suffix is the kind (pdf, docx)
    title: str
    paragraphs: tuple[str, ...]

    @property
    def kind(self) -> str:
        return self.name.rpartition(".")[2]

    @property
    def text(self) -> str:
        """What a reader of the file must get back."""
        return "\n".join([self.title, *self.paragraphs])

    @property
    def data(self) -> bytes:
        return _attachment_bytes(self.kind, self.title, self.paragraphs)


@dataclass(frozen=True)
class PortalDocument:
    """A document of the 政府信息公开 section, as written in ``portal.toml``."""

    id: str
    column: str  # the folder of its column: gfxwj, zcjd, zqyj, tzgg
    column_name: str
    title: str
    issuer: str
    published: str
    paragraphs: tuple[str, ...]
    number: int
    attachments: tuple[DemoAttachment, ...] = ()
    # Gold: the page's primary regions, and the policies it is, explains or names (title,
    # role, kind, status, region; draft: the title of the draft a final version replaces).
    primary: tuple[str, ...] = ()
    policies: tuple[dict[str, str], ...] = ()
    # The information table; a page without an index number (an interpretation) has none.
    index_no: str | None = None
    subject: str | None = None
    doc_number: str | None = None
    written: str | None = None
    validity: str | None = None

    @property
    def date(self) -> datetime:
        return datetime.strptime(self.published, "%Y-%m-%d %H:%M")

    @property
    def path(self) -> str:
        return f"/xxgk/{self.column}/{self.date:%Y%m}/t{self.date:%Y%m%d}_{self.number}.html"

    def attachment_path(self, index: int) -> str:
        """Where attachment ``index`` is served: beside the page, named as TRS names files."""
        folder = self.path.rpartition("/")[0]
        return f"{folder}/P0{self.date:%Y%m%d}{self.number}{index}.{self.attachments[index].kind}"

    @property
    def text(self) -> str:
        """The clean body: what an extractor should keep of the page."""
        return "\n".join(p.removeprefix("## ") for p in self.paragraphs)

    @property
    def expected_policies(self) -> list[dict[str, str]]:
        """The gold policies, the one the page is completed with what its table says: its
        issuer, number and date (成文日期)."""
        fields = {"issuer": self.issuer, "doc_number": self.doc_number, "date": self.written}
        table = {k: v for k, v in fields.items() if v}  # a draft has no number: no gold for it
        return [
            {**policy, **table} if policy["role"] == "text" else dict(policy)
            for policy in self.policies
        ]


@dataclass(frozen=True)
class Resource:
    """A response body and its Content-Type."""

    body: bytes
    content_type: str


@dataclass
class DemoSite:
    """The articles of the site; ``pages(base_url)`` renders every URL it serves."""

    articles: list[DemoArticle]
    name: str = "智策新闻网"
    slogan: str = "聚焦区域人工智能产业政策"
    sections: tuple[tuple[str, str], ...] = SECTIONS
    friend_links: tuple[str, ...] = field(
        default=tuple(f"{c}{s}" for s in FRIEND_SUFFIXES for c in CITIES) + FRIEND_EXTRA
    )
    documents: list[PortalDocument] = field(default_factory=list)

    def article(self, article_id: str) -> DemoArticle:
        return next(a for a in self.articles if a.id == article_id)

    def linked(self, channel: str) -> list[DemoArticle]:
        """Articles the site links from ``channel`` (list, feed, sitemap), newest first."""
        chosen = [
            a
            for a in self.articles
            if channel in a.linked_from or (channel == "list" and a.linked_from == ("private",))
        ]
        return sorted(chosen, key=lambda a: a.published, reverse=True)

    def pages(self, base_url: str) -> dict[str, Resource]:
        """Every path the site serves, rendered for a site reachable at ``base_url``."""
        base = base_url.rstrip("/")
        html = "text/html; charset=utf-8"
        pages = {
            "/robots.txt": Resource(ROBOTS_TXT.encode(), "text/plain; charset=utf-8"),
            "/rss.xml": Resource(
                _render("rss.xml", site=self, base=base, articles=self.linked("feed")).encode(),
                "application/rss+xml; charset=utf-8",
            ),
            "/sitemap.xml": Resource(
                _render("sitemap.xml", base=base, articles=self.linked("sitemap")).encode(),
                "application/xml; charset=utf-8",
            ),
        }
        headlines = [_link(a, "?from=home") for a in self.linked("list")[:8]]
        pages["/"] = Resource(
            _render("home.html", site=self, headlines=headlines, meta_charset="utf-8").encode(),
            html,
        )
        for key, label in self.sections:
            pages.update(self._list_pages(key, label))
        for article in self.articles:
            pages[article.path] = self._article_page(article)
        if self.documents:
            pages.update(self._portal_pages())
        return pages

    def document(self, document_id: str) -> PortalDocument:
        return next(d for d in self.documents if d.id == document_id)

    def _portal_pages(self) -> dict[str, Resource]:
        """The 政府信息公开 section: its list pages, documents and their attachment files."""
        html = "text/html; charset=utf-8"
        listed = sorted(self.documents, key=lambda d: d.published, reverse=True)
        count = -(-len(listed) // PORTAL_PAGE_SIZE)
        pages = {}
        for n in range(count):
            # TRS numbers the pages after the first from 1: index_1.html is the second.
            href = PORTAL_LIST if n == 0 else f"{PORTAL_LIST}index_{n}.html"
            chunk = listed[n * PORTAL_PAGE_SIZE : (n + 1) * PORTAL_PAGE_SIZE]
            body = _render("portal_list.html", portal=PORTAL_NAME, items=chunk, page=n, pages=count)
            pages[href] = Resource(body.encode(), html)
        for document in self.documents:
            attachments = [
                (document.attachment_path(i), a) for i, a in enumerate(document.attachments)
            ]
            body = _render(
                "portal_document.html",
                portal=PORTAL_NAME,
                document=document,
                body=_paragraphs_html(document.paragraphs),
                attachments=attachments,
            )
            pages[document.path] = Resource(body.encode(), html)
            for path, attachment in attachments:
                pages[path] = Resource(attachment.data, ATTACHMENT_TYPES[attachment.kind])
        return pages

    def _list_pages(self, key: str, label: str) -> dict[str, Resource]:
        items = [a for a in self.linked("list") if a.section == key]
        count = max(1, -(-len(items) // LIST_PAGE_SIZE))

        def page_href(n: int) -> str:
            return f"/{key}/" if n == 1 else f"/{key}/index_{n}.html"

        pages = {}
        for n in range(1, count + 1):
            chunk = items[(n - 1) * LIST_PAGE_SIZE : n * LIST_PAGE_SIZE]
            # Some links carry tracking parameters, as on real list pages: the crawler must
            # still store each article once.
            links = [
                _link(a, "?utm_source=list&spm=c1.d2" if i % 2 else "") for i, a in enumerate(chunk)
            ]
            body = _render(
                "list.html",
                site=self,
                section_label=label,
                items=links,
                page=n,
                pages=count,
                page_href=page_href,
                meta_charset="utf-8",
            )
            pages[page_href(n)] = Resource(body.encode(), "text/html; charset=utf-8")
        return pages

    def _article_page(self, article: DemoArticle) -> Resource:
        same_section = [
            a
            for a in self.linked("list")
            if a.section == article.section and a.linked_from != ("private",)
        ]
        others = [a for a in same_section if a.id != article.id]
        position = same_section.index(article) if article in same_section else 0
        meta_charset = (
            _declared_name(article.encoding) if article.charset in ("meta", "both") else None
        )
        html = _render(
            "article.html",
            site=self,
            article=article,
            section_label=dict(self.sections)[article.section],
            body=_body_html(article),
            spam=SPAM_LINE if article.spam else None,
            # A new revision moves the related links around, as real pages do.
            related=(others[article.revision :] + others[: article.revision])[:6],
            previous=same_section[position - 1] if position > 0 else None,
            next=same_section[position + 1] if position + 1 < len(same_section) else None,
            views=1000 + article.number * 7 + 31 * article.revision,
            likes=article.number % 97 + article.revision,
            meta_charset=meta_charset,
        )
        if article.traditional:
            html = _to_traditional(html)
        if article.garbled:
            html = _garble(html)
        content_type = "text/html"
        if article.charset in ("header", "both"):
            content_type += f"; charset={_declared_name(article.encoding)}"
        return Resource(
            html.encode(_codec(article.encoding), errors="xmlcharrefreplace"), content_type
        )

    def updated(self, updates: dict[str, Any], revised: str) -> DemoSite:
        """The site after ``updates`` (updates.toml's format): edits, chrome-only changes,
        syndicated copies and new articles, each changed page marked ``revised``; new portal
        documents and attachments replaced under the same link."""
        by_id = {a.id: a for a in self.articles}
        for edit in updates.get("edit", []):
            old = by_id[edit["id"]]
            paragraphs = tuple(p.replace(edit["old"], edit["new"]) for p in old.paragraphs)
            if paragraphs == old.paragraphs:
                raise ValueError(f"edit of {old.id}: {edit['old']!r} is not in its text")
            by_id[old.id] = replace(
                old, paragraphs=paragraphs, revision=old.revision + 1, revised=revised
            )
        for change in updates.get("chrome", []):
            old = by_id[change["id"]]
            by_id[old.id] = replace(old, revision=old.revision + 1, revised=revised)
        number = max(a.number for a in self.articles)
        for copy in updates.get("syndicate", []):
            number += 1
            original = by_id[copy["id"]]
            fields = {k: v for k, v in copy.items() if k != "id"}
            by_id[f"{original.id}-copy"] = replace(
                original, id=f"{original.id}-copy", number=number, revised=revised, **fields
            )
        for entry in updates.get("article", []):
            number += 1
            by_id[entry["id"]] = replace(_parse_article(entry, number), revised=revised)
        return DemoSite(list(by_id.values()), documents=self._updated_documents(updates))

    def _updated_documents(self, updates: dict[str, Any]) -> list[PortalDocument]:
        by_id = {d.id: d for d in self.documents}
        for change in updates.get("attachment", []):
            old = by_id[change["document"]]
            files = list(old.attachments)
            index = next(i for i, a in enumerate(files) if a.name == change["name"])
            paragraphs = tuple(
                p.replace(change["old"], change["new"]) for p in files[index].paragraphs
            )
            if paragraphs == files[index].paragraphs:
                raise ValueError(
                    f"attachment {change['name']}: {change['old']!r} is not in its text"
                )
            files[index] = replace(files[index], paragraphs=paragraphs)
            by_id[old.id] = replace(old, attachments=tuple(files))
        number = max((d.number for d in self.documents), default=PORTAL_FIRST_NUMBER)
        for entry in updates.get("document", []):
            number += 1
            by_id[entry["id"]] = _parse_document(entry, number)
        return list(by_id.values())


@cache
def load_updates() -> dict[str, Any]:
    """The changes the demo makes to the site between its two crawls."""
    return tomllib.loads(resources.files(__package__).joinpath("updates.toml").read_text("utf-8"))


@cache
def load_site() -> DemoSite:
    """The demo site as shipped."""
    data = tomllib.loads(resources.files(__package__).joinpath("articles.toml").read_text("utf-8"))
    articles = [_parse_article(entry, 1001 + i) for i, entry in enumerate(data["article"])]
    portal = tomllib.loads(resources.files(__package__).joinpath("portal.toml").read_text("utf-8"))
    docs = [
        _parse_document(entry, PORTAL_FIRST_NUMBER + i)
        for i, entry in enumerate(portal["document"])
    ]
    return DemoSite(articles, documents=docs)


def _parse_article(entry: dict[str, Any], number: int) -> DemoArticle:
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
    return DemoArticle(number=number, **values)


def _parse_document(entry: dict[str, Any], number: int) -> PortalDocument:
    lists = ("paragraphs", "attachments", "primary", "policies")
    values = {k: v for k, v in entry.items() if k not in lists}
    attachments = tuple(
        DemoAttachment(a["name"], a["title"], tuple(a["paragraphs"]))
        for a in entry.get("attachments", [])
    )
    return PortalDocument(
        number=number,
        paragraphs=tuple(entry["paragraphs"]),
        attachments=attachments,
        primary=tuple(entry.get("primary", ())),
        policies=tuple(entry.get("policies", ())),
        **values,
    )


@cache
def _attachment_bytes(kind: str, title: str, paragraphs: tuple[str, ...]) -> bytes:
    # Made once a process: a PDF takes reportlab tens of milliseconds, and the server renders
    # the site anew at every update.
    if kind == "pdf":
        return documents.pdf_document(title, list(paragraphs))
    if kind == "docx":
        return documents.docx_document(title, list(paragraphs))
    raise ValueError(f"the demo portal makes no {kind!r} attachments")


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader(__package__, "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml"]),
        keep_trailing_newline=True,
    )


def _render(name: str, **context: Any) -> str:
    return _templates().get_template(name).render(**context)


def _link(article: DemoArticle, query: str) -> dict[str, str]:
    return {"href": article.path + query, "title": article.title, "published": article.published}


def _paragraphs_html(paragraphs: tuple[str, ...]) -> Markup:
    """A document's paragraphs as a portal prints them; a "## " one is a centred heading."""
    parts = [
        Markup('<p style="text-align:center"><strong>') + escape(p[3:]) + Markup("</strong></p>")
        if p.startswith("## ")
        else Markup("<p>") + escape(p) + Markup("</p>")
        for p in paragraphs
    ]
    return Markup("\n").join(parts)


def _body_html(article: DemoArticle) -> Markup:
    parts = []
    for paragraph in article.paragraphs:
        if paragraph.startswith("## "):
            heading = escape(paragraph[3:])
            if article.duplicate_headings:
                # As in seed 000: a styled copy of the heading sits beside it in the markup.
                heading = heading + Markup('<span class="sub">') + heading + Markup("</span>")
            parts.append(Markup("<h3>") + heading + Markup("</h3>"))
        else:
            text = escape(paragraph)
            if article.broken_words:
                text = _break_lines(text)
            parts.append(Markup("<p>") + text + Markup("</p>"))
    return Markup("\n").join(parts)


def _break_lines(text: Markup) -> Markup:
    """Hard line breaks inside words, as when a page was pasted from a fixed-width layout."""
    html = str(text)  # already escaped: the break is markup, added to it as such
    if "人工智能" in html:
        return Markup(html.replace("人工智能", "人工<br>\n智能", 1))
    cut = len(html) // 2
    while "&" in html[max(0, cut - 6) : cut]:  # never inside an entity such as &amp;
        cut -= 1
    return Markup(html[:cut] + "<br>\n" + html[cut:])


def _to_traditional(html: str) -> str:
    return opencc.OpenCC("s2t").convert(html)


def _garble(html: str) -> str:
    """Leave each character's pinyin behind it and lose quote marks, as in seed 002."""
    head, sep, body = html.partition("<body>")
    for char, pinyin in PINYIN.items():
        body = body.replace(char, f"{char}({pinyin})")
    return head + sep + body.replace("”", "!").replace("“", "")


def _declared_name(encoding: str) -> str:
    # The names real Chinese sites put in their headers: narrower than what they send.
    return {"gbk": "gb2312", "big5": "big5"}.get(encoding, encoding)


def _codec(encoding: str) -> str:
    return {"gbk": "gbk", "big5": "big5"}.get(encoding, "utf-8")
