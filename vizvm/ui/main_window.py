"""The main window: one guest, one pane per technique, controls in lockstep.

The window never runs a guest itself: it submits commands to the engine
thread and, on a 30 Hz timer, takes the newest frame and draws it. So
whatever a guest does, the window answers.
"""

from __future__ import annotations

import gc
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QColor, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QSplitter,
)

from vizvm import guests
from vizvm.monitors import registry
from vizvm.session import commands as cmd
from vizvm.session.engine_process import EngineProcess
from vizvm.session.runner import Settings
from vizvm.session.views import Frame
from vizvm.ui.lesson_panel import LessonPanel
from vizvm.ui.lesson_programs import OpenRequest
from vizvm.ui.pane_widget import PaneWidget
from vizvm.ui.plots import PlotsPanel
from vizvm.ui.theme import BASE_POINT_SIZE, DEFAULT_THEME, PRESENTATION_SCALE, THEMES, Theme
from vizvm.ui.time_travel_actions import TimeTravel

DEFAULT_TECHNIQUES = ("native", "trap-emulate", "binary-translation", "hardware-assist")
SPEEDS = (("1 step/s", 1.0), ("2 steps/s", 2.0), ("5 steps/s", 5.0), ("10 steps/s", 10.0),
          ("30 steps/s", 30.0), ("100 steps/s", 100.0), ("1,000 steps/s", 1000.0),
          ("10,000 steps/s", 10000.0), ("full speed", None))
POLL_MS = 33


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("vizvm")
        self.settings = settings or QSettings("vizvm", "vizvm")
        self.engine = EngineProcess()
        self.panes: list[PaneWidget] = []
        self.techniques: tuple[str, ...] = ()
        self.program = ""
        self.breakpoints: dict[str, set[int]] = {}
        self.running = False
        self.last_frame: Frame | None = None
        self._turn = 0  # frames drawn, to take the panes' details in turn while running
        self.theme: Theme = THEMES.get(str(self.settings.value("theme", DEFAULT_THEME)),
                                       THEMES[DEFAULT_THEME])
        self.presenting = self.settings.value("presenting", "false") == "true"
        self.chosen = tuple(str(self.settings.value("techniques", ",".join(DEFAULT_TECHNIQUES)))
                            .split(","))

        self.pane_row = QSplitter(Qt.Orientation.Horizontal)
        self.plots = PlotsPanel()
        self.split = QSplitter(Qt.Orientation.Vertical)
        self.travel = TimeTravel(self)  # the timeline under the panes; back keys; files
        self.split.addWidget(self.travel.under(self.pane_row))
        self.split.addWidget(self.plots)
        self.split.setStretchFactor(0, 4)
        self.split.setStretchFactor(1, 1)
        self.setCentralWidget(self.split)
        self.status_text = QLabel("")
        self.statusBar().addWidget(self.status_text, 1)
        self.speed = QComboBox()
        for label, _speed in SPEEDS:
            self.speed.addItem(label)
        self.speed.setCurrentIndex(int(self.settings.value("speed", 4)))
        self.speed.setToolTip("How fast Run goes: from one step a second to full speed")
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.open_args: dict[str, object] = {}  # a lesson step's image and settings
        self.lessons = LessonPanel(self.settings)  # a dock, hidden until asked for
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.lessons)
        self.lessons.open_program.connect(self.open_lesson_step)
        self._build_actions()
        self.apply_style()
        self._restore_layout()

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()

    # actions --------------------------------------------------------------------
    def _action(self, menu: QMenu, text: str, keys: str | QKeySequence.StandardKey | None,
                slot: object, tip: str) -> QAction:
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({shown})" if shown else tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&Open program…", QKeySequence.StandardKey.Open, self.choose_file,
                     "Open assembly source (.asm, .s) or a flat binary image")
        demos = file.addMenu("Open &built-in guest")
        for name, about in guests.BUILTIN.items():
            if name.endswith("_pv"):
                continue
            action = demos.addAction(f"{name}: {about[:60]}")
            action.setToolTip(about)
            action.triggered.connect(lambda _=False, n=name: self.open(n))
        self.travel.add_file_actions(file)
        file.addSeparator()
        self._action(file, "Open &lesson pack…", None, self.lessons.choose_pack,
                     "Open a lesson pack: its folder's pack.toml, or a .zip")
        self._action(file, "&Export submission…", None, self.lessons.export_submission,
                     "Write your answers in this pack to a file for your instructor")
        file.addSeparator()
        self._action(file, "&Quit", QKeySequence.StandardKey.Quit, self.close, "Quit vizvm")

        run = bar.addMenu("&Run")
        self.run_action = self._action(run, "&Run", "F5", self.run, "Run every pane")
        self.pause_action = self._action(run, "&Pause", "F6", self.pause, "Pause every pane")
        self._action(run, "Step &into", "F11", lambda: self.step("into"),
                     "One guest instruction in every pane")
        self._action(run, "Step &over", "F10", lambda: self.step("over"),
                     "One instruction, a CALL or INT n with all it runs")
        self._action(run, "Step to next &event", "F8", lambda: self.step("event"),
                     "Until a pane reports an event (a trap, an exit, a hypercall...)")
        unseen = self._action(run, "Run to the next &unseen instruction", "Shift+F8",
                              lambda: self.step("unseen"),
                              "Until a sensitive instruction runs deprivileged and no monitor "
                              "sees it (a hole of classic x86)")
        unseen.setIconText("Next unseen")
        self._action(run, "Rese&t", "Ctrl+Shift+F5", self.reset,
                     "Every guest back to its first instruction")
        self._action(run, "Toggle &breakpoint", "F9", self.toggle_breakpoint_here,
                     "A breakpoint at the current instruction of the first pane")
        self.travel.add_run_actions(run)

        view = bar.addMenu("&View")
        chosen = view.addMenu("&Techniques")
        self.technique_actions: dict[str, QAction] = {}
        for name, technique in registry.TECHNIQUES.items():
            action = chosen.addAction(technique.title)
            action.setCheckable(True)
            action.setChecked(name in self.chosen)
            action.setToolTip(technique.summary)
            action.toggled.connect(self._techniques_changed)
            self.technique_actions[name] = action
        themes = view.addMenu("T&heme")
        group = QActionGroup(self)
        for name in THEMES:
            action = themes.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.theme.name)
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(action)
        self.present_action = self._action(view, "&Presentation mode", "F12",
                                           self.toggle_presentation,
                                           "Everything larger, for a projector")
        self.present_action.setCheckable(True)
        self.present_action.setChecked(self.presenting)
        self.plots_action = self._action(view, "P&lots", "F7", self.toggle_plots,
                                         "Show or hide the plots below the panes")
        self.plots_action.setCheckable(True)
        self.plots_action.setChecked(self.settings.value("plots", "true") == "true")
        self.plots.setVisible(self.plots_action.isChecked())
        lessons = self.lessons.toggleViewAction()
        lessons.setText("&Lessons")
        lessons.setShortcut(QKeySequence("Ctrl+L"))
        lessons.setToolTip("Show or hide the lesson panel (Ctrl+L)")
        view.addAction(lessons)

        tools = self.addToolBar("Controls")
        tools.setObjectName("controls")
        for action in (self.run_action, self.pause_action):
            tools.addAction(action)
        for action in run.actions()[2:7]:
            tools.addAction(action)
        tools.addActions(self.travel.actions)
        tools.addWidget(QLabel(" speed "))
        tools.addWidget(self.speed)
        tools.addAction(self.present_action)

    # commands ------------------------------------------------------------------------
    def open(self, program: str, techniques: tuple[str, ...] | None = None, *,
             image: bytes | None = None, settings: Settings | None = None,
             port: str | None = None, port_image: bytes | None = None) -> None:
        """Open a program; the panes appear at once and fill in as the engine answers.
        With `image` (a lesson step's), exactly `techniques` open, and nothing is read."""
        chosen = techniques or tuple(t for t in registry.TECHNIQUES if t in self.chosen)
        self.open_args = {} if image is None else {"image": image, "settings": settings,
                                                   "port": port, "port_image": port_image}
        if image is None and "paravirt" not in chosen and program in guests.PARAVIRT_PORTS:
            chosen = (*chosen, "paravirt")
        self.program, self.techniques = program, chosen
        self.running = False
        self._make_panes(chosen)
        # the window's long-lived objects out of the collector's way: a full collection
        # walks them all, and took 50 ms of the UI thread here while guests ran
        gc.collect()
        gc.freeze()
        self.engine.submit(cmd.Open(program, chosen, settings or Settings(), port, image,
                                    port_image))
        points = self.breakpoints.get(Path(program).name, set())
        if points:
            self.engine.submit(cmd.Breakpoints(Path(program).name, frozenset(points)))
        self.setWindowTitle(f"vizvm: {program}")
        if image is None:
            self.settings.setValue("program", program)

    def open_lesson_step(self, request: OpenRequest) -> None:
        self.open(request.program, request.techniques, image=request.image,
                  settings=request.settings, port=request.port, port_image=request.port_image)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a guest program", "", "Guest programs (*.asm *.s *.S *.bin *.img);;"
            "All files (*)")
        if path:
            self.open(path)

    def run(self) -> None:
        self.running = True
        self.engine.submit(cmd.Run(SPEEDS[self.speed.currentIndex()][1]))

    def pause(self) -> None:
        self.engine.submit(cmd.Pause())

    def step(self, how: str) -> None:
        self.engine.submit(cmd.Step(how))

    def reset(self) -> None:
        self.engine.submit(cmd.Reset())

    def toggle_breakpoint(self, program: str, address: int) -> None:
        points = self.breakpoints.setdefault(program, set())
        points.symmetric_difference_update({address})
        self.engine.submit(cmd.Breakpoints(program, frozenset(points)))

    def toggle_breakpoint_here(self) -> None:
        if self.panes and self.panes[0].view is not None:
            view = self.panes[0].view
            self.toggle_breakpoint(view.program, view.pc)

    def go_to(self, technique: str, icount: int) -> None:
        if technique in self.techniques:
            self.engine.submit(cmd.GoTo(self.techniques.index(technique), icount))

    def _speed_changed(self, index: int) -> None:
        self.settings.setValue("speed", index)
        if self.running:
            self.run()

    def _techniques_changed(self) -> None:
        self.chosen = tuple(n for n, a in self.technique_actions.items() if a.isChecked())
        if not self.chosen:
            self.technique_actions["native"].setChecked(True)
            return
        self.settings.setValue("techniques", ",".join(self.chosen))
        if self.program:
            self.open(self.program, tuple(t for t in registry.TECHNIQUES if t in self.chosen),
                      **self.open_args)  # type: ignore[arg-type]

    # drawing ------------------------------------------------------------------------
    def _make_panes(self, techniques: tuple[str, ...]) -> None:
        for pane in self.panes:
            pane.setParent(None)
            pane.deleteLater()
        self.panes = []
        for name in techniques:
            pane = PaneWidget(name, registry.technique(name).title)
            pane.breakpoint_toggled.connect(self.toggle_breakpoint)
            pane.event_chosen.connect(self.go_to)
            self.pane_row.addWidget(pane)
            self.panes.append(pane)
        self.apply_style()

    def poll(self) -> None:
        frame = self.engine.take()
        if frame is None:
            return
        self.last_frame = frame
        self.lessons.frame(frame)
        self.travel.frame(frame)
        self.running = frame.running
        self.run_action.setEnabled(not frame.running)
        self.pause_action.setEnabled(frame.running)
        if len(frame.panes) == len(self.panes):
            self._turn += 1
            for index, (pane, view) in enumerate(zip(self.panes, frame.panes, strict=True)):
                # running, one pane's code and registers a frame, in turn: the painting
                # is spread out instead of all panes at once
                detailed = not frame.running or self._turn % len(self.panes) == index
                pane.show_view(view, animate=not frame.running, detailed=detailed)
            self.plots.update_panes(frame.panes)
        state = "running" if frame.running else "paused"
        self.status_text.setText(f"{state} · {frame.message}" if frame.message else state)

    @property
    def point_size(self) -> float:
        return BASE_POINT_SIZE * (PRESENTATION_SCALE if self.presenting else 1.0)

    def apply_style(self) -> None:
        theme, scale = self.theme, PRESENTATION_SCALE if self.presenting else 1.0
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setPalette(palette(theme))
            font = QFont()
            font.setPointSizeF(self.point_size)
            app.setFont(font)
        for pane in self.panes:
            pane.set_style(theme, self.point_size, scale)
        self.plots.set_theme(theme)
        self.plots.set_scale(scale)
        self.travel.set_style(theme, self.point_size, scale)
        self.lessons.set_style(theme, self.point_size, scale)

    def set_theme(self, name: str) -> None:
        self.theme = THEMES[name]
        self.settings.setValue("theme", name)
        self.apply_style()

    def toggle_presentation(self) -> None:
        self.presenting = not self.presenting
        self.present_action.setChecked(self.presenting)
        self.settings.setValue("presenting", "true" if self.presenting else "false")
        self.apply_style()

    def toggle_plots(self) -> None:
        shown = self.plots_action.isChecked()
        self.plots.setVisible(shown)
        self.settings.setValue("plots", "true" if shown else "false")

    # the layout, remembered -------------------------------------------------------------
    def _restore_layout(self) -> None:
        for key, restore in (("geometry", self.restoreGeometry), ("state", self.restoreState),
                             ("split", self.split.restoreState)):
            value = self.settings.value(key)
            if isinstance(value, QByteArray):
                restore(value)
        if not self.settings.contains("geometry"):
            self.resize(1600, 1000)
        if not self.settings.contains("split"):
            self.split.setSizes([720, 260])  # the panes first; the plots below

    def closeEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.settings.setValue("split", self.split.saveState())
        self.settings.sync()
        self.timer.stop()
        self.lessons.close_work()
        self.engine.close()
        super().closeEvent(event)  # type: ignore[arg-type]


def palette(theme: Theme) -> QPalette:
    colours = QPalette()
    roles = ((QPalette.ColorRole.Window, theme.background), (QPalette.ColorRole.Base,
             theme.surface), (QPalette.ColorRole.AlternateBase, theme.background),
             (QPalette.ColorRole.WindowText, theme.foreground),
             (QPalette.ColorRole.Text, theme.foreground),
             (QPalette.ColorRole.Button, theme.surface),
             (QPalette.ColorRole.ButtonText, theme.foreground),
             (QPalette.ColorRole.ToolTipBase, theme.surface),
             (QPalette.ColorRole.ToolTipText, theme.foreground),
             (QPalette.ColorRole.Highlight, theme.accent),
             (QPalette.ColorRole.PlaceholderText, theme.muted))
    for role, colour in roles:
        colours.setColor(role, QColor(colour))
    return colours

