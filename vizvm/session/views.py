"""What the window draws of one pane, as plain frozen data.

The engine thread builds these; the window only reads them. Keeping them
free of Qt and of live engine objects lets a frame cross a thread (or, later,
a process) as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class Line:
    """One instruction of the listing around the current one."""

    address: int
    raw: bytes
    text: str
    cls: str = ""  # "privileged", "sensitive", "innocuous", "unknown" or "" (not yet known)
    why: str = ""  # the classification's reason, from running the instruction
    current: bool = False
    breakpoint: bool = False


@dataclass(frozen=True)
class TranslatedLine:
    address: int
    text: str
    how: str  # copy, jump, inline, callout, step, exit, ...
    why: str
    current: bool = False


@dataclass(frozen=True)
class Translation:
    """The binary translator's block around the current instruction."""

    guest: tuple[Line, ...]
    translated: tuple[TranslatedLine, ...]
    valid: bool = True


@dataclass(frozen=True, slots=True)
class Place:
    """Where code runs: a ring, and for hardware assist the VMX mode."""

    ring: int
    root: bool = False  # VMX root mode (the VMM), hardware assist only
    label: str = ""


@dataclass(frozen=True, slots=True)
class EventRow:
    icount: int
    kind: str
    reason: str  # one line: what happened and why
    address: int
    disasm: str
    cycles: int = 0
    observed: bool = False  # noted by the session (nothing trapped), not reported by a monitor


@dataclass(frozen=True)
class Series:
    """Plot data for one pane, whole arrays (never appended to by the window)."""

    icount: np.ndarray  # guest instruction counts of the cycle samples
    cycles: np.ndarray  # cumulative simulated cycles at those counts
    bin_width: int  # guest instructions per bin of `by_kind`
    by_kind: dict[str, np.ndarray] = field(default_factory=dict)  # events per bin


@dataclass(frozen=True)
class PaneView:
    technique: str
    title: str
    program: str
    status: str  # "ready", "running", "exited", "error"
    message: str
    icount: int
    ticks: int
    cycles: int
    pc: int
    ring: int  # where the CPU really is
    guest_ring: int  # where the guest believes it is
    registers: dict[str, int]
    changed: frozenset[str]
    virtual: dict[str, str]  # the monitor's virtual CPU, as text
    listing: tuple[Line, ...]
    translation: Translation | None
    serial: str
    counters: dict[str, int]
    events: tuple[EventRow, ...]  # new since the last frame
    dropped: int  # events not sent because a frame held too many
    path: tuple[Place, ...]  # the token's way through the rings since the last frame
    occupants: tuple[tuple[str, Place], ...]  # who runs where
    series: Series | None = None
    generation: int = 0  # how many times the machine was rebuilt (reset, or going back)
    # first..last guest instruction count the recording covers: what a scrubber can
    # reach at once (Seek past `last` runs forward); the position is `icount`
    recorded: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Frame:
    """Everything the window needs after a command or a stretch of running."""

    serial_number: int
    panes: tuple[PaneView, ...]
    running: bool
    message: str = ""
