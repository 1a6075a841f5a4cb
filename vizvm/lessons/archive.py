"""A pack's files, from a folder or a .zip, read into memory and never extracted.

A pack may come from anyone, so every entry is checked before it is read:
paths stay inside the pack, nothing is a link or a device, and sizes are capped
while reading (a zip's header sizes are the sender's word, not a fact).
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.model import Where

MAX_FILES = 2_000
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_RATIO = 200  # uncompressed over compressed, for entries past RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MANIFEST = "MANIFEST.json"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class PackFiles:
    files: dict[str, bytes]  # relative posix path -> content, without the manifest
    origin: str
    manifest: bytes | None = None  # a packed zip's MANIFEST.json
    skipped: tuple[str, ...] = field(default=())  # dot-files left out of a folder


def read_pack(path: str | os.PathLike[str]) -> PackFiles:
    p = Path(path)
    try:
        if p.is_dir():
            return read_folder(p)
        if p.is_file():
            return read_zip(p)
    except OSError as exc:  # unreadable folders, files gone while reading
        where = exc.filename if isinstance(exc.filename, str) else str(p)
        raise _refuse(where, f"cannot be read: {exc.strerror or exc}") from None
    raise _refuse(str(p), "no such folder or .zip file")


def _refuse(where: str, message: str) -> PackError:
    return PackError([Problem(Where(where), message)])


def unsafe_reason(name: str) -> str | None:
    """Why a path inside a pack is refused, or None when it is a plain relative path."""
    if "\\" in name:
        return "has a backslash (paths in a pack use /)"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "names a drive"
    if "\0" in name:
        return "has a NUL character"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "has a '..' component"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' component"
    return None


class _Budget:
    """The caps shared by every file of one pack."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.count = 0
        self.total = 0

    def add_file(self, name: str) -> None:
        self.count += 1
        if self.count > MAX_FILES:
            raise _refuse(self.origin, f"more than {MAX_FILES:,} files (at {name})")

    def add_bytes(self, name: str, size: int) -> None:
        if size > MAX_FILE_BYTES:
            raise _refuse(f"{self.origin}:{name}", f"larger than {MAX_FILE_BYTES >> 20} MiB")
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            raise _refuse(self.origin, f"more than {MAX_TOTAL_BYTES >> 20} MiB in all "
                          f"(at {name})")


def read_folder(root: Path) -> PackFiles:
    if not (root / "pack.toml").exists() and not (root / "pack.toml").is_symlink():
        raise _refuse(str(root), "no pack.toml in this folder: is it a lesson pack?")
    budget = _Budget(str(root))
    files: dict[str, bytes] = {}
    skipped: list[str] = []
    pending = [(root, "")]
    while pending:
        folder, prefix = pending.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                name = prefix + entry.name
                if entry.name.startswith(".") or entry.name == "__pycache__":
                    skipped.append(name)
                    continue
                reason = unsafe_reason(name)
                if reason:
                    raise _refuse(f"{root}:{name}", f"refused: the name {reason}")
                if entry.is_symlink() or _reparse_point(entry):
                    raise _refuse(f"{root}:{name}", "refused: a symbolic link "
                                  "(a pack holds only plain files)")
                if entry.is_dir(follow_symlinks=False):
                    pending.append((Path(entry.path), name + "/"))
                elif entry.is_file(follow_symlinks=False):
                    budget.add_file(name)
                    budget.add_bytes(name, entry.stat(follow_symlinks=False).st_size)
                    files[name] = _read_capped(Path(entry.path), name, budget)
                else:
                    raise _refuse(f"{root}:{name}", "refused: not a regular file")
    return PackFiles(dict(sorted(files.items())), str(root), None, tuple(skipped))


def _reparse_point(entry: os.DirEntry[str]) -> bool:
    """Windows junctions and other reparse points: links that is_symlink may not call so."""
    return bool(getattr(entry.stat(follow_symlinks=False), "st_reparse_tag", 0))


def _read_capped(path: Path, name: str, budget: _Budget) -> bytes:
    """The file, read to at most the cap, refusing what is no longer a plain file when
    opened (swapped for a link or a pipe since the folder was listed)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise _refuse(f"{budget.origin}:{name}", f"cannot be read: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise _refuse(f"{budget.origin}:{name}", "refused: not a regular file")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        budget.add_bytes(name, len(data))
    return data


def read_zip(path: Path) -> PackFiles:
    origin = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            raw = _read_entries(archive, origin)
    except zipfile.BadZipFile as exc:
        raise _refuse(origin, f"not a readable .zip file ({exc})") from None
    except (OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise _refuse(origin, f"cannot read this .zip: {exc}") from None
    manifest = raw.pop(MANIFEST, None)
    if "pack.toml" in raw:
        return PackFiles(raw, origin, manifest)
    tops = {name.split("/", 1)[0] for name in raw}
    if len(tops) == 1:
        top = tops.pop() + "/"
        if top + "pack.toml" in raw and all(n.startswith(top) for n in raw):
            inner = {name[len(top):]: data for name, data in raw.items()}
            return PackFiles(inner, origin, manifest)
    raise _refuse(origin, "no pack.toml at the root of the .zip or in a single top folder")


def _read_entries(archive: zipfile.ZipFile, origin: str) -> dict[str, bytes]:
    infos = archive.infolist()
    if len(infos) > 2 * MAX_FILES:
        raise _refuse(origin, f"more than {MAX_FILES:,} files")
    budget = _Budget(origin)
    out: dict[str, bytes] = {}
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        at = f"{origin}:{name}"
        if name in seen:
            raise _refuse(at, "refused: the .zip holds this name twice")
        seen.add(name)
        reason = unsafe_reason(name)
        if reason:
            raise _refuse(at, f"refused: the name {reason}")
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise _refuse(at, "refused: a symbolic link (a pack holds only plain files)")
        if info.is_dir():
            continue
        if kind not in (0, stat.S_IFREG):
            raise _refuse(at, "refused: not a regular file")
        if info.flag_bits & 0x1:
            raise _refuse(at, "refused: encrypted")
        parts = name.split("/")
        hidden = parts[0] == "__MACOSX" or any(  # macOS Finder's resource forks
            part.startswith(".") or part == "__pycache__" for part in parts)
        if hidden:
            continue
        budget.add_file(name)
        budget.add_bytes(name, info.file_size)
        _check_ratio(at, info.file_size, info.compress_size)
        out[name] = _read_entry(archive, info, budget)
    return out


def _check_ratio(at: str, size: int, compressed: int) -> None:
    if size > RATIO_FLOOR and size > MAX_RATIO * max(compressed, 1):
        raise _refuse(at, f"refused: compressed more than {MAX_RATIO}:1 "
                      "(a zip bomb, or not a pack)")


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes:
    """Read by chunks, stopping at the caps whatever the header claimed."""
    at = f"{budget.origin}:{info.filename}"
    chunks: list[bytes] = []
    size = 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise _refuse(at, f"larger than {MAX_FILE_BYTES >> 20} MiB")
            _check_ratio(at, size, info.compress_size)
            chunks.append(chunk)
    if size != info.file_size:
        raise _refuse(at, f"refused: holds {size:,} bytes where its header says "
                      f"{info.file_size:,}")
    return b"".join(chunks)
