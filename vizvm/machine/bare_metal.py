"""No monitor: the guest's own IDT receives every event, as on a real PC."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vizvm.machine.cpu import IF
from vizvm.machine.delivery import Delivered, Source
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.machine.vectors import name as vector_name
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine


class BareMetal:
    """The guest really at ring 0; the CPU alone decides what happens."""

    name = "native"

    def __init__(self) -> None:
        self.machine: Machine | None = None

    def setup(self, machine: Machine) -> None:
        self.machine = machine

    @property
    def _m(self) -> Machine:
        assert self.machine is not None
        return self.machine

    def guest_ring(self) -> int:
        return self._m.cpu.cpl

    def on_exception(self, trap: Trap) -> None:
        m = self._m
        delivered = m.deliver(trap.vector, trap.source, trap.return_eip, trap.error_code)
        if delivered is None:
            return
        what = "INT" if trap.software else "exception"
        m.emit(
            Kind.EXCEPTION,
            f"{vector_name(trap.vector)}: the CPU delivered the {what} to the guest's handler "
            f"at {delivered.handler_cs:#06x}:{delivered.handler_eip:#010x}",
            address=trap.address,
            cost="hw_exception",
            data=_delivery_data(delivered),
            ring=delivered.from_ring,
            guest_ring=delivered.from_ring,
        )
        report_ring_change(m, delivered, trap.address)

    def on_io_fault(self, access: PortAccess) -> Emulated | None:
        return None  # #GP(0) to the guest, as the hardware would

    def take_interrupt(self) -> bool:
        m = self._m
        if not m.cpu.eflags & IF:
            m.watch_interrupt_flag(True)
            return False
        vector, irq = m.pic.acknowledge()
        pc = m.linear_pc()
        delivered = m.deliver(vector, Source.EXTERNAL, m.cpu.eip)
        m.halted = False
        if delivered is not None:
            m.emit(
                Kind.INTERRUPT,
                f"IRQ {irq} (vector {vector:#04x}) delivered to the guest's handler",
                address=pc,
                cost="hw_interrupt",
                data={"irq": irq, **_delivery_data(delivered)},
                ring=delivered.from_ring,
                guest_ring=delivered.from_ring,
            )
            report_ring_change(m, delivered, pc)
        return True

    def can_wake(self) -> bool:
        return bool(self._m.cpu.eflags & IF)


def _delivery_data(delivered: Delivered) -> dict[str, object]:
    return {
        "vector": delivered.vector,
        "error_code": delivered.error_code,
        "handler": delivered.handler_eip,
        "stack_switched": delivered.stack_switched,
    }


def report_ring_change(machine: Machine, delivered: Delivered, address: int) -> None:
    if delivered.from_ring != delivered.to_ring:
        machine.emit(
            Kind.RING,
            f"ring {delivered.from_ring} -> ring {delivered.to_ring} "
            f"(stack switched through the TSS)",
            address=address,
            data={"from": delivered.from_ring, "to": delivered.to_ring},
        )
