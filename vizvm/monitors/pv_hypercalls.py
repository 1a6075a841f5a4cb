"""The paravirtual ABI: how a ported guest kernel calls the monitor, and with what.

A paravirtual guest kernel runs in ring 1 and knows it. Where the unmodified
kernel would execute a privileged instruction, the port asks the monitor
instead: `int 0x82`, the hypercall number in EAX, up to five arguments in
EBX, ECX, EDX, ESI, EDI, the result in EAX. This table is the contract: it
names each call, its arguments, what it replaces in the unmodified kernel and
its counterpart in 32-bit Xen, whose design this follows. docs/paravirt.md
shows the same table, and a test keeps the two equal.
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

# One call's work is not interruptible: a bound keeps a bad length from holding the
# monitor for minutes (Xen preempts long calls with continuations instead).
MAX_CONSOLE_WRITE = 4096

HEX_PARAMS = frozenset({"addr", "calls", "ss", "esp", "vector"})  # the rest are counts


@dataclass(frozen=True)
class Hypercall:
    """One entry of the hypercall table."""

    number: int
    name: str
    params: tuple[str, ...]  # in the order of ARGUMENT_REGISTERS
    returns: str
    replaces: str  # what the unmodified kernel does instead
    xen: str  # the nearest call of 32-bit Xen, with Xen's number
    batchable: bool = True  # may appear in a multicall

    @property
    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"

    def describe(self, args: tuple[int, ...]) -> str:
        """`name(param=value, ...)` with the values the guest passed."""
        shown = ", ".join(f"{p}={a:#x}" if p in HEX_PARAMS else f"{p}={a}"
                          for p, a in zip(self.params, args, strict=False))
        return f"{self.name}({shown})"

    def arguments(self, args: tuple[int, ...]) -> dict[str, int]:
        return dict(zip(self.params, args, strict=False))

    def row(self) -> str:
        """The call's row in the table of docs/paravirt.md."""
        return (f"| {self.number} | `{self.signature}` | {self.returns} | {self.replaces} "
                f"| {self.xen} |")


TABLE: tuple[Hypercall, ...] = (
    Hypercall(1, "console_write", ("addr", "len"), "len",
              "the serial driver: per byte, IN from the line status register and OUT to the "
              "data register",
              "console_io (18), CONSOLEIO_write"),
    Hypercall(2, "set_gdt", ("addr", "entries"), "0",
              "LGDT, and the TSS descriptor in the GDT", "set_gdt (2)"),
    Hypercall(3, "set_trap_table", ("addr",), "0",
              "filling the IDT, and LIDT", "set_trap_table (0)"),
    Hypercall(4, "stack_switch", ("ss", "esp"), "0",
              "TSS.SS0:ESP0, and LTR", "stack_switch (3)"),
    Hypercall(5, "set_interrupt_flag", ("on",), "the previous flag, 0 or 1",
              "CLI and STI", "none: the guest writes evtchn_upcall_mask in shared memory"),
    Hypercall(6, "set_timer", ("period", "vector"), "0",
              "programming the 8259 PIC and the 8254 PIT by port I/O",
              "set_timer_op (15), and VIRQ_TIMER"),
    Hypercall(7, "yield", (), "0, after the next event",
              "STI; HLT", "sched_op (29), SCHEDOP_block", batchable=False),
    Hypercall(8, "iret", (), "does not return",
              "IRETD at the end of a handler", "iret (23)", batchable=False),
    Hypercall(9, "poweroff", ("code",), "does not return",
              "OUT to the debug-exit port 0xF4", "sched_op (29), SCHEDOP_shutdown"),
    Hypercall(10, "multicall", ("calls", "count"), "0",
              "nothing: several hypercalls in one trap", "multicall (13)", batchable=False),
)

BY_NUMBER: dict[int, Hypercall] = {call.number: call for call in TABLE}
BY_NAME: dict[str, Hypercall] = {call.name: call for call in TABLE}

# The privileged instructions a ring-0 kernel uses: the call that replaces each in
# a port, or why no call does here ("" when there is nothing more to say).
PAGING = ("paging is not modelled (Xen's mmu_update, mmuext_op and update_va_mapping are "
          "left out), so a paravirtual guest here runs with paging off and the control "
          "registers stay the monitor's")
PORT_IO = frozenset({"in", "out", "insb", "insw", "insd", "outsb", "outsw", "outsd"})
REPLACED_BY: dict[str, str] = {
    "lgdt": "set_gdt", "lidt": "set_trap_table", "ltr": "stack_switch",
    "cli": "set_interrupt_flag", "sti": "set_interrupt_flag", "hlt": "yield",
}
NOT_OFFERED: dict[str, str] = {
    "mov": PAGING, "invlpg": PAGING,
    "lldt": "LDTs are not modelled (Xen's mmuext_op MMUEXT_SET_LDT is left out)",
    "clts": "the FPU is always usable (Xen's fpu_taskswitch is left out)",
    "lmsw": "the FPU is always usable (Xen's fpu_taskswitch is left out)",
    **{name: "" for name in ("invd", "wbinvd", "rdmsr", "wrmsr", "rdpmc", "sysexit")},
    **{io: "" for io in PORT_IO},
}
PORT_CALLS: dict[int, str] = {
    **{port: "console_write" for port in range(0x3F8, 0x400)}, 0xF4: "poweroff",
    **{port: "set_timer" for port in (0x20, 0x21, 0xA0, 0xA1, 0x40, 0x41, 0x42, 0x43)},
}
DEBUG_REGISTERS = "debug registers are not modelled (Xen's set_debugreg is left out)"


class HypercallError(Exception):
    """A hypercall the monitor refuses; the message says which argument and why."""


def unknown(number: int) -> str:
    known = ", ".join(f"{c.number} {c.name}" for c in TABLE)
    return (f"hypercall number {number} (EAX at int 0x82) does not exist; the monitor "
            f"offers {known} (docs/paravirt.md)")
