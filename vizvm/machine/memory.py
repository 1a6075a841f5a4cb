"""Guest memory as the machine and the monitors touch it from outside the CPU.

Reads and writes here are the CPU's own implicit accesses (pushing an
interrupt frame, reading a descriptor) or a monitor's, so linear addresses go
through the guest's page tables with the same checks and accessed/dirty bits
the hardware would apply. Under a monitor with shadow page tables that means
the guest's tables, not the ones the real CPU uses, so the registers of the
walk come from a replaceable source. Every write also drops Unicorn's
translations of the bytes written: Unicorn does not do that for writes made
through its API, and a guest would otherwise run stale code (UNICORN_NOTES.md).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from unicorn import Uc, UcError
from unicorn import x86_const as x86

from vizvm.machine.paging import Control, walk

PAGE = 0x1000


class MachineError(Exception):
    """Something the machine cannot model (not a guest-visible fault)."""


class GuestMemory:
    """Physical RAM at 0 plus the paging-aware accessors the CPU would use."""

    def __init__(self, uc: Uc, ram_size: int) -> None:
        self._uc = uc
        self.ram_size = ram_size
        self.control: Callable[[], Control] = self._real_control
        # whether the real CPU can reach a linear page (to drop its translations)
        self.cpu_maps: Callable[[int], bool] = lambda _linear: True
        # told of every write made here (physical address, size): a binary translator
        # must see the monitor's own stores into translated code, which no CPU hook sees
        self.write_listeners: list[Callable[[int, int], None]] = []

    def _real_control(self) -> Control:
        uc = self._uc
        return Control(uc.reg_read(x86.UC_X86_REG_CR0), uc.reg_read(x86.UC_X86_REG_CR3),
                       uc.reg_read(x86.UC_X86_REG_CR4))

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
        for listener in self.write_listeners:
            listener(address, len(data))

    def _invalidate(self, address: int, size: int, physical: bool) -> None:
        """Drop translated code for the bytes just written.

        Unicorn finds the code page from a linear address through the real
        page tables; without one that reaches the bytes, everything goes.
        """
        real_paging = bool(self._uc.reg_read(x86.UC_X86_REG_CR0) & (1 << 31))
        if real_paging and (physical or not self.cpu_maps(address)):
            self._uc.ctl_flush_tb()
            return
        self._uc.ctl_remove_cache(address, address + size)

    # linear ---------------------------------------------------------------
    @property
    def paging(self) -> bool:
        return self.control().paging

    def translate(self, linear: int, *, write: bool = False, user: bool = False) -> int:
        """Linear to physical by the guest's 32-bit page tables; #PF on failure."""
        return walk(self.control(), linear, self.read_physical, self._write_entry,
                    is_write=write, user=user).physical

    def _write_entry(self, address: int, data: bytes) -> None:
        """Accessed and dirty bits: page tables hold no code, so no translation to drop."""
        try:
            self._uc.mem_write(address, data)
        except UcError as exc:
            raise MachineError(f"page table entry at {address:#010x} outside memory") from exc

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
