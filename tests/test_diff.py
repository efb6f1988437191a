"""Diffs of Chinese text (by sentence, then by character) and near-duplicate SimHashes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

import crawler.demo
from crawler.dedup import NEAR_DISTANCE, bands, hamming, simhash
from crawler.diff import (
    Change,
    TextDiff,
    apply_diff,
    diff_texts,
    render_html,
    render_text,
    split_sentences,
)

ARTICLES = {
    article["id"]: "\n".join(p.removeprefix("## ") for p in article["paragraphs"])
    for article in tomllib.loads(
        (Path(crawler.demo.__file__).parent / "articles.toml").read_text("utf-8")
    )["article"]
}
BODY = (
    "5月31日，深圳市人民政府办公厅正式印发《行动方案》。"
    "首期投入超过10亿元，重点支持通用大模型和智能芯片。\n"
    "“这一轮政策的核心思路，是把算力、数据、模型、场景打通。”林振华说。\n"
    "据了解，相关配套实施细则将在3个月内陆续出台！"
)
EDITED = BODY.replace("超过10亿元", "超过12亿元")
# Properties over any text (diffs apply, survive JSON, render; hashes are 64 bits) are in
# test_properties.py.


# ---------------------------------------------------------------- sentences


def test_sentences_end_after_terminators_closing_quotes_and_line_breaks() -> None:
    assert split_sentences("第一句。第二句！“第三句？”他说；\n标题\n\n最后") == [
        "第一句。",
        "第二句！",
        "“第三句？”",
        "他说；\n",
        "标题\n\n",
        "最后",
    ]
    assert split_sentences("") == []
    assert split_sentences("Really?! Yes; 1.5亿元") == ["Really?! ", "Yes; ", "1.5亿元"]


# ---------------------------------------------------------------- diffs


def test_one_edited_sentence_is_one_replace_of_the_changed_characters() -> None:
    diff = diff_texts(BODY, EDITED)
    (change,) = diff.changes
    assert change.kind == "replace"
    assert change.old == "首期投入超过10亿元，重点支持通用大模型和智能芯片。\n"
    assert change.new == "首期投入超过12亿元，重点支持通用大模型和智能芯片。\n"
    assert change.chars == (
        ("equal", "首期投入超过1"),
        ("delete", "0"),
        ("insert", "2"),
        ("equal", "亿元，重点支持通用大模型和智能芯片。\n"),
    )
    assert BODY[change.at :].startswith(change.old)


def test_an_added_and_a_removed_sentence() -> None:
    added = BODY.replace("。\n“", "。\n市财政局同步公布了申报指南。“")
    (change,) = diff_texts(BODY, added).changes
    assert (change.kind, change.old, change.new, change.chars) == (
        "insert",
        "",
        "市财政局同步公布了申报指南。",
        (),
    )
    (change,) = diff_texts(added, BODY).changes
    assert (change.kind, change.old, change.new) == ("delete", "市财政局同步公布了申报指南。", "")


def test_an_edited_sentence_next_to_an_added_one_stays_an_edit() -> None:
    new = EDITED.replace("智能芯片。\n", "智能芯片。\n另有一批新项目将在年内开工。\n")
    kinds = [(change.kind, change.new) for change in diff_texts(BODY, new).changes]
    assert kinds == [
        ("replace", "首期投入超过12亿元，重点支持通用大模型和智能芯片。\n"),
        ("insert", "另有一批新项目将在年内开工。\n"),
    ]
    assert apply_diff(BODY, diff_texts(BODY, new)) == new


def test_a_rewritten_sentence_is_old_and_new_without_scattered_marks() -> None:
    old = "深圳将加快建设城市级智能算力平台，推动重大算力平台扩容升级。"
    new = "上海将依托临港新片区建设国际数据港，推进公共算力服务平台。"
    (change,) = diff_texts(old, new).changes
    assert change.chars == (("delete", old), ("insert", new))
    assert render_text(diff_texts(old, new)) == f"- {old}\n+ {new}"


def test_the_same_text_has_no_diff() -> None:
    diff = diff_texts(BODY, BODY)
    assert not diff and diff.changes == ()
    assert render_text(diff) == "" and render_html(diff) == ""


def test_whitespace_is_a_change_and_shows() -> None:
    diff = diff_texts("甲乙。丙丁。", "甲乙。 丙丁。")
    assert diff
    assert "〖+␣+〗" in render_text(diff)


def test_render_text_shows_the_sentence_and_marks_the_change() -> None:
    text = render_text(diff_texts(BODY, EDITED))
    assert text.splitlines() == [
        "- 首期投入超过10亿元，重点支持通用大模型和智能芯片。",
        "+ 首期投入超过12亿元，重点支持通用大模型和智能芯片。",
        "~ 首期投入超过1〖-0-〗〖+2+〗亿元，重点支持通用大模型和智能芯片。",
    ]


def test_render_html_marks_the_change_and_escapes_everything() -> None:
    page = render_html(diff_texts(BODY, EDITED))
    assert ">0</del>" in page and ">2</ins>" in page and "首期投入超过1<del" in page
    script = "<script>alert('x')</script>"
    page = render_html(diff_texts(BODY, BODY + script + "&amp;"))
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp;amp;" in page
    page = render_html(diff_texts(f"{script}。", f"{script}!。"))
    assert "<script>" not in page


def test_json_round_trip() -> None:
    new = EDITED + "新增一句。" + "\n"
    diff = diff_texts(BODY, new)
    stored = json.dumps(diff.to_json(), ensure_ascii=False)
    assert TextDiff.from_json(json.loads(stored)) == diff
    assert apply_diff(BODY, TextDiff.from_json(json.loads(stored))) == new


@pytest.mark.parametrize(
    "data",
    [
        {"version": 2, "changes": []},
        {"version": 1},
        {"version": 1, "changes": [{"kind": "move", "at": 0, "old": "a", "new": "b"}]},
        {"version": 1, "changes": [{"kind": "insert", "at": -1, "old": "", "new": "b"}]},
        {"version": 1, "changes": [{"kind": "insert", "at": 0, "old": "a", "new": "b"}]},
        {"version": 1, "changes": [["insert", 0, "", "b"]]},
        {
            "version": 1,
            "changes": [
                {"kind": "replace", "at": 0, "old": "a", "new": "b", "chars": [["equal", "x"]]}
            ],
        },
    ],
)
def test_from_json_rejects_what_is_not_a_diff(data: dict) -> None:
    with pytest.raises(ValueError):
        TextDiff.from_json(data)


def test_a_diff_only_applies_to_its_own_old_text() -> None:
    diff = diff_texts(BODY, EDITED)
    with pytest.raises(ValueError, match="does not apply"):
        apply_diff(EDITED, diff)
    overlapping = TextDiff((Change("delete", "ab", "", (), 0), Change("delete", "b", "", (), 1)))
    with pytest.raises(ValueError):
        apply_diff("abc", overlapping)


# ---------------------------------------------------------------- near duplicates


def syndicated(body: str) -> str:
    """The story as another outlet runs it: its own source line, page chrome, a sentence cut."""
    sentences = split_sentences(body)
    del sentences[len(sentences) // 2]
    return "来源：南方日报\n点赞 分享到：微信 微博\n" + "".join(sentences) + "\n（责任编辑：王明）"


def test_a_syndicated_copy_is_near() -> None:
    body = ARTICLES["sz-ai-action-plan"]
    assert hamming(simhash(body), simhash(syndicated(body))) <= NEAR_DISTANCE
    copy = body.replace("，", ",").replace("\n", " ")
    assert hamming(simhash(body), simhash(copy)) <= NEAR_DISTANCE


def test_a_different_story_on_the_same_topic_is_far() -> None:
    shenzhen = [ARTICLES[key] for key in ("sz-ai-action-plan", "sz-nanshan-ai-cluster")]
    shenzhen += [ARTICLES["futian-govt-llm"], ARTICLES["qianhai-hk-ai-cooperation"]]
    hashes = [simhash(body) for body in shenzhen]
    for i, a in enumerate(hashes):
        for b in hashes[i + 1 :]:
            assert hamming(a, b) > 3 * NEAR_DISTANCE


def test_simhash_reads_only_words() -> None:
    assert simhash("") == simhash("。，\n ") == 0
    assert simhash("算力券 10 亿元") == simhash("算力券，１０亿元。")
    assert 0 <= simhash("深圳") < 2**64


def test_hamming_counts_the_bits_that_differ() -> None:
    value = simhash(ARTICLES["sz-ai-action-plan"])
    assert hamming(value, value) == 0
    assert hamming(value, value ^ 0b1011) == 3
    assert hamming(0, 2**64 - 1) == 64


def test_bands_are_tagged_sixteen_bit_slices() -> None:
    assert bands(0) == (0, 1 << 16, 2 << 16, 3 << 16)
    assert bands(0xFFFF_0000_0000_1234) == (0x1234, 1 << 16, 2 << 16, 3 << 16 | 0xFFFF)
