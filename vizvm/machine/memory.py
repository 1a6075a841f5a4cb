"""Guest memory as the machine and the monitors touch it from outside the CPU.

Reads and writes here are the CPU's own implicit accesses (pushing an
interrupt frame, reading a descriptor) or a monitor's, so linear addresses go
through the guest's page tables with the same checks and accessed/dirty bits
the hardware would apply. Every write also drops Unicorn's translations of
the bytes written: Unicorn does not do that for writes made through its API,
and a guest would otherwise run stale code (UNICORN_NOTES.md).
"""

from __future__ import annotations

import struct

from unicorn import Uc, UcError
from unicorn import x86_const as x86

from vizvm.machine.vectors import PF, CpuFault

PAGE = 0x1000
CR0_PG = 1 << 31
CR0_WP = 1 << 16
CR4_PSE = 1 << 4

PTE_P = 1
PTE_W = 2
PTE_U = 4
PTE_A = 0x20
PTE_D = 0x40
PDE_PS = 0x80


class MachineError(Exception):
    """Something the machine cannot model (not a guest-visible fault)."""


class GuestMemory:
    """Physical RAM at 0 plus the paging-aware accessors the CPU would use."""

    def __init__(self, uc: Uc, ram_size: int) -> None:
        self._uc = uc
        self.ram_size = ram_size

    # physical -------------------------------------------------------------
    def read_physical(self, address: int, size: int) -> bytes:
        try:
            return bytes(self._uc.mem_read(address, size))
        except UcError as exc:
            raise MachineError(
                f"read of {size} bytes at physical {address:#010x} outside memory"
            ) from exc

    def write_physical(self, address: int, data: bytes, *, linear: int | None = None) -> None:
        try:
            self._uc.mem_write(address, data)
        except UcError as exc:
            raise MachineError(
                f"write of {len(data)} bytes at physical {address:#010x} outside memory"
            ) from exc
        self._invalidate(address if linear is None else linear, len(data), linear is None)

    def _invalidate(self, address: int, size: int, physical: bool) -> None:
        """Drop translated code for the bytes just written.

        Unicorn finds the code page from a linear address; a physical write
        while paging is on has no linear address to give, so everything goes.
        """
        if physical and self.paging:
            self._uc.ctl_flush_tb()
            return
        self._uc.ctl_remove_cache(address, address + size)

    # linear ---------------------------------------------------------------
    @property
    def paging(self) -> bool:
        return bool(self._uc.reg_read(x86.UC_X86_REG_CR0) & CR0_PG)

    def translate(self, linear: int, *, write: bool = False, user: bool = False) -> int:
        """Linear to physical by the guest's 32-bit page tables; #PF on failure."""
        linear &= 0xFFFFFFFF
        if not self.paging:
            return linear
        cr3 = self._uc.reg_read(x86.UC_X86_REG_CR3)
        cr4 = self._uc.reg_read(x86.UC_X86_REG_CR4)
        wp = bool(self._uc.reg_read(x86.UC_X86_REG_CR0) & CR0_WP)
        pde_addr = (cr3 & 0xFFFFF000) + ((linear >> 22) << 2)
        pde = self._entry(pde_addr)
        code = (2 if write else 0) | (4 if user else 0)
        if not pde & PTE_P:
            raise CpuFault(PF, code, f"page directory entry for {linear:#010x} not present", linear)
        if pde & PDE_PS and cr4 & CR4_PSE:
            self._check(pde, pde, write=write, user=user, wp=wp, linear=linear, code=code)
            self._set_bits(pde_addr, pde, PTE_A | (PTE_D if write else 0))
            return (pde & 0xFFC00000) | (linear & 0x3FFFFF)
        pte_addr = (pde & 0xFFFFF000) + (((linear >> 12) & 0x3FF) << 2)
        pte = self._entry(pte_addr)
        if not pte & PTE_P:
            raise CpuFault(PF, code, f"page table entry for {linear:#010x} not present", linear)
        self._check(pde, pte, write=write, user=user, wp=wp, linear=linear, code=code)
        self._set_bits(pde_addr, pde, PTE_A)
        self._set_bits(pte_addr, pte, PTE_A | (PTE_D if write else 0))
        return (pte & 0xFFFFF000) | (linear & 0xFFF)

    def _entry(self, address: int) -> int:
        return struct.unpack("<I", self.read_physical(address, 4))[0]

    def _set_bits(self, address: int, entry: int, bits: int) -> None:
        if entry & bits != bits:
            self.write_physical(address, struct.pack("<I", entry | bits), linear=None)

    @staticmethod
    def _check(
        pde: int, pte: int, *, write: bool, user: bool, wp: bool, linear: int, code: int
    ) -> None:
        allowed_user = bool(pde & PTE_U and pte & PTE_U)
        allowed_write = bool(pde & PTE_W and pte & PTE_W)
        if user and not allowed_user:
            raise CpuFault(PF, code | 1, f"user access to supervisor page {linear:#010x}", linear)
        if write and not allowed_write and (user or wp):
            raise CpuFault(PF, code | 1, f"write to read-only page {linear:#010x}", linear)

    def _pieces(self, linear: int, size: int):
        """Split an access at page boundaries, as the hardware checks each page."""
        while size > 0:
            chunk = min(size, PAGE - (linear & (PAGE - 1)))
            yield linear, chunk
            linear = (linear + chunk) & 0xFFFFFFFF
            size -= chunk

    def read(self, linear: int, size: int, *, user: bool = False) -> bytes:
        out = bytearray()
        for address, chunk in self._pieces(linear, size):
            out += self.read_physical(self.translate(address, user=user), chunk)
        return bytes(out)

    def write(self, linear: int, data: bytes, *, user: bool = False) -> None:
        offset = 0
        for address, chunk in self._pieces(linear, len(data)):
            physical = self.translate(address, write=True, user=user)
            self.write_physical(physical, data[offset : offset + chunk], linear=address)
            offset += chunk

    def read_u32(self, linear: int) -> int:
        return struct.unpack("<I", self.read(linear, 4))[0]

    def read_u16(self, linear: int) -> int:
        return struct.unpack("<H", self.read(linear, 2))[0]

    def write_u32(self, linear: int, value: int) -> None:
        self.write(linear, struct.pack("<I", value & 0xFFFFFFFF))
