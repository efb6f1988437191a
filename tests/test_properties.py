"""Properties of the pure stages (clean, tag, diff) over realistic and hostile text.

Realistic text is built from the seed documents' lines and sentence fragments (Simplified and
Traditional, chrome, spam, navigation bars); hostile text adds arbitrary code points, control
characters, zero-width and right-to-left marks, full-width punctuation, HTML, very long lines
and runs of blank lines. Every stage must take any of it without raising; cleaning must be
idempotent; a diff must turn its old text into its new one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import opencc
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.classify import classify
from crawler.classify.topics import Taxonomy, default_taxonomy
from crawler.clean import Cleaned, clean_text, prose_chars
from crawler.clean.chrome import Kind, classify_line, is_related_heading
from crawler.clean.script import (
    CJK,
    inspect_script,
    quality_score,
    remove_pinyin_tags,
    to_simplified,
)
from crawler.clean.spam import is_link_farm, is_spam
from crawler.clean.structure import continues_previous, normalize_line, squeeze, undouble
from crawler.dedup import NEAR_DISTANCE, bands, hamming, simhash
from crawler.diff import TextDiff, apply_diff, diff_texts, render_html, render_text, split_sentences

SEEDS = Path(__file__).parent / "fixtures" / "seed-docs"
SEED_LINES = sorted(
    {
        line.strip()
        for path in sorted(SEEDS.glob("*.txt"))
        for line in path.read_text("utf-8").splitlines()
    }
    - {""}
)
FRAGMENTS = sorted(
    {part for line in SEED_LINES for part in re.split(r"(?<=[，。；！？,;!?|])", line)} - {""}
)
# Runs of Chinese characters alone: words and headings, to be repeated, spaced out, listed.
WORDS = sorted({word for line in SEED_LINES for word in re.findall(f"[{CJK}]{{2,12}}", line)})
_TO_TRADITIONAL = opencc.OpenCC("s2t")

# Characters that break naive text handling: controls, every line break str.splitlines knows,
# zero-width and direction marks, full-width and CJK punctuation, right-to-left letters,
# combining marks, the replacement character, private use, astral CJK and emoji.
HOSTILE_CHARS = (
    "\x00\x01\x07\x08\t\n\x0b\x0c\r\x1b\x1c\x1d\x1e\x1f\x7f\x85\xa0\xad"
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2069\ufeff"
    "\u2028\u2029\u3000\u1680\u205f"
    "，。；：！？、“”‘’（）《》【】〖〗〔〕「」『』…—～·•－＋１２３ＡＩｇｐｔ"
    "|｜丨/\\<>&\"'=#;()[]{}-+*.!?:,"
    "مرحبا שלום"
    "\u0301\u0308\ufffd\ue000\U00020000\U0001f600"
    "āáǎàüjianqu12345aZ "
)
# Lines real pages carry around an article, and strings that look like markup or like the
# marks the diff renderer uses.
SNIPPETS = (
    "责任编辑：王明",
    "（编辑：李华 张三）",
    "来源：新华社",
    "上一篇：关于印发通知",
    "下一条",
    "相关新闻",
    "版权所有 Copyright © 2024",
    "点赞 分享到：微信 微博",
    "2023-11-21 11:02 来源:经济参考报 次阅读",
    "图1：示意图",
    "首页 > 新闻 > 正文",
    "日韩精品久久久,五月婷在线视频,小说区激情区综合区无码区,亚洲AV人人爽人人夜",
    "北京 上海 广州 深圳 杭州 南京 武汉 成都",
    "| 首页 | 新闻 | 政策 | 人工智能 |",
    "監(jiān)管",
    "監(jiān)",
    "(ān)",
    "(qu1)",
    "赌场 娱乐城 百家乐 老虎机",
    "<p>",
    "</div>",
    "<script>alert('x')</script>",
    '<a href="/x?a=1&b=2">链接</a>',
    "&amp;&lt;&#20013;&#x6587;&nbsp;",
    "<!-- 注释 -->",
    "<![CDATA[ ]]>",
    "〖-删-〗〖+增+〗↵⇥␣",
    "1、",
    "（一）",
    "人工智能",
    "5000万至1亿元",
    "最高支持1,000万元",
    "《深圳市加快推动人工智能高质量发展行动方案（2023—2024年）》",
    "2024年5月31日",
)
BREAKS = ("\n", "\n\n\n", "\r\n", "\r", "\n \n\u3000\n", "\u2028", "\x0c", "\n" * 40)

fragment = st.sampled_from(FRAGMENTS)
word = st.sampled_from(WORDS)
# Money figures, up to the absurd: a run of digits or numerals, repeated (1万万元, 9…9亿元).
figure = st.builds(
    lambda run, times, unit: run * times + unit,
    st.text("0123456789,.一二两十百千万亿", min_size=1, max_size=4),
    st.integers(1, 400),
    st.sampled_from(["元", "万元", "亿元", "美元", "港元", "元人民币"]),
)
piece = st.one_of(
    fragment,
    word,
    figure,
    # Items with spaces between them: link farms, menus, justified text (编 辑).
    st.lists(word, min_size=2, max_size=10).map(" ".join),
    st.builds(lambda text, times: text * times, word, st.integers(2, 3)),
    st.sampled_from(SEED_LINES),
    fragment.map(_TO_TRADITIONAL.convert),
    st.sampled_from(SNIPPETS),
    st.sampled_from(BREAKS),
    # A heading or phrase printed two or three times in a row.
    st.builds(lambda text, times: text * times, fragment, st.integers(2, 3)),
    st.text(st.sampled_from(HOSTILE_CHARS), max_size=12),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)
# A layout-table row: body and navigation cells side by side.
table_row = st.lists(piece, min_size=1, max_size=6).map(lambda cells: f"| {' | '.join(cells)} |")
# A very long line: a page that lost its line breaks, or a body without punctuation.
long_line = st.lists(fragment, min_size=30, max_size=150).map("".join)
line = st.one_of(st.lists(piece, min_size=1, max_size=3).map("".join), table_row, long_line)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Lines, each of a few pieces, with any kind (or run) of line break between them."""
    lines = draw(st.lists(line, max_size=30))
    return "".join(text + draw(st.sampled_from(("", " ", *BREAKS, "\n", "\n"))) for text in lines)


# Text of a few characters over and over: sentences alike enough to be paired as edits.
NEWSY = st.text(
    st.sampled_from("深圳市人工智能政策亿元的了10２。！？；!?;，、“”（）《》 \n\r\t\u3000")
)
# Any text at all: a page, arbitrary code points (no lone surrogates: text is decoded UTF-8),
# or a jumble of the awkward characters.
TEXT = st.one_of(
    documents(),
    documents(),
    NEWSY,
    st.text(st.characters(exclude_categories=["Cs"])),
    st.text(st.sampled_from(HOSTILE_CHARS)),
)
TITLE = st.one_of(st.none(), fragment, st.sampled_from(SEED_LINES), st.text(max_size=30))
LINE = st.one_of(line, st.text(st.sampled_from(HOSTILE_CHARS)))


@st.composite
def pages(draw: st.DrawFn) -> tuple[str, str | None]:
    """A text and its title, which may be one of its lines (a headline the page repeats)."""
    text = draw(TEXT)
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and draw(st.booleans()):
        return text, draw(st.sampled_from(lines))
    return text, draw(TITLE)


CLEAN = settings(max_examples=200, deadline=None)  # the first call loads jieba and opencc
TAG = settings(max_examples=80, deadline=None)
DIFF = settings(max_examples=150, deadline=None)


@st.composite
def revisions(draw: st.DrawFn) -> tuple[str, str]:
    """A text and a later version of it: a few spans replaced, or the text cleaned."""
    old = draw(TEXT)
    if draw(st.booleans()):
        return old, clean_text(old).text
    new = old
    for _ in range(draw(st.integers(0, 4))):
        start = draw(st.integers(0, len(new)))
        end = draw(st.integers(start, min(len(new), start + 40)))
        new = new[:start] + draw(st.one_of(piece, st.just(""))) + new[end:]
    return old, new


# ---------------------------------------------------------------- clean


@CLEAN
@given(pages())
def test_clean_text_takes_any_text(page: tuple[str, str | None]) -> None:
    text, title = page
    cleaned = clean_text(text, title)
    assert isinstance(cleaned, Cleaned)
    # The body is lines joined by "\n": no other line break, no blank or padded line.
    for body in (cleaned.text, cleaned.simplified):
        lines = body.split("\n")
        assert body.splitlines() == (lines if body else [])
        assert all(line and line == line.strip() for line in lines) or not body
    assert len(cleaned.text.split("\n")) == len(cleaned.simplified.split("\n"))
    assert 0.0 <= cleaned.quality <= 1.0


# Inputs that once came out different when cleaned again (each shortened by hand).
PARAGRAPH = "深圳市人民政府办公厅近日正式印发人工智能行动方案，首期投入超过十亿元，"
COPYRIGHT = "Copyright © 2024 某某网站 版权所有"


@CLEAN
@given(pages())
# A run printed three times came out twice; a heading's copy after a space came out doubled.
@example(("人工智能人工智能人工智能", None))
@example(("人工智能产业布局提速 人工智能产业布局提速", None))
# Spam words and list items counted with the spaces that cleaning takes out.
@example(("赌场 娱乐城 百家乐 老虎机 甲 乙 丙 丁 戊 己。", None))
@example(("（1） 甲乙、（2） 丙丁、（3） 戊己、（4） 庚辛、（5） 壬癸、（6） 子丑", None))
@example(("甲 乙 丙 丁 戊\n" * 8, None))
# Read as Simplified only once the long chrome line was gone: 更多资讯 is a related-links heading.
@example(
    ("更多資訊\n版权所有 " + "深圳市人民政府办公厅正式印发行动方案首期投入超过十亿元" * 3, None)
)
# A table row judged with its outer bars, which cleaning takes off.
@example(("| 首页 | 新闻 | 政策 | 人工智能 |", None))
@example(("| 产业布局 |", "产业布局"))
@example(("产业布局提速 产业布局提速", "产业布局提速"))
# Lines side by side once the line between them is dropped: a cut paragraph, a menu.
@example((f"{PARAGRAPH}\n{COPYRIGHT}\n重点支持通用大模型。", None))
@example((f"首页\n要闻\n政务\n图片\n{COPYRIGHT}\n视频\n专题\n服务\n下载", None))
# A second pinyin tag behind a character.
@example(("監(jiān)(ān)管", None))
def test_cleaning_cleaned_text_changes_nothing(page: tuple[str, str | None]) -> None:
    text, title = page
    cleaned = clean_text(text, title).text
    assert clean_text(cleaned).text == cleaned
    assert clean_text(cleaned, title).text == cleaned


@CLEAN
@given(LINE)
@example("一个大模型的崛起绝非偶然" * 3)  # undouble left it doubled
@example("監(jiān)(ān)管")  # remove_pinyin_tags left 監(ān)管
def test_the_line_helpers_take_any_line(line: str) -> None:
    assert classify_line(line).kind in Kind
    is_related_heading(line)
    is_spam(line)
    is_link_farm(line)
    assert prose_chars(line) <= len(line)
    for repair in (normalize_line, squeeze, undouble, remove_pinyin_tags):
        assert repair(repair(line)) == repair(line), repair.__name__
    assert len(undouble(line)) <= len(line) and len(squeeze(line)) <= len(line)
    assert "\n" not in normalize_line(line.replace("\n", " "))


@CLEAN
@given(TEXT)
def test_the_script_helpers_take_any_text(text: str) -> None:
    report = inspect_script(text)
    assert 0.0 <= quality_score(report, len(text)) <= 1.0
    assert isinstance(to_simplified(text), str)
    lines = text.splitlines()
    assert len(continues_previous(lines)) == len(lines)


# ---------------------------------------------------------------- tag


@TAG
@given(
    TEXT,
    TITLE,
    st.one_of(st.none(), st.dates().map(str), st.text(max_size=12)),
    st.sampled_from([None, default_taxonomy()]),
)
@example("1" * 302 + "亿元", None, None, None)  # a figure of inf yuan: not JSON
@example("1" + "万" * 78 + "元", None, None, None)
def test_classify_takes_any_text(
    text: str, title: str | None, published: str | None, taxonomy: Taxonomy | None
) -> None:
    tags = classify(text, title, published, taxonomy)
    record = tags.to_json()
    # Strict JSON (no Infinity): what `newsmon tag --json` prints and the database stores.
    assert json.loads(json.dumps(record, ensure_ascii=False, allow_nan=False)) == record
    ids = {topic.id for topic in default_taxonomy().topics}
    assert {tag.topic for tag in tags.topics} <= ids
    assert all(tag.score >= 1.0 for tag in tags.topics)
    simplified = to_simplified(text)
    assert all(amount.text in simplified and amount.yuan > 0 for amount in tags.amounts)


@TAG
@given(pages())
def test_classify_takes_cleaned_text(page: tuple[str, str | None]) -> None:
    text, title = page
    cleaned = clean_text(text, title)
    classify(cleaned.simplified, title)
    classify(cleaned.text, title)


# ---------------------------------------------------------------- diff


@DIFF
@given(TEXT)
def test_sentences_join_back_to_the_text(text: str) -> None:
    sentences = split_sentences(text)
    assert "".join(sentences) == text
    assert all(sentences)


@DIFF
@given(TEXT)
def test_a_text_against_itself_has_no_changes(text: str) -> None:
    diff = diff_texts(text, text)
    assert diff.changes == () and not diff
    assert render_text(diff) == render_html(diff) == ""


@DIFF
@given(st.one_of(revisions(), st.tuples(TEXT, TEXT)))
def test_a_diff_turns_old_into_new(pair: tuple[str, str]) -> None:
    old, new = pair
    diff = diff_texts(old, new)
    assert apply_diff(old, diff) == new
    assert bool(diff) == (old != new)
    done = 0
    for change in diff.changes:
        assert change.kind in ("insert", "delete", "replace")
        assert change.at >= done and old[change.at : change.at + len(change.old)] == change.old
        done = change.at + len(change.old)
        if change.kind == "replace":
            assert "".join(t for op, t in change.chars if op != "insert") == change.old
            assert "".join(t for op, t in change.chars if op != "delete") == change.new
        else:
            assert change.chars == ()


@DIFF
@given(st.one_of(revisions(), st.tuples(TEXT, TEXT)))
def test_a_diff_survives_json_and_renders(pair: tuple[str, str]) -> None:
    old, new = pair
    diff = diff_texts(old, new)
    stored = json.dumps(diff.to_json(), ensure_ascii=False)
    assert TextDiff.from_json(json.loads(stored)) == diff
    assert apply_diff(old, TextDiff.from_json(json.loads(stored))) == new


@DIFF
@given(st.one_of(revisions(), st.tuples(TEXT, TEXT)))
def test_a_diff_renders_every_change_escaped(pair: tuple[str, str]) -> None:
    old, new = pair
    diff = diff_texts(old, new + "<script>")
    # Text: blocks of "- old", "+ new", "~ marked" lines; whatever breaks the text had.
    blocks = render_text(diff).split("\n\n") if diff else []
    assert len(blocks) == len(diff.changes)
    assert all(line[:2] in ("- ", "+ ", "~ ") for block in blocks for line in block.split("\n"))
    # HTML: nothing of the text is markup.
    page = render_html(diff)
    assert "<" not in re.sub(r"</?(?:div|p|del|ins)\b[^>]*>|<br>", "", page)


# ---------------------------------------------------------------- near duplicates


@DIFF
@given(TEXT)
def test_simhash_of_any_text_is_64_bits(text: str) -> None:
    assert 0 <= simhash(text) < 2**64


@DIFF
@given(st.integers(0, 2**64 - 1), st.sets(st.integers(0, 63), max_size=NEAR_DISTANCE))
def test_near_hashes_share_a_band(value: int, flips: set[int]) -> None:
    other = value
    for bit in flips:
        other ^= 1 << bit
    assert hamming(value, other) == len(flips) <= NEAR_DISTANCE
    assert set(bands(value)) & set(bands(other))
