"""The debug-exit port: a write powers the machine off with that exit code."""

from __future__ import annotations

from dataclasses import dataclass

DEBUG_EXIT_PORT = 0xF4


@dataclass
class DebugExit:
    name: str = "debug-exit"
    code: int | None = None
    io_width: int = 4  # like QEMU's isa-debug-exit, OUT of EAX gives the whole value

    def read(self, port: int, size: int) -> int:
        return (1 << (8 * size)) - 1

    def write(self, port: int, size: int, value: int) -> None:
        if self.code is None:
            self.code = value
