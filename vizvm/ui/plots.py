"""Two plots under the panes: the overhead race and the events over guest time.

The race puts every technique's cumulative simulated cycles against the same
guest instructions, so the steepest line is the costliest technique. Each
line has its own dash pattern as well as its colour, so that it reads in
grey-scale and under colour-vision deficiencies.

The events plot stacks one technique's events as filled bars, at most
MAX_BARS of them (hairline bins vanish on a projector). A stack, not small
multiples: a strip a few hundred pixels high split ten ways leaves rows too
thin to label, while a stack shows the total work, with the monitor's own
events (traps, exits, hypercalls, callouts) at the bottom, read against the
axis. The order is fixed, so a kind keeps its place when the technique
changes, and the legend beside lists the kinds in the stack's order.

Legends sit outside the plotting area so they never hide data. A timer
redraws from the latest whole arrays at a steady rate, only when they
changed, reusing the items it made once per technique and kind.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.LegendItem import ItemSample
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from vizvm.session.views import PaneView
from vizvm.ui.theme import BASE_POINT_SIZE, DEFAULT_THEME, THEMES, Theme

FRAME_MS = 100  # 10 redraws a second: steady, and cheap enough for software painting
MAX_BARS = 64  # events are summed into at most this many bars
DASHES = {"native": Qt.PenStyle.SolidLine, "trap-emulate": Qt.PenStyle.DashLine,
          "binary-translation": Qt.PenStyle.DotLine, "paravirt": Qt.PenStyle.DashDotLine,
          "hardware-assist": Qt.PenStyle.DashDotDotLine}
# bottom of the stack first: the monitor's own work, then what any guest does
STACK = ("trap", "vm-exit", "hypercall", "callout", "translate", "emulate", "cache-miss",
         "cache-hit", "invalidate", "exception", "interrupt", "io", "ring-change", "halt")


def compact(value: float) -> str:
    """1500000 as 1.5M: short tick labels stay legible when the fonts grow."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.4g}{suffix}"
    return f"{value:.4g}"


class CompactAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        return [compact(v * scale) for v in values]


class Sample(ItemSample):
    """A legend mark long enough to show a line's dashes, or a square of a layer's fill."""

    def __init__(self, item: pg.PlotDataItem, scale: float) -> None:
        super().__init__(item)
        self.size = 20 * scale
        self.setFixedWidth(self.boundingRect().width())
        self.setFixedHeight(self.size)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt API
        fill = self.item.opts.get("fillLevel") is not None
        return QRectF(0, 0, self.size * (1 if fill else 2.4), self.size)

    def paint(self, p, *args) -> None:
        opts, rect = self.item.opts, self.boundingRect()
        p.setRenderHint(p.RenderHint.Antialiasing)
        p.setPen(pg.mkPen(opts["pen"]))
        if opts.get("fillLevel") is None:
            p.drawLine(QPointF(0, rect.center().y()), QPointF(rect.width(), rect.center().y()))
        else:
            p.setBrush(pg.mkBrush(opts["fillBrush"]))
            p.drawRect(rect.adjusted(2, 2, -2, -2))

    def mouseClickEvent(self, event) -> None:  # noqa: N802 - the plot decides what shows
        event.ignore()


class Legend(pg.LegendItem):
    """A legend in its own cell of the plot's layout, where it never hides a line."""

    def updateSize(self) -> None:  # noqa: N802 - pyqtgraph API
        self.updateGeometry()  # the plot's layout places it, not a fixed geometry


def _plot(above: bool) -> tuple[pg.PlotWidget, Legend]:
    """A plot with its legend above it in two columns, or beside it in one."""
    plot = pg.PlotWidget(axisItems={"left": CompactAxis("left"),
                                    "bottom": CompactAxis("bottom")})
    plot.setMenuEnabled(False)
    plot.showGrid(x=False, y=False)  # a grid is drawn by the axes, 4x their cost: 30 ms a frame
    legend = Legend(frame=False, colCount=2 if above else 1, horSpacing=12)
    layout = plot.getPlotItem().layout
    if above:  # when narrow, clip the legend rather than the plot
        legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        legend.setMinimumWidth(0)
        layout.removeItem(plot.getPlotItem().titleLabel)  # the panel titles its plots
        layout.addItem(legend, 0, 0, 1, 4)
    else:
        legend.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        layout.addItem(legend, 2, 3)
    layout.setAlignment(legend, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    return plot, legend


def _same(a: Sequence[PaneView], b: Sequence[PaneView]) -> bool:
    """Whether two frames draw the same, so a paused window costs no redraws."""
    def shape(p: PaneView) -> tuple:
        s = p.series
        return p.technique, p.title, s and (s.bin_width, tuple(s.by_kind), len(s.icount))

    def arrays(p: PaneView) -> list[np.ndarray]:
        s = p.series
        return [] if s is None else [s.icount, s.cycles, *s.by_kind.values()]

    return len(a) == len(b) and all(
        shape(x) == shape(y) and all(map(np.array_equal, arrays(x), arrays(y)))
        for x, y in zip(a, b, strict=True))


class PlotsPanel(QWidget):
    """The race beside the events, fed by `update_panes` and drawn by a timer."""

    def __init__(self) -> None:
        super().__init__()
        self.frames_drawn = 0
        self.panes: tuple[PaneView, ...] = ()
        self.theme: Theme = THEMES[DEFAULT_THEME]
        self.scale = 1.0
        self._dirty = False
        # the race's legend goes above it, in two columns: its lines want the width
        self.race, self.race_legend = _plot(above=True)
        self.race.setLabel("bottom", "guest instructions")
        self.race.setLabel("left", "simulated cycles (profile)")
        # the events' legend goes beside them, in the stack's order
        self.events, self.events_legend = _plot(above=False)
        self.events.setLabel("bottom", "guest instructions")
        self.events.setLabel("left", "events per bin")
        self.lines: dict[str, pg.PlotDataItem] = {}
        self.layers: dict[str, pg.PlotDataItem] = {}
        self._shown: tuple[tuple[str, str], ...] = ()  # legend entries, rebuilt on change
        self._shown_kinds: tuple[str, ...] = ()
        self.race_title = QLabel("The overhead race")
        self.events_title = QLabel("Events over guest time under")
        self.technique = QComboBox()
        self.technique.setToolTip("Whose events to plot")
        self.technique.currentIndexChanged.connect(lambda _index: self._schedule())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for parts in ((self.race_title,), (self.events_title, self.technique)):
            header = QHBoxLayout()
            for part in parts:
                header.addWidget(part)
            header.addStretch(1)
            column = QVBoxLayout()
            column.addLayout(header)
            column.addWidget(self.race if len(parts) == 1 else self.events, 1)
            layout.addLayout(column, 1)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.frame)
        self._style()

    # what the window calls ----------------------------------------------------------
    def update_panes(self, panes: Sequence[PaneView]) -> None:
        """Keep the latest frame; the timer draws it if it differs from the last."""
        panes = tuple(panes)
        if not _same(panes, self.panes):
            self.panes = panes
            self._choices()
            self._schedule()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._style()

    def set_scale(self, factor: float) -> None:
        """Presentation mode: fonts, ticks and lines grow together."""
        self.scale = factor
        self._style()

    def frame(self) -> None:
        """One tick of the timer: redraw if anything changed, else go idle."""
        if self._dirty:
            self.redraw_now()
        else:
            self.timer.stop()

    def redraw_now(self) -> None:
        self._dirty = False
        self.frames_drawn += 1
        self._draw_race()
        self._draw_events()

    @property
    def chosen(self) -> str:
        return str(self.technique.currentData() or "")

    # drawing ------------------------------------------------------------------------
    def _schedule(self) -> None:
        self._dirty = True
        if not self.timer.isActive():
            self.timer.start()

    def _choices(self) -> None:
        """The combo lists the panes by title, keeping the choice if it is still there."""
        wanted = [(p.title, p.technique) for p in self.panes]
        have = [(self.technique.itemText(i), self.technique.itemData(i))
                for i in range(self.technique.count())]
        if wanted == have:
            return
        keep = self.chosen or next((t for _, t in wanted if t != "native"), "")
        self.technique.blockSignals(True)
        self.technique.clear()
        for title, technique in wanted:
            self.technique.addItem(title, technique)
        index = self.technique.findData(keep)
        self.technique.setCurrentIndex(max(index, 0) if wanted else -1)
        self.technique.blockSignals(False)

    def _draw_race(self) -> None:
        shown = tuple((p.technique, p.title) for p in self.panes if p.series is not None)
        for pane in self.panes:
            line = self.lines.get(pane.technique)
            if line is None:
                line = self.lines[pane.technique] = self.race.plot()
                self._pen_line(pane.technique, line)
            if pane.series is not None:
                line.setData(pane.series.icount, pane.series.cycles)
        for technique, line in self.lines.items():
            line.setVisible(any(t == technique for t, _ in shown))
        if shown != self._shown:
            self._shown = shown
            self.race_legend.clear()
            for technique, title in shown:
                self.race_legend.addItem(Sample(self.lines[technique], self.scale), title)

    def _draw_events(self) -> None:
        pane = next((p for p in self.panes if p.technique == self.chosen), None)
        series = pane.series if pane is not None else None
        counts = {} if series is None else {k: v for k, v in series.by_kind.items() if v.any()}
        kinds = sorted(counts, key=lambda k: STACK.index(k) if k in STACK else len(STACK))
        group, width = 1, series.bin_width if series else 0
        bins = max((len(v) for v in counts.values()), default=0)
        while bins > group * MAX_BARS:  # bars a projector shows, not hairlines
            group *= 2
        bins = -(-bins // group) * group
        label = f"events per {width * group:,} instructions" if series else "events per bin"
        if self.events.getAxis("left").labelText != label:
            self.events.setLabel("left", label)
        total = None
        for depth, kind in enumerate(kinds):
            layer = self.layers.get(kind)
            if layer is None:
                layer = self.layers[kind] = self.events.plot(stepMode="center", fillLevel=0)
                self._pen_layer(kind, layer)
            binned = np.pad(counts[kind], (0, bins - len(counts[kind])))
            binned = binned.reshape(-1, group).sum(axis=1)
            total = binned if total is None else total + binned
            edges = np.arange(len(total) + 1) * width * group
            layer.setData(edges, total)
            layer.setZValue(-depth)  # lower layers drawn over the taller ones
        for kind, layer in self.layers.items():
            layer.setVisible(kind in counts)
        if tuple(kinds) != self._shown_kinds:
            self._shown_kinds = tuple(kinds)
            self.events_legend.clear()
            for kind in reversed(kinds):  # the legend reads top down, like the stack
                self.events_legend.addItem(Sample(self.layers[kind], self.scale), kind)

    # style --------------------------------------------------------------------------
    def _pen_line(self, technique: str, line: pg.PlotDataItem) -> None:
        line.setPen(pg.mkPen(self.theme.techniques.get(technique, self.theme.foreground),
                             width=2 * self.scale,
                             style=DASHES.get(technique, Qt.PenStyle.SolidLine)))

    def _pen_layer(self, kind: str, layer: pg.PlotDataItem) -> None:
        layer.setPen(pg.mkPen(self.theme.background, width=self.scale))
        layer.setFillBrush(pg.mkBrush(self.theme.events.get(kind, self.theme.muted)))

    def _style(self) -> None:
        theme, size = self.theme, BASE_POINT_SIZE * self.scale
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(theme.background))
        palette.setColor(QPalette.ColorRole.WindowText, QColor(theme.foreground))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        font = QFont()
        font.setPointSizeF(size)
        bold = QFont(font)
        bold.setBold(True)
        for title in (self.race_title, self.events_title):
            title.setFont(bold)
        self.technique.setFont(font)
        label = {"color": theme.foreground, "font-size": f"{size:g}pt"}
        for plot, legend in ((self.race, self.race_legend), (self.events, self.events_legend)):
            plot.setBackground(theme.background)
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen(pg.mkPen(theme.muted, width=self.scale))
                axis.setTextPen(theme.foreground)
                axis.setStyle(tickFont=font, tickTextOffset=int(4 * self.scale))
                axis.setLabel(axis.labelText, **label)
            legend.setLabelTextColor(theme.foreground)
            legend.setLabelTextSize(f"{size:g}pt")
        for technique, line in self.lines.items():
            self._pen_line(technique, line)
        for kind, layer in self.layers.items():
            self._pen_layer(kind, layer)
        self._shown, self._shown_kinds = (), ()  # legend samples take the new pens
        self._schedule()
