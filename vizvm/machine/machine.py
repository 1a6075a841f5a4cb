"""The emulated PC: one Unicorn CPU, RAM, the devices, and the run loop.

The loop runs the guest in counted chunks with no per-instruction Python
hook. A chunk ends at the timer's next edge, at the budget, or when a hook
asks; between chunks the loop raises timer interrupts and asks the
supervisor to take them. Exceptions are handled inside Unicorn's hook by
patching the CPU state, so a trap costs no restart.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from unicorn import (
    UC_ARCH_X86,
    UC_HOOK_BLOCK,
    UC_HOOK_INSN,
    UC_HOOK_INSN_INVALID,
    UC_HOOK_INTR,
    UC_HOOK_MEM_FETCH_UNMAPPED,
    UC_HOOK_MEM_READ_UNMAPPED,
    UC_HOOK_MEM_WRITE_UNMAPPED,
    UC_MEM_FETCH_UNMAPPED,
    UC_MEM_WRITE_UNMAPPED,
    UC_MODE_32,
    Uc,
    UcError,
)
from unicorn import x86_const as x86

from vizvm.asm.disasm import MAX_INSN, Insn, decode
from vizvm.machine import delivery, loader
from vizvm.machine.bare_metal import BareMetal
from vizvm.machine.cpu import IF, Cpu
from vizvm.machine.devices.bus import IoBus
from vizvm.machine.devices.debug_exit import DEBUG_EXIT_PORT, DebugExit
from vizvm.machine.devices.legacy import (
    CMOS_PORTS,
    KEYBOARD_PORTS,
    SYSTEM_PORTS,
    CmosClock,
    KeyboardController,
    SystemControl,
)
from vizvm.machine.devices.pic import MASTER_PORTS, SLAVE_PORTS, PicPair
from vizvm.machine.devices.pit import PIT_PORTS, Pit
from vizvm.machine.devices.serial import COM1_PORTS, Serial
from vizvm.machine.exits import Exit, ExitKind
from vizvm.machine.hooks import HookTable
from vizvm.machine.io_privilege import io_permitted
from vizvm.machine.layout import DEFAULT_RAM, PAGE, MiB
from vizvm.machine.memory import GuestMemory, MachineError
from vizvm.machine.supervisor import Emulated, PortAccess, Supervisor, Trap
from vizvm.machine.uc_internals import counter_limit, counter_reader, hook_rdtsc
from vizvm.machine.vectors import GP, UD, WITH_ERROR_CODE, CpuFault
from vizvm.trace.events import Event, Kind
from vizvm.trace.log import EventLog

CHUNK = 1 << 22  # longest run between two looks at the stop flag
VM_EXIT_BASE = 0x100  # Unicorn reports an SVM #VMEXIT as this vector + the exit code
RDPMC = b"\x0f\x33"


class Machine:
    """A PC with `ram_size` bytes of RAM and a guest image loaded at 1 MiB."""

    def __init__(
        self, image: bytes, *, ram_size: int = DEFAULT_RAM, log: EventLog | None = None,
        cpu_model: int | None = None,
    ) -> None:
        if ram_size % PAGE or not MiB <= ram_size <= 3072 * MiB:
            raise ValueError("RAM must be a whole number of pages between 1 MiB and 3 GiB")
        loader.check_image(image, ram_size)
        self.uc = Uc(UC_ARCH_X86, UC_MODE_32)
        self.hooks = HookTable(self.uc)  # hooks as data, for snapshots (machine/state.py)
        if cpu_model is not None:  # a technique that needs a processor feature (AMD-V)
            self.uc.ctl_set_cpu_model(cpu_model)
        self.uc.mem_map(0, ram_size)
        self.uc.ctl_exits_enabled(True)  # run by count, with no "until" address
        self.uc.ctl_set_exits([])
        self.memory = GuestMemory(self.uc, ram_size)
        self.cpu = Cpu(self.uc, self.memory)
        self.log = log if log is not None else EventLog()
        self.serial = Serial()
        self.pic = PicPair()
        self.pit = Pit(self.now)
        self.debug_exit = DebugExit()
        self.bus = IoBus()
        self.bus.attach(self.serial, COM1_PORTS)
        self.bus.attach(self.pic, MASTER_PORTS + SLAVE_PORTS)
        self.bus.attach(self.pit, PIT_PORTS)
        self.bus.attach(self.debug_exit, (DEBUG_EXIT_PORT,))
        self.bus.attach(KeyboardController(), KEYBOARD_PORTS)
        self.bus.attach(SystemControl(), SYSTEM_PORTS)
        self.bus.attach(CmosClock(ram_size), CMOS_PORTS)
        self.executed = 0  # guest instructions begun, in finished chunks
        self.idle = 0  # instruction-times spent halted
        self.halted = False
        self.exit: Exit | None = None
        self._counter = counter_reader(self.uc)
        self._limit = counter_limit(self.uc)
        self._in_chunk = False
        self._chunk_ticks = 0
        self._stop_at: int | None = None
        self._deferred: list[Callable[[], None]] = []
        self._step_first = False
        self._single_step = False  # the chunk runs one instruction past a shadow
        self._queued_steps: list[tuple[Callable[[], None], bool]] = []  # (after, recount)
        self._this_step: list[tuple[Callable[[], None], bool]] = []
        self._uncounted = 0  # hidden faults in the current chunk
        self._watch_hook: int | None = None
        self.breakpoints: frozenset[int] = frozenset()
        self.at_breakpoint = False
        self._unmapped: str | None = None
        loader.load(self.memory, self.cpu, image)
        self._install_hooks()
        self.supervisor: Supervisor = BareMetal()
        self.supervisor.setup(self)

    def attach(self, supervisor: Supervisor) -> None:
        """Put a monitor in charge of ring 0, before the first instruction."""
        self.supervisor = supervisor
        supervisor.setup(self)

    # clocks -------------------------------------------------------------------
    @property
    def icount(self) -> int:
        """Guest instructions begun so far, the current one included."""
        if not self._in_chunk:
            return self.executed
        return self.executed + self._counter.value - self._uncounted

    def uncount(self, fault_address: int | None = None) -> None:
        """The current instruction faulted only for the monitor (a hidden fault) and
        will run again: the guest should not see it counted twice.

        A fault on fetching the instruction itself came before it was counted,
        so a page fault whose address lies in the instruction's bytes is not.
        """
        pc = self.linear_pc()
        if fault_address is not None and pc <= fault_address < pc + MAX_INSN:
            code = self.code_at(pc)  # the bytes the guest's tables give, if any
            if fault_address < pc + (decode(code, pc).size if code else MAX_INSN):
                return
        self._uncounted += 1

    @property
    def ticks(self) -> int:
        """The machine clock: instructions begun plus instruction-times halted."""
        return self.icount + self.idle

    def now(self) -> int:
        return self.ticks

    def simulated_cycles(self) -> int:
        """Cycles the run costs under the log's profile (halted time excluded)."""
        return self.icount * self.log.price("instruction") + self.log.cycles

    # hooks ----------------------------------------------------------------------
    def _install_hooks(self) -> None:
        uc = self.uc
        uc.hook_add(UC_HOOK_INTR, self._on_interrupt)
        uc.hook_add(UC_HOOK_INSN_INVALID, self._on_invalid)
        uc.hook_add(UC_HOOK_INSN, self._on_in, None, 1, 0, x86.UC_X86_INS_IN)
        uc.hook_add(UC_HOOK_INSN, self._on_out, None, 1, 0, x86.UC_X86_INS_OUT)
        uc.hook_add(UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED
                    | UC_HOOK_MEM_FETCH_UNMAPPED, self._on_unmapped)
        hook_rdtsc(uc, self._on_rdtsc)

    def linear_pc(self) -> int:
        return (self.cpu.state.segment("cs")[1] + self.cpu.eip) & 0xFFFFFFFF

    def _on_interrupt(self, uc: Uc, intno: int, _data: object) -> None:
        state = self.cpu.begin()
        pc = self.linear_pc()
        eip = self.cpu.eip
        if intno >= VM_EXIT_BASE:  # the processor's virtualization extension exited
            self.handle_trap(Trap(intno, delivery.Source.EXCEPTION, state.error_code, pc, eip))
            return
        if state.exception_is_software:
            size = self._int_size(intno, pc)
            trap = Trap(intno, delivery.Source.SOFTWARE, None, pc - size, eip)
        else:
            code = state.error_code if intno in WITH_ERROR_CODE else None
            trap = Trap(intno, delivery.Source.EXCEPTION, code, pc, eip)
        self.handle_trap(trap)

    def _int_size(self, vector: int, next_pc: int) -> int:
        """Length of the INT n / INT3 / INTO that ended at next_pc."""
        before = self.code_at(next_pc - 2)[:2] if next_pc >= 2 else b""
        if len(before) == 2 and before[-1:] in (b"\xcc", b"\xce", b"\xf1") and not (
            before[:1] == b"\xcd" and before[1] == vector
        ):
            return 1
        return 2

    def handle_trap(self, trap: Trap) -> None:
        """Give a trap to the supervisor; the CPU's nested-fault state is then reset."""
        self.cpu.committed = False
        self.supervisor.on_exception(trap)
        if not self.cpu.committed:
            self.cpu.begin()
            self.cpu.commit()

    def _on_invalid(self, uc: Uc, _data: object) -> bool:
        pc = self.linear_pc()
        code = self.code_at(pc)
        if code[:2] == RDPMC:
            self._rdpmc(pc)
        else:
            self.handle_trap(Trap(UD, delivery.Source.EXCEPTION, None, pc, self.cpu.eip))
        return True

    def _rdpmc(self, pc: int) -> None:
        """Unicorn stops on RDPMC; a CPU raises #GP(0) unless CPL 0 or CR4.PCE."""
        if self.cpu.cpl == 0 or self.cpu.read("cr4") & 0x100:
            self.cpu.write("eax", 0)  # no performance counters are modelled
            self.cpu.write("edx", 0)
            self.cpu.begin().set_eip(self.cpu.eip + 2)
            self.cpu.commit()
        else:
            self.handle_trap(Trap(GP, delivery.Source.EXCEPTION, 0, pc, self.cpu.eip))

    def _on_rdtsc(self, uc: Uc) -> None:
        self.read_time_stamp()

    def read_time_stamp(self) -> None:
        """EDX:EAX = the run's simulated cycles so far: repeatable, unlike the host's."""
        tsc = self.ticks * self.log.price("instruction") + self.log.cycles
        self.cpu.write("eax", tsc & 0xFFFFFFFF)
        self.cpu.write("edx", tsc >> 32)

    def _on_unmapped(
        self, uc: Uc, access: int, address: int, size: int, value: int, _data: object
    ) -> bool:
        what = {UC_MEM_FETCH_UNMAPPED: "fetched code from", UC_MEM_WRITE_UNMAPPED: "wrote to"}
        verb = what.get(access, "read from")
        self._unmapped = (
            f"the guest {verb} {address:#010x}, where there is no memory "
            f"(RAM is {self.memory.ram_size // MiB} MiB, ending at {self.memory.ram_size:#010x})"
        )
        return False

    # port I/O -------------------------------------------------------------------
    def _intercepted_io(self, access: PortAccess) -> Emulated | None:
        """A supervisor that decides on every port access (a VMM's I/O exiting)."""
        intercept = getattr(self.supervisor, "intercept_io", None)
        return intercept(access) if intercept is not None else None

    def _on_in(self, uc: Uc, port: int, size: int, _data: object) -> int:
        if (taken := self._intercepted_io(PortAccess(port, size, None, self.linear_pc()))):
            return taken.value
        if io_permitted(self.cpu, port, size):
            return self.port_read(port, size)
        outcome = self.supervisor.on_io_fault(PortAccess(port, size, None, self.linear_pc()))
        if outcome is not None:
            return outcome.value
        self._defer_io_fault()
        return self._unchanged_in_result(size)

    def _on_out(self, uc: Uc, port: int, size: int, value: int, _data: object) -> None:
        if self._intercepted_io(PortAccess(port, size, value, self.linear_pc())) is not None:
            return
        if io_permitted(self.cpu, port, size):
            self.port_write(port, size, value)
            return
        outcome = self.supervisor.on_io_fault(PortAccess(port, size, value, self.linear_pc()))
        if not isinstance(outcome, Emulated):
            self._defer_io_fault()

    def port_read(self, port: int, size: int, *, cost: str = "io_device") -> int:
        """A device register read; a monitor's device model passes no hardware cost."""
        value = self.bus.read(port, size)
        self._io_event(port, size, value, "in", cost)
        return value

    def port_write(self, port: int, size: int, value: int, *, cost: str = "io_device") -> None:
        device = self.bus.device_at(port)
        self.bus.write(port, size, value)
        self._io_event(port, size, value, "out", cost)
        if self.debug_exit.code is not None and self.exit is None:
            self.exit = Exit(ExitKind.POWEROFF, "the guest powered off", code=self.debug_exit.code)
            self.request_stop()
        elif (device is self.pit or device is self.pic) and self._in_chunk:
            # the next timer edge or a now-unmasked request: let the loop look again
            self.request_stop()

    def _io_event(self, port: int, size: int, value: int, direction: str, cost: str) -> None:
        device = self.bus.device_at(port)
        name = device.name if device is not None else "no device"
        arrow = "->" if direction == "out" else "<-"
        self.emit(
            Kind.IO,
            f"{direction.upper()} port {port:#06x} ({name}) {arrow} {value:#x}",
            cost=cost,
            data={"port": port, "size": size, "value": value, "direction": direction},
        )

    def _unchanged_in_result(self, size: int) -> int:
        """An IN that faults must leave EAX alone; QEMU will still store our answer."""
        return self.cpu.read("eax") & ((1 << (8 * size)) - 1)

    def _defer_io_fault(self) -> None:
        """#GP(0) for I/O without privilege: stop, then deliver with the registers
        (string I/O advances them after this hook) as they were."""
        pc = self.linear_pc()
        eip = self.cpu.eip
        saved = {name: self.cpu.read(name) for name in ("ecx", "esi", "edi")}

        def fault() -> None:
            for name, value in saved.items():
                self.cpu.write(name, value)
            self.cpu.write("eip", eip)
            self.handle_trap(Trap(GP, delivery.Source.EXCEPTION, 0, pc, eip))

        self._deferred.append(fault)
        self.request_stop()

    # what supervisors use -------------------------------------------------------
    def request_stop(self) -> None:
        """End the chunk: after the current instruction from an instruction's
        hook, before the block from a block hook (its first count comes later)."""
        if self._stop_at is None:
            self._stop_at = self._counter.value
        self.uc.emu_stop()

    def stop_after_store(self) -> None:
        """End the chunk from a memory hook, once the storing instruction is complete.

        Unicorn's emu_stop inside a memory hook leaves the instruction half done
        (the store made, its other effects and EIP not), so the count that
        uc_emu_start stops at is lowered instead: it stops at the next
        instruction's start, as request_stop does from an instruction's hook.
        """
        if not self._in_chunk:
            return
        if self._stop_at is None:
            self._stop_at = self._counter.value
        self._limit.value = self._counter.value

    def set_breakpoints(self, addresses: frozenset[int] | set[int]) -> None:
        """Linear addresses where `advance` pauses before executing the instruction."""
        self.breakpoints = frozenset(addresses)
        self.uc.ctl_set_exits(sorted(self.breakpoints))
        self.uc.ctl_flush_tb()  # exits are compiled into translated blocks

    def _step_off_breakpoint(self) -> None:
        """Execute the instruction under a breakpoint: without the exit, once."""
        self.uc.ctl_set_exits([])
        self.uc.ctl_flush_tb()
        try:
            self._run_chunk(1)
        finally:
            self.uc.ctl_set_exits(sorted(self.breakpoints))
            self.uc.ctl_flush_tb()

    def run_to(self, address: int, limit: int) -> Exit | None:
        """Run until the instruction at `address` is next, an exit, or `limit` ticks."""
        saved = self.breakpoints
        self.set_breakpoints({address})
        try:
            return self.advance(self.ticks + limit)
        finally:
            self.set_breakpoints(saved)

    def reexecute(self, after: Callable[[], None]) -> None:
        """Run the current instruction once more on its own, then call `after`.

        A VMM that lets the hardware carry out an intercepted instruction with
        the intercept lifted uses this; the instruction already counted once.
        """
        self._queued_steps.append((after, False))
        self._step_first = True
        self.request_stop()

    def step_then(self, after: Callable[[], None]) -> None:
        """Run the next instruction on its own, counted as the guest's, then call `after`.

        A translator that executes one guest instruction in place, out of its
        translation cache, uses this.
        """
        self._queued_steps.append((after, True))
        self._step_first = True
        self.request_stop()

    def defer(self, action: Callable[[], None], *, in_store: bool = False) -> None:
        """Call `action` once the current chunk has stopped (from inside a hook;
        `in_store`: a memory hook, see stop_after_store)."""
        self._deferred.append(action)
        if in_store:
            self.stop_after_store()
        else:
            self.request_stop()

    def check_interrupts_after_next(self, *, in_store: bool = False) -> None:
        """An interrupt window opened: look again after one more instruction (STI shadow).

        `in_store`: called from a memory hook (see stop_after_store)."""
        self._step_first = True
        if in_store:
            self.stop_after_store()
        else:
            self.request_stop()

    def watch_interrupt_flag(self, on: bool) -> None:
        """Stop at the first block that runs with IF=1 (bare metal, IRQ pending)."""
        if on and self._watch_hook is None:
            self._watch_hook = self.uc.hook_add(UC_HOOK_BLOCK, self._on_block_watch)
            self.uc.ctl_flush_tb()  # translated blocks carry no call to the new hook
        elif not on and self._watch_hook is not None:
            self.uc.hook_del(self._watch_hook)
            self._watch_hook = None

    def _on_block_watch(self, uc: Uc, address: int, size: int, _data: object) -> None:
        if self.cpu.eflags & IF and not self._single_step:
            self.request_stop()

    def shutdown(self, message: str) -> None:
        """A triple fault: the processor stops (a PC would reset)."""
        if self.exit is None:
            self.exit = Exit(ExitKind.TRIPLE_FAULT, message, address=self.linear_pc())
        if self._in_chunk:
            self.request_stop()

    def fail(self, message: str) -> None:
        if self.exit is None:
            self.exit = Exit(ExitKind.ERROR, message, address=self.linear_pc())
        if self._in_chunk:
            self.request_stop()

    def deliver(
        self, vector: int, source: delivery.Source, return_eip: int, error_code: int | None = None
    ) -> delivery.Delivered | None:
        """Deliver through the guest's IDT, with the double/triple fault rules."""

        def attempt(v: int, src: delivery.Source, code: int | None) -> delivery.Delivered:
            return delivery.deliver(self.cpu, v, src, return_eip, code)

        try:
            return delivery.with_escalation(
                attempt, vector, source, error_code, lambda cr2: self.cpu.write("cr2", cr2))
        except delivery.TripleFault as exc:
            self.shutdown(str(exc))
            return None

    def code_at(self, linear: int) -> bytes:
        """Up to 15 bytes of code at a linear address, fewer at the end of memory."""
        for size in (MAX_INSN, 8, 4, 2, 1):
            try:
                return self.memory.read(linear, size)
            except (MachineError, CpuFault):
                continue
        return b""

    def instruction_at(self, linear: int) -> Insn:
        return decode(self.code_at(linear), linear)

    def emit(
        self,
        kind: Kind,
        detail: str,
        *,
        address: int | None = None,
        cost: str = "",
        data: dict | None = None,
        ring: int | None = None,
        guest_ring: int | None = None,
        insn: Insn | None = None,
        units: int = 1,
    ) -> Event:
        """Log an event at the current instruction count; `insn` saves a decode.

        `units` prices work that scales, such as instructions translated."""
        pc = self.linear_pc() if address is None else address
        if insn is None or insn.address != pc:
            insn = self.instruction_at(pc)
        return self.log.add(
            Event(
                kind=kind,
                icount=self.icount,
                ring=self.cpu.cpl if ring is None else ring,
                guest_ring=self.supervisor.guest_ring() if guest_ring is None else guest_ring,
                address=pc,
                insn_bytes=insn.raw,
                disasm=insn.text,
                detail=detail,
                cost=cost,
                cycles=self.log.price(cost) * units if cost else 0,
                data=data or {},
            )
        )

    # the run loop -----------------------------------------------------------------
    def run(self, budget: int) -> Exit:
        """Run until the guest ends, or `budget` instruction-times have passed."""
        if self.advance(budget) is None:
            self.stop_for_budget()
        assert self.exit is not None
        return self.exit

    def stop_for_budget(self) -> None:
        """End the run here: its instruction budget is spent."""
        self.exit = Exit(
            ExitKind.BUDGET,
            f"stopped by the instruction budget after {self.executed:,} guest instructions"
            + (f" and {self.idle:,} instruction-times halted" if self.idle else ""),
            address=self.linear_pc(),
        )

    def advance(self, until_ticks: int) -> Exit | None:
        """Run until an exit, or pause at `until_ticks` or at a breakpoint."""
        resume = self.at_breakpoint
        self.at_breakpoint = False
        while self.exit is None:
            self._raise_timer_irqs()
            if self.halted:
                if not self._wait_for_interrupt(until_ticks):
                    return self.exit
                continue
            if self.pic.has_interrupt() and not self._step_first:
                self._offer_interrupt()
                if self.exit is not None or self.halted:
                    continue
            if self.ticks >= until_ticks:
                return None
            if resume and self.linear_pc() in self.breakpoints:
                self._step_off_breakpoint()
            else:
                self._run_chunk(self._chunk_size(until_ticks))
            resume = False
            if self.at_breakpoint:
                return None
        return self.exit

    def _chunk_size(self, until_ticks: int) -> int:
        size = min(until_ticks - self.ticks, CHUNK)
        self._single_step = self._step_first
        if self._step_first:
            self._step_first = False
            self._this_step, self._queued_steps = self._queued_steps, []
            return 1
        edge = self.pit.next_edge()
        if edge is not None:
            size = min(size, max(1, edge - self.ticks))
        return size

    def _raise_timer_irqs(self) -> None:
        if self.pit.collect_edges(self.ticks):
            self.pic.raise_irq(0)

    def _offer_interrupt(self) -> None:
        if self.cpu.begin().interrupts_inhibited:
            self._step_first = True  # the STI / MOV SS shadow: one instruction first
            return
        if self.supervisor.take_interrupt():
            self.watch_interrupt_flag(False)

    def _wait_for_interrupt(self, until_ticks: int) -> bool:
        """Halted: take a pending interrupt, or let time pass to the next edge."""
        if not self.supervisor.can_wake():
            self.exit = Exit(
                ExitKind.HALT, "halted with interrupts disabled: nothing can wake the CPU",
                address=self.linear_pc(),
            )
            return False
        if self.pic.has_interrupt():
            self.halted = False
            self._offer_interrupt()
            return True
        edge = self.pit.next_edge()
        if edge is None or not self.pic.unmasked(0):
            self.exit = Exit(
                ExitKind.HALT,
                "halted waiting for an interrupt, but no timer or other source is armed",
                address=self.linear_pc(),
            )
            return False
        target = min(edge, until_ticks)
        self.idle += max(0, target - self.ticks)
        return edge <= until_ticks

    def _run_chunk(self, count: int) -> None:
        self._stop_at = None
        self._unmapped = None
        self._uncounted = 0
        self._chunk_ticks = self.ticks
        self._in_chunk = True
        failure: Exception | None = None
        try:
            self.uc.emu_start(self.cpu.eip, 0, count=count)
        except (UcError, MachineError) as exc:
            failure = exc
        finally:
            begun = self._counter.value
            self._in_chunk = False
        done = self._stop_at if self._stop_at is not None else min(begun, count)
        done -= self._uncounted
        self._uncounted = 0
        self.executed += done
        if failure is not None:
            self._failed(failure)
        elif self._stop_at is None and begun <= count:
            self._stopped_early()  # neither asked to stop nor out of count
        if (self._single_step and done <= 0 and failure is None and self.exit is None
                and not self.halted and not self.at_breakpoint):
            # the one instruction did not complete (a hidden fault, or a translator's
            # stub first): step again, so that it does before anything else happens
            self._step_first = True
            self._queued_steps = self._this_step + self._queued_steps
            self._this_step = []
        elif self._single_step and self._this_step:
            steps, self._this_step = self._this_step, []
            if not all(counted for _after, counted in steps):
                self.executed -= done  # a re-execution, not a new guest instruction
            for action, _counted in steps:
                action()
        deferred, self._deferred = self._deferred, []
        for action in deferred:
            if self.exit is None:
                action()

    def _failed(self, failure: Exception) -> None:
        if self.exit is not None:
            return
        if self._unmapped is not None:
            self.fail(self._unmapped)
        elif isinstance(failure, MachineError):
            self.fail(str(failure))
        else:
            self.fail(f"the emulator stopped: {failure}")

    def _stopped_early(self) -> None:
        """Unicorn returns early for a breakpoint, or for HLT at real ring 0."""
        if self.linear_pc() in self.breakpoints:
            self.at_breakpoint = True
            return
        if self.code_at(self.linear_pc() - 1)[:1] == b"\xf4":
            self.halted = True
            self.emit(Kind.HALT, "HLT: the CPU waits for the next interrupt",
                      address=self.linear_pc() - 1, cost="halt")
            return
        self.fail(f"emulation stopped at {self.linear_pc():#010x} for no known reason")

    def finish(self) -> None:
        """Let the supervisor settle guest-visible state it keeps lazily."""
        finish = getattr(self.supervisor, "finish", None)
        if finish is not None:
            finish()

    # inspection --------------------------------------------------------------------
    def ram(self) -> bytes:
        return bytes(self.uc.mem_read(0, self.memory.ram_size))

    def read_u32(self, address: int) -> int:
        return struct.unpack("<I", self.memory.read_physical(address, 4))[0]
