"""Money figures in an article (TAXONOMY.md §4): 1000亿元 基金群, 最高支持1亿元. Pure.

Each figure keeps the words that say what it is, its value, and its currency. Figures are
found by one pattern that starts with a digit (so the scan skips everything else), then the
qualifier before them (最高, 不超过, 约) and the clause around them are read off the text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import NamedTuple

from crawler.clean.script import to_simplified

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
MULTIPLIERS = {"十": 10, "百": 100, "千": 1e3, "万": 1e4, "亿": 1e8}
# Longest names first: 澳门元 before 元, 元人民币 before 元.
CURRENCIES = {
    "元人民币": "CNY",
    "人民币": "CNY",
    "元": "CNY",
    "美元": "USD",
    "美金": "USD",
    "欧元": "EUR",
    "港元": "HKD",
    "港币": "HKD",
    "澳门元": "MOP",
    "澳门币": "MOP",
    "澳元": "AUD",
    "新台币": "TWD",
    "日元": "JPY",
    "英镑": "GBP",
    "韩元": "KRW",
    "卢布": "RUB",
}
CURRENCY = "|".join(sorted(CURRENCIES, key=len, reverse=True))
NUMERAL = "零〇一二两三四五六七八九十百千万亿"
# A figure: a run of digits and numerals (1,000 / 1.2万亿 / 两千万 / 1000余万), maybe a range
# (5000万至1亿), then a currency. The pattern starts with one character class so that the
# scan skips every other character; the run is read and checked by _value.
RUN = rf"[\d{NUMERAL}][\d,.{NUMERAL}余多]*"
AMOUNT = re.compile(
    rf"(?P<number>{RUN})(?:(?:至|到|-|—|~|～)(?P<high>{RUN}))?(?P<currency>{CURRENCY})"
    r"(?!宇宙|素|旦)"  # 元宇宙, 元素, 元旦 are words, not yuan
)
ARABIC = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
MULTIPLIER_RUN = re.compile("[十百千万亿]*")
# Chinese numerals count only with a unit in them (千亿, 两千万, 五百): a lone 一 before 元 is
# part of a word (统一元数据).
CHINESE_NUMBER = re.compile(
    "[零〇一二两三四五六七八九十百千]*[十百千万亿][零〇一二两三四五六七八九十百千万亿]*"
)
STRAY_NUMERALS = re.compile(rf"[{NUMERAL}]+(?=\d)")
# 数十亿, 几百万: no figure at all.
VAGUE = ("数", "几")
# What a figure is qualified by, read backwards from it: 最高可获得, 不超过, 约.
QUALIFIER = re.compile(
    r"(?:最高(?:可|将)?(?:获得?|给予|支持|奖励|资助|补贴|补助|享受?|达到?)?|不超过|不低于|不少于|超过|超|逾"
    r"|约|近|高达)$"
)
# Clauses end at these; 、 and 和 do not end one, so an enumeration shares its words. A space
# ends one too: headlines separate their parts with spaces.
CLAUSE_END = re.compile(r"[，。；！？：,;:!?（）()“”\"\s]")
# Between two figures of one enumeration (100万元、50万元和20万元).
ENUMERATION = re.compile(r"\s*(?:、|和|或|及|与|至|到|-|—|/)\s*")
CUT_NUMBER = re.compile(r"^[0-9A-Za-z.,%]+")
CLAUSE_CHARS = 200  # a clause is looked for this far back
BEFORE_CHARS = 16
AFTER_CHARS = 12
QUALIFIER_CHARS = 8


@dataclass(frozen=True)
class Amount:
    """A money figure: as written, its value, its currency, and what it is for."""

    text: str  # as written, with its qualifier: 最高支持1亿元, 约210亿元, 5000万至1亿元
    yuan: float  # the value in units of ``currency`` (yuan for CNY; no exchange rates)
    currency: str  # ISO 4217: CNY, USD, HKD …
    context: str  # the words around it that say what it is: 人工智能基金群, 单个企业年度…额度


class _Figure(NamedTuple):
    start: int  # of its qualifier, if it has one
    end: int
    value: float
    currency: str


def amounts(text: str) -> tuple[Amount, ...]:
    """Every money figure in ``text``, in order, with the words that say what it is."""
    text = to_simplified(text)
    found: list[_Figure] = []
    for m in AMOUNT.finditer(text):
        start, number = m.start(), m.group("number")
        # 百业1000亿元: the run began on a numeral that belongs to the word before the digits.
        stray = STRAY_NUMERALS.match(number)
        if stray:
            start, number = start + stray.end(), number[stray.end() :]
        if text[start - 1 : start] in VAGUE:
            continue
        low, high = _value(number), _value(m.group("high") or "")
        if not low or (m.group("high") and not high):
            continue
        qualifier = QUALIFIER.search(text, max(0, start - QUALIFIER_CHARS), start)
        if qualifier:
            start = qualifier.start()
        found.append(_Figure(start, m.end(), high or low, CURRENCIES[m.group("currency")]))
    result: list[Amount] = []
    for group in _enumerations(text, found):
        context = _context(text, group[0].start, group[-1].end)
        result.extend(Amount(text[f.start : f.end], f.value, f.currency, context) for f in group)
    return tuple(result)


def _value(run: str) -> float:
    """The value of 1,000 / 1.2万亿 / 3千万 / 两千万 / 1000余万; 0 if the run is not a number."""
    run = run.replace("余", "").replace("多", "")
    digits = ARABIC.match(run)
    if digits is None:
        value = _chinese(run) if CHINESE_NUMBER.fullmatch(run) else 0.0
    elif not MULTIPLIER_RUN.fullmatch(run, digits.end()):
        return 0.0
    else:
        value = float(digits.group().replace(",", ""))
        for char in run[digits.end() :]:
            value *= MULTIPLIERS[char]
    # Past 1e308 (302 digits, 78 万) a float is inf, which JSON cannot hold: no money figure.
    return value if math.isfinite(value) else 0.0


def _chinese(number: str) -> float:
    """The value of a Chinese numeral: 千亿 1e11, 两千万 2e7, 三亿五千万 3.5e8."""
    total = section = digit = 0.0
    for char in number:
        if char in CN_DIGITS:
            digit = CN_DIGITS[char]
        elif char in CN_UNITS:
            section += (digit or 1) * CN_UNITS[char]
            digit = 0
        elif char == "万":
            section = ((section + digit) or 1) * 1e4
            digit = 0
        else:  # 亿 closes everything before it
            total = ((total + section + digit) or 1) * 1e8
            section = digit = 0
    return total + section + digit


def _enumerations(text: str, found: list[_Figure]) -> list[list[_Figure]]:
    """Figures grouped so that those of one enumeration (100万元、50万元) share a context."""
    groups: list[list[_Figure]] = []
    for figure in found:
        if groups and ENUMERATION.fullmatch(text, groups[-1][-1].end, figure.start):
            groups[-1].append(figure)
        else:
            groups.append([figure])
    return groups


def _context(text: str, start: int, end: int) -> str:
    """The words of the clause around ``text[start:end]``: what it describes, or who gets it."""
    window = max(0, start - CLAUSE_CHARS)
    before_end = [m.end() for m in CLAUSE_END.finditer(text, window, start)]
    before = text[before_end[-1] if before_end else window : start].strip()
    after_end = CLAUSE_END.search(text, end)
    after = text[end : after_end.start() if after_end else len(text)].strip()
    if after.startswith("的"):
        # 规模1000亿元的人工智能基金群: the noun after 的 is what the figure is.
        return after[1 : 1 + AFTER_CHARS]
    if len(before) > BEFORE_CHARS:
        # Cut to its last words, not inside a number (2025年 cut to 5年).
        before = CUT_NUMBER.sub("", before[-BEFORE_CHARS:])
    after = after[:AFTER_CHARS]
    return "…".join(part for part in (before, after) if part)
