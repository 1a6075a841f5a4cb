"""One check of a step as a card: its prompt, the answer widget its kind asks for,
a Check button, the feedback and its hints.

The answer travels as text in the forms `vizvm.lessons.checks.evaluate` reads:
"yes"/"no" for a trap, chosen indices ("0" or "0,2") for a choice, what was
typed for numbers, registers, memory, text and serial, "ran" for a run gate,
a technique's name for "under which technique...".
"""

from __future__ import annotations

import re
from html import escape, unescape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from vizvm.lessons.model import TECHNIQUES, Check
from vizvm.ui.theme import Theme

TYPED = {"number": "a number: 42, 0x2a or 0b101010", "register": "the register's value",
         "memory": "the value in memory", "text": "your answer", "serial": "the serial output"}
RIGHT, WRONG = "✔", "✘"
_TAG = re.compile(r"<[^>]+>")


class CheckCard(QFrame):
    submitted = Signal(str, str)  # check id, answer
    hint_asked = Signal(str)  # check id

    def __init__(self, check: Check, prompt_html: str, choices_html: list[str],
                 hints: list[str] | None = None) -> None:
        super().__init__()
        self.check = check
        self.hint_texts = list(check.hints) if hints is None else hints  # values substituted
        self.setObjectName(f"check-{check.id}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.locked = False
        self.ran = False
        self.prompt = QLabel(prompt_html)
        self.prompt.setTextFormat(Qt.TextFormat.RichText)
        self.prompt.setWordWrap(True)
        self.prompt.setOpenExternalLinks(False)
        self.points = QLabel(f"{check.points} point{'s' if check.points != 1 else ''}")
        self.buttons: list[QAbstractButton] = []
        self.choice_texts: list[QLabel] = []
        self.group: QButtonGroup | None = None
        self.edit: QLineEdit | None = None
        self.picker: QComboBox | None = None
        self.gate: QLabel | None = None
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Check this answer (Enter, anywhere in this question)")
        self.check_button.clicked.connect(self.submit)
        self.hint_button = QPushButton("Hint")
        self.hint_button.setVisible(bool(check.hints))
        self.hint_button.clicked.connect(lambda: self.hint_asked.emit(self.check.id))
        self.feedback = QLabel("")
        self.feedback.setWordWrap(True)
        self.feedback.setTextFormat(Qt.TextFormat.RichText)
        self.feedback.setVisible(False)
        self.hints = QLabel("")
        self.hints.setTextFormat(Qt.TextFormat.RichText)
        self.hints.setWordWrap(True)
        self.hints.setVisible(False)
        self.hints_shown = 0

        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(self.prompt, 1)
        head.addWidget(self.points, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)
        layout.addWidget(self._answer_widget(choices_html))
        row = QHBoxLayout()
        row.addWidget(self.check_button)
        row.addWidget(self.hint_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.feedback)
        layout.addWidget(self.hints)
        # keyboard: Enter anywhere in the card checks it (a radio button, a field)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.submit)

    def _answer_widget(self, choices_html: list[str]) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        kind = self.check.kind
        if kind in {"trap", "choice"}:
            labels = ["Yes, it traps", "No, it runs directly"] if kind == "trap" else choices_html
            many = kind == "choice" and self.check.multiple
            self.group = QButtonGroup(box)
            self.group.setExclusive(not many)
            for index, label in enumerate(labels):
                # the text beside the button, wrapped: a button's own text never wraps
                button: QAbstractButton = QCheckBox() if many else QRadioButton()
                button.setAccessibleName(_plain(label))
                text = _ChoiceText(_plain(label), button)
                self.group.addButton(button, index)
                self.buttons.append(button)
                self.choice_texts.append(text)
                row = QHBoxLayout()
                row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
                row.addWidget(text, 1)
                layout.addLayout(row)
        elif kind == "events" and self.check.technique:
            self.gate = QLabel("")
            layout.addWidget(self.gate)
            self.set_ran(False)
        elif kind == "events":
            self.picker = QComboBox()
            self.picker.addItem("choose a technique…", "")
            for name in TECHNIQUES:
                self.picker.addItem(name, name)
            layout.addWidget(self.picker)
        else:
            self.edit = QLineEdit()
            self.edit.setPlaceholderText(TYPED.get(kind, "your answer"))
            self.edit.returnPressed.connect(self.submit)  # a second submit is ignored
            layout.addWidget(self.edit)
        return box

    # the answer -----------------------------------------------------------------------
    def answer(self) -> str:
        """The answer as evaluate reads it; "" when nothing is given yet."""
        if self.group is not None:
            chosen = [i for i, b in enumerate(self.buttons) if b.isChecked()]
            if self.check.kind == "trap":
                return {0: "yes", 1: "no"}.get(chosen[0], "") if chosen else ""
            return ",".join(str(i) for i in chosen)
        if self.edit is not None:
            return self.edit.text().strip()
        if self.picker is not None:
            return str(self.picker.currentData() or "")
        return "ran" if self.ran else ""

    def set_answer(self, answer: str) -> None:
        """Put back an answer given earlier (reopening the lesson)."""
        if self.group is not None:
            indices = ({"yes": [0], "no": [1]}.get(answer, []) if self.check.kind == "trap"
                       else [int(p) for p in answer.split(",") if p.strip().isdigit()])
            for index, button in enumerate(self.buttons):
                button.setChecked(index in indices)
        elif self.edit is not None:
            self.edit.setText(answer)
        elif self.picker is not None:
            self.picker.setCurrentIndex(max(0, self.picker.findData(answer)))
        elif answer == "ran":
            self.set_ran(True)

    def set_ran(self, ran: bool) -> None:
        self.ran = ran
        if self.gate is not None:
            self.gate.setText(f"{RIGHT} You ran it: check it." if ran else
                              f"Run or step the program in the panes (under "
                              f"{self.check.technique}), then check.")
        self._enable()

    def submit(self) -> None:
        answer = self.answer()
        if self.locked or not self.check_button.isEnabled():
            return
        if not answer:
            self.show_message(f"{WRONG} Give an answer first.", None)
            return
        self.submitted.emit(self.check.id, answer)

    # what came back --------------------------------------------------------------------
    def set_checking(self) -> None:
        self.check_button.setEnabled(False)
        self.show_message("checking…", None)

    def show_verdict(self, correct: bool, points: int, feedback_html: str) -> None:
        mark = RIGHT if correct else WRONG
        plural = "s" if self.check.points != 1 else ""
        head = f"{mark} {points} of {self.check.points} point{plural}"
        self.show_message(f"<b>{head}</b> · {feedback_html}", correct)
        self._enable()

    def show_message(self, html: str, correct: bool | None) -> None:
        self.feedback.setText(html)
        self.feedback.setProperty("verdict", {True: "right", False: "wrong"}.get(correct, ""))
        self.feedback.setVisible(True)
        self._style_feedback()

    def show_hint(self, number: int) -> bool:
        """Show hints up to `number`; False when there are no more."""
        hints = self.hint_texts[:number]
        self.hints_shown = len(hints)
        self.hints.setText(hints_html(hints))
        self.hints.setVisible(bool(hints))
        self.hint_button.setEnabled(self.hints_shown < len(self.hint_texts))
        return number <= len(self.hint_texts)

    def lock(self, locked: bool) -> None:
        """A prediction, once checked, stays as it was."""
        self.locked = locked
        self._enable()

    def _enable(self) -> None:
        free = not self.locked
        for button in self.buttons:
            button.setEnabled(free)
        for text in self.choice_texts:
            text.setEnabled(free)
        for widget in (self.edit, self.picker):
            if widget is not None:
                widget.setEnabled(free)
        gated = self.gate is not None and not self.ran
        self.check_button.setEnabled(free and not gated)

    # looks ------------------------------------------------------------------------------
    def set_style(self, theme: Theme, scale: float) -> None:
        self.theme, self.scale = theme, scale
        self.setStyleSheet(f"#check-{self.check.id} {{ background: {theme.surface};"
                           f" border: 1px solid {theme.grid}; }}"
                           f" QLineEdit {{ border: 1px solid {theme.muted};"
                           f" padding: {int(2 * scale)}px; }}")  # seen in every theme
        self.points.setStyleSheet(f"color: {theme.muted};")
        self.hints.setStyleSheet(f"color: {theme.foreground}; background: {theme.background};"
                                 f" padding: {int(4 * scale)}px;")
        self._style_feedback()

    def _style_feedback(self) -> None:
        theme = getattr(self, "theme", None)
        if theme is None:
            return
        verdict = self.feedback.property("verdict")
        colour = {"right": verdict_colour(theme, True),
                  "wrong": verdict_colour(theme, False)}.get(verdict, theme.muted)
        self.feedback.setStyleSheet(
            f"color: {theme.foreground}; border: 0px;"
            f" border-left: {int(6 * self.scale)}px solid {colour};"
            f" padding-left: {int(6 * self.scale)}px;")


class _ChoiceText(QLabel):
    """A choice's words: a click on them is a click on their button."""

    def __init__(self, text: str, button: QAbstractButton) -> None:
        super().__init__(text)
        self.button = button
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setBuddy(button)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.button.isEnabled():
            self.button.click()
        super().mouseReleaseEvent(event)


def hints_html(hints: list[str]) -> str:
    return "<br>".join(f"<b>Hint {i + 1}:</b> {escape(h)}" for i, h in enumerate(hints))


def verdict_colour(theme: Theme, correct: bool) -> str:
    """A bar beside the text (never the text's own colour: it must stay legible)."""
    if theme.name == "high-contrast":
        return "#00ff00" if correct else "#ff4040"
    return "#009E73" if correct else "#D55E00"


def _plain(html: str) -> str:
    """A radio button's text: the choice's Markdown without its tags."""
    return unescape(_TAG.sub("", html)).strip()
