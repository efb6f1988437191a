"""Spam: SEO porn/gambling lines injected into pages, keyword stuffing and link farms.

Recognised by what they are: a lexicon of the trade's words, and lists of many short items
with no sentence in them (a footer of 100+ partner names is a list, not prose).
"""

from __future__ import annotations

import re

from crawler.text import ASCII_STOPS, FULL_STOPS

# Words of injected porn/gambling SEO. One is not enough (a news story may name 博彩 or 赌场);
# spam strings pile them up. Written in lower case and matched in the lower-cased line, which
# finds what IGNORECASE would (av, a片, pk10 are the only cased words; no codepoint lowers to
# one of their letters that IGNORECASE would not match with it) in a seventh of the time.
SPAM_WORDS = re.compile(
    "|".join(
        (
            r"日韩|欧美|亚洲|国产|精品|久久|无码|有码|激情|成人|色情|黄色|情色|人妻|熟女|偷拍|自拍|av|a片"
            r"|婷|人人爽|夜夜|毛片|三级|福利|在线视频|在线观看|免费看|高清|视频区|小说区",
            r"博彩|赌场|娱乐城|百家乐|老虎机|彩票|六合彩|时时彩|pk10|北京赛车|体育投注|足球投注|棋牌|真人|开户"
            r"|葡京|金沙|威尼斯人|太阳城|皇冠|新濠|永利|赌|投注|下注|返水|彩金|充值",
        )
    )
)
ITEM_SEPARATORS = re.compile(r"[,，、|｜丨/／;；·•\s]+")
SENTENCE = re.compile(f"[{FULL_STOPS}{ASCII_STOPS}]")


def is_spam(line: str) -> bool:
    """Whether ``line`` is injected SEO spam: a list of items full of porn/gambling words."""
    hits = set(SPAM_WORDS.findall(line.lower()))
    if len(hits) < 3:
        return False
    items = [i for i in ITEM_SEPARATORS.split(line) if i]
    return not SENTENCE.search(line) or len(hits) >= max(4, len(items) // 2)


NUMBERED = re.compile(r"^[（(]?\d{1,2}[)）、.．]?$|^\d{1,2}[、.．]")


def is_link_farm(text: str) -> bool:
    """Whether ``text`` is a list of many short names (partner links, tag clouds, stuffing).

    Numbered items (1、… 2、…) are an enumeration, not a farm."""
    if SENTENCE.search(text) or "，" in text:
        return False
    items = [i for i in ITEM_SEPARATORS.split(text.replace("\\|", "|")) if i]
    if len(items) < 6 or sum(bool(NUMBERED.match(i)) for i in items) >= 2:
        return False
    lengths = sorted(len(i) for i in items)
    return lengths[len(lengths) // 2] <= 12
