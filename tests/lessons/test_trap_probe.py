import pytest

from vizvm.asm import assembler
from vizvm.asm.source import AsmError
from vizvm.lessons.trap_probe import ProbeError, traps

POPFD = "mov eax, 0x200; push eax; popfd"


@pytest.mark.parametrize(("instruction", "technique", "trapped"), [
    ("cli", "native", False),
    ("cli", "trap-emulate", True),
    ("cli", "binary-translation", False),  # rewritten inline: the monitor is not entered
    ("cli", "hardware-assist", False),  # first-generation controls do not exit on CLI
    (POPFD, "native", False),
    (POPFD, "trap-emulate", False),  # the hole: POPFD at ring 1 drops IF silently
    (POPFD, "binary-translation", True),  # a callout: the translator knows the hole
    (POPFD, "hardware-assist", False),
    ("popfd", "trap-emulate", False),  # nothing set up: pops the kernel stack's zeros
    ("hlt", "hardware-assist", True),  # HLT exiting is a first-generation control
    ("in al, 0x71", "trap-emulate", True),
    ("mov ax, 0x10; mov ds, ax", "trap-emulate", False),  # needs the probe kernel's GDT
    ("mov eax, cr0", "trap-emulate", True),
    ("sgdt [0x800]", "trap-emulate", False),
    ("nop", "binary-translation", False),
])
def test_whether_it_traps_comes_from_the_run(instruction: str, technique: str,
                                             trapped: bool) -> None:
    answer = traps(instruction, technique)
    assert answer.trapped is trapped, answer.evidence
    assert answer.evidence.startswith(f"{technique}: ")


def test_the_evidence_says_what_the_monitor_saw() -> None:
    assert "#GP" in traps("cli", "trap-emulate").evidence
    assert "ran directly: no monitor event" in traps(POPFD, "trap-emulate").evidence
    assert "callout" in traps(POPFD, "binary-translation").evidence
    assert "vm-exit" in traps("hlt", "hardware-assist").evidence


def test_an_exception_delivered_to_the_guest_is_not_a_trap() -> None:
    answer = traps("int3", "hardware-assist")
    assert not answer.trapped and "guest's own handler" in answer.evidence


def test_broken_assembly_is_named() -> None:
    with pytest.raises(AsmError, match="<instruction>"):
        traps("mvo eax, 1", "trap-emulate")


def test_nothing_to_probe() -> None:
    with pytest.raises(ProbeError, match="no instruction"):
        traps(" ; ", "native")


def test_without_an_assembler_the_message_says_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(assembler, "BACKENDS", {})
    with pytest.raises(AsmError, match="no assembler is available"):
        traps("sti", "native")


def test_an_instruction_that_ends_the_run_still_counts_as_reached() -> None:
    answer = traps("mov al, 3; out 0xf4, al", "native")
    assert not answer.trapped and "ran directly" in answer.evidence


def test_a_setup_that_never_gets_to_the_instruction_is_said() -> None:
    with pytest.raises(ProbeError, match="the probe kernel never reached 'cli' under native"):
        traps("mov eax, [0xfffffff0]; cli", "native")
