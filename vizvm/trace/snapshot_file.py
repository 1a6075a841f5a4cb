"""The snapshot file format: a header of JSON and named binary sections.

Layout: MAGIC, then a little-endian u32 format version and a u32 header
length, then the header (UTF-8 JSON), then the sections end to end. The
header names every section with its size, encoding ("raw" or "zlib") and
the SHA-256 of its stored bytes, so a truncated or damaged file is found
before anything in it is used. Nothing here is pickled: a file from a
stranger is data, never code.

The format version changes whenever a reader of the old version could not
read a new file correctly; a file of another version is refused with the
versions of both sides named.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"VIZVMSNP"
FORMAT = 1
_PREFIX = struct.Struct("<8sII")
MAX_HEADER = 16 * 1024 * 1024


class SnapshotFileError(ValueError):
    """A snapshot file that cannot be read: the message says what and where."""


@dataclass(frozen=True)
class SnapshotFile:
    header: dict[str, Any]  # plain JSON values
    sections: dict[str, bytes]  # decoded


def encode(header: dict[str, Any], sections: dict[str, bytes],
           compress: frozenset[str] = frozenset()) -> bytes:
    """The file's bytes; sections named in `compress` are stored zlib-compressed."""
    stored: list[bytes] = []
    table = []
    for name, data in sections.items():
        body = zlib.compress(data, 6) if name in compress else data
        stored.append(body)
        table.append({"name": name, "size": len(body), "length": len(data),
                      "encoding": "zlib" if name in compress else "raw",
                      "sha256": hashlib.sha256(body).hexdigest()})
    head = json.dumps({**header, "format": FORMAT, "sections": table},
                      sort_keys=True).encode("utf-8")
    return _PREFIX.pack(MAGIC, FORMAT, len(head)) + head + b"".join(stored)


def write(path: Path, header: dict[str, Any], sections: dict[str, bytes],
          compress: frozenset[str] = frozenset()) -> None:
    path.write_bytes(encode(header, sections, compress))


def read(path: Path, reader_version: str) -> SnapshotFile:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SnapshotFileError(f"{path}: cannot read the snapshot: {exc.strerror}") from None
    return decode(raw, str(path), reader_version)


def decode(raw: bytes, where: str, reader_version: str) -> SnapshotFile:
    """Check everything before returning anything (see the module's docstring)."""
    if len(raw) < _PREFIX.size or raw[:8] != MAGIC:
        raise SnapshotFileError(f"{where}: not a vizvm snapshot (it does not start with "
                                f"{MAGIC.decode()})")
    _magic, version, size = _PREFIX.unpack_from(raw)
    if version != FORMAT:
        writer = _writer_version(raw, size)
        raise SnapshotFileError(
            f"{where}: this snapshot was written by vizvm {writer} (format {version}); "
            f"this vizvm {reader_version} reads format {FORMAT}")
    if size > MAX_HEADER or _PREFIX.size + size > len(raw):
        raise SnapshotFileError(f"{where}: the snapshot is truncated (its header is cut short)")
    try:
        header = json.loads(raw[_PREFIX.size: _PREFIX.size + size].decode("utf-8"))
        table = header["sections"]
        assert isinstance(header, dict) and isinstance(table, list)
    except (ValueError, KeyError, AssertionError, UnicodeDecodeError):
        raise SnapshotFileError(f"{where}: the snapshot's header is damaged") from None
    at = _PREFIX.size + size
    sections: dict[str, bytes] = {}
    for entry in table:
        name, length = str(entry.get("name")), int(entry.get("size", -1))
        body = raw[at: at + length]
        if length < 0 or len(body) != length:
            raise SnapshotFileError(f"{where}: the snapshot is truncated (section {name!r} "
                                    f"at byte {at:,} is cut short)")
        if hashlib.sha256(body).hexdigest() != entry.get("sha256"):
            raise SnapshotFileError(f"{where}: the snapshot is damaged (section {name!r} at "
                                    f"byte {at:,} does not match its checksum)")
        if entry.get("encoding") == "zlib":
            try:
                body = zlib.decompress(body)
            except zlib.error:
                raise SnapshotFileError(f"{where}: section {name!r} does not decompress") from None
        sections[name] = body
        at += length
    if at != len(raw):
        raise SnapshotFileError(f"{where}: {len(raw) - at:,} unexpected bytes after the "
                                f"last section")
    return SnapshotFile(header, sections)


def _writer_version(raw: bytes, size: int) -> str:
    """The app version a file of another format names, if its header still parses."""
    try:
        header = json.loads(raw[_PREFIX.size: _PREFIX.size + size].decode("utf-8"))
        return str(header.get("app_version", "of unknown version"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return "of unknown version"
