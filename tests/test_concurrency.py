"""Readers while crawls write: `newsmon serve` (Datasette) and a plain sqlite3 connection run
what users run (search, facets, the article_index view, canned queries) for a minute while a
crawl of a generated site of 2000 articles writes. No "database is locked" on either side.
The drivers are tests/support/concurrency.py's; benchmarks/faults.py runs them for --seconds."""

from __future__ import annotations

from pathlib import Path

from tests.support.concurrency import concurrent_reads, parallel_crawls

SECONDS = 60


def test_readers_and_a_writing_crawl_never_lock_each_other(tmp_path: Path) -> None:
    reads = concurrent_reads(SECONDS, tmp_path, articles=2000)
    assert reads.seconds >= SECONDS
    assert reads.http >= 100 and reads.sql >= 1000, reads
    assert reads.articles_written >= 100, reads  # the crawl wrote all along
    assert reads.lock_errors == 0 and reads.errors == 0, reads.problems
    assert reads.writer_lock_errors == 0, reads.problems


def test_two_crawls_writing_at_once_never_lock(tmp_path: Path) -> None:
    """As the daemon runs sources side by side: two crawl processes on one database."""
    tally = parallel_crawls(tmp_path)
    assert not tally.problems
    assert tally.lock_errors == [] and tally.incomplete == 0
