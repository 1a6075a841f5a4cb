"""A pane's events, newest last, each with its one-line reason.

Rows are kept in a bounded list model (a run can report millions of events;
the window keeps the latest few thousand), appended a frame's batch at a
time. A click asks to go to that event: the engine re-runs to that moment.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from vizvm.session.views import EventRow
from vizvm.ui.code_view import monospace
from vizvm.ui.theme import Theme

MAX_ROWS = 5000
LOUD = frozenset({"trap", "vm-exit", "hypercall"})  # the monitor was entered: bold
SYMBOLS = {"trap": "⚡", "vm-exit": "⏏", "hypercall": "☎", "callout": "⇒", "translate": "⟲",
           "emulate": "⚙", "interrupt": "↯", "exception": "!", "ring-change": "⇅", "io": "⇄",
           "unseen": "⚠", "cache-hit": "✓", "cache-miss": "✗", "invalidate": "✂", "halt": "⏸"}
Index = QModelIndex | QPersistentModelIndex


class EventModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[EventRow] = []
        self.theme: Theme | None = None
        self.point_size = 10.0

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return describe(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            cost = f"\ncost: {row.cycles:,} cycles" if row.cycles else ""
            return f"{row.kind} at {row.address:#010x}: {row.disasm}\n{row.reason}{cost}"
        if role == Qt.ItemDataRole.FontRole:
            font = monospace(self.point_size)
            font.setBold(row.observed or row.kind in LOUD)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and self.theme is not None:
            loud = row.observed or row.kind in LOUD
            return QBrush(QColor(self.theme.privileged if loud else self.theme.foreground))
        return None

    def append(self, rows: Sequence[EventRow]) -> None:
        if not rows:
            return
        rows = list(rows)[-MAX_ROWS:]
        overflow = len(self.rows) + len(rows) - MAX_ROWS
        if overflow > 0:
            self.beginRemoveRows(QModelIndex(), 0, overflow - 1)
            del self.rows[:overflow]
            self.endRemoveRows()
        start = len(self.rows)
        self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
        self.rows.extend(rows)
        self.endInsertRows()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows.clear()
        self.endResetModel()


def describe(row: EventRow) -> str:
    symbol = SYMBOLS.get(row.kind, "·")
    kind = "unseen" if row.observed else row.kind
    return f"{row.icount:>9,}  {symbol} {kind:<11} {row.reason}"


class EventsView(QTableView):
    """Click an event to go to the moment it happened.

    A table of one column rather than a list view: with fixed row heights it
    scrolls to the newest of thousands of rows without laying them all out."""

    event_chosen = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.events = EventModel()
        self.setModel(self.events)
        self.horizontalHeader().hide()
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setStretchLastSection(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.clicked.connect(self._clicked)
        self.setToolTip("Click an event to go to it")

    def set_style(self, theme: Theme, point_size: float) -> None:
        self.events.theme, self.events.point_size = theme, point_size
        self.setFont(monospace(point_size))
        self.verticalHeader().setDefaultSectionSize(int(point_size * 1.9))
        self.events.layoutChanged.emit()

    def append(self, rows: Sequence[EventRow]) -> None:
        bar = self.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 2
        self.events.append(rows)
        if following:
            self.scrollToBottom()

    def _clicked(self, index: QModelIndex) -> None:
        self.event_chosen.emit(self.events.rows[index.row()].icount)
