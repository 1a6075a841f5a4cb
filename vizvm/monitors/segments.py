"""Segment loads and far control transfers, carried out on the virtual CPU.

A deprivileged guest kernel cannot load its own ring-0 selectors into SS or
CS, and the shadow tables mark code segments not present so that every far
transfer traps. The monitor then does what the instruction would have done
on bare hardware, with the protection checks of the Intel SDM (vol. 2, IRET,
JMP, CALL, RET, MOV, POP) against the guest's own tables and ring.
"""

from __future__ import annotations

import struct

from vizvm.machine.cpu import (
    AC_FLAG,
    AF,
    CF,
    DF_FLAG,
    IF,
    IOPL_MASK,
    NT,
    OF,
    PF_FLAG,
    RF,
    SF,
    TF,
    ZF,
)
from vizvm.machine.descriptors import Descriptor, is_null_selector
from vizvm.machine.memory import MachineError
from vizvm.machine.vectors import GP, NP, SS, CpuFault
from vizvm.monitors.core import MonitorCore

ID_FLAG = 0x200000
ALWAYS = CF | PF_FLAG | AF | ZF | SF | TF | DF_FLAG | OF | NT | RF | AC_FLAG | ID_FLAG
DATA_SEGMENTS = ("ds", "es", "fs", "gs")


class Unsupported(MachineError):
    """A guest operation this monitor does not model (task switches, gates)."""


def _code_target(core: MonitorCore, selector: int, *, rpl_at_most: int | None = None) -> Descriptor:
    """The code descriptor of a far JMP/CALL/RET target, checked."""
    if is_null_selector(selector):
        raise CpuFault(GP, 0, "far transfer to the null selector")
    descriptor = core.tables.read_descriptor(selector)
    code = selector & 0xFFFC
    if not descriptor.is_segment:
        raise Unsupported(f"far transfer through gate or TSS {selector:#06x} is not modelled")
    if not descriptor.is_code:
        raise CpuFault(GP, code, f"selector {selector:#06x} is not a code segment")
    if not descriptor.present:
        raise CpuFault(NP, code, f"code segment {selector:#06x} not present")
    return descriptor


def _stack_segment(core: MonitorCore, selector: int, ring: int) -> Descriptor:
    if is_null_selector(selector):
        raise CpuFault(GP, 0, "loading SS with the null selector")
    descriptor = core.tables.read_descriptor(selector)
    code = selector & 0xFFFC
    if selector & 3 != ring or not descriptor.writable or descriptor.dpl != ring:
        raise CpuFault(GP, code, f"{selector:#06x} is not a writable ring-{ring} stack segment")
    if not descriptor.present:
        raise CpuFault(SS, code, f"stack segment {selector:#06x} not present")
    return descriptor


def _data_segment(core: MonitorCore, selector: int) -> Descriptor | None:
    if is_null_selector(selector):
        return None
    descriptor = core.tables.read_descriptor(selector)
    code = selector & 0xFFFC
    if not descriptor.is_segment or not descriptor.readable:
        raise CpuFault(GP, code, f"{selector:#06x} is not a readable segment")
    if not descriptor.conforming and descriptor.dpl < max(core.vcpu.cpl, selector & 3):
        raise CpuFault(GP, code, f"segment {selector:#06x} is more privileged than the code")
    if not descriptor.present:
        raise CpuFault(NP, code, f"segment {selector:#06x} not present")
    return descriptor


def load_data(core: MonitorCore, segment: str, selector: int) -> None:
    """MOV/POP/LDS to DS, ES, FS or GS (inside cpu.begin()/commit())."""
    descriptor = _data_segment(core, selector)
    if descriptor is not None:
        core.tables.mark_accessed(selector, descriptor)
    core.load_segment(segment, selector, descriptor)


def load_stack(core: MonitorCore, selector: int) -> None:
    """MOV/POP/LSS to SS (inside cpu.begin()/commit())."""
    descriptor = _stack_segment(core, selector, core.vcpu.cpl)
    core.tables.mark_accessed(selector, descriptor)
    core.load_segment("ss", selector, descriptor)


def _enter_code(core: MonitorCore, selector: int, descriptor: Descriptor, eip: int) -> None:
    # No accessed bit for CS or SS here, as in machine.delivery.deliver.
    if eip > descriptor.limit:
        raise CpuFault(GP, 0, f"target {eip:#x} beyond the code segment's limit")
    core.load_segment("cs", selector, descriptor)
    core.cpu.state.set_eip(eip)


def _same_ring_code(core: MonitorCore, selector: int) -> Descriptor:
    """JMP/CALL far to a code segment: no change of ring."""
    descriptor = _code_target(core, selector)
    cpl = core.vcpu.cpl
    code = selector & 0xFFFC
    if descriptor.conforming:
        if descriptor.dpl > cpl:
            raise CpuFault(GP, code, "conforming segment more privileged than the caller")
    elif selector & 3 > cpl or descriptor.dpl != cpl:
        raise CpuFault(GP, code, f"far transfer to ring {descriptor.dpl} from ring {cpl}")
    return descriptor


def far_jump(core: MonitorCore, selector: int, offset: int) -> None:
    descriptor = _same_ring_code(core, selector)
    core.cpu.begin()
    _enter_code(core, selector, descriptor, offset)
    core.cpu.commit()


def far_call(core: MonitorCore, selector: int, offset: int, return_eip: int) -> None:
    descriptor = _same_ring_code(core, selector)
    state = core.cpu.begin()
    _push(core, state.segment("ss"), [core.virtual_selector("cs"), return_eip])
    core.cpu.begin()
    _enter_code(core, selector, descriptor, offset)
    core.cpu.commit()


def _push(core: MonitorCore, ss: tuple[int, int, int, int], words: list[int]) -> None:
    esp = (core.cpu.read("esp") - 4 * len(words)) & 0xFFFFFFFF
    data = struct.pack(f"<{len(words)}I", *reversed([w & 0xFFFFFFFF for w in words]))
    core.cpu.memory.write(ss[1] + esp, data)
    core.cpu.write("esp", esp)


def _pop(core: MonitorCore, count: int, skip: int = 0) -> list[int]:
    ss_base = core.cpu.state.segment("ss")[1]
    esp = core.cpu.read("esp") + skip
    raw = core.cpu.memory.read(ss_base + esp, 4 * count)
    return list(struct.unpack(f"<{count}I", raw))


def far_return(core: MonitorCore, release: int = 0) -> None:
    """RETF [imm16]: same ring, or outward with the caller's stack."""
    core.cpu.begin()
    eip, cs = _pop(core, 2)
    _return_to(core, eip, cs & 0xFFFF, frame=8, release=release)


def iret(core: MonitorCore) -> None:
    """IRETD with NT clear, on the virtual CPU: restores the virtual IF exactly."""
    core.cpu.begin()
    if core.cpu.eflags & NT:
        raise Unsupported("IRET with NT set (a task return) is not modelled")
    eip, cs, eflags = _pop(core, 3)
    old_cpl, old_iopl = core.vcpu.cpl, core.vcpu.iopl
    _return_to(core, eip, cs & 0xFFFF, frame=12, release=0)
    mask = ALWAYS
    if old_cpl <= old_iopl:
        mask |= IF
    if old_cpl == 0:
        mask |= IOPL_MASK
    guest = (core.guest_eflags() & ~mask) | (eflags & mask)
    core.vcpu.interrupts = bool(guest & IF)
    core.vcpu.iopl = (guest & IOPL_MASK) >> 12
    real = core.cpu.eflags
    core.cpu.write("eflags", (real & (IF | IOPL_MASK)) | (guest & ~(IF | IOPL_MASK)) | 2)


def _return_to(core: MonitorCore, eip: int, cs: int, *, frame: int, release: int) -> None:
    """The common tail of RETF and IRET (inside cpu.begin())."""
    cpl = core.vcpu.cpl
    rpl = cs & 3
    if rpl < cpl:
        raise CpuFault(GP, cs & 0xFFFC, f"return to ring {rpl} from ring {cpl}")
    descriptor = _code_target(core, cs)
    if (descriptor.conforming and descriptor.dpl > rpl) or (
        not descriptor.conforming and descriptor.dpl != rpl
    ):
        raise CpuFault(GP, cs & 0xFFFC, f"return to {cs:#06x}: its DPL does not match RPL {rpl}")
    if eip > descriptor.limit:
        raise CpuFault(GP, 0, f"return address {eip:#x} beyond the code segment's limit")
    if rpl == cpl:
        _enter_code(core, cs, descriptor, eip)
        core.cpu.state.set_reg(4, core.cpu.read("esp") + frame + release)
        core.cpu.commit()
        return
    esp, ss = _pop(core, 2, skip=frame + release)
    ss_descriptor = _stack_segment(core, ss & 0xFFFF, rpl)
    core.vcpu.cpl = rpl
    _enter_code(core, cs, descriptor, eip)
    core.load_segment("ss", ss & 0xFFFF, ss_descriptor)
    core.cpu.state.set_reg(4, esp + release)
    _null_inner_data_segments(core, rpl)
    core.cpu.commit()


def _null_inner_data_segments(core: MonitorCore, ring: int) -> None:
    """Returning outward, the CPU nulls data segments the outer ring may not use."""
    for segment in DATA_SEGMENTS:
        selector = core.cpu.state.segment(segment)[0]
        if is_null_selector(selector):
            continue
        descriptor = core.tables.read_descriptor(selector)
        if not descriptor.conforming and descriptor.dpl < ring:
            core.load_segment(segment, 0, None)
