"""The lesson panel's widgets: what there is, where each goes, and how they look in
each theme and size. The panel (lesson_panel.py) holds what they do.

From the top: the pack and lesson, the student, the lesson's title, question
and variant, the points, then a splitter with the steps, the step's text, and
its work (a note, a host's result, the checks, the hints), and Previous/Next.
The whole panel scrolls rather than clip anything in presentation mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from vizvm.ui.lesson_chooser import PackChooser
from vizvm.ui.lesson_host import HostView
from vizvm.ui.lesson_view import StepText
from vizvm.ui.theme import Theme

if TYPE_CHECKING:
    from vizvm.ui.lesson_panel import LessonPanel


def build(panel: LessonPanel) -> None:
    panel.chooser = PackChooser()
    panel.chooser.lesson_chosen.connect(panel.show_lesson)
    panel.student_label = QLabel("")
    panel.student_edit = QLineEdit()
    panel.student_edit.setPlaceholderText("your name, as your instructor knows it")
    panel.student_edit.returnPressed.connect(panel._name_given)
    panel.student_button = QPushButton("")
    panel.student_button.clicked.connect(panel._student_button)
    panel.title = QLabel("")
    panel.question = QLabel("")
    panel.variant = QLabel("")
    for label in (panel.title, panel.question, panel.variant):
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # the points in words above a thin bar: text drawn over a bar's fill is
    # illegible in some themes and styles
    panel.lesson_bar, panel.pack_bar = QProgressBar(), QProgressBar()
    panel.lesson_points, panel.pack_points = QLabel(""), QLabel("")
    for bar in (panel.lesson_bar, panel.pack_bar):
        bar.setTextVisible(False)
    panel.steps = QListWidget()
    panel.steps.setObjectName("lesson-steps")
    panel.steps.currentRowChanged.connect(panel.show_step)
    panel.step_title = QLabel("")
    panel.step_title.setWordWrap(True)
    panel.text = StepText()
    panel.host = HostView()
    panel.host.setVisible(False)
    panel.note = QLabel("")  # what the step needs first, or what went wrong
    panel.note.setWordWrap(True)
    panel.note.setVisible(False)
    panel.hint_button = QPushButton("Hint")
    panel.hint_button.setShortcut(QKeySequence("Ctrl+H"))
    panel.hint_button.setToolTip("The step's next hint (Ctrl+H)")
    panel.hint_button.clicked.connect(panel.next_step_hint)
    panel.hint_text = QLabel("")
    panel.hint_text.setTextFormat(Qt.TextFormat.RichText)
    panel.hint_text.setWordWrap(True)
    panel.hint_text.setVisible(False)
    panel.previous = QPushButton("◀ Previous")
    panel.previous.setShortcut(QKeySequence("Alt+Left"))
    panel.previous.setToolTip("The previous step (Alt+Left)")
    panel.previous.clicked.connect(lambda: panel.go(-1))
    panel.next = QPushButton("Next ▶")
    panel.next.setShortcut(QKeySequence("Alt+Right"))
    panel.next.setToolTip("The next step (Alt+Right)")
    panel.next.clicked.connect(lambda: panel.go(1))

    panel.cards_box = QWidget()
    panel.cards_layout = QVBoxLayout(panel.cards_box)
    panel.cards_layout.setContentsMargins(0, 0, 0, 0)
    work = QWidget()
    work_layout = QVBoxLayout(work)
    work_layout.setContentsMargins(0, 0, 0, 0)
    for widget in (panel.note, panel.host, panel.cards_box):
        work_layout.addWidget(widget)
    hints = QHBoxLayout()
    hints.addWidget(panel.hint_button)
    hints.addStretch(1)
    work_layout.addLayout(hints)
    work_layout.addWidget(panel.hint_text)
    work_layout.addStretch(1)
    panel.work = QScrollArea()
    panel.work.setWidgetResizable(True)
    panel.work.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # wrap
    panel.work.setWidget(work)
    reading = QWidget()  # the step's title above its text
    reading_layout = QVBoxLayout(reading)
    reading_layout.setContentsMargins(0, 0, 0, 0)
    reading_layout.addWidget(panel.step_title)
    reading_layout.addWidget(panel.text, 1)
    panel.split = QSplitter(Qt.Orientation.Vertical)
    for widget in (panel.steps, reading, panel.work):
        panel.split.addWidget(widget)
    panel.split.setSizes([110, 260, 420])
    state = panel.settings.value("lessons/split")
    if isinstance(state, QByteArray):
        panel.split.restoreState(state)
    panel.split.splitterMoved.connect(
        lambda *_: panel.settings.setValue("lessons/split", panel.split.saveState()))

    student = QHBoxLayout()
    student.addWidget(panel.student_label, 1)
    student.addWidget(panel.student_edit, 1)
    student.addWidget(panel.student_button)
    bars = QHBoxLayout()
    for bar, label in ((panel.lesson_bar, panel.lesson_points),
                       (panel.pack_bar, panel.pack_points)):
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(label)
        column.addWidget(bar)
        bars.addLayout(column)
    navigation = QHBoxLayout()
    navigation.addWidget(panel.previous)
    navigation.addStretch(1)
    navigation.addWidget(panel.next)
    panel.body = QWidget()  # what needs a name first
    body = QVBoxLayout(panel.body)
    body.setContentsMargins(0, 0, 0, 0)
    for widget in (panel.title, panel.question, panel.variant):
        body.addWidget(widget)
    body.addLayout(bars)
    body.addWidget(panel.split, 1)
    body.addLayout(navigation)
    root = QWidget()
    layout = QVBoxLayout(root)
    layout.addWidget(panel.chooser)
    layout.addLayout(student)
    layout.addWidget(panel.body, 1)
    # never clipped: on a short screen or in presentation mode the panel scrolls
    panel.outer = QScrollArea()
    panel.outer.setWidgetResizable(True)
    panel.outer.setFrameShape(QFrame.Shape.NoFrame)
    panel.outer.setWidget(root)
    panel.setWidget(panel.outer)
    panel._show_student()



def style(panel: LessonPanel, theme: Theme, point_size: float, scale: float) -> None:
    """Follow the window: its theme's colours, presentation mode's sizes."""
    font = QFont()
    font.setPointSizeF(point_size)
    panel.setFont(font)
    panel.outer.widget().setFont(font)
    panel.text.setFont(font)
    panel.text.document().setDefaultFont(font)
    panel.text.document().setDefaultStyleSheet(
        f"code, pre {{ font-family: monospace; background: {theme.background}; }}"
        f" a {{ color: {theme.accent}; }}")
    title = QFont(font)
    title.setPointSizeF(point_size * 1.35)
    title.setBold(True)
    panel.title.setFont(title)
    bold = QFont(font)
    bold.setBold(True)
    panel.step_title.setFont(bold)
    panel.variant.setStyleSheet(f"color: {theme.foreground}; background: {theme.surface};"
                                f" border: 1px solid {theme.grid}; padding: {int(3 * scale)}px;")
    panel.question.setStyleSheet(f"color: {theme.foreground};")
    panel.note.setStyleSheet(f"color: {theme.foreground}; border: 0px;"
                             f" border-left: {int(6 * scale)}px solid {theme.accent};"
                             f" padding-left: {int(6 * scale)}px;")
    panel.hint_text.setStyleSheet(f"color: {theme.foreground}; background: {theme.surface};"
                                  f" padding: {int(4 * scale)}px;")
    # the current step: the theme's accent behind text in the background's colour,
    # legible in every theme (white on sky blue was not)
    colours = panel.steps.palette()
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        colours.setColor(group, QPalette.ColorRole.Highlight, QColor(theme.accent))
        colours.setColor(group, QPalette.ColorRole.HighlightedText, QColor(theme.background))
    panel.steps.setPalette(colours)
    for bar in (panel.lesson_bar, panel.pack_bar):
        bar.setPalette(colours)
        bar.setFixedHeight(int(8 * scale))
    panel.host.set_style(theme, point_size, scale)
