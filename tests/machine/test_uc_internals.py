"""The probes that find Unicorn's hidden state, and what the machine does with it."""

from __future__ import annotations

from unicorn import x86_const as x86

from vizvm.machine import uc_internals
from vizvm.machine.machine import Machine


def test_the_probes_find_every_field() -> None:
    layout = uc_internals.layout()
    assert layout.context_header > 0
    assert len({layout.old_exception, layout.error_code, layout.emu_counter}) == 3


def test_the_counter_reads_instructions_begun_in_a_run() -> None:
    uc = uc_internals._probe_engine()
    uc.mem_write(0x2000, b"\x40\xeb\xfd")  # inc eax ; jmp back
    counter = uc_internals.counter_reader(uc)
    uc.emu_start(0x2000, 0, count=101)
    assert counter.value == 102  # the hook of the instruction that did not run counts too
    assert uc.reg_read(x86.UC_X86_REG_EAX) == 51


def test_loading_a_segment_cache_sets_the_cpl() -> None:
    m = Machine(b"\xf4")
    state = m.cpu.begin()
    _sel, base, limit, flags = state.segment("ss")
    ring3 = (flags & ~(3 << 13)) | (3 << 13)
    state.load_segment("ss", 0x23, base, limit, ring3)
    state.load_segment("cs", 0x1B, base, limit, (state.segment("cs")[3] | (3 << 13)))
    m.cpu.commit()
    assert m.cpu.cpl == 3
    assert m.cpu.begin().cpl == 3
