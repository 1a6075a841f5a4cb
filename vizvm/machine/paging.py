"""32-bit paging (no PAE): the walk the MMU does, with its checks and A/D bits.

One walker serves the CPU's own implicit accesses (the real page tables on
bare metal) and a monitor walking the guest's tables (its virtual CR3), so
both set accessed and dirty bits and raise #PF exactly alike.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from vizvm.machine.vectors import PF, CpuFault

CR0_PG = 1 << 31
CR0_WP = 1 << 16
CR4_PSE = 1 << 4

PTE_P = 1
PTE_W = 2
PTE_U = 4
PTE_A = 0x20
PTE_D = 0x40
PDE_PS = 0x80
FRAME = 0xFFFFF000


@dataclass(frozen=True)
class Control:
    """The registers a walk depends on."""

    cr0: int
    cr3: int
    cr4: int

    @property
    def paging(self) -> bool:
        return bool(self.cr0 & CR0_PG)


@dataclass(frozen=True)
class Translation:
    physical: int
    user: bool  # user-mode code may access the page
    writable: bool  # writes are allowed (for user mode; supervisor with CR0.WP)
    dirty: bool  # the dirty bit is set now
    large: bool  # a 4 MiB page


ReadPhysical = Callable[[int, int], bytes]
WritePhysical = Callable[[int, bytes], None]


def walk(
    control: Control, linear: int, read: ReadPhysical, write: WritePhysical, *,
    is_write: bool = False, user: bool = False,
) -> Translation:
    """Translate like the MMU; #PF (with the SDM's error code and CR2) on failure."""
    linear &= 0xFFFFFFFF
    if not control.paging:
        return Translation(linear, user=True, writable=True, dirty=True, large=False)
    code = (2 if is_write else 0) | (4 if user else 0)
    pde_addr = (control.cr3 & FRAME) + ((linear >> 22) << 2)
    pde = _entry(read, pde_addr)
    if not pde & PTE_P:
        raise CpuFault(PF, code, f"no page directory entry for {linear:#010x}", linear)
    if pde & PDE_PS and control.cr4 & CR4_PSE:
        entry, large = pde, True
        physical = (pde & 0xFFC00000) | (linear & 0x3FFFFF)
        tables = [(pde_addr, pde)]
    else:
        pte_addr = (pde & FRAME) + (((linear >> 12) & 0x3FF) << 2)
        entry, large = _entry(read, pte_addr), False
        if not entry & PTE_P:
            raise CpuFault(PF, code, f"no page table entry for {linear:#010x}", linear)
        physical = (entry & FRAME) | (linear & 0xFFF)
        tables = [(pde_addr, pde), (pte_addr, entry)]
    allowed_user = bool(pde & PTE_U and entry & PTE_U)
    allowed_write = bool(pde & PTE_W and entry & PTE_W)
    if user and not allowed_user:
        raise CpuFault(PF, code | 1, f"user access to supervisor page {linear:#010x}", linear)
    if is_write and not allowed_write and (user or control.cr0 & CR0_WP):
        raise CpuFault(PF, code | 1, f"write to read-only page {linear:#010x}", linear)
    for n, (address, value) in enumerate(tables):
        last = n == len(tables) - 1
        bits = PTE_A | (PTE_D if is_write and last else 0)
        if value & bits != bits:
            write(address, struct.pack("<I", value | bits))
    dirty = bool(entry & PTE_D) or is_write
    return Translation(physical, allowed_user, allowed_write, dirty, large)


def _entry(read: ReadPhysical, address: int) -> int:
    return struct.unpack("<I", read(address, 4))[0]
