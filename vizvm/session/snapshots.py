"""Snapshots for the user: a VM's state in a file, opened later.

A run is a pure function of its image and settings, so a file holds the
image, the settings and the tick to stop at, and opening it runs the image
again to that tick. What the machine held there is in the file too (the CPU
context, guest RAM compressed, the registers and a hash of every mapped
byte, the monitor's own memory included), and the machine that opening
produces is checked against it: a file whose run does not replay the same
here (another vizvm whose machine behaves differently) is refused with a
message, never opened as something else.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from vizvm import __version__
from vizvm.machine import state
from vizvm.machine.machine import Machine
from vizvm.monitors import vmx
from vizvm.session import runner
from vizvm.session.program import Program
from vizvm.trace import snapshot_file
from vizvm.trace.snapshot_file import SnapshotFileError

SUFFIX = ".vizvm-snap"


class SnapshotError(ValueError):
    """A snapshot that cannot be written or opened; the message says why."""


@dataclass(frozen=True)
class Saved:
    """What a snapshot file says (checked, not yet replayed)."""

    path: str
    program: Program
    settings: runner.Settings
    icount: int
    ticks: int
    app_version: str
    registers: dict[str, int]
    memory_sha256: str
    ram: bytes  # guest RAM at the snapshot
    context: bytes  # the CPU context (uc.context_save()) at the snapshot


def save_snapshot(source: Any, path: str | Path, *, program: Program | None = None,
                  settings: runner.Settings | None = None) -> Saved:
    """Write a pane's machine (or a Machine, with its program and settings) to `path`."""
    machine: Machine | None = getattr(source, "machine", source)
    program = program or getattr(source, "program", None)
    settings = settings or getattr(source, "settings", None)
    if not isinstance(machine, Machine) or program is None or settings is None:
        raise SnapshotError("there is no machine to save (the program did not load)")
    layout = state.regions(machine.uc)
    header = {
        "app_version": __version__,
        "program": program.name,
        "settings": settings_json(settings),
        "icount": machine.icount,
        "ticks": machine.ticks,
        "registers": machine.cpu.registers(),
        "memory_sha256": hashlib.sha256(state.read_memory(machine.uc, layout)).hexdigest(),
    }
    sections = {"image": program.image, "context": bytes(machine.uc.context_save()),
                "ram": machine.ram()}
    try:
        snapshot_file.write(Path(path), header, sections, frozenset({"ram", "image"}))
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write the snapshot: {exc.strerror}") from None
    return read_snapshot(path)


def read_snapshot(path: str | Path) -> Saved:
    """The file's contents, checked (magic, format version, sizes, checksums)."""
    where = str(path)
    try:
        loaded = snapshot_file.read(Path(path), __version__)
        h = loaded.header
        return Saved(
            path=where,
            program=Program(str(h["program"]), loaded.sections["image"]),
            settings=settings_from_json(h["settings"]),
            icount=int(h["icount"]),
            ticks=int(h["ticks"]),
            app_version=str(h["app_version"]),
            registers={str(k): int(v) for k, v in h["registers"].items()},
            memory_sha256=str(h["memory_sha256"]),
            ram=loaded.sections["ram"],
            context=loaded.sections["context"],
        )
    except SnapshotFileError as exc:
        raise SnapshotError(str(exc)) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SnapshotError(f"{where}: the snapshot's header is incomplete or damaged "
                            f"({type(exc).__name__}: {exc})") from None


def open_snapshot(path: str | Path) -> tuple[Saved, Machine]:
    """A machine at the file's moment: built from its image, run there, verified."""
    saved = read_snapshot(path)
    try:
        machine = runner.build(saved.program.image, saved.settings)
    except Exception as exc:  # a load or technique error: the file's fault, say so
        raise SnapshotError(f"{saved.path}: its program does not load here: {exc}") from None
    replay(machine, saved.ticks)
    verify(machine, saved)
    return saved, machine


def replay(machine: Machine, ticks: int) -> None:
    while machine.exit is None and machine.ticks < ticks:
        machine.advance(ticks)
        machine.at_breakpoint = False


def verify(machine: Machine, saved: Saved) -> None:
    """The replayed machine is the saved one, or a SnapshotError that says where not."""
    problems = []
    if machine.ticks != saved.ticks or machine.icount != saved.icount:
        problems.append(f"it ended at instruction {machine.icount:,} (tick {machine.ticks:,}), "
                        f"not {saved.icount:,} (tick {saved.ticks:,})")
    regs = machine.cpu.registers()
    wrong = [f"{k} {regs.get(k, 0):#x} (saved {v:#x})" for k, v in saved.registers.items()
             if regs.get(k) != v]
    if wrong:
        problems.append("registers differ: " + ", ".join(wrong[:4]))
    layout = state.regions(machine.uc)
    digest = hashlib.sha256(state.read_memory(machine.uc, layout)).hexdigest()
    if digest != saved.memory_sha256:
        ram = machine.ram()
        pages = sum(1 for i in range(0, min(len(ram), len(saved.ram)), 4096)
                    if ram[i: i + 4096] != saved.ram[i: i + 4096])
        problems.append(f"memory differs ({pages} page(s) of guest RAM)")
    if problems:
        raise SnapshotError(
            f"{saved.path}: written by vizvm {saved.app_version}, it does not replay the same "
            f"on vizvm {__version__}: " + "; ".join(problems))


def settings_json(settings: runner.Settings) -> dict[str, Any]:
    out = asdict(settings)
    out["vmx"] = settings.vmx.describe()
    out["preload"] = [[address, data.hex()] for address, data in settings.preload]
    return out


def settings_from_json(raw: dict[str, Any]) -> runner.Settings:
    controls = {k: frozenset(v) if isinstance(v, list) else v for k, v in raw["vmx"].items()}
    return runner.Settings(
        technique=str(raw["technique"]), max_insns=int(raw["max_insns"]),
        profile=str(raw["profile"]), kernel_ring=int(raw["kernel_ring"]),
        ram_mib=int(raw["ram_mib"]), vmx=vmx.Controls(**controls),
        preload=tuple((int(a), bytes.fromhex(d)) for a, d in raw["preload"]),
    )
