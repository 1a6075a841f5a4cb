"""Starting the window."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QSettings
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
    return app.exec()
