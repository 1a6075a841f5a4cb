"""Starting the window."""

from __future__ import annotations

import signal
import sys
import time

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from vizvm.ui.main_window import MainWindow

DEMO = "holes"


def main(program: str | None = None, techniques: tuple[str, ...] | None = None) -> int:
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("vizvm")
    app.setOrganizationName("vizvm")
    window = MainWindow(QSettings("vizvm", "vizvm"))
    window.show()
    window.open(program or DEMO, techniques)
    window.shown_after = time.perf_counter() - started
    for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl+C or kill: close as by the user
        signal.signal(number, lambda *_: QTimer.singleShot(0, window.close))
    wake = QTimer()  # Python handles signals only when it runs: let it, now and then
    wake.timeout.connect(lambda: None)
    wake.start(200)
    return app.exec()
