"""`pack`: a checked pack folder into one .zip to hand to students.

The zip is deterministic (sorted entries, fixed timestamps and modes), so the
same pack always gives the same bytes, and carries MANIFEST.json so that the
loader can tell a file altered after packing. It holds only the files the
listed lessons use: an answer key or a draft lesson left in the folder stays
out (and is named), so its content hash is that of the zip, which is the
folder's only when the folder holds nothing else.
"""

from __future__ import annotations

import os
import posixpath
import secrets
import zipfile
from dataclasses import replace
from pathlib import Path

from vizvm.lessons import manifest, markdown_check, probes_file
from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.loader import load_pack
from vizvm.lessons.model import Pack, Where

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


def zip_name(pack_id: str, version: str) -> str:
    return f"{pack_id}-{version}.zip"


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def used_files(loaded: Pack) -> set[str]:
    """What the listed lessons use: their TOML, programs, Markdown files and its images."""
    used = {"pack.toml"}
    for lesson in loaded.lessons:
        toml = f"{lesson.id}/lesson.toml"
        used |= {toml, f"{lesson.id}/{probes_file.FILE}"}
        for program in lesson.programs.values():
            used |= {program.source_file, program.image_file}
        for step in lesson.steps:
            texts = [*step.hints, *(c.prompt for c in step.checks),
                     *(h for c in step.checks for h in c.hints),
                     *(t for c in step.checks for ch in c.choices for t in (ch.text,
                                                                            ch.feedback))]
            from_file = step.markdown_where.file != toml
            if from_file:
                used.add(step.markdown_where.file)
            folder = posixpath.dirname(step.markdown_where.file) if from_file else lesson.id
            used.update(markdown_check.image_paths(step.markdown, folder))
            for text in texts:
                used.update(markdown_check.image_paths(text, lesson.id))
    return used & set(loaded.files)


def pack(folder: Path, out: Path | None = None) -> Path:
    """The written zip's path; `out` is a folder (default: the current one) or a file."""
    return pack_used(folder, out)[0]


def pack_used(folder: Path, out: Path | None = None) -> tuple[Path, list[str]]:
    """The written zip's path, and the folder's files left out of it (no lesson uses them)."""
    loaded = load_pack(folder)  # a broken pack is refused with all its problems
    used = used_files(loaded)
    left_out = sorted(set(loaded.files) - used)
    files = {path: data for path, data in loaded.files.items() if path in used}
    loaded = replace(loaded, files=files, content_hash=manifest.content_hash(files))
    name = zip_name(loaded.id, loaded.version)
    if out is None:  # here, unless here is inside the pack (the zip would join it)
        here = Path.cwd()
        target = (folder.resolve().parent if _inside(here, folder) else here) / name
    elif out.is_dir():
        target = out / name
    else:
        target = out
    if folder.is_dir() and _inside(target.parent, folder):
        raise PackError([Problem(Where(str(target)), "inside the pack folder, where the next "
                                 "pack would take it in: write it elsewhere (-o)")])
    if target.suffix.lower() != ".zip":
        raise PackError([Problem(Where(str(target)), "the output must be a .zip file")])
    try:
        _write(target, loaded)
    except OSError as exc:
        raise PackError([Problem(Where(str(target)), f"cannot be written: "
                                 f"{exc.strerror or exc}")]) from None
    return target, left_out


def _write(target: Path, loaded: Pack) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    entries = {f"{loaded.id}/{path}": data for path, data in loaded.files.items()}
    entries[manifest.NAME] = manifest.build(loaded)
    # made as any new file is (rw-r--r-- less the umask), to be published as it is
    temporary = target.parent / f".packing-{secrets.token_hex(8)}.zip"
    os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for path in sorted(entries):
                info = zipfile.ZipInfo(path, date_time=_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix, so that the mode below means what it says
                info.external_attr = 0o100644 << 16  # a plain file, rw-r--r--
                archive.writestr(info, entries[path], compresslevel=9)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
