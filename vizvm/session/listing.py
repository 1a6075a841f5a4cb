"""The code around the current instruction, each line marked with its class.

x86 code cannot be disassembled backwards, so the listing starts at the
first address before the PC from which a forward disassembly lands exactly
on the PC. Each instruction's class (privileged, sensitive, innocuous) comes
from running it, deprivileged and not (vizvm.session.classify), once per
encoding; a frame classifies only as many new encodings as its time budget
allows and the rest show unmarked until a later frame.
"""

from __future__ import annotations

import time

from vizvm.asm.disasm import MAX_INSN, Insn, disassemble
from vizvm.machine.machine import Machine
from vizvm.machine.memory import MachineError
from vizvm.machine.vectors import CpuFault
from vizvm.monitors.binary_translation import BinaryTranslation
from vizvm.session.classify import classify_code
from vizvm.session.views import Line, TranslatedLine, Translation

BEFORE, AFTER = 8, 16
_classes: dict[bytes, tuple[str, str]] = {}


def classification(raw: bytes) -> tuple[str, str]:
    """(class, reason) of one encoded instruction, by running it (cached)."""
    found = _classes.get(raw)
    if found is None:
        try:
            result = classify_code(raw)
            found = (result.cls, result.reason)
        except Exception as exc:
            found = ("unknown", f"could not be classified: {exc}")
        _classes[raw] = found
    return found


def known(raw: bytes) -> tuple[str, str]:
    return _classes.get(raw, ("", ""))


def _read(machine: Machine, start: int, size: int) -> bytes:
    out = bytearray()
    while len(out) < size:
        chunk = machine.code_at(start + len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out[:size])


def instructions_around(machine: Machine, pc: int) -> list[Insn]:
    span = (AFTER + 1) * MAX_INSN
    for start in range(max(0, pc - BEFORE * 6), pc + 1):
        code = _read(machine, start, pc - start + span)
        insns = disassemble(code, start)
        at = next((i for i, insn in enumerate(insns) if insn.address == pc), None)
        if at is not None:
            return insns[max(0, at - BEFORE): at + AFTER]
    return disassemble(_read(machine, pc, span), pc)[:AFTER]


def around(machine: Machine, pc: int, breakpoints: frozenset[int], *,
           budget: float) -> tuple[Line, ...]:
    try:
        insns = instructions_around(machine, pc)
    except (MachineError, CpuFault):
        return ()
    deadline = time.perf_counter() + budget
    current = next((i for i in insns if i.address == pc), None)
    ordered = ([current] if current else []) + [i for i in insns if i is not current]
    for insn in ordered:  # the current instruction first: it matters most
        if insn.raw not in _classes and time.perf_counter() < deadline:
            classification(insn.raw)
    return tuple(
        Line(insn.address, insn.raw, insn.text, *known(insn.raw),
             current=insn.address == pc, breakpoint=insn.address in breakpoints)
        for insn in insns
    )


def translation(machine: Machine, pc: int) -> Translation | None:
    """The translated block the guest is in, beside its guest code (binary translation)."""
    supervisor = machine.supervisor
    if not isinstance(supervisor, BinaryTranslation) or not supervisor.in_cache:
        return None
    cache = supervisor.cache
    tc = machine.cpu.eip
    slot = cache.at(tc)
    if slot is None:
        return None
    listed = cache.listing_of(cache.block_of(slot))
    guest = tuple(Line(i.address, i.raw, i.text, *known(i.raw), current=i.address == pc)
                  for i in listed.guest_code)
    translated = tuple(TranslatedLine(i.address, i.text, i.how, i.why, current=i.address == tc)
                       for i in listed.translated)
    return Translation(guest, translated, listed.valid)
