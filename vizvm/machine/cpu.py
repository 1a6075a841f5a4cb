"""The CPU as the machine and the monitors see it from outside.

Register reads and writes go through Unicorn's API where it is faithful;
segment caches and CPL go through a patched saved context (uc_internals),
because the API refuses a load into a more privileged ring.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicorn import Uc
from unicorn import x86_const as x86

from vizvm.machine.descriptors import (
    Descriptor,
    is_null_selector,
    selector_index,
    selector_uses_ldt,
)
from vizvm.machine.memory import GuestMemory
from vizvm.machine.uc_internals import CpuState, Registers
from vizvm.machine.vectors import GP, CpuFault

GPRS = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
SEGMENTS = ("es", "cs", "ss", "ds", "fs", "gs")

REG_IDS: dict[str, int] = {
    **{name: getattr(x86, f"UC_X86_REG_{name.upper()}") for name in GPRS},
    **{name: getattr(x86, f"UC_X86_REG_{name.upper()}") for name in SEGMENTS},
    "eip": x86.UC_X86_REG_EIP,
    "eflags": x86.UC_X86_REG_EFLAGS,
    "cr0": x86.UC_X86_REG_CR0,
    "cr2": x86.UC_X86_REG_CR2,
    "cr3": x86.UC_X86_REG_CR3,
    "cr4": x86.UC_X86_REG_CR4,
}
GPR_INDEX = {name: i for i, name in enumerate(GPRS)}

# EFLAGS bits
CF, PF_FLAG, AF, ZF, SF, TF, IF, DF_FLAG, OF = 1, 4, 0x10, 0x40, 0x80, 0x100, 0x200, 0x400, 0x800
IOPL_MASK = 0x3000
NT = 0x4000
RF = 0x10000
VM = 0x20000
AC_FLAG = 0x40000


@dataclass(frozen=True)
class TableRegister:
    selector: int
    base: int
    limit: int


class Cpu:
    """One engine's CPU, with the operations that delivery and monitors share."""

    def __init__(self, uc: Uc, memory: GuestMemory) -> None:
        self.uc = uc
        self.memory = memory
        self.state = CpuState(uc)
        self.regs = Registers(uc)
        self.committed = False  # set when a handler restored a patched state

    # plain registers -----------------------------------------------------
    def read(self, name: str) -> int:
        return self.regs.read(REG_IDS[name])

    def write(self, name: str, value: int) -> None:
        self.regs.write(REG_IDS[name], value & 0xFFFFFFFF)

    def registers(self) -> dict[str, int]:
        """The guest-visible register file, for summaries and the window."""
        names = (*GPRS, "eip", "eflags", *SEGMENTS, "cr0", "cr2", "cr3", "cr4")
        return {name: self.read(name) for name in names}

    @property
    def eip(self) -> int:
        return self.regs.read(x86.UC_X86_REG_EIP)

    @property
    def eflags(self) -> int:
        return self.regs.read(x86.UC_X86_REG_EFLAGS)

    @property
    def cpl(self) -> int:
        """CS.RPL, which protected mode keeps equal to the CPL."""
        return self.regs.read(x86.UC_X86_REG_CS) & 3

    @property
    def iopl(self) -> int:
        return (self.eflags & IOPL_MASK) >> 12

    def table_register(self, name: str) -> TableRegister:
        reg = {
            "gdt": x86.UC_X86_REG_GDTR,
            "idt": x86.UC_X86_REG_IDTR,
            "ldt": x86.UC_X86_REG_LDTR,
            "tr": x86.UC_X86_REG_TR,
        }[name]
        selector, base, limit, _flags = self.uc.reg_read(reg)
        return TableRegister(selector, base, limit)

    def set_table_register(
        self, name: str, base: int, limit: int, selector: int = 0, flags: int = 0
    ) -> None:
        reg = {
            "gdt": x86.UC_X86_REG_GDTR,
            "idt": x86.UC_X86_REG_IDTR,
            "ldt": x86.UC_X86_REG_LDTR,
            "tr": x86.UC_X86_REG_TR,
        }[name]
        self.uc.reg_write(reg, (selector, base, limit, flags))

    # descriptors -----------------------------------------------------------
    def descriptor_address(self, selector: int, error_code: int | None = None) -> int:
        """Linear address of a selector's descriptor; #GP(selector) past the limit."""
        table = self.table_register("ldt" if selector_uses_ldt(selector) else "gdt")
        index = selector_index(selector)
        if index + 7 > table.limit:
            code = selector & 0xFFFC if error_code is None else error_code
            raise CpuFault(GP, code, f"selector {selector:#06x} beyond its table's limit")
        return table.base + index

    def read_descriptor(self, selector: int) -> Descriptor:
        return Descriptor.from_bytes(self.memory.read(self.descriptor_address(selector), 8))

    def load_cached(self, segment: str, selector: int, descriptor: Descriptor | None) -> None:
        """Fill a hidden cache (in the pending saved state; see begin/commit)."""
        if descriptor is None or is_null_selector(selector):
            self.state.load_segment(segment, selector, 0, 0, 0)
            return
        flags = descriptor.cache_flags | (0x100 if descriptor.is_segment else 0)
        self.state.load_segment(segment, selector, descriptor.base, descriptor.limit, flags)

    # saved-state transactions ---------------------------------------------
    def begin(self) -> CpuState:
        """Snapshot the engine's state to patch it; pair with commit()."""
        self.state.load()
        return self.state

    def commit(self) -> None:
        self.state.clear_nested_exception()
        self.state.commit()
        self.committed = True
