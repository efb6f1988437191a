"""kill -9 at random moments: of a crawl, of the daemon, of a digest run, each followed by a
run to the end. The database stays whole, nothing is stored twice or lost, no source is
crawled twice at once, and every alert reaches the SMTP server, twice only as the very same
message. The drivers are tests/support/kills.py's; benchmarks/faults.py runs 20 rounds of each."""

from __future__ import annotations

import os
import random
from pathlib import Path

from sqlite_utils import Database

from crawler.demo.server import DemoServer
from crawler.locks import lock_path, try_lock
from tests.support.kills import (
    add_alerts,
    concurrent_digests,
    crawl_kills,
    daemon_kills,
    digest_kills,
    digest_setup,
)
from tests.support.run import newsmon
from tests.support.smtp import Inbox
from tests.support.state import Tally

ROUNDS = 5
# Random kill moments, a new draw each run; NEWSMON_FAULT_SEED replays one.
SEED = int(os.environ.get("NEWSMON_FAULT_SEED") or random.randrange(1_000_000))


def explain(tally: Tally) -> str:
    return f"seed {SEED} (NEWSMON_FAULT_SEED={SEED} replays it): " + "; ".join(
        tally.problems + tally.lock_errors
    )


def test_a_killed_crawl_loses_nothing_and_the_next_one_finishes(tmp_path: Path) -> None:
    tally = crawl_kills(ROUNDS, SEED, tmp_path)
    assert tally.rounds == ROUNDS and tally.killed >= 1, explain(tally)
    assert tally.integrity_failures == 0 and tally.duplicates == [0, 0, 0], explain(tally)
    assert tally.lost == 0 and tally.overlaps == 0, explain(tally)
    # Listings a killed run read but did not follow are read in full by the next run.
    assert tally.incomplete == 0, explain(tally)
    assert not tally.problems and not tally.lock_errors, explain(tally)


def test_a_killed_daemon_leaves_no_crawl_behind_and_no_source_runs_twice(
    tmp_path: Path,
) -> None:
    tally = daemon_kills(ROUNDS, SEED, tmp_path)
    assert tally.rounds == ROUNDS and tally.killed == ROUNDS, explain(tally)
    assert tally.integrity_failures == 0 and tally.duplicates == [0, 0, 0], explain(tally)
    assert tally.lost == 0 and tally.incomplete == 0, explain(tally)
    # The killed daemon's crawls got SIGTERM and ended; a restarted daemon that found one
    # still finishing skipped that source instead of crawling it a second time.
    assert tally.outlived == 0 and tally.overlaps == 0, explain(tally)
    assert not tally.problems and not tally.lock_errors, explain(tally)


def test_a_killed_digest_is_sent_by_the_next_run_and_never_rebuilt(tmp_path: Path) -> None:
    tally = digest_kills(ROUNDS, SEED, tmp_path)
    assert tally.rounds == ROUNDS and tally.alerts > 0, explain(tally)
    assert tally.integrity_failures == 0 and tally.duplicates == [0, 0, 0], explain(tally)
    assert tally.lost == 0, explain(tally)
    assert tally.undelivered == 0, explain(tally)  # every alert reached the server
    assert tally.doubled == 0, explain(tally)  # and never in two different messages
    # Killed after the server took the message, before the 250 reached it: the next run
    # sends the same message again, Message-ID and all, for the receiver to drop.
    assert tally.redelivered > 0, explain(tally)
    assert not tally.problems and not tally.lock_errors, explain(tally)


def test_a_connection_broken_after_the_data_sends_the_same_message_again(
    tmp_path: Path,
) -> None:
    with Inbox() as inbox:
        db_path, args = digest_setup(tmp_path, inbox.port, "news")
        tokens = add_alerts(db_path, 0, 3)
        inbox.hang_up = True
        broken = newsmon(*args, check=False, timeout=None)
        assert broken.returncode == 1 and "unreachable" in broken.stderr, broken.stderr
        assert "3 alerts left unsent for the next run" in broken.stderr
        [row] = Database(db_path).query("select status, message_id, error from digests")
        assert row["status"] == "sending" and row["error"], row  # it may have arrived
        inbox.hang_up = False
        again = newsmon(*args, check=False, timeout=None)
        assert again.stdout.startswith("sent again "), again.stdout + again.stderr
        first, second = inbox.received
    assert first == second == (row["message_id"], frozenset(tokens))
    assert [r["status"] for r in Database(db_path).query("select status from digests")] == ["sent"]
    unsent = Database(db_path).query("select count(*) as n from alerts where sent_at is null")
    assert next(unsent)["n"] == 0


def test_two_digest_runs_at_once_send_each_alert_once(tmp_path: Path) -> None:
    tally = concurrent_digests(3, SEED, tmp_path)
    assert tally.alerts > 0 and tally.undelivered == 0, explain(tally)
    assert tally.doubled == 0 and tally.redelivered == 0, explain(tally)
    assert not tally.problems and not tally.lock_errors, explain(tally)


def test_a_source_being_crawled_is_skipped_with_who_crawls_it(
    tmp_path: Path, demo_server: DemoServer
) -> None:
    db_path = tmp_path / "news.db"
    lock = try_lock(lock_path(db_path, "source-demo"))  # as a crawl of demo holds it
    assert lock is not None
    try:
        args = ("crawl", "--source", "demo", "--base-url", demo_server.url, "--db", str(db_path))
        result = newsmon(*args)
    finally:
        lock.release()
    assert result.stderr.strip() == f"demo: already being crawled by pid {os.getpid()}; skipped"
    assert result.stdout.startswith("crawled 0 sources") and "skipped demo" in result.stdout
    assert Database(db_path)["crawl_runs"].count == 0
