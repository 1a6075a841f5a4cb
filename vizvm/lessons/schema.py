"""pack.toml and lesson.toml against docs/lesson-format.md, into the model.

Every problem is collected (with file:line and the key's name) rather than
stopping at the first, so an author fixes a pack in one pass. Checks, with
their many kinds, are read in schema_checks.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from vizvm import __version__, guests
from vizvm.lessons import markdown_check, schema_checks
from vizvm.lessons.errors import Problem
from vizvm.lessons.model import (
    DEFAULT_STEP_BUDGET,
    FORMAT_VERSION,
    MAX_PARAMS,
    SCENARIOS,
    STEP_KINDS,
    TECHNIQUES,
    Host,
    HostVm,
    Lesson,
    Param,
    Program,
    Step,
    Where,
)
from vizvm.lessons.schema_fields import NAME, NAME_RULE, Context, Table, one_of
from vizvm.lessons.toml_lines import Path
from vizvm.lessons.variants import placeholders

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
                    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?")
PACK_KEYS = ("format", "id", "title", "version", "min_app_version", "authors", "license",
             "lessons")
STEP_KEYS = ("id", "kind", "title", "text", "body", "program", "techniques", "max_insns",
             "allow_budget", "host", "hints", "checks")
WORD_MIN, WORD_MAX = -(1 << 31), (1 << 32) - 1  # what a 32-bit word can hold


@dataclass(frozen=True)
class PackHeader:
    format: int
    id: str
    title: str
    version: str
    min_app_version: str
    authors: tuple[str, ...]
    license: str
    lessons: tuple[str, ...]


def semver_key(text: str) -> tuple:
    """Ordering of semantic versions: a pre-release sorts before its release."""
    found = SEMVER.fullmatch(text)
    if not found:
        raise ValueError(f"not a semantic version: {text!r}")
    core = tuple(int(found.group(i)) for i in (1, 2, 3))
    pre = found.group(4)
    if pre is None:
        return (core, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (core, 0, ids)


def read_pack(doc: dict, ctx: Context) -> PackHeader | None:
    """The header of pack.toml; None when the pack cannot be read by this vizvm at all."""
    t = Table(ctx, doc, ())
    fmt = t.get("format", int)
    if isinstance(fmt, int) and fmt != FORMAT_VERSION:
        advice = "update vizvm" if fmt > FORMAT_VERSION else "convert the pack"
        t.error("format", f"written for lesson format {fmt}; this vizvm reads format "
                f"{FORMAT_VERSION}: {advice}")
        return None
    minimum = t.text("min_app_version")
    if isinstance(minimum, str):
        if not SEMVER.fullmatch(minimum):
            t.error("min_app_version", f"{minimum!r} is not a semantic version (like 0.2.0)")
        elif semver_key(minimum) > semver_key(__version__):
            t.error("min_app_version", f"this pack needs vizvm {minimum} or newer; this is "
                    f"vizvm {__version__}: update vizvm")
            return None
    pack_id = t.name("id")
    title = t.text("title")
    version = t.text("version")
    if isinstance(version, str) and not SEMVER.fullmatch(version):
        t.error("version", f"{version!r} is not a semantic version (like 1.0.0)")
    authors = t.strings("authors")
    license_ = t.get("license", str, "")
    lessons = _lesson_names(t)
    t.finish(PACK_KEYS)
    if fmt is None or not all(isinstance(v, str) for v in (pack_id, title, version, minimum)):
        return None
    return PackHeader(fmt, pack_id, title, version, minimum, authors, license_, lessons)


def _lesson_names(t: Table) -> tuple[str, ...]:
    if "lessons" not in t.data:
        t.get("lessons", list)  # reported as missing
    names = t.strings("lessons")
    if "lessons" in t.data and not names:
        t.error("lessons", "lists no lesson")
    seen: set[str] = set()
    for i, name in enumerate(names):
        if not NAME.fullmatch(name):
            t.ctx.error(t.at("lessons", i), f"{name!r} is not {NAME_RULE}")
        elif name in seen:
            t.ctx.error(t.at("lessons", i), f"{name!r} is listed twice")
        seen.add(name)
    return names


class LessonReader:
    """One lesson.toml, with the files of its pack for text, images and programs."""

    def __init__(self, ctx: Context, folder: str, files: dict[str, bytes]) -> None:
        self.ctx = ctx
        self.folder = folder
        self.files = files
        self.param_names: set[str] = set()
        self.program_names: set[str] = set()  # declared, even when their files are not

    def path_of(self, t: Table, key: str, value: str) -> str | None:
        """A file named by `key`, relative to the lesson folder, as a pack path."""
        if value.startswith("/") or "\\" in value or re.match(r"[A-Za-z]:", value):
            t.error(key, f"{value!r}: paths in a pack are relative, with '/'")
            return None
        joined = posixpath.normpath(posixpath.join(self.folder, value))
        if joined.startswith("../") or joined == "..":
            t.error(key, f"{value!r} is outside the pack")
            return None
        if joined not in self.files:
            t.error(key, f"no file {value!r} in {self.folder}/")
            return None
        return joined

    def text_file(self, t: Table, key: str, value: str) -> tuple[str, str] | None:
        path = self.path_of(t, key, value)
        if path is None:
            return None
        try:
            return path, self.files[path].decode("utf-8")
        except UnicodeDecodeError:
            t.error(key, f"{value!r} is not UTF-8 text")
            return None

    def prose(self, text: str, where: Where, folder: str | None = None) -> None:
        """Markdown rules, and `{name}` placeholders that name a parameter; images are
        relative to `folder` (the Markdown file's, else the lesson's)."""
        self.ctx.problems.extend(markdown_check.check(text, where, self.files,
                                                      folder or self.folder))
        for offset, name in placeholders(text):
            if name not in self.param_names:
                line = where.line + text.count("\n", 0, offset) if where.line else 0
                known = ", ".join(sorted(self.param_names)) or "none"
                self.ctx.problems.append(Problem(
                    Where(where.file, line), f"{{{name}}} names no parameter "
                    f"(parameters: {known}; write {{{{ and }}}} for literal braces)"))

    def inline_prose(self, path: Path, text: str) -> None:
        where = Where(self.ctx.file, self.ctx.lines.text_line(path))
        if path in self.ctx.lines.content_lines:  # a multi-line string: lines follow the text
            self.prose(text, where)
            return
        before = len(self.ctx.problems)  # one line in the file, whatever "\n" it holds
        self.prose(text, where)
        self.ctx.problems[before:] = [Problem(where, p.message)
                                      for p in self.ctx.problems[before:]]

    def read(self, doc: dict, folder_name: str) -> Lesson | None:
        t = Table(self.ctx, doc, ())
        lesson_id = t.name("id")
        if isinstance(lesson_id, str) and lesson_id != folder_name:
            t.error("id", f"{lesson_id!r} differs from its folder's name {folder_name!r}")
        title = t.text("title")
        question = t.text("question")
        minutes = t.get("minutes", int)
        if isinstance(minutes, int) and minutes <= 0:
            t.error("minutes", "must be a positive number of minutes")
        programs = self.programs(t)
        params = self.params(t)
        steps = self.steps(t)
        t.finish(("id", "title", "question", "minutes", "programs", "params", "steps"))
        if not all(isinstance(v, str) for v in (lesson_id, title, question)):
            return None
        return Lesson(lesson_id, title, question, minutes or 0, programs, params, steps,
                      Where(self.ctx.file, 1))

    def known_program(self, name: str) -> bool:
        return name in self.program_names or name in guests.BUILTIN

    def programs(self, t: Table) -> dict[str, Program]:
        out: dict[str, Program] = {}
        ports: list[tuple[Table, str]] = []
        for p in t.tables("programs"):
            name = p.name("name")
            source, image = p.text("source"), p.text("image")
            port = p.get("port", str, None)
            p.finish(("name", "source", "image", "port"))
            if isinstance(name, str) and name in self.program_names:
                p.error("name", f"a second program named {name!r}")
                continue
            if isinstance(name, str):
                self.program_names.add(name)
            src = self.text_file(p, "source", source) if isinstance(source, str) else None
            img = self.path_of(p, "image", image) if isinstance(image, str) else None
            if img is not None and not self.files[img]:
                p.error("image", f"{image!r} is empty: build it (vizvm lesson check --build)")
                img = None
            if isinstance(name, str) and src and img:
                out[name] = Program(name, src[1], self.files[img], src[0], img, port,
                                    self.ctx.where(p.path))
            if port is not None:
                ports.append((p, port))
        for p, port in ports:
            if port not in self.program_names and port not in guests.BUILTIN:
                p.error("port", f"{port!r} is not a program of this lesson or a built-in guest")
        return out

    def params(self, t: Table) -> tuple[Param, ...]:
        tables = t.tables("params")
        if len(tables) > MAX_PARAMS:
            t.error("params", f"{len(tables)} parameters; at most {MAX_PARAMS} fit in memory")
        out: list[Param] = []
        for p in tables:
            name = p.name("name")
            kind = p.choose("kind", ("int", "choice"))
            where = self.ctx.where(p.path)
            if isinstance(name, str):
                if name in self.param_names:
                    p.error("name", f"a second parameter named {name!r}")
                self.param_names.add(name)
            param = None
            if kind == "int":
                lo, hi, step = p.get("min", int), p.get("max", int), p.get("step", int, 1)
                if isinstance(lo, int) and isinstance(hi, int) and isinstance(step, int):
                    if lo > hi:
                        p.error("max", f"max ({hi}) is below min ({lo})")
                    elif step <= 0:
                        p.error("step", "must be positive")
                    elif lo < WORD_MIN or hi > WORD_MAX:
                        p.error("min", "values must fit in a 32-bit word")
                    elif isinstance(name, str):
                        param = Param(name, "int", lo, hi, step, (), where)
            elif kind == "choice":
                values = p.get("values", list)
                if isinstance(values, list):
                    ints = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
                    if not values or len(ints) != len(values):
                        p.error("values", "expected a non-empty list of integers")
                    elif any(not WORD_MIN <= v <= WORD_MAX for v in ints):
                        p.error("values", "values must fit in a 32-bit word")
                    elif isinstance(name, str):
                        param = Param(name, "choice", values=tuple(ints), where=where)
            p.finish(("name", "kind", "min", "max", "step", "values"))
            if param is not None:
                out.append(param)
        return tuple(out)

    def steps(self, t: Table) -> tuple[Step, ...]:
        if "steps" not in t.data:
            t.get("steps", list)  # reported as missing
        tables = t.tables("steps")
        if "steps" in t.data and not tables:
            t.error("steps", "a lesson needs at least one step")
        out: list[Step] = []
        step_ids: set[str] = set()
        check_ids: set[str] = set()
        for s in tables:
            step = self.step(s, check_ids)
            if step is None:
                continue
            if step.id in step_ids:
                s.error("id", f"a second step with id {step.id!r}")
            step_ids.add(step.id)
            out.append(step)
        return tuple(out)

    def step(self, s: Table, check_ids: set[str]) -> Step | None:
        step_id, kind, title = s.name("id"), s.choose("kind", STEP_KINDS), s.text("title")
        markdown, where = self.step_text(s)
        program = s.get("program", str, None)
        if program is not None and not self.known_program(program):
            s.error("program", f"{program!r} is not a program of this lesson or a built-in "
                    f"guest ({', '.join(sorted(guests.BUILTIN))})")
        techniques = self.techniques(s)
        budget = s.get("max_insns", int, DEFAULT_STEP_BUDGET)
        if isinstance(budget, int) and budget <= 0:
            s.error("max_insns", "must be positive")
        host = self.host(s) if "host" in s.data else None
        if kind in ("run", "predict") and host is None and "host" not in s.data:
            for key, value in (("program", program), ("techniques", techniques)):
                if not value:
                    s.error(None, f"a {kind} step needs {key!r} (or a [steps.host])")
        if host is not None and (program is not None or techniques):
            s.error("host", "a step runs either a program (program, techniques) or a host")
        hints = s.strings("hints")
        for i, hint in enumerate(hints):
            self.inline_prose(s.at("hints", i), hint)
        if kind in ("predict", "answer") and not s.data.get("checks"):
            article = "an" if kind == "answer" else "a"
            s.error(None, f"{article} {kind} step asks questions: give it [[steps.checks]]")
        context = schema_checks.StepContext(techniques, host, program is not None or
                                            "host" in s.data)
        checks = []
        for c in s.tables("checks"):
            check = schema_checks.read_check(c, context, self)
            if check is None:
                continue
            if check.id in check_ids:
                c.error("id", f"a second check with id {check.id!r} in this lesson")
            check_ids.add(check.id)
            checks.append(check)
        s.finish(STEP_KEYS)
        if not (isinstance(step_id, str) and isinstance(kind, str) and isinstance(title, str)):
            return None
        return Step(step_id, kind, title, markdown, where, program, techniques,
                    budget if isinstance(budget, int) else DEFAULT_STEP_BUDGET,
                    bool(s.get("allow_budget", bool, False)), host, hints, tuple(checks),
                    self.ctx.where(s.path))

    def step_text(self, s: Table) -> tuple[str, Where]:
        text, body = s.get("text", str, None), s.get("body", str, None)
        if (text is None) == (body is None):
            s.error(None, "needs either 'text' (a Markdown file) or 'body' (inline Markdown)"
                    if text is None else "has both 'text' and 'body': keep one")
            return "", Where(self.ctx.file, self.ctx.lines.line_of(s.path))
        if body is not None:
            self.inline_prose(s.at("body"), body)
            return body, Where(self.ctx.file, self.ctx.lines.text_line(s.at("body")))
        found = self.text_file(s, "text", text)
        if found is None:
            return "", self.ctx.where(s.at("text"))
        where = Where(found[0], 1)
        self.prose(found[1], where, posixpath.dirname(found[0]))
        return found[1], where

    def techniques(self, s: Table) -> tuple[str, ...]:
        names = s.strings("techniques")
        for name in names:
            if name not in TECHNIQUES:
                s.error("techniques", one_of(name, TECHNIQUES))
        if len(set(names)) != len(names):
            s.error("techniques", "names a technique twice")
        if "techniques" in s.data and not 1 <= len(names) <= len(TECHNIQUES):
            s.error("techniques", f"one to {len(TECHNIQUES)} techniques")
        return tuple(n for n in names if n in TECHNIQUES)

    def host(self, s: Table) -> Host | None:
        data = s.get("host", dict)
        if data is None:  # not a table: reported
            return None
        h = Table(self.ctx, data, s.at("host"))
        scenario = h.choose("scenario", SCENARIOS)
        budget = h.get("max_insns", int, DEFAULT_STEP_BUDGET)
        if isinstance(budget, int) and budget <= 0:
            h.error("max_insns", "must be positive")
        vms: list[HostVm] = []
        vm_tables = h.tables("vms")
        if "vms" in h.data and len(vm_tables) < 2:
            h.error("vms", "a host runs two or more VMs")
        for v in vm_tables:
            name, program = v.name("name"), v.text("program")
            technique = v.choose("technique", TECHNIQUES, "native")
            v.finish(("name", "program", "technique"))
            if isinstance(program, str) and not self.known_program(program):
                v.error("program", f"{program!r} is not a program of this lesson or a "
                        "built-in guest")
            if isinstance(name, str) and any(vm.name == name for vm in vms):
                v.error("name", f"a second VM named {name!r}")
            if isinstance(name, str) and isinstance(program, str):  # (a bad technique is
                vms.append(HostVm(name, program, technique or "native"))  # reported above)
        h.finish(("scenario", "vms", "max_insns"))
        if not h.ok or scenario is None or not isinstance(budget, int):
            return None
        return Host(scenario, tuple(vms), budget)
