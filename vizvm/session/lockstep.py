"""Several panes driven together: one guest under several techniques.

Equivalent techniques run the same guest through the same guest time (the
timer counts guest instructions), so the panes are kept in step by their
tick counts: a command moves every pane, and a stop in one pane (a
breakpoint, an event) brings the others to the same tick. A paravirtual
port is a different program; it moves in the same guest time alongside.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from vizvm.session.pane import Pane
from vizvm.session.program import Program
from vizvm.session.runner import Settings

STEP_LIMIT = 1_000_000  # steps before "next event" or "step over" gives up
QUIET = frozenset({"io", "cache-hit"})  # kinds "next event" does not stop at
CATCH_UP_STEPS = 20_000
OVER = ("call", "lcall", "int", "int3", "into")


class Lockstep:
    def __init__(self, program: Program, techniques: Sequence[str], settings: Settings,
                 port: Program | None = None) -> None:
        self.program, self.port = program, port
        self.settings = settings
        self.panes = [Pane(t, port if t == "paravirt" and port is not None else program,
                           replace(settings, technique=t)) for t in techniques]
        self.breakpoints: dict[str, frozenset[int]] = {}
        self.stop = threading.Event()  # set by another thread: end the current command
        for pane in self.panes:
            pane.stop = self.stop.is_set
        self.note = ""

    @property
    def live(self) -> list[Pane]:
        return [p for p in self.panes if p.live]

    def reset(self) -> None:
        for pane in self.panes:
            pane.build()
            pane.set_breakpoints(self.breakpoints.get(pane.program.name, frozenset()))
        self.note = "reset: every guest is back at its first instruction"

    def set_breakpoints(self, program: str, addresses: frozenset[int]) -> None:
        self.breakpoints[program] = addresses
        for pane in self.panes:
            if pane.program.name == program:
                pane.set_breakpoints(addresses)

    # stepping ---------------------------------------------------------------------
    def step(self) -> None:
        """One guest instruction in every pane."""
        for pane in self.live:
            pane.step()
        self.note = ""

    def step_over(self) -> None:
        """A call or INT n with everything it calls, as one step, in every pane."""
        for pane in self.live:
            insn = pane.current()
            if insn.mnemonic not in OVER and not insn.mnemonic.startswith("rep"):
                pane.step()
                continue
            target = insn.address + insn.size
            steps = self._step_until(pane, lambda p, t=target: p.pc() == t)
            if steps >= STEP_LIMIT:
                self.note = (f"{pane.title}: {insn.text} did not return within "
                             f"{STEP_LIMIT:,} instructions")

    def _step_until(self, pane: Pane, done: Callable[[Pane], bool]) -> int:
        steps = 0
        pane.step()
        while pane.live and not done(pane) and steps < STEP_LIMIT and not self.stop.is_set():
            if pane.at_breakpoint():
                break
            pane.step()
            steps += 1
        return steps

    def step_to_event(self) -> None:
        """Every pane forward, an instruction at a time, until one of them reports an
        event (other than I/O and cache hits) or stops at a breakpoint."""
        self._step_until_any(lambda kind: kind not in QUIET, "event")

    def step_to_unseen(self) -> None:
        """... until a sensitive instruction runs deprivileged with no monitor event in
        some pane: where trap-and-emulate goes wrong, and the others do not."""
        self._step_until_any(lambda kind: kind == "unseen",
                             "sensitive instruction that a monitor did not see")

    def _step_until_any(self, wanted: Callable[[str], bool], what: str) -> None:
        self.note = ""
        for _ in range(STEP_LIMIT):
            panes = self.live
            if not panes or self.stop.is_set():
                return
            for pane in panes:
                pane.step()
            if (any(wanted(kind) for p in panes for kind in p.step_kinds)
                    or any(p.at_breakpoint() for p in panes)):
                return
        self.note = f"no {what} in {STEP_LIMIT:,} instructions"

    # running ----------------------------------------------------------------------
    def run_steps(self, count: int) -> bool:
        """`count` single steps (a paced run); False once a breakpoint or the end stops it."""
        for _ in range(count):
            if not self.live or self.stop.is_set():
                return False
            self.step()
            if any(p.at_breakpoint() for p in self.live):
                self.note = "stopped at a breakpoint"
                return False
        return bool(self.live)

    def run_stretch(self, ticks: int) -> bool:
        """Full speed for `ticks` guest ticks; False once a breakpoint or the end stops it.

        Each pane stops at its own breakpoints: where a technique changed the guest's
        path (trap-and-emulate on the holes), it reaches them at another moment, and
        that difference is worth seeing. A pane whose emulator cannot stop at them by
        itself (binary translation runs kernel code from its cache) runs to where the
        others stopped, then steps the rest of the way.
        """
        panes = self.live
        if not panes:
            return False
        target = max(p.ticks for p in panes) + ticks
        leaders = [p for p in panes if p.native_breakpoints or not p.breakpoints]
        for pane in leaders:
            pane.advance_to(target)
        hits = [p.ticks for p in leaders if p.at_breakpoint()]
        for pane in panes:
            if pane not in leaders:
                self._catch_up(pane, min(hits, default=target), target)
        if any(p.at_breakpoint() for p in self.live):
            self.note = "stopped at a breakpoint"
            return False
        return bool(self.live)

    def _catch_up(self, pane: Pane, hint: int, target: int) -> None:
        pane.advance_to(hint)
        steps = 0
        while (pane.live and pane.ticks < target and not pane.at_breakpoint()
               and steps < CATCH_UP_STEPS and not self.stop.is_set()):
            pane.step()
            steps += 1
        if not pane.at_breakpoint():
            pane.advance_to(target)

    def go_to(self, pane_index: int, icount: int) -> None:
        """Every pane to the moment the chosen pane was about to run instruction `icount`
        (an event's row: its instruction is the next to run)."""
        self.seek(pane_index, max(0, icount - 1))
        self.note = f"went to instruction {icount:,} of {self.panes[pane_index].title}"

    # going back: each pane's recording (timetravel.py) ----------------------------------
    def seek(self, pane_index: int, icount: int) -> None:
        """The chosen pane to where `icount` instructions had begun, earlier or later
        (the nearest snapshot, then forward); the others to the same tick."""
        if not 0 <= pane_index < len(self.panes):
            self.note = f"there is no pane {pane_index}"
            return
        chosen = self.panes[pane_index]
        if chosen.machine is None:
            return
        chosen.seek(icount)
        for pane in self.panes:
            if pane is not chosen:
                pane.seek_ticks(chosen.ticks)
        self.note = f"at instruction {chosen.machine.icount:,} of {chosen.title}"

    def step_back(self) -> None:
        """One guest instruction back in every pane."""
        for pane in self.panes:
            pane.step_back()
        self.note = ""

    def back_to_event(self) -> None:
        """Every pane back to the latest event before now in any pane (not I/O, not a
        cache hit): the event's instruction is the next to run."""
        found = [(pane.previous_event(), i) for i, pane in enumerate(self.panes)]
        found = [(icount, i) for icount, i in found if icount is not None]
        if not found:
            self.note = "no earlier event in the recording"
            return
        icount, index = max(found)
        self.seek(index, max(0, icount - 1))
        self.note = f"back to the event at instruction {icount:,} of {self.panes[index].title}"
