"""`pack`: a checked pack folder into one .zip to hand to students.

The zip is deterministic (sorted entries, fixed timestamps and modes), so the
same pack always gives the same bytes, and carries MANIFEST.json so that the
loader can tell a file altered after packing.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

from vizvm.lessons import manifest
from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.loader import load_pack
from vizvm.lessons.model import Pack, Where

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


def zip_name(pack_id: str, version: str) -> str:
    return f"{pack_id}-{version}.zip"


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def pack(folder: Path, out: Path | None = None) -> Path:
    """The written zip's path; `out` is a folder (default: the current one) or a file."""
    loaded = load_pack(folder)  # a broken pack is refused with all its problems
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
    return target


def _write(target: Path, loaded: Pack) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    entries = {f"{loaded.id}/{path}": data for path, data in loaded.files.items()}
    entries[manifest.NAME] = manifest.build(loaded)
    handle, temporary = tempfile.mkstemp(prefix=".packing-", suffix=".zip", dir=target.parent)
    os.close(handle)
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
