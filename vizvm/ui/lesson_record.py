"""The panel's view of the progress database: the open lesson's latest answers and
hints, and its scores. Every answer and hint is written at once (one
transaction each, in `vizvm.lessons.progress`), so a crash loses nothing.

The database opens on first use, in the data folder (VIZVM_DATA_DIR in tests).
A database that cannot be used (unwritable folder, written by a newer vizvm)
never stops the lesson: the student goes on, and `problem` says, once, what
was not kept and where.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from vizvm.lessons.checks import Verdict
from vizvm.lessons.model import Lesson, Pack, Step
from vizvm.lessons.progress import Attempt, Progress, ProgressError, default_path

T = TypeVar("T")
TROUBLE = (ProgressError, OSError, sqlite3.Error)


class Record:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._progress: Progress | None = None
        self.student = ""
        self.pack: Pack | None = None
        self.lesson: Lesson | None = None
        self.answers: dict[str, Attempt] = {}
        self.opened: set[str] = set()
        self.problem = ""  # what went wrong, for the panel to say (and clear)

    @property
    def progress(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(self.path)
            if self._progress.notice:
                self.problem = self._progress.notice
        return self._progress

    def _safely(self, doing: str, action: Callable[[], T], otherwise: T) -> T:
        try:
            return action()
        except TROUBLE as exc:
            where = "" if isinstance(exc, OSError) else f" ({self.path or default_path()})"
            self.problem = (f"Your progress could not be {doing}{where}: {exc}. You can go "
                            "on; what you do now is not kept.")
            return otherwise

    def load(self, student: str, pack: Pack, lesson: Lesson) -> None:
        self.student, self.pack, self.lesson = student, pack, lesson
        self.answers = self._safely(
            "read", lambda: self.progress.latest_answers(student, pack.id, lesson.id), {})
        self.opened = self._safely(
            "read", lambda: self.progress.opened_steps(student, pack.id, lesson.id), set())

    def answer(self, student: str, pack: Pack, lesson: Lesson, check_id: str,  # noqa: PLR0917
               answer: str, verdict: Verdict, seed: int) -> None:
        def write() -> None:
            self.progress.record_answer(student, pack, lesson.id, check_id, answer, verdict,
                                        seed)
            if (student, pack, lesson) == (self.student, self.pack, self.lesson):
                self.answers = self.progress.latest_answers(student, pack.id, lesson.id)

        self._safely("saved", write, None)

    def hint(self, lesson: Lesson, check_id: str) -> None:
        assert self.pack is not None
        pack = self.pack
        self._safely("saved", lambda: self.progress.record_hint(self.student, pack, lesson.id,
                                                                check_id), None)

    def hints_seen(self, lesson: Lesson, check_id: str) -> int:
        assert self.pack is not None
        pack_id = self.pack.id
        return self._safely("read", lambda: self.progress.hints_used(
            self.student, pack_id, lesson.id, check_id), 0)

    def step_opened(self, lesson: Lesson, step: Step) -> None:
        assert self.pack is not None
        pack = self.pack
        if step.id not in self.opened:
            self.opened.add(step.id)
            self._safely("saved", lambda: self.progress.record_opened(
                self.student, pack, lesson.id, step.id), None)

    def step_state(self, step: Step) -> str:
        """done, wrong, partly, todo, or read (a step without checks not opened yet)."""
        if not step.checks:
            return "done" if step.id in self.opened else "read"
        got = [self.answers.get(c.id) for c in step.checks]
        if all(a is not None and a.correct for a in got):
            return "done"
        if any(a is not None and not a.correct for a in got):
            return "wrong"
        return "partly" if any(a is not None for a in got) else "todo"

    def lesson_score(self, lesson: Lesson) -> tuple[int, int]:
        possible = sum(c.points for s in lesson.steps for c in s.checks)
        points = sum(a.points for s in lesson.steps for c in s.checks
                     if (a := self.answers.get(c.id)) is not None)
        return points, possible

    def pack_score(self, student: str, pack: Pack) -> tuple[int, int]:
        possible = sum(c.points for lesson in pack.lessons for s in lesson.steps
                       for c in s.checks)
        return self._safely("read", lambda: self.progress.score(student, pack), (0, possible))

    def export(self, student: str, pack: Pack, out: Path) -> Path:
        """The submission file (OSError, ProgressError and sqlite3.Error pass through)."""
        from vizvm.lessons.bundle import export_bundle

        return export_bundle(self.progress, student, pack, out)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
