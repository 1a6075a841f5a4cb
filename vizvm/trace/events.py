"""The one event stream that every technique reports, for the window,
the lessons and the tests alike.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Kind(enum.StrEnum):
    TRAP = "trap"  # the CPU stopped the guest and entered the monitor
    EMULATE = "emulate"  # the monitor carried out a guest instruction on virtual state
    INTERRUPT = "interrupt"  # an IRQ delivered, injected or reflected into the guest
    EXCEPTION = "exception"  # an exception or INT n delivered or reflected to the guest
    RING = "ring-change"  # the guest's privilege level changed
    IO = "io"  # a device register read or written
    HALT = "halt"  # the guest waited for an interrupt
    HYPERCALL = "hypercall"
    VM_EXIT = "vm-exit"
    TRANSLATE = "translate"  # a block of guest code translated into the translation cache
    CALLOUT = "callout"  # translated code called the monitor for one instruction
    CACHE_HIT = "cache-hit"  # a branch target looked up in the translation cache and found
    CACHE_MISS = "cache-miss"  # ... and not found: it must be translated first
    INVALIDATE = "invalidate"  # a write to translated guest code dropped its translations


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, at a guest instruction count.

    `icount` counts guest instructions begun before and including the one
    the event belongs to. `ring` is where the CPU really was; `guest_ring`
    is where the guest believed it was (they differ under a monitor that
    deprivileges the guest kernel). `cost` names a cost-model entry and
    `cycles` is its price under the run's profile.
    """

    kind: Kind
    icount: int
    ring: int
    guest_ring: int
    address: int
    insn_bytes: bytes
    disasm: str
    detail: str
    cost: str = ""
    cycles: int = 0
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = str(self.kind)
        out["insn_bytes"] = self.insn_bytes.hex()
        out["address"] = f"{self.address:#010x}"
        return out
