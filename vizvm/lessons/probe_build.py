"""The trap checks' probe kernels of a pack: built, compared, written (probes.toml).

Part of `vizvm lesson check`: wherever an assembler exists each probe is built
afresh and compared with the stored one, and `--build` writes them; without
an assembler the stored ones must cover every trap check, since that is what
a student's machine will run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vizvm.asm.assembler import available_backends
from vizvm.asm.source import AsmError
from vizvm.lessons import probes_file
from vizvm.lessons.model import Check, Lesson, Pack, Where
from vizvm.lessons.trap_probe import ProbeError, probe_kernel

Finding = tuple[str, Where, str]  # severity ("error", "warning", "note"), where, message
REBUILD = "run `vizvm lesson check PACK --build`"


def needed(lesson: Lesson) -> dict[str, tuple[str, str, Check]]:
    """probes_file.key -> (instruction, technique, first check asking it)."""
    out: dict[str, tuple[str, str, Check]] = {}
    for step in lesson.steps:
        for check in step.checks:
            if check.kind == "trap" and check.instruction:
                technique = check.technique or "native"
                out.setdefault(probes_file.key(check.instruction, technique),
                               (check.instruction, technique, check))
    return out


def check_probes(pack: Pack, build: bool) -> tuple[Pack, list[Finding]]:
    findings: list[Finding] = []
    lessons = []
    for lesson in pack.lessons:
        probes = _lesson_probes(pack, lesson, build, findings)
        lessons.append(replace(lesson, probes=probes))
    return replace(pack, lessons=tuple(lessons)), findings


def _lesson_probes(pack: Pack, lesson: Lesson, build: bool,
                   findings: list[Finding]) -> dict[str, bytes]:
    wanted = needed(lesson)
    file = f"{lesson.id}/{probes_file.FILE}"
    if not available_backends():
        for name, (instruction, _technique, check) in wanted.items():
            if name not in lesson.probes:
                findings.append(("warning", check.where, f"no assembler here and no built "
                                 f"probe for {instruction!r} in {file}, so it cannot be judged: "
                                 f"{REBUILD} on a machine with one"))
        return lesson.probes
    built: dict[str, bytes] = {}
    for name, (instruction, technique, check) in wanted.items():
        try:
            built[name] = probe_kernel(instruction, technique)
        except (AsmError, ProbeError) as exc:
            findings.append(("error", check.where, f"the instruction {instruction!r} cannot be "
                             f"probed: {exc}"))
    if built == lesson.probes:
        return built
    if build:
        _write(pack, lesson, built, findings)
        return built
    changed = [k for k in built if k in lesson.probes and lesson.probes[k] != built[k]]
    missing = [k for k in built if k not in lesson.probes]
    unused = [k for k in lesson.probes if k not in built]
    if changed:
        findings.append(("error", Where(file), f"is out of date: the probe for "
                         f"{_names(changed)} differs from a fresh build: {REBUILD}"))
    if missing:
        findings.append(("warning", Where(file), f"has no probe for {_names(missing)}: a "
                         f"student's machine without an assembler cannot judge it: {REBUILD}"))
    if unused:
        findings.append(("warning", Where(file), f"holds probes no check asks for "
                         f"({_names(unused)}): {REBUILD}"))
    return built


def _names(keys: list[str]) -> str:
    return ", ".join(repr(k.split(":", 1)[1]) for k in keys)


def _write(pack: Pack, lesson: Lesson, built: dict[str, bytes],
           findings: list[Finding]) -> None:
    root = Path(pack.origin)
    file = f"{lesson.id}/{probes_file.FILE}"
    if not root.is_dir():
        findings.append(("error", Where(file), "is out of date, and cannot be rebuilt inside a "
                         "packed .zip: rebuild it in the pack's folder"))
        return
    target = root / file
    if built:
        target.write_text(probes_file.render(built), encoding="utf-8")
        findings.append(("note", Where(file), f"written: {len(built)} probe kernel(s)"))
    elif target.exists():
        target.unlink()
        findings.append(("note", Where(file), "removed: the lesson has no trap checks"))
