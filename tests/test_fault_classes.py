"""The reliability issue's fault classes, every case once (tests/support/faultcases.py):
nothing corrupted, nothing skipped without an error, nothing past its timeout, no traceback,
no alert lost or doubled, and a database newsmon cannot use refused in one line.

The cases of a class share one site and what was crawled from it (a module-scoped bench);
benchmarks/faults.py runs the same cases and prints their tally.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.faultcases import CASES, Bench, FaultCase, run_case


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bench]:
    with Bench(tmp_path_factory.mktemp("faults")) as bench:
        yield bench


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_fault_case(bench: Bench, case: FaultCase) -> None:
    outcome = run_case(bench, case)
    if not outcome.tried:
        pytest.skip("; ".join(outcome.problems))
    assert outcome.passed, "; ".join(outcome.problems)
