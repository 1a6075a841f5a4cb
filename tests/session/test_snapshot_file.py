"""Snapshot files: round trip, another format version, damage, truncation, a bad replay."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from vizvm import __version__
from vizvm.machine import state
from vizvm.machine.machine import Machine
from vizvm.session import runner, snapshots
from vizvm.session.program import load
from vizvm.trace import snapshot_file


def machine_at(technique: str, program: str, ticks: int) -> Machine:
    machine = runner.build(load(program).image, runner.Settings(technique=technique))
    machine.advance(ticks)
    return machine


def digest(machine: Machine) -> str:
    return hashlib.sha256(state.read_memory(machine.uc, state.regions(machine.uc))).hexdigest()


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "kernel.vizvm-snap"
    machine = machine_at("binary-translation", "kernel", 40_000)
    snapshots.save_snapshot(machine, path, program=load("kernel"),
                            settings=runner.Settings(technique="binary-translation"))
    return path


def test_round_trip_is_the_same_machine_with_the_same_future(saved: Path) -> None:
    info, opened = snapshots.open_snapshot(saved)
    original = machine_at("binary-translation", "kernel", 40_000)
    assert (info.icount, info.settings.technique) == (40_000, "binary-translation")
    assert opened.cpu.registers() == original.cpu.registers()
    assert digest(opened) == digest(original) and info.ram == original.ram()
    for machine in (opened, original):
        machine.run(2_000_000)
    assert bytes(opened.serial.output) == bytes(original.serial.output)
    assert digest(opened) == digest(original) and opened.exit == original.exit


def test_settings_survive_the_file(tmp_path: Path) -> None:
    from vizvm.monitors import vmx

    settings = runner.Settings(technique="hardware-assist", vmx=vmx.MODERN,
                               preload=((0x5000, b"\x01\x02"),), kernel_ring=3)
    assert snapshots.settings_from_json(snapshots.settings_json(settings)) == settings


def test_another_format_version_is_named(saved: Path) -> None:
    raw = bytearray(saved.read_bytes())
    struct.pack_into("<I", raw, 8, snapshot_file.FORMAT + 1)
    saved.write_bytes(bytes(raw))
    with pytest.raises(snapshots.SnapshotError) as caught:
        snapshots.read_snapshot(saved)
    assert str(caught.value) == (
        f"{saved}: this snapshot was written by vizvm {__version__} (format "
        f"{snapshot_file.FORMAT + 1}); this vizvm {__version__} reads format "
        f"{snapshot_file.FORMAT}")


@pytest.mark.parametrize(("cut", "message"), [
    (4, "not a vizvm snapshot"),
    (30, r"truncated \(its header is cut short\)"),
    (-10, r"truncated \(section 'ram' at byte [\d,]+ is cut short\)"),
])
def test_a_truncated_file_is_refused(saved: Path, cut: int, message: str) -> None:
    saved.write_bytes(saved.read_bytes()[:cut])
    with pytest.raises(snapshots.SnapshotError, match=message):
        snapshots.read_snapshot(saved)


def test_a_damaged_section_is_refused(saved: Path) -> None:
    raw = bytearray(saved.read_bytes())
    raw[-100] ^= 0xFF
    saved.write_bytes(bytes(raw))
    with pytest.raises(snapshots.SnapshotError, match=r"damaged \(section 'ram'"):
        snapshots.read_snapshot(saved)


def test_not_a_snapshot_or_missing(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(snapshots.SnapshotError, match="not a vizvm snapshot"):
        snapshots.read_snapshot(other)
    with pytest.raises(snapshots.SnapshotError, match="cannot read"):
        snapshots.read_snapshot(tmp_path / "missing.vizvm-snap")


def test_a_run_that_replays_differently_is_refused(tmp_path: Path) -> None:
    """A file whose saved state is not what this vizvm's replay gives (as from a vizvm
    whose machine behaves otherwise): its header claims other registers."""
    machine = machine_at("native", "kernel", 10_000)
    path = tmp_path / "k.vizvm-snap"
    snapshots.save_snapshot(machine, path, program=load("kernel"),
                            settings=runner.Settings())
    loaded = snapshot_file.read(path, __version__)
    header = {k: v for k, v in loaded.header.items() if k not in ("format", "sections")}
    header["registers"] = {**header["registers"], "eax": header["registers"]["eax"] ^ 1}
    header["app_version"] = "9.9"
    snapshot_file.write(path, header, loaded.sections)
    with pytest.raises(snapshots.SnapshotError,
                       match=r"written by vizvm 9.9, it does not replay the same .*eax"):
        snapshots.open_snapshot(path)
