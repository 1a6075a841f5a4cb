"""`vizvm lesson new | pack | list`: the author's tools.

Each returns (JSON document, text for humans) like the other commands, and
raises PackError for a broken pack, which the parser turns into a message
and exit status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vizvm.cli.render import table
from vizvm.lessons import builtin, packer, scaffold
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.model import Pack


def new(args: argparse.Namespace) -> tuple[dict, str]:
    where = Path(getattr(args, "directory", None) or ".")
    adding = (where / "pack.toml").is_file()
    written = scaffold.new_lesson(args.name, where)
    doc = {"name": args.name, "added_to_pack": adding, "files": [str(p) for p in written]}
    what = f"lesson {args.name!r} added to {where}" if adding else \
        f"pack {args.name!r} created in {where / args.name}"
    pack_dir = where if adding else where / args.name
    lines = [what, *[f"  {p}" for p in written], "",
             f"check it with: vizvm lesson check {pack_dir}"]
    return doc, "\n".join(lines)


def pack(args: argparse.Namespace) -> tuple[dict, str]:
    output = getattr(args, "output", None)
    written, left_out = packer.pack_used(Path(args.path), Path(output) if output else None)
    loaded = load_pack(written)
    said = [f"left out: {path} (not used by any lesson)" for path in left_out]
    doc = {"zip": str(written), "id": loaded.id, "version": loaded.version,
           "content_hash": loaded.content_hash, "files": len(loaded.files),
           "bytes": written.stat().st_size, "left_out": said}
    text = "\n".join([*said, f"{written}: pack {loaded.id} {loaded.version}, "
                      f"{len(loaded.files)} files, {doc['bytes']:,} bytes",
                      f"content hash {loaded.content_hash}"])
    return doc, text


def list_packs(args: argparse.Namespace) -> tuple[dict, str]:
    entries = [_entry(path) for path in builtin.builtin_pack_dirs()]
    extra = getattr(args, "pack", None)
    if extra:  # the pack asked for: broken, it is an error (stderr, exit 2), not a listing
        entries.append({"path": extra, "ok": True, **_describe(load_pack(Path(extra)))})
    return {"packs": entries}, _text(entries)


def _entry(path: Path) -> dict:
    try:
        loaded = load_pack(path)
    except PackError as exc:
        return {"path": str(path), "ok": False,
                "problems": [str(p) for p in exc.problems]}
    return {"path": str(path), "ok": True, **_describe(loaded)}


def _describe(pack: Pack) -> dict:
    return {
        "id": pack.id, "title": pack.title, "version": pack.version,
        "content_hash": pack.content_hash,
        "lessons": [{
            "id": lesson.id, "title": lesson.title, "question": lesson.question,
            "minutes": lesson.minutes, "steps": len(lesson.steps),
            "points": sum(c.points for s in lesson.steps for c in s.checks),
        } for lesson in pack.lessons],
    }


def _text(entries: list[dict]) -> str:
    if not entries:
        return "no lesson packs found"
    out: list[str] = []
    for entry in entries:
        if not entry["ok"]:
            out += [f"{entry['path']}: cannot be opened", *[f"  {p}" for p in
                                                             entry["problems"]], ""]
            continue
        out.append(f"{entry['title']} ({entry['id']} {entry['version']}, {entry['path']})")
        rows = [(lesson["id"], lesson["title"], lesson["steps"], lesson["points"],
                 lesson["minutes"], lesson["question"]) for lesson in entry["lessons"]]
        out += [table(["lesson", "title", "steps", "points", "minutes", "question"], rows), ""]
    return "\n".join(out).rstrip()
