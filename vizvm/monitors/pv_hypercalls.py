"""The paravirtual ABI: how a ported guest kernel calls the monitor, and with what.

A paravirtual guest kernel runs in ring 1 and knows it. Where the unmodified
kernel would execute a privileged instruction, the port asks the monitor
instead: `int 0x82`, the hypercall number in EAX, up to five arguments in
EBX, ECX, EDX, ESI, EDI, the result in EAX. This table is the contract: it
names each call, its arguments, what it replaces in the unmodified kernel and
its counterpart in 32-bit Xen, whose design this follows. docs/paravirt.md
is the same table for people.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HYPERCALL_VECTOR = 0x82  # Xen's on 32-bit x86; its gate admits ring 1, not ring 3
ARGUMENT_REGISTERS = ("ebx", "ecx", "edx", "esi", "edi")

# A multicall entry, as Xen lays it out: op, result, six arguments (we use five).
MULTICALL_ENTRY = struct.Struct("<II6I")
MAX_MULTICALL = 64

# A trap table entry, as Xen's trap_info: vector, flags, code selector, handler.
# The table ends at the first entry whose handler is 0.
TRAP_INFO = struct.Struct("<BBHI")
TRAP_DPL_MASK = 0x3  # flags: which rings may reach the vector with INT n
TRAP_DISABLE_INTERRUPTS = 0x4  # flags: clear the virtual IF on entry (an interrupt gate)
MAX_TRAPS = 256

HEX_PARAMS = frozenset({"addr", "calls", "ss", "esp", "vector"})  # the rest are counts


@dataclass(frozen=True)
class Hypercall:
    """One entry of the hypercall table."""

    number: int
    name: str
    params: tuple[str, ...]  # in the order of ARGUMENT_REGISTERS
    returns: str
    replaces: str  # what the unmodified kernel does instead
    xen: str  # the nearest call of 32-bit Xen
    batchable: bool = True  # may appear in a multicall

    def describe(self, args: tuple[int, ...]) -> str:
        """`name(param=value, ...)` with the values the guest passed."""
        shown = ", ".join(f"{p}={a:#x}" if p in HEX_PARAMS else f"{p}={a}"
                          for p, a in zip(self.params, args, strict=False))
        return f"{self.name}({shown})"

    def arguments(self, args: tuple[int, ...]) -> dict[str, int]:
        return dict(zip(self.params, args, strict=False))


TABLE: tuple[Hypercall, ...] = (
    Hypercall(1, "console_write", ("addr", "len"), "len",
              "the serial driver: per byte, IN from the line status register and OUT to "
              "the data register", "console_io(CONSOLEIO_write, len, addr)"),
    Hypercall(2, "set_gdt", ("addr", "entries"), "0",
              "LGDT; the monitor checks that no descriptor grants ring 0 and installs a copy "
              "the guest cannot write", "set_gdt(frames, entries)"),
    Hypercall(3, "set_trap_table", ("addr",), "0",
              "filling the IDT and LIDT: an array of {vector, flags, cs, handler} ending with "
              "a handler of 0; addr 0 empties the table", "set_trap_table(traps)"),
    Hypercall(4, "stack_switch", ("ss", "esp"), "0",
              "TSS.SS0:ESP0 and LTR: the ring-1 stack for events that arrive in ring 3",
              "stack_switch(ss, esp)"),
    Hypercall(5, "set_interrupt_flag", ("on",), "the previous flag (0 or 1)",
              "CLI and STI: the virtual interrupt flag", "none: Xen's guest writes the event "
              "mask in memory it shares with Xen, without a trap"),
    Hypercall(6, "set_timer", ("period", "vector"), "0",
              "programming the 8259 PIC and the 8254 PIT by port I/O: a periodic timer every "
              "`period` guest instructions (2-65535; 0 stops it), delivered on `vector` "
              "through the trap table", "set_timer_op(deadline) and VIRQ_TIMER"),
    Hypercall(7, "yield", (), "0 (after the next event)",
              "STI; HLT: enable the virtual IF and wait for the next event",
              "sched_op(SCHEDOP_block)", batchable=False),
    Hypercall(8, "iret", (), "does not return",
              "IRETD from a handler: pops EAX, EIP, CS, EFLAGS (and ESP, SS for ring 3) and "
              "restores the virtual IF, which IRETD at ring 1 cannot", "iret()",
              batchable=False),
    Hypercall(9, "poweroff", ("code",), "does not return",
              "OUT to the debug-exit port 0xF4: the low byte of `code` is the exit code",
              "sched_op(SCHEDOP_shutdown)"),
    Hypercall(10, "multicall", ("calls", "count"), "0",
              "nothing: several hypercalls in one trap; `calls` is an array of `count` "
              "entries of 8 dwords (op, result, six arguments), each result written back",
              "multicall(calls, count)", batchable=False),
)

BY_NUMBER: dict[int, Hypercall] = {call.number: call for call in TABLE}
BY_NAME: dict[str, Hypercall] = {call.name: call for call in TABLE}


class HypercallError(Exception):
    """A hypercall the monitor refuses; the message says which argument and why."""


def unknown(number: int) -> str:
    known = ", ".join(f"{c.number} {c.name}" for c in TABLE)
    return (f"hypercall number {number} (EAX at int 0x82) does not exist; the monitor "
            f"offers {known} (docs/paravirt.md)")
