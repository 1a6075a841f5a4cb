"""One judge per kind of check, and what each needs to know the right answer.

vizvm.lessons.checks is the way in; here are the kinds' details: the answer's
form, where the expected value comes from (a run, a probe, the author for
literal numbers and choices), and feedback that names it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from vizvm.asm.source import AsmError
from vizvm.lessons import pattern_example, probes_file, quantity_words
from vizvm.lessons.answers import parse_number
from vizvm.lessons.model import TECHNIQUES, Check, Lesson, Step
from vizvm.lessons.runs import RunError, StepRuns
from vizvm.lessons.trap_probe import ProbeError, TrapAnswer, traps
from vizvm.machine.loader import LoadError

YES, NO = ("yes", "y", "true"), ("no", "n", "false")
RAN = "ran"
# what a broken lesson raises while being judged (an unknown quantity is a KeyError)
LESSON_ERRORS = (RunError, ProbeError, AsmError, LoadError, KeyError)


class CheckError(ValueError):
    """A check that cannot be judged: the lesson's fault, not the student's.
    The message names the check and where it is written."""


@dataclass(frozen=True)
class Verdict:
    correct: bool
    points: int
    feedback: str
    expected: str  # the right answer, as text: shown only once the student has answered


class Ask(NamedTuple):
    """One check asked of one student: what every judge needs."""

    lesson: Lesson
    step: Step
    check: Check
    values: dict[str, int]
    runs: StepRuns


def lesson_error(check: Check, exc: Exception) -> CheckError:
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return CheckError(f"{check.where}: check {check.id!r}: {message}")


class Malformed(ValueError):
    """The student's answer is not in the form the check asks for."""


def _verdict(check: Check, right: bool, expected: str, fact: str, answer: str, *,
             extra: str = "", withheld: str | None = None) -> Verdict:
    """`withheld`: for a wrong answer to a value the student could copy on the next
    try, where to look instead of the value itself."""
    if right:
        feedback = f"Right: {fact}." + (f" {extra}" if extra else "")
        return Verdict(True, check.points, feedback, expected)
    said = f"Not quite: you said {answer}; {withheld}." if withheld is not None else (
        f"Not quite: {fact}; you said {answer}.")
    return Verdict(False, 0, said + (f" {extra}" if extra else ""), expected)


def _look_again(q: Ask, what: str) -> str:
    where = "the host run" if q.step.host else f"the run under {_technique(q.step, q.check)}"
    return f"look again at {what} of {where}"


def _direction(given: int | float, expected: int | float) -> str:
    return "too high" if given > expected else "too low"


def _technique(step: Step, check: Check) -> str:
    return check.technique or (step.techniques[0] if step.techniques else "native")


def _quantity(q: Ask, technique: str, name: str) -> object:
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
def _trap(q: Ask, answer: str) -> Verdict:
    check = q.check
    technique = trap_question(check)[0]
    found = probe(q.lesson, check)  # first: a broken question is the lesson's error
    given = _yes_no(answer)
    entered = "traps: the monitor handles it" if found.trapped else "does not trap"
    fact = f"under {technique} it {entered} ({found.evidence.removeprefix(technique + ': ')})"
    return _verdict(check, given == found.trapped, "yes" if found.trapped else "no", fact,
                    "yes" if given else "no")


def _yes_no(answer: str) -> bool:
    word = answer.lower()
    if word in YES or word in NO:
        return word in YES
    raise Malformed(f"answer yes or no (not {answer!r})")


def probe(lesson: Lesson, check: Check) -> TrapAnswer:
    """Run the check's instruction, in the kernel built ahead of time if there is one."""
    technique, instruction = trap_question(check)
    return traps(instruction, technique,
                 lesson.probes.get(probes_file.key(instruction, technique)))


def trap_question(check: Check) -> tuple[str, str]:
    if not check.instruction:
        raise KeyError("a trap check needs an `instruction`")
    return check.technique or "native", check.instruction


# choice -------------------------------------------------------------------------------
def _choice(q: Ask, answer: str) -> Verdict:
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
        raise Malformed("choose one of the answers")
    if not all(p.isdigit() for p in parts):
        raise Malformed(f"{answer!r} is not a list of choice numbers such as 0 or 0,2")
    chosen = {int(p) for p in parts}
    if max(chosen) >= len(check.choices):
        raise Malformed(f"there are only {len(check.choices)} choices (0 to "
                         f"{len(check.choices) - 1})")
    if len(chosen) > 1 and not check.multiple:
        raise Malformed("choose only one answer")
    return chosen


def _sub(text: str, values: dict[str, int]) -> str:
    if not values:
        return text
    from vizvm.lessons import variants

    return variants.substitute(text, values)


# number, register, memory ---------------------------------------------------------------
def _number(q: Ask, answer: str) -> Verdict:
    check = q.check
    given = _parse(answer)
    expected, fact = number_expected(q)
    slack = max(check.tolerance, abs(expected) * check.tolerance_percent / 100)
    right = abs(given - expected) <= slack
    where = "the question" if check.answer is not None else _look_again(q, "the counters")
    return _verdict(check, right, show(expected), fact, answer,
                    withheld=f"that is {_direction(given, expected)}: {where}")


def number_expected(q: Ask) -> tuple[int | float, str]:
    step, check = q.step, q.check
    if check.answer is not None:
        return check.answer, f"the answer is {show(check.answer)}"
    if check.compute is None:
        raise KeyError("a number check needs `answer` or `compute`")
    technique = _technique(step, check)
    value = _quantity(q, technique, check.compute)
    if not isinstance(value, int | float):
        raise KeyError(f"{check.compute!r} is not a number")
    where = "the host run" if step.host else f"the run under {technique}"
    return value, quantity_words.describe(where, check.compute, show(value))


def _register(q: Ask, answer: str) -> Verdict:
    step, check = q.step, q.check
    given = _word(answer)
    technique = _technique(step, check)
    name = (check.register or "").lower()
    value = _quantity(q, technique, f"register.{name}")
    assert isinstance(value, int)
    fact = f"after the run under {technique}, {name} = {value:#x} ({value})"
    return _verdict(check, given == value, f"{value:#x}", fact, answer,
                    withheld=_look_again(q, f"{name} at the end"))


def _memory(q: Ask, answer: str) -> Verdict:
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
    return _verdict(check, given == value, f"{value:#x}", fact, answer,
                    withheld=_look_again(q, f"memory at {check.address:#010x} at the end"))


def _parse(answer: str) -> int | float:
    try:
        return parse_number(answer)
    except ValueError as exc:
        raise Malformed(str(exc)) from None


def _word(answer: str, bits: int = 32) -> int:
    """An unsigned value of `bits`; a negative one is read as two's complement."""
    given = _parse(answer)
    if isinstance(given, float):
        if not given.is_integer():
            raise Malformed(f"{answer!r}: registers and memory hold whole numbers")
        given = int(given)
    if not -(1 << bits - 1) <= given < (1 << bits):
        raise Malformed(f"{answer!r} does not fit in {bits} bits")
    return given & ((1 << bits) - 1)


def show(value: int | float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return str(int(value))


# text, serial ---------------------------------------------------------------------------
def _text(q: Ask, answer: str) -> Verdict:
    check = q.check
    pattern = compiled_pattern(check)
    example = pattern_example.matching(pattern.pattern, check.ignore_case) or ""
    right = pattern.fullmatch(answer) is not None
    fact = "that is the expected answer" if right else "that is not what the question asks"
    return _verdict(check, right, example, fact, repr(answer))


def compiled_pattern(check: Check) -> re.Pattern[str]:
    try:
        return re.compile(check.pattern or "", re.IGNORECASE if check.ignore_case else 0)
    except re.error as exc:
        raise KeyError(f"the pattern does not compile: {exc}") from None


def _serial(q: Ask, answer: str) -> Verdict:
    step, check = q.step, q.check
    technique = _technique(step, check)
    expected = serial_expected(q)
    which = f"line {check.line} of the serial output" if check.line else "the serial output"
    fact = f"under {technique}, {which} is {expected!r}"
    return _verdict(check, answer == expected, expected, fact, repr(answer),
                    withheld=f"compare it with {which} under {technique}")


def serial_expected(q: Ask) -> str:
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
def _events(q: Ask, answer: str) -> Verdict:
    check = q.check
    condition = f"{check.event} {check.op} {check.value}"
    if check.technique is not None:
        if answer.lower() != RAN:
            return Verdict(False, 0, "Run the step first.", RAN)
        ok, count = events_hold(q, check.technique)
        fact = f"the run under {check.technique} made {count} {check.event} events"
        return _verdict(check, ok, RAN, fact, "you ran it",
                        extra="" if ok else f"The check wants {condition}: is the lesson right?")
    technique = answer.lower()
    if technique not in TECHNIQUES:
        raise Malformed(f"name a technique: {', '.join(TECHNIQUES)}")
    try:
        ok, count = events_hold(q, technique)
    except RunError as exc:
        reason = str(exc).split(": ", 1)[-1]
        return Verdict(False, 0, f"Not quite: {technique} cannot run this step ({reason}).",
                       events_reference(q))
    fact = f"under {technique} the run made {count} {check.event} events (wanted {condition})"
    return _verdict(check, ok, technique if ok else events_reference(q), fact, technique)


def events_hold(q: Ask, technique: str) -> tuple[bool, int]:
    check = q.check
    count = _quantity(q, technique, f"events.{check.event}")
    assert isinstance(count, int)
    value = check.value or 0
    ok = {"==": count == value, "!=": count != value, "<": count < value, "<=": count <= value,
          ">": count > value, ">=": count >= value}.get(check.op or "")
    if ok is None:
        raise KeyError(f"unknown operator {check.op!r}")
    return ok, count


JUDGES = {"trap": _trap, "choice": _choice, "number": _number, "text": _text,
           "register": _register, "memory": _memory, "serial": _serial, "events": _events}


def events_reference(q: Ask) -> str:
    step, check = q.step, q.check
    if check.technique is not None:
        ok, count = events_hold(q, check.technique)
        if not ok:
            raise RunError(f"the run under {check.technique} made {count} {check.event} "
                           f"events, so {check.event} {check.op} {check.value} never holds")
        return RAN
    for technique in techniques_to_try(step):
        try:
            if events_hold(q, technique)[0]:
                return technique
        except RunError:
            continue
    raise RunError(f"no technique makes {check.event} {check.op} {check.value} hold")


def techniques_to_try(step: Step) -> list[str]:
    return [*step.techniques, *(t for t in TECHNIQUES if t not in step.techniques)]
