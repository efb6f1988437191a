"""The cleaning stage on the seed documents and on the kinds of line real pages carry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.clean import clean_text
from crawler.clean.chrome import Kind, classify_line
from crawler.clean.script import PINYIN_TAG, remove_pinyin_tags, to_simplified
from crawler.clean.spam import is_link_farm, is_spam
from crawler.clean.structure import undouble

SEEDS = Path(__file__).parent / "fixtures" / "seed-docs"
LABELS = json.loads((SEEDS / "labels.json").read_text("utf-8"))


def seed(prefix: str) -> tuple[str, dict]:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return path.read_text("utf-8"), LABELS[path.name]


def paragraphs(text: str) -> list[str]:
    """The seed's body paragraphs: long lines with sentences, as the page had them."""
    return [
        line.strip()
        for line in text.splitlines()
        if len(line.strip()) > 60 and "。" in line and "\ufffd" not in line
    ]


def test_seed_003_loses_its_spam_line_and_keeps_every_paragraph() -> None:
    text, label = seed("003")
    cleaned = clean_text(text, label["title"])
    (spam,) = label["spam_lines"]
    assert spam not in cleaned.text and "日韩" not in cleaned.simplified
    # Pinyin tags show the page was machine-converted from Simplified: it reads in Simplified.
    for paragraph in paragraphs(text):
        assert to_simplified(remove_pinyin_tags(paragraph)) in cleaned.text
    assert cleaned.outlet == "北京国际工程咨询有限公司"
    assert any(c.startswith("數據來源") for c in cleaned.captions)
    assert "traditional" in cleaned.flags


def test_seed_002_comes_out_simplified_without_pinyin() -> None:
    text, label = seed("002")
    cleaned = clean_text(text, label["title"])
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ]+\)", cleaned.text)
    assert "区域" in cleaned.text and "區" not in cleaned.text
    assert "工业和信息化部近日印发通知" in cleaned.text
    # The navigation bar, the editor line, the disclaimer and the footer are gone.
    for chrome in ("首页|", "必读", "声明", "ICP", "CopyRight", "相关新闻", "章芳"):
        assert chrome not in cleaned.text, chrome
    assert cleaned.editor == "章芳"
    assert {"pinyin_garbled", "lost_punctuation"} <= set(cleaned.flags)
    assert cleaned.quality < 0.9  # damaged, and users can see it


def test_seed_001_loses_footer_and_related_articles() -> None:
    text, label = seed("001")
    cleaned = clean_text(text, label["title"])
    for chrome in (
        "相关稿件",
        "抢占未来产业制高点",
        "国务院国有资产管理委员会",
        "点赞",
        "上一条",
        "微博",
        "中国企业信息交流平台",
    ):
        assert chrome not in cleaned.text, chrome
    assert cleaned.text.startswith("人工智能是新一轮科技革命和产业变革的重要驱动力量")
    assert cleaned.text.endswith("(李建国)")
    assert cleaned.quality == 1.0 and cleaned.flags == ()


def test_seed_000_headings_printed_once() -> None:
    text, label = seed("000")
    cleaned = clean_text(text, label["title"])
    assert "扶持政策密集出台扶持政策密集出台" not in cleaned.text
    assert "扶持政策密集出台去年的中央经济工作会议" in cleaned.text


def test_seed_004_words_broken_across_lines_are_joined() -> None:
    text, label = seed("004")
    assert "人工\n\n智能" in text
    cleaned = clean_text(text, label["title"])
    assert "人工智能综合型领军型企业" in cleaned.text
    assert "呈现逐年上升趋势" in cleaned.text


@pytest.mark.parametrize(
    ("line", "kind", "value"),
    [
        ("（责任编辑：刘洋）", Kind.EDITOR, "刘洋"),
        ("编辑：金金", Kind.EDITOR, "金金"),
        ("来源：经济日报", Kind.SOURCE, "经济日报"),
        ("数据来源：国家统计局", Kind.CAPTION, "数据来源：国家统计局"),
        ("上一篇：北京发布算力券实施细则", Kind.CHROME, None),
        ("分享到：微信 微博 QQ空间", Kind.CHROME, None),
        ("点赞 37 | 举报 | 反馈 | 打印", Kind.CHROME, None),
        ("版权所有 © 2024 某某网 京ICP备12345678号", Kind.CHROME, None),
        ("2023-11-21 11:02 来源:经济参考报 次阅读", Kind.CHROME, None),
        ("声明：本网转载此文出于传递更多信息之目的。", Kind.CHROME, None),
        ("5月31日，深圳印发行动方案，统筹设立规模1000亿元的人工智能基金群。", Kind.BODY, None),
        ("记者从市经信局获悉，首批算力券名单已公示。", Kind.BODY, None),
    ],
)
def test_line_kinds(line: str, kind: Kind, value: str | None) -> None:
    verdict = classify_line(line)
    assert verdict.kind is kind and verdict.value == value


def test_spam_by_what_it_is_not_by_a_list() -> None:
    assert is_spam("澳门葡京娱乐城,百家乐真人开户,时时彩计划,体育投注返水")
    assert is_spam("国产精品久久 | 欧美日韩在线观看 | 无码高清视频区")
    # A news sentence about gambling is news.
    assert not is_spam(
        "警方破获一起跨境网络赌博案，查处百家乐、六合彩等赌博网站12个，涉案金额超亿元。"
    )
    assert is_link_farm(
        "国务院国资委 中国企业联合会 中国企业报 中国社会经济网 新浪财经 凤凰财经 金融界"
    )
    assert not is_link_farm("1、英语 2、艺术概论 3、中国艺术史 4、美学 5、哲学 6、经典阅读")
    assert not is_link_farm(
        "上海（浦东新区）、深圳、济南—青岛、北京、天津（滨海新区）、杭州等11个先导区。"
    )


def test_pinyin_tags_only_with_a_tone() -> None:
    assert remove_pinyin_tags("監(jiān)管 區(qū)域 數(shù)據(jù)") == "監管 區域 數據"
    assert PINYIN_TAG.search("通用人工智能(AGI)和芯片(chip)") is None


def test_doubled_runs_are_printed_once() -> None:
    assert undouble("扶持政策密集出台扶持政策密集出台") == "扶持政策密集出台"
    assert undouble("哈哈哈哈，谢谢谢谢") == "哈哈哈哈，谢谢谢谢"


def test_cleaning_is_idempotent_on_the_seeds() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        once = clean_text(path.read_text("utf-8")).text
        assert clean_text(once).text == once, path.name
