"""Plot data gathered while a guest runs, in bounded memory.

Events are counted into bins of guest time that double in width when there
are too many, and cumulative cycles are sampled, halving the samples when
they grow too many: a run of a billion instructions costs the same few
kilobytes as one of a thousand, and the window draws whole arrays.
"""

from __future__ import annotations

import numpy as np

from vizvm.session.views import Series

MAX_BINS = 512
MAX_SAMPLES = 4096


class Timeline:
    def __init__(self) -> None:
        self.bin_width = 64
        self._bins: dict[str, np.ndarray] = {}
        self._icount = np.zeros(MAX_SAMPLES, dtype=np.int64)
        self._cycles = np.zeros(MAX_SAMPLES, dtype=np.int64)
        self._samples = 0
        self._stride = 1  # keep one sample in this many
        self._offered = 0

    def count(self, kind: str, icount: int) -> None:
        index = icount // self.bin_width
        while index >= MAX_BINS:
            self._widen()
            index = icount // self.bin_width
        bins = self._bins.get(kind)
        if bins is None:
            bins = self._bins[kind] = np.zeros(MAX_BINS, dtype=np.int64)
        bins[index] += 1

    def _widen(self) -> None:
        self.bin_width *= 2
        for kind, bins in self._bins.items():
            merged = bins.reshape(-1, 2).sum(axis=1)
            self._bins[kind] = np.concatenate([merged, np.zeros(MAX_BINS // 2, np.int64)])

    def sample(self, icount: int, cycles: int) -> None:
        if self._samples and self._icount[self._samples - 1] == icount:
            self._cycles[self._samples - 1] = cycles
            return
        self._offered += 1
        if self._offered % self._stride:
            return
        if self._samples == MAX_SAMPLES:
            keep = self._samples // 2
            self._icount[:keep] = self._icount[: self._samples : 2]
            self._cycles[:keep] = self._cycles[: self._samples : 2]
            self._samples = keep
            self._stride *= 2
        self._icount[self._samples] = icount
        self._cycles[self._samples] = cycles
        self._samples += 1

    def series(self) -> Series:
        used = 1 + max((int(np.flatnonzero(b).max()) for b in self._bins.values() if b.any()),
                       default=0)
        return Series(
            icount=self._icount[: self._samples].copy(),
            cycles=self._cycles[: self._samples].copy(),
            bin_width=self.bin_width,
            by_kind={k: b[:used].copy() for k, b in self._bins.items()},
        )
