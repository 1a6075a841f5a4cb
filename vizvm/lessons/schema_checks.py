"""A step's checks, kind by kind, and the grammar of computed quantities.

Only the keys of a check's own kind are accepted, so `answer` on a trap check
(whose answer vizvm finds by running) is an error rather than silently ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vizvm.lessons.model import (
    CHECK_KINDS,
    OPERATORS,
    TECHNIQUES,
    Check,
    Choice,
    Host,
)
from vizvm.lessons.schema_fields import NAME, Table, one_of

if TYPE_CHECKING:
    from vizvm.lessons.schema import LessonReader

COMMON_KEYS = ("id", "kind", "prompt", "points", "hints")
KIND_KEYS = {
    "trap": ("instruction", "technique"),
    "choice": ("choices", "multiple"),
    "number": ("answer", "compute", "tolerance", "tolerance_percent", "technique"),
    "text": ("pattern", "ignore_case"),
    "register": ("register", "technique"),
    "memory": ("address", "size", "technique"),
    "serial": ("technique", "line"),
    "events": ("event", "op", "value", "technique"),
}
COMPUTED_KINDS = ("register", "memory", "serial", "events")
EVENT_KINDS = ("trap", "emulate", "interrupt", "exception", "ring-change", "io", "halt",
               "hypercall", "vm-exit", "translate", "callout", "cache-hit", "cache-miss",
               "invalidate")
REGISTERS = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags")
SCALARS = ("exit_code", "guest_instructions", "simulated_cycles", "overhead",
           "direct_percent")
MAX_PATTERN = 200
_OPERATOR_SPELLINGS = {"=>": ">=", "=<": "<=", "=": "==", "<>": "!=", "!": "!=", "≠": "!=",
                       "≤": "<=", "≥": ">="}


@dataclass(frozen=True)
class StepContext:
    techniques: tuple[str, ...]
    host: Host | None
    runs: bool  # the step names a program or a host: computed answers have a run


def quantity_error(text: str, host: Host | None) -> str | None:
    """Why `compute` is not a quantity of docs/lesson-format.md, or None."""
    if text.startswith("vm."):
        if host is None:
            return "vm.NAME.QUANTITY is for steps that run a host"
        _, _, rest = text.partition(".")
        name, _, inner = rest.partition(".")
        if name not in {vm.name for vm in host.vms}:
            return one_of(name, [vm.name for vm in host.vms]) + " (the host's VMs)"
        if inner.startswith(("vm.", "host.")):
            return f"{inner!r} is not a quantity of one VM"
        return quantity_error(inner, None)
    if text.startswith("host."):
        if host is None:
            return "host.NAME is for steps that run a host"
        return None if NAME.fullmatch(text[5:]) else f"{text[5:]!r} is not a figure name"
    if host is not None:
        return f"a host step runs several VMs: name one, as vm.NAME.{text}"
    group, _, name = text.partition(".")
    if not name:
        if text in SCALARS:
            return None
        hint = one_of(text, [*SCALARS, "events.KIND", "register.NAME", "memory.ADDRESS"])
        return f"unknown quantity: {hint}"
    if group == "events":
        return None if name in EVENT_KINDS else f"events.{one_of(name, EVENT_KINDS)}"
    if group == "register":
        return None if name in REGISTERS else f"register.{one_of(name, REGISTERS)}"
    if group == "memory":
        try:
            address = int(name.replace("_", ""), 0)
        except ValueError:
            return f"memory.{name}: expected an address such as memory.0x1000"
        return None if 0 <= address <= 0xFFFF_FFFC else f"memory.{name}: outside 32 bits"
    return "unknown quantity: " + one_of(group, ["events", "register", "memory", "vm",
                                                 "host"])


def read_check(c: Table, step: StepContext, reader: LessonReader) -> Check | None:
    check_id = c.name("id")
    kind = c.choose("kind", CHECK_KINDS)
    prompt = c.text("prompt")
    if isinstance(prompt, str):
        reader.inline_prose(c.at("prompt"), prompt)
    points = c.get("points", int, 1)
    if isinstance(points, int) and points < 0:
        c.error("points", "must be 0 or more")
    hints = c.strings("hints")
    for i, hint in enumerate(hints):
        reader.inline_prose(c.at("hints", i), hint)
    if kind is None:
        c.finish(tuple(key for keys in KIND_KEYS.values() for key in keys))
        return None
    _foreign_keys(c, kind)
    fields = _KINDS[kind](c, step, reader)
    c.finish((*COMMON_KEYS, *KIND_KEYS[kind]))
    if fields is None or not isinstance(check_id, str) or not isinstance(prompt, str):
        return None
    return Check(check_id, kind, prompt, points if isinstance(points, int) else 1, hints,
                 where=reader.ctx.where(c.path), **fields)


def _foreign_keys(c: Table, kind: str) -> None:
    """Keys of other kinds, named as such (a better message than 'unknown key')."""
    for key in c.data:
        if key in COMMON_KEYS or key in KIND_KEYS[kind]:
            continue
        owners = [k for k, keys in KIND_KEYS.items() if key in keys]
        if owners:
            c.asked.add(key)
            c.error(key, f"not a key of {kind} checks (it belongs to "
                    f"{' and '.join(owners)} checks)")


def _technique(c: Table, step: StepContext, required: bool) -> tuple[bool, str | None]:
    """The check's technique, or the step's only one; (ok, technique)."""
    technique = c.choose("technique", TECHNIQUES, None)
    if "technique" in c.data and technique is None:
        return False, None
    if technique is None and required and step.host is None:
        if len(step.techniques) == 1:
            return True, step.techniques[0]
        c.error(None, "needs 'technique' (the step has "
                f"{len(step.techniques) or 'no'} techniques to choose from)")
        return False, None
    return True, technique


def _needs_run(c: Table, step: StepContext, kind: str) -> bool:
    if step.runs:
        return True
    article = "an" if kind[0] in "aeiou" else "a"
    c.error("kind", f"{article} {kind} check's answer comes from a run, and this step names no "
            "program or host")
    return False


def _trap(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    instruction = c.text("instruction")
    technique = c.choose("technique", TECHNIQUES)
    if not isinstance(instruction, str) or technique is None:
        return None
    return {"instruction": instruction, "technique": technique}


def _choice(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    multiple = c.get("multiple", bool, False)
    choices: list[Choice] = []
    if "choices" not in c.data:
        c.get("choices", list)  # reported as missing
    tables = c.tables("choices")
    for t in tables:
        text, correct = t.text("text"), t.get("correct", bool, False)
        feedback = t.get("feedback", str, "")
        t.finish(("text", "correct", "feedback"))
        for key, value in (("text", text), ("feedback", feedback)):
            if isinstance(value, str) and value:
                reader.inline_prose(t.at(key), value)
        if isinstance(text, str):
            choices.append(Choice(text, bool(correct), feedback or ""))
    right = sum(ch.correct for ch in choices)
    if "choices" in c.data and len(tables) < 2:
        c.error("choices", "at least two choices")
    elif tables and right == 0:
        c.error("choices", "no choice has correct = true")
    elif right > 1 and not multiple:
        c.error("choices", f"{right} choices are correct but only one can be chosen: "
                "add multiple = true")
    if "choices" not in c.data or len(choices) != len(tables):
        return None
    return {"choices": tuple(choices), "multiple": bool(multiple)}


def _number(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    answer = c.get("answer", (int, float), None)
    compute = c.get("compute", str, None)
    tolerance = c.get("tolerance", float, 0.0)
    percent = c.get("tolerance_percent", float, 0.0)
    for key, value in (("tolerance", tolerance), ("tolerance_percent", percent)):
        if isinstance(value, int | float) and value < 0:
            c.error(key, "must be 0 or more")
    if ("answer" in c.data) == ("compute" in c.data):
        c.error(None, "needs exactly one of 'answer' (a fixed number) or 'compute' "
                "(a quantity of the run)")
        return None
    technique = None
    if compute is not None:
        problem = quantity_error(compute, step.host)
        if problem:
            c.error("compute", problem)
            return None
        if not _needs_run(c, step, "computed number"):
            return None
        ok, technique = _technique(c, step, required=True)
        if not ok:
            return None
    elif "technique" in c.data:
        c.asked.add("technique")
        c.error("technique", "only a computed answer runs under a technique")
    if answer is None and compute is None:
        return None
    return {"answer": answer, "compute": compute, "technique": technique,
            "tolerance": float(tolerance or 0), "tolerance_percent": float(percent or 0)}


def _text(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    pattern = c.text("pattern")
    ignore_case = c.get("ignore_case", bool, False)
    if not isinstance(pattern, str):
        return None
    if len(pattern) > MAX_PATTERN:
        c.error("pattern", f"{len(pattern)} characters; at most {MAX_PATTERN}")
        return None
    try:
        re.compile(pattern)
    except re.error as exc:
        c.error("pattern", f"not a regular expression: {exc}")
        return None
    return {"pattern": pattern, "ignore_case": bool(ignore_case)}


def _computed(c: Table, step: StepContext, kind: str) -> tuple[bool, str | None]:
    if step.host is not None:
        c.error("kind", f"a host runs several machines: use a number check with "
                f"compute = \"vm.NAME.{'register.eax' if kind == 'register' else '...'}\"")
        return False, None
    if not _needs_run(c, step, kind):
        return False, None
    return _technique(c, step, required=True)


def _register(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    register = c.choose("register", REGISTERS)
    ok, technique = _computed(c, step, "register")
    return {"register": register, "technique": technique} if ok and register else None


def _memory(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    address, size = c.get("address", int), c.get("size", int, 4)
    if isinstance(address, int) and not 0 <= address <= 0xFFFF_FFFF:
        c.error("address", "outside the 32-bit physical address space")
        address = None
    if isinstance(size, int) and size not in (1, 2, 4):
        c.error("size", f"{size} is not one of 1, 2, 4")
        size = None
    ok, technique = _computed(c, step, "memory")
    if not ok or address is None or size is None:
        return None
    return {"address": address, "size": size, "technique": technique}


def _serial(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    line = c.get("line", int, None)
    if isinstance(line, int) and line < 1:
        c.error("line", "lines count from 1")
        return None
    ok, technique = _computed(c, step, "serial")
    return {"line": line, "technique": technique} if ok else None


def _events(c: Table, step: StepContext, reader: LessonReader) -> dict | None:
    event = c.choose("event", EVENT_KINDS)
    written = c.data.get("op")
    if written in _OPERATOR_SPELLINGS:  # other languages' spellings: say which one is meant
        c.asked.add("op")
        c.error("op", f"{written!r} is not one of {', '.join(OPERATORS)}: write "
                f"{_OPERATOR_SPELLINGS[written]!r}")
        op = None
    else:
        op = c.choose("op", OPERATORS)
    value = c.get("value", int)
    if not _needs_run(c, step, "events"):
        return None
    ok, technique = _technique(c, step, required=False)  # none: the student names one
    if not ok or event is None or op is None or value is None:
        return None
    return {"event": event, "op": op, "value": value, "technique": technique}


_KINDS = {"trap": _trap, "choice": _choice, "number": _number, "text": _text,
          "register": _register, "memory": _memory, "serial": _serial, "events": _events}
