"""One guest under one technique, driven a step at a time or in stretches.

A pane owns its Machine and is used only from the engine thread. It keeps
what the window needs between frames: the events since the last frame, the
token's path through the rings, the plot data, and notes for sensitive
instructions that ran without the monitor seeing them.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from vizvm.asm.disasm import Insn
from vizvm.machine.exits import ExitKind
from vizvm.machine.loader import LoadError
from vizvm.machine.machine import Machine
from vizvm.machine.memory import MachineError
from vizvm.machine.vectors import CpuFault
from vizvm.monitors import registry
from vizvm.monitors.binary_translation import BinaryTranslation
from vizvm.monitors.hardware_assist import HardwareAssist
from vizvm.session import listing, runner, unseen
from vizvm.session.program import Program
from vizvm.session.timeline import Timeline
from vizvm.session.timetravel import Recording
from vizvm.session.views import EventRow, PaneView, Place
from vizvm.trace.events import Event, Kind

MONITOR_KINDS = frozenset({Kind.TRAP, Kind.VM_EXIT, Kind.HYPERCALL, Kind.CALLOUT,
                           Kind.CACHE_MISS, Kind.EMULATE})
GUEST_LABELS = frozenset({"guest kernel", "guest user"})
MAX_PENDING = 2000  # events per frame; the rest are counted as dropped
MAX_PATH = 12
SERIAL_TAIL = 6000


class Pane:
    def __init__(self, technique: str, program: Program, settings: runner.Settings) -> None:
        self.technique = technique
        self.program = program
        self.settings = replace(settings, technique=technique)
        self.title = registry.technique(technique).title
        self.breakpoints: frozenset[int] = frozenset()
        self.machine: Machine | None = None
        self.recording: Recording | None = None  # every run is recorded (timetravel.py)
        self.stop: Callable[[], bool] = lambda: False  # ends a long jump forward
        self.error = ""
        self.generation = -1  # machines built so far, less one
        self.build()

    # building -------------------------------------------------------------------------
    def build(self) -> None:
        """A fresh machine: the guest from its first instruction."""
        self.generation += 1
        self.pending: deque[EventRow] = deque(maxlen=MAX_PENDING)
        self.dropped = 0
        self.timeline = Timeline()
        self.path: list[Place] = []
        self._last_registers: dict[str, int] = {}
        self._stepping = False
        self._step_monitor_events = 0
        self.step_kinds: list[str] = []  # kinds of the events of the latest step or stretch
        try:
            self.machine = runner.build(self.program.image, self.settings)
        except (LoadError, registry.TechniqueError, MachineError, ValueError) as exc:
            self.machine, self.error = None, str(exc)
            return
        self.error = ""
        # the pane keeps its own bounded rows; a log of Event objects kept for a whole
        # run would only give the garbage collector millions of objects to walk
        self.machine.log.keep = 0
        self.machine.log.listeners.append(self._on_event)
        self.path.append(self.place())
        self.timeline.sample(0, 0)
        self.recording = Recording(self.machine, extras=(self.timeline,))
        self.recording.stop = self._stopping  # late: the session sets `stop` after this

    @property
    def live(self) -> bool:
        return self.machine is not None and self.machine.exit is None

    @property
    def ticks(self) -> int:
        return 0 if self.machine is None else self.machine.ticks

    # where the guest is ---------------------------------------------------------------
    def registers(self) -> dict[str, int]:
        """The register file as the guest would see it (the cache's EIP mapped back)."""
        assert self.machine is not None
        regs = self.machine.cpu.registers()
        supervisor = self.machine.supervisor
        if isinstance(supervisor, BinaryTranslation):
            regs = supervisor.guest_registers(regs)
        return regs

    def pc(self) -> int:
        """The linear address of the guest's next instruction."""
        assert self.machine is not None
        supervisor = self.machine.supervisor
        if isinstance(supervisor, BinaryTranslation) and supervisor.in_cache:
            guest = supervisor.cache.guest_address(self.machine.cpu.eip)
            if guest is not None:
                return guest
        return self.machine.linear_pc()

    def current(self) -> Insn:
        assert self.machine is not None
        return self.machine.instruction_at(self.pc())

    def place(self) -> Place:
        assert self.machine is not None
        ring = self.machine.cpu.cpl
        return Place(ring, label="guest user" if self.guest_ring() == 3 else "guest kernel")

    def guest_ring(self) -> int:
        assert self.machine is not None
        try:
            return self.machine.supervisor.guest_ring()
        except (AssertionError, AttributeError):
            return self.machine.cpu.cpl

    def monitor_place(self) -> Place | None:
        supervisor = None if self.machine is None else self.machine.supervisor
        if self.technique == "native" or supervisor is None:
            return None
        if isinstance(supervisor, HardwareAssist):
            return Place(0, root=True, label="VMM")
        return Place(0, label="monitor")

    def occupants(self) -> tuple[tuple[str, Place], ...]:
        """Who runs where, asked of the monitor (the rings it really uses)."""
        if self.machine is None:
            return ()
        supervisor = self.machine.supervisor
        core = getattr(supervisor, "core", None)
        kernel, user = (core.real_ring(0), core.real_ring(3)) if core is not None else (0, 3)
        monitor = self.monitor_place()
        out = [] if monitor is None else [(monitor.label, monitor)]
        out += [("guest kernel", Place(kernel)), ("guest user", Place(user))]
        return tuple(out)

    # events -------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        kind = str(event.kind)
        self.timeline.count(kind, event.icount)
        if event.kind in MONITOR_KINDS:
            self._step_monitor_events += 1
            monitor = self.monitor_place()
            last = self.path[-1] if self.path else None
            in_monitor = last is not None and last.label not in GUEST_LABELS
            if monitor is not None and not in_monitor:  # one stop per visit, named by its cause
                self._move(Place(monitor.ring, monitor.root, _short(event)))
        elif event.kind is Kind.RING:
            self._move(Place(event.ring, label="guest user" if event.guest_ring == 3
                             else "guest kernel"))
        self._queue(EventRow(event.icount, kind, event.detail, event.address, event.disasm,
                             event.cycles))

    def _queue(self, row: EventRow) -> None:
        self.step_kinds.append(row.kind)
        if len(self.pending) == self.pending.maxlen:
            self.dropped += 1
        self.pending.append(row)

    def _move(self, place: Place) -> None:
        self.path.append(place)
        if len(self.path) > MAX_PATH:
            del self.path[: len(self.path) - MAX_PATH]

    # driving ------------------------------------------------------------------------
    def step(self) -> None:
        """One guest instruction (or, halted, the wait for the next interrupt)."""
        if not self.live:
            return
        machine = self.machine
        assert machine is not None
        insn = self.current()
        ring, guest_ring = machine.cpu.cpl, self.guest_ring()
        watch = ring != guest_ring and insn.mnemonic in unseen.READS_STATE
        before = self.registers() if watch else {}
        popped = unseen.popped_flags(insn, before, self._read_stack) if watch else None
        self._step_monitor_events = 0
        self.step_kinds = []
        self._guarded(lambda: self._within_budget(machine.ticks + 1))
        self._after_stretch()
        self._note_recording(0.0)
        if (watch and not self._step_monitor_events and not machine.halted
                and self.pc() == insn.address + insn.size):
            self._note_unseen(insn, ring, guest_ring, before, popped)

    def _note_unseen(self, insn: Insn, ring: int, guest_ring: int, before: dict[str, int],
                     popped: int | None) -> None:
        cls, why = listing.classification(insn.raw)
        if cls != "sensitive":
            return
        assert self.machine is not None
        core = getattr(self.machine.supervisor, "core", None)
        step = unseen.Step(insn, ring, guest_ring, before, self.registers(), self._read_stack,
                           None if core is None else core.vcpu)
        text = unseen.note(step, popped, why)
        if text:
            self._queue(EventRow(self.machine.icount, "unseen", text, insn.address, insn.text,
                                 observed=True))

    def _read_stack(self, offset: int) -> int:
        assert self.machine is not None
        base = self.machine.cpu.begin().segment("ss")[1]
        try:
            return unseen.dword(self.machine.memory.read(base + offset, 4))
        except (MachineError, CpuFault):
            return 0

    def advance_to(self, ticks: int) -> None:
        """Run (no per-instruction work) until `ticks`, a breakpoint or the end."""
        if not self.live:
            return
        machine = self.machine
        assert machine is not None
        self.step_kinds = []
        started = time.perf_counter()
        self._guarded(lambda: self._within_budget(ticks))
        self._after_stretch()
        self._note_recording(time.perf_counter() - started)

    # going back (the recording: snapshots, then forward to the exact instruction) ------
    def seek(self, icount: int) -> None:
        """To the moment `icount` guest instructions had begun (earlier or later):
        the nearest snapshot, then forward. The pane's rows restart (a new generation)
        with the recorded events before that moment."""
        if self.recording is not None:
            recording = self.recording
            self._rewound(lambda: recording.go_to(icount))

    def seek_ticks(self, ticks: int) -> None:
        """To `ticks` on the machine's clock: where another pane in lockstep stands."""
        if self.recording is not None:
            recording = self.recording
            self._rewound(lambda: recording.go_to_ticks(ticks))

    def step_back(self) -> None:
        """One guest instruction back."""
        if self.machine is not None:
            self.seek(max(0, self.machine.icount - 1))

    def previous_event(self) -> int | None:
        """The count of the latest event (not I/O, not a cache hit) before now."""
        return None if self.recording is None else self.recording.previous_event()

    @property
    def recorded(self) -> tuple[int, int]:
        """The instruction counts the recording covers: a scrubber's range."""
        if self.recording is None:
            return (0, 0)
        return (self.recording.first, self.recording.last)

    def _rewound(self, action: Callable[[], object]) -> None:
        assert self.machine is not None and self.recording is not None
        self.generation += 1
        self.step_kinds = []
        self._guarded(action)
        self.pending.clear()
        self.dropped = 0
        for event in self.recording.events_before(MAX_PENDING):
            self.pending.append(EventRow(event.icount, str(event.kind), event.detail,
                                         event.address, event.disasm, event.cycles))
        self.path = [self.place()]
        self._last_registers = {}
        self._after_stretch()

    def _stopping(self) -> bool:
        return self.stop()

    def _note_recording(self, busy: float) -> None:
        if self.recording is not None and self.machine is not None:
            self._guarded(lambda: self.recording.note(busy))  # type: ignore[union-attr]

    def set_breakpoints(self, addresses: frozenset[int]) -> None:
        self.breakpoints = addresses
        if self.native_breakpoints:
            assert self.machine is not None
            self.machine.set_breakpoints(addresses)

    @property
    def native_breakpoints(self) -> bool:
        """Whether the emulator stops at this pane's breakpoints by itself: not under
        binary translation (kernel code runs from the cache) nor in the emulated
        CPU's guest mode (hardware assist), where Unicorn's exits do not fire."""
        return self.machine is not None and not isinstance(
            self.machine.supervisor, BinaryTranslation | HardwareAssist)

    def at_breakpoint(self) -> bool:
        return self.live and self.pc() in self.breakpoints

    def _within_budget(self, ticks: int) -> None:
        """As `vizvm run` does: the run ends at the settings' instruction budget (a lesson
        step's own, so the panes show the run its checks were computed on)."""
        machine = self.machine
        assert machine is not None
        limit = self.settings.max_insns
        if machine.advance(min(ticks, limit)) is None and machine.ticks >= limit:
            machine.stop_for_budget()

    def _guarded(self, action: Callable[[], object]) -> None:
        """Whatever the guest does, the pane reports it instead of raising."""
        assert self.machine is not None
        try:
            action()
        except Exception as exc:
            self.machine.fail(f"the engine failed: {type(exc).__name__}: {exc}")

    def _after_stretch(self) -> None:
        assert self.machine is not None
        self.timeline.sample(self.machine.icount, self.machine.simulated_cycles())
        place = self.place()
        if not self.path or self.path[-1] != place:
            self._move(place)

    # the view -----------------------------------------------------------------------
    def view(self, *, classify_budget: float = 0.05) -> PaneView:
        """What the window draws; takes (and clears) the events since the last view."""
        events, dropped = tuple(self.pending), self.dropped
        self.pending.clear()
        self.dropped = 0
        path = tuple(self.path)
        self.path = self.path[-1:]
        if self.machine is None:
            return _error_view(self, events, path)
        machine = self.machine
        regs = self.registers()
        changed = frozenset(k for k, v in regs.items()
                            if self._last_registers and self._last_registers.get(k) != v)
        self._last_registers = regs
        pc = self.pc()
        serial = bytes(machine.serial.output[-SERIAL_TAIL:]).decode("utf-8", "replace")
        exit_ = machine.exit
        return PaneView(
            technique=self.technique, title=self.title, program=self.program.name,
            status="ready" if exit_ is None else "exited",
            message="" if exit_ is None else _exit_text(exit_.kind, exit_.message, exit_.code),
            icount=machine.icount, ticks=machine.ticks, cycles=machine.simulated_cycles(),
            pc=pc, ring=machine.cpu.cpl, guest_ring=self.guest_ring(),
            registers=regs, changed=changed, virtual=_virtual(machine),
            listing=listing.around(machine, pc, self.breakpoints, budget=classify_budget),
            translation=listing.translation(machine, pc),
            serial=serial, counters=dict(machine.log.counts), events=events, dropped=dropped,
            path=path, occupants=self.occupants(), series=self.timeline.series(),
            generation=self.generation, recorded=self.recorded,
        )


def _short(event: Event) -> str:
    """A label for the token's stop in the monitor."""
    text = str(event.kind)
    if event.kind is Kind.VM_EXIT and "reason" in event.data:
        return f"VM exit {event.data['reason']}"
    if event.kind is Kind.HYPERCALL and "name" in event.data:
        return f"hypercall {event.data['name']}"
    return f"{text}: {event.disasm}"


def _exit_text(kind: ExitKind, message: str, code: int | None) -> str:
    if kind is ExitKind.POWEROFF:
        return f"powered off with exit code {code}"
    return message


def _virtual(machine: Machine) -> dict[str, str]:
    """The virtual CPU the monitor keeps for the guest, where there is one."""
    supervisor = machine.supervisor
    core = getattr(supervisor, "core", None)
    vcpu = core.vcpu if core is not None else getattr(supervisor, "vcpu", None)
    if vcpu is None:
        return {}
    out = {"CR0": f"{vcpu.cr0:#010x}", "CR3": f"{vcpu.cr3:#010x}"}
    if core is not None:
        out = {"CPL": str(vcpu.cpl), "IF": str(int(vcpu.interrupts)), "IOPL": str(vcpu.iopl),
               **out, "GDTR": f"{vcpu.gdtr.base:#010x}", "IDTR": f"{vcpu.idtr.base:#010x}"}
    return out


def _error_view(pane: Pane, events: tuple[EventRow, ...], path: tuple[Place, ...]) -> PaneView:
    return PaneView(
        technique=pane.technique, title=pane.title, program=pane.program.name,
        status="error", message=pane.error, icount=0, ticks=0, cycles=0, pc=0, ring=0,
        guest_ring=0, registers={}, changed=frozenset(), virtual={}, listing=(),
        translation=None, serial="", counters={}, events=events, dropped=0, path=path,
        occupants=(), generation=pane.generation,
    )
