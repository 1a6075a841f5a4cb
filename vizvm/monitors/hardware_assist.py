"""Hardware-assisted virtualization, a model of Intel VT-x.

The guest kernel runs at ring 0 of non-root mode, on its own descriptor
tables: nothing is deprivileged, so POPF, PUSHF, SGDT and the rest behave as
on bare hardware and the holes of classic x86 are gone. What the VMM needs to
see leaves non-root mode as a VM exit with a reason and a qualification; the
VM-execution controls (vizvm.monitors.vmx) decide which operations exit, and
the VMM (this module, in root mode) handles each exit and resumes the guest.
The processor work, entering guest mode and raising the exits, is done by the
emulated CPU itself (vizvm.monitors.svm_entry). Without EPT, as on the first
VT-x processors, the VMM keeps shadow page tables for a paging guest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizvm.asm.disasm import Insn
from vizvm.machine.bare_metal import BareMetal, report_ring_change
from vizvm.machine.cpu import IF
from vizvm.machine.delivery import Source
from vizvm.machine.layout import MONITOR_BASE
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.machine.vectors import PF, CpuFault
from vizvm.monitors import svm_entry as svm
from vizvm.monitors import vmx
from vizvm.monitors.hardware_exits import ExitHandler
from vizvm.monitors.monitor_memory import claim
from vizvm.monitors.shadow_paging import ShadowPaging
from vizvm.monitors.vcpu import VirtualCpu
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

VMM_AREA = MONITOR_BASE  # the VMCB, the host save area, the VMRUN stub, the MSR bitmap
CPU_MODEL = svm.SVM_CPU_MODEL


class HardwareAssist(BareMetal):
    name = "hardware-assist"

    def __init__(self, controls: vmx.Controls = vmx.FIRST_GENERATION) -> None:
        super().__init__()
        self.controls = controls
        self.vcpu: VirtualCpu | None = None  # the guest's CRs, kept by the VMM without EPT
        self.paging: ShadowPaging | None = None
        self._exits: ExitHandler | None = None
        self._window_open_requested = False
        self._pending_noted = False

    def setup(self, machine: Machine) -> None:
        super().setup(machine)
        claim(machine, lambda _address, _size, _value: False)
        if not self.controls.ept:
            cpu = machine.cpu
            self.vcpu = VirtualCpu(cr0=cpu.read("cr0"), cr3=cpu.read("cr3"), cr4=cpu.read("cr4"))
            self.paging = ShadowPaging(machine, self.vcpu, 0, map_monitor=False,
                                       guest_cpl=lambda: machine.cpu.cpl)
        svm.enter_guest_mode(machine, self.controls, VMM_AREA)
        self._exits = ExitHandler(self, VMM_AREA)
        if self.paging is not None:
            self.paging.apply(machine.cpu.read("cr0"))

    @property
    def exits(self) -> ExitHandler:
        assert self._exits is not None
        return self._exits

    # VM exits ------------------------------------------------------------------------------
    def vm_exit(self, reason: int, qualification: int, address: int, why: str,
                insn: Insn | None = None, **data: object) -> None:
        """Log one exit: non-root to root mode, with the Intel reason and qualification."""
        self._m.emit(
            Kind.VM_EXIT, f"VM exit {reason} ({vmx.reason_name(reason)}): {why}",
            address=address, cost="vm_exit", insn=insn,
            data={"reason": reason, "name": vmx.reason_name(reason),
                  "qualification": qualification, **data},
        )

    def handled(self, what: str, address: int, insn: Insn | None = None) -> None:
        self._m.emit(Kind.EMULATE, f"the VMM {what}, then resumed the guest (VM entry)",
                     address=address, cost="vm_exit_handling", insn=insn)

    def on_exception(self, trap: Trap) -> None:
        if trap.vector >= svm.VMEXIT_BASE:
            self.exits.handle(trap.vector - svm.VMEXIT_BASE, trap)
            self._inject_after_exit()
            return
        super().on_exception(trap)  # not in the exception bitmap: no exit
        if trap.software:
            svm.end_software_interrupt(self._m.uc)

    def exception_exit(self, vector: int, trap: Trap) -> None:
        """Exit reason 0: an exception in the exception bitmap."""
        m = self._m
        insn = m.instruction_at(trap.address)
        info = 0x80000000 | 3 << 8 | vector | (0x800 if trap.error_code is not None else 0)
        if vector == PF and self.paging is not None:
            linear = self.exits.exit_info_2()
            self.vm_exit(vmx.EXCEPTION_OR_NMI, linear, trap.address,
                         f"page fault at {linear:#010x}; the exception bitmap has #PF",
                         insn, vector=vector, interruption_info=info)
            self._shadow_fault(trap, linear, insn)
            return
        self.vm_exit(vmx.EXCEPTION_OR_NMI, 0, trap.address,
                     f"exception {vector} is in the exception bitmap", insn,
                     vector=vector, interruption_info=info)
        self.handled(f"reinjected exception {vector} into the guest", trap.address, insn)
        m.deliver(vector, Source.EXCEPTION, trap.return_eip, trap.error_code)

    def _shadow_fault(self, trap: Trap, linear: int, insn: Insn) -> None:
        assert self.paging is not None and self.vcpu is not None
        write = bool((trap.error_code or 0) & 2)
        try:
            fill = self.paging.fill(linear, write=write)
        except CpuFault as fault:
            self.vcpu.cr2 = linear
            self._m.cpu.write("cr2", linear)
            self.handled("found the guest's own page tables refuse it and injected the #PF",
                         trap.address, insn)
            self._m.deliver(PF, Source.EXCEPTION, trap.return_eip, fault.error_code)
            return
        self._m.uncount(linear)  # a hidden fault: the guest runs the instruction once
        access = "read-write" if fill.writable else "read-only"
        self._m.emit(Kind.EMULATE, f"the VMM copied the guest's mapping {fill.linear:#010x} -> "
                     f"{fill.physical:#010x} ({access}) into its shadow page table",
                     address=trap.address, cost="shadow_pt_update", insn=insn)

    # port I/O -------------------------------------------------------------------------------
    def intercept_io(self, access: PortAccess) -> Emulated | None:
        if not self.controls.io_exits(access.port):
            return None  # the I/O bitmap lets this port through
        return self.exits.io(access)

    # interrupts -----------------------------------------------------------------------------
    def take_interrupt(self) -> bool:
        m = self._m
        if not self.controls.external_interrupt_exiting:
            return super().take_interrupt()  # straight through the guest's IDT
        if not self._pending_noted:
            self._pending_noted = True
            self.vm_exit(vmx.EXTERNAL_INTERRUPT, 0, m.linear_pc(),
                         "a timer interrupt arrived; external-interrupt exiting is on")
        if not m.cpu.eflags & IF:
            if self.controls.interrupt_window_exiting and not self._window_open_requested:
                self._window_open_requested = True
                self.handled("held the interrupt and asked for an exit when the guest can take "
                             "one (interrupt-window exiting)", m.linear_pc())
                m.watch_interrupt_flag(True)
            return False
        if self._window_open_requested:
            self.vm_exit(vmx.INTERRUPT_WINDOW, 0, m.linear_pc(),
                         "the guest set IF: the interrupt window is open")
        self._inject()
        return True

    def _inject(self) -> None:
        m = self._m
        vector, irq = m.pic.acknowledge()
        self._pending_noted = False
        self._window_open_requested = False
        m.watch_interrupt_flag(False)
        pc = m.linear_pc()
        self.handled(f"injected IRQ {irq} (vector {vector:#04x}) into the guest", pc)
        m.halted = False
        delivered = m.deliver(vector, Source.EXTERNAL, m.cpu.eip)
        if delivered is not None:
            m.emit(Kind.INTERRUPT, f"IRQ {irq} delivered through the guest's IDT on VM entry",
                   address=pc, data={"irq": irq, "vector": vector}, ring=delivered.from_ring,
                   guest_ring=delivered.from_ring)
            report_ring_change(m, delivered, pc)

    def _inject_after_exit(self) -> None:
        """Any exit is a chance to inject a held interrupt, window exiting or not."""
        m = self._m
        if (self._pending_noted and m.pic.has_interrupt() and m.cpu.eflags & IF
                and not m.halted and m.exit is None):
            m.request_stop()  # the loop offers it at the instruction boundary
