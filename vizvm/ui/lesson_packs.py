"""Where the lesson panel's packs come from and its submissions go: the built-in
packs and those opened before, read in the worker process when the panel first
shows; File ▸ Open lesson pack… for a folder or .zip; File ▸ Export submission….
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMainWindow

from vizvm.lessons.builtin import builtin_pack_dirs
from vizvm.lessons.bundle import SUFFIX
from vizvm.lessons.model import Lesson, Pack
from vizvm.ui import lesson_jobs
from vizvm.ui.lesson_checks import RIGHT, WRONG
from vizvm.ui.lesson_record import TROUBLE, Record

if TYPE_CHECKING:
    from vizvm.ui.lesson_chooser import PackChooser
    from vizvm.ui.lesson_work import Worker


class PackShelf:
    """The packs part of LessonPanel (a mixin: it uses the panel's widgets and worker)."""

    settings: QSettings
    worker: Worker
    chooser: PackChooser
    record: Record
    pack: Pack | None
    lesson: Lesson | None
    scale: float
    loaded: bool
    loading: int  # packs still being read
    last: str  # the lesson open when the window last closed

    def load_packs(self) -> None:
        """The built-in packs and those opened before; once, when the panel first shows."""
        if self.loaded:
            return
        self.loaded = True
        window = self.parent()
        if isinstance(window, QMainWindow) and not self.settings.contains("lessons/sized"):
            # the first time: wide enough to read; later, as the student left it
            self.settings.setValue("lessons/sized", True)
            window.resizeDocks([self], [int(520 * self.scale)], Qt.Orientation.Horizontal)
        self.last = str(self.settings.value("lessons/last", ""))
        opened = [Path(p) for p in _strings(self.settings.value("lessons/opened", []))]
        paths = [p for p in [*builtin_pack_dirs(), *opened] if p.exists()]
        self.loading = len(paths)
        self.chooser.loading.setVisible(bool(paths))
        for path in paths:  # read in the worker: a big pack takes most of a second
            self.worker.submit(("load", path, False), lesson_jobs.load, str(path))

    def open_pack(self, path: Path) -> None:
        """Open a pack folder (or its pack.toml) or .zip, and show its first lesson."""
        self.show()
        self.load_packs()
        if path.name == "pack.toml":
            path = path.parent
        self.worker.submit(("load", path, True), lesson_jobs.load, str(path))

    def _pack_loaded(self, path: Path, chosen: bool, result: object) -> None:
        if isinstance(result, Pack):
            self.chooser.blockSignals(not chosen)  # a pack loaded at start shows nothing
            self.chooser.add(result, select=chosen)
            self.chooser.blockSignals(False)
            if chosen:
                self.chooser.show_problems(path, [])
                opened = _strings(self.settings.value("lessons/opened", []))
                if str(path) not in opened:
                    self.settings.setValue("lessons/opened", [*opened, str(path)])
        else:
            problems = (list(result.problems) if isinstance(result, lesson_jobs.Unloadable)
                        else [f"{path}: {result}"])
            self.chooser.show_problems(path, problems)
        if not chosen:
            self.loading -= 1
            if self.loading == 0:
                self.chooser.loading.setVisible(False)
                self._show_last()

    def _show_last(self) -> None:
        """The lesson the student had open last time, else the first there is."""
        if self.lesson is not None:
            return
        pack_id, _, lesson_id = self.last.partition("/")
        if not self.chooser.select(pack_id, lesson_id):
            first = next((p for p in self.chooser.packs if p.lessons), None)
            if first is not None:
                self.chooser.select(first.id, first.lessons[0].id)

    def choose_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a lesson pack", "", "Lesson packs (pack.toml *.zip);;All files (*)")
        if path:
            self.open_pack(Path(path))

    def export_submission(self) -> None:
        if self.pack is None or not self.student:
            self._say(f"{WRONG} Open a lesson and give your name first: there is nothing to "
                      "export yet.")
            return
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.student).strip("-.") or "student"
        path, _ = QFileDialog.getSaveFileName(self, "Export your submission",
                                              f"{name}-{self.pack.id}{SUFFIX}",
                                              f"Submissions (*{SUFFIX})")
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> Path | None:
        assert self.pack is not None
        try:
            written = self.record.export(self.student, self.pack, path)
        except (*TROUBLE, ValueError) as exc:
            self._say(f"{WRONG} The submission could not be written: {escape(str(exc))}")
            return None
        self._say(f"{RIGHT} Your submission is in {written}.")
        return written


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value] if isinstance(value, list | tuple) else []
