"""The CPU state a guest believes it has, kept by a monitor.

Under a monitor the real CPU runs the guest kernel deprivileged; every piece
of state that the guest may not touch directly lives here instead, and the
monitor's emulation of privileged instructions reads and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vizvm.machine.cpu import IF, IOPL_MASK, TableRegister


def _null() -> TableRegister:
    return TableRegister(0, 0, 0)


@dataclass
class VirtualCpu:
    cpl: int = 0
    interrupts: bool = False  # the virtual IF
    iopl: int = 0
    cr0: int = 0x11
    cr2: int = 0
    cr3: int = 0
    cr4: int = 0
    gdtr: TableRegister = field(default_factory=_null)
    idtr: TableRegister = field(default_factory=_null)
    ldtr: TableRegister = field(default_factory=_null)
    tr: TableRegister = field(default_factory=_null)
    debug: list[int] = field(default_factory=lambda: [0] * 8)

    def guest_eflags(self, real: int) -> int:
        """EFLAGS as the guest should see them: the virtual IF and IOPL."""
        value = (real & ~(IF | IOPL_MASK)) | (self.iopl << 12)
        return value | IF if self.interrupts else value

    def table(self, name: str) -> TableRegister:
        return {"gdt": self.gdtr, "idt": self.idtr, "ldt": self.ldtr, "tr": self.tr}[name]
