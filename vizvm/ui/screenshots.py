"""Render the window's main views to PNG files: `vizvm screenshots [DIR]`.

The README's pictures come from this command, so they show what the code
really draws. It drives the real window and engine offscreen, with its own
settings file, and waits for each frame rather than for a fixed time.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from vizvm.asm.disasm import disassemble
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.session import commands as cmd
from vizvm.session.program import load
from vizvm.session.views import Frame
from vizvm.ui.main_window import MainWindow

SIZE = (1800, 1100)


def first(program: str, text: str) -> int:
    for insn in disassemble(load(program).image, LOAD_ADDRESS):
        if insn.text.startswith(text):
            return insn.address
    raise ValueError(f"{text} is not in {program}")


def settle(app: QApplication, window: MainWindow, done: Callable[[], bool],
           timeout: float = 60) -> None:
    """Let the engine and the window work until `done` (or the timeout)."""
    end = time.monotonic() + timeout
    while not done():
        if time.monotonic() > end:
            raise TimeoutError("the window did not reach the state to be shown")
        app.processEvents()
        window.poll()
        time.sleep(0.02)
    for _ in range(20):  # let animations finish and the plots redraw
        app.processEvents()
        time.sleep(0.02)
    window.plots.redraw_now()


def main(directory: str) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as home:
        settings = QSettings(str(Path(home) / "vizvm.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings)
        window.resize(*SIZE)
        window.show()
        try:
            _holes(app, window, out)
            _kernel(app, window, out)
            _lesson(app, window, out)
        except TimeoutError as exc:
            print(f"vizvm screenshots: {exc}", file=sys.stderr)
            return 1
        finally:
            window.close()
    for path in sorted(out.glob("*.png")):
        print(path)
    return 0


def _frame_where(window: MainWindow, test: Callable[[Frame], bool]) -> Callable[[], bool]:
    def done() -> bool:
        frame = window.last_frame
        return frame is not None and not frame.running and test(frame)
    return done


def _holes(app: QApplication, window: MainWindow, out: Path) -> None:
    window.open("holes")
    settle(app, window, _frame_where(window, lambda f: len(f.panes) == 4))
    popf = first("holes", "popfd")
    window.engine.submit(cmd.Breakpoints("holes", frozenset({popf})))
    window.engine.submit(cmd.Run(None))
    settle(app, window, _frame_where(window, lambda f: all(p.pc == popf for p in f.panes)))
    window.engine.submit(cmd.Breakpoints("holes", frozenset()))
    window.step("into")
    settle(app, window, _frame_where(window, lambda f: f.panes[0].pc != popf))
    window.grab().save(str(out / "holes-popf.png"))
    window.set_theme("dark")
    window.toggle_presentation()
    settle(app, window, lambda: True, timeout=0.5)
    window.grab().save(str(out / "presentation-dark.png"))
    window.toggle_presentation()
    window.set_theme("light")


def _kernel(app: QApplication, window: MainWindow, out: Path) -> None:
    window.open("kernel")
    settle(app, window, _frame_where(window, lambda f: len(f.panes) == 5))
    window.engine.submit(cmd.GoTo(0, 200_000))
    settle(app, window, _frame_where(window, lambda f: f.panes[0].icount >= 199_999))
    window.grab().save(str(out / "kernel-race.png"))


def _lesson(app: QApplication, window: MainWindow, out: Path) -> None:
    """The trap-vs-translate lesson's run step, answered: the panel beside its panes."""
    panel = window.lessons
    panel.set_student("Ada Lovelace")
    panel.show()
    settle(app, window, lambda: panel.chooser.select("vizvm-core", "trap-vs-translate"))
    panel.steps.setCurrentRow(2)
    settle(app, window, _frame_where(window, lambda f: len(f.panes) == 3))
    window.engine.submit(cmd.Run(None))
    settle(app, window, _frame_where(window, lambda f: all(p.status == "exited" for p in f.panes)))
    card = panel.cards["te-traps"]
    card.set_answer("3")
    panel.submit("te-traps", "3")
    settle(app, window, lambda: "point" in card.feedback.text())
    window.grab().save(str(out / "lesson.png"))
