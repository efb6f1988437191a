"""Near-duplicate detection: syndicated copies of one story get SimHashes a few bits apart. Pure.

A SimHash (Charikar) is 64 bits; each bit is the majority vote of that bit over the hashes of
the text's features. Copies that share most features share most bits; different stories
differ in about half of them (32).

Features are character bigrams of the text without punctuation and whitespace: measured on
the demo articles and the real pages of the extraction corpus, they keep syndicated copies
closer than jieba words, word bigrams or character 3- and 4-grams, and unlike single words
they keep different stories apart (single words let function words decide every bit).

Speed without numpy: a gram's hash is simple tabulation hashing over the UTF-32 bytes of its
characters (3-independent, plenty for a majority vote), computed one output byte at a time
for all grams at once with ``bytes.translate``, and the votes are counted with
``int.bit_count``. A 4 KB text takes a fraction of a millisecond.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from itertools import pairwise

BITS = 64
MASK = (1 << BITS) - 1
# A feature is this many characters.
GRAM = 2
# Two texts whose SimHashes differ in at most this many bits are one story. Measured on
# syndicated copies made from the 36 demo articles and 222 bodies extracted from the real
# pages of the corpus (outlet line, chrome words, first sentence rewritten, a sentence added
# or removed, all at once), against 33,000 pairs of different stories: different stories
# never came closer than 12 bits (two 163.com pieces on the same 2015 stock slump; the
# closest pair of demo articles on one city's AI policy: 20), so 3 bits leaves a wide margin.
# Within 3 bits fall 85-95% of copies of bodies of 1000+ characters with one such edit, and
# 60% of those edited every way at once; copies of shorter bodies drift further (median 2-8
# bits for one edit), as one changed sentence is a larger share of them. 3 is also what
# 4 bands of 16 bits find without a scan.
NEAR_DISTANCE = 3
# Hashes within NEAR_DISTANCE bits share at least one of NEAR_DISTANCE + 1 bands
# (pigeonhole: each differing bit spoils at most one band).
BANDS = NEAR_DISTANCE + 1
BAND_EDGES = tuple(BITS * index // BANDS for index in range(BANDS + 1))
BAND_TAG = max(b - a for a, b in pairwise(BAND_EDGES))

NON_WORD = re.compile(r"[\W_]+")
# Changing GRAM or the seed below changes every hash: stored hashes must be recomputed.
# TABLES[j][k][r] maps byte k of the UTF-32 code of the j-th character of a gram to byte r
# of the gram's hash. Code points are below 0x110000: byte 3 is always 0 and is left out.
_RANDOM = hashlib.shake_256(b"newsmon simhash tabulation v1").digest(GRAM * 3 * 8 * 256)
TABLES = tuple(
    tuple(
        tuple(
            _RANDOM[((j * 3 + k) * 8 + r) * 256 : ((j * 3 + k) * 8 + r + 1) * 256] for r in range(8)
        )
        for k in range(3)
    )
    for j in range(GRAM)
)


def normalize(text: str) -> str:
    """The text a fingerprint is made of: no punctuation, no whitespace, NFKC, lower case."""
    text = NON_WORD.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):  # full-width Ａ１ as A1, ① as 1
        text = NON_WORD.sub("", unicodedata.normalize("NFKC", text))
    return text.lower()


def simhash(text: str) -> int:
    """The 64-bit SimHash of ``text`` (best the Simplified body), unsigned.

    Texts without a letter or digit all hash to 0: match only bodies of some length.
    """
    return _simhash(normalize(text), GRAM)


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits of two SimHashes differ."""
    return ((a ^ b) & MASK).bit_count()


def bands(value: int) -> tuple[int, ...]:
    """The 4 bands of 16 bits of a SimHash, band i tagged as ``i << 16 | bits``.

    Kept in one indexed column, they find candidates without a scan: two hashes at most
    NEAR_DISTANCE bits apart share at least one band.
    """
    value &= MASK
    return tuple(
        (index << BAND_TAG) | ((value >> low) & ((1 << (high - low)) - 1))
        for index, (low, high) in enumerate(pairwise(BAND_EDGES))
    )


def _simhash(text: str, size: int) -> int:
    """The SimHash of the ``size``-grams of normalized ``text``, every occurrence one vote."""
    if not text:
        return 0
    size = min(size, len(text))
    grams = len(text) - size + 1
    code = text.encode("utf-32-le", "surrogatepass")
    columns = [code[k::4] for k in range(3)]
    # lanes[b] picks bit b of every byte: the votes of one bit of the hash, one per gram.
    lanes = [int.from_bytes(bytes([1 << b]) * grams, "little") for b in range(8)]
    value = 0
    for r in range(8):
        plane = 0  # byte r of every gram's hash, gram i in byte i
        for j in range(size):
            for k in range(3):
                piece = columns[k][j : j + grams].translate(TABLES[j][k][r])
                plane ^= int.from_bytes(piece, "little")
        for b in range(8):
            if 2 * (plane & lanes[b]).bit_count() > grams:
                value |= 1 << (8 * r + b)
    return value
