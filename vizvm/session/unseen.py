"""Notes for what a monitor never saw: a sensitive instruction that ran
deprivileged without trapping.

A monitor reports what reaches it; the classic x86 holes are precisely what
does not. The session notices them from outside: the instruction classified
sensitive (by running it, vizvm.session.classify), the guest deprivileged,
and no monitor event during the step. The note says what the guest got,
read from the machine before and after the step.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from vizvm.asm.disasm import Insn
from vizvm.machine.cpu import IF
from vizvm.monitors.vcpu import VirtualCpu

SEGMENT_READS = {"cs", "ss"}
WIDE = {"ax": "eax", "bx": "ebx", "cx": "ecx", "dx": "edx", "si": "esi", "di": "edi",
        "bp": "ebp", "sp": "esp"}
# Instructions that read privileged state: the ones whose silence a note can explain.
READS_STATE = frozenset({"pushf", "pushfd", "popf", "popfd", "push", "mov", "sgdt", "sidt",
                         "sldt", "str", "smsw", "lar", "lsl", "verr", "verw"})


@dataclass(frozen=True)
class Step:
    """One guest instruction as the session saw it around a step."""

    insn: Insn
    ring: int  # the real ring it ran at
    guest_ring: int
    before: dict[str, int]
    after: dict[str, int]
    read_stack: Callable[[int], int]  # a dword at SS:offset, after the step
    vcpu: VirtualCpu | None


def note(step: Step, popped: int | None, classification_reason: str) -> str:
    """One line: what the guest got from an instruction the monitor did not see."""
    insn, ring = step.insn, step.ring
    name = insn.mnemonic.upper()
    where = f"{name} at ring {ring}"
    if insn.mnemonic in ("popf", "popfd") and popped is not None:
        asked, kept = bool(popped & IF), bool(step.after["eflags"] & IF)
        if asked != kept:
            return (f"{where}: the guest popped IF={int(asked)}, yet IF stayed {int(kept)} "
                    "and nothing trapped, so the monitor never knew")
        return (f"{where}: nothing trapped; the IF it popped ({int(asked)}) happens to match, "
                "but a POPF that clears IF would go unseen")
    if insn.mnemonic in ("pushf", "pushfd"):
        pushed = step.read_stack(step.after["esp"])
        real_if, iopl = int(bool(pushed & IF)), (pushed >> 12) & 3
        if step.vcpu is None:
            return f"{where}: the guest read the real flags (IF={real_if}); nothing trapped"
        virtual_if = int(step.vcpu.interrupts)
        if (real_if, iopl) != (virtual_if, step.vcpu.iopl):
            return (f"{where}: the guest read the real IF={real_if}, IOPL={iopl}, but its "
                    f"virtual IF is {virtual_if}, IOPL {step.vcpu.iopl}; nothing trapped")
        return (f"{where}: nothing trapped; the flags it read happen to match its virtual "
                f"ones (IF={virtual_if})")
    segment = _segment_read(insn)
    if segment is not None:
        value = _value_read(step, insn)
        shown = "" if value is None else f" = {value:#06x}, RPL {value & 3}"
        return (f"{where}: the guest read {segment.upper()}{shown}, so it can tell it is not "
                f"in ring {step.guest_ring}; nothing trapped")
    if insn.mnemonic in ("push", "mov"):
        return ""  # an ordinary move or push: nothing to say
    if insn.mnemonic in ("sgdt", "sidt") and step.vcpu is not None:
        table = "gdtr" if insn.mnemonic == "sgdt" else "idtr"
        own = getattr(step.vcpu, table).base
        return (f"{where}: the guest read the monitor's table register, not its own "
                f"(base {own:#010x}); nothing trapped")
    destination = _register_destination(step, insn)
    if destination is not None:
        value = step.after[destination]
        return (f"{where}: the guest got {destination.upper()} = {value:#010x} from the real "
                f"CPU (the monitor's state, not its own); nothing trapped")
    return f"{where} ran without a trap, so the monitor never saw it: {classification_reason}"


def _register_destination(step: Step, insn: Insn) -> str | None:
    first = insn.op_str.split(",")[0].strip()
    full = WIDE.get(first, first)
    return full if full in step.after and full.startswith("e") else None


def popped_flags(insn: Insn, before: dict[str, int],
                 read_stack: Callable[[int], int]) -> int | None:
    """What a POPF is about to pop (read before the step)."""
    if insn.mnemonic not in ("popf", "popfd"):
        return None
    return read_stack(before["esp"])


def _segment_read(insn: Insn) -> str | None:
    operands = [o.strip() for o in insn.op_str.split(",")]
    if insn.mnemonic == "push" and operands[0] in SEGMENT_READS:
        return operands[0]
    if insn.mnemonic == "mov" and len(operands) == 2 and operands[1] in SEGMENT_READS:
        return operands[1]
    return None


def _value_read(step: Step, insn: Insn) -> int | None:
    if insn.mnemonic == "push":
        return step.read_stack(step.after["esp"]) & 0xFFFF
    destination = insn.op_str.split(",")[0].strip()
    full = WIDE.get(destination, destination)
    value = step.after.get(full)
    return None if value is None else value & 0xFFFF


def dword(data: bytes) -> int:
    return struct.unpack("<I", data)[0]
