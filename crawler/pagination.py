"""List pages that a portal's script draws: the page links a crawler finds in no ``<a>``.

TRS WCM and the CMSs that copied it write a list's pager with a script call instead of
links, ``createPageHTML(12, 0, "index", "html")``: 12 pages, this one the first, named
``index.html``, ``index_1.html`` … ``index_11.html`` beside it. Some templates add the pager's
element id and the number of records, ``createPageHTML('page_div', 12, 1, 'index', 'html',
180)``, and count the current page from 1; others only set ``var countPage = 12; var
currentPage = 0;`` for a pager script elsewhere, with the page's own file name as the pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

CREATE_PAGE_HTML = re.compile(
    r"""createPageHTML\(\s*(?P<element>(['"])[^'"]*\2\s*,\s*)?"""
    r"(?P<count>\d+)\s*,\s*(?P<current>\d+)\s*,\s*"
    r"""(['"])(?P<prefix>\w+)\5\s*,\s*(['"])(?P<ext>\w+)\7"""
)
COUNT_PAGE = re.compile(r"\bcountPage\s*=\s*(\d+)")
CURRENT_PAGE = re.compile(r"\bcurrentPage\s*=\s*(\d+)")
# The file name of a numbered list page: index.html, index_3.html, list_12.shtml.
PAGE_FILE = re.compile(r"^(?P<prefix>\w+?)(?:_(?P<number>\d+))?\.(?P<ext>\w+)$")


def script_pages(scripts: Iterable[str], page_url: str, limit: int) -> list[str]:
    """The URLs of the list pages after ``page_url`` that its ``scripts`` draw a pager for,
    nearest first, at most ``limit`` of them; none when no script draws one."""
    text = "\n".join(scripts)
    file = urlsplit(page_url).path.rpartition("/")[2]
    named = PAGE_FILE.match(file)
    call = CREATE_PAGE_HTML.search(text)
    if call:
        count = int(call["count"])
        prefix, ext = call["prefix"], call["ext"]
        # The variant with an element id counts the current page from 1.
        current = int(call["current"]) - (1 if call["element"] else 0)
    else:
        counted = COUNT_PAGE.search(text)
        if counted is None:
            return []
        count = int(counted[1])
        stated = CURRENT_PAGE.search(text)
        current = int(stated[1]) if stated else 0
        prefix, ext = (named["prefix"], named["ext"]) if named else ("index", "html")
    # Where the page's own name is in the pattern it says which page this is more surely than
    # the script's counter, whose base differs between templates; a folder URL is the first.
    if not file:
        current = 0
    elif named and named["prefix"] == prefix and named["ext"] == ext:
        current = int(named["number"] or 0)
    last = min(count - 1, current + limit)
    return [urljoin(page_url, f"{prefix}_{n}.{ext}") for n in range(max(current, 0) + 1, last + 1)]
