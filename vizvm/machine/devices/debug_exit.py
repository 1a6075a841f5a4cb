"""The debug-exit port: a write powers the machine off with that exit code."""

from __future__ import annotations

from dataclasses import dataclass

DEBUG_EXIT_PORT = 0xF4


@dataclass
class DebugExit:
    name: str = "debug-exit"
    code: int | None = None

    def read(self, port: int, size: int) -> int:
        return (1 << (8 * size)) - 1

    def write(self, port: int, size: int, value: int) -> None:
        if self.code is None:
            self.code = value
