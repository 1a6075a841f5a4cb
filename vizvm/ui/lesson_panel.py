"""The lesson panel: a dock beside the panes that walks a student through a lesson.

It shows the lesson's question, the student's variant, the steps with their
marks, the current step's text and checks, and the points so far. Choosing a
step opens its program in the window's panes under the step's techniques
(through `open_program`); a `predict` step opens them only once its
predictions are checked, and those then stay as given. Every checked answer
and every hint is written to the progress database at once, so a crash loses
nothing, and reopening a lesson puts the student's latest answers back.
"""

from __future__ import annotations

import posixpath
from html import escape

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
)

from vizvm.lessons import variants
from vizvm.lessons.checks import CheckError, Verdict
from vizvm.lessons.markdown_check import render_html
from vizvm.lessons.model import Lesson, Pack, Step
from vizvm.session.host_result import HostResult
from vizvm.session.views import Frame
from vizvm.ui import lesson_jobs, lesson_layout
from vizvm.ui.lesson_checks import RIGHT, WRONG, CheckCard, hints_html
from vizvm.ui.lesson_packs import PackShelf
from vizvm.ui.lesson_programs import OpenRequest, StepProgramError, step_request
from vizvm.ui.lesson_record import Record
from vizvm.ui.lesson_view import without_images
from vizvm.ui.lesson_work import Worker
from vizvm.ui.theme import DEFAULT_THEME, THEMES, Theme

MARKS = {"done": RIGHT, "wrong": WRONG, "partly": "◐", "todo": "○", "read": "·"}


class LessonPanel(PackShelf, QDockWidget):
    open_program = Signal(object)  # an OpenRequest, for MainWindow.open

    def __init__(self, settings: QSettings) -> None:
        super().__init__("Lessons")
        self.setObjectName("lessons")
        self.setAllowedAreas(Qt.DockWidgetArea.RightDockWidgetArea
                             | Qt.DockWidgetArea.LeftDockWidgetArea)
        self.settings = settings
        self.record = Record()
        self.worker = Worker(self)
        self.worker.finished.connect(self._finished)
        self.theme: Theme = THEMES[DEFAULT_THEME]
        self.scale = 1.0
        self.pack: Pack | None = None
        self.lesson: Lesson | None = None
        self.step_index = -1
        self.values: dict[str, int] = {}
        self.seed = 0
        self.cards: dict[str, CheckCard] = {}
        self.opened: OpenRequest | None = None  # what the panes show for the current step
        self.ran: set[tuple[str, str, str]] = set()  # (pack, lesson, step) run in the panes
        self.step_hints = 0
        self.hosts: dict[tuple, tuple[Lesson, HostResult]] = {}  # host runs done
        self.loaded = False
        self._styled: tuple[Theme, float, float] | None = None
        self.loading = 0  # packs still being read
        self.last = ""  # the lesson open when the window last closed
        lesson_layout.build(self)
        self._show_student()
        self.hide()
        self.visibilityChanged.connect(lambda shown: shown and self.load_packs())

    # the student ------------------------------------------------------------------------
    @property
    def student(self) -> str:
        return str(self.settings.value("lessons/student", "")).strip()

    def set_student(self, name: str) -> None:
        self.settings.setValue("lessons/student", name.strip())
        self._show_student()
        if self.pack is not None and self.lesson is not None:
            self.show_lesson(self.pack, self.lesson.id)

    def _show_student(self) -> None:
        named = bool(self.student)
        self.student_label.setText(f"Student: <b>{escape(self.student)}</b>" if named else
                                   "Your name (it picks your variant and keeps your progress):")
        self.student_edit.setVisible(not named)
        self.student_button.setText("Change name…" if named else "OK")
        self.body.setEnabled(named)

    def _student_button(self) -> None:
        if self.student_edit.isVisible():
            self._name_given()
        else:
            self.student_edit.setText(self.student)
            self.student_edit.setVisible(True)
            self.student_button.setText("OK")
            self.student_edit.setFocus()

    def _name_given(self) -> None:
        if self.student_edit.text().strip():
            self.set_student(self.student_edit.text())

    # a lesson ---------------------------------------------------------------------------
    def show_lesson(self, pack: Pack, lesson_id: str) -> None:
        self.pack, self.lesson = pack, pack.lesson(lesson_id)
        lesson = self.lesson
        self.settings.setValue("lessons/last", f"{pack.id}/{lesson.id}")
        self.seed = variants.seed_for(self.student, pack.id, lesson.id)
        self.values = variants.draw(lesson.params, self.seed)
        self.title.setText(lesson.title)
        self.question.setText(f"<i>{escape(lesson.question)}</i>")
        shown = ", ".join(f"{name} = {value}" for name, value in self.values.items())
        self.variant.setText(f"Your variant: {shown} (seed {self.seed})" if shown else "")
        self.variant.setVisible(bool(shown))
        self.record.load(self.student, pack, lesson)
        self.steps.blockSignals(True)
        self.steps.clear()
        for step in lesson.steps:
            self.steps.addItem(step.title)
        self.steps.blockSignals(False)
        self._marks()
        remembered = int(self.settings.value(f"lessons/step/{pack.id}/{lesson.id}", 0))
        self.step_index = -1
        self.steps.setCurrentRow(min(max(remembered, 0), len(lesson.steps) - 1))

    @property
    def step(self) -> Step | None:
        if self.lesson is None or not 0 <= self.step_index < len(self.lesson.steps):
            return None
        return self.lesson.steps[self.step_index]

    def go(self, delta: int) -> None:
        if self.lesson is not None:
            row = self.step_index + delta
            if 0 <= row < len(self.lesson.steps):
                self.steps.setCurrentRow(row)

    def show_step(self, index: int) -> None:
        if self.lesson is None or self.pack is None or not 0 <= index < len(self.lesson.steps):
            return
        self.step_index = index
        step = self.lesson.steps[index]
        self.steps.scrollToItem(self.steps.item(index))
        self.settings.setValue(f"lessons/step/{self.pack.id}/{self.lesson.id}", index)
        self.step_title.setText(f"Step {index + 1} of {len(self.lesson.steps)}: {step.title}")
        self.note.setVisible(False)
        self.host.setVisible(step.host is not None)
        # a step with nothing to do but read gives the text all the room
        self.work.setVisible(bool(step.checks or step.hints or step.host
                                  or step.kind == "predict"))
        self._show_text(step)
        self._show_cards(step)
        self.record.step_opened(self.lesson, step)
        self._marks()
        self.step_hints = self.record.hints_seen(self.lesson, _step_hint_id(step))
        self._show_step_hints(step)
        self.previous.setEnabled(index > 0)
        self.next.setEnabled(index < len(self.lesson.steps) - 1)
        self.opened = None
        if step.kind == "predict" and not self._predicted(step):
            self.host.setVisible(False)  # nothing of the run shows before the predictions
            what = "the host runs" if step.host is not None else "the program opens in the panes"
            self._say(f"Predict first: check your answers, and {what} to see whether you "
                      "were right.")
        else:
            self._start(step)

    def _start(self, step: Step) -> None:
        """What the step runs: its host (results in the panel) or its program (the panes)."""
        if step.host is not None:
            self.host.setVisible(True)
            self._run_host(step)
        else:
            self._open(step)

    def _show_text(self, step: Step) -> None:
        assert self.pack is not None
        folder = posixpath.dirname(step.markdown_where.file)
        self.text.show_markdown(self._html(step.markdown), self.pack.files, folder)

    def _show_cards(self, step: Step) -> None:
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        assert self.lesson is not None and self.pack is not None
        ran = (self.pack.id, self.lesson.id, step.id) in self.ran
        for check in step.checks:
            choices = [self._html(c.text) for c in check.choices]
            card = CheckCard(check, without_images(self._html(check.prompt)), choices,
                             [variants.substitute(h, self.values) for h in check.hints])
            card.submitted.connect(self.submit)
            card.hint_asked.connect(self.next_check_hint)
            attempt = self.record.answers.get(check.id)
            if attempt is not None:
                card.set_answer(attempt.answer)
                card.show_verdict(attempt.correct, attempt.points, "your answer from before")
            if check.kind == "events" and check.technique:
                card.set_ran(ran or (attempt is not None and attempt.answer == "ran"))
            card.show_hint(self.record.hints_seen(self.lesson, check.id))
            card.lock(step.kind == "predict" and attempt is not None)
            card.set_style(self.theme, self.scale)
            self.cards_layout.addWidget(card)
            self.cards[check.id] = card

    def _html(self, markdown: str) -> str:
        return render_html(variants.substitute(markdown, self.values))

    def _predicted(self, step: Step) -> bool:
        return all(c.id in self.record.answers for c in step.checks)

    def _open(self, step: Step) -> None:
        assert self.lesson is not None
        try:
            request = step_request(self.lesson, step, self.values)
        except StepProgramError as exc:
            self._say(f"{WRONG} {exc}")
            return
        if request is not None:
            self.opened = request
            self.open_program.emit(request)

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.setVisible(True)
        self.work.setVisible(True)

    # checking ---------------------------------------------------------------------------
    def submit(self, check_id: str, answer: str) -> None:
        """Judge an answer off the UI thread: a computed answer runs the guest."""
        step, lesson, pack = self.step, self.lesson, self.pack
        if step is None or lesson is None or pack is None:
            return
        card = self.cards.get(check_id)
        if card is not None:
            card.set_checking()
        key = ("check", pack, lesson, step, check_id, answer, self.student, self.seed)
        self.worker.submit(key, lesson_jobs.judge, pack.content_hash, lesson, step.id,
                           check_id, answer, dict(self.values))

    def _finished(self, key: tuple, result: object) -> None:
        if key[0] == "load":
            self._pack_loaded(key[1], key[2], result)
            return
        if key[0] == "host":
            self._host_finished(key, result)
            return
        _, pack, lesson, step, check_id, answer, student, seed = key
        current = self.lesson is lesson and self.step is step
        card = self.cards.get(check_id) if current else None
        if isinstance(result, Verdict):
            self.record.answer(student, pack, lesson, check_id, answer, result, seed)
            if card is not None:
                card.show_verdict(result.correct, result.points, escape(result.feedback))
                card.lock(step.kind == "predict")
            self._marks()
            if current and step.kind == "predict" and self._predicted(step):
                self._say("Your predictions are in: now run the program in the panes."
                          if step.host is None else "Your predictions are in: the host runs.")
                self._start(step)
        elif card is not None:
            why = ("this check cannot be judged (the lesson's fault, not yours)"
                   if isinstance(result, CheckError) else "checking failed")
            card.show_message(f"⚠ <b>{why}:</b> {escape(str(result))}", False)
            card.lock(False)

    def frame(self, frame: Frame) -> None:
        """A frame the window drew: a run or step of this step's program counts as run."""
        request, step = self.opened, self.step
        if request is None or step is None or not frame.panes or self.lesson is None:
            return
        panes = frame.panes
        if (tuple(p.technique for p in panes) != request.techniques
                or panes[0].program not in (request.program, request.port)
                or not any(p.icount > 0 for p in panes)):
            return
        assert self.pack is not None
        self.ran.add((self.pack.id, self.lesson.id, step.id))
        for card in self.cards.values():
            if card.check.kind == "events" and card.check.technique and not card.ran:
                card.set_ran(True)

    # hints ------------------------------------------------------------------------------
    def next_step_hint(self) -> None:
        step = self.step
        if step is None or self.lesson is None or self.step_hints >= len(step.hints):
            return
        self.step_hints += 1
        self.record.hint(self.lesson, _step_hint_id(step))
        self._show_step_hints(step)

    def _show_step_hints(self, step: Step) -> None:
        shown = step.hints[:self.step_hints]
        self.hint_text.setText(hints_html([variants.substitute(h, self.values) for h in shown]))
        self.hint_text.setVisible(bool(shown))
        self.hint_button.setVisible(bool(step.hints))
        self.hint_button.setEnabled(self.step_hints < len(step.hints))
        left = len(step.hints) - self.step_hints
        self.hint_button.setText(f"Hint ({left} left)" if left else "No more hints")

    def next_check_hint(self, check_id: str) -> None:
        card = self.cards.get(check_id)
        if card is None or self.lesson is None or card.hints_shown >= len(card.check.hints):
            return
        self.record.hint(self.lesson, check_id)
        card.show_hint(card.hints_shown + 1)

    # hosts ------------------------------------------------------------------------------
    def _run_host(self, step: Step) -> None:
        assert self.lesson is not None
        lesson, values = self.lesson, dict(self.values)
        cached = self.hosts.get(_host_key(lesson, step, values))
        if cached is not None and cached[0] is lesson:  # the same every time: run it once
            self.host.show_result(cached[1])
            return
        self.host.show_running(step)
        assert self.pack is not None
        self.worker.submit(("host", lesson, step, values), lesson_jobs.run_host,
                           self.pack.content_hash, lesson, step.id, values)

    def _host_finished(self, key: tuple, result: object) -> None:
        _, lesson, step, values = key
        if isinstance(result, HostResult):
            self.hosts[_host_key(lesson, step, values)] = (lesson, result)
        if self.lesson is not lesson or self.step is not step:
            return
        if isinstance(result, Exception):
            self.host.show_error(str(result))
        else:
            self.host.show_result(result)

    # progress ---------------------------------------------------------------------------
    def _marks(self) -> None:
        lesson, pack = self.lesson, self.pack
        if lesson is None or pack is None:
            return
        if self.record.problem:  # the progress database could not be used: say so, once
            self._say(f"⚠ {escape(self.record.problem)}")
            self.record.problem = ""
        for row, step in enumerate(lesson.steps):
            item = self.steps.item(row)
            if item is not None:
                mark = MARKS[self.record.step_state(step)]
                item.setText(f"{mark} {row + 1}. {step.title}")
                item.setToolTip({"done": "done: every check right", "wrong": "some answers "
                                 "are not right yet", "partly": "some checks answered",
                                 "todo": "not answered yet", "read": "a step to read"}[
                                     self.record.step_state(step)])
        points, possible = self.record.lesson_score(lesson)
        _bar(self.lesson_bar, self.lesson_points, "This lesson", points, possible)
        points, possible = self.record.pack_score(self.student, pack)
        _bar(self.pack_bar, self.pack_points, "The pack", points, possible)

    # looks ------------------------------------------------------------------------------
    def set_style(self, theme: Theme, point_size: float, scale: float) -> None:
        """Follow the window: its theme's colours, presentation mode's sizes."""
        if (theme, point_size, scale) == self._styled:
            return  # opening panes restyles the window: nothing changed here
        self._styled = (theme, point_size, scale)
        self.theme, self.scale = theme, scale
        lesson_layout.style(self, theme, point_size, scale)
        for card in self.cards.values():
            card.set_style(theme, scale)
        window = self.parent()
        wanted = int(480 * scale)
        if isinstance(window, QMainWindow) and self.isVisible() and self.width() < wanted:
            window.resizeDocks([self], [wanted], Qt.Orientation.Horizontal)
        step = self.step
        if step is not None:
            self._show_text(step)  # the style sheet applies to HTML set after it

    def close_work(self) -> None:
        """Let a running check end before the window goes (its result is recorded)."""
        self.worker.wait()


def _bar(bar: QProgressBar, label: QLabel, what: str, points: int, possible: int) -> None:
    bar.setRange(0, max(possible, 1))
    bar.setValue(min(points, max(possible, 1)))
    text = f"{what}: {points} of {possible} points"
    bar.setFormat(text)
    bar.setAccessibleName(text)
    label.setText(text)


def _host_key(lesson: Lesson, step: Step, values: dict[str, int]) -> tuple:
    return (id(lesson), step.id, tuple(sorted(values.items())))


def _step_hint_id(step: Step) -> str:
    return f"step:{step.id}"  # step hints share the hints table with checks' hints
