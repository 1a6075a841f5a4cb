"""The machine's contract (BRIEF.md): entry state, exits, budget, timer, halt."""

from __future__ import annotations

import pytest
from conftest import build, machine, run, serial
from scaffold import kernel

from vizvm.machine.exits import ExitKind
from vizvm.machine.layout import LOAD_ADDRESS, MiB
from vizvm.machine.loader import LoadError
from vizvm.machine.machine import Machine


def test_entry_state_is_the_contract() -> None:
    m = Machine(b"\xf4")
    regs = m.cpu.registers()
    assert regs["eip"] == LOAD_ADDRESS
    assert regs["esp"] == 16 * MiB
    assert m.cpu.cpl == 0
    assert not regs["eflags"] & 0x200  # interrupts disabled
    assert regs["cr0"] & 1  # protected mode
    assert regs["cr0"] & (1 << 31) == 0  # no paging
    assert regs["eax"] == 0x2BADB002  # as a Multiboot loader leaves it
    assert m.read_u32(regs["ebx"] + 8) == (16 * MiB - MiB) // 1024  # mem_upper in KiB
    state = m.cpu.begin()
    for seg in ("cs", "ds", "es", "ss", "fs", "gs"):
        _sel, base, limit, _flags = state.segment(seg)
        assert (base, limit) == (0, 0xFFFFFFFF)


def test_empty_image_is_refused() -> None:
    with pytest.raises(LoadError, match="empty"):
        Machine(b"")


def test_image_larger_than_ram_is_refused_with_sizes() -> None:
    with pytest.raises(LoadError, match="only 15,728,640 fit"):
        Machine(bytes(16 * MiB))


def test_poweroff_reports_the_written_value() -> None:
    m = run("mov eax, 0x2a\nout 0xf4, al\nhlt")
    assert (m.exit.kind, m.exit.code) == (ExitKind.POWEROFF, 0x2A)


def test_a_loop_stops_at_the_budget() -> None:
    m = run("spin: jmp spin", budget=50_000)
    assert m.exit.kind == ExitKind.BUDGET
    assert m.executed == 50_000
    assert "50,000" in m.exit.message


def test_hlt_with_interrupts_off_ends_the_run() -> None:
    m = run("nop\nhlt")
    assert m.exit.kind == ExitKind.HALT
    assert "interrupts disabled" in m.exit.message


def test_hlt_with_nothing_armed_ends_the_run() -> None:
    m = run("sti\nhlt")
    assert m.exit.kind == ExitKind.HALT
    assert "no timer" in m.exit.message


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("mov eax, 0x2000000\njmp eax", ("fetched code from", "0x02000000")),
        ("mov eax, [0x3000000]", ("read from", "0x03000000")),
        ("mov dword ptr [0x3000000], 1", ("wrote to", "0x03000000")),
    ],
)
def test_reaching_outside_ram_is_reported(source: str, words: tuple[str, str]) -> None:
    m = run(source)
    assert m.exit.kind == ExitKind.ERROR
    for word in words:
        assert word in m.exit.message


TRIPLE = "lidt [idtr]\nint3\nidtr: .word 0\n.long 0"


@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_a_fault_with_no_handler_is_a_triple_fault(technique: str) -> None:
    m = run(TRIPLE, technique)
    assert m.exit.kind == ExitKind.TRIPLE_FAULT
    assert "#DF" in m.exit.message and "#GP" in m.exit.message


TIMER = kernel(
    """
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 4
    out 0x21, al
    mov al, 1
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0x34
    out 0x43, al
    mov eax, 1000
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti
wait:
    hlt
    cmp dword ptr [ticks], 10
    jb wait
    mov eax, [ticks]
    call puthex
    mov al, 0
    jmp exit_with
""",
    handlers={0x20: "timer"},
    code="""
timer:
    push eax
    inc dword ptr [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd
""",
    data="ticks: .long 0",
)


@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_timer_interrupts_arrive_every_period_of_instructions(technique: str) -> None:
    m = run(TIMER, technique)
    assert m.exit.code == 0
    assert serial(m).strip() == "0000000A"
    times = [e.icount + 0 for e in m.log.events if e.kind == "interrupt"]
    assert len(times) == 10
    # the guest halts between ticks: halted time fills the rest of each period
    assert m.idle > 0
    assert (m.executed + m.idle) >= 10 * 1000


def test_interrupts_land_on_the_same_instruction_under_both_techniques() -> None:
    image = build(TIMER)
    runs = [machine(image, t) for t in ("native", "trap-emulate")]
    for m in runs:
        m.run(1_000_000)
    native, monitor = ([(e.icount, e.data["vector"]) for e in m.log.events
                        if e.kind == "interrupt"] for m in runs)
    assert native == monitor


def test_the_same_run_twice_is_the_same() -> None:
    image = build(TIMER)
    a, b = machine(image), machine(image)
    a.run(1_000_000)
    b.run(1_000_000)
    assert a.ram() == b.ram()
    assert [(e.kind, e.icount) for e in a.log.events] == [(e.kind, e.icount) for e in b.log.events]


def test_breakpoints_pause_before_the_instruction_and_resume() -> None:
    m = machine(build("mov eax, 1\nmark: mov eax, 2\nmov eax, 3\nout 0xf4, al\nhlt"))
    m.set_breakpoints({LOAD_ADDRESS + 5})
    assert m.advance(1000) is None
    assert m.at_breakpoint and m.cpu.eip == LOAD_ADDRESS + 5 and m.cpu.read("eax") == 1
    m.run(1000)
    assert m.exit.code == 3


def test_rdtsc_counts_simulated_cycles_not_host_time() -> None:
    source = "rdtsc\nmov ebx, eax\nnop\nnop\nrdtsc\nsub eax, ebx\nout 0xf4, al\nhlt"
    codes = {run(source).exit.code for _ in range(3)}
    assert codes == {4}  # four instructions between the two reads, one cycle each


@pytest.mark.parametrize(
    ("source", "check"),
    [
        # read-modify-write: done twice if the stop abandoned it after its store
        ("add dword ptr [0x2000], 1", lambda m: m.read_u32(0x2000) == 1),
        ("push 7", lambda m: m.cpu.read("esp") == 0x2004 - 4),
    ],
)
def test_a_stop_from_a_memory_hook_completes_the_instruction_once(source, check) -> None:
    from unicorn import UC_HOOK_MEM_WRITE

    m = machine(build(f"mov esp, 0x2004\n{source}\nnop\nnop\nmov al, 0\nout 0xf4, al\nhlt"))
    stops = []

    def on_write(uc, access, address, size, value, data):
        stops.append(m.icount)
        m.stop_after_store()

    m.uc.hook_add(UC_HOOK_MEM_WRITE, on_write, None, 0x2000, 0x2003)
    m.run(100)
    assert m.exit.kind is ExitKind.POWEROFF
    assert check(m)
    assert m.executed == 6 and len(stops) == 1


WINDOW_ON_A_NEW_PAGE = kernel(
    """
    mov edi, 0x201000
    xor eax, eax
fill:
    mov edx, eax
    shl edx, 12
    or edx, 3
    mov [edi + eax*4], edx
    inc eax
    cmp eax, 1024
    jne fill
    mov dword ptr [0x200000], 0x201003
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 4
    out 0x21, al
    mov al, 1
    out 0x21, al
    mov al, 0xfe
    out 0x21, al
    mov al, 0x34
    out 0x43, al
    mov eax, 200
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov ecx, 300
spin:
    loop spin
    sti
    mov ebx, [0x350000]         # the window's one instruction: a page not yet shadowed
    mov eax, [ticks]
    cli
    call puthex
    mov al, 0
    jmp exit_with
""",
    handlers={0x20: "timer"},
    code="timer:\n    inc dword ptr [ticks]\n    push eax\n    mov al, 0x20\n"
         "    out 0x20, al\n    pop eax\n    iretd",
    data="ticks: .long 0",
)


def test_a_hidden_fault_inside_a_single_step_is_no_mystery_stop() -> None:
    """An interrupt window steps one instruction; here it first takes a hidden page fault."""
    image = build(WINDOW_ON_A_NEW_PAGE)
    results = []
    for technique in ("native", "trap-emulate", "binary-translation"):
        m = machine(image, technique)
        m.run(1_000_000)
        results.append((m.exit.kind, serial(m), m.executed))
    assert results[0] == (ExitKind.POWEROFF, "00000001\n", results[0][2])
    assert results[1] == results[0] and results[2] == results[0]
