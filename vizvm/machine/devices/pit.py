"""The 8254 programmable interval timer, channel 0 wired to IRQ 0.

Its input clock is the machine's instruction clock: one PIT tick per guest
instruction (or per instruction-time spent halted), never wall-clock time, so
a run is a pure function of the guest and its settings. Channels 1 and 2
accept programming and count, but raise nothing. Every gate is high, as
channel 0's is on a PC, so the gate-triggered modes 1 and 5 never start.

Timing convention: a count N written at tick t puts IRQ 0 edges (rising edges
of OUT) at t + N, t + 2N, ... in modes 2 and 3, and once at t + N in modes 0
and 4. The real chip loads the count one clock after the write; that constant
offset of one tick is left out.

Following the datasheet: mode 3 counts down by two; a new count written in
mode 2 or 3 without a control word takes effect at the end of the current
period (mode 2) or half-period (mode 3), while a new count in modes 0 and 4
restarts counting; in mode 0, the first byte of a two-byte count stops
counting; BCD counting; the latch and read-back commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PIT_PORTS = (0x40, 0x41, 0x42, 0x43)
CONTROL_PORT = 0x43

ACCESS_LATCH, ACCESS_LOW, ACCESS_HIGH, ACCESS_BOTH = 0, 1, 2, 3
PERIODIC_MODES = (2, 3)
ONE_SHOT_MODES = (0, 4)
READ_BACK = 3  # the counter-select value of a read-back command


def _from_bcd(value: int) -> int:
    return sum(((value >> (4 * i)) & 0xF) * 10**i for i in range(4))


def _to_bcd(value: int) -> int:
    return sum(((value // 10**i) % 10) << (4 * i) for i in range(4))


@dataclass
class Segment:
    """A stretch of counting from one initial count.

    Edges fall at origin + k * period (k >= 1; only k = 1 in the one-shot
    modes) within (start, end]. A count that takes over at the end of a
    half-period starts with an origin before its start (mode 3).
    """

    origin: int
    period: int
    start: int
    end: int | None = None  # a later segment or a reprogramming takes over here

    def covers(self, tick: int) -> bool:
        return self.start <= tick and (self.end is None or tick < self.end)

    def edges(self, lo: int, hi: int, periodic: bool) -> int:
        """Edges in (lo, hi]."""
        lo = max(lo, self.start)
        if self.end is not None:
            hi = min(hi, self.end)
        if hi <= lo:
            return 0
        if periodic:
            return (hi - self.origin) // self.period - (lo - self.origin) // self.period
        return int(lo < self.origin + self.period <= hi)

    def next_edge(self, after: int, periodic: bool) -> int | None:
        """The first edge later than `after`."""
        after = max(after, self.start)
        if periodic:
            edge = self.origin + ((after - self.origin) // self.period + 1) * self.period
        else:
            edge = self.origin + self.period
            if edge <= after:
                return None
        if self.end is not None and edge > self.end:
            return None
        return edge


@dataclass
class Channel:
    access: int = ACCESS_BOTH
    mode: int = 0
    bcd: bool = False
    control: int = 0x36  # the low six bits of the last control word (for read-back)
    reload: int = 0  # the count register as written; 0 means 65536 (10000 in BCD)
    segments: list[Segment] = field(default_factory=list)
    held: int = 0  # the count while not counting
    loaded_at: int | None = None  # when the count register reaches the counter
    write_high_next: bool = False
    read_high_next: bool = False
    partial: int = 0
    latched: list[int] = field(default_factory=list)  # count bytes still to read
    status: int | None = None  # a latched status byte

    @property
    def period(self) -> int:
        if self.bcd:
            return _from_bcd(self.reload) or 10000
        return self.reload or 0x10000

    @property
    def periodic(self) -> bool:
        return self.mode in PERIODIC_MODES

    def segment_at(self, tick: int) -> Segment | None:
        for segment in reversed(self.segments):
            if segment.covers(tick):
                return segment
        return None

    def value_at(self, tick: int) -> int:
        """The counting element at `tick`, as the guest would read it."""
        segment = self.segment_at(tick)
        if segment is None:
            return self.held
        n, elapsed = segment.period, tick - segment.origin
        if self.mode == 3:  # down by two, reloading at each half-period
            e = elapsed % n
            high_half = (n + 1) // 2
            if n % 2 == 0:
                value = n - 2 * (e % (n // 2))
            else:
                value = n - 1 - 2 * (e if e < high_half else e - high_half)
        elif self.periodic:
            value = n - elapsed % n
        else:  # one-shot: keeps counting down, wrapping, after terminal count
            value = n - elapsed
        modulus = 10000 if self.bcd else 0x10000
        value %= modulus
        return _to_bcd(value) if self.bcd else value

    def out_at(self, tick: int) -> bool:
        """The OUT pin, for the read-back status byte."""
        segment = self.segment_at(tick)
        if segment is None:
            return self.mode != 0  # a control word drives OUT low in mode 0 only
        n, elapsed = segment.period, tick - segment.origin
        if self.mode == 0:
            return elapsed >= n
        if self.mode == 2:
            return elapsed % n != n - 1
        if self.mode == 3:
            return elapsed % n < (n + 1) // 2
        return elapsed != n  # mode 4 strobes low for one tick

    def stop(self, tick: int, collected: int) -> None:
        """Counting ends at `tick`; edges after `collected` remain to be collected."""
        self.held = self.value_at(tick)
        self.segments = [s for s in self.segments if s.start <= tick]
        for segment in self.segments:
            if segment.end is None or segment.end > tick:
                segment.end = tick
        self.segments = [s for s in self.segments if s.end is None or s.end > collected]


class Pit:
    """Three counters, with exact scheduling of channel 0's IRQ 0 edges."""

    name = "PIT"

    def __init__(self, now: Callable[[], int]) -> None:
        self._now = now
        self._checked = 0  # channel 0's edges up to this tick are collected
        self.channels = [Channel(), Channel(), Channel()]

    # scheduling -------------------------------------------------------------
    def next_edge(self) -> int | None:
        """Machine tick of channel 0's next IRQ 0 edge not yet collected."""
        ch = self.channels[0]
        edges = [s.next_edge(self._checked, ch.periodic) for s in ch.segments]
        return min((e for e in edges if e is not None), default=None)

    def collect_edges(self, now: int) -> int:
        """IRQ 0 edges in (last collection, now]; they are then consumed."""
        ch = self.channels[0]
        if now <= self._checked:
            return 0
        count = sum(s.edges(self._checked, now, ch.periodic) for s in ch.segments)
        self._checked = now
        ch.segments = [s for s in ch.segments if s.end is None or s.end > now]
        return count

    def count(self, index: int) -> int:
        """A channel's counting element now (BCD-coded in BCD mode)."""
        return self.channels[index].value_at(self._now())

    # ports --------------------------------------------------------------------
    def read(self, port: int, size: int) -> int:
        if port == CONTROL_PORT:
            return 0xFF  # the control word register cannot be read
        ch = self.channels[port - 0x40]
        if ch.status is not None:
            status, ch.status = ch.status, None
            return status
        if ch.latched:
            return ch.latched.pop(0)
        value = self.count(port - 0x40)
        if ch.access == ACCESS_LOW:
            return value & 0xFF
        if ch.access == ACCESS_HIGH:
            return value >> 8
        ch.read_high_next = not ch.read_high_next
        return value & 0xFF if ch.read_high_next else value >> 8

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
            if ch.mode == 0:  # the first byte of a new count stops counting
                self._stop(ch, self._now())
        else:
            ch.write_high_next = False
            self._load(ch, ch.partial | (value << 8))

    def _control(self, value: int) -> None:
        select = value >> 6
        if select == READ_BACK:
            self._read_back(value)
            return
        ch = self.channels[select]
        access = (value >> 4) & 3
        if access == ACCESS_LATCH:
            self._latch_count(ch)
            return
        now = self._now()
        self._stop(ch, now)  # a control word resets the counter at once
        mode = (value >> 1) & 7
        ch.access = access
        ch.mode = mode - 4 if mode in (6, 7) else mode
        ch.bcd = bool(value & 1)
        ch.control = value & 0x3F
        ch.loaded_at = None
        ch.write_high_next = False
        ch.read_high_next = False
        ch.latched = []
        ch.status = None

    def _stop(self, ch: Channel, now: int) -> None:
        # only channel 0's edges are collected; the others' past is not needed
        ch.stop(now, self._checked if ch is self.channels[0] else now)

    def _latch_count(self, ch: Channel) -> None:
        """Freeze the count for reading; a second latch before the reads is ignored."""
        if ch.latched:
            return
        value = ch.value_at(self._now())
        if ch.access == ACCESS_LOW:
            ch.latched = [value & 0xFF]
        elif ch.access == ACCESS_HIGH:
            ch.latched = [value >> 8]
        else:
            ch.latched = [value & 0xFF, value >> 8]

    def _read_back(self, value: int) -> None:
        now = self._now()
        for index, ch in enumerate(self.channels):
            if not value & (2 << index):
                continue
            if not value & 0x20:
                self._latch_count(ch)
            if not value & 0x10 and ch.status is None:
                null_count = ch.loaded_at is None or now < ch.loaded_at
                ch.status = (ch.out_at(now) << 7) | (null_count << 6) | ch.control

    def _load(self, ch: Channel, reload: int) -> None:
        ch.reload = reload & 0xFFFF
        now = self._now()
        if ch.mode in (1, 5):  # wait for a gate trigger, which never comes
            ch.loaded_at = None
            return
        current = ch.segment_at(now) if ch.periodic else None
        if current is None:  # start counting now
            self._stop(ch, now)
            ch.segments.append(Segment(now, ch.period, now))
            ch.loaded_at = now
            return
        # modes 2 and 3: the count in progress runs out first
        keep = self._checked if ch is self.channels[0] else now
        ch.segments = [
            s for s in ch.segments if s.start <= now and (s.end is None or s.end > keep)
        ]
        current.end = None
        old, new = current.period, ch.period
        switch = current.next_edge(now, True)
        assert switch is not None
        origin = switch
        if ch.mode == 3:
            half = current.origin + (now - current.origin) // old * old + (old + 1) // 2
            if now < half:  # in the high half: the new count starts with its low half
                switch, origin = half, half - (new + 1) // 2
        current.end = switch
        ch.segments.append(Segment(origin, new, switch))
        ch.loaded_at = switch
