"""The 8254 programmable interval timer, channel 0 wired to IRQ 0.

Its input clock is the machine's instruction clock: one PIT tick per guest
instruction (or per instruction-time spent halted), never wall-clock time, so
a run is a pure function of the guest and its settings. Channels 1 and 2
accept programming and do nothing observable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PIT_PORTS = (0x40, 0x41, 0x42, 0x43)
CONTROL_PORT = 0x43

ACCESS_LATCH, ACCESS_LOW, ACCESS_HIGH, ACCESS_BOTH = 0, 1, 2, 3
PERIODIC_MODES = (2, 3)
ONE_SHOT_MODES = (0, 4)


@dataclass
class Channel:
    access: int = ACCESS_BOTH
    mode: int = 0
    bcd: bool = False
    reload: int = 0  # 0 means 65536
    armed_at: int | None = None  # machine tick when counting started
    fired: bool = False  # one-shot modes: terminal count reached
    write_high_next: bool = False
    read_high_next: bool = False
    latched: int | None = None
    partial: int = 0

    @property
    def period(self) -> int:
        return self.reload or 0x10000


class Pit:
    """Channel 0 with exact scheduling of its IRQ 0 edges on the machine clock."""

    name = "PIT"

    def __init__(self, now: Callable[[], int]) -> None:
        self._now = now
        self._checked = 0
        self.channels = [Channel(), Channel(), Channel()]

    # scheduling -------------------------------------------------------------
    def next_edge(self) -> int | None:
        """Machine tick of channel 0's next IRQ 0 edge not yet collected."""
        ch = self.channels[0]
        if ch.armed_at is None:
            return None
        if ch.mode in PERIODIC_MODES:
            done = (self._checked - ch.armed_at) // ch.period
            return ch.armed_at + (done + 1) * ch.period
        if ch.mode in ONE_SHOT_MODES and not ch.fired:
            return ch.armed_at + ch.period
        return None

    def collect_edges(self, now: int) -> int:
        """IRQ 0 edges in (last collection, now]; they are then consumed."""
        ch = self.channels[0]
        before, self._checked = self._checked, max(self._checked, now)
        if ch.armed_at is None or now <= before:
            return 0
        if ch.mode in PERIODIC_MODES:
            return (now - ch.armed_at) // ch.period - (before - ch.armed_at) // ch.period
        if ch.mode in ONE_SHOT_MODES and not ch.fired and now >= ch.armed_at + ch.period:
            ch.fired = True
            return 1
        return 0

    def count(self, index: int) -> int:
        ch = self.channels[index]
        if ch.armed_at is None:
            return ch.reload & 0xFFFF
        elapsed = self._now() - ch.armed_at
        if ch.mode in PERIODIC_MODES:
            return (ch.period - elapsed % ch.period) & 0xFFFF
        return (ch.period - elapsed) & 0xFFFF

    # ports --------------------------------------------------------------------
    def read(self, port: int, size: int) -> int:
        if port == CONTROL_PORT:
            return 0xFF
        ch = self.channels[port - 0x40]
        value = ch.latched if ch.latched is not None else self.count(port - 0x40)
        if ch.access == ACCESS_LOW:
            byte = value & 0xFF
            ch.latched = None
        elif ch.access == ACCESS_HIGH:
            byte = value >> 8
            ch.latched = None
        else:
            byte = (value >> 8) if ch.read_high_next else value & 0xFF
            ch.read_high_next = not ch.read_high_next
            if not ch.read_high_next:
                ch.latched = None
        return byte & 0xFF

    def write(self, port: int, size: int, value: int) -> None:
        value &= 0xFF
        if port == CONTROL_PORT:
            self._control(value)
            return
        ch = self.channels[port - 0x40]
        if ch.access == ACCESS_LOW:
            self._load(ch, value)
        elif ch.access == ACCESS_HIGH:
            self._load(ch, value << 8)
        elif not ch.write_high_next:
            ch.partial = value
            ch.write_high_next = True
        else:
            ch.write_high_next = False
            self._load(ch, ch.partial | (value << 8))

    def _control(self, value: int) -> None:
        select = value >> 6
        if select == 3:  # read-back: not used by the guests this models
            return
        ch = self.channels[select]
        access = (value >> 4) & 3
        if access == ACCESS_LATCH:
            if ch.latched is None:
                ch.latched = self.count(select)
                ch.read_high_next = False
            return
        mode = (value >> 1) & 7
        ch.access = access
        ch.mode = mode - 4 if mode in (6, 7) else mode
        ch.bcd = bool(value & 1)
        ch.armed_at = None
        ch.fired = False
        ch.write_high_next = False
        ch.read_high_next = False
        ch.latched = None

    def _load(self, ch: Channel, reload: int) -> None:
        ch.reload = reload & 0xFFFF
        ch.armed_at = self._now()
        ch.fired = False
        if ch is self.channels[0]:
            self._checked = ch.armed_at
