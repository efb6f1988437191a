"""Regions: the places an article names and the ones it is about (TAXONOMY.md §1). Pure.

Cutting a whole article with jieba costs ~10 ms, so candidates come from the gazetteer's
Aho-Corasick automaton over every alias, and each is checked on the few characters around it:
jieba, knowing the gazetteer's names as words, must cut it as a word of its own (not 江门 in
长江门户, not 北京 in 北京路) or as the place part of a place's compound (台湾 in 中国台湾,
广东 in 广东省政府); and it must not begin an organisation's name (哈尔滨工业大学, 上海银行,
深圳特区报), be a person (李长春表示) or sit in a phrase that is no place (北京时间).
County-level short names and short names that are also words (萧山, 海珠, 中山, 朝阳) count only
with their province or city right before them (杭州萧山) or a locative verb (落户萧山).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

import jieba

from crawler.classify.gazetteer import Entry, Gazetteer, Place, load_gazetteer
from crawler.clean.script import to_simplified
from crawler.clean.structure import jieba_frequencies
from crawler.text import ASCII_STOPS, FULL_STOPS, HAN, SEMICOLONS, Marks, Spans, words

NATIONAL = "全国"
MAX_PRIMARY = 5
# Characters jieba sees on either side of a candidate: enough for the words it may be part of.
WINDOW = 8
# jieba's frequency for gazetteer names its dictionary lacks (雄安, 海珠区): enough to be cut
# whole, too little to swallow a neighbour's characters.
NEW_WORD_FREQ = 300
# What may follow a place inside a place's compound token (中国台湾, 深圳湾, 贵州省安顺地区).
GEO_PARTS = frozenset(
    {"中国", "省", "市", "区", "县", "地区", "市区", "城区", "全省", "全市", "湾", "港", "岛"}
    | {"半岛", "城", "新区", "特区", "经济特区"}
)
# The rest of a government body's name after its place: 省政府, 市委, 科技厅, 经信局.
GOVERNMENT = re.compile(
    rf"[{HAN}]{{0,8}}?(?:人民政府|政府|党委|委员会|常委会|人大|政协|法院|检察院|海关|管委会"
    r"|[局厅委办])"
)
# An organisation whose name begins with the place: up to twelve name characters, none of
# them a function word or a verb that makes it a sentence (深圳支持本地银行), and a suffix that
# ends such names; then a campus or branch in brackets (哈尔滨工业大学（深圳）), part of the name.
ORGANISATION = re.compile(
    r"(?:(?!的|是|在|将|对|和|与|及|或|把|被|从|向|于|并|但|而|也|都|支持|推动|打造|培育|推进|加快"
    r"|出台|发布|印发|设立|拥有|集聚|吸引|引进|布局|实施|提出|鼓励|作为|成为)"
    rf"[{HAN}A-Za-z0-9·]){{0,12}}?"
    r"(?:大学|学院|中学|小学|学校|公司|集团|银行|证券|保险|股份|控股|日报|晚报|早报|晨报|商报|时报"
    r"|特区报|青年报|都市报|证券报|报社|杂志社|电视台|广播电台|卫视|出版社|医院|科学院|研究院|研究所"
    r"|实验室|协会|学会|商会|联合会|基金会|交易所)"
    rf"(?:[（(][{HAN}]{{2,8}}[）)])?"
)
# Single-character surnames of most Chinese people, and what follows a name in news (a verb
# of saying, a title, the bracketed affiliation of an author): a place between them is a
# person (李长春表示, 王江城院士, 王海东（南开大学）). The most common ones only, and not 于,
# which before a place is the preposition (于深圳举行).
MOST_COMMON_SURNAMES = 93
SURNAMES = frozenset(words("surnames")[:MOST_COMMON_SURNAMES]) - {"于"}
PERSON_AFTER = re.compile(
    r"(?:表示|说|介绍|认为|指出|称|强调|透露|坦言|告诉|教授|院士|博士|先生|女士|同志|主任|局长|书记"
    r"|市长|省长|部长|总裁|董事长|总经理|经理|研究员|主席|委员|代表|处长|厅长|秘书长|院长|校长|所长"
    r"|[（(][^）)]{0,16}?(?:大学|学院|研究院|研究所|公司|集团|中心)[）)])"
)
# Verbs that make the next name a place: 落户萧山, 位于海珠.
LOCATIVE = re.compile(r"(?:在|位于|地处|落户|落地|来到|前往|赴|抵达|扎根|坐落于|走进|来自|途经)$")
SENTENCE_END = re.compile(f"[{FULL_STOPS}{ASCII_STOPS}{SEMICOLONS}\n]")
LINE_BREAK = re.compile("\n")
HEADING_CHARS = 12  # a line this short that names a place heads a section about it
LEAD_CHARS = 200  # the lead: the first paragraph, at most this long
# Weights of a mention by where it is, for primary: the title decides, the lead and headings
# count double, and a macro-region (often the setting, 围绕京津冀协同发展) counts half.
TITLE_WEIGHT, LEAD_WEIGHT, HEADING_WEIGHT, BODY_WEIGHT = 4.0, 2.0, 2.0, 1.0
MACRO_WEIGHT = 0.5
# A mention of 滨海新区 counts this much for 天津 too (not 深圳's for 广东: an article on 深圳
# is not one on 广东).
CHILD_SHARE = 0.5
# Primary places besides the top one score at least this share of it, and more than a single
# mention (in the lead or a heading) brings.
PRIMARY_SHARE, PRIMARY_FLOOR = 0.2, 2.5
# An article whose top place scores less than this (a mention in the lead of a short text, a
# few in a long one) is about the country as a whole; so is a roundup of more than ROUNDUP
# places alike (北京、上海、广东、湖南、湖北、江苏、山东、天津……等多地).
FOCUS, FOCUS_PER_CHAR = 3.0, 1 / 1000
ROUNDUP = 10
# 新华社北京5月31日电, 发自北京: where the report was filed, not what it is about.
DATELINE_AFTER = re.compile(r"\d{1,2}月\d{1,2}日(?:电|讯|消息)")
DATELINE_BEFORE = re.compile(r"发自$")


@dataclass(frozen=True)
class RegionTags:
    """The places an article names and the ones it is about."""

    # Canonical names the text names as places, in order of first mention.
    mentioned: tuple[str, ...]
    # The 1–5 regions the article is mainly about, or ("全国",).
    primary: tuple[str, ...]
    # The ancestors of mentioned places that are not mentioned themselves, for filtering.
    implied: tuple[str, ...]
    # For each mentioned place, the first sentence naming it.
    evidence: dict[str, str]
    # The gazetteer's place of each of those names it knows (全国 is none): the rows of the
    # regions table, so that the store needs no gazetteer.
    places: dict[str, Place]


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    places: tuple[Place, ...]  # best first; all of them for a compound (北上广深)
    compound: bool
    located: bool  # a place only by a locative verb before it (落户萧山)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    places: tuple[Place, ...]


def tag_regions(text: str, title: str | None = None) -> RegionTags:
    """The places ``text`` (an article's body) and its ``title`` name, and those it is about."""
    gazetteer = load_gazetteer()
    text = to_simplified(text)
    title = to_simplified(title) if title else ""
    in_title = _mentions(title, gazetteer) if title else []
    in_body = _mentions(text, gazetteer)
    first: dict[str, str] = {}  # each place named → the first sentence naming it
    for source, mentions in ((title, in_title), (text, in_body)):
        stops = Marks(source, SENTENCE_END)
        for mention in mentions:
            for place in mention.places:
                if place.name not in first:
                    first[place.name] = _sentence(source, stops, mention.start)
    mentioned = tuple(first)
    implied = {
        parent.name: None
        for mention in (*in_title, *in_body)
        for place in mention.places
        for parent in gazetteer.lineage(place)
        if parent.name not in first
    }
    primary = _primary(text, in_title, in_body)
    names = dict.fromkeys((*mentioned, *primary, *implied))
    return RegionTags(
        mentioned=mentioned,
        primary=primary,
        implied=tuple(implied),
        evidence=first,
        places={name: known for name in names if (known := gazetteer.place(name))},
    )


def issued_by(tags: RegionTags, region: str) -> RegionTags:
    """``tags`` of a document page, whose primary region is the government that issued it
    (not the 全国 of the national policies its text cites)."""
    places = dict(tags.places)
    if known := load_gazetteer().place(region):
        places[region] = known
    return replace(tags, primary=(region,), places=places)


def places_in(text: str) -> tuple[str, ...]:
    """The canonical places a short text names, in order: 《深圳市加快推动…》 → (深圳,)."""
    names = (p.name for m in _mentions(to_simplified(text), load_gazetteer()) for p in m.places)
    return tuple(dict.fromkeys(names))


def _mentions(text: str, gazetteer: Gazetteer) -> list[_Mention]:
    """Every place mention in ``text``, in order, each resolved to its place(s)."""
    found = sorted(gazetteer.find(text), key=lambda f: (f[0], f[0] - f[1]))
    not_places = Spans((s, e) for s, e, word in found if word in gazetteer.not_places)
    # How far the organisations' names found so far reach: they start where a candidate did,
    # so before every candidate still to come.
    organisations = 0
    accepted: list[_Candidate] = []
    for start, end, alias in found:
        entry = gazetteer.lookup(alias)
        if entry is None or organisations > start or not_places.overlaps(start, end):
            continue
        organisation = ORGANISATION.match(text, end)
        if organisation:  # hides the bracketed campus too, whether jieba cut the name whole or not
            organisations = max(organisations, organisation.end())
            continue
        if not _is_word(text, start, end, gazetteer):
            continue
        if end - start == 2 and _is_person(text, start, end):
            continue
        if entry.strong:
            accepted.append(_Candidate(start, end, entry.places, entry.compound, False))
        else:
            places, located = _in_context(text, start, entry, gazetteer)
            if places:
                accepted.append(_Candidate(start, end, places, False, located))
    # A place inside a longer accepted one (兰州 in 兰州-西宁城市群) is the longer one's part;
    # candidates come by start, the longer first.
    kept, reach = [], 0
    for candidate in accepted:
        if candidate.end > reach:
            kept.append(candidate)
            reach = candidate.end
    accepted = kept
    named = {c.places[0].name for c in accepted if len(c.places) == 1}
    mentions = []
    for c in accepted:
        if c.compound:
            mentions.append(_Mention(c.start, c.end, c.places))
            continue
        place = _resolve(c.places, named)
        # 在青山落户 is 武汉's 青山区 in an article that names 武汉, and no place otherwise.
        if place or not c.located:
            mentions.append(_Mention(c.start, c.end, (place or c.places[0],)))
    return mentions


def _is_word(text: str, start: int, end: int, gazetteer: Gazetteer) -> bool:
    """Whether jieba cuts text[start:end] as a word, or as the place in a place's compound."""
    offset = max(0, start - WINDOW)
    window = text[offset : min(len(text), end + WINDOW)]
    start, end = start - offset, end - offset
    # A word across the end that starts before the place crosses its start too.
    if not _crossed(window, start, 0) and not _crossed(window, end, start):
        return True  # no word of the dictionary joins it to its neighbours: nothing to decide
    tokens = _cut(window)
    if start in {s for s, _ in tokens} and end in {e for _, e in tokens}:
        return True  # one token, or several whole ones (粤港澳/大湾区)
    # Inside one token: 广东省政府, 中国台湾, 深圳湾 are places; 北京大学, 长治久安 are not.
    # Across tokens' edges (长江/门户 for 江门) it is no word at all.
    return any(
        s <= start and end <= e and _place_compound(window[s:e], start - s, end - s, gazetteer)
        for s, e in tokens
    )


def _crossed(window: str, at: int, since: int) -> bool:
    """Whether a dictionary word starting at ``since`` or later spans position ``at``."""
    freq = _tokenizer().FREQ
    for k in range(since, at):
        # Such a word starts with window[k:at + 1], which jieba keeps as a prefix entry.
        j = at + 1
        while j <= len(window) and window[k:j] in freq:
            if freq[window[k:j]]:
                return True
            j += 1
    return False


def _place_compound(token: str, start: int, end: int, gazetteer: Gazetteer) -> bool:
    """Whether ``token`` is places and place words around token[start:end]: 中国台湾, 深圳湾,
    贵州省安顺地区, 广东省科技厅; not 北京大学, 长治久安, 三明治, nor another place (内蒙古)."""
    if gazetteer.lookup(token) or token in gazetteer.not_places:
        return False
    return _made_of_places(token[:start], gazetteer, False) and _made_of_places(
        token[end:], gazetteer, True
    )


def _made_of_places(rest: str, gazetteer: Gazetteer, government: bool) -> bool:
    while rest:
        prefix = next(
            (
                rest[:n]
                for n in range(len(rest), 0, -1)
                if rest[:n] in GEO_PARTS or _strong(gazetteer.lookup(rest[:n]))
            ),
            None,
        )
        if prefix is None:
            return government and GOVERNMENT.fullmatch(rest) is not None
        rest = rest[len(prefix) :]
    return True


def _strong(entry: Entry | None) -> bool:
    return entry is not None and entry.strong


def _is_person(text: str, start: int, end: int) -> bool:
    """李长春表示: a surname before a two-character place and a speech verb or title after it."""
    return start > 0 and text[start - 1] in SURNAMES and PERSON_AFTER.match(text, end) is not None


def _in_context(
    text: str, start: int, entry: Entry, gazetteer: Gazetteer
) -> tuple[tuple[Place, ...], bool]:
    """Of a weak alias's places, those the text makes places: right after an ancestor's name
    (杭州萧山, 金华（义乌）; 北京朝阳 picks 北京's 朝阳区), else all of them after a locative
    verb, which then count only where the text names their city (the flag)."""
    before = text[max(0, start - 12) : start].removesuffix("（").removesuffix("(")
    preceded = tuple(
        place
        for place in entry.places
        if any(
            before.endswith(alias)
            for parent in gazetteer.lineage(place)
            for alias in gazetteer.aliases_of(parent)
        )
    )
    if preceded:
        return preceded, False
    return (entry.places, True) if LOCATIVE.search(before) else ((), False)


def _resolve(places: tuple[Place, ...], named: set[str]) -> Place | None:
    """The place whose parent (a city, or a province-level city) the text names too: 鼓楼区 in
    an article on 福州."""
    return next((place for place in places if place.parent in named), None)


def _primary(text: str, in_title: list[_Mention], in_body: list[_Mention]) -> tuple[str, ...]:
    """The places the article is about: its title's, else those with a good share of the
    weighted mentions; 全国 when no place stands out."""
    score: dict[str, float] = {}
    lines = Marks(text, LINE_BREAK)
    lead_end = min(lines.end_of(0), LEAD_CHARS)
    for mention in in_body:
        # Only the few characters before the mention can end in 发自 (or 发自 and a line break).
        before = max(0, mention.start - 3)
        if DATELINE_AFTER.match(text, mention.end) or DATELINE_BEFORE.search(
            text, before, mention.start
        ):
            continue
        weight = BODY_WEIGHT
        if mention.start < lead_end:
            weight = LEAD_WEIGHT
        elif lines.end_of(mention.end) - lines.start_of(mention.start) <= HEADING_CHARS:
            weight = HEADING_WEIGHT
        _count(score, mention, weight)
    titled = [p.name for m in in_title for p in m.places]
    for mention in in_title:
        _count(score, mention, TITLE_WEIGHT)
    # Best first; among equals, the first named.
    ranked = sorted(score.items(), key=lambda item: -item[1])
    if titled:
        chosen = list(dict.fromkeys(titled))
        floor = min(score[name] for name in chosen)
        chosen += [name for name, s in ranked if s >= floor and name not in chosen]
        return tuple(chosen[:MAX_PRIMARY])
    top = ranked[0][1] if ranked else 0.0
    floor = max(PRIMARY_SHARE * top, PRIMARY_FLOOR)
    chosen = [name for name, s in ranked if s == top or s >= floor]
    if top < min(FOCUS, 1 + FOCUS_PER_CHAR * len(text)) or len(chosen) > ROUNDUP:
        return (NATIONAL,)
    return tuple(chosen[:MAX_PRIMARY])


def _count(score: dict[str, float], mention: _Mention, weight: float) -> None:
    for place in mention.places:
        share = weight * (MACRO_WEIGHT if place.level == "macro" else 1.0)
        score[place.name] = score.get(place.name, 0.0) + share
        if place.level == "district" and place.parent:
            score[place.parent] = score.get(place.parent, 0.0) + CHILD_SHARE * share


def _sentence(text: str, stops: Marks, at: int) -> str:
    """The sentence of ``text`` around position ``at``, with the mark that ends it."""
    return text[stops.start_of(at) : stops.end_of(at) + 1].strip()


@cache
def _tokenizer() -> jieba.Tokenizer:
    """jieba's dictionary plus every gazetteer name, without loading the dictionary twice."""
    tokenizer = jieba.Tokenizer()
    freq = dict(jieba_frequencies())  # a copy: the default tokenizer others use stays as it is
    total = jieba.dt.total
    for word in load_gazetteer().words():
        if not freq.get(word):
            freq[word] = NEW_WORD_FREQ
            total += NEW_WORD_FREQ
            for n in range(1, len(word)):
                freq.setdefault(word[:n], 0)  # jieba's prefix entries, as add_word makes them
    tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
    return tokenizer


def _cut(text: str) -> list[tuple[int, int]]:
    """jieba's best segmentation of ``text`` (dictionary only, no HMM) as (start, end) pairs."""
    tokenizer = _tokenizer()
    route: dict[int, tuple[float, int]] = {}
    tokenizer.calc(text, tokenizer.get_DAG(text), route)
    tokens, i = [], 0
    while i < len(text):
        j = route[i][1] + 1
        tokens.append((i, j))
        i = j
    return tokens
