"""What every monitor of this package shares: the virtual CPU, the guest's
tables, the shadow tables, and loading guest segments into the real CPU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizvm.asm.disasm import Insn, decode_detail
from vizvm.machine.cpu import IF, IOPL_MASK, Cpu
from vizvm.machine.descriptors import Descriptor, is_null_selector
from vizvm.monitors.guest_tables import GuestTables
from vizvm.monitors.shadow import ShadowTables
from vizvm.monitors.shadow_paging import ShadowPaging
from vizvm.monitors.vcpu import VirtualCpu
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from capstone import CsInsn

    from vizvm.machine.machine import Machine

SEGMENTS = ("es", "cs", "ss", "ds", "fs", "gs")
MONITOR_CR0 = 0x11  # PE and ET: the monitor's own, whatever the guest sets
GUEST_CR0_BITS = 0x2 | 0x4 | 0x20 | 0x40000  # MP, EM, NE, AM: how the guest's FPU behaves
CR0_TS = 0x8


class MonitorCore:
    def __init__(self, machine: Machine, kernel_ring: int, *, trap_far: bool = True) -> None:
        self.machine = machine
        self.cpu: Cpu = machine.cpu
        self.kernel_ring = kernel_ring
        cpu = self.cpu
        eflags = cpu.eflags
        self.vcpu = VirtualCpu(
            cpl=cpu.cpl,
            interrupts=bool(eflags & IF),
            iopl=(eflags & IOPL_MASK) >> 12,
            cr0=cpu.read("cr0"),
            cr3=cpu.read("cr3"),
            cr4=cpu.read("cr4"),
            gdtr=cpu.table_register("gdt"),
            idtr=cpu.table_register("idt"),
            ldtr=cpu.table_register("ldt"),
            tr=cpu.table_register("tr"),
        )
        self.shadow = ShadowTables(machine, self.vcpu, kernel_ring, trap_far=trap_far)
        self.tables = GuestTables(self.vcpu, machine.memory, self.shadow.guest_wrote)
        self.paging = ShadowPaging(machine, self.vcpu, kernel_ring)
        self.fpu_loaded = False  # the monitor loads the guest's FPU state lazily
        self.interrupt_held = False  # an interrupt arrived while the virtual IF was 0

    def deprivilege(self) -> None:
        """Move the running guest onto the shadow tables at its real ring.

        The real CR0 becomes the monitor's (protected mode, nothing else); the
        guest's own CR0 lives on in the virtual CPU.
        """
        self.cpu.write("cr0", MONITOR_CR0)
        self.shadow.load_gdt()
        self.apply_control_registers()
        state = self.cpu.begin()
        for segment in SEGMENTS:
            selector = state.segment(segment)[0]
            descriptor = (None if is_null_selector(selector)
                          else self.tables.read_descriptor(selector))
            self.load_segment(segment, selector, descriptor)
        self.cpu.commit()
        self.cpu.write("eflags", (self.cpu.eflags | IF) & ~IOPL_MASK)

    def real_cr0(self) -> int:
        """The real CR0: the monitor's, with the guest's FPU bits, and TS set while
        the guest's FPU state is not loaded (or the guest itself set TS)."""
        cr0 = MONITOR_CR0 | (self.vcpu.cr0 & GUEST_CR0_BITS)
        if not self.fpu_loaded or self.vcpu.cr0 & CR0_TS:
            cr0 |= CR0_TS
        return cr0

    def apply_control_registers(self) -> None:
        self.paging.apply(self.real_cr0())

    def update_cr0(self) -> None:
        """TS or the FPU bits changed, paging did not."""
        real = self.cpu.read("cr0")
        keep = real & ((1 << 31) | (1 << 16))  # PG and WP belong to the shadow paging
        self.cpu.write("cr0", self.real_cr0() | keep)

    def real_ring(self, guest_ring: int) -> int:
        return self.shadow.real_ring(guest_ring)

    def load_segment(self, segment: str, selector: int, descriptor: Descriptor | None) -> None:
        """Fill a real cache for a guest segment (inside cpu.begin()/commit()).

        CS and SS carry the real ring in their RPL, as the CPU requires; the
        other registers keep the selector the guest loaded.
        """
        if descriptor is None or is_null_selector(selector):
            self.cpu.load_cached(segment, selector, None)
            return
        if segment in ("cs", "ss"):  # set vcpu.cpl to the new ring first
            selector = (selector & 0xFFFC) | self.real_ring(self.vcpu.cpl)
        self.cpu.load_cached(segment, selector, self.shadow.cache_of(descriptor))

    def virtual_selector(self, segment: str) -> int:
        """A segment register as the guest should see it in a frame it reads."""
        real = self.cpu.state.segment(segment)[0]
        if segment in ("cs", "ss") and not is_null_selector(real):
            return (real & 0xFFFC) | self.vcpu.cpl
        return real

    def instruction(self, insn: Insn) -> CsInsn | None:
        """Operand details of an instruction already read and decoded."""
        return decode_detail(insn.raw, insn.address)

    def guest_eflags(self) -> int:
        return self.vcpu.guest_eflags(self.cpu.eflags)

    def accept_interrupt(self) -> tuple[int, int] | None:
        """The interrupt line is up: hold it while the virtual IF is 0 (one trap event
        per hold), or acknowledge it at the PIC and return (vector, irq) to reflect."""
        machine = self.machine
        if not self.vcpu.interrupts:
            if not self.interrupt_held:
                self.interrupt_held = True
                machine.emit(Kind.TRAP, "an interrupt arrived while the guest's virtual IF is "
                             "0: the monitor holds it", cost="trap")
            return None
        vector, irq = machine.pic.acknowledge()
        if not self.interrupt_held:  # a held one already counted its trap
            machine.emit(Kind.TRAP, f"IRQ {irq} interrupted the guest: the CPU entered the "
                         f"monitor", cost="trap", data={"irq": irq})
        self.interrupt_held = False
        machine.halted = False
        return vector, irq
