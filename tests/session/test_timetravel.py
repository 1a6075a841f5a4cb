"""Time travel is exact: co-simulation of recorded-and-rewound runs against straight ones.

For every technique on the built-in guests: run straight to the end; then
record, jump back to several instruction counts, run forward to the end, and
compare serial output, exit code, every mapped byte, registers, event counts
and simulated cycles. And a jump to N is the machine a straight run stopped
at N would be.
"""

from __future__ import annotations

import hashlib

import pytest

from vizvm.machine import state
from vizvm.machine.machine import Machine
from vizvm.session import runner
from vizvm.session.program import load
from vizvm.session.timetravel import Recording

CASES = [(t, p) for t in ("native", "trap-emulate", "binary-translation", "hardware-assist")
         for p in ("kernel", "holes")] + [("paravirt", "kernel_pv")] + [
    ("binary-translation", "nano_pgfault"), ("binary-translation", "nano_ptemod"),
    ("trap-emulate", "nano_pgfault"), ("hardware-assist", "nano_ptemod")]
STRETCH = 2_971  # recording pauses at odd places, as the window's stretches do


def build(technique: str, program: str) -> tuple[Machine, runner.Settings]:
    settings = runner.Settings(technique=technique, max_insns=2_000_000)
    return runner.build(load(program).image, settings), settings


def fingerprint(machine: Machine) -> dict[str, object]:
    memory = state.read_memory(machine.uc, state.regions(machine.uc))
    return {
        "serial": bytes(machine.serial.output),
        "exit": None if machine.exit is None else (machine.exit.kind, machine.exit.code),
        "memory": hashlib.sha256(memory).hexdigest(),
        "registers": machine.cpu.registers(),
        "counts": dict(machine.log.counts),
        "cycles": machine.simulated_cycles(),
        "icount": machine.icount,
        "ticks": machine.ticks,
    }


def straight_to(technique: str, program: str, icount: int) -> Machine:
    machine, _ = build(technique, program)
    while machine.exit is None and machine.icount < icount:
        machine.advance(machine.ticks + icount - machine.icount)
    return machine


def recorded(technique: str, program: str) -> tuple[Recording, runner.Settings]:
    machine, settings = build(technique, program)
    recording = Recording(machine, interval=2_500, seconds=None)
    while machine.exit is None:
        machine.advance(machine.ticks + STRETCH)
        recording.note()
    return recording, settings


@pytest.mark.parametrize(("technique", "program"), CASES)
def test_rewound_runs_end_as_the_straight_run(technique: str, program: str) -> None:
    straight, settings = build(technique, program)
    straight.run(settings.max_insns)
    expected = fingerprint(straight)
    recording, _ = recorded(technique, program)
    machine = recording.machine
    assert fingerprint(machine) == expected
    assert len(recording.snapshots) > 4
    end = machine.icount
    for target in (end * 3 // 4, 1, end // 2, 12_345):
        recording.go_to(target)
        assert machine.icount == target and machine.exit is None
        machine.run(settings.max_insns)
        assert fingerprint(machine) == expected, f"after going back to {target}"


@pytest.mark.parametrize(("technique", "program"), CASES)
def test_a_jump_lands_where_a_straight_run_stops(technique: str, program: str) -> None:
    recording, _ = recorded(technique, program)
    end = recording.machine.icount
    for target in (end // 3, 54_321, end - 5):
        recording.go_to(target)
        assert fingerprint(recording.machine) == fingerprint(straight_to(technique, program,
                                                                         target))


def test_step_back_and_back_to_event() -> None:
    machine, _ = build("trap-emulate", "kernel")
    recording = Recording(machine, interval=10_000, seconds=None)
    machine.advance(50_000)
    recording.note()
    before = fingerprint(machine)
    machine.advance(machine.ticks + 1)
    recording.note()
    recording.step_back()
    assert fingerprint(machine) == before
    event = recording.back_to_previous_event()
    assert event is not None and machine.icount == event <= 50_000
    kinds = recording.tape.kinds[:recording.tape.position]
    assert kinds and kinds[-1] not in ("io", "cache-hit")
    assert recording.tape.icounts[recording.tape.position - 1] == event


def record_kernel(max_bytes: int) -> Recording:
    machine, _ = build("native", "kernel")
    recording = Recording(machine, interval=3_000, seconds=None, max_bytes=max_bytes)
    while machine.exit is None:
        machine.advance(machine.ticks + 3_000)
        recording.note()
    return recording


def test_memory_stays_bounded() -> None:
    unbounded = record_kernel(2**40)
    whole_copies = 16 * 2**20 + unbounded._ram.changed(0) * 4096  # newest copy, first pages
    bound = whole_copies + (unbounded.recording_bytes - whole_copies) // 2
    recording = record_kernel(bound)
    assert recording.recording_bytes <= bound < unbounded.recording_bytes
    assert recording.interval > 3_000 and len(recording.snapshots) < len(unbounded.snapshots)
    recording.go_to(100_000)
    assert recording.machine.icount == 100_000
    assert fingerprint(recording.machine) == fingerprint(straight_to("native", "kernel", 100_000))


@pytest.mark.parametrize(("technique", "program"),
                         [(t, "kernel") for t in ("native", "trap-emulate", "binary-translation",
                                                  "hardware-assist")] + [("paravirt", "kernel_pv")])
def test_snapshots_taken_between_single_steps_are_exact(technique: str, program: str) -> None:
    """Single steps pause where a monitor may be half way (a queued step, an STI
    shadow, a translator between cache and guest): snapshots taken there restore too."""
    straight, settings = build(technique, program)
    straight.run(settings.max_insns)
    expected = fingerprint(straight)
    machine, _ = build(technique, program)
    recording = Recording(machine, interval=97, seconds=None)
    for _ in range(2_500):
        machine.advance(machine.ticks + 1)
        recording.note()
    assert len(recording.snapshots) > 20
    for target in (2_400, 1_234, 101, 777):
        recording.go_to(target)
        assert machine.icount == target
    machine.run(settings.max_insns)
    assert fingerprint(machine) == expected


def test_a_restore_leaves_program_wide_objects_alone() -> None:
    """Enum members are shared by every machine: a restore must never write into one
    (a translated slot's How once was, turning every STEP into a CALLOUT)."""
    from vizvm.monitors.bt_translate import After, How

    before = {m: (m.name, m.value) for m in (*How, *After)}
    recording, _ = recorded("binary-translation", "nano_pgfault")
    for target in (0, 9_000, 3):
        recording.go_to(target)
    assert {m: (m.name, m.value) for m in (*How, *After)} == before
