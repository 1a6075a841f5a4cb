"""Grading a class's submissions: every verdict recomputed from the pack.

Nothing a bundle says about scores is used. Each student's parameters come
from the seed for their name (vizvm.lessons.variants.seed_for), not from the
bundle, so a bundle cannot pick an easier variant; a bundle whose seed
differs, or that was answered on another version of the pack, is graded and
flagged in the notes for the instructor to look at.
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from vizvm.lessons.bundle import Bundle, BundleError, read_bundle
from vizvm.lessons.checks import CheckError, evaluate
from vizvm.lessons.model import Lesson, Pack
from vizvm.lessons.runs import StepRuns


@dataclass(frozen=True)
class Row:
    student: str
    lesson: str
    check: str
    answer: str
    correct: bool
    points: int
    possible: int
    notes: str


@dataclass(frozen=True)
class Total:
    student: str
    points: int
    possible: int
    notes: str


def grade(bundles: list[Path], pack: Pack, runs: StepRuns | None = None) -> list[Row]:
    """One row per student and check of the pack, in bundle then pack order."""
    runs = runs or StepRuns()
    rows: list[Row] = []
    for path in bundles:
        try:
            bundle = read_bundle(path)
        except BundleError as exc:
            rows.append(Row(path.name, "", "", "", False, 0, 0, f"unreadable: {exc}"))
            continue
        flags = _pack_flags(bundle, pack)
        for lesson in pack.lessons:
            rows.extend(_grade_lesson(bundle, pack, lesson, flags, runs))
    return rows


def _pack_flags(bundle: Bundle, pack: Pack) -> list[str]:
    flags = []
    if bundle.pack_id != pack.id:
        flags.append(f"answered for pack {bundle.pack_id!r}, graded against {pack.id!r}")
    elif bundle.pack_version != pack.version or bundle.content_hash != pack.content_hash:
        flags.append(f"answered on pack version {bundle.pack_version} "
                     f"({bundle.content_hash[:12]}), graded against {pack.version} "
                     f"({pack.content_hash[:12]})")
    return flags


def _grade_lesson(bundle: Bundle, pack: Pack, lesson: Lesson, flags: list[str],
                  runs: StepRuns) -> list[Row]:
    from vizvm.lessons import variants

    seed = variants.seed_for(bundle.student, pack.id, lesson.id)
    values = variants.draw(lesson.params, seed)
    answered = bundle.lesson(lesson.id)
    notes = list(flags)
    if answered is not None and answered.seed != seed:
        notes.append(f"seed mismatch: the bundle says {answered.seed}, the student's is {seed}")
    answers = answered.answers if answered is not None else {}
    rows = []
    for step in lesson.steps:
        for check in step.checks:
            answer = answers.get(check.id)
            if answer is None:
                rows.append(Row(bundle.student, lesson.id, check.id, "", False, 0, check.points,
                                "; ".join([*notes, "no answer"])))
                continue
            try:
                verdict = evaluate(lesson, step, check, answer, values, runs)
            except CheckError as exc:
                rows.append(Row(bundle.student, lesson.id, check.id, answer, False, 0,
                                check.points, "; ".join([*notes, f"cannot be checked: {exc}"])))
                continue
            rows.append(Row(bundle.student, lesson.id, check.id, answer, verdict.correct,
                            verdict.points, check.points, "; ".join(notes)))
    return rows


def totals(rows: list[Row]) -> list[Total]:
    """Each student's points over everything graded, in first-seen order."""
    found: dict[str, list] = {}
    for row in rows:
        entry = found.setdefault(row.student, [0, 0, set()])
        entry[0] += row.points
        entry[1] += row.possible
        entry[2].update(n for n in row.notes.split("; ") if n and n != "no answer")
    return [Total(name, p, q, "; ".join(sorted(n))) for name, (p, q, n) in found.items()]


def to_csv(rows: list[Row]) -> str:
    """The rows, then one total line per student (check "total")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f.name for f in fields(Row)])
    for row in rows:
        writer.writerow(astuple(row))
    for total in totals(rows):
        writer.writerow([total.student, "", "total", "", "", total.points, total.possible,
                         total.notes])
    return out.getvalue()
