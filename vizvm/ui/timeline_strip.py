"""The timeline's event strip as whole arrays: each technique's binned event counts
summed into pixel columns, and the columns drawn into one image.

Nothing here goes per event or per point: a pane's Series holds at most a
few hundred bins, and a strip is a numpy array the width of the bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QColor, QImage

from vizvm.session.views import PaneView, Series

# the monitor's work, and what any guest's kernel sees: not I/O, cache hits, halts
STRIP_KINDS = ("trap", "vm-exit", "hypercall", "callout", "translate", "exception",
               "interrupt")


@dataclass(frozen=True)
class Row:
    """One technique's events: counts per bin of `bin_width` guest instructions."""

    technique: str
    program: str
    counts: np.ndarray
    bin_width: int

    @property
    def reach(self) -> int:
        return len(self.counts) * self.bin_width


def events_row(view: PaneView) -> Row:
    series: Series | None = view.series
    if series is None or not series.by_kind:
        return Row(view.technique, view.program, np.zeros(0, np.int64), 1)
    arrays = [series.by_kind[k] for k in STRIP_KINDS if k in series.by_kind]
    length = max((len(a) for a in arrays), default=0)
    counts = np.zeros(length, np.int64)
    for array in arrays:
        counts[: len(array)] += array
    return Row(view.technique, view.program, counts, series.bin_width)


def columns(row: Row, lo: int, hi: int, width: int) -> np.ndarray:
    """The row's events summed into `width` pixel columns spanning instructions lo..hi.
    A bin wider than a column fills every column it covers."""
    out = np.zeros(max(width, 0), np.float64)
    if not len(row.counts) or width <= 0 or hi <= lo:
        return out
    span = hi - lo
    starts = np.arange(len(row.counts), dtype=np.float64) * row.bin_width
    first = np.floor((starts - lo) / span * width).astype(np.int64)
    last = np.floor((starts + row.bin_width - 1 - lo) / span * width).astype(np.int64)
    keep = (row.counts > 0) & (last >= 0) & (first < width)
    first, last = np.clip(first[keep], 0, width - 1), np.clip(last[keep], 0, width - 1)
    counts = row.counts[keep].astype(np.float64)
    share = counts / (last - first + 1)  # a wide bin's events spread over its columns
    steps = np.zeros(len(out) + 1, np.float64)
    np.add.at(steps, first, share)
    np.add.at(steps, last + 1, -share)
    return np.cumsum(steps[:-1])


def strip_image(sums: Sequence[np.ndarray], colours: Sequence[QColor], row_height: int) -> QImage:
    """The rows' bars as one image, built as a whole array: a bar per pixel column, its
    height the column's events on a log scale shared by every row (so rows compare)."""
    width = len(sums[0]) if sums else 0
    pixels = np.zeros((max(len(sums), 1) * row_height, max(width, 1)), np.uint32)
    peak = max((float(c.max()) for c in sums if len(c)), default=0.0)
    if peak > 0:
        ys = np.arange(row_height)[:, None]
        for index, (counts, colour) in enumerate(zip(sums, colours, strict=True)):
            heights = np.where(counts > 0, np.rint(
                2 + (row_height - 4) * np.log1p(counts) / np.log1p(peak)), 0)
            bars = (ys >= row_height - 1 - heights[None, :]) & (ys < row_height - 1)
            pixels[index * row_height: (index + 1) * row_height][bars] = colour.rgba()
    height, width = pixels.shape
    return QImage(pixels.tobytes(), width, height, width * 4, QImage.Format.Format_ARGB32).copy()


def ticks(lo: int, hi: int, most: int) -> list[int]:
    """Round instruction counts between lo and hi, at most `most` of them (1, 2, 5 x 10^k
    apart), for the axis."""
    step = 1
    while (hi - lo) / step > most:
        for factor in (2, 5 / 2, 2):
            step = int(step * factor)
            if (hi - lo) / step <= most:
                break
    first = -(-lo // step) * step
    return list(range(first, hi + 1, step))
