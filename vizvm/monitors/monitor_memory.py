"""The top 4 MiB the monitors keep for themselves, and the guard on them.

Unicorn does not check segment limits, so the truncated limits a monitor on
real hardware relies on cannot keep a guest out; writes are watched instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_MEM_WRITE, Uc

from vizvm.machine.layout import MONITOR_BASE, MONITOR_SIZE

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

Allowed = Callable[[int, int, int], bool]  # (address, size, value): the CPU's own write


def claim(machine: Machine, allowed: Allowed) -> None:
    """Map the monitor's memory and stop any guest write to it that `allowed` refuses."""
    machine.uc.mem_map(MONITOR_BASE, MONITOR_SIZE)

    def on_write(uc: Uc, access: int, address: int, size: int, value: int, _d: object) -> None:
        if not allowed(address, size, value):
            machine.fail(
                f"the guest wrote {size} bytes at {address:#010x}, memory the monitor keeps "
                f"for itself; a monitor on real hardware keeps guests out with segment limits "
                f"or separate page tables, and this one stops the guest"
            )

    machine.uc.hook_add(UC_HOOK_MEM_WRITE, on_write, None, MONITOR_BASE,
                        MONITOR_BASE + MONITOR_SIZE - 1)
