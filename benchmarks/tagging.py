"""Tagging quality and speed: `newsmon tag` scored against gold labels.

    .venv/bin/python benchmarks/tagging.py [--labels ../shared/labels/seeds.json]
                                           [--docs ../shared/seed-docs] [--corpus ../shared/corpus]

Runs `newsmon tag FILE --title T --json` on each labelled document and scores it by the rules
of the labels file's "_about" (and TAXONOMY.md): regions mentioned and primary (predictions
outside gold ∪ optional are false, anything in "not" is always false and counted as
forbidden), topics (required must be found, predictions outside required ∪ optional are
false), policies (by normalised title; issuing region and date checked on the matches).
Prints micro-averaged precision, recall and F1 per field, the forbidden tags, and the
classifier's speed in articles/s on one core over real article bodies of 3–5 KB taken from
the corpus (extracted first, then timed). Paths default to $NEWSMON_SHARED or ../shared.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from crawler.classify import classify
from crawler.classify.policies import normalise_title
from crawler.extract import extract_article

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

    def line(self, name: str) -> str:
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
    if (args.corpus / "index.jsonl").is_file():
        rate, count = speed(args.corpus)
        print(f"speed: {rate:.0f} articles/s on one core ({count} corpus bodies of 3-5 KB)")


if __name__ == "__main__":
    main()
