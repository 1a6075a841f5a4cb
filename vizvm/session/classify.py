"""Classifying one instruction by running it (Popek and Goldberg's terms).

The instruction runs at ring 0 on bare hardware and at ring N deprivileged
(vizvm.monitors.probe), from the same guest state, one instruction each.
It is *privileged* if it traps when deprivileged but not at ring 0,
*sensitive* if it runs deprivileged without trapping yet leaves a different
result, *innocuous* if both runs do the same. Several starting states are
tried, because whether an instruction behaves differently can depend on
its operands (a selector's RPL, a frame on the stack, the interrupt flag):
any state that shows a difference without a trap makes it sensitive.
Nothing here names an instruction; the class comes from what the CPU did.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from vizvm.asm.assembler import assemble
from vizvm.asm.disasm import Insn, disassemble
from vizvm.asm.source import TABLE_INSTRUCTIONS
from vizvm.machine.cpu import IF
from vizvm.machine.descriptors import Descriptor
from vizvm.machine.exits import ExitKind
from vizvm.machine.layout import LOAD_ADDRESS, MiB
from vizvm.machine.machine import Machine
from vizvm.machine.vectors import short_name
from vizvm.monitors.probe import Probe

RAM = 2 * MiB
GDT, IDT, TSS, LDT = 0x1000, 0x2000, 0x3000, 0x3800
KSTACK, RING1_STACK, USER_STACK = 0x9000, 0xA000, 0xB000
HANDLER = 0x4000  # every vector's handler: a run of NOPs
GUEST_CR0 = 0x33  # PE, MP, ET, NE: a kernel's usual CR0
LANDING_PAD = 16
OBSERVED = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags",
            "cs", "ss", "ds", "es", "fs", "gs")


def _gdt() -> bytes:
    flat = 0xFFFFF
    entries = [
        bytes(8),
        Descriptor.build(0, flat, 0xB).to_bytes(),  # 0x08 ring-0 code
        Descriptor.build(0, flat, 0x3).to_bytes(),  # 0x10 ring-0 data
        Descriptor.build(0, flat, 0xB, dpl=3).to_bytes(),  # 0x18 ring-3 code
        Descriptor.build(0, flat, 0x3, dpl=3).to_bytes(),  # 0x20 ring-3 data
        Descriptor.build(TSS, 103, 0xB, s=False, db=False, granularity=False).to_bytes(),
        Descriptor.build(LDT, 15, 0x2, s=False, db=False, granularity=False).to_bytes(),
        Descriptor.build(0, flat, 0xB, dpl=1).to_bytes(),  # 0x38 ring-1 code
        Descriptor.build(0, flat, 0x3, dpl=1).to_bytes(),  # 0x40 ring-1 data
    ]
    return b"".join(entries)


def _idt() -> bytes:
    """Interrupt gates to HANDLER; INT 0x80 open to every ring, as for system calls."""
    out = bytearray()
    for vector in range(256):
        dpl = 3 if vector == 0x80 else 0
        low = (0x08 << 16) | (HANDLER & 0xFFFF)
        high = (HANDLER & 0xFFFF0000) | 0x8E00 | (dpl << 13)
        out += struct.pack("<II", low, high)
    return bytes(out)


def _tss() -> bytes:
    tss = bytearray(104)
    struct.pack_into("<IIIIII", tss, 4, KSTACK, 0x10, RING1_STACK, 0x41, 0, 0)
    struct.pack_into("<H", tss, 0x66, 104)
    return bytes(tss)


@dataclass(frozen=True)
class Variant:
    name: str
    about: str
    interrupts: bool
    registers: dict[str, int]
    stack: tuple[int, ...]


KERNEL_SELECTORS = {"eax": 0x10, "ebx": 0x08, "ecx": 0x10, "edx": 0x80, "esi": 0x08,
                    "edi": 0x10, "ebp": 0x10}
RPL1_SELECTORS = {"eax": 0x11, "ebx": 0x09, "ecx": 0x11, "edx": 0x80, "esi": 0x09,
                  "edi": 0x11, "ebp": 0x11}


def variants(landing: int) -> list[Variant]:
    return [
        Variant("A", "kernel, interrupts on, ring-0 selectors, flags with IF clear on the stack",
                True, KERNEL_SELECTORS, (0x00000002, 0x10, 0x08)),
        Variant("B", "kernel, interrupts off, selectors with RPL 1, IF set on the stack",
                False, RPL1_SELECTORS, (0x11, 0x00000202, 0x11)),
        Variant("C", "a ring-0 return frame on the stack", True, KERNEL_SELECTORS,
                (landing, 0x08, 0x00000202)),
        Variant("D", "a far-return frame to ring 1 on the stack", True, KERNEL_SELECTORS,
                (landing, 0x39, RING1_STACK - 64, 0x41)),
        Variant("E", "an interrupt-return frame to ring 1 on the stack", True, KERNEL_SELECTORS,
                (landing, 0x39, 0x00000202, RING1_STACK - 64, 0x41)),
        Variant("F", "a far-return frame to ring 3 on the stack", True, KERNEL_SELECTORS,
                (landing, 0x1B, USER_STACK - 64, 0x23)),
        Variant("G", "an interrupt-return frame to ring 3 on the stack", True, KERNEL_SELECTORS,
                (landing, 0x1B, 0x00000202, USER_STACK - 64, 0x23)),
    ]


@dataclass
class Observation:
    outcome: str  # "completed", "fault", "halted", "interrupt"
    fault: tuple[int, int | None] | None = None
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    memory_before: bytes = b""
    memory_after: bytes = b""

    def describe(self) -> str:
        if self.fault is not None:
            vector, code = self.fault
            return f"{short_name(vector)}" + ("" if code is None else f"({code:#x})")
        return self.outcome


def _prepare(image: bytes, variant: Variant, setup_end: int) -> tuple[Machine, Probe]:
    machine = Machine(image, ram_size=RAM)
    probe = Probe()
    machine.attach(probe)
    memory, cpu = machine.memory, machine.cpu
    for address, data in ((GDT, _gdt()), (IDT, _idt()), (TSS, _tss()),
                          (HANDLER, b"\x90" * 16), (LDT, Descriptor.build(
                              0, 0xFFFFF, 0x3).to_bytes() * 2)):
        memory.write_physical(address, data)
    cpu.set_table_register("gdt", GDT, len(_gdt()) - 1)
    cpu.set_table_register("idt", IDT, len(_idt()) - 1)
    cpu.set_table_register("tr", TSS, 103, 0x28, Descriptor.build(
        TSS, 103, 0xB, s=False, db=False, granularity=False).high)
    cpu.set_table_register("ldt", LDT, 15, 0x30, Descriptor.build(
        LDT, 15, 0x2, s=False, db=False, granularity=False).high)
    cpu.write("cr0", GUEST_CR0)
    for name, value in variant.registers.items():
        cpu.write(name, value)
    esp = KSTACK - 4 * len(variant.stack)
    memory.write_physical(esp, struct.pack(f"<{len(variant.stack)}I", *variant.stack))
    cpu.write("esp", esp)
    cpu.write("eflags", 0x2 | (IF if variant.interrupts else 0))
    if setup_end:
        machine.run_to(LOAD_ADDRESS + setup_end, 100_000)
    return machine, probe


def _state(machine: Machine) -> dict[str, int]:
    values = machine.cpu.registers()
    return {name: values[name] for name in OBSERVED}


def observe(image: bytes, variant: Variant, setup_end: int, ring: int) -> Observation:
    machine, probe = _prepare(image, variant, setup_end)
    if ring:
        probe.ring = ring
        probe.deprivilege()
    obs = Observation("completed", before=_state(machine), memory_before=machine.ram())
    machine.advance(machine.ticks + 1)
    if probe.fault is not None:
        obs.outcome, obs.fault = "fault", (probe.fault.vector, probe.fault.error_code)
    elif machine.exit is not None and machine.exit.kind is ExitKind.ERROR:
        obs.outcome = "failed"  # e.g. it reached outside the probe's memory
    elif machine.halted or machine.exit is not None:
        obs.outcome = "halted"
    elif probe.software is not None:
        obs.outcome = "interrupt"
    obs.after = _state(machine)
    obs.memory_after = machine.ram()
    return obs


@dataclass(frozen=True)
class Difference:
    what: str
    native: str
    deprivileged: str


def differences(native: Observation, deprived: Observation) -> list[Difference]:
    """What the instruction did differently: only what it changed in either run."""
    if native.fault != deprived.fault:
        return [Difference("exception", native.describe(), deprived.describe())]
    found = []
    for name in OBSERVED:
        changed = (native.before[name] ^ native.after[name]) | (
            deprived.before[name] ^ deprived.after[name])
        if name == "eflags":
            a, b = native.after[name] & changed, deprived.after[name] & changed
            if a != b:
                found.append(Difference("eflags", _flags(a, a ^ b), _flags(b, a ^ b)))
            continue
        if changed and native.after[name] != deprived.after[name]:
            found.append(Difference(name, f"{native.after[name]:#010x}",
                                    f"{deprived.after[name]:#010x}"))
    found.extend(_memory_differences(native, deprived))
    return found


def _memory_differences(native: Observation, deprived: Observation) -> list[Difference]:
    """Runs of bytes either run wrote, where the two runs disagree."""
    n0, n1, d0, d1 = (native.memory_before, native.memory_after, deprived.memory_before,
                      deprived.memory_after)
    if n0 == n1 and d0 == d1:
        return []
    out: list[Difference] = []
    for start, end in _runs(sorted(_changed(n0, n1) | _changed(d0, d1))):
        if n1[start:end] != d1[start:end]:
            out.append(Difference(f"memory {start:#x}..{end - 1:#x}", n1[start:end].hex(" "),
                                  d1[start:end].hex(" ")))
    return out[:8]


def _runs(addresses: list[int], longest: int = 16) -> list[tuple[int, int]]:
    """Group nearby addresses (gaps of up to 3 bytes) into runs, for display."""
    runs: list[tuple[int, int]] = []
    for address in addresses:
        if runs and address - runs[-1][1] < 4 and address - runs[-1][0] < longest:
            runs[-1] = (runs[-1][0], address + 1)
        else:
            runs.append((address, address + 1))
    return runs


FLAG_NAMES = {0: "CF", 2: "PF", 4: "AF", 6: "ZF", 7: "SF", 8: "TF", 9: "IF", 10: "DF",
              11: "OF", 12: "IOPL", 13: "IOPL", 14: "NT", 16: "RF", 17: "VM", 18: "AC", 21: "ID"}


def _flags(value: int, mask: int) -> str:
    names = dict.fromkeys(FLAG_NAMES[b] for b in sorted(FLAG_NAMES) if mask >> b & 1)
    parts = []
    for flag in names:
        if flag == "IOPL":
            parts.append(f"IOPL={value >> 12 & 3}")
        else:
            bit = next(b for b, n in FLAG_NAMES.items() if n == flag)
            parts.append(f"{flag}={value >> bit & 1}")
    return " ".join(parts) or f"{value:#010x}"


def _changed(before: bytes, after: bytes) -> set[int]:
    """Addresses that differ, found a page at a time (most pages are untouched)."""
    found: set[int] = set()
    for page in range(0, len(before), 4096):
        a, b = before[page : page + 4096], after[page : page + 4096]
        if a != b:
            found.update(page + i for i in range(len(a)) if a[i] != b[i])
    return found


@dataclass(frozen=True)
class Evidence:
    variant: Variant
    native: Observation
    deprivileged: Observation
    differences: list[Difference]

    @property
    def trapped(self) -> bool:
        """Deprivileged, the CPU raised an exception that ring 0 did not."""
        return self.deprivileged.fault is not None and self.native.fault != self.deprivileged.fault

    @property
    def silently_different(self) -> bool:
        """Deprivileged, it ran without trapping and did something else."""
        return self.deprivileged.fault is None and bool(self.differences)


@dataclass(frozen=True)
class Classification:
    instruction: str
    raw: bytes
    disassembly: str
    ring: int
    cls: str
    reason: str
    evidence: list[Evidence]


def classify(text: str, ring: int = 1) -> Classification:
    """Assemble `setup; instruction`, run it in every starting state, and classify."""
    image = assemble(text, filename="<instruction>")
    decoded = disassemble(image, LOAD_ADDRESS)
    insn = decoded[-1]  # the last instruction is the one classified; the rest set up
    if len(decoded) > 1 and insn.mnemonic == "nop" and decoded[-2].mnemonic in TABLE_INSTRUCTIONS:
        insn = decoded[-2]  # the NOP the assembler puts after LGDT/LIDT/SGDT/SIDT
    return _classify_image(text, image, insn, ring)


def classify_code(raw: bytes, ring: int = 1) -> Classification:
    """The same for one instruction already encoded (the window marks guest code
    with it; no assembler needed)."""
    insn = disassemble(raw, LOAD_ADDRESS, 1)[0]
    return _classify_image(insn.text, raw[: insn.size], insn, ring)


def _classify_image(text: str, image: bytes, insn: Insn, ring: int) -> Classification:
    setup_end = insn.address - LOAD_ADDRESS
    image = image[: setup_end + insn.size] + b"\x90" * LANDING_PAD
    landing = LOAD_ADDRESS + setup_end + insn.size
    evidence = []
    for variant in variants(landing):
        native = observe(image, variant, setup_end, 0)
        deprived = observe(image, variant, setup_end, ring)
        evidence.append(Evidence(variant, native, deprived, differences(native, deprived)))
    cls, reason = _verdict(evidence, ring)
    return Classification(text, insn.raw, insn.text, ring, cls, reason, evidence)


def _verdict(evidence: list[Evidence], ring: int) -> tuple[str, str]:
    if any("failed" in (e.native.outcome, e.deprivileged.outcome) for e in evidence):
        return "unknown", ("the probe machine could not run it (it reaches outside the "
                           f"probe's {RAM // MiB} MiB of memory), so it was not classified")
    silent = [e for e in evidence if e.silently_different]
    if silent:
        e = silent[0]
        what = ", ".join(d.what for d in e.differences[:4])
        return "sensitive", (f"at ring {ring} it does not trap, yet the result differs from "
                             f"ring 0 ({what}; starting state {e.variant.name})")
    trapped = [e for e in evidence if e.trapped]
    if trapped:
        e = trapped[0]
        return "privileged", (f"at ring {ring} the CPU raises {e.deprivileged.describe()}, "
                              f"at ring 0 it does not (starting state {e.variant.name})")
    faults = {e.native.describe() for e in evidence if e.native.fault}
    if faults and len(faults) == 1 and all(e.native.fault for e in evidence):
        return "innocuous", (f"it raises {faults.pop()} at ring 0 and at ring {ring} alike; "
                             "deprivileging changes nothing")
    return "innocuous", f"at ring {ring} it does exactly what it does at ring 0"
