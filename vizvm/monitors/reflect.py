"""Reflecting an exception or interrupt into the guest kernel, as its hardware would.

The monitor received the event at the real ring 0; the guest must see what
bare hardware would have done: its own IDT consulted, the gate checked
against the guest's ring, a stack switch through the guest's TSS, a frame
holding the guest's view of EFLAGS and its selectors. The checks are the
machine's own (vizvm.machine.delivery), run on the virtual tables.
"""

from __future__ import annotations

from vizvm.machine import delivery
from vizvm.machine.cpu import NT, RF, TF, VM
from vizvm.machine.delivery import Delivered, Source
from vizvm.machine.vectors import WITH_ERROR_CODE
from vizvm.monitors.core import MonitorCore


def reflect(
    core: MonitorCore, vector: int, source: Source, return_eip: int, error_code: int | None = None
) -> Delivered:
    """Deliver through the guest's IDT; TripleFault when the guest's CPU would shut down."""

    def attempt(v: int, src: Source, code: int | None) -> Delivered:
        return _deliver_once(core, v, src, return_eip, code)

    def set_cr2(value: int) -> None:
        core.vcpu.cr2 = value

    return delivery.with_escalation(attempt, vector, source, error_code, set_cr2)


def _deliver_once(
    core: MonitorCore, vector: int, source: Source, return_eip: int, error_code: int | None
) -> Delivered:
    cpu, vcpu, tables = core.cpu, core.vcpu, core.tables
    from_ring = vcpu.cpl
    target = delivery.resolve(tables, vector, source, from_ring)
    state = cpu.begin()
    eflags = cpu.eflags
    with_code = source is Source.EXCEPTION and vector in WITH_ERROR_CODE
    words = [vcpu.guest_eflags(eflags), core.virtual_selector("cs"), return_eip]
    if with_code:
        words.append(error_code or 0)
    if target.stack is not None:
        ss, esp, ss_desc = target.stack
        words = [core.virtual_selector("ss"), cpu.read("esp"), *words]
        new_esp = delivery.push_frame(tables, ss_desc.base, esp, words,
                                      ss_limit=ss_desc.limit, ss_selector=ss)
    else:
        old_ss, ss_base, ss_limit, _flags = state.segment("ss")
        new_esp = delivery.push_frame(tables, ss_base, cpu.read("esp"), words,
                                      ss_limit=ss_limit, ss_selector=old_ss)
    vcpu.cpl = target.ring
    state = cpu.begin()
    if target.stack is not None:
        core.load_segment("ss", target.stack[0], target.stack[2])
    core.load_segment("cs", target.cs, target.cs_descriptor)
    state.set_reg(4, new_esp)
    state.set_eip(target.gate.offset)
    cpu.commit()
    cpu.write("eflags", eflags & ~(TF | NT | RF | VM))
    if target.gate.is_interrupt_gate:
        vcpu.interrupts = False
    return Delivered(
        vector=vector,
        source=source,
        error_code=error_code if with_code else None,
        from_ring=from_ring,
        to_ring=target.ring,
        handler_cs=target.cs,
        handler_eip=target.gate.offset,
        stack_switched=target.stack is not None,
    )
