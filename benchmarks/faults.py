"""Faults: kill -9 of crawls, of the daemon and of digest runs at random moments, and readers
querying the database while crawls write, and a site whose every page goes bad; prints a
tally.

    .venv/bin/python benchmarks/faults.py [--rounds 20] [--seconds 60] [--pairs 3] [--seed 1]
    .venv/bin/python benchmarks/faults.py --classes [--only hangs]   # the fault classes only

Everything runs for real: `newsmon` processes against a generated news site on 127.0.0.1
(tests/support/sites.py), an SMTP server (aiosmtpd) in this process, `newsmon serve`
(Datasette) and a plain sqlite3 connection as readers.

- bad inputs: the site of tests/support/hostile.py crawled sound, then once every page went bad
  (charsets, binary and huge bodies, gzip bombs, redirect loops, HTTP errors, stalls, resets,
  private addresses, traps and an endless calendar); each case checked as the tests do.
- crawl: `newsmon crawl` of two sources, killed at a random moment (a quarter of the rounds
  while it starts and migrates, the rest after its run began); the site changes between
  rounds; then a crawl to the end, which must store every article of the site.
- daemon: `newsmon daemon` with both sources due every few seconds, killed at a random moment
  and started again at once, as systemd's Restart= does; then stopped with SIGTERM, and a
  crawl to the end. Counts crawls that outlived their daemon and runs of a source that
  overlapped.
- digest: `newsmon digest` to the SMTP server, killed at a random moment, or (every third
  round) the moment the server has taken the message, before the client hears the 250; then
  run again to the end. And pairs of digest runs started together.
- concurrent reads: Datasette and a sqlite3 connection query for --seconds while crawls
  write, counting "database is locked" on both sides; and --pairs times two crawls writing
  at once, as the daemon runs sources side by side.

After every kill and after the resumed run: PRAGMA integrity_check, no duplicate articles
(url), versions (article, version) or alerts (kind, subject), and nothing stored before lost;
every alert reached the SMTP server at least once, and how often one arrived twice.

- fault classes (tests/support/faultcases.py): corruption, pages skipped without a word,
  hangs, digests, database errors, each a set of cases; one line per class: cases tried,
  passed, articles corrupted, articles skipped without an error, hangs past the timeout,
  tracebacks, alerts lost/doubled. Printed after the tally (alone with --classes); the exit
  status is non-zero when a case failed. tests/test_fault_classes.py runs the same cases.

The tally is rows (what, figure) made by the section functions in SECTIONS; another kind of
fault is one more section. The drivers live in tests/support/ (kills.py, concurrency.py);
tests/test_crashes.py and tests/test_concurrency.py run them with fewer rounds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
if str(PROJECT) not in sys.path:  # run as a script: benchmarks/ is on the path, not the checkout
    sys.path.insert(0, str(PROJECT))
from tests.support.concurrency import concurrent_reads, parallel_crawls  # noqa: E402
from tests.support.faultcases import (  # noqa: E402
    CASES,
    CLASSES,
    COLUMNS,
    Bench,
    Outcome,
    class_rows,
    run_case,
)
from tests.support.hostile import HostileSite, crawl_both_lives  # noqa: E402
from tests.support.kills import (  # noqa: E402
    concurrent_digests,
    crawl_kills,
    daemon_kills,
    digest_kills,
)
from tests.support.state import Tally  # noqa: E402

# The tally: each section is a function (arguments, working folder) -> rows (what, figure).

Row = tuple[str, str]


def crash_rows(args: argparse.Namespace, workdir: Path) -> list[Row]:
    """kill -9 of crawls, daemons and digest runs, and digest runs side by side."""
    kinds = [
        crawl_kills(args.rounds, args.seed, workdir),
        daemon_kills(args.rounds, args.seed, workdir),
        digest_kills(args.rounds, args.seed, workdir),
    ]
    crawl, daemon, digest = kinds
    pairs = concurrent_digests(max(3, args.rounds // 4), args.seed, workdir)
    for tally in [*kinds, pairs]:
        for problem in (tally.problems + tally.lock_errors)[:10]:
            print(f"  {tally.kind}: {problem[:200]}", file=sys.stderr)

    def each(value: Callable[[Tally], int]) -> str:
        return "/".join(str(value(t)) for t in kinds)

    return [
        ("kill -9 rounds (crawl/daemon/digest)", each(lambda t: t.rounds)),
        ("  of them killed while running", each(lambda t: t.killed)),
        ("integrity failures", each(lambda t: t.integrity_failures)),
        (
            "duplicate articles/versions/alerts",
            "/".join(str(sum(t.duplicates[i] for t in kinds)) for i in range(3)),
        ),
        ("rows stored before a kill and lost", each(lambda t: t.lost)),
        (
            "site articles missing after the crawl to the end (crawl/daemon)",
            f"{crawl.incomplete}/{daemon.incomplete}",
        ),
        ("runs of one source overlapping (crawl/daemon)", f"{crawl.overlaps}/{daemon.overlaps}"),
        ("crawls outliving their killed daemon by 10 s", str(daemon.outlived)),
        ("crawls skipped: source already being crawled", str(daemon.skipped + crawl.skipped)),
        ("lock errors in the processes' output", each(lambda t: len(t.lock_errors))),
        ("alerts in killed digest runs", str(digest.alerts)),
        ("lost digests (alerts that never arrived)", str(digest.undelivered)),
        ("doubled digests (alerts in two messages)", str(digest.doubled)),
        ("same message sent again (same Message-ID)", str(digest.redelivered)),
        (
            f"two digest runs at once ({pairs.rounds} pairs): doubled/lost/skipped",
            f"{pairs.doubled + pairs.redelivered}/{pairs.undelivered}/{pairs.skipped}",
        ),
    ]


def concurrency_rows(args: argparse.Namespace, workdir: Path) -> list[Row]:
    """Datasette and a sqlite3 reader against crawls writing; two crawls writing at once."""
    reads = concurrent_reads(args.seconds, workdir)
    for problem in reads.problems[:10]:
        print(f"  reads: {problem[:200]}", file=sys.stderr)
    writers = [parallel_crawls(workdir / f"writers-{i}") for i in range(args.pairs)]
    for tally in writers:
        for problem in (tally.problems + tally.lock_errors)[:3]:
            print(f"  {tally.kind}: {problem[:200]}", file=sys.stderr)
    return [
        (
            f"lock errors over {reads.seconds:.0f} s of concurrent reads (queries run)",
            f"{reads.lock_errors} ({reads.http} HTTP, {reads.sql} SQL)",
        ),
        ("  other reader errors", str(reads.errors)),
        (
            "lock errors of the crawls writing meanwhile (crawls)",
            f"{reads.writer_lock_errors} ({reads.crawls})",
        ),
        ("  articles and versions written meanwhile", str(reads.articles_written)),
        (
            f"two crawls writing at once ({len(writers)} times): lock errors, articles missed",
            f"{sum(len(t.lock_errors) for t in writers)}, {sum(t.incomplete for t in writers)}",
        ),
    ]


# Each section adds its rows to the tally; a new kind of fault is one more function here
# (e.g. bad_inputs(): hostile pages and files tried / passed).
def bad_input_rows(args: argparse.Namespace, workdir: Path) -> list[Row]:
    """The hostile site crawled sound, then with every page gone bad (as the tests do)."""
    folder = workdir / "hostile"
    folder.mkdir()
    with HostileSite() as site:
        lives = crawl_both_lives(site, folder)
        problems = lives.problems(site)
    failed = [f"{name}: {problem}" for name, problem in problems.items() if problem]
    crashed = sum("Traceback" in run.stderr or run.returncode != 0 for run in lives.outputs)
    return [
        ("bad inputs tried, passed", f"{len(problems)}, {len(problems) - len(failed)}"),
        *(("  failed", line) for line in failed),
        ("crawls that crashed over them", str(crashed)),
    ]


SECTIONS: list[Callable[[argparse.Namespace, Path], list[Row]]] = [
    bad_input_rows,
    crash_rows,
    concurrency_rows,
]


def fault_classes(workdir: Path, only: list[str]) -> list[Outcome]:
    """Every case of the chosen classes, run once; prints the table, a line per class."""
    outcomes = []
    with Bench(workdir / "classes") as bench:
        for case in CASES:
            if case.kind in only:
                outcome = run_case(bench, case)
                outcomes.append(outcome)
                if not outcome.passed:
                    print(f"  {case.id}: {'; '.join(outcome.problems)[:300]}", file=sys.stderr)
    table = [("class", *COLUMNS), *class_rows(outcomes)]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print(
            "  ".join(
                cell.rjust(w) if i else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="kill -9 rounds of each kind")
    parser.add_argument("--seconds", type=float, default=60, help="of concurrent reads")
    parser.add_argument("--seed", type=int, default=1, help="of the random kill moments")
    parser.add_argument("--pairs", type=int, default=3, help="runs of two crawls at once")
    parser.add_argument("--classes", action="store_true", help="only the fault classes' table")
    parser.add_argument(
        "--only", action="append", choices=CLASSES, help="these fault classes (repeatable)"
    )
    args = parser.parse_args()
    started = time.monotonic()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="newsmon-faults-") as tmp:
        if not args.classes:
            for section in SECTIONS:
                rows += section(args, Path(tmp))
            width = max(len(what) for what, _ in rows)
            for what, figure in rows:
                print(f"{what:{width}}  {figure}")
            print()
        outcomes = fault_classes(Path(tmp), args.only or list(CLASSES))
    print(f"(wall time {time.monotonic() - started:.0f} s)")
    if not all(o.passed for o in outcomes if o.tried):
        sys.exit(1)


if __name__ == "__main__":
    main()
