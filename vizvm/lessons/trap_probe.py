"""Does an instruction trap under a technique? Found by running it.

A `trap` check's answer is never written by the author (docs/lesson-format.md):
the instruction runs as the last statement of a tiny guest kernel under the
technique, and the answer is *yes* when the monitor was entered for it (an
event of the monitor at the instruction's address), *no* when it ran directly.
The kernel loads the descriptor tables the classifier uses
(vizvm.session.classify), so instructions that need a GDT, an IDT or a TSS
(`mov ds, ax`, `iretd`, `ltr`) find them, as in a real kernel.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass

from vizvm.asm.assembler import assemble
from vizvm.asm.disasm import Insn, disassemble
from vizvm.asm.source import TABLE_INSTRUCTIONS
from vizvm.machine.descriptors import Descriptor
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.session import classify, runner
from vizvm.trace.events import Event, Kind

# the monitor entered; not EMULATE alone: binary translation rewrites CLI and STI into
# inline code that never leaves the translation cache
MONITOR_KINDS = (Kind.TRAP, Kind.VM_EXIT, Kind.CALLOUT, Kind.HYPERCALL)
TABLE_POINTERS = 0x0F00  # the GDT and IDT pseudo-descriptors, for LGDT and LIDT
DONE, FAULTED = 0x5A, 0xEE  # exit codes: the instruction completed, a guest handler ran
BUDGET = 10_000
STACK = 0x8000  # zeros to pop (ESP starts at the very top of RAM, with nothing above)
# A paravirtual kernel loads no tables and has no debug-exit port: it powers off
# with the poweroff hypercall (docs/paravirt.md).
PV_PROLOGUE = f"mov esp, {STACK:#x}\n"
PROLOGUE = (f"lgdt [{TABLE_POINTERS:#x}]\nlidt [{TABLE_POINTERS + 8:#x}]\nmov ax, 0x28\nltr ax\n"
            + PV_PROLOGUE)
# Fixed code, as bytes, so that a probe built ahead of time runs with no assembler
# (tests compare them with what the assembler makes of the text beside them).
EPILOGUE = bytes([0xB0, DONE, 0xE6, 0xF4])  # mov al, DONE; out 0xf4, al
PV_EPILOGUE = bytes([0xB8, 9, 0, 0, 0, 0xBB, DONE, 0, 0, 0, 0xCD, 0x82])  # poweroff hypercall
FAULT_HANDLER = bytes([0xB0, FAULTED, 0xE6, 0xF4])  # mov al, FAULTED; out 0xf4, al


class ProbeError(ValueError):
    """The instruction could not be probed: it does not assemble, or the probe
    kernel never reached it."""


@dataclass(frozen=True)
class TrapAnswer:
    trapped: bool
    evidence: str


@functools.lru_cache(maxsize=256)
def traps(instruction: str, technique: str, kernel: bytes | None = None) -> TrapAnswer:
    """Run `setup; instruction` under `technique`: in `kernel` when it was built ahead
    of time (probes.toml), else assembled now (AsmError if it does not assemble)."""
    paravirt = technique == "paravirt"
    image = kernel if kernel is not None else probe_kernel(instruction, technique)
    insn = _probed(image)
    image += PV_EPILOGUE if paravirt else EPILOGUE
    summary, machine = runner.run(image, runner.Settings(
        technique=technique, max_insns=BUDGET, preload=() if paravirt else _tables()))
    at = [e for e in machine.log.events if e.address == insn.address]
    entered = [e for e in at if e.kind in MONITOR_KINDS]
    if entered:
        return TrapAnswer(True, f"{technique}: {_describe(entered)}")
    inline = [e for e in at if e.kind is Kind.EMULATE]
    if inline:
        return TrapAnswer(False, f"{technique}: no monitor entry: {inline[0].detail}")
    delivered = [e for e in at if e.kind is Kind.EXCEPTION]
    if delivered:
        return TrapAnswer(False, f"{technique}: the CPU delivered the exception to the guest's "
                                 f"own handler, without the monitor ({delivered[0].detail})")
    reached = at or summary.exit_code == DONE or (summary.exit_address or 0) >= insn.address
    if reached:
        return TrapAnswer(False, f"{technique}: {insn.text} ran directly: no monitor event")
    raise ProbeError(f"the probe kernel never reached {insn.text!r} under {technique}: "
                     f"{summary.exit}: {summary.message}")


def probe_kernel(instruction: str, technique: str) -> bytes:
    """The probe kernel up to and including the probed (last) instruction: what
    probes.toml stores (AsmError where it does not assemble)."""
    statements = [s.strip() for s in instruction.split(";") if s.strip()]
    if not statements:
        raise ProbeError("no instruction to probe")
    prologue = PV_PROLOGUE if technique == "paravirt" else PROLOGUE
    image = assemble(prologue + "\n".join(statements), filename="<instruction>")
    insn = _probed(image)
    return image[: insn.address - LOAD_ADDRESS + insn.size]


def _probed(image: bytes) -> Insn:
    decoded = disassemble(image, LOAD_ADDRESS)
    if not decoded:
        raise ProbeError("the probe kernel holds no instruction")
    insn = decoded[-1]
    if len(decoded) > 1 and insn.mnemonic == "nop" and decoded[-2].mnemonic in TABLE_INSTRUCTIONS:
        insn = decoded[-2]  # the NOP the assembler puts after LGDT/LIDT/SGDT/SIDT
    return insn


@functools.cache
def _tables() -> tuple[tuple[int, bytes], ...]:
    """The classifier's GDT, IDT, TSS and LDT, with the TSS marked available for LTR,
    and handlers that power off with FAULTED."""
    gdt = bytearray(classify._gdt())
    gdt[0x28 + 5] &= ~0x02  # busy TSS (type 0xB) -> available (0x9)
    idt = classify._idt()
    pointers = struct.pack("<HIxxHI", len(gdt) - 1, classify.GDT, len(idt) - 1, classify.IDT)
    handler = FAULT_HANDLER
    ldt = Descriptor.build(0, 0xFFFFF, 0x3).to_bytes() * 2
    return ((classify.GDT, bytes(gdt)), (classify.IDT, idt), (classify.TSS, classify._tss()),
            (classify.LDT, ldt), (classify.HANDLER, handler), (TABLE_POINTERS, pointers))


def _describe(events: list[Event]) -> str:
    kinds = ", ".join(dict.fromkeys(str(e.kind) for e in events))
    return f"{kinds}: {events[0].detail}"
