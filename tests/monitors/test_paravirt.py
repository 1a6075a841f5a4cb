"""Paravirtualization: a ported kernel asks the monitor; an unmodified one gets nowhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import build, machine, run, serial

from vizvm import guests
from vizvm.machine.exits import ExitKind
from vizvm.monitors.pv_hypercalls import BY_NAME, TABLE
from vizvm.trace.events import Kind

HC = {name: call.number for name, call in BY_NAME.items()}
PRICES = {"instruction": 1, "hypercall": 795, "emulate": 216, "trap": 1814, "reflect": 1409}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "paravirt.md"

# A PV test kernel: its GDT (ring-1 kernel, ring-3 user), its trap table and its
# ring-1 stack handed to the monitor, then the test's body. `puthex` prints EAX
# through console_write, `exit_with` powers off with AL, `hyp_iret` returns from
# a handler, `enter_user` goes to ring 3 at EAX with EFLAGS EBX.
PRELUDE = f"""
.equ KCODE, 0x09
.equ KDATA, 0x11
.equ UDATA, 0x23
.equ KSTACK, 0x90000
start:
    lea ebx, [gdt]
    mov ecx, 5
    mov eax, {HC['set_gdt']}
    int 0x82
    .byte 0xea; .long reload; .word KCODE
reload:
    mov eax, KDATA
    mov ds, eax
    mov es, eax
    mov ss, eax
    mov esp, KSTACK
    lea ebx, [traps]
    mov eax, {HC['set_trap_table']}
    int 0x82
    mov ebx, KDATA
    mov ecx, KSTACK
    mov eax, {HC['stack_switch']}
    int 0x82
"""

LIBRARY = f"""
puthex:
    push eax
    push ebx
    push ecx
    push edx
    lea ebx, [hexbuf]
    mov ecx, 8
puthex_digit:
    rol eax, 4
    mov edx, eax
    and dl, 0x0f
    add dl, 0x30
    cmp dl, 0x3a
    jb puthex_store
    add dl, 7
puthex_store:
    mov [ebx], dl
    inc ebx
    dec ecx
    jnz puthex_digit
    mov byte ptr [ebx], 10
    lea ebx, [hexbuf]
    mov ecx, 9
    mov eax, {HC['console_write']}
    int 0x82
    pop edx
    pop ecx
    pop ebx
    pop eax
    ret
exit_with:
    movzx ebx, al
    mov eax, {HC['poweroff']}
    int 0x82
hyp_iret:
    push eax
    mov eax, {HC['iret']}
    int 0x82
enter_user:
    mov ecx, UDATA
    mov ds, ecx
    mov es, ecx
    push 0x23
    push 0x80000
    push ebx
    push 0x1b
    push eax
    jmp hyp_iret
spin:
    push ecx
    mov ecx, 3000
spin_again:
    loop spin_again
    pop ecx
    ret
"""

DATA = """
.align 4
gdt:
    .quad 0
    .quad 0x00cfba000000ffff
    .quad 0x00cfb2000000ffff
    .quad 0x00cffa000000ffff
    .quad 0x00cff2000000ffff
hexbuf: .space 12
"""


def pv_kernel(body: str, traps: dict[int, tuple[str, int]] | None = None, code: str = "",
              data: str = "") -> str:
    """A whole PV guest; `traps` maps a vector to (handler label, trap_info flags)."""
    entries = [f"    .byte {v}, {flags}; .word KCODE; .long {label}"
               for v, (label, flags) in (traps or {}).items()]
    table = "\n".join(["traps:", *entries, "    .long 0, 0"])
    return "\n".join([PRELUDE, body, LIBRARY, code, DATA, data, table])


def events(m, kind: Kind) -> list:
    return [e for e in m.log.events if e.kind == kind]


def hexlines(m) -> list[int]:
    return [int(line, 16) for line in serial(m).split()]


# the port --------------------------------------------------------------------------
@pytest.mark.parametrize(("original", "port"), sorted(guests.PARAVIRT_PORTS.items()))
def test_a_port_prints_what_the_original_prints_on_native(original: str, port: str) -> None:
    native = run(guests.image(original), "native")
    pv = run(guests.image(port), "paravirt")
    assert native.exit.kind == pv.exit.kind == ExitKind.POWEROFF, pv.exit.message
    assert pv.exit.code == native.exit.code
    assert bytes(pv.serial.output) == bytes(native.serial.output)
    assert b"timer interrupts arrived: yes" in bytes(pv.serial.output)


def test_the_pv_kernel_never_enters_its_monitor_by_a_privileged_instruction() -> None:
    pv = run(guests.image("kernel_pv"), "paravirt")
    trapped = events(pv, Kind.TRAP)
    assert all("privileged" not in e.detail for e in trapped)
    assert {e.data["vector"] for e in trapped if "vector" in e.data} == {0x80}
    assert {(e.ring, e.guest_ring) for e in events(pv, Kind.HYPERCALL)} == {(1, 1)}


def test_the_port_enters_the_monitor_far_less_often_than_trap_and_emulate() -> None:
    pv = machine(guests.image("kernel_pv"), "paravirt", prices=PRICES)
    pv.run(2_000_000)
    te = machine(guests.image("kernel"), "trap-emulate", prices=PRICES)
    te.run(2_000_000)
    entries = len(events(pv, Kind.HYPERCALL)) + len(events(pv, Kind.TRAP))
    assert entries * 4 < len(events(te, Kind.TRAP))
    assert pv.log.cycles * 2 < te.log.cycles


def test_hypercall_events_carry_names_and_arguments() -> None:
    pv = run(guests.image("kernel_pv"), "paravirt")
    calls = events(pv, Kind.HYPERCALL)
    for event in calls:
        call = BY_NAME[event.data["name"]]
        assert set(event.data["args"]) == set(call.params)
        assert event.detail.startswith(f"hypercall {call.name}(")
        assert event.cost == "hypercall" and event.disasm == "int 0x82"
    boot = calls[0]
    assert boot.data["name"] == "multicall" and boot.data["args"]["count"] == 4
    batched = [e for e in events(pv, Kind.EMULATE) if e.data.get("batched")]
    assert [e.data["name"] for e in batched] == [
        "set_gdt", "set_trap_table", "stack_switch", "set_timer"]
    assert batched[3].data["args"] == {"period": 3000, "vector": 0x20}
    writes = [e.data["args"] for e in calls if e.data["name"] == "console_write"]
    assert sum(w["len"] for w in writes) == len(pv.serial.output)
    first = pv.memory.read(writes[0]["addr"], writes[0]["len"])
    assert first == bytes(pv.serial.output).splitlines(keepends=True)[0]


# the multicall -----------------------------------------------------------------------
CALLS = [("set_interrupt_flag", (1,)), ("console_write", ("msg", 6)),
         ("set_interrupt_flag", (0,)), ("set_timer", (0, 0))]
REPORT = "\n".join(f"    mov eax, [results + {4 * i}]\n    call puthex" for i in range(4))
REPORT += "\n    mov al, 0\n    jmp exit_with"
MESSAGE = 'msg: .ascii "batch\\n"\nresults: .space 16\n'


def _one_by_one() -> str:
    lines = []
    for i, (name, args) in enumerate(CALLS):
        for register, value in zip(("ebx", "ecx"), args, strict=False):
            lines.append(f"    lea {register}, [{value}]" if value == "msg"
                         else f"    mov {register}, {value}")
        lines += [f"    mov eax, {HC[name]}", "    int 0x82", f"    mov [results + {4 * i}], eax"]
    return pv_kernel("\n".join(lines) + "\n" + REPORT, data=MESSAGE)


def _batched() -> str:
    entries = [f"    .long {HC[name]}, 0, {', '.join(map(str, args))}" + ", 0" * (6 - len(args))
               for name, args in CALLS]
    copy = "\n".join(f"    mov eax, [calls + {32 * i + 4}]\n    mov [results + {4 * i}], eax"
                     for i in range(4))
    body = (f"    lea ebx, [calls]\n    mov ecx, 4\n    mov eax, {HC['multicall']}\n"
            f"    int 0x82\n{copy}\n{REPORT}")
    return pv_kernel(body, data=MESSAGE + ".align 4\ncalls:\n" + "\n".join(entries))


def test_a_multicall_does_the_same_work_in_one_trap() -> None:
    runs = {}
    for label, source in (("single", _one_by_one()), ("batched", _batched())):
        m = machine(build(source), "paravirt", prices=PRICES)
        m.run(100_000)
        runs[label] = m
    single, batched = runs["single"], runs["batched"]
    assert serial(single) == serial(batched) == "batch\n00000000\n00000006\n00000001\n00000000\n"

    def work(m) -> list[str]:
        return [e.data["name"] for e in events(m, Kind.EMULATE)]

    assert work(single) == work(batched)
    traps = len(events(single, Kind.HYPERCALL)) - len(events(batched, Kind.HYPERCALL))
    assert traps == len(CALLS) - 1
    assert single.log.cycles - batched.log.cycles == traps * PRICES["hypercall"]


# reflection through the trap table -------------------------------------------------
RING3 = pv_kernel(
    "    lea eax, [user]\n    mov ebx, 0x202\n    jmp enter_user",
    traps={0x80: ("syscall", 7), 0: ("de", 4)},
    code="""
user:
    int 0x80
    xor edx, edx
    xor ecx, ecx
    mov eax, 7
    div ecx
syscall:
    mov eax, [esp + 4]
    call puthex
    mov eax, esp
    call puthex
    mov eax, cs
    and eax, 3
    call puthex
    jmp hyp_iret
de:
    mov eax, [esp + 4]
    call puthex
    mov eax, [esp + 16]
    call puthex
    mov eax, [esp + 12]
    call puthex
    mov al, 0
    jmp exit_with
""")


def test_a_system_call_and_an_exception_from_ring_3_land_in_ring_1_on_the_given_stack() -> None:
    m = run(RING3, "paravirt")
    assert m.exit.code == 0, m.exit.message
    # syscall: caller's CS, the handler's ESP (KSTACK less a five-dword frame), its ring
    # divide error: the faulting CS and SS, and the user's ESP
    assert hexlines(m) == [0x1B, 0x90000 - 20, 1, 0x1B, 0x23, 0x80000]
    reflected = events(m, Kind.EXCEPTION)
    assert [e.data["vector"] for e in reflected] == [0x80, 0]
    assert {e.cost for e in reflected} == {"reflect"}
    inward = [e for e in events(m, Kind.RING) if e.data["to"] == 1]
    assert len(inward) == 2 and all("stack_switch" in e.detail for e in inward)


@pytest.mark.parametrize(("instruction", "error_code"), [
    ("cli", 0), ("hlt", 0), ("out 0x80, al", 0),
    ("int 0x82", 0x82 * 8 + 2),  # hypercalls are for ring 1
    ("int 0x81", 0x81 * 8 + 2),  # a DPL-0 trap table entry
])
def test_a_ring_3_instruction_the_kernel_would_refuse_goes_to_its_gp_handler(
        instruction: str, error_code: int) -> None:
    source = pv_kernel(
        "    lea eax, [user]\n    mov ebx, 0x202\n    jmp enter_user",
        traps={13: ("gp", 4), 0x81: ("gp", 4)},
        code=f"user:\n    {instruction}\ngp:\n    mov eax, [esp]\n    call puthex\n"
             f"    mov eax, [esp + 8]\n    call puthex\n    mov al, 13\n    jmp exit_with")
    m = run(source, "paravirt")
    assert m.exit.code == 13, m.exit.message
    assert hexlines(m) == [error_code, 0x1B]


# the virtual interrupt flag and the timer ------------------------------------------
VIRTUAL_IF = pv_kernel(
    f"""
    mov ebx, 200
    mov ecx, 0x20
    mov eax, {HC['set_timer']}
    int 0x82
    call spin
    mov eax, [ticks]
    call puthex
    mov ebx, 1
    mov eax, {HC['set_interrupt_flag']}
    int 0x82
    call puthex
    call spin
    mov eax, [ticks]
    call puthex
    xor ebx, ebx
    mov eax, {HC['set_interrupt_flag']}
    int 0x82
    call puthex
    mov eax, [ticks]
    mov [before], eax
    call spin
    mov eax, [ticks]
    sub eax, [before]
    call puthex
    mov al, 0
    jmp exit_with
""",
    traps={0x20: ("timer", 4)},
    code="timer:\n    inc dword ptr [ticks]\n    jmp hyp_iret",
    data="ticks: .long 0\nbefore: .long 0",
)


def test_the_virtual_interrupt_flag_gates_timer_interrupts() -> None:
    m = run(VIRTUAL_IF, "paravirt")
    held, old_off, ticks, old_on, while_off = hexlines(m)
    assert (held, old_off, old_on, while_off) == (0, 0, 1, 0)
    assert ticks >= 10  # 3000 instructions at a period of 200
    assert len(events(m, Kind.INTERRUPT)) == ticks
    assert any("holds" in e.detail for e in events(m, Kind.TRAP))


@pytest.mark.parametrize("timer", [True, False])
def test_yield_waits_for_the_next_event(timer: bool) -> None:
    arm = (f"    mov ebx, 500\n    mov ecx, 0x20\n    mov eax, {HC['set_timer']}\n    int 0x82\n"
           if timer else "")
    source = pv_kernel(
        f"{arm}    mov eax, {HC['yield']}\n    int 0x82\n    mov eax, [ticks]\n"
        f"    call puthex\n    mov al, 0\n    jmp exit_with",
        traps={0x20: ("timer", 4)},
        code="timer:\n    inc dword ptr [ticks]\n    jmp hyp_iret",
        data="ticks: .long 0")
    m = run(source, "paravirt")
    assert len(events(m, Kind.HALT)) == 1
    if timer:
        assert m.exit.code == 0 and hexlines(m) == [1] and m.idle > 0
    else:
        assert m.exit.kind == ExitKind.HALT and "no timer" in m.exit.message


# the GDT is the monitor's copy -------------------------------------------------------
GDT_COPY = pv_kernel(f"""
    mov dword ptr [0x201000], 0x1234abcd
    lea ebx, [gdt]
    mov byte ptr [ebx + 0x10 + 4], 0x20     # kernel data base 0x00200000, in RAM only
    mov eax, KDATA
    mov es, eax
    mov eax, es:[0x1000]
    call puthex
    lea ebx, [gdt]
    mov ecx, 5
    mov eax, {HC['set_gdt']}
    int 0x82
    mov eax, KDATA
    mov es, eax
    mov eax, es:[0x1000]
    call puthex
    mov al, 0
    jmp exit_with
""")


def test_the_cpu_uses_the_installed_copy_until_the_guest_calls_set_gdt_again() -> None:
    m = run(GDT_COPY, "paravirt")
    before, after = hexlines(m)
    assert before != 0x1234ABCD and after == 0x1234ABCD


# guests that were not ported ---------------------------------------------------------
@pytest.mark.parametrize(("program", "mnemonic"), [
    ("hello", "out"), ("kernel", "lgdt"), ("holes", "lgdt"),
    ("nop\nmov eax, cr0", "mov"), ("nop\ncli", "cli"), ("nop\nhlt", "hlt"),
    ("nop\nin al, 0x60", "in"), ("nop\nwrmsr", "wrmsr"), ("nop\nlidt [0x500]", "lidt"),
])
def test_an_unmodified_guest_stops_at_its_first_privileged_instruction(
        program: str, mnemonic: str) -> None:
    image = guests.image(program) if program in guests.BUILTIN else build(program)
    m = run(image, "paravirt")
    assert m.exit.kind == ExitKind.ERROR
    address = m.exit.address
    assert m.instruction_at(address).mnemonic == mnemonic
    message = m.exit.message
    assert message.startswith(mnemonic.upper()) and f"{address:#010x}" in message
    assert "paravirtual monitor does not emulate privileged instructions" in message
    assert "int 0x82" in message and not serial(m)


# bad hypercalls: a clear message, never a traceback ----------------------------------
def _call(name: str, *args: int | str) -> str:
    lines = [f"    lea {r}, [{a}]" if isinstance(a, str) else f"    mov {r}, {a}"
             for r, a in zip(("ebx", "ecx", "edx"), args, strict=False)]
    return "\n".join([*lines, f"    mov eax, {HC[name]}", "    int 0x82"])


BAD_TABLES = """
.align 8
ring0_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff
tss_gdt:
    .quad 0
    .quad 0x0000890000000067
ring0_traps:
    .byte 0x20, 4; .word 0x08; .long start
    .long 0, 0
nested:
    .long 10, 0, nested, 1, 0, 0, 0, 0
iret_in_batch:
    .long 8, 0, 0, 0, 0, 0, 0, 0
unknown_op:
    .long 77, 0, 0, 0, 0, 0, 0, 0
"""


@pytest.mark.parametrize(("body", "expected"), [
    ("    mov eax, 99\n    int 0x82", ["number 99", "does not exist", "console_write"]),
    ("    xor eax, eax\n    int 0x82", ["number 0", "does not exist"]),
    (_call("set_gdt", "ring0_gdt", 2), ["set_gdt", "GDT entry 1", "grants ring 0"]),
    (_call("set_gdt", "tss_gdt", 2), ["set_gdt", "system descriptor"]),
    (_call("set_gdt", "gdt", 0), ["set_gdt", "0 entries"]),
    (_call("console_write", 0x02000000, 4), ["console_write", "0x02000000", "past guest RAM"]),
    (_call("console_write", 0xFFC00000, 4), ["console_write", "past guest RAM"]),
    (_call("console_write", 0x00FFFFF0, 0x100), ["console_write", "past guest RAM"]),
    (_call("set_trap_table", "ring0_traps"), ["set_trap_table", "asks for ring 0"]),
    (_call("set_trap_table", 0x01000000), ["set_trap_table", "past guest RAM"]),
    (_call("stack_switch", 0x23, 0x80000), ["stack_switch", "ring-1 selector"]),
    (_call("set_timer", 70000, 0x20), ["set_timer", "70000"]),
    (_call("set_timer", 1000, 0x0D), ["set_timer", "exceptions"]),
    (_call("multicall", "nested", 1), ["multicall", "entry 0", "cannot be batched"]),
    (_call("multicall", "iret_in_batch", 1), ["multicall", "iret cannot be batched"]),
    (_call("multicall", "unknown_op", 1), ["multicall", "entry 0", "77", "does not exist"]),
    (_call("multicall", "nested", 1000), ["multicall", "at most"]),
    ("    push 0x202\n    push 0x08\n    push 0x1000\n    push eax\n" + _call("iret"),
     ["iret", "cannot be returned to", "ring 0"]),
])
def test_a_bad_hypercall_ends_the_run_with_a_clear_message(body: str,
                                                           expected: list[str]) -> None:
    m = run(pv_kernel(body + "\n    mov al, 0\n    jmp exit_with", data=BAD_TABLES), "paravirt")
    assert m.exit.kind == ExitKind.ERROR
    for fragment in expected:
        assert fragment in m.exit.message, m.exit.message


def test_the_installed_tables_are_out_of_the_guests_reach() -> None:
    m = run(pv_kernel("    mov dword ptr [0xFFC00010], 0\n    mov al, 0\n    jmp exit_with"),
            "paravirt")
    assert m.exit.kind == ExitKind.ERROR and "0xffc00010" in m.exit.message


# the documentation ----------------------------------------------------------------------
def test_the_documented_hypercall_table_is_the_monitors() -> None:
    rows = re.findall(r"^\| (\d+) \| `(\w+)\(([^)]*)\)`", DOCS.read_text(encoding="utf-8"),
                      re.MULTILINE)
    documented = {(int(n), name, tuple(p.strip() for p in params.split(",") if p.strip()))
                  for n, name, params in rows}
    assert documented == {(c.number, c.name, c.params) for c in TABLE}
