"""The protection rings, who runs in each, and a token that travels between them.

Students see a trap as a movement: the token leaves the guest kernel's ring for
the monitor's and comes back. Hardware assist adds a second axis (VMX root and
non-root mode), so it gets two ring sets side by side rather than a fifth ring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QAbstractAnimation,
    QEasingCurve,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QVariantAnimation,
)
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from vizvm.session.views import Place
from vizvm.ui.theme import DEFAULT_THEME, THEMES, Theme

HOP_MS = 180
MAX_HOPS = 8  # a frame of running may hold hundreds of stops: show only the last few
GUEST_LABELS = ("guest kernel", "guest user")
FIT = (280, 240)  # below this size everything shrinks together, so that nothing overlaps


@dataclass
class _Geometry:
    """Everything placed on the widget, worked out afresh from its size at each use."""

    u: float  # pixels per design pixel
    sets: dict[bool, QRectF]  # root mode or not -> the outer ellipse's box
    edges: list[float]  # the outer edge of rings 0..3, as a fraction of the outer ellipse
    token: float  # the token's radius
    label: QFont
    small: QFont
    title: QFont


class RingDiagram(QWidget):
    """Concentric rings 0 (inside) to 3, named by their occupants, and the token."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme = THEMES[DEFAULT_THEME]
        self._scale = 1.0
        self._occupants: tuple[tuple[str, Place], ...] = ()
        self._path: list[Place] = []  # the stops being travelled; the token ends at the last
        self._progress = 0.0  # 0 .. len(path) - 1; the fraction is the way through a hop
        self._ease = QEasingCurve(QEasingCurve.Type.InOutQuad)
        self._anim = QVariantAnimation(self)
        self._anim.valueChanged.connect(self._advance)
        self._anim.finished.connect(lambda: self._advance(len(self._path) - 1))
        self.setMinimumSize(self.minimumSizeHint())

    # the API ------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.update()

    def set_scale(self, factor: float) -> None:
        """Presentation mode: larger text, lines and token, read from the back row."""
        self._scale = factor
        self.setMinimumSize(self.minimumSizeHint())
        self.updateGeometry()
        self.update()

    def set_occupants(self, occupants: Sequence[tuple[str, Place]]) -> None:
        self._occupants = tuple(occupants)
        self.update()

    def show_path(self, path: Sequence[Place], animate: bool = True) -> None:
        """Move the token through `path` hop by hop; a path still under way jumps to its end."""
        if not path:
            return
        if self._path and all(p == self._path[-1] for p in path):
            return  # nothing moves (and a hop under way goes on): no repaint
        self._anim.stop()
        stops = self._path[-1:] + list(path)
        stops = [p for i, p in enumerate(stops) if i == 0 or p != stops[i - 1]]
        self._path = stops[-(MAX_HOPS + 1):]
        hops = len(self._path) - 1
        self._progress = 0.0 if animate else float(hops)
        if animate and hops:
            self._anim.setStartValue(0.0)
            self._anim.setEndValue(float(hops))
            self._anim.setDuration(HOP_MS * hops)
            self._anim.start()
        self.update()

    def token_place(self) -> Place | None:
        return self._path[-1] if self._path else None

    def is_animating(self) -> bool:
        return self._anim.state() == QAbstractAnimation.State.Running

    def token_center(self) -> QPointF:
        """Where the token is drawn now, in widget coordinates (for tests)."""
        return self._token_point(self._geometry())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(round(300 * self._scale), round(260 * self._scale))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(round(200 * self._scale), round(170 * self._scale))

    # geometry -----------------------------------------------------------------------
    def _advance(self, value: float) -> None:
        self._progress = float(value)
        self.update()

    def _split(self) -> bool:
        return any(place.root for _, place in self._occupants)

    def _geometry(self) -> _Geometry:
        u = self._scale * min(1.0, self.width() / FIT[0], self.height() / FIT[1])
        fonts = [QFont(self.font()) for _ in range(3)]
        for font, px, bold in zip(fonts, (13, 11, 12), (True, False, True), strict=True):
            font.setPixelSize(max(8, round(px * u)))
            font.setBold(bold)
        caption = QFontMetricsF(fonts[0]).height() + 10 * u
        top = QFontMetricsF(fonts[2]).height() + 6 * u if self._split() else 4 * u
        area = QRectF(4 * u, top, self.width() - 8 * u, self.height() - top - caption)
        sets = {False: area}
        if self._split():
            half = (area.width() - 10 * u) / 2
            sets = {True: QRectF(area.left(), area.top(), half, area.height()),
                    False: QRectF(area.right() - half, area.top(), half, area.height())}
        used = {place.ring for _, place in self._occupants}  # rings with a name get more room
        weights = [(1.3 if ring in used else 0.7) + (0.5 if ring == 0 else 0) for ring in range(4)]
        edges = [sum(weights[: ring + 1]) / sum(weights) for ring in range(4)]
        side = min(min(r.width(), r.height()) / 2 for r in sets.values())
        band = side * min([w for r, w in enumerate(weights) if r in used - {0}] or [1.0])
        token = max(4 * u, min(8 * u, band / sum(weights) / 2 - 3 * u))  # fits in its band
        return _Geometry(u, sets, edges, token, *fonts)

    def _names(self, root: bool, ring: int) -> str:
        split = self._split()
        return " / ".join(name for name, p in self._occupants
                          if p.ring == ring and (p.root == root or not split))

    def _anchor(self, geo: _Geometry, place: Place) -> QPointF:
        """A place's stop: ring 0's centre, or the highest point of the band beside its name."""
        rect = geo.sets.get(place.root and self._split(), geo.sets[False])
        ring, c = min(max(place.ring, 0), 3), rect.center()
        if ring == 0:
            return c
        m = (geo.edges[ring - 1] + geo.edges[ring]) / 2
        a, b = rect.width() / 2 * m, rect.height() / 2 * m  # the band's middle line
        name, fm = self._names(place.root, ring), QFontMetricsF(geo.label)
        half_w = min(fm.horizontalAdvance(name), rect.width()) / 2 + fm.height() / 4
        x, y = 0.0, -b
        for step in range(45, -1, -1):
            angle = math.radians(step * 2)
            x, y = a * math.cos(angle), -b * math.sin(angle)
            dx, dy = max(abs(x) - half_w, 0.0), max(abs(y + b) - fm.height() / 2, 0.0)
            if not name or math.hypot(dx, dy) > geo.token + 5 * geo.u:
                break
        return QPointF(c.x() + x, c.y() + y)

    def _token_point(self, geo: _Geometry) -> QPointF:
        if not self._path:
            return QPointF()
        i = min(int(self._progress), len(self._path) - 1)
        here = self._anchor(geo, self._path[i])
        if i == len(self._path) - 1:
            return here
        there = self._anchor(geo, self._path[i + 1])
        return here + (there - here) * self._ease.valueForProgress(self._progress - i)

    def _caption(self) -> tuple[str, bool]:
        """The current stop's label, and whether it is in the monitor (emphasised)."""
        if not self._path:
            return "", False
        place = self._path[min(int(self._progress + 0.5), len(self._path) - 1)]
        text = place.label or self._names(place.root, place.ring) or f"ring {place.ring}"
        return text, text not in GUEST_LABELS

    # drawing ------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        t, geo = self._theme, self._geometry()
        u = geo.u
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.fillRect(self.rect(), QColor(t.background))
        for root, rect in geo.sets.items():
            if self._split():  # a panel per mode, titled: the split is told in words too
                head = QFontMetricsF(geo.title).height() + 4 * u
                panel = rect.adjusted(-3 * u, -head, 3 * u, 3 * u)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(t.root if root else t.surface))
                p.drawRoundedRect(panel, 6 * u, 6 * u)
                p.setFont(geo.title)
                p.setPen(QColor(t.foreground))
                p.drawText(QRectF(panel.left(), panel.top() + 2 * u, panel.width(), head),
                           Qt.AlignmentFlag.AlignHCenter, "root mode" if root else "non-root mode")
            self._draw_set(p, geo, rect, root)
        self._draw_token(p, geo)
        self._draw_caption(p, geo)
        p.end()

    def _draw_set(self, p: QPainter, geo: _Geometry, rect: QRectF, root: bool) -> None:
        t, c, edges = self._theme, rect.center(), geo.edges
        p.setPen(QPen(QColor(t.muted), 1.2 * geo.u))
        for ring in range(3, -1, -1):
            p.setBrush(QColor(t.rings[ring]))
            p.drawEllipse(c, rect.width() / 2 * edges[ring], rect.height() / 2 * edges[ring])
        fm_l, fm_s = QFontMetricsF(geo.label), QFontMetricsF(geo.small)
        for ring in range(4):
            name = self._names(root, ring)
            if ring == 0:  # the token at the centre, the name above it (wrapped), "ring 0" below
                name = self._wrap(name, fm_l, rect.width() * edges[0] * 0.9)
                gap = geo.token + 4 * geo.u
                name_y = c.y() - gap - fm_l.height() * (name.count("\n") + 1) / 2
                ring_y = c.y() + gap + fm_s.height() / 2
            else:  # the name at the top of the band, the ring's number at the bottom
                mid = rect.height() / 2 * (edges[ring - 1] + edges[ring]) / 2
                name_y, ring_y = c.y() - mid, c.y() + mid
            self._text(p, geo.small, QColor(t.muted), f"ring {ring}",
                       at=QPointF(c.x(), ring_y), width=rect.width())
            if name:
                self._text(p, geo.label, QColor(t.foreground), name, at=QPointF(c.x(), name_y),
                           width=rect.width(), pill=QColor(t.rings[ring]))

    @staticmethod
    def _text(p: QPainter, font: QFont, colour: QColor, text: str, *, at: QPointF, width: float,
              pill: QColor | None = None) -> None:
        """Centred lines, on a pill of their band's colour so that no ring line crosses them."""
        fm = QFontMetricsF(font)
        lines = [fm.elidedText(line, Qt.TextElideMode.ElideRight, width)
                 for line in text.split("\n")]
        w = max(fm.horizontalAdvance(line) for line in lines) + fm.height() / 2
        h = fm.height() * len(lines)
        box = QRectF(at.x() - w / 2, at.y() - h / 2, w, h)
        if pill is not None:
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pill)
            p.drawRoundedRect(box, fm.height() / 2, fm.height() / 2)
        p.setFont(font)
        p.setPen(colour)
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, "\n".join(lines))

    @staticmethod
    def _wrap(text: str, fm: QFontMetricsF, width: float) -> str:
        """Break a name at spaces so that it fits inside ring 0 (narrow in the split view)."""
        lines: list[str] = []
        for word in text.split(" "):
            if lines and fm.horizontalAdvance(f"{lines[-1]} {word}") <= width:
                lines[-1] += f" {word}"
            else:
                lines.append(word)
        return "\n".join(lines)

    def _draw_token(self, p: QPainter, geo: _Geometry) -> None:
        if not self._path:
            return
        t, u, at = self._theme, geo.u, self._token_point(geo)
        p.setPen(QPen(QColor(t.foreground), 1.5 * u))  # a ring of background, then a line:
        p.setBrush(QColor(t.background))  # the token stands out on any band, in any theme
        p.drawEllipse(at, geo.token + 2 * u, geo.token + 2 * u)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(t.accent))
        p.drawEllipse(at, geo.token, geo.token)

    def _draw_caption(self, p: QPainter, geo: _Geometry) -> None:
        text, monitor = self._caption()
        if not text:
            return
        t, u, font = self._theme, geo.u, QFont(geo.label)
        font.setBold(monitor)
        fm = QFontMetricsF(font)
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, self.width() - 24 * u)
        w, h = fm.horizontalAdvance(text) + fm.height(), fm.height() + 4 * u
        box = QRectF((self.width() - w) / 2, self.height() - h - 3 * u, w, h)
        if monitor:  # in the monitor: bold, on a solid pill (a shape as well as a colour)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(t.accent))
            p.drawRoundedRect(box, h / 2, h / 2)
        p.setFont(font)
        p.setPen(QColor(t.background if monitor else t.foreground))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
