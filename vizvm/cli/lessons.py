"""`vizvm lesson list | new | pack | check | run | grade | export`.

The parsers are built here and wired into `vizvm.cli.build_parser`; each
command returns (doc, text[, status]) like the others. Lesson modules are
imported only when a lesson command runs, so other commands start no slower.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vizvm.cli.render import table

if TYPE_CHECKING:
    from vizvm.lessons.model import Lesson, Pack

AUTHORING = ("list", "new", "pack")  # vizvm.cli.lesson_authoring's commands


class LessonUsageError(ValueError):
    """Bad input to a lesson command (an unknown lesson, an unreadable bundle): exit 2."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def add_parsers(sub: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser],
                                                                    None]) -> None:
    lesson = sub.add_parser("lesson", help="lesson packs: list, new, pack, check, run, grade, "
                                           "export")
    verbs = lesson.add_subparsers(dest="lesson_command", metavar="COMMAND", required=True)
    listing = verbs.add_parser("list", help="the built-in packs (and --pack) and their lessons")
    listing.add_argument("--pack", metavar="PATH", help="a pack folder or .zip to list too")
    new = verbs.add_parser("new", help="start a lesson pack from a template")
    new.add_argument("name", metavar="NAME",
                     help="the new pack's id and folder name; the new lesson's when DIR is "
                          "a pack's folder")
    new.add_argument("--dir", dest="directory", metavar="DIR", default=".",
                     help="where to create the new pack (default: the current folder); a "
                          "pack's folder (one with pack.toml) gets a new lesson NAME added "
                          "instead")
    pack = verbs.add_parser("pack", help="pack a folder into a .zip to hand to a class")
    pack.add_argument("path")
    pack.add_argument("-o", "--output", metavar="OUT", help="the .zip to write")
    check = verbs.add_parser("check", help="validate a pack: schema, images, runs and answers")
    check.add_argument("path")
    check.add_argument("--seeds", type=_positive, default=3, metavar="N",
                       help="how many students' variants to try (default 3)")
    check.add_argument("--build", action="store_true",
                       help="rebuild each program's image from its source")
    run = verbs.add_parser("run", help="show a lesson headless: steps, text and questions")
    run.add_argument("id", metavar="ID", help="a lesson id, or PACK_ID/LESSON_ID")
    run.add_argument("--pack", metavar="PATH", help="a pack to look in besides the built-in")
    run.add_argument("--student", metavar="NAME", help="whose variant (default: seed 0)")
    run.add_argument("--seed", type=int, metavar="N", help="a variant's seed outright")
    run.add_argument("--show-answers", action="store_true",
                     help="compute and show every check's answer, with its evidence")
    grade = verbs.add_parser("grade", help="grade submission bundles against a pack")
    grade.add_argument("bundles", nargs="+", metavar="BUNDLE")
    grade.add_argument("--pack", required=True, metavar="P", help="a pack path or built-in id")
    grade.add_argument("--csv", action="store_true", help="print CSV")
    export = verbs.add_parser("export", help="write a student's submission bundle")
    export.add_argument("--student", required=True, metavar="NAME")
    export.add_argument("--pack", required=True, metavar="P", help="a pack path or built-in id")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="the bundle to write (default: in the current folder)")
    for parser in (listing, new, pack, check, run, grade, export):
        common(parser)


def command(args: argparse.Namespace) -> tuple:
    verb = args.lesson_command
    if verb in AUTHORING:
        try:
            from vizvm.cli import lesson_authoring
        except ImportError as exc:
            raise LessonUsageError("unavailable", f"`vizvm lesson {verb}` is not available in "
                                   f"this version ({exc})") from None
        return {"list": lesson_authoring.list_packs, "new": lesson_authoring.new,
                "pack": lesson_authoring.pack}[verb](args)
    if verb == "run":
        from vizvm.cli import lesson_run

        return lesson_run.run(args, find_lesson(args.id, args.pack))
    return {"check": _check, "grade": _grade, "export": _export}[verb](args)


# finding packs and lessons --------------------------------------------------------------
def open_pack(text: str) -> Pack:
    """A pack from a path, or a built-in pack by id or folder name (PackError if broken)."""
    from vizvm.lessons.builtin import builtin_pack_dirs
    from vizvm.lessons.loader import load_pack

    if Path(text).exists():
        return load_pack(Path(text))
    for folder in builtin_pack_dirs():
        if folder.name == text:
            return load_pack(folder)
    for folder in builtin_pack_dirs():
        try:
            pack = load_pack(folder)
        except ValueError:
            continue
        if pack.id == text:
            return pack
    raise LessonUsageError("pack", f"no pack {text!r}: give a pack folder or .zip, or the id "
                           "of a built-in pack (see `vizvm lesson list`)")


def find_lesson(lesson_id: str, pack_path: str | None) -> tuple[Pack, Lesson]:
    from vizvm.lessons.builtin import builtin_pack_dirs
    from vizvm.lessons.errors import PackError
    from vizvm.lessons.loader import load_pack

    wanted_pack, _, wanted = lesson_id.rpartition("/")
    sources = [Path(pack_path)] if pack_path else []
    sources += builtin_pack_dirs()
    broken: list[str] = []
    for source in sources:
        try:
            pack = load_pack(source)
        except PackError:
            if pack_path and source == Path(pack_path):
                raise
            broken.append(source.name)
            continue
        if wanted_pack and pack.id != wanted_pack:
            continue
        if any(lesson.id == wanted for lesson in pack.lessons):
            return pack, pack.lesson(wanted)
    extra = f" (built-in packs that failed to load: {', '.join(broken)})" if broken else ""
    raise LessonUsageError("lesson", f"no lesson {lesson_id!r} in the built-in packs"
                           f"{' or ' + pack_path if pack_path else ''}{extra}")


# check, grade, export -------------------------------------------------------------------
def _check(args: argparse.Namespace) -> tuple:
    from vizvm.lessons.checker import check_path

    report = check_path(Path(args.path), args.seeds, args.build)
    doc = {"pack": args.path, "ok": report.ok, "counts": report.counts,
           "findings": [f.to_json() for f in report.findings]}
    counts = ", ".join(f"{k}: {v}" for k, v in report.counts.items())
    verdict = "ok" if report.ok else "has errors"
    text = "\n".join([*(str(f) for f in report.findings), f"{args.path}: {verdict} ({counts})"])
    return doc, text, 0 if report.ok else 1


def _grade(args: argparse.Namespace) -> tuple:
    from vizvm.lessons.grading import grade, to_csv, totals

    pack = open_pack(args.pack)
    rows = grade([Path(b) for b in args.bundles], pack)
    sums = totals(rows)
    doc = {"pack": {"id": pack.id, "version": pack.version, "content_hash": pack.content_hash},
           "rows": [r.__dict__ for r in rows], "totals": [t.__dict__ for t in sums]}
    if args.csv:
        return doc, to_csv(rows).rstrip("\n")
    text = table(["student", "lesson", "check", "answer", "right", "points", "notes"],
                 [(r.student, r.lesson, r.check, r.answer[:30], "yes" if r.correct else "no",
                   f"{r.points}/{r.possible}", r.notes) for r in rows])
    text += "\n\n" + table(["student", "points", "possible", "notes"],
                           [(t.student, t.points, t.possible, t.notes) for t in sums])
    return doc, text


def _export(args: argparse.Namespace) -> tuple:
    from vizvm.lessons.bundle import export_bundle
    from vizvm.lessons.progress import Progress, ProgressError

    pack = open_pack(args.pack)
    try:
        progress = Progress()
    except ProgressError as exc:
        raise LessonUsageError("progress", str(exc)) from None
    with progress:
        if args.student not in progress.students():
            raise LessonUsageError("student", f"no progress recorded for {args.student!r} "
                                   f"(students here: {', '.join(progress.students()) or 'none'})")
        out = Path(args.output) if args.output else Path(os.getcwd())
        path = export_bundle(progress, args.student, pack, out)
        points, possible = progress.score(args.student, pack)
    doc = {"bundle": str(path), "student": args.student, "pack": pack.id,
           "points": points, "possible": possible}
    return doc, f"wrote {path} ({args.student}: {points}/{possible} points so far)"
