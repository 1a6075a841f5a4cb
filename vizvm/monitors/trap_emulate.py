"""Trap-and-emulate on classic x86, with its holes left open.

The guest kernel runs deprivileged (ring 1, or ring 3 as an option) on
shadow descriptor tables. Every privileged instruction faults into the
monitor, which emulates it on the virtual CPU; exceptions, INT n and timer
interrupts are reflected into the guest's own handlers, the last only when
the virtual IF allows. Sensitive instructions that do not fault (POPF,
PUSHF, SGDT, SIDT, SLDT, STR, SMSW, LAR, LSL, VERR, VERW, reading CS or SS)
run as they are and show the guest the real state: Popek and Goldberg's
condition fails on this architecture, and that is the lesson.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizvm.asm.disasm import Insn
from vizvm.machine.delivery import Delivered, Source, TripleFault
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.machine.vectors import GP, NM, NP, PF, CpuFault, short_name
from vizvm.machine.vectors import name as vector_name
from vizvm.monitors import privileged
from vizvm.monitors.core import MonitorCore
from vizvm.monitors.io_access import guest_may_use_port
from vizvm.monitors.privileged import Emulation
from vizvm.monitors.reflect import reflect
from vizvm.monitors.segments import Unsupported
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine


class TrapEmulate:
    name = "trap-emulate"

    def __init__(self, kernel_ring: int = 1) -> None:
        if kernel_ring not in (1, 3):
            raise ValueError("the guest kernel can be deprivileged to ring 1 or ring 3")
        self.kernel_ring = kernel_ring
        self.machine: Machine | None = None
        self._core: MonitorCore | None = None

    @property
    def core(self) -> MonitorCore:
        assert self._core is not None
        return self._core

    def setup(self, machine: Machine) -> None:
        self.machine = machine
        self._core = MonitorCore(machine, self.kernel_ring)
        self._core.deprivilege()

    def guest_ring(self) -> int:
        return self.core.vcpu.cpl

    def can_wake(self) -> bool:
        return self.core.vcpu.interrupts

    def finish(self) -> None:
        """Accessed bits the CPU set in the shadow GDT belong in the guest's."""
        self.core.cpu.begin()
        self.core.shadow.sync_accessed()

    # events ---------------------------------------------------------------------
    def _event(self, kind: Kind, detail: str, address: int, cost: str, **data: object) -> None:
        self.core.machine.emit(kind, detail, address=address, cost=cost, data=dict(data),
                               insn=self._insn)

    def _trapped(self, trap: Trap, why: str) -> None:
        self._event(Kind.TRAP, why, trap.address, "trap", vector=trap.vector)

    _insn: Insn | None = None  # the trapping instruction, decoded once per trap

    def _ring_change(self, before: int, address: int) -> None:
        after = self.core.vcpu.cpl
        if before != after:
            self.core.paging.mode_changed()
            real = self.core.real_ring
            self._event(
                Kind.RING,
                f"guest ring {before} -> {after} (really ring {real(before)} -> {real(after)})",
                address, "", **{"from": before, "to": after},
            )

    # exceptions and INT n -------------------------------------------------------------
    def on_exception(self, trap: Trap) -> None:
        core = self.core
        core.cpu.begin()
        self._insn = core.machine.instruction_at(trap.address)
        if trap.software:
            self._trapped(trap, f"INT {trap.vector:#04x} at ring {core.cpu.cpl}: the monitor owns "
                                f"the real IDT, so the CPU entered the monitor")
            self._reflect(trap.vector, trap.source, trap.return_eip, None, trap.address)
            return
        if trap.vector == PF and core.paging.enabled and self._hidden_page_fault(trap):
            return
        if trap.vector == NM and self._lazy_fpu(trap):
            return
        insn = core.instruction(self._insn)
        if trap.vector in (GP, NP) and insn is not None:
            try:
                if self._emulate(trap, insn):
                    return
            except CpuFault as fault:
                self._trapped(trap, self._why(trap, insn.mnemonic))
                self._reflect_fault(fault, trap.address)
                return
            except Unsupported as exc:
                core.machine.fail(f"{insn.mnemonic} at {trap.address:#010x}: {exc}")
                return
        what = insn.mnemonic if insn is not None else "the instruction"
        self._trapped(trap, f"{short_name(trap.vector)} from {what} at guest ring "
                            f"{core.vcpu.cpl}: the CPU entered the monitor")
        self._reflect(trap.vector, trap.source, trap.return_eip, trap.error_code, trap.address)

    def _hidden_page_fault(self, trap: Trap) -> bool:
        """Fill the shadow from the guest's tables, or hand the fault to the guest."""
        core = self.core
        linear = core.cpu.read("cr2")
        write = bool((trap.error_code or 0) & 2)
        try:
            fill = core.paging.fill(linear, write=write)
        except CpuFault as fault:
            core.vcpu.cr2 = linear
            self._trapped(trap, f"page fault at {linear:#010x}: the guest's own page tables "
                                f"refuse it too")
            self._reflect(PF, Source.EXCEPTION, trap.return_eip, fault.error_code, trap.address)
            return True
        core.machine.uncount(linear)  # the guest never sees this fault: it runs it once
        self._trapped(trap, f"hidden page fault at {linear:#010x}: the shadow page tables "
                            f"had no entry the access could use")
        access = "read-write" if fill.writable else "read-only"
        self._event(Kind.EMULATE, f"the monitor copied the guest's mapping {fill.linear:#010x} "
                    f"-> {fill.physical:#010x} ({access}) into its shadow page table",
                    trap.address, "shadow_pt_update")
        return True

    def _lazy_fpu(self, trap: Trap) -> bool:
        """#NM: the monitor's own TS (FPU state not loaded yet), unless the guest set TS."""
        core = self.core
        if core.vcpu.cr0 & 0x8:
            return False
        core.fpu_loaded = True
        core.update_cr0()
        core.machine.uncount()
        self._trapped(trap, "the first FPU instruction since the monitor took over: TS was set "
                            "by the monitor, not the guest")
        self._event(Kind.EMULATE, "the monitor loaded the guest's FPU state and cleared the "
                    "real TS", trap.address, "emulate")
        return True

    def _why(self, trap: Trap, mnemonic: str) -> str:
        ring = self.core.cpu.cpl
        if trap.vector == NP:
            return (f"{mnemonic.upper()} at ring {ring}: the shadow GDT marks code segments "
                    f"not present, so the CPU raised #NP into the monitor")
        return (f"{mnemonic.upper()} at ring {ring} is privileged (the guest kernel is not in "
                f"ring 0), so the CPU raised #GP into the monitor")

    def _emulate(self, trap: Trap, insn: object) -> bool:
        core = self.core
        before = core.vcpu.cpl
        result = privileged.emulate(core, insn)  # type: ignore[arg-type]
        if result is None:
            return False
        self._trapped(trap, self._why(trap, insn.mnemonic))  # type: ignore[attr-defined]
        self._carry_out(result, insn.size, trap.address, before)  # type: ignore[attr-defined]
        return True

    def _carry_out(self, result: Emulation, size: int, address: int, before: int) -> None:
        """After an emulation: move past the instruction, report, and look at interrupts."""
        core = self.core
        if result.advance:
            state = core.cpu.begin()
            state.set_eip(core.cpu.eip + size)
            core.cpu.commit()
        self._event(Kind.EMULATE, f"the monitor {result.summary}", address, "emulate")
        self._ring_change(before, address)
        machine = core.machine
        if machine.halted:
            machine.emit(Kind.HALT, "the guest waits for an interrupt (HLT emulated)",
                         address=address, cost="halt")
            machine.request_stop()
        elif result.window and machine.pic.has_interrupt():
            machine.check_interrupts_after_next()
        elif result.returned and core.vcpu.interrupts and machine.pic.has_interrupt():
            machine.request_stop()

    def _reflect(
        self, vector: int, source: Source, return_eip: int, error_code: int | None, address: int
    ) -> Delivered | None:
        core = self.core
        before = core.vcpu.cpl
        try:
            delivered = reflect(core, vector, source, return_eip, error_code)
        except TripleFault as exc:
            core.machine.shutdown(str(exc))
            return None
        kind = Kind.INTERRUPT if source is Source.EXTERNAL else Kind.EXCEPTION
        self._event(
            kind,
            f"{vector_name(delivered.vector)} reflected into the guest's handler at "
            f"{delivered.handler_cs:#06x}:{delivered.handler_eip:#010x}",
            address, "reflect", vector=delivered.vector, error_code=delivered.error_code,
        )
        self._ring_change(before, address)
        return delivered

    def _reflect_fault(self, fault: CpuFault, address: int) -> None:
        """The emulated instruction faulted as it would have on the guest's own CPU."""
        if fault.cr2 is not None:
            self.core.vcpu.cr2 = fault.cr2
        eip = self.core.cpu.eip
        self._reflect(fault.vector, Source.EXCEPTION, eip, fault.error_code, address)

    # port I/O ----------------------------------------------------------------------------
    def on_io_fault(self, access: PortAccess) -> Emulated | None:
        core = self.core
        core.cpu.begin()
        if not guest_may_use_port(core, access.port, access.size):
            return None
        direction = "IN" if access.is_in else "OUT"
        self._insn = core.machine.instruction_at(access.address)
        self._event(
            Kind.TRAP,
            f"{direction} port {access.port:#06x} at ring {core.cpu.cpl}: CPL > IOPL 0 and no "
            f"I/O bitmap, so the CPU raised #GP into the monitor",
            access.address, "trap", port=access.port,
        )
        return self._device_access(access, "the monitor ")

    def _device_access(self, access: PortAccess, who: str) -> Emulated:
        """Carry a port access out on the machine's device model, and say so."""
        machine = self.core.machine
        if access.is_in:
            value = machine.port_read(access.port, access.size, cost="")
            summary = f"read port {access.port:#06x} from its device model ({value:#x})"
        else:
            value = access.value or 0
            machine.port_write(access.port, access.size, value, cost="")
            summary = f"wrote {value:#x} to port {access.port:#06x} through its device model"
        self._event(Kind.EMULATE, f"{who}{summary}", access.address, "emulate")
        return Emulated(value if access.is_in else 0)

    # interrupts -------------------------------------------------------------------------
    def take_interrupt(self) -> bool:
        core = self.core
        core.cpu.begin()
        accepted = core.accept_interrupt()
        if accepted is None:
            return False
        self._reflect(accepted[0], Source.EXTERNAL, core.cpu.eip, None,
                      core.machine.linear_pc())
        return True
