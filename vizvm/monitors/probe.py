"""A guest kernel deprivileged and left alone: what the processor itself does.

`vizvm classify` runs one instruction twice, on bare hardware at ring 0 and
here: at ring N on the descriptor tables any ring-compressing monitor must
give the CPU (DPLs moved to ring N, limits clear of the monitor, and the
monitor's own GDT, IDT, TSS, LDT and CR0 in force), with nothing emulated.
An exception the instruction raises is recorded and not delivered, so the
instruction's own behaviour is what gets compared. Software interrupts are
delivered through the CPU's tables, since that is what INT n does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vizvm.machine.bare_metal import BareMetal
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.monitors.core import MonitorCore

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine


@dataclass(frozen=True)
class Fault:
    vector: int
    error_code: int | None


class Probe(BareMetal):
    """Records the first exception instead of delivering it."""

    name = "probe"

    def __init__(self, ring: int = 0) -> None:
        super().__init__()
        self.ring = ring
        self.fault: Fault | None = None
        self.software: int | None = None

    def setup(self, machine: Machine) -> None:
        super().setup(machine)

    def deprivilege(self) -> None:
        """Move the guest, as it stands, to ring `ring` on plain shadow tables."""
        core = MonitorCore(self._m, self.ring, trap_far=False)
        core.deprivilege()
        core.shadow.load_idt_copy()

    def on_exception(self, trap: Trap) -> None:
        if trap.software:
            self.software = trap.vector
            self._m.deliver(trap.vector, trap.source, trap.return_eip)
            return
        if self.fault is None:
            self.fault = Fault(trap.vector, trap.error_code)
        self._m.request_stop()

    def on_io_fault(self, access: PortAccess) -> Emulated | None:
        return None

    def take_interrupt(self) -> bool:
        return False

    def can_wake(self) -> bool:
        return False
