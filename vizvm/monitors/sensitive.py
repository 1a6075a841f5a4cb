"""The classic x86 holes, answered from the virtual CPU.

These instructions do not fault when a deprivileged kernel runs them, yet
they show it the real machine: PUSHF the real IF and IOPL, POPF silently
keeps the real IF, SGDT/SIDT/SLDT/STR/SMSW the monitor's tables and CR0,
MOV from CS or SS the real ring, LAR/LSL/VERR/VERW the shadow descriptors.
A binary translator replaces each with a callout to these handlers, which
give the result bare hardware would (Intel SDM vol. 2; where the SDM leaves
a result undefined, what the emulated CPU does natively).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from capstone import CsInsn

from vizvm.machine.cpu import IF, IOPL_MASK, RF, VM, ZF
from vizvm.machine.descriptors import (
    TYPE_CALL_GATE32,
    TYPE_LDT,
    TYPE_TASK_GATE,
    TYPE_TSS16_AVAILABLE,
    TYPE_TSS32_AVAILABLE,
    TYPE_TSS32_BUSY,
    Descriptor,
    is_null_selector,
)
from vizvm.machine.vectors import CpuFault
from vizvm.monitors.core import MonitorCore
from vizvm.monitors.operands import (
    effective_address,
    is_memory,
    operand_value,
    register_name,
    write_gpr,
    write_operand,
)
from vizvm.monitors.privileged import Emulation, Handler
from vizvm.monitors.segments import ALWAYS

POPF_AT_RING0 = (ALWAYS & ~RF) | IF | IOPL_MASK  # what POPF may change at ring 0
OPERAND_SIZE = 0x66
TSS16_BUSY = 0x3
CALL_GATE16 = 0x4
LAR_SYSTEM_TYPES = frozenset({TYPE_TSS16_AVAILABLE, TYPE_LDT, TSS16_BUSY, CALL_GATE16,
                              TYPE_TASK_GATE, TYPE_TSS32_AVAILABLE, TYPE_TSS32_BUSY,
                              TYPE_CALL_GATE32})
LSL_SYSTEM_TYPES = frozenset({TYPE_TSS16_AVAILABLE, TYPE_LDT, TSS16_BUSY, TYPE_TSS32_AVAILABLE,
                              TYPE_TSS32_BUSY})
LOW_HALF = {"eax": "ax", "ecx": "cx", "edx": "dx", "ebx": "bx", "esp": "sp", "ebp": "bp",
            "esi": "si", "edi": "di"}
LAR_MASK = 0x00F0FF00  # what the emulated CPU keeps of the descriptor's high dword


def _wide(insn: CsInsn) -> bool:
    return OPERAND_SIZE not in insn.prefix


def _push(core: MonitorCore, value: int, size: int) -> None:
    state = core.cpu.begin()
    esp = (core.cpu.read("esp") - size) & 0xFFFFFFFF
    core.cpu.memory.write(state.segment("ss")[1] + esp, value.to_bytes(size, "little"))
    core.cpu.write("esp", esp)


def _pop(core: MonitorCore, size: int) -> int:
    state = core.cpu.begin()
    esp = core.cpu.read("esp")
    value = int.from_bytes(core.cpu.memory.read(state.segment("ss")[1] + esp, size), "little")
    core.cpu.write("esp", esp + size)
    return value


def _pushf(core: MonitorCore, insn: CsInsn) -> Emulation:
    flags = core.guest_eflags() & ~(RF | VM)
    size = 4 if _wide(insn) else 2
    _push(core, flags & ((1 << (8 * size)) - 1), size)
    state = "set" if flags & IF else "clear"
    return Emulation(f"pushed the guest's EFLAGS ({flags:#x}): the virtual IF ({state}) and "
                     f"IOPL {core.vcpu.iopl}, not the real ones")


def _popf(core: MonitorCore, insn: CsInsn) -> Emulation:
    """POPF at the guest's ring 0: IF and IOPL too, into the virtual CPU."""
    size = 4 if _wide(insn) else 2
    value = _pop(core, size)
    mask = POPF_AT_RING0 & ((1 << (8 * size)) - 1)
    guest = (core.guest_eflags() & ~mask) | (value & mask)
    was = core.vcpu.interrupts
    core.vcpu.interrupts = bool(guest & IF)
    core.vcpu.iopl = (guest & IOPL_MASK) >> 12
    real = core.cpu.eflags
    core.cpu.write("eflags", (real & (IF | IOPL_MASK)) | (guest & ~(IF | IOPL_MASK)) | 2)
    state = "set" if core.vcpu.interrupts else "cleared"
    return Emulation(f"popped {value:#x} into EFLAGS: the virtual IF is {state}, as POPF at "
                     f"ring 0 would leave it", returned=core.vcpu.interrupts and not was)


def _store_table(core: MonitorCore, insn: CsInsn) -> Emulation:
    table = core.vcpu.gdtr if insn.mnemonic == "sgdt" else core.vcpu.idtr
    address = effective_address(core.cpu, insn, 0)
    core.cpu.memory.write(address, struct.pack("<HI", table.limit & 0xFFFF, table.base))
    name = insn.mnemonic[1:].upper()
    return Emulation(f"stored the guest's own {name}R ({table.base:#010x}, limit "
                     f"{table.limit:#x}), not the shadow table's")


def _store_selector(core: MonitorCore, insn: CsInsn, value: int, what: str) -> Emulation:
    """SLDT, STR, and MOV to memory from CS or SS: 16 bits to memory, the register whole."""
    if is_memory(insn, 0):
        address = effective_address(core.cpu, insn, 0)
        core.cpu.memory.write(address, (value & 0xFFFF).to_bytes(2, "little"))
    else:
        write_operand(core.cpu, insn, 0, value & 0xFFFF)
    return Emulation(f"stored the guest's {what} ({value:#06x})")


def _sldt(core: MonitorCore, insn: CsInsn) -> Emulation:
    return _store_selector(core, insn, core.vcpu.ldtr.selector, "LDTR")


def _str(core: MonitorCore, insn: CsInsn) -> Emulation:
    return _store_selector(core, insn, core.vcpu.tr.selector, "TR")


def _smsw(core: MonitorCore, insn: CsInsn) -> Emulation:
    """The low 16 bits of CR0, to a register too (as the emulated CPU does natively)."""
    value = core.vcpu.cr0 & 0xFFFF
    if is_memory(insn, 0):
        core.cpu.memory.write(effective_address(core.cpu, insn, 0), value.to_bytes(2, "little"))
    else:
        name = register_name(insn, 0) or ""
        write_gpr(core.cpu, LOW_HALF.get(name, name), value)
    return Emulation(f"stored the guest's machine status word ({value:#06x}): its own TS and "
                     f"PE, not the real CR0's")


def _mov_from_segment(core: MonitorCore, insn: CsInsn) -> Emulation:
    segment = register_name(insn, 1) or "cs"
    return _store_selector(core, insn, core.virtual_selector(segment),
                           f"{segment.upper()} as the guest believes it (RPL {core.vcpu.cpl})")


def _push_segment(core: MonitorCore, insn: CsInsn) -> Emulation:
    segment = register_name(insn, 0) or "cs"
    value = core.virtual_selector(segment)
    _push(core, value, 4 if _wide(insn) else 2)
    return Emulation(f"pushed {segment.upper()} as the guest believes it ({value:#06x})")


# LAR, LSL, VERR, VERW ----------------------------------------------------------------
def _visible(core: MonitorCore, selector: int, types: frozenset[int] | None) -> Descriptor | None:
    """The guest's descriptor if the instruction may see it at the guest's ring, else None.

    `types` lists the system types allowed; None allows segments only.
    """
    if is_null_selector(selector):
        return None
    try:
        d = core.tables.read_descriptor(selector)
    except CpuFault as fault:
        if fault.vector == 13:  # beyond the table's limit: ZF=0, no fault
            return None
        raise
    if d.is_segment:
        if d.is_code and d.conforming:
            return d
    elif types is None or d.type not in types:
        return None
    if d.dpl < max(core.vcpu.cpl, selector & 3):
        return None
    return d


def _set_zf(core: MonitorCore, on: bool) -> None:
    flags = core.cpu.eflags
    core.cpu.write("eflags", flags | ZF if on else flags & ~ZF)


def _lar(core: MonitorCore, insn: CsInsn) -> Emulation:
    return _load_from_descriptor(core, insn, LAR_SYSTEM_TYPES, "access rights",
                                 lambda d: d.high & LAR_MASK)


def _lsl(core: MonitorCore, insn: CsInsn) -> Emulation:
    return _load_from_descriptor(core, insn, LSL_SYSTEM_TYPES, "limit", lambda d: d.limit)


def _load_from_descriptor(core: MonitorCore, insn: CsInsn, types: frozenset[int], what: str,
                          field: Callable[[Descriptor], int]) -> Emulation:
    """LAR and LSL: a field of the guest's own descriptor, where its ring may see it."""
    name = insn.mnemonic.upper()
    selector = operand_value(core.cpu, insn, 1) & 0xFFFF
    d = _visible(core, selector, types)
    _set_zf(core, d is not None)
    if d is None:
        return Emulation(f"{name} of {selector:#06x}: not visible to the guest's ring (ZF=0)")
    value = field(d)
    write_operand(core.cpu, insn, 0, value if _wide(insn) else value & 0xFFFF)
    return Emulation(f"loaded the {what} of {selector:#06x} from the guest's own descriptor "
                     f"({value:#x}), not the shadow's")


def _verify(core: MonitorCore, insn: CsInsn) -> Emulation:
    selector = operand_value(core.cpu, insn, 0) & 0xFFFF
    d = _visible(core, selector, None)
    write = insn.mnemonic == "verw"
    ok = d is not None and (d.is_data and d.writable if write else d.is_data or d.readable)
    _set_zf(core, ok)
    what = "writable" if write else "readable"
    verdict = "is" if ok else "is not"
    return Emulation(f"{selector:#06x} {verdict} {what} from the guest's ring, by its own GDT "
                     f"(ZF={int(ok)})")


HANDLERS: dict[str, Handler] = {
    "pushf": _pushf, "pushfd": _pushf, "popf": _popf, "popfd": _popf,
    "sgdt": _store_table, "sidt": _store_table, "sldt": _sldt, "str": _str, "smsw": _smsw,
    "lar": _lar, "lsl": _lsl, "verr": _verify, "verw": _verify,
}


def emulate(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    """Answer a sensitive instruction from the virtual CPU, or None if it is not one."""
    if insn.mnemonic == "mov" and register_name(insn, 1) in ("cs", "ss"):
        return _mov_from_segment(core, insn)
    if insn.mnemonic == "push" and register_name(insn, 0) in ("cs", "ss"):
        return _push_segment(core, insn)
    handler = HANDLERS.get(insn.mnemonic)
    return handler(core, insn) if handler else None
