"""Nothing waits past its timeout: an SMTP server that answers a byte at a time holds
`newsmon digest` no longer than the [smtp] timeout, and the alerts go with the next run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crawler.demo.server import DemoServer
from tests.support.digest import unsent, write_config
from tests.support.run import newsmon
from tests.support.smtp import Inbox, SlowServer

TIMEOUT = 3


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo crawled once: its new articles and policies are alerts not sent yet."""
    db_path = tmp_path_factory.mktemp("deadlines") / "news.db"
    with DemoServer() as server:
        newsmon("crawl", "--source", "demo", "--base-url", server.url, "--db", str(db_path), "-q")
    assert unsent(db_path) > 0
    return db_path


def test_a_server_that_drips_its_replies_is_given_up_at_the_timeout(
    crawled: Path, tmp_path: Path
) -> None:
    owed = unsent(crawled)
    with SlowServer(interval=2) as slow:
        config = write_config(tmp_path / "slow.toml", slow.port)
        config.write_text(
            config.read_text(encoding="utf-8").replace("timeout = 5", f"timeout = {TIMEOUT}"),
            encoding="utf-8",
        )
        started = time.monotonic()
        result = newsmon(
            "digest", "--db", str(crawled), "--config", str(config), check=False, timeout=60
        )
        lasted = time.monotonic() - started
        assert slow.connections == 1
    # The process's own start (Python, imports) is the rest of the allowance.
    assert lasted < TIMEOUT + 4, f"newsmon digest took {lasted:.1f} s"
    assert result.returncode != 0
    error = result.stderr.strip()
    assert "Traceback" not in error and len(error.splitlines()) == 1, error
    assert f"did not finish within the [smtp] timeout of {TIMEOUT} s" in error
    assert unsent(crawled) == owed

    with Inbox() as inbox:
        config = write_config(tmp_path / "good.toml", inbox.port)
        newsmon("digest", "--db", str(crawled), "--config", str(config))
        assert len(inbox.messages()) == 1
    assert unsent(crawled) == 0
