"""The test suite's layout: test modules share code through tests/support/ only, never by
importing one another, conftest or the benchmarks (which import tests/support/ themselves)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def forbidden_imports(source: str) -> list[str]:
    """The modules ``source`` imports that a test or support module must not."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return [
        name
        for name in names
        if name.split(".")[0] == "benchmarks"
        or name == "tests.conftest"
        or name.startswith("tests.test_")
    ]


def test_the_check_sees_each_way_of_importing() -> None:
    source = (
        "import tests.test_serve as serve_tests\n"
        "from benchmarks.faults import crawl_kills\n"
        "from tests.conftest import newsmon\n"
        "def late():\n    import benchmarks\n"
        "from tests.support.run import newsmon\nimport tests.support.smtp\n"
    )
    assert forbidden_imports(source) == [
        "tests.test_serve",
        "benchmarks.faults",
        "tests.conftest",
        "benchmarks",
    ]


@pytest.mark.parametrize(
    "path",
    sorted([*TESTS.glob("test_*.py"), TESTS / "conftest.py", *(TESTS / "support").glob("*.py")]),
    ids=lambda path: str(path.relative_to(TESTS)),
)
def test_no_test_module_imports_another_or_the_benchmarks(path: Path) -> None:
    assert forbidden_imports(path.read_text(encoding="utf-8")) == [], (
        f"{path.name}: share the code through tests/support/ instead"
    )
