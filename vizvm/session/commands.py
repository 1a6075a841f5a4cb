"""What the window asks of the engine: frozen, picklable commands."""

from __future__ import annotations

from dataclasses import dataclass, field

from vizvm.session.runner import Settings


@dataclass(frozen=True)
class Open:
    """A program (a path, or a built-in guest's name) under these techniques."""

    program: str
    techniques: tuple[str, ...]
    settings: Settings = field(default_factory=Settings)
    port: str | None = None  # the paravirtual port, when not found by name
    # the program's image itself (a lesson pack's, maybe inside a .zip): `program` is
    # then only its name, and nothing is read from disk; `port_image` likewise, named `port`
    image: bytes | None = None
    port_image: bytes | None = None


@dataclass(frozen=True)
class Step:
    # "into": one instruction; "over": calls as one; "event": to the next event;
    # "unseen": to the next sensitive instruction a monitor did not see
    how: str = "into"


@dataclass(frozen=True)
class Run:
    speed: float | None = None  # steps per second; None: full speed


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Breakpoints:
    program: str
    addresses: frozenset[int]


@dataclass(frozen=True)
class GoTo:
    pane: int
    icount: int


@dataclass(frozen=True)
class StepBack:
    """Every pane one guest instruction back (from the recording's nearest snapshot)."""


@dataclass(frozen=True)
class BackToEvent:
    """Every pane back to the latest event before now in any pane (not I/O, not a
    cache hit); the event's instruction is then the next to run."""


@dataclass(frozen=True)
class Seek:
    """Pane `pane` to where `icount` guest instructions had begun, earlier or later
    (a scrubber: PaneView.recorded is the range reached at once); the others follow
    to the same tick."""

    pane: int
    icount: int


@dataclass(frozen=True)
class SaveSnapshot:
    """Write pane `pane`'s machine as it is now to a snapshot file (.vizvm-snap)."""

    pane: int
    path: str


@dataclass(frozen=True)
class OpenSnapshot:
    """Open a snapshot file: its program under its technique, at its instruction."""

    path: str


@dataclass(frozen=True)
class Export:
    """Write every pane's recorded events as Chrome/Perfetto trace JSON (`perfetto`)
    and its counters over time as CSV (`csv`); either may be None."""

    perfetto: str | None = None
    csv: str | None = None


@dataclass(frozen=True)
class Quit:
    pass


Command = (Open | Step | Run | Pause | Reset | Breakpoints | GoTo | StepBack | BackToEvent
           | Seek | SaveSnapshot | OpenSnapshot | Export | Quit)
