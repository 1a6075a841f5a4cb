"""The timeline under the panes: the recorded run, where the guests stand, where
the monitors worked; click or drag to go anywhere in it.

One row per technique shows its monitor's events over guest instructions
(traps, VM exits, hypercalls, callouts, translations, exceptions and
interrupts), summed into pixel columns from the pane's whole binned arrays:
a bar's height is the count on a log scale, so one trap among thousands of
instructions still shows. Each row is named in words beside it, so no row
is told by colour alone.

Going back restores the plot data of that moment, so a frame's arrays end
at the position; the run is deterministic, so the bar keeps the furthest
arrays it has seen of a recording and still shows what lies ahead.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from vizvm.session.views import PaneView
from vizvm.ui.theme import BASE_POINT_SIZE, DEFAULT_THEME, THEMES, Theme
from vizvm.ui.timeline_strip import Row, columns, events_row, strip_image, ticks

SHORT = {"native": "native", "trap-emulate": "trap & emulate",
         "binary-translation": "bin. translation", "paravirt": "paravirt",
         "hardware-assist": "hw assist"}
SEEK_MS = 120  # while dragging, at most one seek this often: each restores a snapshot


class TimelineBar(QWidget):
    """See the module's docstring. `seek_requested(pane, icount)` asks to go there."""

    seek_requested = Signal(int, int)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("timeline")
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # arrows, Home, End: see keyPressEvent
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("The recorded run: click or drag to go to any instruction, or use "
                        "the arrows, Page Up/Down, Home and End here (Shift+F11 steps back, "
                        "Ctrl+F8 goes back to the previous event). Each row: that "
                        "technique's monitor events over guest time.")
        self.theme: Theme = THEMES[DEFAULT_THEME]
        self.scale = 1.0
        self.pane = 0  # the pane whose instruction counts the bar shows
        self.position = 0
        self.recorded = (0, 0)
        self.rows: list[Row] = []
        self.preview: int | None = None  # where a drag is, before the engine gets there
        self.hover: int | None = None
        self._sent: int | None = None
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(SEEK_MS)
        self._throttle.timeout.connect(self._send_preview)
        self.set_style(self.theme, BASE_POINT_SIZE, 1.0)

    # data -----------------------------------------------------------------------------
    def show_panes(self, views: Sequence[PaneView]) -> None:
        if not views:
            return
        self.pane = min(self.pane, len(views) - 1)
        chosen = views[self.pane]
        fresh = [events_row(v) for v in views]
        restarted = (chosen.recorded[1] < self.recorded[1]
                     or [(r.technique, r.program) for r in fresh]
                     != [(r.technique, r.program) for r in self.rows])
        if not restarted:  # keep what lies ahead after a step back: the run repeats
            fresh = [new if new.reach >= old.reach else old
                     for new, old in zip(fresh, self.rows, strict=True)]
        changed = (restarted or chosen.icount != self.position
                   or chosen.recorded != self.recorded
                   or any(a.reach != b.reach or a.counts.sum() != b.counts.sum()
                          for a, b in zip(fresh, self.rows, strict=True)))
        grew = len(fresh) != len(self.rows)
        self.rows, self.position, self.recorded = fresh, chosen.icount, chosen.recorded
        if grew:
            self._fix_height()
        if changed:
            self.update()

    @property
    def span(self) -> tuple[int, int]:
        lo, hi = self.recorded
        return lo, max(hi, self.position, lo + 1)

    # geometry -----------------------------------------------------------------------------
    def set_style(self, theme: Theme, point_size: float, scale: float) -> None:
        self.theme, self.scale = theme, scale
        self.label_font = QFont()
        self.label_font.setPointSizeF(point_size)
        self.count_font = QFont(self.label_font)
        self.count_font.setBold(True)
        self.count_font.setPointSizeF(point_size * 1.25)
        self.row_font = QFont(self.label_font)  # a little smaller: rows stack tight
        self.row_font.setPointSizeF(point_size * 0.85)
        self.line = QFontMetrics(self.label_font).lineSpacing()
        self.row_height = max(8, QFontMetrics(self.row_font).lineSpacing())
        self._left = max(_text_width(self.count_font, "00,000,000"),  # the count, the names
                         _text_width(self.label_font, "at instruction")) + 16 * scale
        self._left += _text_width(self.row_font, SHORT["binary-translation"]) + 10 * scale
        self.updateGeometry()
        self._fix_height()
        self.update()

    def _fix_height(self) -> None:
        rows = max(len(self.rows), 4)
        self.setFixedHeight(int(self.line * 1.5 + rows * self.row_height + 8 * self.scale))

    def track(self) -> QRectF:
        """Where the instruction axis runs, in widget coordinates."""
        left = self._left
        right = self.width() - 12 * self.scale
        top = 4 * self.scale
        bottom = top + max(len(self.rows), 1) * self.row_height
        return QRectF(left, top, max(right - left, 10), bottom - top)

    def icount_at(self, x: float) -> int:
        """The instruction count under x, within the recording."""
        rect, (lo, hi) = self.track(), self.span
        fraction = min(max((x - rect.left()) / rect.width(), 0.0), 1.0)
        return min(max(lo + round(fraction * (hi - lo)), self.recorded[0]),
                   max(self.recorded[1], self.recorded[0]))

    def x_of(self, icount: int) -> float:
        rect, (lo, hi) = self.track(), self.span
        return rect.left() + (icount - lo) / (hi - lo) * rect.width()

    # the mouse ----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if event.button() != Qt.MouseButton.LeftButton or self.recorded[1] <= self.recorded[0]:
            return
        self.preview = self.icount_at(event.position().x())
        self._send_preview()
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        at = self.icount_at(event.position().x())
        self.hover = at if self.track().left() <= event.position().x() else None
        if self.preview is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.preview = at
            if not self._throttle.isActive():
                self._send_preview()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt API
        if self.preview is None:
            return
        self.preview = self.icount_at(event.position().x())
        self._send_preview()
        self.preview, self._sent = None, None
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        """With the bar focused: Left/Right one instruction, Page Up/Down a tenth of the
        recording, Home/End its ends."""
        lo, hi = self.recorded
        tenth = max(1, (hi - lo) // 10)
        moves = {Qt.Key.Key_Left: self.position - 1, Qt.Key.Key_Right: self.position + 1,
                 Qt.Key.Key_PageUp: self.position - tenth,
                 Qt.Key.Key_PageDown: self.position + tenth,
                 Qt.Key.Key_Home: lo, Qt.Key.Key_End: hi}
        target = moves.get(Qt.Key(event.key()))
        if target is None or hi <= lo:
            super().keyPressEvent(event)
            return
        self.seek_requested.emit(self.pane, min(max(target, lo), hi))

    def leaveEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        self.hover = None
        self.update()

    def _send_preview(self) -> None:
        if self.preview is not None and self.preview != self._sent:
            self._sent = self.preview
            self.seek_requested.emit(self.pane, self.preview)
            self._throttle.start()

    # painting -----------------------------------------------------------------------------
    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt API
        theme, scale = self.theme, self.scale
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(theme.background))
        rect = self.track()
        foreground, muted = QColor(theme.foreground), QColor(theme.muted)
        # where the guests stand, in words
        p.setFont(self.label_font)
        p.setPen(muted)
        p.drawText(QPointF(8 * scale, rect.top() + self.line * 0.9), "at instruction")
        p.setFont(self.count_font)
        p.setPen(foreground)
        p.drawText(QPointF(8 * scale, rect.top() + self.line * 2.1), f"{self.position:,}")
        p.fillRect(rect, QColor(theme.surface))
        p.setPen(QPen(QColor(theme.grid), 1))
        p.drawRect(rect)
        if self.hasFocus():  # the keys act here
            p.setPen(QPen(QColor(theme.accent), max(1.0, scale), Qt.PenStyle.DashLine))
            p.drawRect(rect.adjusted(-2, -2, 2, 2))
        lo, hi = self.span
        name_x = rect.left() - 6 * scale
        ratio = self.devicePixelRatioF()
        colours = [QColor(theme.techniques.get(r.technique, theme.accent)) for r in self.rows]
        strip = strip_image([columns(r, lo, hi, int(rect.width() * ratio)) for r in self.rows],
                            colours, int(self.row_height * ratio))
        strip.setDevicePixelRatio(ratio)
        p.drawImage(rect.topLeft(), strip)
        for index, row in enumerate(self.rows):
            top = rect.top() + index * self.row_height
            p.setFont(self.row_font)
            p.setPen(foreground)
            if index:
                p.setPen(QPen(QColor(theme.grid), 1))
                p.drawLine(QPointF(rect.left(), top), QPointF(rect.right(), top))
                p.setPen(foreground)
            p.drawText(QRectF(0, top, name_x, self.row_height),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       SHORT.get(row.technique, row.technique))
        self._draw_axis(p, rect, lo, hi)
        self._draw_marker(p, rect, self.position, QColor(theme.accent), solid=True)
        if self.preview is not None:
            self._draw_marker(p, rect, self.preview, foreground, solid=False)
        p.end()

    def _draw_axis(self, p: QPainter, rect: QRectF, lo: int, hi: int) -> None:
        """Round counts under the track; the one under the mouse (or a drag's target) is
        placed first and wins over any it would overlap."""
        p.setFont(self.label_font)
        p.setPen(QColor(self.theme.muted))
        below = QRectF(rect.left(), rect.bottom() + 2, rect.width(), self.line * 1.2)
        if self.recorded[1] <= self.recorded[0]:
            p.drawText(below, Qt.AlignmentFlag.AlignLeft,
                       "nothing recorded yet: step (F11) or run (F5), then come back here")
            return
        focus = None
        if self.preview is not None:
            text = f"going to {self.preview:,}"
            focus = self._plate(below, self.x_of(self.preview), text), text
        elif self.hover is not None:
            text = f"go to {self.hover:,}"
            focus = self._plate(below, self.x_of(self.hover), text), text
            p.setPen(QPen(QColor(self.theme.muted), 1, Qt.PenStyle.DotLine))
            x = self.x_of(self.hover)
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        room = _text_width(self.label_font, f"{hi:,}") * 2.5  # a label's space between ticks
        end = f"{hi:,} recorded"
        labels = [(self._plate(below, below.left(), f"{lo:,}"), f"{lo:,}"),
                  (self._plate(below, below.right(), end), end)]  # the ends first
        for value in ticks(lo, hi, max(1, int(rect.width() / room))):
            x = self.x_of(value)
            p.setPen(QPen(QColor(self.theme.muted), 1))
            p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 4 * self.scale))
            plate = self._plate(below, x, f"{value:,}")
            if not any(plate.intersects(other) for other, _ in labels):
                labels.append((plate, f"{value:,}"))
        p.setPen(QColor(self.theme.muted))
        for plate, text in labels:
            if focus is None or not plate.intersects(focus[0]):
                p.drawText(plate, Qt.AlignmentFlag.AlignCenter, text)
        if focus is not None:
            p.setPen(QColor(self.theme.foreground))
            p.drawText(focus[0], Qt.AlignmentFlag.AlignCenter, focus[1])

    def _plate(self, below: QRectF, x: float, text: str) -> QRectF:
        """Where a label centred at x goes, kept inside the axis."""
        width = _text_width(self.label_font, text) + 8 * self.scale
        left = min(max(x - width / 2, below.left()), below.right() - width)
        return QRectF(left, below.top(), width, below.height())

    def _draw_marker(self, p: QPainter, rect: QRectF, icount: int, colour: QColor,
                     *, solid: bool) -> None:
        x = self.x_of(icount)
        style = Qt.PenStyle.SolidLine if solid else Qt.PenStyle.DashLine
        p.setPen(QPen(colour, max(2.0, 2.5 * self.scale), style))
        p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        size = 6 * self.scale
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        for y, sign in ((rect.top(), 1), (rect.bottom(), -1)):  # a handle at each end
            p.drawPolygon(QPolygonF([QPointF(x - size, y - sign * size * 0.2),
                                     QPointF(x + size, y - sign * size * 0.2),
                                     QPointF(x, y + sign * size)]))



def _text_width(font: QFont, text: str) -> float:
    return QFontMetricsF(font).horizontalAdvance(text)
