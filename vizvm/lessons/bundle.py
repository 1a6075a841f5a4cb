"""Submission bundles: a student's latest answers to a pack, as one JSON file.

A bundle carries answers and the seeds they were given for, never trusted
scores: grading recomputes every verdict from the pack (vizvm.lessons.grading).
It is untrusted input, so reading one checks its size and every type, and
says what is wrong and where in the file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from vizvm import __version__
from vizvm.lessons.model import Pack
from vizvm.lessons.progress import Progress

FORMAT = "vizvm-submission"
FORMAT_VERSION = 1
SUFFIX = ".vizvm-submission.json"
MAX_BYTES = 5 * 1024 * 1024
MAX_TEXT = 10_000  # characters in one answer, a name or an id


class BundleError(ValueError):
    """A bundle that cannot be read; the message names the file and the field."""


@dataclass(frozen=True)
class BundleLesson:
    id: str
    seed: int
    answers: dict[str, str]  # check id -> the latest answer


@dataclass(frozen=True)
class Bundle:
    format_version: int
    app_version: str
    student: str
    pack_id: str
    pack_version: str
    content_hash: str
    lessons: tuple[BundleLesson, ...]
    path: str = ""

    def lesson(self, lesson_id: str) -> BundleLesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


def export_bundle(progress: Progress, student: str, pack: Pack, out: Path) -> Path:
    """Write the bundle to `out` (a file, or a folder to name one in); return its path."""
    from vizvm.lessons import variants

    lessons = []
    for lesson in pack.lessons:
        latest = progress.latest_answers(student, pack.id, lesson.id)
        seeds = {a.seed for a in latest.values()}
        seed = seeds.pop() if len(seeds) == 1 else variants.seed_for(student, pack.id, lesson.id)
        lessons.append({"id": lesson.id, "seed": seed,
                        "answers": {cid: a.answer for cid, a in sorted(latest.items())}})
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION, "app_version": __version__,
           "student": student,
           "pack": {"id": pack.id, "version": pack.version, "content_hash": pack.content_hash},
           "lessons": lessons}
    path = out / _file_name(student, pack.id) if out.is_dir() else out
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path


def _file_name(student: str, pack_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", student).strip("-.") or "student"
    return f"{safe}-{pack_id}{SUFFIX}"


def read_bundle(path: Path) -> Bundle:
    """Read and validate a bundle (BundleError with the file and the field)."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise BundleError(f"{path}: {size:,} bytes is too large for a submission "
                              f"(at most {MAX_BYTES:,})")
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        raise BundleError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BundleError(f"{path}: not text (UTF-8): is it a submission file?") from None
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    return _bundle(doc, str(path))


def _bundle(doc: object, where: str) -> Bundle:
    top = _table(doc, where, "the file")
    if top.get("format") != FORMAT:
        raise BundleError(f"{where}: not a vizvm submission (its \"format\" is not {FORMAT!r})")
    version = _int(top, "format_version", where)
    if version != FORMAT_VERSION:
        raise BundleError(f"{where}: submission format {version} is not known to this vizvm "
                          f"(it reads format {FORMAT_VERSION})")
    pack = _table(top.get("pack"), where, "pack")
    lessons = top.get("lessons")
    if not isinstance(lessons, list):
        raise BundleError(f"{where}: \"lessons\" must be a list")
    return Bundle(version, _text(top, "app_version", where), _text(top, "student", where),
                  _text(pack, "id", where, "pack."), _text(pack, "version", where, "pack."),
                  _text(pack, "content_hash", where, "pack."),
                  tuple(_lesson(item, where, n) for n, item in enumerate(lessons)), where)


def _lesson(item: object, where: str, n: int) -> BundleLesson:
    at = f"lessons[{n}]."
    table = _table(item, where, at.rstrip("."))
    seed = _int(table, "seed", where, at)
    if not 0 <= seed < 1 << 32:
        raise BundleError(f"{where}: {at}seed must be between 0 and 2**32-1")
    answers = _table(table.get("answers"), where, at + "answers")
    for check_id, answer in answers.items():
        if not isinstance(answer, str) or len(answer) > MAX_TEXT or len(check_id) > MAX_TEXT:
            raise BundleError(f"{where}: {at}answers.{check_id[:40]} must be a text of at most "
                              f"{MAX_TEXT:,} characters")
    return BundleLesson(_text(table, "id", where, at), seed, dict(answers))


def _table(value: object, where: str, name: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise BundleError(f"{where}: {name} must be a JSON object")
    return value


def _text(table: dict[str, object], key: str, where: str, at: str = "") -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise BundleError(f"{where}: {at}{key} must be a non-empty text")
    return value


def _int(table: dict[str, object], key: str, where: str, at: str = "") -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BundleError(f"{where}: {at}{key} must be a whole number")
    return value
