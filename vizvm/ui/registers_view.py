"""Registers and flags, the changed ones highlighted, and the virtual CPU.

A changed value is shown bold on a tinted background and with a dot, so the
change does not rest on colour. Under a monitor the virtual CPU (the IF,
CPL and tables the guest believes it has) sits beside the real registers:
the gap between the two is what the lessons are about.
"""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from vizvm.ui.code_view import monospace, plain
from vizvm.ui.theme import Theme

SHOWN = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
         "cs", "ss", "ds", "es", "fs", "gs")
SEGMENTS = frozenset({"cs", "ss", "ds", "es", "fs", "gs"})
FLAGS = ((0, "CF"), (2, "PF"), (6, "ZF"), (7, "SF"), (9, "IF"), (10, "DF"), (11, "OF"))


def flags_text(value: int) -> str:
    names = [name for bit, name in FLAGS if value >> bit & 1]
    return " ".join(names) + f" IOPL={(value >> 12) & 3}"


class RegistersView(QTableWidget):
    def __init__(self) -> None:
        super().__init__(0, 2)
        self.setHorizontalHeaderLabels(["register", "value"])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setStretchLastSection(True)
        self.setShowGrid(False)
        self.theme: Theme | None = None
        self.point_size = 10.0
        self._rows: list[tuple[str, str, bool]] = []

    def set_style(self, theme: Theme, point_size: float) -> None:
        self.theme, self.point_size = theme, point_size
        self.setFont(monospace(point_size))
        self.horizontalHeader().setFont(plain(point_size * 0.9))
        self.setColumnWidth(0, int(self.fontMetrics().horizontalAdvance("0") * 14))
        self.verticalHeader().setDefaultSectionSize(int(point_size * 1.9))
        rows, self._rows = self._rows, []
        self._fill(rows)

    def show_registers(self, registers: dict[str, int], changed: frozenset[str],
                       virtual: dict[str, str]) -> None:
        rows = []
        for name in SHOWN:
            if name not in registers:
                continue
            value = registers[name]
            text = f"{value:04x}" if name in SEGMENTS else f"{value:08x}"
            if name == "eflags":
                text += f"  {flags_text(value)}"
            rows.append((name.upper(), text, name in changed))
        for name, value in virtual.items():
            rows.append((f"virtual {name}", value, False))
        self._fill(rows)

    def _fill(self, rows: list[tuple[str, str, bool]]) -> None:
        if rows == self._rows:
            return
        old, self._rows = self._rows, rows
        if self.rowCount() != len(rows):
            self.setRowCount(len(rows))
            old = []
        normal, bold = monospace(self.point_size), monospace(self.point_size)
        bold.setBold(True)
        tint = QBrush(QColor(self.theme.changed)) if self.theme is not None else QBrush()
        accent = QBrush(QColor(self.theme.accent)) if self.theme is not None else QBrush()
        for index, (name, text, changed) in enumerate(rows):
            if index < len(old) and old[index] == (name, text, changed):
                continue
            for column, value in enumerate((("• " if changed else "  ") + name, text)):
                item = self.item(index, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.setItem(index, column, item)
                item.setText(value)
                item.setFont(bold if changed else normal)
                item.setBackground(tint if changed else QBrush())
                if name.startswith("virtual"):
                    item.setForeground(accent)
