"""Turn page bytes into text: Chinese sites declare GBK as gb2312, leave out the charset, or
declare one they don't use, so the declaration is checked against the bytes, not trusted."""

from __future__ import annotations

import codecs
import re

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


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The page as text and the codec that decoded it."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), codec
    declared = declared_charset(data, content_type)
    if declared and not (declared in SINGLE_BYTE and not data.isascii()):
        text = _decode_strict(data, declared)
        if text is not None:
            return text, declared
    text = _decode_strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    best = from_bytes(data, cp_isolation=CANDIDATES).best()
    if best is not None:
        codec = _codec_name(best.encoding) or "gb18030"
        return data.decode(codec, errors="replace"), codec
    return data.decode("gb18030", errors="replace"), "gb18030"


def _decode_strict(data: bytes, codec: str) -> str | None:
    """Decode, forgiving only a character cut off at the very end of a truncated page."""
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:
            return data.decode(codec, errors="replace")
        return None
    except LookupError:
        return None
