"""Attachments made on the spot, as portals publish them: a PDF with a Chinese text layer, a
scanned PDF (page images only), a Word document, an Excel workbook and a ZIP of them. Each
function returns the file's bytes; the text it wrote is what a reader must get back.

reportlab's CID font STSong-Light is one that PDF readers bring along, so the PDF needs no
font file; the scan is an image that reportlab draws, made with Pillow (reportlab's own
dependency).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

CID_FONT = "STSong-Light"


def pdf_document(title: str, paragraphs: list[str]) -> bytes:
    """A PDF with ``title`` and ``paragraphs`` in a Chinese text layer, wrapped to A4."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
    heading = ParagraphStyle("title", fontName=CID_FONT, fontSize=16, leading=24)
    body = ParagraphStyle(
        "body", fontName=CID_FONT, fontSize=12, leading=18, wordWrap="CJK", spaceAfter=6
    )
    out = io.BytesIO()
    # invariant: the same text makes the same bytes (no creation date, no random id).
    document = SimpleDocTemplate(out, pagesize=A4, title=title, invariant=True)
    document.build([Paragraph(title, heading), *(Paragraph(p, body) for p in paragraphs)])
    return out.getvalue()


def scanned_pdf(pages: int = 1) -> bytes:
    """A PDF of ``pages`` page images and no text layer, as a scanner makes it."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=True)
    width, height = A4
    for number in range(pages):
        scan = Image.new("L", (620, 877), 245)
        draw = ImageDraw.Draw(scan)
        for row in range(12):  # lines of "print": what a scanned page looks like, as pixels
            top = 80 + row * 50 + number
            draw.rectangle((60, top, 560 - (row % 3) * 70, top + 14), fill=40)
        canvas.drawImage(ImageReader(scan), 0, 0, width, height)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def docx_document(title: str, paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    """A Word document: ``title`` as its heading, ``paragraphs``, and ``table`` (rows of cells)."""
    from docx import Document

    document = Document()
    document.add_heading(title, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(row) for row in table))
        for cells, row in zip(grid.rows, table, strict=True):
            for cell, value in zip(cells.cells, row, strict=False):
                cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_document(sheet: str, rows: Sequence[Sequence[str | int | float]]) -> bytes:
    """An Excel workbook of one sheet named ``sheet`` holding ``rows``."""
    from openpyxl import Workbook

    book = Workbook()
    worksheet = book.active
    assert worksheet is not None  # a new workbook has one sheet
    worksheet.title = sheet
    for row in rows:
        worksheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_archive(members: dict[str, bytes]) -> bytes:
    """A ZIP of ``members`` (name: bytes), names stored as UTF-8."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@dataclass(frozen=True)
class Sample:
    """A generated attachment: its file name, its bytes, and the text written into it."""

    name: str
    data: bytes
    text: str


def samples(title: str, paragraphs: list[str]) -> list[Sample]:
    """One attachment of each kind that has text (PDF, DOCX, XLSX, ZIP of a PDF and an XLSX)
    holding ``title`` and ``paragraphs``, each with the text a reader must get back."""
    table = [["序号", "条款"], *([str(i), p] for i, p in enumerate(paragraphs, start=1))]
    body = "\n".join([title, *paragraphs])
    pdf = Sample(f"{title}.pdf", pdf_document(title, paragraphs), body)
    docx = Sample(
        f"{title}.docx",
        docx_document(title, paragraphs, table[:2]),
        "\n".join([body, *("\t".join(row) for row in table[:2])]),
    )
    xlsx = Sample(
        f"{title}清单.xlsx",
        xlsx_document(
            "条款", [[int(row[0]), row[1]] if row[0].isdigit() else row for row in table]
        ),
        "\n".join(["条款", *("\t".join(row) for row in table)]),
    )
    archive = Sample(
        f"{title}.zip",
        zip_archive({pdf.name: pdf.data, xlsx.name: xlsx.data}),
        f"{pdf.name}\n{pdf.text}\n\n{xlsx.name}\n{xlsx.text}",
    )
    return [pdf, docx, xlsx, archive]
