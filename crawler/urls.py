"""Canonical URLs, so that one article is one row however it was linked."""

from __future__ import annotations

from fnmatch import fnmatchcase
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query parameters that only say where a click came from or how to present the page; dropping
# them makes one article one row however it was linked. Names are matched lowercased, as shell
# patterns; a pattern with "=" matches one value only, for a name that elsewhere names a page
# (``f=rss`` tags feed links, another site's ``f`` may pick a file). Parameters that can name a
# page (id, page, p, aid …) are kept. Sources add their own with ``drop_params``.
TRACKING_PARAMS = (
    "utm_*",
    "spm",
    "wfr",
    "from",
    "fromid",
    "f=rss",
    "jump",  # Guangdong's gkmlpt documents are linked with ?jump=true
    "commtag",  # a link to the comment box (thepaper.cn, cnstock.com)
    "share",
    "share_*",
    "sharer_*",
    "scene",
    "isappinstalled",
    "fbclid",
    "gclid",
    "mc_cid",
    "mc_eid",
    "_t",
)


# The spider asks for a link's canonical form where it judges it, plans it and requests it,
# and every list page repeats the site's navigation: most calls were asked before.
@lru_cache(maxsize=8192)
def canonical_url(url: str, drop_params: tuple[str, ...] = ()) -> str:
    """``url`` without tracking parameters and fragment, with a sorted query and lowercase host."""
    patterns = TRACKING_PARAMS + drop_params
    parts = urlsplit(url)
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not any(_tracking(key.lower(), value.lower(), p) for p in patterns)
    ]
    return canonicalize_url(urlunsplit(parts._replace(query=urlencode(query))))


def _tracking(key: str, value: str, pattern: str) -> bool:
    name, is_pair, wanted = pattern.partition("=")
    return fnmatchcase(key, name) and (not is_pair or fnmatchcase(value, wanted))


def path_and_query(url: str) -> str:
    """The part of ``url`` that a source's URL patterns are matched against."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@lru_cache(maxsize=1024)
def canonical_host(host: str) -> str:
    """``host`` as :func:`canonical_url` writes it (IDNA, lowercase, compressed IPv6), so that
    a source's domains match the hosts of the URLs it requests."""
    literal = host.strip()
    if ":" in literal and not literal.startswith("["):
        literal = f"[{literal}]"
    canonical = urlsplit(canonicalize_url(f"http://{literal}/")).hostname
    if not canonical or any(c in host for c in "/?#@ "):
        raise ValueError(f"not a host name: {host!r}")
    return canonical
