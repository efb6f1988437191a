"""Where newsmon's files are: the database, the seed files, and the data the package ships.

A user's path is the option given, else its environment variable, else the settings file's
``[paths]`` table (crawler.config), else a default relative to the current directory. Every
command resolves its paths here, so an installed newsmon runs from any directory.
"""

from __future__ import annotations

import atexit
import os
from contextlib import ExitStack
from functools import cache
from importlib import resources
from pathlib import Path

from crawler.config import load_config

DEFAULT_DB = Path("db/news.db")
# Apart from the user's database: the demo empties its own at every start.
DEMO_DB = Path("db/demo.db")
USER_SEEDS = Path("seeds")
DB_ENV = "NEWSMON_DB"
SEEDS_ENV = "NEWSMON_SEEDS"

# Package data handed out as files stays until the process exits (see package_path).
_package_files = ExitStack()
atexit.register(_package_files.close)


@cache
def package_path(*parts: str) -> Path:
    """A file or folder shipped in the package, as a path on disk."""
    # Datasette takes folders by path and the crawl subprocesses take --seeds by path. An
    # installed package is on disk and as_file hands its path over as it is; from a zip it
    # would be extracted, once per process.
    data = resources.files("crawler").joinpath(*parts)
    return _package_files.enter_context(resources.as_file(data))


def shipped_seeds() -> Path:
    """The folder of the real sources shipped with newsmon."""
    return package_path("seeds")


def demo_seeds() -> Path:
    """The seed file of the bundled demo site (a loopback source, not a real one)."""
    return package_path("demo", "seeds.toml")


def database(given: Path | None = None, config_file: Path | None = None) -> Path:
    """The database: ``given``, $NEWSMON_DB, the settings' ``[paths] db``, or db/news.db."""
    if given is not None:
        return given
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    return load_config(config_file).db or DEFAULT_DB


def seeds(given: Path | None = None, config_file: Path | None = None) -> Path:
    """The seed file or folder: ``given``, $NEWSMON_SEEDS, the settings' ``[paths] seeds``,
    ./seeds if it holds a seed file, or the shipped sources."""
    if given is not None:
        return given
    if os.environ.get(SEEDS_ENV):
        return Path(os.environ[SEEDS_ENV])
    configured = load_config(config_file).seeds
    if configured is not None:
        return configured
    if any(USER_SEEDS.glob("*.toml")):
        return USER_SEEDS
    return shipped_seeds()
