"""The files `newsmon init` writes: a commented settings file and a seed folder with one
example source, shipped as package data."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

# Relative to the folder initialised, as shipped here.
FILES = (Path("newsmon.toml"), Path("seeds") / "example.toml")


def write_starter(folder: Path) -> list[Path]:
    """Write the starter files into ``folder``, made if missing; the paths written.

    FileExistsError, before anything is written, when one of them is there already: a
    user's settings or sources are never replaced."""
    targets = [folder / name for name in FILES]
    for target in targets:
        if target.exists() or target.is_symlink():
            raise FileExistsError(f"{target} exists already; newsmon init writes only new files")
    shipped = resources.files(__name__)
    for name, target in zip(FILES, targets, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as out:
            out.write(shipped.joinpath(*name.parts).read_text(encoding="utf-8"))
    return targets
