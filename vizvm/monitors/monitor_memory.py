"""The top 4 MiB the monitors keep for themselves, and the guard on them.

Unicorn does not check segment limits, so the truncated limits a monitor on
real hardware relies on cannot keep a guest out; writes are watched instead.

The map, from MONITOR_BASE: shadow GDT (0), the monitor's TSS (0x11000) and
IDT (0x12000), paravirt's IDT and TSS (0x13000, 0x14000), the shadow LDT
(0x20000), shadow paging's directory, monitor table and pool (0x30000 up to
TC_BASE), the binary translator's cache (TC_BASE) and its data page (VMM_DATA).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_MEM_WRITE, Uc

from vizvm.machine.layout import MONITOR_BASE, MONITOR_SIZE

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

Allowed = Callable[[int, int, int], bool]  # (address, size, value): the CPU's own write

TC_BASE = MONITOR_BASE + 0x20_0000  # the translation cache: 2 MiB less a page
VMM_DATA = MONITOR_BASE + MONITOR_SIZE - 0x1000  # what translated code reads and writes
TC_END = VMM_DATA


class Guard:
    """Stops a guest write to monitor memory unless one of `allowed` accepts it."""

    def __init__(self, allowed: Allowed) -> None:
        self.allowed: list[Allowed] = [allowed]

    def allow(self, allowed: Allowed) -> None:
        self.allowed.append(allowed)

    def accepts(self, address: int, size: int, value: int) -> bool:
        return any(check(address, size, value) for check in self.allowed)


def claim(machine: Machine, allowed: Allowed) -> Guard:
    """Map the monitor's memory and stop any guest write to it that `allowed` refuses."""
    machine.uc.mem_map(MONITOR_BASE, MONITOR_SIZE)
    guard = Guard(allowed)

    def on_write(uc: Uc, access: int, address: int, size: int, value: int, _d: object) -> None:
        if not guard.accepts(address, size, value):
            machine.fail(
                f"the guest wrote {size} bytes at {address:#010x}, memory the monitor keeps "
                f"for itself; a monitor on real hardware keeps guests out with segment limits "
                f"or separate page tables, and this one stops the guest"
            )

    machine.uc.hook_add(UC_HOOK_MEM_WRITE, on_write, None, MONITOR_BASE,
                        MONITOR_BASE + MONITOR_SIZE - 1)
    return guard
