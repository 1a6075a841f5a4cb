"""Qt seen from the inside, for `vizvm doctor` and `vizvm self-test`.

The only Qt code the diagnostic commands need, kept here because only the window's
layer may import Qt. `qt_report` is meant to run in a child process (doctor starts
one with a timeout): a Qt that cannot reach its display aborts the whole process.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import PySide6
from PySide6.QtCore import QSettings, qVersion
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext
from PySide6.QtWidgets import QApplication

GL_VENDOR, GL_RENDERER, GL_VERSION = 0x1F00, 0x1F01, 0x1F02


def qt_report() -> dict[str, object]:
    """Start a QGuiApplication; the platform plugin Qt chose, its screens, and OpenGL."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    screens = [s.size() for s in app.screens()]
    return {
        "platform": app.platformName(),
        "qt": qVersion(),
        "pyside6": PySide6.__version__,
        "screens": [f"{s.width()}x{s.height()}" for s in screens],
        "opengl": _opengl(),
    }


def _opengl() -> dict[str, object]:
    context = QOpenGLContext()
    if not context.create():
        return {"available": False, "reason": "Qt could not create an OpenGL context"}
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    if not surface.isValid() or not context.makeCurrent(surface):
        return {"available": False, "reason": "an OpenGL context exists but cannot be used"}
    try:
        gl = context.functions()
        found = {name: gl.glGetString(code) for name, code in
                 (("vendor", GL_VENDOR), ("renderer", GL_RENDERER), ("version", GL_VERSION))}
    finally:
        context.doneCurrent()
    return {"available": True, **{k: str(v) if v is not None else None for k, v in found.items()}}


def first_frame(program: str, timeout: float = 60) -> dict[str, object]:
    """Open the real window on `program`, wait for its first complete frame, close it.

    With a settings file of its own, so a self-test never changes the user's layout.
    Raises TimeoutError when no frame comes.
    """
    started = time.monotonic()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from vizvm.ui.main_window import MainWindow  # after the application exists

    with tempfile.TemporaryDirectory(prefix="vizvm-selftest-") as home:
        settings = QSettings(str(Path(home) / "vizvm.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        try:
            window.show()
            window.open(program)
            while True:
                app.processEvents()
                window.poll()
                frame = window.last_frame
                if frame is not None and not frame.running and frame.panes:
                    break
                if time.monotonic() - started > timeout:
                    raise TimeoutError(f"no frame of {program} within {timeout:.0f} s")
                time.sleep(0.02)
            return {
                "platform": QGuiApplication.platformName(),
                "program": program,
                "panes": [pane.technique for pane in frame.panes],
                "seconds": round(time.monotonic() - started, 2),
            }
        finally:
            window.close()
            app.processEvents()
