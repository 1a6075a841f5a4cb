"""The work the lesson panel sends to its worker process: judging an answer, running
a host. No Qt here: these run in a child process, and come back as plain data.

The child keeps one StepRuns for its life, so a check that reads a run made
for an earlier check (or for grading the same variant) costs nothing. Lessons
arrive pickled, a fresh object each time; the first copy of each (pack
content, lesson) is kept so that the runs' cache, keyed by the lesson, hits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vizvm.lessons.checks import Verdict, evaluate
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.model import Lesson, Pack, Step
from vizvm.lessons.runs import StepRuns, host_run
from vizvm.session.host_result import HostResult

_RUNS = StepRuns()
_LESSONS: dict[tuple[str, str], Lesson] = {}


def start() -> None:
    """In the child, once: it yields to the window when both want a core."""
    if hasattr(os, "nice"):
        os.nice(5)


@dataclass(frozen=True)
class Unloadable:
    """A pack that did not load: each problem as "file:line: message" (a PackError's
    problems do not survive pickling, so they travel as text)."""

    path: str
    problems: tuple[str, ...]


def load(path: str) -> Pack | Unloadable:
    try:
        return load_pack(Path(path))
    except PackError as exc:
        return Unloadable(path, tuple(str(p) for p in exc.problems) or (str(exc),))
    except (OSError, ValueError) as exc:  # unreadable, or not a pack at all
        return Unloadable(path, (f"{path}: {exc}",))


def _kept(content_hash: str, lesson: Lesson) -> Lesson:
    return _LESSONS.setdefault((content_hash, lesson.id), lesson)


def _step(lesson: Lesson, step_id: str) -> Step:
    return next(s for s in lesson.steps if s.id == step_id)


def judge(content_hash: str, lesson: Lesson, step_id: str, check_id: str,  # noqa: PLR0917
          answer: str, values: dict[str, int]) -> Verdict:
    lesson = _kept(content_hash, lesson)
    step, check = lesson.check(check_id)
    assert step.id == step_id
    return evaluate(lesson, step, check, answer, values, _RUNS)


def run_host(content_hash: str, lesson: Lesson, step_id: str,
             values: dict[str, int]) -> HostResult:
    """The step's host, with the student's values in every VM's memory."""
    lesson = _kept(content_hash, lesson)
    return host_run(lesson, _step(lesson, step_id), values)
