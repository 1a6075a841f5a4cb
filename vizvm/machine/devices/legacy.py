"""The rest of a PC's legacy ports, answered so that ordinary kernels do not hang.

Boot code and small kernels poll these: the keyboard controller's status
before sending it a byte, port 0x61's refresh bit in delay loops, the fast
A20 gate at 0x92, the CMOS clock and its memory-size bytes. Floating ports
read 0xFF, which looks like a busy controller forever. Nothing here depends
on wall-clock time: the clock always reads 2000-01-01 00:00:00.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KEYBOARD_PORTS = (0x60, 0x64)
SYSTEM_PORTS = (0x61, 0x92)
CMOS_PORTS = (0x70, 0x71)

KBC_SYSTEM_FLAG = 0x04  # set after a successful self-test
KBC_LAST_WAS_COMMAND = 0x08
KBC_NOT_INHIBITED = 0x10
KBC_OUTPUT_FULL = 0x01


@dataclass
class KeyboardController:
    """An 8042 with no keyboard attached: empty buffers, answers to a few commands."""

    name: str = "keyboard controller"
    output: list[int] = field(default_factory=list)
    command_byte: int = 0x45
    output_port: int = 0x03  # A20 enabled, no reset
    last_was_command: bool = False
    pending: int | None = None  # a command waiting for its data byte

    def read(self, port: int, size: int) -> int:
        if port == 0x64:
            status = KBC_SYSTEM_FLAG | KBC_NOT_INHIBITED
            status |= KBC_LAST_WAS_COMMAND if self.last_was_command else 0
            return status | (KBC_OUTPUT_FULL if self.output else 0)
        return self.output.pop(0) if self.output else 0

    def write(self, port: int, size: int, value: int) -> None:
        value &= 0xFF
        if port == 0x64:
            self.last_was_command = True
            self._command(value)
            return
        self.last_was_command = False
        if self.pending == 0x60:
            self.command_byte = value
        elif self.pending == 0xD1:
            self.output_port = value | 0x01
        self.pending = None

    def _command(self, value: int) -> None:
        replies = {0x20: self.command_byte, 0xAA: 0x55, 0xAB: 0x00, 0xD0: self.output_port}
        if value in replies:
            self.output.append(replies[value])
        elif value in (0x60, 0xD1):
            self.pending = value
        elif value == 0xDD:
            self.output_port &= ~0x02  # A20 off
        elif value == 0xDF:
            self.output_port |= 0x02


@dataclass
class SystemControl:
    """Port 0x61 (its refresh bit toggles on every read) and 0x92 (fast A20)."""

    name: str = "system control"
    port_b: int = 0
    port_a: int = 0x02  # A20 on
    refresh: bool = False

    def read(self, port: int, size: int) -> int:
        if port == 0x61:
            self.refresh = not self.refresh
            return (self.port_b & 0x0F) | (0x10 if self.refresh else 0)
        return self.port_a

    def write(self, port: int, size: int, value: int) -> None:
        if port == 0x61:
            self.port_b = value & 0x0F
        else:
            self.port_a = value & 0xFE  # bit 0 would reset the machine: not modelled


def _bcd(value: int) -> int:
    return ((value // 10) << 4) | (value % 10)


@dataclass
class CmosClock:
    """The MC146818 CMOS clock, stopped at 2000-01-01, with memory sizes filled in."""

    ram_size: int
    name: str = "CMOS"
    index: int = 0
    memory: bytearray = field(default_factory=lambda: bytearray(128))

    def __post_init__(self) -> None:
        m = self.memory
        m[0x00] = m[0x02] = m[0x04] = 0  # seconds, minutes, hours
        m[0x06] = 7  # day of week (Saturday)
        m[0x07] = m[0x08] = _bcd(1)  # day of month, month
        m[0x09], m[0x32] = _bcd(0), _bcd(20)  # year 00, century 20
        m[0x0A], m[0x0B], m[0x0D] = 0x26, 0x02, 0x80  # no update in progress, BCD, valid
        base_kib, extended_kib = 640, min((self.ram_size >> 10) - 1024, 0xFFFF)
        m[0x15], m[0x16] = base_kib & 0xFF, base_kib >> 8
        m[0x17], m[0x18] = extended_kib & 0xFF, extended_kib >> 8
        m[0x30], m[0x31] = m[0x17], m[0x18]

    def read(self, port: int, size: int) -> int:
        return self.index if port == 0x70 else self.memory[self.index]

    def write(self, port: int, size: int, value: int) -> None:
        if port == 0x70:
            self.index = value & 0x7F  # bit 7 masks NMI
        elif self.index >= 0x0E:
            self.memory[self.index] = value & 0xFF
