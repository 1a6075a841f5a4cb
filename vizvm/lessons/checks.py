"""Judging a student's answer to a check, from what the machine did.

Every computed answer comes from a run (vizvm.lessons.runs) or from probing
the instruction (vizvm.lessons.trap_probe); only literal `answer` numbers and
choices' `correct` flags are the author's. Feedback names the measured value
only in a verdict, that is after the student has answered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from vizvm.asm.source import AsmError
from vizvm.lessons import pattern_example
from vizvm.lessons.answers import parse_number
from vizvm.lessons.model import TECHNIQUES, Check, Lesson, Step
from vizvm.lessons.runs import RunError, StepRuns
from vizvm.lessons.trap_probe import ProbeError, traps
from vizvm.machine.loader import LoadError

YES, NO = ("yes", "y", "true"), ("no", "n", "false")
RAN = "ran"


class CheckError(ValueError):
    """A check that cannot be judged: the lesson's fault, not the student's.
    The message names the check and where it is written."""


@dataclass(frozen=True)
class Verdict:
    correct: bool
    points: int
    feedback: str
    expected: str  # the right answer, as text: shown only once the student has answered


class _Ask(NamedTuple):
    """One check asked of one student: what every judge needs."""

    lesson: Lesson
    step: Step
    check: Check
    values: dict[str, int]
    runs: StepRuns


def evaluate(lesson: Lesson, step: Step, check: Check, answer: str,  # noqa: PLR0917
             values: dict[str, int], runs: StepRuns) -> Verdict:
    """Judge `answer` (as typed; see docs/lesson-format.md for each kind's form)."""
    try:
        return _JUDGES[check.kind](_Ask(lesson, step, check, values, runs), answer.strip())
    except _Malformed as exc:
        return Verdict(False, 0, str(exc), "")
    except (RunError, ProbeError, AsmError, LoadError, KeyError) as exc:
        raise _lesson_error(check, exc) from exc


def _lesson_error(check: Check, exc: Exception) -> CheckError:
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return CheckError(f"{check.where}: check {check.id!r}: {message}")


class _Malformed(ValueError):
    """The student's answer is not in the form the check asks for."""


def _verdict(check: Check, right: bool, expected: str, fact: str, answer: str, *,
             extra: str = "") -> Verdict:
    if right:
        feedback = f"Right: {fact}." + (f" {extra}" if extra else "")
        return Verdict(True, check.points, feedback, expected)
    feedback = f"Not quite: {fact}; you said {answer}." + (f" {extra}" if extra else "")
    return Verdict(False, 0, feedback, expected)


def _technique(step: Step, check: Check) -> str:
    return check.technique or (step.techniques[0] if step.techniques else "native")


def _quantity(q: _Ask, technique: str, name: str) -> object:
    found = q.runs.quantities(q.lesson, q.step, technique, q.values)
    try:
        value = found[name]
    except KeyError:
        raise KeyError(f"{name!r} is not a quantity of the run (docs/lesson-format.md "
                       "lists them)") from None
    if value is None:
        raise RunError(f"the run under {technique} has no {name}: it did not power off "
                       "(or has no native run to compare with)")
    return value


# trap ---------------------------------------------------------------------------------
def _trap(q: _Ask, answer: str) -> Verdict:
    check = q.check
    technique, instruction = _trap_question(check)
    found = traps(instruction, technique)  # first: a broken question is the lesson's error
    given = _yes_no(answer)
    fact = (f"under {technique} it {'traps' if found.trapped else 'does not trap'} "
            f"({found.evidence})")
    return _verdict(check, given == found.trapped, "yes" if found.trapped else "no", fact,
                    "yes" if given else "no")


def _yes_no(answer: str) -> bool:
    word = answer.lower()
    if word in YES or word in NO:
        return word in YES
    raise _Malformed(f"answer yes or no (not {answer!r})")


def _trap_question(check: Check) -> tuple[str, str]:
    if not check.instruction:
        raise KeyError("a trap check needs an `instruction`")
    return check.technique or "native", check.instruction


# choice -------------------------------------------------------------------------------
def _choice(q: _Ask, answer: str) -> Verdict:
    check, values = q.check, q.values
    chosen = _chosen(check, answer)
    right = {i for i, choice in enumerate(check.choices) if choice.correct}
    said = " ".join(_sub(check.choices[i].feedback, values) for i in sorted(chosen)
                    if check.choices[i].feedback)
    expected = ",".join(str(i) for i in sorted(right))
    if chosen == right:
        return Verdict(True, check.points, ("Right." + (f" {said}" if said else "")), expected)
    mistaken = " ".join(_sub(check.choices[i].feedback, values) for i in sorted(chosen - right)
                        if check.choices[i].feedback)
    hint = mistaken or ("not every right choice is chosen" if chosen < right
                        else "that is not the right choice")
    return Verdict(False, 0, f"Not quite: {hint}", expected)


def _chosen(check: Check, answer: str) -> set[int]:
    parts = [p.strip() for p in answer.split(",") if p.strip()]
    if not parts:
        raise _Malformed("choose one of the answers")
    if not all(p.isdigit() for p in parts):
        raise _Malformed(f"{answer!r} is not a list of choice numbers such as 0 or 0,2")
    chosen = {int(p) for p in parts}
    if max(chosen) >= len(check.choices):
        raise _Malformed(f"there are only {len(check.choices)} choices (0 to "
                         f"{len(check.choices) - 1})")
    if len(chosen) > 1 and not check.multiple:
        raise _Malformed("choose only one answer")
    return chosen


def _sub(text: str, values: dict[str, int]) -> str:
    if not values:
        return text
    from vizvm.lessons import variants

    return variants.substitute(text, values)


# number, register, memory ---------------------------------------------------------------
def _number(q: _Ask, answer: str) -> Verdict:
    check = q.check
    given = _parse(answer)
    expected, fact = _number_expected(q)
    slack = max(check.tolerance, abs(expected) * check.tolerance_percent / 100)
    right = abs(given - expected) <= slack
    return _verdict(check, right, _show(expected), fact, answer)


def _number_expected(q: _Ask) -> tuple[int | float, str]:
    step, check = q.step, q.check
    if check.answer is not None:
        return check.answer, f"the answer is {_show(check.answer)}"
    if check.compute is None:
        raise KeyError("a number check needs `answer` or `compute`")
    technique = _technique(step, check)
    value = _quantity(q, technique, check.compute)
    if not isinstance(value, int | float):
        raise KeyError(f"{check.compute!r} is not a number")
    where = "the host run" if step.host else f"the run under {technique}"
    return value, f"{where} gave {check.compute} = {_show(value)}"


def _register(q: _Ask, answer: str) -> Verdict:
    step, check = q.step, q.check
    given = _word(answer)
    technique = _technique(step, check)
    name = (check.register or "").lower()
    value = _quantity(q, technique, f"register.{name}")
    assert isinstance(value, int)
    fact = f"after the run under {technique}, {name} = {value:#x} ({value})"
    return _verdict(check, given == value, f"{value:#x}", fact, answer)


def _memory(q: _Ask, answer: str) -> Verdict:
    step, check = q.step, q.check
    given = _word(answer, bits=8 * check.size)
    technique = _technique(step, check)
    if check.address is None:
        raise KeyError("a memory check needs an `address`")
    word = _quantity(q, technique, f"memory.{check.address:#x}")
    assert isinstance(word, int)
    value = word & ((1 << 8 * check.size) - 1)
    fact = (f"after the run under {technique}, the {check.size}-byte value at "
            f"{check.address:#010x} is {value:#x} ({value})")
    return _verdict(check, given == value, f"{value:#x}", fact, answer)


def _parse(answer: str) -> int | float:
    try:
        return parse_number(answer)
    except ValueError as exc:
        raise _Malformed(str(exc)) from None


def _word(answer: str, bits: int = 32) -> int:
    """An unsigned value of `bits`; a negative one is read as two's complement."""
    given = _parse(answer)
    if isinstance(given, float):
        if not given.is_integer():
            raise _Malformed(f"{answer!r}: registers and memory hold whole numbers")
        given = int(given)
    if not -(1 << bits - 1) <= given < (1 << bits):
        raise _Malformed(f"{answer!r} does not fit in {bits} bits")
    return given & ((1 << bits) - 1)


def _show(value: int | float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return str(int(value))


# text, serial ---------------------------------------------------------------------------
def _text(q: _Ask, answer: str) -> Verdict:
    check = q.check
    pattern = _pattern(check)
    example = pattern_example.matching(pattern.pattern, check.ignore_case) or ""
    right = pattern.fullmatch(answer) is not None
    fact = "that is the expected answer" if right else "that is not what the question asks"
    return _verdict(check, right, example, fact, repr(answer))


def _pattern(check: Check) -> re.Pattern[str]:
    try:
        return re.compile(check.pattern or "", re.IGNORECASE if check.ignore_case else 0)
    except re.error as exc:
        raise KeyError(f"the pattern does not compile: {exc}") from None


def _serial(q: _Ask, answer: str) -> Verdict:
    step, check = q.step, q.check
    technique = _technique(step, check)
    expected = _serial_expected(q)
    which = f"line {check.line} of the serial output" if check.line else "the serial output"
    fact = f"under {technique}, {which} is {expected!r}"
    return _verdict(check, answer == expected, expected, fact, repr(answer))


def _serial_expected(q: _Ask) -> str:
    check = q.check
    output = _quantity(q, _technique(q.step, check), "serial")
    assert isinstance(output, str)
    if check.line is None:
        return output.strip()
    lines = output.splitlines()
    if not 1 <= check.line <= len(lines):
        raise RunError(f"the serial output has {len(lines)} lines, not a line {check.line}")
    return lines[check.line - 1].strip()


# events ---------------------------------------------------------------------------------
def _events(q: _Ask, answer: str) -> Verdict:
    check = q.check
    condition = f"{check.event} {check.op} {check.value}"
    if check.technique is not None:
        if answer.lower() != RAN:
            return Verdict(False, 0, "Run the step first.", RAN)
        ok, count = _events_hold(q, check.technique)
        fact = f"the run under {check.technique} made {count} {check.event} events"
        return _verdict(check, ok, RAN, fact, "you ran it",
                        extra="" if ok else f"The check wants {condition}: is the lesson right?")
    technique = answer.lower()
    if technique not in TECHNIQUES:
        raise _Malformed(f"name a technique: {', '.join(TECHNIQUES)}")
    try:
        ok, count = _events_hold(q, technique)
    except RunError as exc:
        reason = str(exc).split(": ", 1)[-1]
        return Verdict(False, 0, f"Not quite: {technique} cannot run this step ({reason}).",
                       _events_reference(q))
    fact = f"under {technique} the run made {count} {check.event} events (wanted {condition})"
    return _verdict(check, ok, technique if ok else _events_reference(q), fact, technique)


def _events_hold(q: _Ask, technique: str) -> tuple[bool, int]:
    check = q.check
    count = _quantity(q, technique, f"events.{check.event}")
    assert isinstance(count, int)
    value = check.value or 0
    ok = {"==": count == value, "!=": count != value, "<": count < value, "<=": count <= value,
          ">": count > value, ">=": count >= value}.get(check.op or "")
    if ok is None:
        raise KeyError(f"unknown operator {check.op!r}")
    return ok, count


_JUDGES = {"trap": _trap, "choice": _choice, "number": _number, "text": _text,
           "register": _register, "memory": _memory, "serial": _serial, "events": _events}


# reference and wrong answers, for `vizvm lesson check` and `lesson run --show-answers` ------
def reference_answer(lesson: Lesson, step: Step, check: Check, values: dict[str, int],
                     runs: StepRuns) -> str:
    """An answer that must be judged right, found by running (never typed by the author,
    but for literal numbers and choices' flags). CheckError if there is none."""
    q = _Ask(lesson, step, check, values, runs)
    try:
        return _reference(q)
    except (RunError, ProbeError, AsmError, LoadError, KeyError) as exc:
        raise _lesson_error(check, exc) from exc


def wrong_answer(lesson: Lesson, step: Step, check: Check, values: dict[str, int],
                 runs: StepRuns) -> str:
    """An answer that must be judged wrong. CheckError if none can be made (a choice
    check whose every choice is correct, a text pattern that accepts anything)."""
    q = _Ask(lesson, step, check, values, runs)
    try:
        found = _wrong(q)
    except (RunError, ProbeError, AsmError, LoadError, KeyError) as exc:
        raise _lesson_error(check, exc) from exc
    if found is None:
        raise CheckError(f"{check.where}: check {check.id!r}: no answer to it can be wrong")
    return found


def _reference(q: _Ask) -> str:
    check = q.check
    kind = check.kind
    if kind == "trap":
        return "yes" if traps(*reversed(_trap_question(check))).trapped else "no"
    if kind == "choice":
        return ",".join(str(i) for i, choice in enumerate(check.choices) if choice.correct)
    if kind == "number":
        value = _number_expected(q)[0]
        return repr(value) if isinstance(value, float) else str(value)
    if kind in ("register", "memory"):
        return evaluate(*q[:3], "0", *q[3:]).expected
    if kind == "serial":
        return _serial_expected(q)
    if kind == "text":
        example = pattern_example.matching(_pattern(check).pattern, check.ignore_case)
        if example is None:
            raise KeyError("no example answer could be built from its pattern: write a "
                           "simpler one (no look-arounds or back-references)")
        return example
    return _events_reference(q)


def _events_reference(q: _Ask) -> str:
    step, check = q.step, q.check
    if check.technique is not None:
        ok, count = _events_hold(q, check.technique)
        if not ok:
            raise RunError(f"the run under {check.technique} made {count} {check.event} "
                           f"events, so {check.event} {check.op} {check.value} never holds")
        return RAN
    for technique in _techniques_to_try(step):
        try:
            if _events_hold(q, technique)[0]:
                return technique
        except RunError:
            continue
    raise RunError(f"no technique makes {check.event} {check.op} {check.value} hold")


def _techniques_to_try(step: Step) -> list[str]:
    return [*step.techniques, *(t for t in TECHNIQUES if t not in step.techniques)]


def _wrong(q: _Ask) -> str | None:
    step, check = q.step, q.check
    kind = check.kind
    if kind == "trap":
        return "no" if _reference(q) == "yes" else "yes"
    if kind == "choice":
        return _wrong_choice(check)
    if kind == "number":
        expected = _number_expected(q)[0]
        slack = max(check.tolerance, abs(expected) * check.tolerance_percent / 100)
        return _show(expected + slack + max(1, abs(expected)))
    if kind in ("register", "memory"):
        right = int(_reference(q), 16)
        bits = 32 if kind == "register" else 8 * check.size
        return f"{(right + 1) % (1 << bits):#x}"
    if kind == "serial":
        return "not " + _serial_expected(q)
    if kind == "text":
        reference = pattern_example.matching(_pattern(check).pattern, check.ignore_case)
        return pattern_example.not_matching(_pattern(check).pattern, check.ignore_case,
                                            reference or "")
    if check.technique is not None:
        return ""
    unable = ""
    for technique in reversed(_techniques_to_try(step)):
        try:
            if not _events_hold(q, technique)[0]:
                return technique
        except RunError:
            unable = unable or technique
    return unable


def _wrong_choice(check: Check) -> str | None:
    right = [i for i, c in enumerate(check.choices) if c.correct]
    wrong = [i for i, c in enumerate(check.choices) if not c.correct]
    if not check.multiple:
        return str(wrong[0]) if wrong else None
    if wrong:
        return ",".join(str(i) for i in sorted([*right, wrong[0]]))
    return ",".join(str(i) for i in right[1:]) if len(right) > 1 else None
