"""The Redis keys that both the crawlers and the writer use (a round's own are in rounds)."""

from __future__ import annotations

ITEMS = "newsmon:items"
# Messages the writer has taken but not yet committed: a writer killed meanwhile takes them
# again when it starts (the store is idempotent: an article saved twice is "unchanged").
TAKEN = "newsmon:items:taken"
# Messages of sources the writer's seed files do not know: kept, not dropped.
REJECTED = "newsmon:items:rejected"
# A source's frontier and duplicate filter (scrapy-redis's), per spider name.
FRONTIER = "newsmon:%(spider)s:frontier"
SEEN = "newsmon:%(spider)s:seen"


def plan_key(source_id: str) -> str:
    """The key of the revisit plan the writer publishes for ``source_id``."""
    return f"newsmon:plan:{source_id}"
