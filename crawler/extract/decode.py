"""Turn page bytes into text: Chinese sites declare GBK as gb2312, leave out the charset, or
declare one they don't use, so the declaration is checked against the bytes, not trusted."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.IGNORECASE)
HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w:.-]+)", re.IGNORECASE)

# Pages declare the narrow legacy names but use the wider sets' extra characters (人名用字,
# HKSCS), so each declared name is read as the superset that contains it.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
}
# A Chinese page declared as a Western single-byte charset always "decodes", into mojibake.
SINGLE_BYTE = {"iso8859-1", "cp1252", "ascii"}
CANDIDATES = ["utf_8", "gb18030", "big5hkscs"]
# A page in its declared charset with a few broken sequences (a bad byte in a template, a
# character cut by a CMS) is still that charset: bytes in another charset fail on a large
# share of their non-ASCII bytes (GBK read as UTF-8: most of them), so a share under this keeps
# the charset, the bad bytes replaced, rather than reading the whole page as something else.
MAX_BAD_SHARE = 0.01
ASCII = bytes(range(0x80))
# A decoding error marks a bad byte with a lone surrogate (surrogateescape), one per byte.
BAD_BYTE = re.compile("[\udc80-\udcff]")
# The last character of a page cut short is not a bad byte: nothing was wrong with it.
CUT_OFF = re.compile("[\udc80-\udcff]{1,3}$")
BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


# What is served at article and list URLs by mistake, known by its first bytes.
MAGIC_NUMBERS = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a zip archive (or an Office document)"),
    (b"\xd0\xcf\x11\xe0", "an Office document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip data"),
    (b"Rar!", "a RAR archive"),
)


def not_a_page(data: bytes, content_type: str | None = None) -> str | None:
    """Why ``data`` cannot be a web page (empty, a PDF, an image, binary), or None."""
    if not data.strip():
        return "an empty response"
    for magic, what in MAGIC_NUMBERS:
        if data.startswith(magic):
            return what
    head = data[:4096]
    wide = any(head.startswith(bom) for bom, _ in BOMS) or (
        (declared_charset(head, content_type) or "").startswith(("utf-16", "utf-32"))
    )
    if b"\x00" in head and not wide:
        return "binary data"
    return None


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset the HTTP header or else the page's <meta> declares, as a Python codec name."""
    match = HEADER_CHARSET.search(content_type or "")
    name = match.group(1) if match else None
    if name is None:
        meta = META_CHARSET.search(data[:16384])
        name = meta.group(1).decode("ascii", "replace") if meta else None
    if name is None:
        return None
    return _codec_name(name)


def _codec_name(name: str) -> str | None:
    """Python's name for a charset label, widened to the superset pages really use."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    return SUPERSETS.get(codec, codec)


@dataclass(frozen=True)
class Decoded:
    """A page's text, the codec that read it, and how many bytes it could not read."""

    text: str
    codec: str
    bad_bytes: int = 0


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page as text and the codec that decoded it."""
    page = decode_page(data, content_type)
    return page.text, page.codec


def decode_page(data: bytes, content_type: str | None = None) -> Decoded:
    """The page as text, in the declared charset unless the bytes contradict it."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(codec, errors="replace"), codec)
    declared = declared_charset(data, content_type)
    tries = [declared] if declared and not (declared in SINGLE_BYTE and not data.isascii()) else []
    readings = []
    for codec in [*tries, "utf-8"]:
        reading = _decode(data, codec)
        if reading is not None and not reading.bad_bytes:
            return reading
        readings += [reading] if reading is not None else []
    # Bytes that fail under one charset can still be valid under the other candidate:
    # the reading with fewest bad bytes wins (the declared one on a tie).
    wide = len(data.translate(None, ASCII))
    likely = [r for r in readings if r.bad_bytes <= MAX_BAD_SHARE * wide]
    if likely:
        return min(likely, key=lambda r: r.bad_bytes)
    best = from_bytes(data, cp_isolation=CANDIDATES).best()
    codec = (_codec_name(best.encoding) if best is not None else None) or "gb18030"
    return _decode(data, codec) or Decoded(data.decode("gb18030", errors="replace"), "gb18030")


def _decode(data: bytes, codec: str) -> Decoded | None:
    """``data`` read as ``codec``, each bad byte replaced and counted, except a character
    cut off at the very end of a truncated page."""
    try:
        escaped = data.decode(codec, errors="surrogateescape")
    except LookupError:
        return None
    whole = CUT_OFF.sub("\ufffd", escaped)
    bad = len(BAD_BYTE.findall(whole))
    return Decoded(BAD_BYTE.sub("\ufffd", whole), codec, bad)
