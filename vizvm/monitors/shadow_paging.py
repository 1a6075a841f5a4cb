"""Shadow page tables: the paging a monitor must do for a guest that pages.

The real CPU walks page tables the monitor owns. They start empty and fill
on demand: an access through an unfilled entry faults into the monitor (a
*hidden* page fault the guest never sees), which walks the guest's own
tables, sets their accessed and dirty bits as the MMU would, and copies the
mapping. If the guest's tables say no, the fault is the guest's and is
reflected. Like a TLB, the shadow keeps entries until the guest reloads CR3
or runs INVLPG, which the architecture requires of it anyway. Pages are
mapped read-only until the guest's dirty bit is set, so the first write
faults and sets it. The top 4 MiB map the monitor itself, supervisor-only,
and segment limits already keep a deprivileged kernel out of them.

A guest kernel squeezed into ring 3 cannot be protected from its own user
programs by one user/supervisor bit; the monitor empties the shadow at every
switch between the guest's kernel and user mode, which is what that costs.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vizvm.machine.layout import MONITOR_BASE, PAGE
from vizvm.machine.paging import CR0_PG, CR0_WP, Control, Translation, walk
from vizvm.machine.uc_internals import flush_tlb
from vizvm.machine.vectors import CpuFault
from vizvm.monitors.monitor_memory import TC_BASE
from vizvm.monitors.vcpu import VirtualCpu

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

SHADOW_PD = MONITOR_BASE + 0x30000
MONITOR_PT = MONITOR_BASE + 0x31000
POOL_START = MONITOR_BASE + 0x32000
POOL_END = TC_BASE  # above it, the binary translator's cache
P, W, U = 1, 2, 4
A, D = 0x20, 0x40  # preset, so that the CPU never writes the monitor's tables
MONITOR_PDE = MONITOR_BASE >> 22
REAL_CR4_MIRRORED = 0x600 | 0x100 | 0x4  # OSFXSR, OSXMMEXCPT, PCE, TSD


@dataclass(frozen=True)
class Fill:
    """A hidden page fault the monitor absorbed."""

    linear: int
    physical: int
    writable: bool


class ShadowPaging:
    def __init__(
        self, machine: Machine, vcpu: VirtualCpu, kernel_ring: int, *, map_monitor: bool = True,
        guest_cpl: Callable[[], int] | None = None,
    ) -> None:
        self.machine = machine
        # the ring the guest believes it is in: the virtual one under a deprivileging monitor
        self.guest_cpl = guest_cpl or (lambda: vcpu.cpl)
        self.map_monitor = map_monitor  # its tables are reached by linear address (not VT-x)
        self.vcpu = vcpu
        self.kernel_ring = kernel_ring
        self._tables: dict[int, int] = {}  # PDE index -> shadow page table address
        self._next = POOL_START
        self._mode_user = False
        monitor_pt = b"".join(
            struct.pack("<I", (MONITOR_BASE + i * PAGE) | P | W | A | D) for i in range(1024))
        machine.uc.mem_write(MONITOR_PT, monitor_pt)
        machine.memory.control = self.guest_control
        machine.memory.cpu_maps = self.maps

    # the guest's view --------------------------------------------------------------
    def guest_control(self) -> Control:
        v = self.vcpu
        return Control(v.cr0, v.cr3, v.cr4)

    @property
    def enabled(self) -> bool:
        return bool(self.vcpu.cr0 & CR0_PG)

    def guest_walk(self, linear: int, *, write: bool, user: bool) -> Translation:
        memory = self.machine.memory
        return walk(self.guest_control(), linear, memory.read_physical,
                    memory._write_entry, is_write=write, user=user)

    # the real CPU's view --------------------------------------------------------------
    def apply(self, real_cr0: int) -> None:
        """After the guest changed CR0, CR3 or CR4: set the real ones, on the shadow."""
        cpu = self.machine.cpu
        cpu.write("cr4", self.vcpu.cr4 & REAL_CR4_MIRRORED)
        if self.enabled:
            self.reset()
            cpu.write("cr3", SHADOW_PD)
            cpu.write("cr0", real_cr0 | CR0_PG | CR0_WP)
        else:
            cpu.write("cr0", real_cr0 & ~CR0_PG)
        flush_tlb(self.machine.uc)
        self.machine.uc.ctl_flush_tb()

    def reset(self) -> None:
        """Forget every shadow mapping (CR3 reload, a full pool, a mode switch)."""
        pd = bytearray(PAGE)
        if self.map_monitor:
            struct.pack_into("<I", pd, MONITOR_PDE * 4, MONITOR_PT | P | W | A)
        self.machine.uc.mem_write(SHADOW_PD, bytes(pd))
        self._tables.clear()
        self._next = POOL_START
        flush_tlb(self.machine.uc)

    def invalidate(self, linear: int) -> None:
        """INVLPG: drop the shadow entry for one page."""
        table = self._tables.get(linear >> 22)
        if table is not None:
            self.machine.uc.mem_write(table + ((linear >> 12) & 0x3FF) * 4, bytes(4))
        flush_tlb(self.machine.uc)

    def mode_changed(self) -> None:
        """The guest moved between kernel and user mode (matters in ring 3 only)."""
        user = self.guest_cpl() == 3
        if self.enabled and self.kernel_ring == 3 and user != self._mode_user:
            self._mode_user = user
            self.reset()

    def maps(self, linear: int) -> bool:
        table = self._tables.get(linear >> 22)
        if table is None:
            return not self.enabled
        raw = self.machine.uc.mem_read(table + ((linear >> 12) & 0x3FF) * 4, 4)
        return bool(int.from_bytes(raw, "little") & P)

    def fill(self, linear: int, *, write: bool) -> Fill:
        """A hidden page fault: copy the guest's mapping, or raise the guest's #PF."""
        user = self.guest_cpl() == 3
        found = self.guest_walk(linear, write=write, user=user)
        writable = found.writable and found.dirty
        user_bit = found.user or (self.kernel_ring == 3 and not user)
        if write and not found.writable:
            # the guest kernel writes a read-only page with CR0.WP clear: allowed to
            # it, so map the page writable for the supervisor only, for now
            writable, user_bit = True, self.kernel_ring == 3
        entry = (found.physical & ~0xFFF) | P | A | (W | D if writable else 0)
        entry |= U if user_bit else 0
        table = self._table_for(linear)
        self.machine.uc.mem_write(table + ((linear >> 12) & 0x3FF) * 4, struct.pack("<I", entry))
        flush_tlb(self.machine.uc)
        return Fill(linear & ~0xFFF, found.physical & ~0xFFF, writable)

    def _table_for(self, linear: int) -> int:
        index = linear >> 22
        if index == MONITOR_PDE and self.map_monitor:
            raise CpuFault(14, 0, "the top 4 MiB belong to the monitor", linear)
        table = self._tables.get(index)
        if table is None:
            if self._next >= POOL_END:
                self.reset()
            table = self._next
            self._next += PAGE
            self.machine.uc.mem_write(table, bytes(PAGE))
            pde = struct.pack("<I", table | P | W | U | A)
            self.machine.uc.mem_write(SHADOW_PD + index * 4, pde)
            self._tables[index] = table
        return table
