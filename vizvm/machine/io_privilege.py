"""The I/O privilege check that Unicorn leaves out (UNICORN_NOTES.md).

A CPU lets IN and OUT through when CPL <= IOPL; otherwise it consults the I/O
permission bitmap of the current 32-bit TSS and raises #GP(0) if any bit for
the accessed ports is set or lies beyond the TSS limit (SDM vol. 1, 19.5).
"""

from __future__ import annotations

from unicorn import x86_const as x86

from vizvm.machine.cpu import Cpu
from vizvm.machine.descriptors import TSS_IOMAP_BASE, TSS_MIN_LIMIT, TYPE_TSS32_AVAILABLE
from vizvm.machine.memory import GuestMemory, MachineError
from vizvm.machine.vectors import CpuFault


def io_permitted(cpu: Cpu, port: int, size: int) -> bool:
    if cpu.cpl <= cpu.iopl:
        return True
    return bitmap_allows(cpu, port, size)


def bitmap_allows(cpu: Cpu, port: int, size: int) -> bool:
    _sel, base, limit, flags = cpu.uc.reg_read(x86.UC_X86_REG_TR)
    tss_type = (flags >> 8) & 0xF
    if not flags & (1 << 15) or tss_type | 2 != TYPE_TSS32_AVAILABLE | 2:
        return False
    return tss_bitmap_allows(cpu.memory, base, limit, port, size)


def tss_bitmap_allows(memory: GuestMemory, base: int, limit: int, port: int, size: int) -> bool:
    """The I/O permission bitmap of a 32-bit TSS at `base` grants the ports."""
    if limit < TSS_MIN_LIMIT:
        return False
    try:
        iomap = memory.read_u16(base + TSS_IOMAP_BASE)
        byte = iomap + port // 8
        if byte + 1 > limit:
            return False
        bits = memory.read_u16(base + byte)
    except (MachineError, CpuFault):
        return False
    mask = ((1 << size) - 1) << (port % 8)
    return not bits & mask
