"""`load_pack`: a folder or .zip into a validated Pack, or every problem with it.

This is the only way into the model. It reads files (never runs, never
assembles: programs come with their built images), checks the manifest of a
packed zip, validates both TOML files of every lesson and all their prose, and
raises one PackError listing everything found, in file order.
"""

from __future__ import annotations

import os
from dataclasses import replace

from vizvm.lessons import archive, manifest, probes_file
from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.model import Lesson, Pack, Where
from vizvm.lessons.schema import LessonReader, PackHeader, read_pack
from vizvm.lessons.schema_fields import Context
from vizvm.lessons.toml_lines import parse


def load_pack(path: str | os.PathLike[str]) -> Pack:
    found = archive.read_pack(path)
    files = found.files
    if found.manifest is not None:
        altered = manifest.verify(found.manifest, files, found.origin)
        if altered:
            raise PackError(altered)
    problems: list[Problem] = []
    header = _header(files, problems)
    lessons: list[Lesson] = []
    if header is not None:
        for index, name in enumerate(header.lessons):
            lesson = _lesson(files, name, index, problems)
            if lesson is not None:
                lessons.append(lesson)
    if problems or header is None:
        raise PackError(_in_file_order(problems) or [Problem(Where("pack.toml"), "unreadable")])
    return Pack(header.format, header.id, header.title, header.version,
                header.min_app_version, header.authors, header.license, tuple(lessons),
                manifest.content_hash(files), found.origin, files)


def _header(files: dict[str, bytes], problems: list[Problem]) -> PackHeader | None:
    if "pack.toml" not in files:
        problems.append(Problem(Where("pack.toml"), "missing: a pack starts with pack.toml"))
        return None
    try:
        doc, lines = parse("pack.toml", files["pack.toml"])
    except PackError as exc:
        problems.extend(exc.problems)
        return None
    ctx = Context("pack.toml", lines)
    header = read_pack(doc, ctx)
    problems.extend(ctx.problems)
    return header


def _lesson(files: dict[str, bytes], name: str, index: int,
            problems: list[Problem]) -> Lesson | None:
    file = f"{name}/lesson.toml"
    if file not in files:
        pack_lines = parse("pack.toml", files["pack.toml"])[1]
        where = Where("pack.toml", pack_lines.line_of(("lessons", index)))
        has_folder = any(path.startswith(name + "/") for path in files)
        what = f"no {file}" if has_folder else f"no lesson folder {name!r} in the pack"
        problems.append(Problem(where, f"lessons[{index}]: {what}"))
        return None
    try:
        doc, lines = parse(file, files[file])
    except PackError as exc:
        problems.extend(exc.problems)
        return None
    ctx = Context(file, lines)
    lesson = LessonReader(ctx, name, files).read(doc, name)
    problems.extend(ctx.problems)
    probes, unreadable = probes_file.read(files, name)
    problems.extend(unreadable)
    return replace(lesson, probes=probes) if lesson is not None else None


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """pack.toml first, then lesson by lesson (lesson.toml before its other files), each
    file by line."""
    folders: dict[str, int] = {}
    for p in problems:
        folders.setdefault(p.where.file.split("/", 1)[0], len(folders))

    def key(p: Problem) -> tuple:
        file = p.where.file
        return (file != "pack.toml", folders[file.split("/", 1)[0]],
                not file.endswith("/lesson.toml"), file, p.where.line)

    return sorted(problems, key=key)
