"""The lesson packs that come with vizvm.

In a source checkout they are the repository's `lessons/` folder; an installed
wheel or a frozen app carries the same folder as `vizvm/_lessons`.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def lessons_root() -> Path:
    installed = _PACKAGE / "_lessons"
    return installed if installed.is_dir() else _PACKAGE.parent / "lessons"


def builtin_pack_dirs() -> list[Path]:
    """Every folder under the lessons root that holds a pack.toml, by name."""
    root = lessons_root()
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if (p / "pack.toml").is_file())
