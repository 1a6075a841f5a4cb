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
class Quit:
    pass


Command = Open | Step | Run | Pause | Reset | Breakpoints | GoTo | Quit
