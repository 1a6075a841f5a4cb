"""One technique's pane: where the guest is, what the CPU and monitor did.

From top to bottom: the title and state, the counters, the ring diagram
beside the registers, the code (under binary translation, the guest's block
beside its translation), and the events and serial console. A guest's error
shows here, in its pane, never as a dialog.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vizvm.session.views import PaneView
from vizvm.ui.code_view import CodeView, TranslationView, monospace
from vizvm.ui.events_view import SYMBOLS, EventsView
from vizvm.ui.registers_view import RegistersView
from vizvm.ui.ring_diagram import RingDiagram
from vizvm.ui.theme import Theme

COUNTERS = (("trap", "traps"), ("vm-exit", "VM exits"), ("hypercall", "hypercalls"),
            ("translate", "translations"), ("callout", "callouts"), ("emulate", "emulated"))


class PaneWidget(QWidget):
    breakpoint_toggled = Signal(str, int)  # program, address
    event_chosen = Signal(str, int)  # technique, icount

    def __init__(self, technique: str, title: str) -> None:
        super().__init__()
        self.technique = technique
        self.program = ""
        self.setObjectName(f"pane-{technique}")
        self.title = QLabel(title)
        # fixed heights: a label that changes its size every frame would lay out the
        # whole window again, and repaint all of it
        self.state = QLabel("")
        self.counters = QLabel("")
        self.latest = QLabel("")  # what the last step did, in a sentence
        self.latest.setWordWrap(True)
        self.latest.setToolTip("The most telling event of the last step")
        for label in (self.state, self.counters, self.latest):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.rings = RingDiagram()
        self.registers = RegistersView()
        self.code = CodeView()
        self.translation = TranslationView()
        self.translation.setVisible(technique == "binary-translation")
        self.events = EventsView()
        self.serial = QPlainTextEdit()
        self.serial.setReadOnly(True)
        self.serial.setMaximumBlockCount(2000)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.events, "Events")
        self.tabs.addTab(self.serial, "Serial console")

        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.rings)
        top.addWidget(self.registers)
        code = QSplitter(Qt.Orientation.Horizontal)
        code.addWidget(self.code)
        code.addWidget(self.translation)
        self.body = QSplitter(Qt.Orientation.Vertical)
        for part in (top, code, self.tabs):
            self.body.addWidget(part)
        self.body.setSizes([200, 320, 220])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for widget in (self.title, self.state, self.counters, self.latest):
            layout.addWidget(widget)
        layout.addWidget(self.body, 1)

        self.code.breakpoint_toggled.connect(
            lambda address: self.breakpoint_toggled.emit(self.program, address))
        self.events.event_chosen.connect(
            lambda icount: self.event_chosen.emit(self.technique, icount))
        self._serial_text = ""
        self.unseen = 0  # sensitive instructions the monitor never saw, so far
        self._occupants: tuple = ()
        self.view: PaneView | None = None

    def set_style(self, theme: Theme, point_size: float, scale: float) -> None:
        colour = theme.techniques.get(self.technique, theme.accent)
        self.title.setStyleSheet(
            # Qt draws a lone border-left only after the other borders are set to 0
            f"border: 0px; border-left: {int(8 * scale)}px solid {colour};"
            f" padding-left: {int(6 * scale)}px;")
        title_font = QFont()
        title_font.setPointSizeF(point_size * 1.35)
        title_font.setBold(True)
        self.title.setFont(title_font)
        plain = QFont()
        plain.setPointSizeF(point_size)
        self.state.setFont(plain)
        self.counters.setFont(monospace(point_size))
        lines = self.state.fontMetrics().lineSpacing()
        self.state.setFixedHeight(int(lines * 2.2))
        emphasis = QFont(plain)
        emphasis.setBold(True)
        self.latest.setFont(emphasis)
        self.latest.setFixedHeight(int(lines * 4.3))
        self.latest.setStyleSheet(f"color: {theme.foreground}; background: {theme.surface};"
                                  f"border: 1px solid {theme.grid}; padding: 2px;")
        self.counters.setFixedHeight(int(self.counters.fontMetrics().lineSpacing() * 1.2))
        self.rings.set_theme(theme)
        self.rings.set_scale(scale)
        self.registers.set_style(theme, point_size)
        self.code.set_style(theme, point_size)
        self.translation.set_style(theme, point_size)
        self.events.set_style(theme, point_size)
        self.serial.setFont(monospace(point_size))
        self.tabs.setFont(plain)

    def show_view(self, view: PaneView, *, animate: bool = True, detailed: bool = True) -> None:
        """Draw a frame; `detailed` False (while running) skips the code and registers,
        which nobody reads at full speed and which cost the most to draw."""
        if self.view is not None and view.generation != self.view.generation:
            self.clear()  # the guest started again (reset, or going back in time)
        moved = (self.view is None or bool(view.events) or view.icount != self.view.icount
                 or view.status != self.view.status)
        self.view = view
        self.program = view.program
        self.unseen += sum(1 for e in view.events if e.observed)
        self.state.setText(_state_text(view))
        self.counters.setText(_counters_text(view, self.unseen))
        if view.occupants != self._occupants:
            self._occupants = view.occupants
            self.rings.set_occupants(view.occupants)
        if view.path:
            self.rings.show_path(view.path, animate=animate)
        if detailed and not animate:
            self.latest.setText("")
        elif detailed and moved:  # a frame of new marks only keeps the sentence
            self.latest.setText(_latest_text(view))
        if detailed:
            self.registers.show_registers(view.registers, view.changed, view.virtual)
            self.code.show_lines(view.listing)
            if view.translation is not None:
                self.translation.show_lines(view.translation.translated)
            elif self.technique == "binary-translation":
                self.translation.show_lines(())
        self.events.append(view.events)
        if view.serial != self._serial_text:
            self._serial_text = view.serial
            self.serial.setPlainText(view.serial)
            self.serial.verticalScrollBar().setValue(self.serial.verticalScrollBar().maximum())

    def clear(self) -> None:
        self.unseen = 0
        self.events.events.clear()
        self._serial_text = ""
        self.serial.clear()


def _state_text(view: PaneView) -> str:
    where = f"ring {view.ring}"
    if view.guest_ring != view.ring:
        where += f" (guest thinks {view.guest_ring})"
    if view.technique == "hardware-assist":
        where += ", non-root mode"
    head = {"ready": "", "exited": "■ ", "error": "⚠ ", "running": "▶ "}.get(view.status, "")
    text = (f"{head}{view.icount:,} instructions · {view.cycles:,} simulated cycles · "
            f"{where}")
    if view.message:
        text += f"\n{head}{view.message}"
    return text


def _counters_text(view: PaneView, unseen: int) -> str:
    parts = [f"{label} {view.counters.get(kind, 0):,}" for kind, label in COUNTERS
             if view.counters.get(kind, 0) or kind in ("trap", "vm-exit")]
    if unseen:
        parts.append(f"⚠ unseen {unseen}")
    return " · ".join(parts)


RANK = {"trap": 1, "vm-exit": 1, "hypercall": 1, "callout": 1, "exception": 2, "interrupt": 2,
        "ring-change": 3, "translate": 3, "invalidate": 3, "emulate": 4, "cache-miss": 5,
        "halt": 5, "cache-hit": 6, "io": 7}


def _latest_text(view: PaneView) -> str:
    """The most telling event of the step just taken, whole: the sentence a student reads."""
    if view.status == "error":
        return f"⚠ {view.message}"
    recent = [e for e in view.events if e.icount == view.icount]  # the step's last instruction
    if not recent:
        if view.icount == 0:
            return ("At the first instruction. Step (F11), go to the next event (F8), or run "
                    "to the next instruction a monitor did not see (Shift+F8).")
        if view.technique == "hardware-assist" and view.guest_ring == 0:
            return ("No VM exit: the guest kernel runs in ring 0 of non-root mode, so the last "
                    "instruction did what it does on bare hardware.")
        return "No event: the last instruction ran directly on the CPU; nothing trapped."
    best = min(recent, key=lambda e: 0 if e.observed else RANK.get(e.kind, 5))
    symbol = SYMBOLS.get("unseen" if best.observed else best.kind, "·")
    return f"{symbol} {best.reason}"
