"""Segment, gate and TSS descriptors of 32-bit protected mode.

Plain decoding and encoding (Intel SDM vol. 3A, 3.4.5 and 6.11), shared by the
machine's interrupt delivery and the monitors' shadow tables.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace

# System descriptor types (S = 0)
TYPE_LDT = 0x2
TYPE_TSS16_AVAILABLE = 0x1
TYPE_TSS32_AVAILABLE = 0x9
TYPE_TSS32_BUSY = 0xB
TYPE_CALL_GATE32 = 0xC
TYPE_TASK_GATE = 0x5
TYPE_INTERRUPT_GATE16 = 0x6
TYPE_TRAP_GATE16 = 0x7
TYPE_INTERRUPT_GATE32 = 0xE
TYPE_TRAP_GATE32 = 0xF

# Code/data type bits (S = 1)
TYPE_ACCESSED = 0x1
TYPE_WRITABLE_OR_READABLE = 0x2
TYPE_EXPAND_DOWN_OR_CONFORMING = 0x4
TYPE_CODE = 0x8


@dataclass(frozen=True)
class Descriptor:
    """A segment descriptor as the two dwords say, with base and limit decoded."""

    low: int
    high: int

    @classmethod
    def from_bytes(cls, raw: bytes) -> Descriptor:
        low, high = struct.unpack("<II", raw[:8])
        return cls(low, high)

    @classmethod
    def build(
        cls, base: int, limit: int, type_: int, *, s: bool = True, dpl: int = 0,
        present: bool = True, db: bool = True, granularity: bool = True,
    ) -> Descriptor:
        """Encode; limit is the raw 20-bit field (in pages when granularity)."""
        low = (limit & 0xFFFF) | ((base & 0xFFFF) << 16)
        high = (
            ((base >> 16) & 0xFF)
            | ((type_ & 0xF) << 8)
            | (int(s) << 12)
            | ((dpl & 3) << 13)
            | (int(present) << 15)
            | (limit & 0xF0000)
            | (int(db) << 22)
            | (int(granularity) << 23)
            | (base & 0xFF000000)
        )
        return cls(low, high)

    def to_bytes(self) -> bytes:
        return struct.pack("<II", self.low, self.high)

    @property
    def base(self) -> int:
        return ((self.low >> 16) & 0xFFFF) | ((self.high & 0xFF) << 16) | (self.high & 0xFF000000)

    @property
    def raw_limit(self) -> int:
        return (self.low & 0xFFFF) | (self.high & 0xF0000)

    @property
    def granularity(self) -> bool:
        return bool(self.high & (1 << 23))

    @property
    def limit(self) -> int:
        """Byte limit, scaled by the granularity bit."""
        if self.granularity:
            return (self.raw_limit << 12) | 0xFFF
        return self.raw_limit

    @property
    def type(self) -> int:
        return (self.high >> 8) & 0xF

    @property
    def is_segment(self) -> bool:
        """S bit: code or data rather than a system descriptor or gate."""
        return bool(self.high & (1 << 12))

    @property
    def dpl(self) -> int:
        return (self.high >> 13) & 3

    @property
    def present(self) -> bool:
        return bool(self.high & (1 << 15))

    @property
    def big(self) -> bool:
        return bool(self.high & (1 << 22))

    @property
    def is_code(self) -> bool:
        return self.is_segment and bool(self.type & TYPE_CODE)

    @property
    def is_data(self) -> bool:
        return self.is_segment and not self.type & TYPE_CODE

    @property
    def conforming(self) -> bool:
        return self.is_code and bool(self.type & TYPE_EXPAND_DOWN_OR_CONFORMING)

    @property
    def readable(self) -> bool:
        return self.is_data or bool(self.type & TYPE_WRITABLE_OR_READABLE)

    @property
    def writable(self) -> bool:
        return self.is_data and bool(self.type & TYPE_WRITABLE_OR_READABLE)

    @property
    def accessed(self) -> bool:
        return bool(self.type & TYPE_ACCESSED)

    @property
    def cache_flags(self) -> int:
        """The high dword, which is what a QEMU segment cache keeps as flags."""
        return self.high

    def with_dpl(self, dpl: int) -> Descriptor:
        return replace(self, high=(self.high & ~(3 << 13)) | ((dpl & 3) << 13))

    def with_present(self, present: bool) -> Descriptor:
        return replace(self, high=(self.high & ~(1 << 15)) | (int(present) << 15))

    def with_type(self, type_: int) -> Descriptor:
        return replace(self, high=(self.high & ~(0xF << 8)) | ((type_ & 0xF) << 8))

    def with_limit(self, byte_limit: int) -> Descriptor:
        """Set a byte limit, choosing granularity as an assembler would."""
        if byte_limit > 0xFFFFF:
            raw, gran = byte_limit >> 12, 1
        else:
            raw, gran = byte_limit, 0
        low = (self.low & 0xFFFF0000) | (raw & 0xFFFF)
        high = (self.high & ~(0xF0000 | (1 << 23))) | (raw & 0xF0000) | (gran << 23)
        return Descriptor(low, high)


@dataclass(frozen=True)
class Gate:
    """An IDT entry (interrupt, trap or task gate)."""

    selector: int
    offset: int
    type: int
    dpl: int
    present: bool

    @classmethod
    def from_bytes(cls, raw: bytes) -> Gate:
        low, high = struct.unpack("<II", raw[:8])
        return cls(
            selector=(low >> 16) & 0xFFFF,
            offset=(low & 0xFFFF) | (high & 0xFFFF0000),
            type=(high >> 8) & 0xF,
            dpl=(high >> 13) & 3,
            present=bool(high & (1 << 15)) and not high & (1 << 12),
        )

    @property
    def is_interrupt_gate(self) -> bool:
        return self.type in (TYPE_INTERRUPT_GATE16, TYPE_INTERRUPT_GATE32)

    @property
    def is_trap_gate(self) -> bool:
        return self.type in (TYPE_TRAP_GATE16, TYPE_TRAP_GATE32)

    @property
    def is_32bit(self) -> bool:
        return self.type in (TYPE_INTERRUPT_GATE32, TYPE_TRAP_GATE32)


def selector_index(selector: int) -> int:
    return selector & 0xFFF8


def selector_rpl(selector: int) -> int:
    return selector & 3


def selector_uses_ldt(selector: int) -> bool:
    return bool(selector & 4)


def is_null_selector(selector: int) -> bool:
    return selector & 0xFFFC == 0


# 32-bit TSS fields (SDM 7.2.1)
TSS_ESP0 = 4
TSS_SS0 = 8
TSS_IOMAP_BASE = 0x66
TSS_MIN_LIMIT = 0x67


def tss_stack_offset(ring: int) -> tuple[int, int]:
    """(ESPn, SSn) offsets in a 32-bit TSS for ring n (0..2)."""
    return TSS_ESP0 + 8 * ring, TSS_SS0 + 8 * ring
