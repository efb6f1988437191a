"""Tagging quality and speed: `newsmon tag` scored against gold labels.

    .venv/bin/python benchmarks/tagging.py [--labels ../shared/labels/seeds.json]
                                           [--docs ../shared/seed-docs] [--corpus ../shared/corpus]
                                           [--portal tests/fixtures/portal]

Runs `newsmon tag FILE --title T --json` on each labelled document and scores it by the rules
of the labels file's "_about" (and TAXONOMY.md): regions mentioned and primary (predictions
outside gold ∪ optional are false, anything in "not" is always false and counted as
forbidden), topics (required must be found, predictions outside required ∪ optional are
false), policies (by normalised title; issuing region and date checked on the matches).
Prints micro-averaged precision, recall and F1 per field, the forbidden tags, and the
classifier's speed in articles/s on one core over real article bodies of 3–5 KB taken from
the corpus (extracted first, then timed). Paths default to $NEWSMON_SHARED or ../shared.

The policies table scores each field of a policy (title, issuer, doc number, kind, status,
date, region) on the portal pages of tests/fixtures/portal and of the demo site's 政府信息公开
section (extracted, then classified with their information table, as a crawl does; the
demo's gold is in crawler/demo/portal.toml) and on the seeds: a title by the set of titles, any
other field on the policies whose title matched and whose gold gives it (a wrong value is
false and missed); region is the page's primary region for the portal pages.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.classify import classify
from crawler.classify.policies import normalise_title
from crawler.demo.site import load_site, load_updates
from crawler.extract import extract_article
from crawler.pipelines.classify import document_info

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.run import SHARED, newsmon  # noqa: E402


@dataclass
class Score:
    true: int = 0
    false: int = 0
    missed: int = 0

    def add(self, predicted: set[str], gold: set[str], allowed: set[str]) -> None:
        self.true += len(predicted & gold)
        self.false += len(predicted - gold - allowed)
        self.missed += len(gold - predicted)

    def check(self, predicted: str | None, gold: str, right: bool) -> None:
        self.true += right
        self.false += predicted is not None and not right
        self.missed += not right

    def line(self, name: str) -> str:
        if not self.true + self.false + self.missed:
            return f"{name:18} {'-':>9} {'-':>7} {'-':>6}   (no gold)"
        p = self.true / max(self.true + self.false, 1)
        r = self.true / max(self.true + self.missed, 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        counts = f"({self.true} right, {self.false} false, {self.missed} missed)"
        return f"{name:18} {p:9.3f} {r:7.3f} {f1:6.3f}   {counts}"


def tag_file(path: Path, title: str | None) -> dict:
    args = ["tag", str(path), "--json"]
    if title:
        args += ["--title", title]
    return json.loads(newsmon(*args).stdout)


POLICY_FIELDS = ("issuer", "doc_number", "kind", "status", "date", "region")


def score_policies(
    scores: dict[str, Score], got: list[dict[str, Any]], gold: list[dict[str, Any]]
) -> None:
    """Add one page's policies to the per-field ``scores``."""
    gold_policies = {normalise_title(p["title"]): p for p in gold}
    got_policies = {p["title"]: p for p in got}
    scores["title"].add(set(got_policies), set(gold_policies), set())
    for title in set(got_policies) & set(gold_policies):
        for name in POLICY_FIELDS:
            if name in gold_policies[title]:
                predicted, expected = got_policies[title][name], gold_policies[title][name]
                # A date is right to the precision the gold gives (05-31 of 2023-05-31).
                day = predicted or ""
                right = predicted == expected or (
                    name == "date" and expected in (day[:4], day[:7], day[5:]) and bool(day)
                )
                scores[name].check(predicted, expected, right)


def portal_policies(pages: Iterable[tuple[str, bytes, dict[str, Any]]]) -> dict[str, Score]:
    """The policies table over portal pages (url, HTML, gold as in gold.toml)."""
    scores = {name: Score() for name in ("title", *POLICY_FIELDS, "primary region")}
    for url, html, page in pages:
        article = extract_article(html, url)
        if article is None:
            scores["title"].missed += len(page["policies"])
            continue
        tags = classify(
            article.simplified, article.title, article.published, None, document_info(article)
        ).to_json()
        # The page's primary region counts for the policy table's region row, the policies'
        # own regions for the region row.
        scores["primary region"].add(set(tags["regions"]["primary"]), set(page["primary"]), set())
        score_policies(scores, tags["policies"], page["policies"])
    return scores


def fixture_pages(folder: Path) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """The portal fixture pages and their gold.toml."""
    gold = tomllib.loads((folder / "gold.toml").read_text("utf-8"))["pages"]
    for name, page in gold.items():
        yield f"http://127.0.0.1/{name}", (folder / name).read_bytes(), page


def demo_portal_pages() -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """The documents of the demo site's 政府信息公开 section, its updates' too, and their gold."""
    site = load_site().updated(load_updates(), "2025-07-01T00:00:00+00:00")
    pages = site.pages("http://127.0.0.1/")
    for document in site.documents:
        gold = {"primary": list(document.primary), "policies": document.expected_policies}
        yield f"http://127.0.0.1{document.path}", pages[document.path].body, gold


def print_policies(heading: str, scores: dict[str, Score]) -> None:
    print(f"policies: {heading}")
    print(f"{'field':18} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, score in scores.items():
        print(score.line(name))


def speed(corpus: Path, limit: int = 60) -> tuple[float, int]:
    """Articles/s of classify() on real bodies of 3–5 KB (UTF-8 bytes), one process."""
    bodies = []
    for page in sorted(corpus.glob("*/*.html")):
        article = extract_article(page.read_bytes(), "http://127.0.0.1/a.html")
        if article and 3000 <= len(article.simplified.encode()) <= 5000:
            bodies.append((article.simplified, article.title, article.published))
        if len(bodies) >= limit:
            break
    classify(*bodies[0])  # loads the gazetteer and the dictionaries, once per process
    started = time.perf_counter()
    for _ in range(3):
        for body in bodies:
            classify(*body)
    return 3 * len(bodies) / (time.perf_counter() - started), len(bodies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=SHARED / "labels" / "seeds.json")
    parser.add_argument("--docs", type=Path, default=SHARED / "seed-docs")
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--portal", type=Path, default=PROJECT / "tests" / "fixtures" / "portal")
    args = parser.parse_args()
    if not args.labels.is_file():
        parser.error(f"no labels at {args.labels} (pass --labels or set NEWSMON_SHARED)")
    labels = {
        k: v for k, v in json.loads(args.labels.read_text("utf-8")).items() if not k.startswith("_")
    }

    scores = {
        name: Score() for name in ("regions mentioned", "regions primary", "topics", "policies")
    }
    forbidden: list[str] = []
    policy_region = policy_date = matched = 0
    seed_policies = {name: Score() for name in ("title", *POLICY_FIELDS)}
    for name, gold in labels.items():
        got = tag_file(args.docs / name, gold.get("title"))
        regions, mentioned = gold["regions"], set(got["regions"]["mentioned"])
        scores["regions mentioned"].add(
            mentioned,
            set(regions["mentioned"]),
            set(regions.get("mentioned_optional", [])) - set(regions.get("not", [])),
        )
        scores["regions primary"].add(
            set(got["regions"]["primary"]),
            set(regions["primary"]),
            set(regions.get("primary_optional", [])) - set(regions.get("not", [])),
        )
        scores["topics"].add(
            set(got["topics"]),
            set(gold["topics"]["required"]),
            set(gold["topics"].get("optional", [])),
        )
        gold_policies = {normalise_title(p["title"]): p for p in gold["policies"]}
        got_policies = {p["title"]: p for p in got["policies"]}
        scores["policies"].add(set(got_policies), set(gold_policies), set())
        score_policies(seed_policies, got["policies"], gold["policies"])
        for title in set(got_policies) & set(gold_policies):
            matched += 1
            policy_region += got_policies[title]["region"] == gold_policies[title].get("region")
            expected = gold_policies[title].get("date")
            policy_date += (
                expected is None
                or (got_policies[title]["date"] or "").endswith(expected)
                or (got_policies[title]["date"] or "").startswith(expected)
            )
        not_policies = {normalise_title(t) for t in gold.get("not_policies", [])}
        forbidden += [f"{name}: region {r}" for r in mentioned & set(regions.get("not", []))]
        forbidden += [f"{name}: policy {t}" for t in set(got_policies) & not_policies]

    print(f"labels {args.labels} ({len(labels)} documents)")
    print(f"{'field':18} {'precision':>9} {'recall':>7} {'F1':>6}")
    for name, score in scores.items():
        print(score.line(name))
    print(f"policy regions right: {policy_region}/{matched}, dates right: {policy_date}/{matched}")
    print(f"forbidden tags: {len(forbidden)}" + "".join(f"\n    {f}" for f in forbidden))
    print_policies(f"seeds ({len(labels)} documents)", seed_policies)
    if (args.portal / "gold.toml").is_file():
        print_policies(
            f"portal pages of {args.portal}", portal_policies(fixture_pages(args.portal))
        )
    demo = list(demo_portal_pages())
    print_policies(
        f"the demo's 政府信息公开 section ({len(demo)} documents)", portal_policies(demo)
    )
    if (args.corpus / "index.jsonl").is_file():
        rate, count = speed(args.corpus)
        print(f"speed: {rate:.0f} articles/s on one core ({count} corpus bodies of 3-5 KB)")


if __name__ == "__main__":
    main()
