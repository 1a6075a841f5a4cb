"""Emulating the privileged instructions a deprivileged guest kernel traps on.

Each handler does to the virtual CPU what the instruction does to a real
one at ring 0, and returns a short account for the event list. A handler
returns None when bare hardware would have faulted too (say, CLI from the
guest's user mode): the monitor then reflects the #GP into the guest.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from capstone import CsInsn

from vizvm.machine.cpu import TableRegister
from vizvm.machine.descriptors import (
    TYPE_LDT,
    TYPE_TSS16_AVAILABLE,
    TYPE_TSS32_AVAILABLE,
    is_null_selector,
)
from vizvm.machine.vectors import GP, NP, CpuFault
from vizvm.monitors import segments
from vizvm.monitors.core import MonitorCore
from vizvm.monitors.operands import (
    effective_address,
    far_indirect,
    is_immediate,
    is_memory,
    operand_value,
    read_gpr,
    register_name,
    write_gpr,
    write_operand,
)

CR0_PE, CR0_TS, CR0_WP, CR0_PG = 1, 8, 1 << 16, 1 << 31
TSS_BUSY = 0x200


@dataclass(frozen=True)
class Emulation:
    summary: str  # what the monitor did, for the event list
    advance: bool = True  # move EIP past the instruction
    window: bool = False  # interrupts may now be deliverable (after one more instruction)
    returned: bool = False  # a far return or IRET: interrupts may be deliverable now


Handler = Callable[[MonitorCore, CsInsn], Emulation | None]


def _kernel_only(handler: Handler) -> Handler:
    """Privileged instructions: only the guest's ring 0 may have them emulated."""

    def wrapped(core: MonitorCore, insn: CsInsn) -> Emulation | None:
        return handler(core, insn) if core.vcpu.cpl == 0 else None

    wrapped.__doc__ = handler.__doc__
    return wrapped


def _cli(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    if core.vcpu.cpl > core.vcpu.iopl:
        return None
    core.vcpu.interrupts = False
    return Emulation("cleared the virtual IF: interrupts for the guest are held back")


def _sti(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    if core.vcpu.cpl > core.vcpu.iopl:
        return None
    core.vcpu.interrupts = True
    return Emulation("set the virtual IF: held interrupts may now be injected", window=True)


@_kernel_only
def _hlt(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    core.machine.halted = True
    return Emulation("halted the virtual CPU until the next interrupt it may take")


def _mov(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    dst, src = register_name(insn, 0), register_name(insn, 1)
    if dst == "ss" or (dst in segments.DATA_SEGMENTS):
        selector = operand_value(core.cpu, insn, 1) & 0xFFFF
        core.cpu.begin()
        if dst == "ss":
            segments.load_stack(core, selector)
        else:
            segments.load_data(core, dst, selector)
        core.cpu.commit()
        window = dst == "ss"  # MOV SS holds interrupts for one instruction
        return Emulation(f"loaded {dst.upper()} with {selector:#06x} from the guest's GDT",
                         window=window)
    if core.vcpu.cpl != 0:
        return None
    if dst and dst.startswith("cr"):
        return _write_cr(core, int(dst[2:]), read_gpr(core.cpu, src or ""))
    if src and src.startswith("cr"):
        value = getattr(core.vcpu, src)
        write_gpr(core.cpu, dst or "", value)
        return Emulation(f"read the virtual {src.upper()} ({value:#x})")
    if dst and dst.startswith("dr"):
        core.vcpu.debug[int(dst[2:])] = read_gpr(core.cpu, src or "")
        return Emulation(f"wrote the virtual {dst.upper()}")
    if src and src.startswith("dr"):
        write_gpr(core.cpu, dst or "", core.vcpu.debug[int(src[2:])])
        return Emulation(f"read the virtual {src.upper()}")
    return None


def _write_cr(core: MonitorCore, number: int, value: int) -> Emulation:
    vcpu = core.vcpu
    if number == 0:
        old = vcpu.cr0
        vcpu.cr0 = value | 0x10  # ET is hard-wired
        if (old ^ vcpu.cr0) & (CR0_PG | CR0_WP):
            core.apply_control_registers()
            state = "on" if vcpu.cr0 & CR0_PG else "off"
            return Emulation(f"wrote the virtual CR0 ({value:#x}): paging {state}, on shadow "
                             f"page tables the monitor fills from the guest's")
        core.update_cr0()
        return Emulation(f"wrote the virtual CR0 ({value:#x}); the real CR0 stays the monitor's")
    if number == 3:
        vcpu.cr3 = value
        if core.paging.enabled:
            core.paging.reset()
            return Emulation(f"wrote the virtual CR3 ({value:#x}) and emptied the shadow "
                             f"page tables, as a CR3 load empties the TLB")
        return Emulation(f"wrote the virtual CR3 ({value:#x})")
    if number in (2, 4):
        setattr(vcpu, f"cr{number}", value)
        if number == 4:
            core.apply_control_registers()
        return Emulation(f"wrote the virtual CR{number} ({value:#x})")
    raise CpuFault(6, 0, f"CR{number} does not exist")


@_kernel_only
def _clts(core: MonitorCore, insn: CsInsn) -> Emulation:
    core.vcpu.cr0 &= ~CR0_TS
    core.update_cr0()
    return Emulation("cleared TS in the virtual CR0")


@_kernel_only
def _lmsw(core: MonitorCore, insn: CsInsn) -> Emulation:
    value = operand_value(core.cpu, insn, 0) & 0xF
    core.vcpu.cr0 = (core.vcpu.cr0 & ~0xE) | (value & 0xE) | (core.vcpu.cr0 & CR0_PE) | (value & 1)
    core.update_cr0()
    return Emulation(f"loaded the virtual machine status word ({value:#x})")


@_kernel_only
def _invlpg(core: MonitorCore, insn: CsInsn) -> Emulation:
    linear = effective_address(core.cpu, insn, 0)
    core.paging.invalidate(linear)
    return Emulation(f"dropped its shadow mapping of the page at {linear & ~0xFFF:#010x}")


def _rdtsc(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    """RDTSC faults at ring > 0 only if the guest set CR4.TSD, which is mirrored."""
    if core.vcpu.cpl != 0:
        return None
    core.machine.read_time_stamp()
    return Emulation("read the time-stamp counter for the guest kernel (CR4.TSD is set)")


def _pseudo_descriptor(core: MonitorCore, insn: CsInsn) -> tuple[int, int]:
    raw = core.cpu.memory.read(effective_address(core.cpu, insn, 0), 6)
    limit, base = struct.unpack("<HI", raw)
    return base, limit


@_kernel_only
def _lgdt(core: MonitorCore, insn: CsInsn) -> Emulation:
    base, limit = _pseudo_descriptor(core, insn)
    previous = core.vcpu.gdtr
    core.vcpu.gdtr = TableRegister(0, base, limit)
    core.shadow.load_gdt(previous)
    return Emulation(
        f"recorded the guest's GDT ({base:#010x}, limit {limit:#x}) and built a shadow GDT "
        f"the CPU really uses"
    )


@_kernel_only
def _lidt(core: MonitorCore, insn: CsInsn) -> Emulation:
    base, limit = _pseudo_descriptor(core, insn)
    core.vcpu.idtr = TableRegister(0, base, limit)
    return Emulation(f"recorded the guest's IDT ({base:#010x}, limit {limit:#x}) for reflection")


@_kernel_only
def _lldt(core: MonitorCore, insn: CsInsn) -> Emulation:
    selector = operand_value(core.cpu, insn, 0) & 0xFFFF
    if is_null_selector(selector):
        core.vcpu.ldtr = TableRegister(0, 0, 0)
    else:
        if selector & 4:
            raise CpuFault(GP, selector & 0xFFFC, "LLDT selector points into the LDT")
        d = core.tables.read_descriptor(selector)
        if d.is_segment or d.type != TYPE_LDT:
            raise CpuFault(GP, selector & 0xFFFC, f"{selector:#06x} is not an LDT descriptor")
        if not d.present:
            raise CpuFault(NP, selector & 0xFFFC, "LDT descriptor not present")
        core.vcpu.ldtr = TableRegister(selector, d.base, d.limit)
    core.shadow.load_ldt()
    return Emulation(f"loaded the virtual LDTR with {selector:#06x} and shadowed the LDT")


@_kernel_only
def _ltr(core: MonitorCore, insn: CsInsn) -> Emulation:
    selector = operand_value(core.cpu, insn, 0) & 0xFFFF
    if is_null_selector(selector) or selector & 4:
        raise CpuFault(GP, selector & 0xFFFC, "LTR needs a GDT selector")
    d = core.tables.read_descriptor(selector)
    if d.is_segment or d.type not in (TYPE_TSS32_AVAILABLE, TYPE_TSS16_AVAILABLE):
        raise CpuFault(GP, selector & 0xFFFC, f"{selector:#06x} is not an available TSS")
    if not d.present:
        raise CpuFault(NP, selector & 0xFFFC, "TSS descriptor not present")
    core.tables.write_high(selector, d.high | TSS_BUSY)
    core.vcpu.tr = TableRegister(selector, d.base, d.limit)
    return Emulation(f"loaded the virtual TR with {selector:#06x}; the real TR stays the monitor's")


@_kernel_only
def _noop(core: MonitorCore, insn: CsInsn) -> Emulation:
    return Emulation(f"carried out {insn.mnemonic.upper()} (nothing to do for this machine)")


@_kernel_only
def _rdmsr(core: MonitorCore, insn: CsInsn) -> Emulation:
    index = core.cpu.read("ecx")
    value = core.cpu.uc.msr_read(index)
    core.cpu.write("eax", value & 0xFFFFFFFF)
    core.cpu.write("edx", value >> 32)
    return Emulation(f"read MSR {index:#x} ({value:#x})")


@_kernel_only
def _wrmsr(core: MonitorCore, insn: CsInsn) -> Emulation:
    index = core.cpu.read("ecx")
    value = (core.cpu.read("edx") << 32) | core.cpu.read("eax")
    core.cpu.uc.msr_write(index, value)
    return Emulation(f"wrote MSR {index:#x} ({value:#x})")


def _rdpmc(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    if core.vcpu.cpl != 0 and not core.vcpu.cr4 & 0x100:
        return None
    core.cpu.write("eax", 0)
    core.cpu.write("edx", 0)
    return Emulation("read a performance counter (none are modelled: 0)")


def _pop(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    dst = register_name(insn, 0)
    if dst not in ("ss", *segments.DATA_SEGMENTS):
        return None
    state = core.cpu.begin()
    esp = core.cpu.read("esp")
    selector = core.cpu.memory.read_u16(state.segment("ss")[1] + esp)
    if dst == "ss":
        segments.load_stack(core, selector)
    else:
        segments.load_data(core, dst, selector)
    state.set_reg(4, esp + 4)
    core.cpu.commit()
    return Emulation(f"popped {selector:#06x} into {dst.upper()}", window=dst == "ss")


def _load_far_pointer(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    segment = insn.mnemonic[1:]
    raw = core.cpu.memory.read(effective_address(core.cpu, insn, 1), 6)
    offset, selector = struct.unpack("<IH", raw)
    core.cpu.begin()
    if segment == "ss":
        segments.load_stack(core, selector)
    else:
        segments.load_data(core, segment, selector)
    core.cpu.commit()
    write_operand(core.cpu, insn, 0, offset)
    return Emulation(f"loaded {segment.upper()}:{register_name(insn, 0)} with "
                     f"{selector:#06x}:{offset:#x}", window=segment == "ss")


def _far_target(core: MonitorCore, insn: CsInsn) -> tuple[int, int] | None:
    if len(insn.operands) == 2 and is_immediate(insn, 0):
        return insn.operands[0].imm & 0xFFFF, insn.operands[1].imm & 0xFFFFFFFF
    if len(insn.operands) == 1 and is_memory(insn, 0) and far_indirect(insn):
        offset, selector = struct.unpack(
            "<IH", core.cpu.memory.read(effective_address(core.cpu, insn, 0), 6))
        return selector, offset
    return None


def _jmp(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    target = _far_target(core, insn)
    if target is None:
        return None
    segments.far_jump(core, *target)
    return Emulation(f"jumped to {target[0]:#06x}:{target[1]:#x} on the guest's GDT",
                     advance=False)


def _call(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    target = _far_target(core, insn)
    if target is None:
        return None
    segments.far_call(core, *target, return_eip=core.cpu.eip + insn.size)
    return Emulation(f"called {target[0]:#06x}:{target[1]:#x} on the guest's GDT", advance=False)


def _retf(core: MonitorCore, insn: CsInsn) -> Emulation:
    release = insn.operands[0].imm if insn.operands else 0
    segments.far_return(core, release)
    return Emulation("returned far, checking the target against the guest's ring",
                     advance=False, returned=True)


def _iret(core: MonitorCore, insn: CsInsn) -> Emulation:
    segments.iret(core)
    state = "on" if core.vcpu.interrupts else "off"
    return Emulation(f"returned from the interrupt; the virtual IF is {state} again",
                     advance=False, returned=True)


HANDLERS: dict[str, Handler] = {
    "cli": _cli,
    "sti": _sti,
    "hlt": _hlt,
    "mov": _mov,
    "clts": _clts,
    "lmsw": _lmsw,
    "lgdt": _lgdt,
    "lidt": _lidt,
    "lldt": _lldt,
    "ltr": _ltr,
    "invlpg": _invlpg,
    "rdtsc": _rdtsc,
    "wbinvd": _noop,
    "invd": _noop,
    "rdmsr": _rdmsr,
    "wrmsr": _wrmsr,
    "rdpmc": _rdpmc,
    "pop": _pop,
    "lss": _load_far_pointer,
    "lds": _load_far_pointer,
    "les": _load_far_pointer,
    "lfs": _load_far_pointer,
    "lgs": _load_far_pointer,
    "ljmp": _jmp,
    "jmp": _jmp,
    "lcall": _call,
    "call": _call,
    "retf": _retf,
    "iretd": _iret,
}


def emulate(core: MonitorCore, insn: CsInsn) -> Emulation | None:
    """Emulate one trapped instruction, or None if the guest itself must fault."""
    handler = HANDLERS.get(insn.mnemonic)
    return handler(core, insn) if handler else None
