"""How a run ends."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitKind(enum.StrEnum):
    POWEROFF = "poweroff"  # the guest wrote the debug-exit port
    HALT = "halt"  # HLT with nothing that could ever wake the CPU
    TRIPLE_FAULT = "triple-fault"  # a fault while delivering a double fault: shutdown
    BUDGET = "budget"  # the instruction budget ran out
    ERROR = "error"  # something the machine cannot model, or a monitor refused


@dataclass(frozen=True)
class Exit:
    kind: ExitKind
    message: str
    code: int | None = None  # the value written to the debug-exit port
    address: int | None = None  # where the guest was, when it matters

    def to_json(self) -> dict[str, object]:
        return {
            "exit": str(self.kind),
            "exit_code": self.code,
            "message": self.message,
            "address": None if self.address is None else f"{self.address:#010x}",
        }
