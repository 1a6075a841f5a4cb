"""A host step's result in the lesson panel: what each VM printed, the scenario's
figures as a table, the host's own account of what happened, and its series
over time as one line per series.

The run itself happens in the panel's worker process (lesson_jobs.run_host),
with the student's parameters, the same way the checks' answers are computed.
"""

from __future__ import annotations

from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from vizvm.lessons.model import Step
from vizvm.session.host_result import HostResult
from vizvm.ui.code_view import monospace
from vizvm.ui.plots import CompactAxis
from vizvm.ui.theme import ORANGE, THEMES, Theme

LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", ORANGE, "#56B4E9", "#999999")
SYMBOLS = ("o", "s", "t", "d", "+", "x", "star")
MARKS = ("●", "■", "▼", "◆", "+", "x", "★")  # the symbols, as the legend writes them
LINE_KEYS = ("━━", "╍╍", "┅┅", "━╍")  # solid, dashed, dotted, dash-dot
MARKED_POINTS = 40
LINE_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
               Qt.PenStyle.DashDotLine)


class HostView(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.theme, self.scale, self.point_size = THEMES["light"], 1.0, 10.0
        self.result: HostResult | None = None
        self.heading = QLabel("")
        self.heading.setWordWrap(True)
        self.figures = QTableWidget(0, 2)
        self.figures.setHorizontalHeaderLabels(["figure", "value"])
        self.figures.verticalHeader().setVisible(False)
        self.figures.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.figures.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.plot = pg.PlotWidget(axisItems={"left": CompactAxis("left")})
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "time slot")
        self.legend = QLabel("")  # above the plot, not over its lines
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.serial = QPlainTextEdit()
        self.log = QPlainTextEdit()
        self.titles = [QLabel("Figures"), QLabel("Over time"), QLabel("Each VM's serial output"),
                       QLabel("What the host did")]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        for title, widget in zip(self.titles, (self.figures, self.plot, self.serial, self.log),
                                 strict=True):
            layout.addWidget(title)
            if widget is self.plot:
                layout.addWidget(self.legend)
            layout.addWidget(widget)
        for text in (self.serial, self.log):
            text.setReadOnly(True)
        self._parts_visible(False)

    def _parts_visible(self, shown: bool) -> None:
        for widget in (*self.titles, self.figures, self.plot, self.legend, self.serial,
                       self.log):
            widget.setVisible(shown)

    def show_running(self, step: Step) -> None:
        assert step.host is not None
        vms = ", ".join(f"{vm.name} ({vm.technique})" for vm in step.host.vms)
        self.heading.setText(f"⏳ Running the host ({step.host.scenario}): {vms}…")
        self.result = None
        self._parts_visible(False)

    def show_error(self, message: str) -> None:
        self.heading.setText(f"⚠ The host could not run: {message}")
        self._parts_visible(False)

    def show_result(self, result: HostResult) -> None:
        self.result = result
        self.heading.setText(f"✔ The host ran ({result.scenario}): {len(result.vms)} VMs.")
        self.figures.setRowCount(len(result.figures))
        for row, (name, value) in enumerate(result.figures.items()):
            shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
            cells = (QTableWidgetItem(name.replace("_", " ")), QTableWidgetItem(shown))
            cells[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for column, cell in enumerate(cells):
                self.figures.setItem(row, column, cell)
        self.serial.setPlainText("\n\n".join(
            f"── {name} ({s.technique}): {s.exit}"
            f"{'' if s.exit_code is None else f', exit code {s.exit_code}'}\n"
            f"{s.serial.rstrip() or '(no output)'}" for name, s in result.vms.items()))
        self.log.setPlainText("\n".join(result.log))
        self._parts_visible(True)
        self.figures.setVisible(bool(result.figures))
        self.titles[0].setVisible(bool(result.figures))
        self.plot.setVisible(bool(result.series))
        self.legend.setVisible(bool(result.series))
        self.titles[1].setVisible(bool(result.series))
        self._draw()
        self._sizes()

    def _draw(self) -> None:
        self.plot.clear()
        if self.result is None:
            return
        longest, keys = 1, []
        for index, (name, values) in enumerate(self.result.series.items()):
            colour = LINE_COLOURS[index % len(LINE_COLOURS)]
            pen = pg.mkPen(colour, width=2.5 * self.scale,
                           style=LINE_STYLES[index % len(LINE_STYLES)])
            few = len(values) <= MARKED_POINTS  # a point per slot, seen even when alone
            self.plot.plot(list(range(len(values))), list(values), pen=pen,
                           name=name.replace("_", " "), symbol=SYMBOLS[index % len(SYMBOLS)]
                           if few else None, symbolSize=8 * self.scale, symbolBrush=colour,
                           symbolPen=colour)
            longest = max(longest, len(values))
            keys.append(f'<span style="white-space: nowrap"><span style="color:{colour}">'
                        f'{LINE_KEYS[index % len(LINE_KEYS)]}'
                        f' {MARKS[index % len(MARKS)] if few else ""}</span>&nbsp;'
                        f'{escape(name.replace("_", " "))}</span>')
        self.legend.setText(" &nbsp;&nbsp; ".join(keys))
        self.plot.setXRange(0, max(longest - 1, 1), padding=0.05)

    def set_style(self, theme: Theme, point_size: float, scale: float) -> None:
        self.theme, self.scale, self.point_size = theme, scale, point_size
        font = QFont()
        font.setPointSizeF(point_size)
        bold = QFont(font)
        bold.setBold(True)
        for title in self.titles:
            title.setFont(bold)
        self.heading.setFont(bold)
        self.figures.setFont(font)
        for text in (self.serial, self.log):
            text.setFont(monospace(point_size))
        self.plot.setBackground(theme.surface)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(theme.muted, width=scale))
            axis.setTextPen(theme.foreground)
            axis.setStyle(tickFont=font)
            axis.setLabel(axis.labelText, color=theme.foreground,
                          **{"font-size": f"{point_size:g}pt"})
        self.legend.setFont(font)
        self._draw()
        self._sizes()

    def _sizes(self) -> None:
        lines = self.serial.fontMetrics().lineSpacing()
        rows = self.figures.rowCount()
        self.figures.resizeRowsToContents()
        row_height = self.figures.rowHeight(0) if rows else lines
        self.figures.setFixedHeight(self.figures.horizontalHeader().height()
                                    + row_height * rows + 4)
        self.plot.setFixedHeight(int(240 * self.scale))
        for text in (self.serial, self.log):
            count = text.document().blockCount()
            text.setFixedHeight(int(lines * min(max(count, 3), 14) + 12))
