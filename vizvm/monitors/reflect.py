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
from vizvm.machine.vectors import DF, WITH_ERROR_CODE, CpuFault, escalate, short_name
from vizvm.monitors.core import MonitorCore


class GuestTripleFault(Exception):  # noqa: N818 - a guest state, not an error of ours
    """Delivery in the guest failed three times over: the guest's machine shuts down."""


def reflect(
    core: MonitorCore, vector: int, source: Source, return_eip: int, error_code: int | None = None
) -> Delivered:
    """Deliver through the guest's IDT with the double- and triple-fault rules."""
    first = vector if source is Source.EXCEPTION else -1
    chain = [short_name(vector)]
    for _ in range(6):
        try:
            return _deliver_once(core, vector, source, return_eip, error_code)
        except CpuFault as fault:
            chain.append(f"{short_name(fault.vector)} ({fault.why})")
            following = escalate(first, fault.vector) if first >= 0 else fault.vector
            if following is None:
                break
            if fault.cr2 is not None:
                core.vcpu.cr2 = fault.cr2
            vector, source, first = following, Source.EXCEPTION, following
            error_code = 0 if following == DF else fault.error_code
    raise GuestTripleFault("triple fault: " + " while delivering ".join(reversed(chain)))


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
        new_esp = delivery.push_frame(tables, ss_desc.base, esp, words, ss_desc.limit, ss)
        tables.mark_accessed(ss, ss_desc)
    else:
        old_ss, ss_base, ss_limit, _flags = state.segment("ss")
        new_esp = delivery.push_frame(tables, ss_base, cpu.read("esp"), words, ss_limit, old_ss)
    tables.mark_accessed(target.cs, target.cs_descriptor)
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
