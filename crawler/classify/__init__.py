"""Classification: an article's text in, its tags out (TAXONOMY.md). Pure.

Regions, topics (with the sentence that shows each), policy documents and their release
events, keywords and money amounts. ``Tags.to_json()`` is the contract of ``newsmon tag``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from crawler.classify.amounts import Amount, amounts
from crawler.classify.keywords import keywords
from crawler.classify.policies import (
    DocumentInfo,
    Event,
    PolicyMention,
    find_policies,
    page_policies,
)
from crawler.classify.regions import RegionTags, issued_by, places_in, tag_regions
from crawler.classify.topics import Taxonomy, TopicTag, tag_topics
from crawler.clean.script import to_simplified

YEAR = re.compile(r"^((?:19|20)\d\d)")
# Tagging reads at most this much of a body, cut at a line break: what an article is about is
# in its first pages, and the work grows with its length. Linear now, it costs about 2.3 µs a
# character (benchmarks/page_size.py: 289,055 characters in 0.68 s; a 6 MB page's 2,100,000
# would take 5 s), so this bounds it to about 0.7 s. News and policy articles run to 30,000
# characters and a whole 规划纲要 to under 100,000: none is cut that was tagged whole before.
TAG_CHARS = 300_000


@dataclass(frozen=True)
class Tags:
    """Everything the classifier says about one article."""

    regions: RegionTags
    topics: tuple[TopicTag, ...]
    policies: tuple[PolicyMention, ...]
    events: tuple[Event, ...]
    keywords: tuple[str, ...]
    amounts: tuple[Amount, ...]
    truncated_for_tagging: bool = False  # only the first TAG_CHARS of the text were read

    def to_json(self) -> dict[str, Any]:
        """The stable shape external evaluation reads (``newsmon tag --json``)."""
        return {
            "regions": {
                "mentioned": list(self.regions.mentioned),
                "primary": list(self.regions.primary),
            },
            "topics": [t.topic for t in self.topics],
            "policies": [
                {
                    "title": p.title,
                    "region": p.region,
                    "date": p.date,
                    "issuer": p.issuer,
                    "doc_number": p.doc_number,
                    "kind": p.kind,
                    "status": p.status,
                }
                for p in self.policies
            ],
            "keywords": list(self.keywords),
            "amounts": [asdict(a) for a in self.amounts],
            "events": [asdict(e) for e in self.events],
        }


def classify(
    text: str,
    title: str | None = None,
    published: str | None = None,
    taxonomy: Taxonomy | None = None,
    document: DocumentInfo | None = None,
) -> Tags:
    """Tag an article: ``text`` is its cleaned body, ``published`` completes dates (5月31日),
    ``document`` is what a portal's information table says of the page's document."""
    truncated = len(text) > TAG_CHARS
    if truncated:
        cut = text.rfind("\n", TAG_CHARS // 2, TAG_CHARS)
        text = text[: cut if cut > 0 else TAG_CHARS]
    text, title = to_simplified(text), to_simplified(title) if title else None
    year = YEAR.match(published or "")
    named, events = find_policies(text, places_in, int(year.group(1)) if year else None)
    in_title, _ = find_policies(title, places_in) if title else ((), ())
    own = page_policies(title, text, places_in, published, document)
    # The page's own document, or the one it explains, is that policy's record here: the
    # same title named in its text (or its headline: 《X》发布) adds nothing.
    policies = {p.title: p for p in own}
    for policy in (*named, *in_title):
        policies.setdefault(policy.title, policy)
    regions = tag_regions(text, title)
    issuing = next((p.region for p in own if p.role == "text" and p.region), None)
    return Tags(
        regions=issued_by(regions, issuing) if issuing else regions,
        topics=tag_topics(text, title, taxonomy),
        policies=tuple(policies.values()),
        events=events,
        keywords=keywords(text, title),
        amounts=amounts(text),
        truncated_for_tagging=truncated,
    )
