"""Starting the window."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from vizvm.ui.main_window import MainWindow

DEMO = "holes"


def main(program: str | None = None, techniques: tuple[str, ...] | None = None, *,
         lesson: str | None = None, pack: str | None = None) -> int:
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("vizvm")
    app.setOrganizationName("vizvm")
    window = MainWindow(QSettings("vizvm", "vizvm"))
    window.show()
    window.open(program or DEMO, techniques)
    window.shown_after = time.perf_counter() - started
    if pack or lesson:
        open_lesson(window, lesson, pack)
    for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl+C or kill: close as by the user
        signal.signal(number, lambda *_: QTimer.singleShot(0, window.close))
    wake = QTimer()  # Python handles signals only when it runs: let it, now and then
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return app.exec()


def open_lesson(window: MainWindow, lesson: str | None, pack: str | None) -> None:
    """`vizvm window --lesson PACK/LESSON [--pack PATH]`: the lesson beside the panes, for a
    class that starts from a command. Packs load in the panel's worker, so the lesson is
    chosen once its pack is in."""
    panel = window.lessons
    if lesson:
        panel.settings.setValue("lessons/last", lesson)
    if pack:
        panel.open_pack(Path(pack))
    else:
        panel.show()
    if not lesson:
        return
    pack_id, _, lesson_id = lesson.partition("/")
    deadline = time.monotonic() + 30
    timer = QTimer(window)

    def choose() -> None:
        if panel.chooser.select(pack_id, lesson_id) or time.monotonic() > deadline:
            timer.stop()

    timer.timeout.connect(choose)
    timer.start(100)
