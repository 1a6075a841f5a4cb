"""`vizvm lesson check`: everything an author can get wrong, found before a class does.

Schema problems come from the loader; here, what needs the machine: every
program's source assembles to its committed image, every step's runs end,
and for several students' variants every check passes with the answer the
machine gives and fails with one it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from vizvm.asm.assembler import assemble, available_backends
from vizvm.asm.source import AsmError
from vizvm.lessons.checks import CheckError, evaluate, reference_answer, wrong_answer
from vizvm.lessons.errors import PackError
from vizvm.lessons.judges import show
from vizvm.lessons.model import Check, Lesson, Pack, Step, Where
from vizvm.lessons.probe_build import check_probes
from vizvm.lessons.runs import RunError, StepRuns

ERROR, WARNING, NOTE = "error", "warning", "note"


@dataclass(frozen=True)
class Finding:
    severity: str  # error | warning | note
    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {"severity": self.severity, "file": self.where.file, "line": self.where.line,
                "message": self.message}


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    said: set[tuple[Where, str]] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return not any(f.severity == ERROR for f in self.findings)

    def add(self, severity: str, where: Where, message: str) -> None:
        self.findings.append(Finding(severity, where, message))

    def once(self, severity: str, where: Where, message: str, variant: str = "") -> None:
        """Add a finding that is the same for every seed once, with the first seed's values."""
        if (where, message) not in self.said:
            self.said.add((where, message))
            self.add(severity, where, message + variant)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n


def check_path(path: Path, seeds: int = 3, build: bool = False) -> Report:
    """Load the pack at `path` (its schema problems become findings) and check it.

    With `build`, a folder's missing or empty images are built first: the loader
    would refuse the pack without them."""
    from vizvm.lessons.first_build import build_missing_images
    from vizvm.lessons.loader import load_pack

    report = Report()
    for severity, where, message in build_missing_images(path) if build else ():
        report.add(severity, where, message)
    try:
        pack = load_pack(path)
    except PackError as exc:
        for problem in exc.problems:
            report.add(ERROR, problem.where, problem.message)
        report.counts["errors"] = sum(f.severity == ERROR for f in report.findings)
        return report
    return check_pack(pack, seeds, build, report)


def check_pack(pack: Pack, seeds: int = 3, build: bool = False,
               report: Report | None = None) -> Report:
    report = report if report is not None else Report()
    if build:
        pack = _build_images(pack, report)
    else:
        _compare_images(pack, report)
    pack, findings = check_probes(pack, build)
    for severity, where, message in findings:
        report.add(severity, where, message)
    for lesson in pack.lessons:
        report.count("lessons")
        runs = StepRuns()  # a lesson's runs at a time: each keeps its guest's RAM
        for seed in range(max(1, seeds) if lesson.params else 1):
            _check_lesson(lesson, seed, runs, report)
    report.counts["seeds"] = max(1, seeds)
    report.counts["errors"] = sum(f.severity == ERROR for f in report.findings)
    report.counts["warnings"] = sum(f.severity == WARNING for f in report.findings)
    return report


# images ---------------------------------------------------------------------------------
def _assembled(pack: Pack, report: Report) -> list[tuple[Lesson, str, bytes]] | None:
    """(lesson, program name, image) for every program whose source assembles."""
    if not available_backends():
        report.add(WARNING, Where("pack.toml"), "no assembler on this machine (keystone or GNU "
                   "as): the programs' sources were not compared with their images")
        return None
    out = []
    for lesson in pack.lessons:
        for name, program in lesson.programs.items():
            report.count("programs")
            try:
                image = assemble(program.source, filename=program.source_file)
            except AsmError as exc:
                report.add(ERROR, Where(exc.filename, exc.line), exc.message)
                continue
            out.append((lesson, name, image))
    return out


def _compare_images(pack: Pack, report: Report) -> None:
    for lesson, name, image in _assembled(pack, report) or []:
        program = lesson.programs[name]
        if image != program.image:
            report.add(ERROR, Where(program.image_file), (
                f"is not what {program.source_file} assembles to ({len(program.image)} bytes "
                f"committed, {len(image)} assembled{_first_difference(program.image, image)}): "
                "rebuild it with `vizvm lesson check --build`"))


def _first_difference(old: bytes, new: bytes) -> str:
    at = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), None)
    return "" if at is None else f", first differing at offset {at:#x}"


def _build_images(pack: Pack, report: Report) -> Pack:
    """Write each program's image from its source; the pack with the new images
    (its content hash is the old one's: reload it to hash the files again)."""
    root = Path(pack.origin)
    built: dict[tuple[str, str], bytes] = {}
    for lesson, name, image in _assembled(pack, report) or []:
        program = lesson.programs[name]
        if image == program.image:
            continue
        if not root.is_dir():
            report.add(ERROR, Where(program.image_file), "is out of date, and cannot be rebuilt "
                       "inside a packed .zip: rebuild it in the pack's folder")
            continue
        (root / program.image_file).write_bytes(image)
        report.add(NOTE, Where(program.image_file), f"rebuilt from {program.source_file}")
        built[lesson.id, name] = image
    lessons = tuple(replace(lesson, programs={
        name: replace(program, image=built.get((lesson.id, name), program.image))
        for name, program in lesson.programs.items()}) for lesson in pack.lessons)
    return replace(pack, lessons=lessons)


# runs and checks ------------------------------------------------------------------------
def _check_lesson(lesson: Lesson, seed: int, runs: StepRuns, report: Report) -> None:
    from vizvm.lessons import variants

    values = variants.draw(lesson.params, seed)
    variant = f" (seed {seed}: {_describe(values)})" if values else ""
    for step in lesson.steps:
        if not _step_runs(lesson, step, values, runs, report, variant):
            continue
        for check in step.checks:
            report.count("checks")
            _check_check(lesson, step, check, values, runs, report, variant)


def _describe(values: dict[str, int]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in values.items())


def _step_runs(lesson: Lesson, step: Step, values: dict[str, int], runs: StepRuns,  # noqa: PLR0917
               report: Report, variant: str) -> bool:
    """Run the step under each of its techniques; False if one failed (its checks would too)."""
    techniques = step.techniques if step.program else ()
    if step.host is not None:
        techniques = ("host",)
    for technique in techniques:
        report.count("runs")
        try:
            runs.quantities(lesson, step, technique, values)
        except RunError as exc:
            report.add(ERROR, step.where, f"{exc}{variant}")
            return False
    return True


def _check_check(lesson: Lesson, step: Step, check: Check, values: dict[str, int],  # noqa: PLR0917
                 runs: StepRuns, report: Report, variant: str) -> None:
    try:
        right = reference_answer(lesson, step, check, values, runs)
        verdict = evaluate(lesson, step, check, right, values, runs)
        if not verdict.correct:
            report.add(ERROR, check.where, f"check {check.id!r} refuses its own reference "
                       f"answer {right!r}: {verdict.feedback}{variant}")
        wrong = wrong_answer(lesson, step, check, values, runs)
        verdict = evaluate(lesson, step, check, wrong, values, runs)
        if verdict.correct:
            report.add(ERROR, check.where, f"check {check.id!r} accepts {wrong!r}, an answer "
                       f"that should be wrong{variant}")
        if check.kind == "number":
            _check_tolerance(lesson, step, check, values, runs, report, right, variant)
    except CheckError as exc:
        # a trap check needs an assembler to build its probe: without one it is unchecked
        severity = WARNING if check.kind == "trap" and not available_backends() else ERROR
        report.once(severity, check.where, _without_where(str(exc), check.where), variant)


def _check_tolerance(lesson: Lesson, step: Step, check: Check,  # noqa: PLR0917
                     values: dict[str, int], runs: StepRuns, report: Report, right: str,
                     variant: str) -> None:
    """A tolerance that takes both 0 and ten times the answer lets any guess through."""
    value: int | float = int(right) if right.lstrip("-").isdigit() else float(right)
    if value == 0:
        return
    ten = show(value * 10)
    if all(evaluate(lesson, step, check, answer, values, runs).correct for answer in ("0", ten)):
        report.once(WARNING, check.where, f"check {check.id!r} accepts both 0 and ten times "
                    "its answer: with that tolerance no answer is wrong in practice",
                    f" ({right} is right; 0 and {ten} pass too){variant}")


def _without_where(message: str, where: Where) -> str:
    return message.removeprefix(f"{where}: ")
