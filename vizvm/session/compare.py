"""The same program under every technique that can run it, against native.

Equivalence is Popek and Goldberg's, timing aside: the same serial output,
the same exit code and the same final guest memory as the guest alone on
the machine. Where a technique is not equivalent, the comparison says where
its behaviour parted from native's. Paravirtualization runs a different
program, the guest's port; it is judged on what a user sees of it (serial
output and exit code), since its memory differs from the original's by
construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizvm.machine.machine import Machine
from vizvm.monitors import registry
from vizvm.session.runner import Settings, Summary, run


@dataclass(frozen=True)
class Parting:
    """The first place a technique's run differs from native's."""

    what: str  # "serial", "exit", "memory"
    detail: str
    line: int | None = None
    native: str | None = None
    other: str | None = None
    address: int | None = None


@dataclass(frozen=True)
class Outcome:
    summary: Summary
    equivalent: bool
    overhead: float | None
    parting: Parting | None
    program: str = ""  # what ran: the program, or its paravirtual port
    judged_on: tuple[str, ...] = ("serial", "exit", "memory")


@dataclass(frozen=True)
class Skipped:
    """A technique that cannot run this program, and why."""

    technique: str
    reason: str


@dataclass(frozen=True)
class Port:
    """A paravirtual port of the program: what `paravirt` runs in its place."""

    name: str
    image: bytes


PARAVIRT = "paravirt"
NO_PORT = ("an unmodified kernel stops at its first privileged instruction under paravirt; "
           "it needs a port that calls the monitor with int 0x82 (docs/paravirt.md), and "
           "this program names none")


def serial_parting(native: bytes, other: bytes) -> Parting | None:
    if native == other:
        return None
    a, b = native.split(b"\n"), other.split(b"\n")
    for number, (x, y) in enumerate(zip(a, b, strict=False), start=1):
        if x != y:
            return Parting(
                "serial", f"serial output differs from line {number}", number,
                x.decode("utf-8", "replace"), y.decode("utf-8", "replace"),
            )
    shorter = min(len(a), len(b))
    longer = "native" if len(a) > len(b) else "this technique"
    return Parting("serial", f"serial output ends after line {shorter}; {longer} printed more",
                   shorter + 1)


def memory_parting(native: bytes, other: bytes) -> Parting | None:
    if native == other:
        return None
    first = next(i for i, (x, y) in enumerate(zip(native, other, strict=True)) if x != y)
    return Parting("memory", f"final guest memory differs, first at {first:#010x}",
                   address=first, native=f"{native[first]:#04x}", other=f"{other[first]:#04x}")


def parting(native: tuple[Summary, Machine], other: tuple[Summary, Machine],
            *, memory: bool = True) -> Parting | None:
    (ns, nm), (os_, om) = native, other
    found = serial_parting(ns.serial_bytes, os_.serial_bytes)
    if found:
        return found
    if (ns.exit, ns.exit_code) != (os_.exit, os_.exit_code):
        return Parting("exit", f"native ended {ns.exit} (code {ns.exit_code}), this technique "
                       f"{os_.exit} (code {os_.exit_code}): {os_.message}")
    if memory and ns.memory_sha256 != os_.memory_sha256:
        return memory_parting(nm.ram(), om.ram())
    return None


def compare(
    image: bytes, settings: Settings, techniques: list[str] | None = None, *,
    name: str = "", port: Port | None = None,
) -> tuple[list[Outcome], list[Skipped]]:
    """Run under native first, then every other available technique that can run it."""
    names = techniques or registry.available()
    names = ["native", *[n for n in names if n != "native"]]
    skipped = []
    if PARAVIRT in names and port is None:
        names.remove(PARAVIRT)
        skipped.append(Skipped(PARAVIRT, NO_PORT))
    base = run(image, _with(settings, "native"))
    outcomes = []
    for technique in names:
        ported = technique == PARAVIRT and port is not None
        current = base if technique == "native" else run(
            port.image if ported and port else image, _with(settings, technique))
        part = None if current is base else parting(base, current, memory=not ported)
        cycles = base[0].simulated_cycles
        overhead = current[0].simulated_cycles / cycles if cycles else None
        outcomes.append(Outcome(
            current[0], part is None, overhead, part,
            program=port.name if ported and port else name,
            judged_on=("serial", "exit") if ported else ("serial", "exit", "memory")))
    return outcomes, skipped


def _with(settings: Settings, technique: str) -> Settings:
    return Settings(**{**settings.__dict__, "technique": technique})
