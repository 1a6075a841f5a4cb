"""The two cascaded 8259A interrupt controllers of the PC (0x20/0x21, 0xA0/0xA1).

Modelled: the ICW1-ICW4 initialisation, masks (OCW1), EOI and priority
rotation (OCW2), reading IRR or ISR, the poll command and the special mask
mode (OCW3), auto-EOI, fully nested and special fully nested priority, and
the slave cascaded on the master's IRQ 2. Inputs are edge-triggered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MASTER_PORTS = (0x20, 0x21)
SLAVE_PORTS = (0xA0, 0xA1)
CASCADE_IRQ = 2


@dataclass
class Pic8259:
    """One 8259A."""

    name: str
    command_port: int
    vector_base: int
    irr: int = 0
    isr: int = 0
    imr: int = 0xFF
    lowest_priority: int = 7
    auto_eoi: bool = False
    read_isr: bool = False
    init_step: int = 0  # 0 idle; 2, 3, 4: the ICW expected next
    expect_icw4: bool = False
    single: bool = False
    rotate_in_auto_eoi: bool = False
    special_mask: bool = False
    special_fully_nested: bool = False
    poll: bool = False  # the next read of the command port is a poll
    is_master: bool = False
    icw3: int = 0  # master: a bit per line with a slave; slave: its line on the master

    def _priority_order(self) -> list[int]:
        first = (self.lowest_priority + 1) % 8
        return [(first + i) % 8 for i in range(8)]

    def highest(self, lines: int) -> int | None:
        for irq in self._priority_order():
            if lines & (1 << irq):
                return irq
        return None

    def pending(self, extra: int = 0) -> int | None:
        """The IRQ this chip would signal, with `extra` input lines (cascade)."""
        requests = (self.irr | extra) & ~self.imr
        # in special mask mode, a masked level in service blocks nothing
        in_service = self.isr & ~self.imr if self.special_mask else self.isr
        slaves = self.icw3 if self.is_master and not self.single else 0
        for irq in self._priority_order():
            bit = 1 << irq
            if in_service & bit:
                if self.special_fully_nested and slaves & bit and requests & bit:
                    return irq  # the slave has judged this request above its own
                return None  # an equal or higher level is in service
            if requests & bit:
                return irq
        return None

    def acknowledge(self, irq: int) -> None:
        self.irr &= ~(1 << irq)
        if not self.auto_eoi:
            self.isr |= 1 << irq
        elif self.rotate_in_auto_eoi:
            self.lowest_priority = irq

    def poll_read(self, extra: int = 0) -> int:
        """The poll command's answer: 0x80 | level, acknowledged; 0 when none."""
        self.poll = False
        irq = self.pending(extra)
        if irq is None:
            return 0
        self.acknowledge(irq)
        return 0x80 | irq

    def read(self, port: int, size: int) -> int:
        if port == self.command_port:
            if self.poll:
                return self.poll_read()
            return self.isr if self.read_isr else self.irr
        return self.imr

    def write(self, port: int, size: int, value: int) -> None:
        value &= 0xFF
        if port == self.command_port:
            self._command(value)
        else:
            self._data(value)

    def _command(self, value: int) -> None:
        if value & 0x10:  # ICW1
            self.init_step = 2
            self.expect_icw4 = bool(value & 1)
            self.single = bool(value & 2)
            self.imr = 0
            self.isr = 0
            self.irr = 0
            self.lowest_priority = 7
            self.auto_eoi = False
            self.special_fully_nested = False
            self.rotate_in_auto_eoi = False
            self.special_mask = False
            self.poll = False
            self.read_isr = False
        elif value & 0x08:  # OCW3
            if value & 0x40:
                self.special_mask = bool(value & 0x20)
            if value & 0x02:
                self.read_isr = bool(value & 0x01)
            self.poll = bool(value & 0x04)  # overrides the register read once
        else:  # OCW2
            self._ocw2(value)

    def _ocw2(self, value: int) -> None:
        op = value >> 5
        level = value & 7
        if op in (0b001, 0b101):  # non-specific EOI, optionally rotating
            irq = self.highest(self.isr)
            if irq is not None:
                self.isr &= ~(1 << irq)
                if op == 0b101:
                    self.lowest_priority = irq
        elif op in (0b011, 0b111):  # specific EOI, optionally rotating
            self.isr &= ~(1 << level)
            if op == 0b111:
                self.lowest_priority = level
        elif op == 0b110:  # set priority
            self.lowest_priority = level
        elif op in (0b100, 0b000):  # rotate in auto-EOI mode: set / clear
            self.rotate_in_auto_eoi = op == 0b100

    def _data(self, value: int) -> None:
        if self.init_step == 2:
            self.vector_base = value & 0xF8
            self.init_step = 4 if self.single else 3
            if self.single and not self.expect_icw4:
                self.init_step = 0
        elif self.init_step == 3:
            self.icw3 = value
            self.init_step = 4 if self.expect_icw4 else 0
        elif self.init_step == 4:
            self.auto_eoi = bool(value & 0x02)
            self.special_fully_nested = bool(value & 0x10)
            self.init_step = 0
        else:
            self.imr = value


@dataclass
class PicPair:
    """Master and slave as the CPU sees them: one INTR line, one vector per INTA."""

    name: str = "PIC"
    # as the BIOS leaves them: vectors 0x08 and 0x70, the slave on IRQ 2, all masked
    master: Pic8259 = field(
        default_factory=lambda: Pic8259("master", 0x20, 0x08, is_master=True, icw3=0x04)
    )
    slave: Pic8259 = field(default_factory=lambda: Pic8259("slave", 0xA0, 0x70, icw3=CASCADE_IRQ))

    def raise_irq(self, irq: int) -> None:
        if irq < 8:
            self.master.irr |= 1 << irq
        else:
            self.slave.irr |= 1 << (irq - 8)

    def _cascade_line(self) -> int:
        return (1 << CASCADE_IRQ) if self.slave.pending() is not None else 0

    def has_interrupt(self) -> bool:
        """The INTR line to the CPU."""
        return self.master.pending(self._cascade_line()) is not None

    def acknowledge(self) -> tuple[int, int]:
        """INTA: (vector, irq). Call only when has_interrupt()."""
        irq = self.master.pending(self._cascade_line())
        if irq is None:  # spurious: IRQ 7, nothing set in service
            return self.master.vector_base + 7, 7
        if irq == CASCADE_IRQ and self.slave.pending() is not None:
            slave_irq = self.slave.pending()
            assert slave_irq is not None
            self.master.acknowledge(CASCADE_IRQ)
            self.slave.acknowledge(slave_irq)
            return self.slave.vector_base + slave_irq, 8 + slave_irq
        self.master.acknowledge(irq)
        return self.master.vector_base + irq, irq

    def unmasked(self, irq: int) -> bool:
        if irq < 8:
            return not self.master.imr & (1 << irq)
        return not self.slave.imr & (1 << (irq - 8)) and not self.master.imr & (1 << CASCADE_IRQ)

    def read(self, port: int, size: int) -> int:
        chip = self.master if port in MASTER_PORTS else self.slave
        if chip is self.master and chip.poll and port == chip.command_port:
            return chip.poll_read(self._cascade_line())
        return chip.read(port, size)

    def write(self, port: int, size: int, value: int) -> None:
        chip = self.master if port in MASTER_PORTS else self.slave
        chip.write(port, size, value)
