"""Whether the guest, on its own hardware, could have done a port access."""

from __future__ import annotations

from vizvm.machine.io_privilege import tss_bitmap_allows
from vizvm.monitors.core import MonitorCore


def guest_may_use_port(core: MonitorCore, port: int, size: int) -> bool:
    """CPL <= IOPL, or the guest's own TSS bitmap grants the ports (virtual state)."""
    vcpu = core.vcpu
    if vcpu.cpl <= vcpu.iopl:
        return True
    tr = vcpu.tr
    return bool(tr.selector) and tss_bitmap_allows(core.cpu.memory, tr.base, tr.limit, port, size)
