"""One guest, one technique, from start to exit: the summary of BRIEF.md."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vizvm.machine.layout import DEFAULT_BUDGET, MiB
from vizvm.machine.loader import LoadError
from vizvm.machine.machine import Machine
from vizvm.monitors import cost_model, registry, vmx
from vizvm.trace.log import EventLog


@dataclass(frozen=True)
class Settings:
    technique: str = "native"
    max_insns: int = DEFAULT_BUDGET
    profile: str = cost_model.DEFAULT_PROFILE
    kernel_ring: int = 1
    ram_mib: int = 16
    vmx: vmx.Controls = vmx.FIRST_GENERATION
    # (physical address, bytes) written into RAM before the first instruction:
    # a lesson's parameters for this student (docs/lesson-format.md)
    preload: tuple[tuple[int, bytes], ...] = ()


@dataclass(frozen=True)
class Summary:
    technique: str
    exit: str
    exit_code: int | None
    message: str
    guest_instructions: int
    halted_instructions: int
    serial: str
    events: dict[str, int]
    simulated_cycles: int
    cycles_by_kind: dict[str, int]
    wall_seconds: float
    registers: dict[str, int]
    profile: str
    memory_sha256: str
    exit_address: int | None = None
    serial_bytes: bytes = field(default=b"", repr=False)

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        del out["serial_bytes"]
        return out


def build(image: bytes, settings: Settings) -> Machine:
    """A machine with the technique attached, ready to run (LoadError, TechniqueError)."""
    profile = cost_model.profile(settings.profile)
    technique = registry.technique(settings.technique)
    options = registry.Options(kernel_ring=settings.kernel_ring, vmx=settings.vmx)
    supervisor = registry.create(settings.technique, options)
    machine = Machine(image, ram_size=settings.ram_mib * MiB, log=EventLog(profile.cycles()),
                      cpu_model=technique.cpu_model)
    for address, data in settings.preload:
        machine.memory.write_physical(address, data)
    machine.attach(supervisor)
    return machine


def summarize(machine: Machine, settings: Settings, wall: float) -> Summary:
    exit_ = machine.exit
    assert exit_ is not None
    serial = bytes(machine.serial.output)
    return Summary(
        technique=settings.technique,
        exit=str(exit_.kind),
        exit_code=exit_.code,
        message=exit_.message,
        guest_instructions=machine.executed,
        halted_instructions=machine.idle,
        serial=serial.decode("utf-8", errors="replace"),
        events=dict(sorted(machine.log.counts.items())),
        simulated_cycles=machine.simulated_cycles(),
        cycles_by_kind=dict(sorted(machine.log.cycles_by_kind.items())),
        wall_seconds=round(wall, 6),
        registers=machine.cpu.registers(),
        profile=settings.profile,
        memory_sha256=hashlib.sha256(machine.ram()).hexdigest(),
        exit_address=exit_.address,
        serial_bytes=serial,
    )


def run(image: bytes, settings: Settings, trace: Path | None = None) -> tuple[Summary, Machine]:
    machine = build(image, settings)
    started = time.perf_counter()
    machine.run(settings.max_insns)
    machine.finish()
    summary = summarize(machine, settings, time.perf_counter() - started)
    if trace is not None:
        write_trace(machine, trace)
    return summary, machine


def write_trace(machine: Machine, path: Path) -> None:
    """The run's events as JSON Lines, one event per line."""
    with path.open("w", encoding="utf-8") as out:
        for event in machine.log.events:
            out.write(json.dumps(event.to_json()) + "\n")


__all__ = ["LoadError", "Settings", "Summary", "build", "run", "summarize"]
