"""Page metadata: every demo page exactly, and each title, date, outlet and author form."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import opencc
import pytest

from crawler.demo.site import DemoSite
from crawler.extract.decode import decode_html
from crawler.extract.meta import PageMeta, page_metadata

BASE = "http://127.0.0.1:8000"
URL = "http://news.example.cn/a/1.html"
FETCHED = datetime(2024, 6, 19, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


def meta(body: str, head: str = "", url: str = URL, fetched_at: datetime | None = None) -> PageMeta:
    html = f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"
    return page_metadata(lxml.html.document_fromstring(html), url, fetched_at)


STORY = "记者从市工业和信息化局获悉，深圳将向中小企业发放算力券，单个企业最高可获500万元。"


def page(info: str, fetched_at: datetime | None = None) -> PageMeta:
    """A page with a headline, an info line under it and a paragraph of story."""
    return meta(
        f"<h1>深圳发布算力券新政</h1><div class='info'>{info}</div><p>{STORY}</p>",
        head="<title>深圳发布算力券新政_要闻_示例新闻网</title>",
        fetched_at=fetched_at,
    )


# ------------------------------------------------------------------------------ demo site


def test_every_demo_article_gives_its_metadata(site: DemoSite) -> None:
    to_traditional = opencc.OpenCC("s2t").convert
    pages = site.pages(BASE)
    for item in site.articles:
        served = pages[item.path]
        text, _ = decode_html(served.body, served.content_type)
        got = page_metadata(lxml.html.document_fromstring(text), BASE + item.path)
        script = to_traditional if item.traditional else str
        assert got.title == script(item.title), item.id
        assert got.published == item.published, item.id
        assert got.outlet == script(item.outlet), item.id
        assert got.author == (script(item.author.removeprefix("记者 ")) or None), item.id


def test_the_tree_is_left_as_it_was() -> None:
    tree = lxml.html.document_fromstring(
        "<html><head><title>深圳发布算力券新政_示例新闻网</title></head><body>"
        "<h1>深圳发布算力券新政</h1><div>2024-06-19 08:00 来源：经济日报 作者：记者 陈晓</div>"
        f"<p>{STORY}</p><script>showDate('2024-06-19')</script><!-- 注释 -->尾巴</body></html>"
    )
    before = lxml.html.tostring(tree)
    page_metadata(tree, URL, FETCHED)
    assert lxml.html.tostring(tree) == before


# ----------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("info", "published"),
    [
        ("2021年2月23日 08:03  第一財經", "2021-02-23 08:03"),
        ("發布日期:2024-06-19", "2024-06-19"),
        ("发布时间：2023-11-21 11:02 来源：经济日报", "2023-11-21 11:02"),
        ("2023-11-21 11:02", "2023-11-21 11:02"),
        ("2023/11/21", "2023-11-21"),
        ("2022.01.20 16:31", "2022-01-20 16:31"),
        ("2005-5-7 21:23:57", "2005-05-07 21:23"),
        ("2020年3月12日 星期四 下午 3:05", "2020-03-12 15:05"),
        ("发布日期： 7/5/2005 9:23:57 PM", "2005-07-05 21:23"),
        ("二〇二四年六月十九日", "2024-06-19"),
    ],
)
def test_dates_as_chinese_pages_print_them(info: str, published: str) -> None:
    assert page(info).published == published


PUBLISHED_TIME = '<meta property="article:published_time" content="{}">'


@pytest.mark.parametrize(
    ("tag", "published"),
    [
        (PUBLISHED_TIME.format("2024-06-19T08:03:00+08:00"), "2024-06-19 08:03"),
        (PUBLISHED_TIME.format("2024-06-19T00:03:00Z"), "2024-06-19 08:03"),
        ('<meta name="pubdate" content="2024-06-19 08:03">', "2024-06-19 08:03"),
        ('<meta name="PubDate" content="2024-06-19 08:03:25">', "2024-06-19 08:03"),
        ('<meta name="publishdate" content="2024-06-19">', "2024-06-19"),
        # Midnight sharp is a CMS filling in a day it has no time for.
        ('<meta name="publishdate" content="2024-06-19 00:00:00">', "2024-06-19"),
        (
            '<script type="application/ld+json">{"@type": "NewsArticle",'
            ' "datePublished": "2024-06-19T08:03:00+08:00"}</script>',
            "2024-06-19 08:03",
        ),
    ],
)
def test_dates_from_meta_tags_and_json_ld(tag: str, published: str) -> None:
    assert meta("<h1>深圳发布算力券新政</h1><p>正文。</p>", head=tag).published == published


def test_a_meta_day_takes_its_time_from_the_page() -> None:
    got = meta(
        "<h1>深圳发布算力券新政</h1><p>一段很长的导语，说明这项政策的来龙去脉和适用范围，以及申报方式。</p>"
        "<p>正文。</p><div>相关新闻 2024-06-19 08:03</div>",
        head='<meta name="publishdate" content="2024-06-19">',
    )
    assert got.published == "2024-06-19 08:03"


@pytest.mark.parametrize(
    ("url", "published"),
    [
        ("http://politics.people.com.cn/n1/2024/0424/c1001-40223222.html", "2024-04-24"),
        ("http://gxj.sz.gov.cn/xxgk/202406/t20240619_1234567.htm", "2024-06-19"),
        ("http://www.news.cn/fortune/2023-11/17/c_1129981476.htm", "2023-11-17"),
        ("http://finance.example.cn/2005-03-21/244339.shtml", "2005-03-21"),
        ("http://gxj.sz.gov.cn/xxgk/202406/post_1234567.html", None),  # a month is no day
    ],
)
def test_dates_from_the_url(url: str, published: str | None) -> None:
    assert meta("<h1>深圳发布算力券新政</h1><p>正文。</p>", url=url).published == published


@pytest.mark.parametrize(
    ("info", "published"),
    [
        ("3小时前", "2024-06-19 07:00"),
        ("30分钟前", "2024-06-19 09:30"),
        ("刚刚", "2024-06-19 10:00"),
        ("昨天 14:20", "2024-06-18 14:20"),
        ("前天", "2024-06-17"),
        ("今天 08:00", "2024-06-19 08:00"),
        ("06-18 21:15", "2024-06-18 21:15"),
    ],
)
def test_relative_times_count_back_from_the_fetch(info: str, published: str) -> None:
    assert page(info, fetched_at=FETCHED).published == published
    assert page(info, fetched_at=FETCHED.replace(tzinfo=None)).published == published


def test_relative_time_without_a_fetch_time_is_not_guessed() -> None:
    assert page("3小时前").published is None
    assert page("昨天 14:20").published is None


def test_the_date_under_the_headline_beats_dates_elsewhere() -> None:
    got = meta(
        "<div class='top'>今天是2024年6月21日 星期五</div>"
        "<ul><li><a>另一条新闻</a> 2024-06-20 18:00</li></ul>"
        "<h1>深圳发布算力券新政</h1><div>2024-06-19 08:03 来源：深圳特区报</div>"
        "<p>自2024年7月1日起施行，有效期至2026年6月30日。</p>"
        "<div class='related'><h3>相关稿件</h3><ul><li>旧闻 2023-05-31 18:20</li></ul></div>"
        "<footer>版权所有 © 2005-2024 示例新闻网</footer>",
        head="<title>深圳发布算力券新政_示例新闻网</title>",
    )
    assert got.published == "2024-06-19 08:03"


def test_a_label_in_the_cell_before_counts() -> None:
    got = meta(
        "<h1>关于发布算力券实施细则的通知</h1>"
        "<table><tr><td>发布日期：</td><td>2024年06月19日</td></tr></table><p>正文。</p>",
        head="<title>关于发布算力券实施细则的通知</title>",
    )
    assert got.published == "2024-06-19"


def test_impossible_dates_are_rejected() -> None:
    assert page("2024-06-25 08:00", fetched_at=FETCHED).published is None  # after the fetch
    assert page("1990-06-25 08:00").published is None  # before any Chinese news site
    assert page("2024-02-30").published is None


def test_a_date_printed_by_a_short_inline_script() -> None:
    got = page('<script>showDate("2020/04/17 01:43:09")</script> 浏览 7')
    assert got.published == "2020-04-17 01:43"


# ----------------------------------------------------------------------------------- outlet


@pytest.mark.parametrize(
    ("info", "outlet"),
    [
        ("2024-06-19 来源：经济日报", "经济日报"),
        ("2024-06-19 來源:北京國際工程咨詢有限公司", "北京國際工程咨詢有限公司"),
        ("稿源：新华社 2024-06-19", "新华社"),
        ("2021年2月23日 08:03  第一財經", "第一財經"),
        ("2005年03月21日 11:21 《理财周刊》", "理财周刊"),
        ("来源：人民网 作者：张三", "人民网"),
        ("来源：新华日报编辑：李四", "新华日报"),
        ("来源：[ 人民网 ]", "人民网"),
        ("来源：21世纪经济报道(广州)", "21世纪经济报道"),
        ("来源：光明日报 点击数：123", "光明日报"),
        ("来源：中国新闻网2024-06-19 08:00", "中国新闻网"),
        ("来源：新京报评论 评论(12)", "新京报评论"),
        ("图片来源：视觉中国 2024-06-19", None),
        ("来源：http://www.example.cn 2024-06-19", None),
    ],
)
def test_outlet(info: str, outlet: str | None) -> None:
    assert page(info).outlet == outlet


# ----------------------------------------------------------------------------------- author


@pytest.mark.parametrize(
    ("info", "author"),
    [
        ("作者：记者 陈晓 来源：经济日报", "陈晓"),
        ("记者 张三 李四", "张三 李四"),
        ("本报记者：王五", "王五"),
        ("2024-06-19（记者张三、李四）", "张三 李四"),
        ("记者 罗晓晴 通讯员 肖然", "罗晓晴 通讯员 肖然"),
        ("〔記者巫其倫／台北報導〕", "巫其倫"),
        ("文／李四 2024-06-19", "李四"),
        ("作者：记者", None),  # a role is no name
        ("来源：澎湃新闻 作者：澎湃新闻", None),  # nor the outlet
        ("2024-06-19（责任编辑：刘洋）", None),  # the editor who checked the page
        ("新华社记者 才扬 摄", None),  # a photo credit
    ],
)
def test_author_from_bylines(info: str, author: str | None) -> None:
    assert page(info).author == author


def test_a_name_in_brackets_closing_the_story() -> None:
    story = "<p>会议指出，要加快推动人工智能与实体经济深度融合。</p>"
    for close in ("（李建国）", "(李建国)"):
        got = meta(f"<h1>标题</h1>{story}<p>记者会后表示将继续推进。{close}</p>")
        assert got.author == "李建国"
    # A bracketed word that is no name: a credit, a unit.
    assert meta(f"<h1>标题</h1><p>晨练的老年人。（视觉中国）</p>{story}").author is None


def test_author_from_meta_but_not_the_site_or_a_url() -> None:
    head = "<title>深圳发布算力券新政_示例新闻网</title>"
    body = "<h1>深圳发布算力券新政</h1><p>正文。</p>"
    assert meta(body, head=head + '<meta name="author" content="陈晓">').author == "陈晓"
    assert meta(body, head=head + '<meta name="author" content="示例新闻网">').author is None
    assert meta(body, head=head + '<meta name="author" content="示例">').author is None
    url_author = '<meta name="author" content="https://example.cn/people/chen">'
    assert meta(body, head=head + url_author).author is None


# ------------------------------------------------------------------------------------ title


@pytest.mark.parametrize(
    ("title", "headline"),
    [
        ("深圳发布算力券新政_财经网", "深圳发布算力券新政"),
        ("深圳发布算力券新政 - 新华网", "深圳发布算力券新政"),
        ("深圳发布算力券新政--时政--人民网", "深圳发布算力券新政"),
        ("深圳发布算力券新政|算力券|新政_新浪财经_新浪网", "深圳发布算力券新政"),
        ("新华网 | 深圳发布算力券新政", "深圳发布算力券新政"),
        ("是你嗎？ 1-2月期發票千萬獎開出18張 - 自由財經", "是你嗎？ 1-2月期發票千萬獎開出18張"),
        ("华为发布Wi-Fi 7路由器_科技_示例网", "华为发布Wi-Fi 7路由器"),
        ("为建设凝聚力量——热烈祝贺大会开幕_市人民政府网", "为建设凝聚力量——热烈祝贺大会开幕"),
    ],
)
def test_title_without_the_site_suffix(title: str, headline: str) -> None:
    assert meta("<p>正文。</p>", head=f"<title>{title}</title>").title == headline


def test_the_heading_found_in_title_picks_the_segment() -> None:
    head = "<title>要闻 | 深圳发布算力券新政 | 示例新闻网</title>"
    assert meta("<h1>深圳发布算力券新政</h1>", head=head).title == "深圳发布算力券新政"
    # The channel is the longest segment, but the headline is the one the page shows.
    head = "<title>算力|深圳市工业和信息化局关于印发通知_深圳市工业和信息化局门户网站</title>"
    got = meta("<h1>深圳市工业和信息化局关于印发通知</h1>", head=head)
    assert got.title == "深圳市工业和信息化局关于印发通知"


def test_og_title_and_trafilatura_candidates() -> None:
    head = (
        "<title>频道首页 - 深圳发布算力券新政 - 示例新闻网</title>"
        '<meta property="og:title" content="深圳发布算力券新政">'
    )
    assert meta("<p>正文。</p>", head=head).title == "深圳发布算力券新政"
    head = "<title>深圳发布算力券新政 - 示例新闻网</title>"
    body = "<div class='article-title'>深圳发布算力券新政</div><p>正文。</p>"
    assert meta(body, head=head).title == "深圳发布算力券新政"


def test_traditional_titles_stay_as_they_are() -> None:
    head = "<title>香港科學園機器人企業加速出海_產業動態_香江新聞網</title>"
    got = meta("<h1>香港科學園機器人企業加速出海</h1>", head=head)
    assert got.title == "香港科學園機器人企業加速出海"


def test_titles_without_a_usable_title_tag() -> None:
    # <title> cut short: the heading has the whole headline.
    head = "<title>广州南沙邮轮母港即将开通！地铁直达+无敌免..._澎湃新闻</title>"
    got = meta("<h1>广州南沙邮轮母港即将开通！地铁直达+无敌免费接驳</h1>", head=head)
    assert got.title == "广州南沙邮轮母港即将开通！地铁直达+无敌免费接驳"
    # <title> names only the site.
    got = meta(
        "<h1>关于开展算力券申报工作的通知</h1>", head="<title>深圳市工业和信息化局网站</title>"
    )
    assert got.title == "关于开展算力券申报工作的通知"
    # No <title>: the meta title, without its suffix, else the heading.
    head = '<meta property="og:title" content="深圳发布算力券新政 - 示例新闻网">'
    assert meta("<p>正文。</p>", head=head).title == "深圳发布算力券新政"
    assert meta("<h1>深圳发布算力券新政</h1>").title == "深圳发布算力券新政"
    assert meta("<p>正文。</p>").title is None


def test_a_magazine_reprint_gives_its_issue_month() -> None:
    html = (
        "<html><body><h1>访谈录</h1><p>正文一段。</p><p>——《某某杂志》1998年3月号</p></body></html>"
    )
    meta = page_metadata(lxml.html.document_fromstring(html), "http://127.0.0.1/a.html")
    assert meta.published == "1998-03"
