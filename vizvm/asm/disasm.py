"""Decoding guest instructions with Capstone, cached by address and bytes.

Monitors decode the instruction that trapped to emulate it, and every event
names its instruction; code that traps in a loop traps at the same few
addresses, so a small cache keyed by (address, bytes) removes nearly all of
the decoding cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from capstone import CS_ARCH_X86, CS_MODE_32, Cs, CsInsn

MAX_INSN = 15

_engine = Cs(CS_ARCH_X86, CS_MODE_32)
_detail_engine = Cs(CS_ARCH_X86, CS_MODE_32)
_detail_engine.detail = True


@dataclass(frozen=True)
class Insn:
    address: int
    raw: bytes
    mnemonic: str
    op_str: str

    @property
    def size(self) -> int:
        return len(self.raw)

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.op_str}".strip()


def _unknown(address: int, code: bytes) -> Insn:
    return Insn(address, code[:1], "(bad)", "")


@lru_cache(maxsize=4096)
def decode(code: bytes, address: int) -> Insn:
    """The first instruction of `code`, which should hold up to 15 bytes."""
    for insn in _engine.disasm(code, address, 1):
        return Insn(address, bytes(insn.bytes), insn.mnemonic, insn.op_str)
    return _unknown(address, code)


@lru_cache(maxsize=4096)
def decode_detail(code: bytes, address: int) -> CsInsn | None:
    """The first instruction with operand details, for emulation."""
    for insn in _detail_engine.disasm(code, address, 1):
        return insn
    return None


def disassemble(code: bytes, address: int, count: int = 0) -> list[Insn]:
    """A run of instructions, for listings."""
    out = []
    offset = 0
    while offset < len(code) and (not count or len(out) < count):
        insn = decode(code[offset : offset + MAX_INSN], address + offset)
        out.append(insn)
        offset += insn.size
    return out
