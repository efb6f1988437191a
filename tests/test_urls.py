"""One article is one row: tracking parameters and fragments do not make new URLs."""

from __future__ import annotations

from crawler.urls import canonical_url


def test_tracking_parameters_and_fragments_are_dropped() -> None:
    url = "https://WWW.Example.gov.cn/art/2024/6/19/art_1_2.html?utm_source=wx&spm=a.b&from=timeline#top"
    assert canonical_url(url) == "https://www.example.gov.cn/art/2024/6/19/art_1_2.html"


def test_parameters_that_name_the_article_stay_sorted() -> None:
    a = canonical_url("http://news.example.com/show.asp?page=2&id=1768")
    b = canonical_url("http://news.example.com/show.asp?id=1768&page=2&utm_medium=rss")
    assert a == b == "http://news.example.com/show.asp?id=1768&page=2"


def test_a_source_drops_its_own_parameters() -> None:
    url = "https://baijiahao.baidu.com/s?id=1768091457622934485&wfr=spider&for=pc"
    assert canonical_url(url, ("for",)) == "https://baijiahao.baidu.com/s?id=1768091457622934485"
    assert "for=pc" in canonical_url(url)


def test_feed_and_presentation_flags_are_dropped() -> None:
    assert canonical_url("https://36kr.com/p/2396489581718661?f=rss") == (
        "https://36kr.com/p/2396489581718661"
    )
    assert canonical_url("https://www.thepaper.cn/newsDetail_forward_27760000?commTag=true") == (
        "https://www.thepaper.cn/newsDetail_forward_27760000"
    )
    linked = "https://gxj.sz.gov.cn/gkmlpt/content/12/12956/post_12956819.html?jump=true&share=wx"
    assert canonical_url(linked) == (
        "https://gxj.sz.gov.cn/gkmlpt/content/12/12956/post_12956819.html"
    )


def test_a_flag_dropped_for_one_value_keeps_the_others() -> None:
    # f=rss only tags a feed link; another value of f can pick the page.
    assert canonical_url("http://news.example.com/show.asp?id=7&f=pdf") == (
        "http://news.example.com/show.asp?f=pdf&id=7"
    )
