"""The panel's view of the progress database: the open lesson's latest answers and
hints, and its scores. Every answer and hint is written at once (one
transaction each, in `vizvm.lessons.progress`), so a crash loses nothing.

The database opens on first use, in the data folder (VIZVM_DATA_DIR in tests).
"""

from __future__ import annotations

from pathlib import Path

from vizvm.lessons.checks import Verdict
from vizvm.lessons.model import Lesson, Pack, Step
from vizvm.lessons.progress import Attempt, Progress


class Record:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._progress: Progress | None = None
        self.student = ""
        self.pack: Pack | None = None
        self.lesson: Lesson | None = None
        self.answers: dict[str, Attempt] = {}
        self.opened: set[str] = set()

    @property
    def progress(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(self.path)
        return self._progress

    @property
    def notice(self) -> str | None:
        """Said once to the student: an unreadable progress file was kept aside."""
        return self.progress.notice

    def load(self, student: str, pack: Pack, lesson: Lesson) -> None:
        self.student, self.pack, self.lesson = student, pack, lesson
        self.answers = self.progress.latest_answers(student, pack.id, lesson.id)
        self.opened = self.progress.opened_steps(student, pack.id, lesson.id)

    def answer(self, student: str, pack: Pack, lesson: Lesson, check_id: str,  # noqa: PLR0917
               answer: str, verdict: Verdict, seed: int) -> None:
        self.progress.record_answer(student, pack, lesson.id, check_id, answer, verdict, seed)
        if (student, pack, lesson) == (self.student, self.pack, self.lesson):
            self.answers = self.progress.latest_answers(student, pack.id, lesson.id)

    def hint(self, lesson: Lesson, check_id: str) -> None:
        assert self.pack is not None
        self.progress.record_hint(self.student, self.pack, lesson.id, check_id)

    def hints_seen(self, lesson: Lesson, check_id: str) -> int:
        assert self.pack is not None
        return self.progress.hints_used(self.student, self.pack.id, lesson.id, check_id)

    def step_opened(self, lesson: Lesson, step: Step) -> None:
        assert self.pack is not None
        if step.id not in self.opened:
            self.progress.record_opened(self.student, self.pack, lesson.id, step.id)
            self.opened.add(step.id)

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
        return self.progress.score(student, pack)

    def export(self, student: str, pack: Pack, out: Path) -> Path:
        from vizvm.lessons.bundle import export_bundle

        return export_bundle(self.progress, student, pack, out)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress = None
