"""Attachments of article pages (附件: PDF, Word, Excel, WPS, OFD, ZIP): which links are
attachments, what kind a file is, and its text. Pure: bytes in, :class:`AttachmentText` out.

Each format is read by the library that owns it (pypdf, python-docx, openpyxl, zipfile). What
cannot be read is told apart by type: a file that is not whole or not of its kind is
:class:`BrokenAttachment` (an error of its fetch, never a version), while a sound file of a
kind without a reader, or a PDF without a text layer, is an :class:`AttachmentText` whose
``error`` says so, stored so that a reader knows the text is missing and why.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from posixpath import basename
from urllib.parse import unquote, urlsplit

# Sentence ends after which a line break in a PDF is a paragraph's end, not a wrap.
SENTENCE_END = "。！？；：!?;:"
# A PDF line at least this share of the document's full lines (in display width) was wrapped
# by the typesetter: joined to the next, a word split across lines (人工 / 智能) is whole again.
WRAPPED_SHARE = 0.8
# Display width under which a line is never a wrap, however short a document's lines are: a
# list of short items is not one paragraph. (A4 at 12 pt holds about 35 Chinese characters.)
SHORTEST_WRAP = 30
# What a ZIP may unpack to, in bytes and members: more is a zip bomb, not a policy's annexes.
MAX_UNPACKED = 100 * 1024 * 1024
MAX_MEMBERS = 200
# Pages of the portal itself, linked beside the attachments: never a document.
WEB_PAGE_SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")


class AttachmentError(Exception):
    """Why an attachment's text could not be read."""


class BrokenAttachment(AttachmentError):
    """The bytes are not a whole file of their kind (cut short, damaged, a web page)."""


class NoTextLayer(AttachmentError):
    """A PDF of page images (a scan): there is no text to read without OCR."""


@dataclass(frozen=True)
class AttachmentText:
    """What a sound attachment holds: its kind, its text, and why the text is missing."""

    kind: str
    text: str
    error: str | None = None


@dataclass(frozen=True)
class AttachmentKind:
    """One kind of attachment: the suffixes its names end in, and its reader (None: no
    reader, the file is stored with ``unsupported`` as its error)."""

    suffixes: tuple[str, ...]
    read: Callable[[bytes], str] | None
    unsupported: str = ""
    linked: bool = True  # followed as a page's link; False: read only inside a ZIP


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    # A cut PDF loses its end: pypdf would rebuild what it can and read a part as the whole.
    if b"%%EOF" not in data[-2048:]:
        raise BrokenAttachment("PDF cut short (no %%EOF at its end)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BrokenAttachment(f"PDF that does not parse ({type(exc).__name__})") from None
    text = unwrap(pages).strip()
    if not text:
        raise NoTextLayer("scanned: no text layer")
    return text


def _docx_text(data: bytes) -> str:
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BrokenAttachment(f"Word document that does not open ({type(exc).__name__})") from None
    lines = []
    # Paragraphs and tables in the order they stand in, tables row by row.
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines += ["\t".join(cell.text for cell in row.cells) for row in block.rows]
    return "\n".join(line for line in lines if line.strip())


def _xlsx_text(data: bytes) -> str:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns of styles and extensions it skips
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            lines = []
            for sheet in book.worksheets:
                lines.append(sheet.title)
                for row in sheet.iter_rows(values_only=True):
                    cells = ["" if value is None else str(value) for value in row]
                    if any(cell.strip() for cell in cells):
                        lines.append("\t".join(cells).rstrip("\t"))
            book.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise BrokenAttachment(
            f"Excel workbook that does not open ({type(exc).__name__})"
        ) from None
    return "\n".join(lines)


def _zip_text(data: bytes) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except zipfile.BadZipFile as exc:
        raise BrokenAttachment(f"ZIP archive that does not open ({exc})") from None
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNPACKED:
        raise BrokenAttachment(
            f"ZIP archive over {MAX_MEMBERS} members or {MAX_UNPACKED >> 20} MiB unpacked"
        )
    parts = []
    for member in members:
        name = member_name(member)
        kind = kind_of(name)
        if kind is None or kind == "zip":
            continue  # images, stylesheets and archives inside archives hold no policy text
        try:
            content = archive.read(member)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BrokenAttachment(f"ZIP member {name} that does not unpack ({exc})") from None
        try:
            read = read_attachment(content, name)
        except BrokenAttachment as exc:
            raise BrokenAttachment(f"ZIP member {name}: {exc}") from None
        if read.text:
            parts.append(f"{name}\n{read.text}")
    return "\n\n".join(parts)


def member_name(member: zipfile.ZipInfo) -> str:
    """A ZIP member's name. Archives made on Chinese Windows store names in GBK without
    saying so (no UTF-8 flag), which zipfile reads as CP437."""
    if member.flag_bits & 0x800:
        return member.filename
    try:
        return member.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return member.filename


def _text_file(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise BrokenAttachment("text file in no known encoding")


KINDS: dict[str, AttachmentKind] = {
    "pdf": AttachmentKind((".pdf",), _pdf_text),
    "docx": AttachmentKind((".docx",), _docx_text),
    "xlsx": AttachmentKind((".xlsx",), _xlsx_text),
    "zip": AttachmentKind((".zip",), _zip_text),
    # OFD (GB/T 33190) is a ZIP of XML placing each run of glyphs at coordinates: reading
    # order is the reader's guess, and without real OFD files to measure a reader against,
    # its text is not to be trusted. Stored, with the reason.
    "ofd": AttachmentKind((".ofd",), None, "unsupported: OFD"),
    "doc": AttachmentKind((".doc",), None, "unsupported: legacy Word document (.doc)"),
    "wps": AttachmentKind((".wps",), None, "unsupported: WPS document (.wps)"),
    "xls": AttachmentKind((".xls",), None, "unsupported: legacy Excel workbook (.xls)"),
    # A .txt link on a page is rarely an annex; inside a policy's ZIP it is its text.
    "txt": AttachmentKind((".txt",), _text_file, linked=False),
}
LINKED_KINDS = frozenset(kind for kind, declared in KINDS.items() if declared.linked)
# What every attachment link has on the page: a linked kind's suffix in its address or text,
# or the 附件 label of its block (is_attachment).
_MAY_LINK = re.compile(
    "附件|"
    + "|".join(re.escape(suffix) + r"\b" for k in LINKED_KINDS for suffix in KINDS[k].suffixes),
    re.IGNORECASE,
)


def may_link_attachments(page_text: str) -> bool:
    """Whether a page's text could hold an attachment link: most news pages cannot, and are
    then not parsed for links at all (a parse is most of the crawl's own time per page)."""
    return _MAY_LINK.search(page_text) is not None


def kind_of(name: str) -> str | None:
    """The kind a file name or URL path says, by its suffix (case aside), or None."""
    lowered = name.lower()
    return next((kind for kind, k in KINDS.items() if lowered.endswith(k.suffixes)), None)


def sniffed_kind(data: bytes, named: str | None) -> str:
    """The kind the bytes prove, ``named`` (the link's kind) when they agree with it or
    prove nothing; BrokenAttachment when they are a web page or fit no attachment kind."""
    head = data[:1024].lstrip()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return named if named in ("docx", "xlsx", "zip", "ofd") else "zip"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names:
            return "ofd"
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # an OLE compound file: .doc, .xls, .wps
        return named if named in ("doc", "xls", "wps") else "doc"
    if head.lower().startswith((b"<!doctype html", b"<html")) or b"<body" in head.lower():
        raise BrokenAttachment("a web page, not a document")
    if named == "txt":
        return named
    raise BrokenAttachment(f"not a {named or 'document'} file (unknown first bytes)")


def read_attachment(data: bytes, name: str, url: str = "") -> AttachmentText:
    """The kind and text of an attachment called ``name`` (its link's text or path), served
    at ``url``; their suffixes say the kind where the bytes do not.

    Raises BrokenAttachment when the bytes are not a whole file of that kind."""
    if not data:
        raise BrokenAttachment("an empty file")
    kind = sniffed_kind(data, kind_of(name) or kind_of(unquote(urlsplit(url).path)))
    declared = KINDS[kind]
    if declared.read is None:
        return AttachmentText(kind, "", declared.unsupported)
    try:
        return AttachmentText(kind, declared.read(data))
    except NoTextLayer as exc:
        return AttachmentText(kind, "", str(exc))
    except AttachmentError:
        raise
    except Exception as exc:  # noqa: BLE001 - a reader's own bug on odd bytes: not a version
        raise BrokenAttachment(f"{kind} file its reader fails on ({type(exc).__name__})") from None


def attachment_name(url: str, text: str) -> str:
    """What a reader calls the attachment: the link's text, else the file name in its path."""
    shown = " ".join(text.split())
    return shown or unquote(basename(urlsplit(url).path)) or url


def is_attachment(url: str, text: str, labelled: bool) -> bool:
    """Whether a link is an attachment: its path or its text ends in an attachment's suffix,
    or it stands in a block labelled 附件 and is not a web page or folder of the portal."""
    path = unquote(urlsplit(url).path)
    if kind_of(path) in LINKED_KINDS or kind_of(text.strip()) in LINKED_KINDS:
        return True
    # A path ending in a slash is a folder of the portal (返回列表), not a file.
    return labelled and not path.lower().endswith((*WEB_PAGE_SUFFIXES, "/")) and bool(path)


def unwrap(pages: list[str]) -> str:
    """A PDF's text with the typesetter's line wraps joined, across page breaks too: a line
    as wide as the document's full lines that does not end a sentence goes on in the next.

    A full line is one of the upper quartile's width: the widest would be a line of narrow
    Latin letters and digits, which count for more than their width."""
    lines = [line for page in pages for line in page.splitlines()]
    widths = [_width(line) for line in lines]
    ranked = sorted(widths)
    full = ranked[(3 * len(ranked)) // 4] if ranked else 0
    out: list[str] = []
    wrapped = False
    for line, width in zip(lines, widths, strict=True):
        if wrapped:
            out[-1] = out[-1].rstrip() + line.lstrip()
        else:
            out.append(line)
        wrapped = width >= max(WRAPPED_SHARE * full, SHORTEST_WRAP) and not line.rstrip().endswith(
            tuple(SENTENCE_END)
        )
    return "\n".join(out)


def _width(line: str) -> int:
    """Display width: a Chinese character is as wide as two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line.strip())
