"""Responses cut short on the way: found while the body is still as sent, before Scrapy's
decompression (which keeps whatever a broken gzip stream yields, silently) or a parser sees
it. A cut response is an error of its fetch, never a page: stored, a truncated body would be
a new version of the article and an alert, undone by the next good fetch.

What is detected is what the bytes prove: fewer bytes than Content-Length announced (Scrapy
fails those itself while DOWNLOAD_FAIL_ON_DATALOSS holds, and flags them ``dataloss`` when
not), and a compressed stream without its end. A body that ends with the connection and
announced no length (HTTP/1.0 style, Scrapy's ``partial``) proves nothing: the store's
suspect rule (crawler.suspect) compares what it holds with the article stored before.
"""

from __future__ import annotations

import zlib
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response

try:
    import brotli
except ImportError:  # Scrapy then leaves br bodies undecoded, and so does this
    brotli = None

# The key of ``Request.meta`` that holds why its response is cut short; the spider's
# fetch_record turns it into the fetch's error.
META_KEY = "newsmon_cut_short"
CHUNK = 64 * 1024


def cut_short(headers: Any, body: bytes, flags: list[str], max_size: int) -> str | None:
    """Why a response with these raw ``headers``, ``body`` and Scrapy ``flags`` is not whole,
    or None. Unpacks at most ``max_size`` bytes (0: no limit) of a compressed body to know;
    a body bigger than that is refused by the size cap anyway."""
    announced = _content_length(headers)
    if "dataloss" in flags or (announced is not None and len(body) < announced):
        got = f"{len(body)} of {announced} bytes" if announced is not None else "bytes missing"
        return f"body cut short ({got} announced in Content-Length)"
    encodings = b",".join(headers.getlist(b"Content-Encoding")).lower().split(b",")
    # The outermost coding is listed last; the check reads that one.
    encoding = encodings[-1].strip() if encodings else b""
    if encoding in (b"gzip", b"x-gzip", b"deflate") and not _zlib_complete(
        body, 31 if encoding != b"deflate" else zlib.MAX_WBITS, max_size
    ):
        return f"{encoding.decode()} stream cut short (it ends before its end marker)"
    if encoding == b"br" and brotli is not None and not _brotli_complete(body, max_size):
        return "br stream cut short (it ends before its end marker)"
    return None


def _content_length(headers: Any) -> int | None:
    value = headers.get(b"Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _zlib_complete(body: bytes, wbits: int, max_size: int) -> bool:
    """Whether every member of the gzip (or zlib, or raw deflate) stream reaches its end."""
    data, unpacked = body, 0
    while data:
        unpacker = zlib.decompressobj(wbits)
        try:
            out = unpacker.decompress(data, CHUNK)
            while not unpacker.eof and (out or unpacker.unconsumed_tail):
                unpacked += len(out)
                if max_size and unpacked > max_size:
                    return True  # the size cap's to refuse, not this
                out = unpacker.decompress(unpacker.unconsumed_tail, CHUNK)
        except zlib.error:
            if wbits == zlib.MAX_WBITS:  # "deflate" is sent raw as often as zlib-wrapped
                return _zlib_complete(body, -zlib.MAX_WBITS, max_size)
            return False
        if not unpacker.eof:
            return False
        # Members after the first: trailing bytes that are no gzip member are ignored, as
        # every browser does.
        data = unpacker.unused_data if unpacker.unused_data[:2] == b"\x1f\x8b" else b""
    return True


def _brotli_complete(body: bytes, max_size: int) -> bool:
    unpacker = brotli.Decompressor()
    try:
        out = unpacker.process(body, output_buffer_limit=CHUNK)
        unpacked = len(out)
        while out and not unpacker.is_finished():
            if max_size and unpacked > max_size:
                return True
            out = unpacker.process(b"", output_buffer_limit=CHUNK)
            unpacked += len(out)
    except brotli.error:
        return False
    return bool(unpacker.is_finished())


class CutShort:
    """Notes in the request's meta why its response is cut short; placed to see the body
    before the decompression middleware unpacks it."""

    def __init__(self, max_size: int):
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler: Any) -> CutShort:
        return cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if request.method != "HEAD" and response.status != 304:
            max_size = request.meta.get("download_maxsize", self.max_size)
            problem = cut_short(response.headers, response.body, response.flags, max_size)
            # A retried request carries the meta of the try before.
            request.meta.pop(META_KEY, None)
            if problem is not None:
                request.meta[META_KEY] = problem
        return response
