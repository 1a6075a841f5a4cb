"""`lesson check --build` on a new program: its first image, built before the pack loads.

The loader refuses a program whose image is missing or empty (students need
the built image), so `--build` could not make the very file it was asked for.
This runs first, straight off the TOML: for every listed lesson's program whose
image is missing or empty, its source is assembled and the image written. Only
a folder, and only files inside it; what is malformed is left to the loader,
which names it properly.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from vizvm.asm.assembler import assemble, available_backends
from vizvm.asm.source import AsmError
from vizvm.lessons.archive import unsafe_reason
from vizvm.lessons.model import Where

Finding = tuple[str, Where, str]  # severity, where, message (as probe_build's)


def build_missing_images(folder: Path) -> list[Finding]:
    """Write each missing or empty image of the pack folder from its source."""
    if not folder.is_dir():
        return []
    root = folder.resolve()
    findings: list[Finding] = []
    for lesson in _listed_lessons(root):
        for source, image in _programs(root, lesson):
            if image.is_file() and image.stat().st_size > 0:
                continue
            if image.exists() and not image.is_file():
                continue
            findings += _build(root, source, image)
    return findings


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # the loader says what is wrong with it


def _listed_lessons(root: Path) -> list[str]:
    names = _toml(root / "pack.toml").get("lessons")
    if not isinstance(names, list):
        return []
    return [n for n in names if isinstance(n, str) and n and unsafe_reason(n) is None]


def _programs(root: Path, lesson: str) -> list[tuple[Path, Path]]:
    """(source, image) of each [[programs]] entry naming both, inside the pack folder."""
    entries = _toml(root / lesson / "lesson.toml").get("programs")
    out = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        source, image = entry.get("source"), entry.get("image")
        if not (isinstance(source, str) and isinstance(image, str)):
            continue
        paths = [(root / lesson / name) for name in (source, image)]
        if all(unsafe_reason(f"{lesson}/{name}") is None for name in (source, image)) and all(
                p.resolve().is_relative_to(root) for p in paths):
            out.append((paths[0], paths[1]))
    return out


def _build(root: Path, source: Path, image: Path) -> list[Finding]:
    source_name = source.relative_to(root).as_posix()
    image_name = image.relative_to(root).as_posix()
    if not source.is_file():
        return []  # the loader names the missing source
    if not available_backends():
        return [("error", Where(image_name), f"cannot be built from {source_name}: no "
                 "assembler on this machine (keystone or GNU as)")]
    try:
        text = source.read_text(encoding="utf-8")
        built = assemble(text, filename=source_name)
    except (OSError, UnicodeDecodeError):
        return []  # the loader says why it cannot be read
    except AsmError as exc:
        return [("error", Where(exc.filename, exc.line), exc.message)]
    try:
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(built)
    except OSError as exc:
        return [("error", Where(image_name), f"cannot be written: {exc.strerror or exc}")]
    return [("note", Where(image_name), f"built from {source_name}")]
