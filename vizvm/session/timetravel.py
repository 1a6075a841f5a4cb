"""Recording a run, and going back in it: step back, back to an event, seek.

A Recording follows one machine. It takes a snapshot (machine/state.py for
the CPU and the Python objects, trace/recorder.py for memory) whenever the
machine pauses after at least `interval` guest instructions or `seconds` of
running since the last one, and keeps every event. Going to instruction N
restores the newest snapshot at or before N and runs forward to N: runs are
deterministic, so that is the machine a straight run stopped at N would be.

Memory is bounded: past `max_bytes`, every other snapshot is dropped (its
pages merge into the next) and the interval doubles, so a long run costs
fewer, sparser snapshots, never an error.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass

from vizvm.machine import state
from vizvm.machine.machine import Machine
from vizvm.trace.events import Event
from vizvm.trace.recorder import EventTape, RamHistory

INTERVAL = 20_000_000  # guest instructions between snapshots, at most (docs/performance.md)
SECONDS = 0.1  # ... or this much running: a jump re-runs at most about this long
MAX_BYTES = 256 * 1024 * 1024  # per pane: a window shows up to five
FORWARD_STRETCH = 1_000_000  # ticks run between two looks at the stop flag in a jump
QUIET = frozenset({"io", "cache-hit"})  # kinds "back to the previous event" passes over


@dataclass(frozen=True)
class Snapshot:
    icount: int
    ticks: int
    machine: state.MachineState
    tape_position: int
    extra_bytes: int  # an estimate of the Python state's size


class Recording:
    """Snapshots and events of one machine's run; see the module's docstring.

    `extras` are objects that follow the run and go back with it (a pane's
    plot data); they are snapshotted and restored like the machine's own.
    """

    def __init__(self, machine: Machine, *, interval: int = INTERVAL,
                 seconds: float | None = SECONDS, max_bytes: int = MAX_BYTES,
                 extras: tuple[object, ...] = ()) -> None:
        self.machine = machine
        self.interval, self.seconds, self.max_bytes = interval, seconds, max_bytes
        self.extras = extras
        self.tape = EventTape()
        self.last = machine.icount  # the furthest instruction count the run has reached
        self.last_ticks = machine.ticks
        self._layout = state.regions(machine.uc)
        self._scratch = state.read_memory(machine.uc, self._layout)
        self._ram = RamHistory(self._scratch)
        self.snapshots: list[Snapshot] = []
        self.stop: Callable[[], bool] = lambda: False  # asked between stretches of a jump
        self._busy = 0.0
        machine.log.listeners.append(self._on_event)
        self._snapshot(first=True)

    # recording ----------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        self.tape.seen(event)

    def note(self, busy: float = 0.0) -> None:
        """The machine paused after `busy` seconds of running: snapshot if it is time."""
        machine = self.machine
        self._busy += busy
        if machine.ticks > self.last_ticks:
            self.last, self.last_ticks = machine.icount, machine.ticks
        newest = self.snapshots[-1]
        if machine.ticks <= newest.ticks:
            return
        if (machine.icount - newest.icount >= self.interval or machine.exit is not None
                or (self.seconds is not None and self._busy >= self.seconds)):
            self._snapshot()

    def _snapshot(self, first: bool = False) -> None:
        machine = self.machine
        if not first:
            if machine.ticks < self.snapshots[-1].ticks:
                return  # only the newest point of the run is ever snapshotted
            self._scratch = state.read_memory(machine.uc, self._layout, self._scratch)
            index = self._ram.add(self._scratch)
            assert index == len(self.snapshots)
        captured = state.capture(machine, self.extras)
        self.snapshots.append(Snapshot(machine.icount, machine.ticks, captured,
                                       self.tape.position, _size(captured)))
        self._busy = 0.0
        if self.recording_bytes > self.max_bytes and len(self.snapshots) > 3:
            self._thin()

    def _thin(self) -> None:
        for index in range(len(self.snapshots) - 2, 0, -2):
            self._ram.drop(index)
            del self.snapshots[index]
        self.interval *= 2

    # where the recording reaches --------------------------------------------------------
    @property
    def first(self) -> int:
        return self.snapshots[0].icount

    @property
    def recording_bytes(self) -> int:
        """The memory the recording holds (memory pages, contexts, state, events)."""
        return (self._ram.nbytes + self.tape.nbytes
                + sum(len(s.machine.context) + s.extra_bytes for s in self.snapshots))

    # going there ------------------------------------------------------------------------
    def go_to(self, icount: int) -> None:
        """The machine as a straight run stopped when `icount` instructions had begun
        (at the exit, if the run ends sooner)."""
        icount = max(icount, self.first)
        self._from_nearest(lambda s: s.icount <= icount, icount < self.machine.icount)
        self._forward(lambda m: m.icount >= icount,
                      lambda m: m.ticks + (icount - m.icount))

    def go_to_ticks(self, ticks: int) -> None:
        """The machine at `ticks` on its clock (instructions and halted time)."""
        ticks = max(ticks, self.snapshots[0].ticks)
        self._from_nearest(lambda s: s.ticks <= ticks, ticks < self.machine.ticks)
        self._forward(lambda m: m.ticks >= ticks, lambda _m: ticks)

    def step_back(self) -> None:
        """One guest instruction back."""
        self.go_to(self.machine.icount - 1)

    def previous_event(self, skip: frozenset[str] = QUIET) -> int | None:
        """The instruction count of the latest event before the current one, if any."""
        return self.tape.before(self.machine.icount, skip)

    def back_to_previous_event(self, skip: frozenset[str] = QUIET) -> int | None:
        """To the instruction of the latest event before now; its count, or None."""
        target = self.previous_event(skip)
        if target is not None:
            self.go_to(target)
        return target

    def events_before(self, limit: int) -> list[Event]:
        """The last `limit` events that have happened on the current timeline."""
        return self.tape.upto(self.tape.position, limit)

    def _from_nearest(self, usable: Callable[[Snapshot], bool], behind: bool) -> None:
        """Restore the newest usable snapshot, unless the machine is nearer already."""
        ok = [i for i, s in enumerate(self.snapshots) if usable(s)]
        index = ok[-1] if ok else 0
        chosen = self.snapshots[index]
        if not behind and chosen.ticks <= self.machine.ticks:
            return  # ahead of the snapshot and before the target: run on from here
        self.restore(index)

    def restore(self, index: int) -> None:
        """The machine exactly as at snapshot `index`."""
        chosen = self.snapshots[index]
        machine = self.machine
        if state.regions(machine.uc) != self._layout:
            raise RuntimeError("the machine's memory map changed since the recording began "
                               "(a monitor mapped memory late): its snapshots cannot restore it")
        breakpoints = machine.breakpoints
        self._scratch = self._ram.at(index, self._scratch)
        state.write_memory(machine.uc, self._layout, self._scratch)
        state.restore(machine, chosen.machine, self.extras)
        machine.set_breakpoints(breakpoints)  # the user's, not the snapshot's
        machine.at_breakpoint = False
        self.tape.rewind(chosen.tape_position)

    def _forward(self, done: Callable[[Machine], bool], until: Callable[[Machine], int]) -> None:
        """Run on, without breakpoints, snapshotting past the recorded end as usual
        (`stop` ends it early: the machine is then short of the target)."""
        machine = self.machine
        breakpoints = machine.breakpoints
        if breakpoints:
            machine.set_breakpoints(frozenset())
        try:
            while machine.exit is None and not done(machine) and not self.stop():
                goal = min(until(machine), machine.ticks + FORWARD_STRETCH)
                started = time.perf_counter()
                machine.advance(goal)
                self.note(time.perf_counter() - started)
        finally:
            if breakpoints:
                machine.set_breakpoints(breakpoints)

    def nearest(self, icount: int) -> int:
        """The index of the snapshot a jump to `icount` starts from."""
        counts = [s.icount for s in self.snapshots]
        return max(0, bisect.bisect_right(counts, icount) - 1)


def _size(captured: state.MachineState) -> int:
    """A cheap estimate of a snapshot's Python state: its objects, walked once."""
    import sys

    import numpy as np

    seen: set[int] = set()
    total = len(captured.context)
    stack: list[object] = [captured.objects]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, state.SHARED_TYPES):
            continue
        seen.add(id(obj))
        total += obj.nbytes if isinstance(obj, np.ndarray) else sys.getsizeof(obj)
        stack.extend(state._children(obj))
    return total
