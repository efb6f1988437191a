"""The round of a source: the crawlers that crawl it together, each on a lease.

The first crawler to join finds no live member and starts a round: it empties the frontier
and the duplicate filter left by the last one. A member renews its lease while it runs; one
killed with ``kill -9`` drops out when the lease runs out. A crawler with nothing left to do
stays while another member is still busy (that one may find more links) and leaves when all
are idle.
"""

from __future__ import annotations

import os
import socket

import redis

from crawler.distributed.keys import FRONTIER, SEEN

LEASE_SECONDS = 60

JOIN = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('INCR', KEYS[5])
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return tonumber(redis.call('GET', KEYS[5]))
"""
RENEW = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
"""
OTHERS_BUSY = """
local now = tonumber(redis.call('TIME')[1])
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  if member ~= ARGV[1] and redis.call('HEXISTS', KEYS[2], member) == 0 then return 1 end
end
return 0
"""


class Round:
    """One crawler's membership of the round of a source (see the module's docstring).
    The lease is counted in Redis's clock, so hosts' clocks need not agree."""

    def __init__(self, server: redis.Redis, spider_name: str, worker: str):
        self.server = server
        self.worker = worker
        self.keys = {
            "members": f"newsmon:{spider_name}:members",
            "frontier": FRONTIER % {"spider": spider_name},
            "seen": SEEN % {"spider": spider_name},
            "idle": f"newsmon:{spider_name}:idle",
            "number": f"newsmon:{spider_name}:round",
        }
        self.is_idle = False

    def join(self) -> int:
        """Join the running round, or start one; its number."""
        number = self.server.eval(JOIN, 5, *self.keys.values(), self.worker, LEASE_SECONDS)
        return int(number)  # type: ignore[arg-type]

    def renew(self) -> None:
        """Extend this crawler's lease by LEASE_SECONDS from now."""
        self.server.eval(RENEW, 1, self.keys["members"], self.worker, LEASE_SECONDS)

    def idle(self) -> bool:
        """Say this crawler has nothing to do; whether it may leave (no other is busy)."""
        self.is_idle = True
        self.server.hset(self.keys["idle"], self.worker, 1)
        busy = self.server.eval(
            OTHERS_BUSY, 2, self.keys["members"], self.keys["idle"], self.worker
        )
        return not busy

    def busy(self) -> None:
        """Say this crawler has work again (a request reached its downloader)."""
        if self.is_idle:
            self.is_idle = False
            self.server.hdel(self.keys["idle"], self.worker)

    def leave(self) -> None:
        """Drop out of the round: done, or closing."""
        self.server.zrem(self.keys["members"], self.worker)
        self.server.hdel(self.keys["idle"], self.worker)


def worker_name() -> str:
    """This crawler's name in its rounds: host and process."""
    return f"{socket.gethostname()}:{os.getpid()}"
