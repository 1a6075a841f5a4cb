"""Paravirtualization in the manner of 32-bit Xen: the guest kernel asks instead of faulting.

The guest kernel runs in ring 1 and has been ported to know it: where the
original executes a privileged instruction it makes a hypercall (`int
0x82`, vizvm.monitors.pv_hypercalls). The monitor emulates nothing. It
checks and installs what the guest hands it (a GDT, a trap table, a ring-1
stack), reflects exceptions, system calls and timer interrupts through the
trap table, the last only while the virtual IF allows, and runs batches of
calls in one trap (the multicall). An unmodified kernel gets no further than
its first privileged instruction: there is nothing here to emulate it, and
saying so is the lesson.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from vizvm.asm.disasm import Insn
from vizvm.machine.cpu import IF, IOPL_MASK
from vizvm.machine.delivery import Source, TripleFault
from vizvm.machine.memory import MachineError
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.machine.vectors import GP, UD, short_name
from vizvm.machine.vectors import name as vector_name
from vizvm.monitors import pv_tables
from vizvm.monitors.core import MONITOR_CR0, SEGMENTS, MonitorCore
from vizvm.monitors.pv_calls import Calls, Done
from vizvm.monitors.pv_hypercalls import (
    ARGUMENT_REGISTERS,
    BY_NUMBER,
    DEBUG_REGISTERS,
    HYPERCALL_VECTOR,
    MAX_MULTICALL,
    MULTICALL_ENTRY,
    NOT_OFFERED,
    PORT_CALLS,
    PORT_IO,
    REPLACED_BY,
    HypercallError,
    unknown,
)
from vizvm.monitors.reflect import reflect
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

KERNEL_RING = pv_tables.KERNEL_RING
INT_SIZE = 2  # int 0x82 is CD 82

CONTROL_REGISTER = re.compile(r"\b[cd]r\d\b")  # and debug registers: MOV to or from them
DEBUG_REGISTER = re.compile(r"\bdr\d\b")


def mnemonic_of(insn: Insn) -> str:
    return insn.mnemonic.split()[-1]  # "rep outsb" is an outsb


def is_privileged(insn: Insn) -> bool:
    """Whether a ring-0 kernel's instruction is one a ported kernel replaces."""
    mnemonic = mnemonic_of(insn)
    if mnemonic == "mov":
        return bool(CONTROL_REGISTER.search(insn.op_str))
    return mnemonic in REPLACED_BY or mnemonic in NOT_OFFERED


def instead_of(insn: Insn, access: PortAccess | None) -> str:
    """What a port of the kernel does in place of `insn`, for the refusal."""
    mnemonic = mnemonic_of(insn)
    why = NOT_OFFERED.get(mnemonic, "")
    if access is not None and mnemonic in PORT_IO:
        call = PORT_CALLS.get(access.port)
        if call is not None:
            return f"The hypercall {call} replaces it"
        why = f"a paravirtual guest here has no device at port {access.port:#06x}"
    elif mnemonic in REPLACED_BY:
        return f"The hypercall {REPLACED_BY[mnemonic]} replaces it"
    elif mnemonic == "mov" and DEBUG_REGISTER.search(insn.op_str):
        why = DEBUG_REGISTERS
    return "This monitor offers no hypercall for it" + (f": {why}" if why else "")


class Paravirt:
    """The monitor of a paravirtual guest: it checks, installs and reflects; it never emulates."""

    name = "paravirt"

    def __init__(self) -> None:
        self.machine: Machine | None = None
        self._core: MonitorCore | None = None
        self._calls: Calls | None = None
        self._refused_io: PortAccess | None = None
        self._insn: Insn | None = None  # the instruction of the current trap, decoded once

    @property
    def core(self) -> MonitorCore:
        assert self._core is not None
        return self._core

    @property
    def calls(self) -> Calls:
        assert self._calls is not None
        return self._calls

    def setup(self, machine: Machine) -> None:
        """Enter the guest at ring 1 on the monitor's flat start-of-day segments."""
        self.machine = machine
        core = self._core = MonitorCore(machine, KERNEL_RING, trap_far=False)
        self._calls = Calls(core)
        core.fpu_loaded = True  # no lazy FPU switching: Xen's fpu_taskswitch is not offered
        core.vcpu.cpl = KERNEL_RING
        core.vcpu.interrupts = False
        core.cpu.write("cr0", MONITOR_CR0)
        pv_tables.install_gdt(core, list(pv_tables.START_OF_DAY))
        core.apply_control_registers()
        core.cpu.begin()
        for segment in SEGMENTS:
            selector = pv_tables.START_CS if segment == "cs" else pv_tables.START_DS
            core.load_segment(segment, selector, pv_tables.START_OF_DAY[selector >> 3])
        core.cpu.commit()
        core.cpu.write("eflags", (core.cpu.eflags | IF) & ~IOPL_MASK)

    def guest_ring(self) -> int:
        return self.core.vcpu.cpl

    def can_wake(self) -> bool:
        return self.core.vcpu.interrupts

    # events -------------------------------------------------------------------------
    def _event(self, kind: Kind, detail: str, address: int, cost: str, **data: object) -> None:
        self.core.machine.emit(kind, detail, address=address, cost=cost, data=dict(data),
                               insn=self._insn)

    def _ring_change(self, before: int, address: int) -> None:
        after = self.core.vcpu.cpl
        if before == after:
            return
        how = ""
        if after == KERNEL_RING:
            ss, esp = pv_tables.ring1_stack(self.core)
            how = f" on the stack given by stack_switch ({ss:#06x}:{esp:#010x})"
        self._event(Kind.RING, f"ring {before} -> ring {after}{how}", address, "",
                    **{"from": before, "to": after})

    def _follow_ring(self, address: int) -> None:
        """Believe the real CPL: the guest may have left ring 1 by itself.

        IRETD and RETF to ring 3 are not privileged, so a kernel can use them
        without the monitor seeing; the guest's rings are the real ones here,
        and a hypercall from ring 3 must never pass for the kernel's.
        """
        vcpu = self.core.vcpu
        real = self.core.cpu.cpl
        if real == vcpu.cpl:
            return
        before, vcpu.cpl = vcpu.cpl, real
        self._event(Kind.RING, f"ring {before} -> ring {real}, found on entering the monitor: "
                    f"the guest left ring {before} by itself (IRETD or RETF outward need no "
                    f"monitor; the virtual IF stays as it was)", address, "",
                    **{"from": before, "to": real})

    # exceptions, INT n and hypercalls ---------------------------------------------
    def on_exception(self, trap: Trap) -> None:
        core = self.core
        core.cpu.begin()
        self._insn = core.machine.instruction_at(trap.address)
        access, self._refused_io = self._refused_io, None  # the port of a refused IN or OUT
        self._follow_ring(trap.address)
        ring = core.vcpu.cpl
        if trap.software and trap.vector == HYPERCALL_VECTOR:
            if ring == KERNEL_RING:
                self._hypercall(trap)
                return
            # the gate admits ring 1 only: the guest's own #GP handler hears of it
            self._trapped(trap, f"INT {trap.vector:#04x} from ring {ring}: hypercalls are for "
                                f"the guest kernel, so the monitor raises #GP in the guest")
            self._reflect(GP, Source.EXCEPTION, trap.return_eip - INT_SIZE,
                          (HYPERCALL_VECTOR << 3) | 2, trap.address)
            return
        if trap.vector in (GP, UD) and ring == KERNEL_RING and is_privileged(self._insn):
            self._refuse(trap, self._insn, access)
            return
        if trap.software:
            why = (f"INT {trap.vector:#04x} at ring {ring}: the monitor owns the real IDT, so "
                   f"the CPU entered the monitor")
        else:
            why = (f"{short_name(trap.vector)} from {self._insn.mnemonic} at ring {ring}: the "
                   f"CPU entered the monitor")
        self._trapped(trap, why)
        self._reflect(trap.vector, trap.source, trap.return_eip, trap.error_code, trap.address)

    def _trapped(self, trap: Trap, why: str, **extra: object) -> None:
        self._event(Kind.TRAP, why, trap.address, "trap", vector=trap.vector, **extra)

    def _refuse(self, trap: Trap, insn: Insn, access: PortAccess | None) -> None:
        """An unmodified kernel: name the instruction, where, and why nothing emulates it."""
        what = f"{insn.mnemonic.upper()} {insn.op_str}".strip()
        if access is not None and mnemonic_of(insn) in PORT_IO:
            what += f" (port {access.port:#06x})"
        self._trapped(trap, f"{what} at ring {KERNEL_RING} is privileged: the CPU raised "
                            f"{short_name(trap.vector)} into the monitor, which refuses it",
                      instruction=insn.text)
        self.core.machine.fail(
            f"{what} at {trap.address:#010x} is a privileged instruction, and the guest kernel "
            f"runs in ring {KERNEL_RING}, so it raised {short_name(trap.vector)} into the "
            f"monitor. A paravirtual monitor does not emulate privileged instructions: the "
            f"kernel must be ported to call the monitor with int 0x82 instead. "
            f"{instead_of(insn, access)}. See docs/paravirt.md; under trap-emulate it would "
            f"be trapped and emulated.")

    def _reflect(self, vector: int, source: Source, return_eip: int, error_code: int | None,
                 address: int, **extra: object) -> None:
        core = self.core
        before = core.vcpu.cpl
        try:
            delivered = reflect(core, vector, source, return_eip, error_code)
        except TripleFault as exc:
            core.machine.shutdown(str(exc))
            return
        except MachineError as exc:
            core.machine.fail(f"{vector_name(vector)}: {exc}")
            return
        kind = Kind.INTERRUPT if source is Source.EXTERNAL else Kind.EXCEPTION
        self._event(kind, f"{vector_name(delivered.vector)} reflected through the trap table "
                          f"to {delivered.handler_cs:#06x}:{delivered.handler_eip:#010x}",
                    address, "reflect", vector=delivered.vector,
                    error_code=delivered.error_code, **extra)
        self._ring_change(before, address)

    def _hypercall(self, trap: Trap) -> None:
        core = self.core
        number = core.cpu.read("eax")
        call = BY_NUMBER.get(number)
        if call is None:
            self._event(Kind.HYPERCALL, f"int 0x82 with EAX = {number}: no such hypercall",
                        trap.address, "hypercall", number=number)
            core.machine.fail(unknown(number))
            return
        args = tuple(core.cpu.read(r) for r in ARGUMENT_REGISTERS)[: len(call.params)]
        self._event(Kind.HYPERCALL, f"hypercall {call.describe(args)}", trap.address,
                    "hypercall", number=number, name=call.name, args=call.arguments(args))
        before = core.vcpu.cpl
        try:
            if call.name == "multicall":
                done = self._multicall(*args, address=trap.address)
            else:
                done = self.calls.run(call, args)
        except HypercallError as exc:
            core.machine.fail(f"hypercall {call.describe(args)} refused: {exc}")
            return
        if done.result is not None:
            core.cpu.write("eax", done.result)
        if done.report:
            self._event(Kind.EMULATE, f"the monitor {done.summary}", trap.address, "emulate",
                        name=call.name, result=done.result)
        self._ring_change(before, trap.address)
        self._after(done, trap.address)

    def _after(self, done: Done, address: int) -> None:
        machine = self.core.machine
        if done.halted:
            machine.emit(Kind.HALT, "the guest yields: the virtual CPU waits for an event",
                         address=address, cost="halt")
            machine.request_stop()
        elif done.wake and self.core.vcpu.interrupts and machine.pic.has_interrupt():
            machine.request_stop()  # the held interrupt is delivered before the next instruction

    def _multicall(self, calls: int, count: int, *, address: int) -> Done:
        """Each entry carried out as if called, its result written back; one trap for all."""
        if count > MAX_MULTICALL:
            raise HypercallError(f"{count} entries: at most {MAX_MULTICALL} per multicall")
        size = MULTICALL_ENTRY.size
        raw = pv_tables.guest_bytes(self.core, calls, count * size, "the multicall array")
        wake = False
        for index in range(count):
            op, _result, *values = MULTICALL_ENTRY.unpack_from(raw, index * size)
            call = BY_NUMBER.get(op)
            if call is None:
                raise HypercallError(f"entry {index}: {unknown(op)}")
            args = tuple(values[: len(call.params)])
            if not call.batchable:
                raise HypercallError(f"entry {index}: {call.name} cannot be batched (it "
                                     f"changes where the guest runs)")
            try:
                done = self.calls.run(call, args)
            except HypercallError as exc:
                raise HypercallError(f"entry {index}, {call.describe(args)}: {exc}") from None
            result = done.result or 0
            self.core.machine.memory.write_u32(calls + index * size + 4, result)
            self._event(Kind.EMULATE, f"the monitor carried out {call.describe(args)} from "
                        f"the multicall, with no trap of its own: {done.summary}", address,
                        "emulate", name=call.name, args=call.arguments(args), result=result,
                        batched=True, index=index)
            wake = wake or done.wake
            if self.core.machine.exit is not None:
                break
        return Done(f"carried out {count} batched calls", 0, wake=wake, report=False)

    # port I/O and interrupts ----------------------------------------------------------
    def on_io_fault(self, access: PortAccess) -> Emulated | None:
        """No port is the guest's: the CPU raises #GP, and on_exception says why."""
        self._refused_io = access
        return None

    def take_interrupt(self) -> bool:
        core = self.core
        core.cpu.begin()
        self._insn = None
        self._follow_ring(core.machine.linear_pc())
        accepted = core.accept_interrupt()
        if accepted is None:
            return False
        target = self.calls.timer_vector  # the guest's handler, registered by hypercall
        if target is not None:
            self._reflect(target, Source.EXTERNAL, core.cpu.eip, None,
                          core.machine.linear_pc(), irq=accepted[1])
        return True

