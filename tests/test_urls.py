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
