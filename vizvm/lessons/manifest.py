"""MANIFEST.json: what a packed .zip held when it was packed, file by file.

A packed pack lists each file's SHA-256 and size; the loader compares, so a
file changed after packing (by hand, or by a mail system) is named rather than
silently taught.
"""

from __future__ import annotations

import hashlib
import json

from vizvm import __version__
from vizvm.lessons.errors import Problem
from vizvm.lessons.model import Pack, Where

NAME = "MANIFEST.json"


def content_hash(files: dict[str, bytes]) -> str:
    """SHA-256 over every file, by path: each path, its length and its bytes."""
    h = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        h.update(path.encode("utf-8") + b"\0")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def build(pack: Pack) -> bytes:
    doc = {
        "id": pack.id,
        "title": pack.title,
        "version": pack.version,
        "format": pack.format,
        "min_app_version": pack.min_app_version,
        "content_hash": pack.content_hash,
        "created_by": f"vizvm {__version__}",
        "files": {path: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for path, data in sorted(pack.files.items())},
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def verify(raw: bytes, files: dict[str, bytes], origin: str) -> list[Problem]:
    """Every file added, removed or altered since packing."""
    where = Where(f"{origin}:{NAME}")
    try:
        doc = json.loads(raw.decode("utf-8"))
        listed = doc["files"]
        if not isinstance(listed, dict):
            raise TypeError("'files' is not an object")
        sums = {path: (str(entry["sha256"]), int(entry["size"]))
                for path, entry in listed.items()}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        return [Problem(where, f"unreadable manifest ({exc}): the .zip was altered after "
                        "packing")]
    problems = []
    for path in sorted(set(sums) | set(files)):
        at = Where(f"{origin}:{path}")
        if path not in files:
            problems.append(Problem(at, "listed in MANIFEST.json but missing: removed "
                                    "after packing"))
        elif path not in sums:
            problems.append(Problem(at, "not listed in MANIFEST.json: added after packing"))
        else:
            digest, size = sums[path]
            data = files[path]
            if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
                problems.append(Problem(at, "its SHA-256 differs from MANIFEST.json: "
                                        "altered after packing"))
    if not problems and doc.get("content_hash") not in (None, content_hash(files)):
        problems.append(Problem(where, "content_hash differs: altered after packing"))
    return problems
