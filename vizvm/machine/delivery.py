"""Interrupt and exception delivery through the guest's IDT, as the CPU does it.

Unicorn stops at every interrupt and exception and leaves delivery to its
user. This module is that missing microcode for 32-bit protected mode (Intel
SDM vol. 3A, 6.12): gate checks, the stack switch through the TSS when the
handler is more privileged, the frame, the flags. Failures raise CpuFault so
that the caller can apply the double- and triple-fault rules.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from vizvm.machine.cpu import IF, NT, RF, TF, VM, Cpu, TableRegister
from vizvm.machine.descriptors import (
    TSS_MIN_LIMIT,
    TYPE_INTERRUPT_GATE16,
    TYPE_INTERRUPT_GATE32,
    TYPE_TASK_GATE,
    TYPE_TRAP_GATE16,
    TYPE_TRAP_GATE32,
    Descriptor,
    Gate,
    is_null_selector,
    selector_rpl,
    tss_stack_offset,
)
from vizvm.machine.memory import GuestMemory, MachineError
from vizvm.machine.vectors import (
    DF,
    GP,
    NP,
    SS,
    TS,
    WITH_ERROR_CODE,
    CpuFault,
    escalate,
    short_name,
)


class Source(enum.Enum):
    """Where the event came from; it decides the DPL check and the EXT bit."""

    EXCEPTION = "exception"
    SOFTWARE = "software"  # INT n, INT3, INTO
    EXTERNAL = "external"  # an IRQ through the interrupt controller


@dataclass(frozen=True)
class Delivered:
    """What a delivery did, for the event log."""

    vector: int
    source: Source
    error_code: int | None
    from_ring: int
    to_ring: int
    handler_cs: int
    handler_eip: int
    stack_switched: bool


@dataclass(frozen=True)
class Target:
    """A resolved handler: where to go and on which stack."""

    gate: Gate
    cs: int
    cs_descriptor: Descriptor
    ring: int
    stack: tuple[int, int, Descriptor] | None  # (SS, ESP, SS descriptor) on a switch


class DescriptorTables(Protocol):
    """The CPU's tables, real (Cpu) or as a monitor's virtual CPU sees them."""

    memory: GuestMemory

    def table_register(self, name: str) -> TableRegister: ...

    def read_descriptor(self, selector: int) -> Descriptor: ...


def resolve(cpu: DescriptorTables, vector: int, source: Source, cpl: int) -> Target:
    """Check the gate and handler as the CPU does before touching any stack."""
    ext = 1 if source is not Source.SOFTWARE else 0
    idt_code = vector * 8 + 2 + ext
    idt = cpu.table_register("idt")
    if vector * 8 + 7 > idt.limit:
        raise CpuFault(GP, idt_code, f"vector {vector:#x} beyond the IDT limit {idt.limit:#x}")
    gate = Gate.from_bytes(cpu.memory.read(idt.base + vector * 8, 8))
    valid = (TYPE_INTERRUPT_GATE16, TYPE_INTERRUPT_GATE32, TYPE_TRAP_GATE16, TYPE_TRAP_GATE32,
             TYPE_TASK_GATE)
    if gate.type not in valid:
        raise CpuFault(GP, idt_code, f"IDT entry {vector:#x} is not a gate (type {gate.type})")
    if source is Source.SOFTWARE and gate.dpl < cpl:
        raise CpuFault(GP, idt_code, f"INT {vector:#x} from ring {cpl} to a DPL {gate.dpl} gate")
    if not gate.present:
        raise CpuFault(NP, idt_code, f"IDT entry {vector:#x} not present")
    if gate.type == TYPE_TASK_GATE or not gate.is_32bit:
        raise MachineError(f"IDT entry {vector:#x}: task gates and 16-bit gates are not modelled")
    selector = gate.selector
    if is_null_selector(selector):
        raise CpuFault(GP, ext, f"IDT entry {vector:#x} names the null selector")
    descriptor = cpu.read_descriptor(selector)
    sel_code = (selector & 0xFFFC) + ext
    if not descriptor.is_code or descriptor.dpl > cpl:
        raise CpuFault(GP, sel_code, f"handler selector {selector:#06x} is not usable code")
    if not descriptor.present:
        raise CpuFault(NP, sel_code, f"handler code segment {selector:#06x} not present")
    if gate.offset > descriptor.limit:
        raise CpuFault(GP, ext, f"handler {gate.offset:#x} beyond its segment's limit")
    ring = cpl if descriptor.conforming else descriptor.dpl
    stack = _inner_stack(cpu, ring, ext) if ring < cpl else None
    return Target(gate, (selector & 0xFFFC) | ring, descriptor, ring, stack)


def _inner_stack(cpu: DescriptorTables, ring: int, ext: int) -> tuple[int, int, Descriptor]:
    """SSn:ESPn from the current TSS, checked as for a stack switch."""
    tr = cpu.table_register("tr")
    esp_off, ss_off = tss_stack_offset(ring)
    if tr.limit < TSS_MIN_LIMIT or is_null_selector(tr.selector):
        raise CpuFault(TS, (tr.selector & 0xFFFC) + ext, "no valid TSS for a stack switch")
    esp = cpu.memory.read_u32(tr.base + esp_off)
    ss = cpu.memory.read_u16(tr.base + ss_off)
    ss_code = (ss & 0xFFFC) + ext
    if is_null_selector(ss):
        raise CpuFault(TS, ext, f"TSS gives a null SS{ring}")
    if selector_rpl(ss) != ring:
        raise CpuFault(TS, ss_code, f"SS{ring} selector {ss:#06x} has RPL {selector_rpl(ss)}")
    descriptor = cpu.read_descriptor(ss)
    if not descriptor.writable or descriptor.dpl != ring:
        raise CpuFault(TS, ss_code, f"SS{ring} {ss:#06x} is not a writable ring-{ring} segment")
    if not descriptor.present:
        raise CpuFault(SS, ss_code, f"SS{ring} {ss:#06x} not present")
    return ss, esp, descriptor


def push_frame(
    cpu: DescriptorTables, ss_base: int, esp: int, words: list[int], *, ss_limit: int,
    ss_selector: int,
) -> int:
    """Write dwords (first pushed first) below ESP; returns the new ESP."""
    new_esp = (esp - 4 * len(words)) & 0xFFFFFFFF
    if new_esp > esp or (ss_limit < 0xFFFFFFFF and esp - 1 > ss_limit):
        raise CpuFault(SS, ss_selector & 0xFFFC, f"frame would leave the stack at {esp:#x}")
    frame = struct.pack(f"<{len(words)}I", *reversed([w & 0xFFFFFFFF for w in words]))
    cpu.memory.write(ss_base + new_esp, frame)
    return new_esp


def deliver(cpu: Cpu, vector: int, source: Source, return_eip: int,
            error_code: int | None = None) -> Delivered:
    """Deliver one event through the IDT and leave the CPU at the handler.

    The descriptors loaded into CS and SS do not get their accessed bit set:
    real processors set it (SDM vol. 3A, 3.4.5.1), Unicorn's CPU sets it only
    for MOV, POP and LDS-style loads, and the machine does as its CPU does so
    that a guest's tables end the same under every technique and under QEMU.
    """
    eflags = cpu.eflags
    cpl = cpu.cpl
    target = resolve(cpu, vector, source, cpl)
    state = cpu.begin()
    old_ss, _base, _limit, _flags = state.segment("ss")
    old_cs = state.segment("cs")[0]
    old_esp = cpu.read("esp")
    with_code = source is Source.EXCEPTION and vector in WITH_ERROR_CODE
    words = [eflags, old_cs, return_eip] + ([error_code or 0] if with_code else [])
    if target.stack is not None:
        ss, esp, ss_desc = target.stack
        words = [old_ss, old_esp, *words]
        new_esp = push_frame(cpu, ss_desc.base, esp, words, ss_limit=ss_desc.limit,
                             ss_selector=ss)
    else:
        _sel, ss_base, ss_limit, _fl = state.segment("ss")
        new_esp = push_frame(cpu, ss_base, old_esp, words, ss_limit=ss_limit,
                             ss_selector=old_ss)
    if target.stack is not None:
        ss, _esp, ss_desc = target.stack
        cpu.load_cached("ss", ss, ss_desc)
    cpu.load_cached("cs", target.cs, target.cs_descriptor)
    state.set_reg(4, new_esp)
    state.set_eip(target.gate.offset)
    cpu.commit()
    cleared = TF | NT | RF | VM | (IF if target.gate.is_interrupt_gate else 0)
    cpu.write("eflags", eflags & ~cleared)
    return Delivered(
        vector=vector,
        source=source,
        error_code=error_code if with_code else None,
        from_ring=cpl,
        to_ring=target.ring,
        handler_cs=target.cs,
        handler_eip=target.gate.offset,
        stack_switched=target.stack is not None,
    )


class TripleFault(Exception):
    """Delivery failed while delivering a double fault: the processor shuts down."""


Attempt = Callable[[int, Source, int | None], Delivered]


def with_escalation(
    attempt: Attempt, vector: int, source: Source, error_code: int | None,
    on_cr2: Callable[[int], None],
) -> Delivered:
    """Deliver, applying the double- and triple-fault rules to faults on the way.

    `attempt` delivers once and raises CpuFault if the guest's tables or stack
    make that impossible; the CPU then delivers the second fault instead, or a
    double fault, or shuts down (SDM vol. 3A, 6.15, interrupt 8).
    """
    first = vector if source is Source.EXCEPTION else -1
    chain = [short_name(vector)]
    for _ in range(6):
        try:
            return attempt(vector, source, error_code)
        except CpuFault as fault:
            chain.append(f"{short_name(fault.vector)} ({fault.why})")
            following = escalate(first, fault.vector) if first >= 0 else fault.vector
            if following is None:
                break
            if fault.cr2 is not None:
                on_cr2(fault.cr2)
            if following == DF:
                chain.append("#DF")
            vector, source, first = following, Source.EXCEPTION, following
            error_code = 0 if following == DF else fault.error_code
    raise TripleFault("triple fault: " + " while delivering ".join(reversed(chain)))
