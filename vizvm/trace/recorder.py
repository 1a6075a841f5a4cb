"""What a recording keeps of a run: memory at each snapshot, and the events.

Unicorn tracks no dirty pages without a Python write hook, which the fast
path must not have, so the pages written since the last snapshot are found
by comparing memory with a copy of it at that snapshot (numpy, as 64-bit
words: a 20 MiB machine compares in a few milliseconds, see
docs/performance.md). A snapshot keeps only the pages that differ; memory
at snapshot k is zeros with the changed pages of snapshots 0..k laid over
it (snapshot 0 keeps the pages that are not all zeros).

The event tape holds every event of the run in order. A run is a pure
function of its image and settings, so the events after the place a
recording went back to are still its future: they are kept, and events
re-lived while running forward again are recognised by their ordinal and
not stored twice.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from vizvm.trace.events import Event

PAGE = 0x1000
WORDS = PAGE // 8
MAX_TAPE = 1_000_000  # events kept whole (for export); the rest only as counts


@dataclass
class _Delta:
    pages: np.ndarray  # page numbers, int64
    data: np.ndarray  # uint8 [len(pages), PAGE]


class RamHistory:
    """Memory at every snapshot, as deltas of changed pages."""

    def __init__(self, first: np.ndarray) -> None:
        if first.size % PAGE:
            raise ValueError("memory must be a whole number of pages")
        self._last = np.zeros_like(first)  # memory at the newest snapshot
        self._deltas: list[_Delta] = []
        self.add(first)  # the first snapshot: its pages that are not all zeros

    def __len__(self) -> int:
        return len(self._deltas)

    @property
    def nbytes(self) -> int:
        """What the history holds, the whole copy to compare against included."""
        return self._last.nbytes + sum(
            d.pages.nbytes + d.data.nbytes for d in self._deltas)

    def add(self, memory: np.ndarray) -> int:
        """A snapshot of `memory` (the whole of it); returns its index."""
        now = memory.view(np.uint64).reshape(-1, WORDS)
        before = self._last.view(np.uint64).reshape(-1, WORDS)
        pages = np.flatnonzero((now != before).any(axis=1))
        data = memory.reshape(-1, PAGE)[pages].copy()
        self._last.reshape(-1, PAGE)[pages] = data
        self._deltas.append(_Delta(pages.astype(np.int64), data))
        return len(self._deltas) - 1

    def changed(self, index: int) -> int:
        """Pages written between snapshot index-1 and index."""
        return len(self._deltas[index].pages)

    def at(self, index: int, into: np.ndarray | None = None) -> np.ndarray:
        """Memory at snapshot `index` (in `into`, a buffer to reuse, or a fresh array):
        each page copied once, from the newest snapshot up to `index` that wrote it."""
        if into is not None and into.shape == self._last.shape:
            out = into
            out[...] = 0
        else:
            out = np.zeros_like(self._last)
        pages = out.reshape(-1, PAGE)
        done = np.zeros(len(pages), bool)  # pages already given by a newer snapshot
        for delta in reversed(self._deltas[: index + 1]):
            fresh = ~done[delta.pages]
            if fresh.all():
                pages[delta.pages] = delta.data
            elif fresh.any():
                pages[delta.pages[fresh]] = delta.data[fresh]
            done[delta.pages] = True
        return out

    def drop(self, index: int) -> None:
        """Forget snapshot `index` (not the first nor the newest): its pages move into
        the next snapshot's, unless that one wrote them again."""
        if not 0 < index < len(self._deltas) - 1:
            raise ValueError(f"snapshot {index} cannot be dropped")
        gone, after = self._deltas.pop(index), self._deltas[index]
        keep = ~np.isin(gone.pages, after.pages)
        after.pages = np.concatenate([after.pages, gone.pages[keep]])
        after.data = np.concatenate([after.data, gone.data[keep]])


@dataclass
class EventTape:
    """Every event of a run, in order, with its guest instruction count."""

    events: list[Event] = field(default_factory=list)  # the first MAX_TAPE, whole
    icounts: list[int] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    position: int = 0  # events lived so far on the current timeline

    def __len__(self) -> int:
        return len(self.icounts)

    def seen(self, event: Event) -> None:
        """An event happened: stored if the tape has not seen it yet."""
        if self.position == len(self.icounts):
            self.icounts.append(event.icount)
            self.kinds.append(str(event.kind))
            if len(self.events) < MAX_TAPE:
                self.events.append(event)
        self.position += 1

    def rewind(self, position: int) -> None:
        """The run went back to where `position` events had happened."""
        self.position = position

    def before(self, icount: int, skip: frozenset[str] = frozenset()) -> int | None:
        """The count of the latest event (of a kind not in `skip`) of an instruction
        begun by `icount` (an event's count is that of its instruction)."""
        i = bisect.bisect_right(self.icounts, icount) - 1
        while i >= 0 and self.kinds[i] in skip:
            i -= 1
        return self.icounts[i] if i >= 0 else None

    def upto(self, position: int, limit: int) -> list[Event]:
        """The last `limit` whole events among the first `position`."""
        end = min(position, len(self.events))
        return self.events[max(0, end - limit): end]

    @property
    def nbytes(self) -> int:
        """An estimate: the event objects and the two index lists."""
        return len(self.events) * 200 + len(self.icounts) * 16
