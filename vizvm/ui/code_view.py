"""The disassembly around the current instruction, with a breakpoint gutter.

Privileged and sensitive instructions carry a symbol and a style (bold,
underlined) besides their colour, so the marks survive colour blindness and
a washed-out projector. Under binary translation a second table shows the
translated block beside the guest's, callouts marked the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from vizvm.session.views import Line, TranslatedLine
from vizvm.ui.theme import CLASS_SYMBOLS, HOW_SYMBOLS, Theme

GUTTER, ADDRESS, MARK, TEXT = range(4)
Row = tuple[tuple[str, str, str, str], str, str, bool]  # texts, tooltip, mark, current
BREAKPOINT = "●"
CURRENT = "▶"
CLASS_WORDS = {"privileged": "privileged: traps when deprivileged",
               "sensitive": "sensitive: runs deprivileged without a trap, yet acts differently",
               "unknown": "not classified", "innocuous": "innocuous", "": "not yet classified"}


def monospace(point_size: float) -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(point_size)
    return font


def plain(point_size: float) -> QFont:
    font = QFont()
    font.setPointSizeF(point_size)
    return font


class _Table(QTableWidget):
    def __init__(self, columns: Sequence[str]) -> None:
        super().__init__(0, len(columns))
        self.setHorizontalHeaderLabels(list(columns))
        self.verticalHeader().hide()
        self.setShowGrid(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        for column in range(len(columns) - 1):  # fixed: measuring every row costs frames
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        header.setStretchLastSection(True)
        self.theme: Theme | None = None
        self.point_size = 10.0
        self._shown: list[Row | None] = []
        self.lines: tuple = ()
        self._fonts: dict[str, QFont] = {}
        self._brushes: dict[str, QBrush] = {}

    def set_style(self, theme: Theme, point_size: float) -> None:
        self.theme, self.point_size = theme, point_size
        self.setFont(monospace(point_size))
        self.horizontalHeader().setFont(plain(point_size * 0.9))
        self.verticalHeader().setDefaultSectionSize(int(point_size * 2.0))
        width = self.fontMetrics().horizontalAdvance("0")
        for column, chars in ((GUTTER, 3), (ADDRESS, 10), (MARK, 2.5)):
            self.setColumnWidth(column, int(width * chars))
        bold, marked = monospace(point_size), monospace(point_size)
        bold.setBold(True)
        marked.setBold(True)
        marked.setUnderline(True)
        self._fonts = {"": monospace(point_size), "bold": bold, "marked": marked}
        self._brushes = {name: QBrush(QColor(colour)) for name, colour in (
            ("privileged", theme.privileged), ("sensitive", theme.sensitive),
            ("plain", theme.foreground), ("current", theme.changed))}
        self._shown = [None] * self.rowCount()
        lines, self.lines = self.lines, ()
        self.show_lines(lines)  # again, in the new style

    def _set_rows(self, rows: Sequence[Row]) -> None:
        """Fill the table, touching only the rows that changed (frames come 30 a second)."""
        if self.rowCount() != len(rows):
            self.setRowCount(len(rows))
            self._shown = [None] * len(rows)
        for index, row in enumerate(rows):
            if self._shown[index] == row:
                continue
            self._shown[index] = row
            texts, tip, mark, current = row
            for column, text in enumerate(texts):
                item = self.item(index, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(index, column, item)
                item.setText(text)
                item.setToolTip(tip if column >= MARK else "")
                self._style(item, mark, current)

    def _style(self, item: QTableWidgetItem, mark: str, current: bool) -> None:
        if self.theme is None:
            return
        loud = mark in ("privileged", "callout")
        quiet = mark in ("sensitive", "inline")
        item.setForeground(self._brushes["privileged" if loud else
                                         "sensitive" if quiet else "plain"])
        item.setFont(self._fonts["marked" if quiet else "bold" if loud or current else ""])
        item.setBackground(self._brushes["current"] if current else QBrush())

    def centre_on(self, row: int) -> None:
        if 0 <= row < self.rowCount():
            self.scrollToItem(self.item(row, 0), QAbstractItemView.ScrollHint.PositionAtCenter)


class CodeView(_Table):
    """The guest's code; a click in the gutter toggles a breakpoint."""

    breakpoint_toggled = Signal(int)

    def __init__(self) -> None:
        super().__init__(("", "address", "", "instruction"))
        self.lines: tuple[Line, ...] = ()
        self.cellClicked.connect(self._clicked)
        self.setToolTip("Click the left column to set or clear a breakpoint (F9 at the "
                        "current instruction)")

    def show_lines(self, lines: Sequence[Line]) -> None:
        if tuple(lines) == self.lines:
            return
        self.lines = tuple(lines)
        rows = []
        for line in lines:
            gutter = (BREAKPOINT if line.breakpoint else "") + (CURRENT if line.current else "")
            tip = f"{CLASS_WORDS.get(line.cls, line.cls)}\n{line.why}".strip()
            texts = (gutter, f"{line.address:08x}", CLASS_SYMBOLS.get(line.cls, ""), line.text)
            rows.append((texts, tip, line.cls, line.current))
        self._set_rows(rows)
        self.centre_on(next((i for i, line in enumerate(lines) if line.current), 0))

    def _clicked(self, row: int, column: int) -> None:
        if column == GUTTER and 0 <= row < len(self.lines):
            self.breakpoint_toggled.emit(self.lines[row].address)


class TranslationView(_Table):
    """The translated block: what each guest instruction became in the cache."""

    def __init__(self) -> None:
        super().__init__(("", "cache", "", "translated"))
        self.lines: tuple[TranslatedLine, ...] = ()

    def show_lines(self, lines: Sequence[TranslatedLine]) -> None:
        if not lines:
            lines = (TranslatedLine(0, "not in the cache: user code (ring 3) runs as it is",
                                    "", ""),)
        if tuple(lines) == self.lines:
            return
        self.lines = tuple(lines)
        rows = []
        for line in lines:
            tip = f"{line.how}: {line.why}".strip(": ")
            texts = (CURRENT if line.current else "",
                     f"{line.address:08x}" if line.how else "",
                     HOW_SYMBOLS.get(line.how, ""), line.text or f"({line.how})")
            rows.append((texts, tip, line.how, line.current))
        self._set_rows(rows)
        self.centre_on(next((i for i, line in enumerate(lines) if line.current), 0))
