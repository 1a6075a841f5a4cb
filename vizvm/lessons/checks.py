"""Judging a student's answer to a check, from what the machine did.

Every computed answer comes from a run (vizvm.lessons.runs) or from probing
the instruction (vizvm.lessons.trap_probe); only literal `answer` numbers and
choices' `correct` flags are the author's. Feedback names the measured value
only in a verdict, that is after the student has answered. The kinds' judges
are in vizvm.lessons.judges.
"""

from __future__ import annotations

from vizvm.lessons import pattern_example
from vizvm.lessons.judges import (
    JUDGES,
    LESSON_ERRORS,
    Ask,
    CheckError,
    Malformed,
    Verdict,
    compiled_pattern,
    events_hold,
    events_reference,
    lesson_error,
    number_expected,
    probe,
    serial_expected,
    show,
    techniques_to_try,
)
from vizvm.lessons.model import Check, Lesson, Step
from vizvm.lessons.runs import RunError, StepRuns

__all__ = ["CheckError", "Verdict", "evaluate", "reference_answer", "wrong_answer"]


def evaluate(lesson: Lesson, step: Step, check: Check, answer: str,  # noqa: PLR0917
             values: dict[str, int], runs: StepRuns) -> Verdict:
    """Judge `answer` (as typed; see docs/lesson-format.md for each kind's form)."""
    try:
        return JUDGES[check.kind](Ask(lesson, step, check, values, runs), answer.strip())
    except Malformed as exc:
        return Verdict(False, 0, str(exc), "")
    except LESSON_ERRORS as exc:
        raise lesson_error(check, exc) from exc


# reference and wrong answers, for `vizvm lesson check` and `lesson run --show-answers` ------
def reference_answer(lesson: Lesson, step: Step, check: Check, values: dict[str, int],
                     runs: StepRuns) -> str:
    """An answer that must be judged right, found by running (never typed by the author,
    but for literal numbers and choices' flags). CheckError if there is none."""
    q = Ask(lesson, step, check, values, runs)
    try:
        return _reference(q)
    except LESSON_ERRORS as exc:
        raise lesson_error(check, exc) from exc


def wrong_answer(lesson: Lesson, step: Step, check: Check, values: dict[str, int],
                 runs: StepRuns) -> str:
    """An answer that must be judged wrong. CheckError if none can be made (a choice
    check whose every choice is correct, a text pattern that accepts anything)."""
    q = Ask(lesson, step, check, values, runs)
    try:
        found = _wrong(q)
    except LESSON_ERRORS as exc:
        raise lesson_error(check, exc) from exc
    if found is None:
        raise CheckError(f"{check.where}: check {check.id!r}: no answer to it can be wrong")
    return found


def _reference(q: Ask) -> str:
    check = q.check
    kind = check.kind
    if kind == "trap":
        return "yes" if probe(q.lesson, check).trapped else "no"
    if kind == "choice":
        return ",".join(str(i) for i, choice in enumerate(check.choices) if choice.correct)
    if kind == "number":
        value = number_expected(q)[0]
        return repr(value) if isinstance(value, float) else str(value)
    if kind in ("register", "memory"):
        return evaluate(*q[:3], "0", *q[3:]).expected
    if kind == "serial":
        return serial_expected(q)
    if kind == "text":
        example = pattern_example.matching(compiled_pattern(check).pattern, check.ignore_case)
        if example is None:
            raise KeyError("no example answer could be built from its pattern: write a "
                           "simpler one (no look-arounds or back-references)")
        return example
    return events_reference(q)


def _wrong(q: Ask) -> str | None:
    step, check = q.step, q.check
    kind = check.kind
    if kind == "trap":
        return "no" if _reference(q) == "yes" else "yes"
    if kind == "choice":
        return _wrong_choice(check)
    if kind == "number":
        expected = number_expected(q)[0]
        slack = max(check.tolerance, abs(expected) * check.tolerance_percent / 100)
        return show(expected + slack + max(1, abs(expected)))
    if kind in ("register", "memory"):
        right = int(_reference(q), 16)
        bits = 32 if kind == "register" else 8 * check.size
        return f"{(right + 1) % (1 << bits):#x}"
    if kind == "serial":
        return "not " + serial_expected(q)
    if kind == "text":
        reference = pattern_example.matching(compiled_pattern(check).pattern, check.ignore_case)
        return pattern_example.not_matching(compiled_pattern(check).pattern, check.ignore_case,
                                            reference or "")
    if check.technique is not None:
        return ""
    unable = []
    for technique in reversed(techniques_to_try(step)):
        try:
            if not events_hold(q, technique)[0]:
                return technique
        except RunError:
            unable.append(technique)
    # every technique that runs the step is judged right: the question asks nothing
    cannot = f" ({', '.join(unable)} cannot run the step)" if unable else ""
    raise KeyError(f"no technique fails {check.event} {check.op} {check.value}{cannot}: any "
                   "technique the student names is right")


def _wrong_choice(check: Check) -> str | None:
    right = [i for i, c in enumerate(check.choices) if c.correct]
    wrong = [i for i, c in enumerate(check.choices) if not c.correct]
    if not check.multiple:
        return str(wrong[0]) if wrong else None
    if wrong:
        return ",".join(str(i) for i in sorted([*right, wrong[0]]))
    return ",".join(str(i) for i in right[1:]) if len(right) > 1 else None
