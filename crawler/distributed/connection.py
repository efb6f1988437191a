"""Reaching the shared Redis, and naming it in messages without its password."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

from crawler.errors import RedisUnreachable


def redacted(url: str) -> str:
    """A Redis URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()


def connect(url: str) -> redis.Redis:
    """A client of the Redis at ``url``, checked; RedisUnreachable, one line, if not."""
    try:
        server = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise RedisUnreachable(f"Redis at {redacted(url)}: {exc}") from None
    return server
