"""Keywords (TAXONOMY.md §4): the 5 to 15 words that say what an article is about. Pure.

jieba's TF-IDF: term frequency in the article (title words count more) times jieba's own IDF
table, over nouns and noun-like words, without a stop list of the words every policy article
uses (发展, 推动, 企业, 工作, 建设 …). Words are cut by rjieba, the Rust port of jieba with the
same dictionary and the same tags: it cuts and tags 4,000 characters in about 0.6 ms where
jieba takes about 14 ms, so the whole text is read within the budget, not only its lead. The
taxonomy's cue words that jieba's dictionary lacks (大模型, 算力, 智算中心) are added to it, so
they come out whole.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from importlib.resources import files

import rjieba

from crawler.classify.topics import default_taxonomy
from crawler.clean.script import to_simplified
from crawler.paths import package_path
from crawler.text import read_words

STOPWORDS = package_path("classify", "data", "stopwords.txt")
# jieba's IDF table, read directly: importing jieba.analyse loads it through a file it never
# closes (a ResourceWarning, an error under pytest's warnings-as-errors).
IDF_TABLE = files("jieba") / "analyse" / "idf.txt"
# Nouns (n), places (ns), organisations (nt), other proper nouns (nz), verbal nouns (vn: 治理,
# 监管), fixed phrases (l: 生成式) and abbreviations (j: 京津冀); English words (eng: GPT).
# Person names (nr) are left out: a reporter or an official is not what an article is about.
KEEP_TAGS = frozenset({"n", "ns", "nt", "nz", "vn", "l", "j", "eng"})
TITLE_WEIGHT = 3  # a word in the title counts as this many in the body
MIN_COUNT, MAX_COUNT = 5, 15
# Added domain words win over the dictionary's shorter ones (大模型 over 大 + 模型).
TERM_FREQUENCY = 20000


def keywords(text: str, title: str | None = None, count: int = 10) -> tuple[str, ...]:
    """The ``count`` (5 to 15) words of ``text`` with the highest TF-IDF, best first (fewer
    only when the text has fewer words worth keeping)."""
    if not MIN_COUNT <= count <= MAX_COUNT:
        raise ValueError(f"count must be between {MIN_COUNT} and {MAX_COUNT}, not {count}")
    idf, median_idf = _idf()
    stop = _stopwords()
    frequency: Counter[str] = Counter()
    for part, weight in ((text, 1), (title or "", TITLE_WEIGHT)):
        for word, tag in segmenter().tag(to_simplified(part)):
            if tag in KEEP_TAGS and len(word) > 1 and word.lower() not in stop:
                frequency[word] += weight
    scores = {word: n * idf.get(word, median_idf) for word, n in frequency.items()}
    return tuple(sorted(scores, key=lambda w: (-scores[w], w))[:count])


@cache
def segmenter() -> rjieba.Jieba:
    """rjieba with jieba's dictionary and the taxonomy's phrases it lacks (cues and masks)."""
    segmenter = rjieba.Jieba()
    taxonomy = default_taxonomy()
    for phrase in {cue for topic in taxonomy.topics for cue in topic.cues} | taxonomy.mask:
        if len(phrase) > 1 and not phrase.isascii() and not segmenter.has_word(phrase):
            segmenter.add_word(phrase, TERM_FREQUENCY, "n")
    return segmenter


@cache
def _idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table and its median, which jieba gives a word the table lacks."""
    table = {}
    for line in IDF_TABLE.read_text(encoding="utf-8").splitlines():
        word, _, idf = line.partition(" ")
        table[word] = float(idf)
    return table, sorted(table.values())[len(table) // 2]


@cache
def _stopwords() -> frozenset[str]:
    """The stop list: jieba's own stop words and the words every policy article uses."""
    return frozenset(read_words(STOPWORDS))
