"""Where two runs part, and what a run reports."""

from __future__ import annotations

import pytest
from conftest import build

from vizvm.session import compare, runner


@pytest.mark.parametrize(
    ("native", "other", "line"),
    [
        (b"a\nb\nc\n", b"a\nB\nc\n", 2),
        (b"a\nb\n", b"a\nb\nextra\n", 3),
        (b"one", b"two", 1),
    ],
)
def test_serial_parting_names_the_first_different_line(native: bytes, other: bytes,
                                                       line: int) -> None:
    parting = compare.serial_parting(native, other)
    assert parting is not None and parting.line == line


def test_identical_output_does_not_part() -> None:
    assert compare.serial_parting(b"same\n", b"same\n") is None


def test_memory_parting_names_the_first_different_address() -> None:
    parting = compare.memory_parting(bytes(64), bytes(40) + b"\x01" + bytes(23))
    assert parting is not None and parting.address == 40


def test_a_guest_whose_memory_alone_differs_is_not_equivalent() -> None:
    # POPF cannot clear IF deprivileged: the guest records what PUSHF saw in memory
    image = build("cli\npushfd\npop eax\nmov [0x500], eax\nmov al, 0\nout 0xf4, al\nhlt")
    outcomes, _ = compare.compare(image, runner.Settings(max_insns=10_000))
    trap = outcomes[1]
    assert trap.summary.serial == outcomes[0].summary.serial
    assert not trap.equivalent
    assert trap.parting.what == "memory" and trap.parting.address == 0x501


def test_overhead_is_simulated_cycles_over_natives() -> None:
    outcomes, _ = compare.compare(build("cli\nsti\ncli\nmov al, 0\nout 0xf4, al\nhlt"),
                               runner.Settings(max_insns=1000), ["native", "trap-emulate"])
    native, trap = outcomes
    assert native.overhead == 1.0
    assert trap.overhead == trap.summary.simulated_cycles / native.summary.simulated_cycles
    assert trap.overhead > 1  # three trapped instructions, each a round trip
    assert trap.summary.events["trap"] == 4  # and the OUT


def test_summary_prices_events_with_the_chosen_profile() -> None:
    image = build("cli\nmov al, 0\nout 0xf4, al\nhlt")
    old, new = (runner.run(image, runner.Settings("trap-emulate", 1000, profile=p))[0]
                for p in ("p4-2006", "modern"))
    assert old.cycles_by_kind["trap"] != new.cycles_by_kind["trap"] or old.profile != new.profile
    assert old.simulated_cycles == old.guest_instructions * 1 + sum(old.cycles_by_kind.values())


def test_paravirt_runs_the_port_and_is_judged_on_what_a_user_sees() -> None:
    from vizvm import guests

    port = compare.Port("kernel_pv", guests.image("kernel_pv"))
    outcomes, skipped = compare.compare(guests.image("kernel"), runner.Settings(),
                                        ["native", "paravirt"], name="kernel", port=port)
    native, pv = outcomes
    assert not skipped
    assert pv.program == "kernel_pv" and pv.judged_on == ("serial", "exit")
    assert pv.summary.memory_sha256 != native.summary.memory_sha256  # a different program
    assert pv.equivalent and pv.summary.serial == native.summary.serial
    assert pv.summary.events["hypercall"] > 0


def test_paravirt_is_skipped_with_a_reason_when_there_is_no_port() -> None:
    image = build("mov al, 0\nout 0xf4, al\nhlt")
    outcomes, skipped = compare.compare(image, runner.Settings(max_insns=1000))
    assert "paravirt" not in [o.summary.technique for o in outcomes]
    assert [s.technique for s in skipped] == ["paravirt"]
    assert "int 0x82" in skipped[0].reason
