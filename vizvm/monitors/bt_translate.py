"""Deciding what each guest kernel instruction becomes in the translation cache.

The translator works one instruction at a time and keeps the count: every
guest instruction becomes exactly one instruction of translated code, so a
guest runs the same number of instructions, and meets its timer at the same
point, as it would alone on the machine. What the instruction becomes:

- COPY: the same bytes (almost everything).
- JUMP: a direct JMP or Jcc, re-aimed at the translation of its target.
- INLINE: one instruction that acts on the virtual CPU in the monitor's data
  page, reached through GS, which translated code borrows (CLI, STI, and
  reads of CS and SS into a register or onto the stack).
- CALLOUT: an INT3 into the monitor, which carries the instruction out on the
  virtual CPU (privileged and sensitive instructions, INT n).
- STEP: an INT3 after which the monitor runs the guest's own instruction once
  in place, out of the cache, and then looks up where it went (CALL, RET,
  indirect branches, LOOP, port I/O, instructions that use GS).

This module decides and encodes; vizvm.monitors.bt_cache places the result.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass

from capstone import CsInsn
from capstone.x86 import X86_OP_IMM, X86_OP_MEM, X86_OP_REG

from vizvm.asm.disasm import Insn, decode_detail
from vizvm.monitors.operands import far_indirect

INT3 = b"\xcc"
GS_PREFIX, CS_PREFIX, OPERAND_SIZE, ADDRESS_SIZE = 0x65, 0x2E, 0x66, 0x67
PREFIXES = frozenset({0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x66, 0x67})
MAX_BLOCK = 64  # guest instructions per block; the rest continue in another block

# The monitor's data page, as translated code sees it through GS.
VIF_OFFSET = 0  # byte: the virtual interrupt flag
VCS_OFFSET = 4  # dword: the guest's CS as it believes it is (RPL 0)
VSS_OFFSET = 8  # dword: the same for SS

PRIVILEGED = frozenset({
    "hlt", "lgdt", "lidt", "lldt", "ltr", "clts", "lmsw", "invlpg", "invd", "wbinvd",
    "rdmsr", "wrmsr", "lds", "les", "lfs", "lgs", "lss", "ljmp", "lcall", "retf", "iretd",
    "iret",
})
SENSITIVE = frozenset({
    "pushf", "pushfd", "popf", "popfd", "sgdt", "sidt", "sldt", "str", "smsw", "lar", "lsl",
    "verr", "verw",
})
SOFTWARE_INTERRUPTS = frozenset({"int", "int3", "into", "int1"})
IO = frozenset({"in", "out", "insb", "insw", "insd", "outsb", "outsw", "outsd"})
LOOPS = frozenset({"loop", "loope", "loopne", "jecxz", "jcxz"})
FAST_SYSTEM_CALLS = frozenset({"sysenter", "sysexit", "syscall", "sysret"})
DATA_AND_STACK = frozenset({"ds", "es", "fs", "gs", "ss"})


class How(enum.StrEnum):
    COPY = "copy"
    JUMP = "jump"
    INLINE = "inline"
    CALLOUT = "callout"
    STEP = "out of line"
    STUB = "exit stub"  # not a guest instruction: where a jump goes before its target exists


class After(enum.StrEnum):
    """What the monitor does once an instruction ran out of line."""

    NOTHING = ""  # carry on with the next instruction's translation
    CALL = "call"  # a direct call: its target is known, its translation is chained
    BRANCH = "branch"  # a direct branch with no form to re-aim (LOOP far from its target)
    LOOKUP = "lookup"  # RET or an indirect branch: the cache's lookup of a computed target
    IO = "io"  # port I/O: the monitor's device model
    SEGMENT = "segment"  # the instruction uses GS, which translated code borrows


@dataclass
class Slot:
    """One guest instruction (or an exit stub) and what it became."""

    guest: int  # the guest instruction's linear address (a stub: its target's)
    insn: Insn | None
    how: How
    why: str  # for listings and events
    code: bytes = INT3
    target: int | None = None  # JUMP: the guest target
    after: After = After.NOTHING
    ends_block: bool = False
    tc: int = 0  # where it was placed
    condition: int | None = None  # JUMP: the condition code of a Jcc, None for JMP
    short: int | None = None  # JUMP: the opcode of LOOP/LOOPE/LOOPNE/JECXZ (rel8 only)
    site: Slot | None = None  # STUB: the jump that leads to it, re-aimed once resolved
    physical: tuple[tuple[int, int], ...] = ()  # the guest bytes in RAM: [start, end) pieces

    @property
    def jump_size(self) -> int:
        if self.short is not None:
            return 2
        return 5 if self.condition is None else 6

    def jump_to(self, tc_target: int) -> bytes:
        """The re-aimed JMP rel32, Jcc rel32 or LOOP rel8, placed at self.tc."""
        rel = (tc_target - (self.tc + self.jump_size)) & 0xFFFFFFFF
        if self.short is not None:
            return bytes((self.short, rel & 0xFF))
        if self.condition is None:
            return b"\xe9" + struct.pack("<I", rel)
        return bytes((0x0F, 0x80 | self.condition)) + struct.pack("<I", rel)


def prefixes(raw: bytes) -> bytes:
    end = 0
    while end < len(raw) and raw[end] in PREFIXES:
        end += 1
    return raw[:end]


def _gs(offset: int) -> bytes:
    return struct.pack("<I", offset)


def _register_number(insn: CsInsn) -> int:
    return insn.modrm & 7


def _segment_operands(insn: CsInsn) -> tuple[str | None, str | None]:
    names = []
    for op in insn.operands[:2]:
        names.append(insn.reg_name(op.reg) if op.type == X86_OP_REG else None)
    names += [None, None]
    return names[0], names[1]


def _inline_read(insn: CsInsn, pre: bytes, segment: str) -> bytes | None:
    """MOV r, CS/SS and PUSH CS/SS as one load from the monitor's copy."""
    offset = VCS_OFFSET if segment == "cs" else VSS_OFFSET
    wide = OPERAND_SIZE not in pre
    if insn.mnemonic == "push":
        return (b"" if wide else b"\x66") + b"\x65\xff\x35" + _gs(offset)
    if insn.operands[0].type != X86_OP_REG:
        return None  # a store to memory: a callout writes the virtual selector
    reg = _register_number(insn)
    if wide:
        return b"\x65\x0f\xb7" + bytes((reg << 3 | 5,)) + _gs(offset)  # movzx r32, word gs:[]
    return b"\x66\x65\x8b" + bytes((reg << 3 | 5,)) + _gs(offset)  # mov r16, gs:[]


def _condition(raw: bytes, pre: bytes) -> int | None:
    """The condition code of a Jcc (0x7x or 0x0F 0x8x), None for JMP."""
    opcode = raw[len(pre):]
    if opcode[0] in (0xEB, 0xE9):
        return None
    if 0x70 <= opcode[0] <= 0x7F:
        return opcode[0] & 0xF
    return opcode[1] & 0xF


def plan(insn: CsInsn, guest: Insn, *, cs_base: int) -> Slot:
    """What one decoded guest kernel instruction becomes."""
    raw = guest.raw
    pre = prefixes(raw)
    mnemonic = insn.mnemonic.split()[-1]  # "rep outsb" is an outsb

    def slot(how: How, why: str, code: bytes = INT3, **kw: object) -> Slot:
        return Slot(guest.address, guest, how, why, code, **kw)  # type: ignore[arg-type]

    def step(after: After, why: str, *, ends: bool = False) -> Slot:
        return slot(How.STEP, why, after=after, ends_block=ends)

    def target() -> int:
        return insn.operands[0].imm & 0xFFFFFFFF

    has_memory = any(op.type == X86_OP_MEM for op in insn.operands)
    if GS_PREFIX in pre:
        return step(After.SEGMENT, "uses GS, which translated code borrows: runs in place")
    if CS_PREFIX in pre and has_memory and cs_base:
        return step(After.SEGMENT, "reads through CS, whose base the cache's code segment "
                                   "does not share: runs in place")
    dst, src = _segment_operands(insn)
    if mnemonic in ("cli", "sti"):
        value = 1 if mnemonic == "sti" else 0
        return slot(How.INLINE, f"{mnemonic.upper()} sets the virtual IF in the monitor's data "
                                f"page, without leaving the cache",
                    b"\x65\xc6\x05" + _gs(VIF_OFFSET) + bytes((value,)))
    if mnemonic in ("mov", "push") and (src if mnemonic == "mov" else dst) in ("cs", "ss"):
        segment = src if mnemonic == "mov" else dst
        code = _inline_read(insn, pre, segment or "cs")
        if code is not None:
            return slot(How.INLINE, f"reads the guest's own {segment.upper()} (RPL 0) from "
                                    f"the monitor's data page, not the real one", code)
        return slot(How.CALLOUT, f"stores {segment.upper()}: the monitor writes the guest's "
                                 f"own selector")
    if (mnemonic == "push" and dst == "gs") or (mnemonic == "mov" and src == "gs"):
        return step(After.SEGMENT, "reads GS, which translated code borrows: runs in place")
    if mnemonic == "mov" and dst in DATA_AND_STACK:
        return slot(How.CALLOUT, "privileged: a segment load, checked on the guest's own GDT")
    if mnemonic == "mov" and any(n and n[:2] in ("cr", "dr") for n in (dst, src)):
        return slot(How.CALLOUT, "privileged: a control or debug register")
    if mnemonic == "pop" and dst in DATA_AND_STACK:
        return slot(How.CALLOUT, "privileged: a segment load, checked on the guest's own GDT")
    if mnemonic in PRIVILEGED or far_indirect(insn):
        # after HLT the guest may never come back: what follows is translated when reached
        ends = mnemonic in ("ljmp", "retf", "iretd", "iret", "hlt") or far_indirect(insn) == "jmp"
        return slot(How.CALLOUT, f"privileged: {mnemonic.upper()} is emulated on the virtual "
                                 f"CPU", ends_block=ends)
    if mnemonic in SENSITIVE:
        return slot(How.CALLOUT, f"sensitive: {mnemonic.upper()} would show the real state; "
                                 f"the monitor answers from the virtual CPU")
    if mnemonic in SOFTWARE_INTERRUPTS:
        return slot(How.CALLOUT, f"{insn.mnemonic.upper()}: the monitor delivers it through the "
                                 f"guest's IDT")
    if mnemonic in IO:
        return step(After.IO, "port I/O: the monitor's device model answers")
    if mnemonic in FAST_SYSTEM_CALLS:
        return step(After.NOTHING, "a fast system call instruction: runs in place")
    branch = bool(_groups(insn) & {"jump", "call"}) or mnemonic in ("ret", *LOOPS)
    if branch and (OPERAND_SIZE in pre or (ADDRESS_SIZE in pre and mnemonic in LOOPS)):
        return step(After.LOOKUP if mnemonic == "ret" else After.BRANCH,
                    "a branch with a 16-bit target: runs in place",
                    ends=mnemonic in ("jmp", "ret"))
    if mnemonic in LOOPS:
        return slot(How.JUMP, f"{mnemonic.upper()} re-aimed, if its target's translation is "
                              f"near enough for its 8-bit offset", b"", target=target(),
                    short=raw[len(pre)])
    if mnemonic == "ret":
        return step(After.LOOKUP, "RET: its target is looked up in the cache", ends=True)
    if mnemonic == "call":
        if insn.operands[0].type == X86_OP_IMM:
            return step(After.CALL, "CALL pushes the guest's return address: runs in place")
        return step(After.LOOKUP, "an indirect CALL: its target is looked up in the cache")
    if mnemonic == "jmp" and insn.operands[0].type != X86_OP_IMM:
        return step(After.LOOKUP, "an indirect JMP: its target is looked up in the cache",
                    ends=True)
    if "jump" in _groups(insn) and insn.operands and insn.operands[0].type == X86_OP_IMM:
        condition = _condition(raw, pre)
        kind = "JMP" if condition is None else insn.mnemonic.upper()
        return slot(How.JUMP, f"{kind} re-aimed at its target's translation", b"",
                    target=target(), condition=condition, ends_block=condition is None)
    if mnemonic == "ud2":
        return step(After.NOTHING, "undefined: raises #UD in place", ends=True)
    return slot(How.COPY, "", raw)


def _groups(insn: CsInsn) -> set[str]:
    return {insn.group_name(g) for g in insn.groups}


def unreadable(address: int, why: str) -> Slot:
    """An instruction the translator could not fetch or decode: it runs (and faults) in
    place, unless by then it can be fetched, when it is translated after all."""
    return Slot(address, None, How.STEP, why, after=After.NOTHING, ends_block=True)


def stub(target: int, site: Slot | None, why: str) -> Slot:
    """Where a jump goes until its target has a translation; no guest instruction."""
    return Slot(target, None, How.STUB, why, site=site, ends_block=True)


def translate_block(fetch: Callable[[int], bytes], start: int, cs_base: int) -> list[Slot]:
    """The slots of one block, from `start` to its first unconditional transfer.

    `fetch(address)` gives up to 15 bytes of guest code there, fewer (or none)
    where the guest's memory stops being readable.
    """
    slots: list[Slot] = []
    address = start
    while True:
        if len(slots) == MAX_BLOCK:
            slots.append(stub(address, None, f"the block holds {MAX_BLOCK} instructions: the "
                                             f"next starts another"))
            return slots
        code = fetch(address)
        insn = decode_detail(code, address) if code else None
        if insn is None:
            why = "cannot be decoded" if code else "cannot be fetched (not mapped)"
            slots.append(unreadable(address, f"{why}: runs, and faults, in place"))
            return slots
        guest = Insn(address, bytes(insn.bytes), insn.mnemonic, insn.op_str)
        slot = plan(insn, guest, cs_base=cs_base)
        slots.append(slot)
        if slot.ends_block:
            return slots
        address = (address + insn.size) & 0xFFFFFFFF
