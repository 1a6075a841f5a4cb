"""The guest's own descriptor tables, read through its virtual registers.

Gives a monitor the same view of GDT, LDT, IDT and TSS that the hardware
would have if the guest ran alone, so the machine's delivery checks
(vizvm.machine.delivery) can run on virtual state unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from vizvm.machine.cpu import TableRegister
from vizvm.machine.descriptors import Descriptor, selector_index, selector_uses_ldt
from vizvm.machine.memory import GuestMemory
from vizvm.machine.vectors import GP, CpuFault
from vizvm.monitors.vcpu import VirtualCpu


class GuestTables:
    def __init__(
        self, vcpu: VirtualCpu, memory: GuestMemory, on_write: Callable[[int, bytes], None]
    ) -> None:
        self.vcpu = vcpu
        self.memory = memory
        self._on_write = on_write  # keeps shadow copies in step with our own writes

    def table_register(self, name: str) -> TableRegister:
        return self.vcpu.table(name)

    def descriptor_address(self, selector: int) -> int:
        table = self.vcpu.ldtr if selector_uses_ldt(selector) else self.vcpu.gdtr
        index = selector_index(selector)
        if index + 7 > table.limit:
            raise CpuFault(GP, selector & 0xFFFC, f"selector {selector:#06x} beyond its table")
        return table.base + index

    def read_descriptor(self, selector: int) -> Descriptor:
        return Descriptor.from_bytes(self.memory.read(self.descriptor_address(selector), 8))

    def write_high(self, selector: int, high: int) -> None:
        address = self.descriptor_address(selector) + 4
        data = (high & 0xFFFFFFFF).to_bytes(4, "little")
        self.memory.write(address, data)
        self._on_write(address, data)

    def mark_accessed(self, selector: int, descriptor: Descriptor) -> None:
        if descriptor.is_segment and not descriptor.accessed:
            self.write_high(selector, descriptor.high | 0x100)
