"""COM1, a 16550 UART reduced to what a guest observes without a wire.

Transmit is instant (the line status always reads ready), received bytes come
from a queue the host fills, and no serial interrupt is raised: guests poll
the line status register, as boot code and small kernels do. The loopback
mode (MCR bit 4) works as on the chip, since common driver code tests the
UART by sending a byte to itself before using it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COM1_BASE = 0x3F8
COM1_PORTS = range(COM1_BASE, COM1_BASE + 8)

LSR_DATA_READY = 0x01
LSR_THR_EMPTY = 0x20
LSR_IDLE = 0x40
LCR_DLAB = 0x80
MCR_LOOPBACK = 0x10
MSR_CONNECTED = 0xB0  # DCD, DSR and CTS
IIR_NONE = 0x01
IIR_FIFO = 0xC0
OUTPUT_LIMIT = 1 << 20
FIFO_SIZE = 16


@dataclass
class Serial:
    name: str = "COM1"
    base: int = COM1_BASE
    output: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    pending_input: bytearray = field(default_factory=bytearray)
    looped: bytearray = field(default_factory=bytearray)  # sent to itself in loopback
    received: int = 0  # the receiver buffer keeps the last byte after it is read
    ier: int = 0
    lcr: int = 0x03
    mcr: int = 0
    scratch: int = 0
    divisor: int = 12
    fifo: bool = False

    def feed(self, data: bytes) -> None:
        self.pending_input += data

    def read(self, port: int, size: int) -> int:
        reg = port - self.base
        dlab = bool(self.lcr & LCR_DLAB)
        if reg == 0:
            if dlab:
                return self.divisor & 0xFF
            if queue := self._receive_queue():
                self.received = queue.pop(0)
            return self.received
        if reg == 1:
            return (self.divisor >> 8) & 0xFF if dlab else self.ier
        if reg == 2:
            return IIR_NONE | (IIR_FIFO if self.fifo else 0)
        if reg == 3:
            return self.lcr
        if reg == 4:
            return self.mcr
        if reg == 5:
            ready = LSR_DATA_READY if self._receive_queue() else 0
            return LSR_THR_EMPTY | LSR_IDLE | ready
        if reg == 6:
            return self._modem_status()
        return self.scratch

    @property
    def loopback(self) -> bool:
        return bool(self.mcr & MCR_LOOPBACK)

    def _receive_queue(self) -> bytearray:
        # in loopback the line from outside is disconnected
        return self.looped if self.looped or self.loopback else self.pending_input

    def _modem_status(self) -> int:
        if not self.loopback:
            return MSR_CONNECTED
        # the outputs come back as inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD
        m = self.mcr
        return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4)

    def write(self, port: int, size: int, value: int) -> None:
        reg = port - self.base
        value &= 0xFF
        dlab = bool(self.lcr & LCR_DLAB)
        if reg == 0:
            if dlab:
                self.divisor = (self.divisor & 0xFF00) | value
            elif self.loopback:
                if len(self.looped) < FIFO_SIZE:  # beyond that, an overrun loses it
                    self.looped.append(value)
            else:
                self._transmit(value)
        elif reg == 1:
            if dlab:
                self.divisor = (self.divisor & 0xFF) | (value << 8)
            else:
                self.ier = value & 0x0F
        elif reg == 2:
            self.fifo = bool(value & 1)
        elif reg == 3:
            self.lcr = value
        elif reg == 4:
            self.mcr = value & 0x1F
        elif reg == 7:
            self.scratch = value

    def _transmit(self, value: int) -> None:
        if len(self.output) < OUTPUT_LIMIT:
            self.output.append(value)
        else:
            self.dropped += 1
