"""Which pack and which lesson: the built-in packs, and any opened from a folder or .zip.

A pack that fails to load shows its problems here, each as "file:line:
message", and the packs already open stay usable: a bad pack never ends
in a dialog or a traceback.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from vizvm.lessons.model import Pack


class PackChooser(QWidget):
    lesson_chosen = Signal(object, str)  # the Pack, a lesson id

    def __init__(self) -> None:
        super().__init__()
        self.packs: list[Pack] = []
        self.pack_box = QComboBox()
        self.pack_box.setToolTip("The lesson pack: built-in, or opened with File ▸ Open lesson "
                                 "pack…")
        self.lesson_box = QComboBox()
        self.lesson_box.setToolTip("The lesson, in teaching order")
        self.problems_title = QLabel("")
        self.problems = QPlainTextEdit()
        self.problems.setReadOnly(True)
        self.problems.setObjectName("pack-problems")
        self.problems.setMaximumHeight(160)
        for widget in (self.problems_title, self.problems):
            widget.setVisible(False)
        self.loading = QLabel("⏳ Loading lesson packs…")
        self.loading.setVisible(False)
        form = QFormLayout()
        form.addRow("&Pack", self.pack_box)
        form.addRow("L&esson", self.lesson_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loading)
        layout.addLayout(form)
        layout.addWidget(self.problems_title)
        layout.addWidget(self.problems)
        self.pack_box.currentIndexChanged.connect(self._pack_changed)
        self.lesson_box.currentIndexChanged.connect(self._lesson_changed)

    @property
    def pack(self) -> Pack | None:
        index = self.pack_box.currentIndex()
        return self.packs[index] if 0 <= index < len(self.packs) else None

    def add(self, pack: Pack, *, select: bool = True) -> Pack:
        for index, known in enumerate(self.packs):
            if known.origin == pack.origin or known.id == pack.id:  # reopened: the new copy
                self.packs[index] = pack
                self.pack_box.setItemText(index, _label(pack))
                if select:
                    self._fill_lessons(pack)
                    self.pack_box.setCurrentIndex(index)
                return pack
        self.packs.append(pack)
        self.pack_box.addItem(_label(pack))
        if select:
            self.pack_box.setCurrentIndex(len(self.packs) - 1)
        return pack

    def show_problems(self, path: Path, problems: list[str]) -> None:
        shown = bool(problems)
        self.problems_title.setText(f"⚠ The pack {path.name} could not be opened "
                                    f"({len(problems)} problem{'s' if len(problems) != 1 else ''}):"
                                    if shown else "")
        self.problems.setPlainText("\n".join(problems))
        self.problems_title.setVisible(shown)
        self.problems.setVisible(shown)

    def select(self, pack_id: str, lesson_id: str) -> bool:
        """Show this lesson (one lesson_chosen); False if no open pack has it."""
        for index, pack in enumerate(self.packs):
            ids = [lesson.id for lesson in pack.lessons]
            if pack.id == pack_id and lesson_id in ids:
                self.blockSignals(True)  # the combo boxes' changes announce nothing
                self.pack_box.setCurrentIndex(index)
                self._fill_lessons(pack)
                self.lesson_box.setCurrentIndex(ids.index(lesson_id))
                self.blockSignals(False)
                self.lesson_chosen.emit(pack, lesson_id)
                return True
        return False

    def _pack_changed(self, _index: int) -> None:
        pack = self.pack
        if pack is not None:
            self._fill_lessons(pack)

    def _fill_lessons(self, pack: Pack) -> None:
        self.lesson_box.blockSignals(True)
        self.lesson_box.clear()
        for number, lesson in enumerate(pack.lessons, 1):
            self.lesson_box.addItem(f"{number}. {lesson.title} ({lesson.minutes} min)")
        self.lesson_box.setCurrentIndex(-1)
        self.lesson_box.blockSignals(False)
        if pack.lessons:
            self.lesson_box.setCurrentIndex(0)

    def _lesson_changed(self, index: int) -> None:
        pack = self.pack
        if pack is not None and 0 <= index < len(pack.lessons):
            self.lesson_chosen.emit(pack, pack.lessons[index].id)


def _label(pack: Pack) -> str:
    return f"{pack.title} ({pack.version})"
