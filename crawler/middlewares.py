"""Downloader middlewares: what may be requested at all, and when not to try again."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from w3lib.url import canonicalize_url

from crawler.errors import RefusalKind

# Cloud metadata services answer on these without being link-local (Alibaba Cloud's is in the
# carrier-grade NAT range); they are named in the error so that a user sees what was at stake.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "100.100.100.200", "fd00:ec2::254"})


class RequestRefused(IgnoreRequest):
    """A request newsmon will not make or whose response it will not take, by ``kind``:
    ``robots`` (robots.txt forbids it), ``refused`` (a non-public address), ``offsite`` (off
    the source's domains), ``redirects`` (a loop, or too many), ``too_big`` (over
    DOWNLOAD_MAXSIZE). The message is the one line a fetch records."""

    def __init__(self, kind: RefusalKind, line: str):
        super().__init__(line)
        self.kind = kind
        self.line = line


def address_kind(address: str) -> str | None:
    """Why a crawler must not connect to ``address`` unasked, or None for a public address."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if str(ip) in METADATA_ADDRESSES:
        return "cloud metadata"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "non-public"
    return None


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class AddressGuard:
    """Refuses requests to hosts that are, or resolve to, non-public addresses.

    A page can link or redirect anywhere, and a crawler inside a network is a way into it:
    the router, an intranet, the cloud's metadata service. Every request is checked here,
    redirects included (they are new requests), unless its host is one of the source's
    ``private_hosts``. The name is resolved through Scrapy's caching resolver, so the connection
    that follows uses the address checked here."""

    def __init__(self, crawler: Any):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuard:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        if host in self.crawler.spider.source.private_hosts:
            return
        if _is_ip(host):
            address = host
        else:
            # Imported here: importing it installs a reactor, which Scrapy must choose first.
            from twisted.internet import reactor

            # A name that does not resolve fails here as it would on connecting.
            address = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[arg-type]
        kind = address_kind(address)
        if kind is not None:
            resolved = "" if address == host else f" resolves to {address}, which"
            reason = f"{host}{resolved} is a {kind} address (not in the source's private_hosts)"
            raise RequestRefused("refused", f"refused: {reason}")


class RetryAfter:
    """A server that answers 429 or 503 with Retry-After is asked again by the next run, not
    at once: Scrapy's retries would come back within the second it asked us to stay away."""

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in (429, 503) and response.headers.get(b"Retry-After"):
            request.meta["dont_retry"] = True
        return response


# Scrapy's own middlewares refuse with a bare IgnoreRequest, each for one reason only; these
# subclasses, registered in their place (crawler.settings), give that reason its kind.


@contextmanager
def refused_as(kind: RefusalKind, line: str | None = None) -> Iterator[None]:
    """An IgnoreRequest raised inside, as a RequestRefused of ``kind`` saying ``line`` (or
    what Scrapy said)."""
    try:
        yield
    except RequestRefused:
        raise
    except IgnoreRequest as exc:
        raise RequestRefused(kind, line or str(exc)) from exc


class Offsite(OffsiteMiddleware):
    """Scrapy's offsite filter; what it drops is ``offsite``, a redirect's included."""

    def request_scheduled(self, request: Request, spider: Spider) -> None:
        # Scrapy's filters here too, where a refusal drops the request without a word (no
        # errback, no signal): a start URL or a redirect off the source's domains would leave
        # no trace. Refused as it is downloaded, before any lookup or robots.txt, it is a
        # failure the spider records.
        return

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        redirected = request.meta.get("redirect_urls")
        host = urlparse_cached(request).hostname
        with refused_as(
            "offsite", f"redirected off the source's domains, to {host}" if redirected else None
        ):
            super().process_request(request)


class RobotsTxt(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware; what robots.txt forbids is ``robots``."""

    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        with refused_as("robots"):
            super().process_request_2(rp, request)


class Decompression(HttpCompressionMiddleware):
    """Scrapy's decompression; a body over DOWNLOAD_MAXSIZE once unpacked is ``too_big``."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        with refused_as("too_big", "response over the size cap once unpacked (DOWNLOAD_MAXSIZE)"):
            return super().process_response(request, response)


TOO_MANY_REDIRECTS = "too many redirects (over REDIRECT_MAX_TIMES)"


def refuse_loop(request: Request, followed: Request | Response) -> Request | Response:
    """``followed``, unless it is a redirect back to a URL of the chain that led to it. Scrapy
    would drop that request as a duplicate without a word, and the page would stop being
    checked with no trace why."""
    if not isinstance(followed, Request):
        return followed
    chain = [*request.meta.get("redirect_urls", ()), request.url, followed.url]
    if canonicalize_url(followed.url) in map(canonicalize_url, chain[:-1]):
        raise RequestRefused("redirects", loop_line(chain))
    return followed


def loop_line(chain: list[str]) -> str:
    """``redirect loop: A → B → A``, each URL after the first without the first's origin."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(chain[0]))
    hops = [chain[0], *(url.removeprefix(origin) or "/" for url in chain[1:])]
    return "redirect loop: " + " → ".join(hops)


class Redirect(RedirectMiddleware):
    """Scrapy's redirects; a loop, or one past REDIRECT_MAX_TIMES, is ``redirects``."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        with refused_as("redirects", TOO_MANY_REDIRECTS):
            return refuse_loop(request, super().process_response(request, response))


class MetaRefresh(MetaRefreshMiddleware):
    """Scrapy's meta refresh redirects; a loop (to itself, too), or one past
    REDIRECT_MAX_TIMES, is ``redirects``."""

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        with refused_as("redirects", TOO_MANY_REDIRECTS):
            return refuse_loop(request, super().process_response(request, response))
