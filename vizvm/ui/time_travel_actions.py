"""Going back in the window, and its files: the timeline bar, the keys to step back
and back to the previous event, snapshots saved and opened, trace and counters
exported.

Every action is a command to the engine (vizvm/session/commands.py): the
engine records every run, and answers with a frame whose message the status
bar shows. A snapshot's file is read here first, so its program and
technique are known before the engine opens it, and a file from another
version or a damaged one is refused at once, in the status bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QVBoxLayout, QWidget

from vizvm.session import commands as cmd
from vizvm.session import snapshots
from vizvm.session.views import Frame
from vizvm.ui.theme import Theme
from vizvm.ui.timeline_bar import TimelineBar

if TYPE_CHECKING:
    from vizvm.ui.main_window import MainWindow

MESSAGE_MS = 10_000  # how long a refusal stays over the status line
SNAPSHOTS = f"vizvm snapshots (*{snapshots.SUFFIX});;All files (*)"


class TimeTravel(QObject):
    """The window's side of recording; the window calls `frame` with every frame."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.bar = TimelineBar()
        self.bar.seek_requested.connect(self.seek)
        self._opening: tuple[str, tuple[str, ...], str, dict] | None = None  # path, the old
        self.actions: list[QAction] = []  # for the toolbar

    def under(self, panes: QWidget) -> QWidget:
        """The panes with the bar under them, as one widget."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(panes, 1)
        layout.addWidget(self.bar)
        return box

    # menus ------------------------------------------------------------------------------
    def add_run_actions(self, menu: QMenu) -> None:
        w = self.window
        menu.addSeparator()
        back = w._action(menu, "Step &back", "Shift+F11", self.step_back,
                         "One guest instruction back in every pane (from the recording)")
        event = w._action(menu, "Back to the &previous event", "Ctrl+F8", self.back_to_event,
                          "Every pane back to the latest trap, exit, hypercall... before now")
        event.setIconText("Back to event")
        self.actions = [back, event]

    def add_file_actions(self, menu: QMenu) -> None:
        w = self.window
        menu.addSeparator()
        self.save_menu = menu.addMenu("&Save snapshot")
        self.save_menu.setToolTipsVisible(True)
        self.save_menu.aboutToShow.connect(self._fill_save_menu)
        self._fill_save_menu()
        w._action(menu, "Open s&napshot…", None, lambda _=False: self.open_snapshot(),
                  "Open a saved snapshot: its program, under its technique, at its instruction")
        w._action(menu, "Export &trace (Perfetto JSON)…", None, lambda _=False: self.export_trace(),
                  "Every pane's recorded events as a trace for ui.perfetto.dev or "
                  "chrome://tracing")
        w._action(menu, "Export &counters (CSV)…", None, lambda _=False: self.export_counters(),
                  "Every pane's event counters over guest instructions, for a spreadsheet")

    def _fill_save_menu(self) -> None:
        self.save_menu.clear()
        if not self.window.panes:
            self.save_menu.addAction("open a program first").setEnabled(False)
        for index, pane in enumerate(self.window.panes):
            action = self.save_menu.addAction(f"{pane.title.text()}…")
            action.setToolTip("Save this pane's machine as it is now, to open it later")
            action.triggered.connect(lambda _=False, i=index: self.save_snapshot(i))

    # commands ---------------------------------------------------------------------------
    def submit(self, command: cmd.Command) -> None:
        self.window.statusBar().clearMessage()
        self.window.engine.submit(command)

    def step_back(self) -> None:
        self.submit(cmd.StepBack())

    def back_to_event(self) -> None:
        self.submit(cmd.BackToEvent())

    def seek(self, pane: int, icount: int) -> None:
        self.submit(cmd.Seek(pane, icount))

    def save_snapshot(self, pane: int, path: str | None = None) -> None:
        w = self.window
        view = w.panes[pane].view if 0 <= pane < len(w.panes) else None
        if view is None:
            self.refuse("open a program first: there is no machine to save")
            return
        if path is None:
            name = f"{Path(view.program).stem}-{view.technique}-{view.icount}{snapshots.SUFFIX}"
            path, _ = QFileDialog.getSaveFileName(w, "Save a snapshot", name, SNAPSHOTS)
            if not path:
                return
            if not path.endswith(snapshots.SUFFIX) and "." not in Path(path).name:
                path += snapshots.SUFFIX
        self.submit(cmd.SaveSnapshot(pane, path))

    def open_snapshot(self, path: str | None = None) -> None:
        w = self.window
        if path is None:
            path, _ = QFileDialog.getOpenFileName(w, "Open a snapshot", "", SNAPSHOTS)
            if not path:
                return
        try:
            saved = snapshots.read_snapshot(path)  # the engine reads it again, and replays
        except snapshots.SnapshotError as exc:
            self.refuse(str(exc))
            return
        self._opening = (path, w.techniques, w.program, w.open_args)
        technique, name = saved.settings.technique, saved.program.name
        w.program, w.techniques, w.running = name, (technique,), False
        w.open_args = {"image": saved.program.image, "settings": saved.settings}
        w._make_panes((technique,))
        self.submit(cmd.OpenSnapshot(path))
        points = w.breakpoints.get(name)
        if points:
            w.engine.submit(cmd.Breakpoints(name, frozenset(points)))
        w.setWindowTitle(f"vizvm: {name} (snapshot {Path(path).name})")

    def export_trace(self, path: str | None = None) -> None:
        path = path or self._export_path("Export the trace", "trace.json",
                                         "Perfetto / Chrome trace (*.json)")
        if path:
            self.submit(cmd.Export(perfetto=path))

    def export_counters(self, path: str | None = None) -> None:
        path = path or self._export_path("Export the counters", "counters.csv",
                                         "Comma-separated values (*.csv)")
        if path:
            self.submit(cmd.Export(csv=path))

    def _export_path(self, title: str, suffix: str, kinds: str) -> str:
        w = self.window
        if not w.panes:
            self.refuse("open a program first: there is nothing to export")
            return ""
        name = f"{Path(w.program).stem}-{suffix}"
        path, _ = QFileDialog.getSaveFileName(w, title, name, f"{kinds};;All files (*)")
        return path

    def refuse(self, message: str) -> None:
        self.window.statusBar().showMessage(f"⚠ {message}", MESSAGE_MS)

    # frames -----------------------------------------------------------------------------
    def frame(self, frame: Frame) -> None:
        """Before the window draws a frame: settle a snapshot being opened."""
        if self._opening is not None:
            path, techniques, program, args = self._opening
            if frame.message.startswith("opened "):
                self._opening = None
            elif path in frame.message:  # the engine refused it: its session goes on
                self._opening = None
                w = self.window
                w.program, w.techniques, w.open_args = program, techniques, args
                w._make_panes(techniques)
                self.refuse(frame.message)
        if len(frame.panes) == len(self.window.panes):
            self.bar.show_panes(frame.panes)

    def set_style(self, theme: Theme, point_size: float, scale: float) -> None:
        self.bar.set_style(theme, point_size, scale)
