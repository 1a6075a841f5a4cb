"""Whoever owns the real ring 0: the guest itself, or a monitor.

The machine is the hardware. Every exception, interrupt line, privileged I/O
and halt goes to the supervisor, the software that the real CPU would enter at
ring 0: on bare metal that is the guest's own IDT (BareMetal), under a monitor
it is the monitor, which emulates, reflects or injects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from vizvm.machine.delivery import Source

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine


@dataclass(frozen=True)
class Trap:
    """An exception or software interrupt the CPU raised, before delivery."""

    vector: int
    source: Source
    error_code: int | None
    address: int  # the instruction that raised it
    return_eip: int  # what a frame would save: the address for faults, the next for INT n

    @property
    def software(self) -> bool:
        return self.source is Source.SOFTWARE


@dataclass(frozen=True)
class PortAccess:
    """An IN or OUT that the hardware's I/O privilege check refused."""

    port: int
    size: int
    value: int | None  # None for IN
    address: int

    @property
    def is_in(self) -> bool:
        return self.value is None


@dataclass(frozen=True)
class Emulated:
    """The supervisor carried the access out; `value` answers an IN."""

    value: int = 0


class Supervisor(Protocol):
    name: str

    def setup(self, machine: Machine) -> None:
        """Put the CPU in the state the guest is entered in."""

    def guest_ring(self) -> int:
        """The ring the guest believes it runs in."""

    def on_exception(self, trap: Trap) -> None:
        """Handle one exception or INT n, inside the CPU's hook."""

    def on_io_fault(self, access: PortAccess) -> Emulated | None:
        """I/O the hardware refused: emulate it, or None to raise #GP(0)."""

    def take_interrupt(self) -> bool:
        """The interrupt line is up: deliver now, or False if masked by IF."""

    def can_wake(self) -> bool:
        """Whether an interrupt could end a halt (IF, real or virtual)."""
