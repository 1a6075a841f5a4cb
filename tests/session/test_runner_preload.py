"""Settings.preload puts a lesson's parameters in RAM before the guest starts."""

import struct

import pytest

from vizvm.asm.assembler import assemble
from vizvm.session.runner import Settings, run

READER = assemble("mov eax, [0x500]\nmov ebx, [0x504]\nmov al, 0\nout 0xf4, al\nhlt")


@pytest.mark.parametrize("technique", ["native", "trap-emulate", "binary-translation"])
def test_the_guest_reads_what_was_preloaded(technique: str) -> None:
    words = struct.pack("<II", 0x12345678, 7)
    summary, _machine = run(READER, Settings(technique=technique, preload=((0x500, words),)))
    assert summary.registers["ebx"] == 7
    assert summary.registers["eax"] & 0xFFFFFF00 == 0x12345600


def test_without_preload_the_words_are_zero() -> None:
    summary, _machine = run(READER, Settings())
    assert summary.registers["ebx"] == 0
