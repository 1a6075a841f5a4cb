"""Paravirtualization: a ported kernel asks the monitor; an unmodified one gets nowhere."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest
from conftest import build, machine, run, serial
from pv_scaffold import HC, hypercall, pv_kernel

from vizvm import guests
from vizvm.cli import main
from vizvm.machine.exits import ExitKind
from vizvm.monitors.pv_hypercalls import BY_NAME, MAX_CONSOLE_WRITE, TABLE
from vizvm.session import program
from vizvm.trace.events import Kind

PRICES = {"instruction": 1, "hypercall": 795, "emulate": 216, "trap": 1814, "reflect": 155}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "paravirt.md"


def events(m, kind: Kind) -> list:
    return [e for e in m.log.events if e.kind == kind]


def hexlines(m) -> list[int]:
    return [int(line, 16) for line in serial(m).split()]


# the port --------------------------------------------------------------------------
@pytest.mark.parametrize("original", sorted(guests.PARAVIRT_PORTS))
def test_a_port_prints_what_the_original_prints_on_native(original: str) -> None:
    port = program.paravirt_port(original)  # the committed image, as `compare` finds it
    assert port is not None and port.builtin
    native = run(program.load(original).image, "native")
    pv = run(port.image, "paravirt")
    assert native.exit.kind == pv.exit.kind == ExitKind.POWEROFF, pv.exit.message
    assert pv.exit.code == native.exit.code
    assert bytes(pv.serial.output) == bytes(native.serial.output)
    assert b"timer interrupts arrived: yes" in bytes(pv.serial.output)


def test_the_port_ends_with_the_checksum_and_the_lines_of_the_original() -> None:
    native = run(guests.image("kernel"), "native")
    pv = run(guests.image("kernel_pv"), "paravirt")
    assert (native.exit.code, pv.exit.code) == (125, 125)
    assert serial(pv) == serial(native) and serial(pv).count("user: round done") == 24


def test_every_change_of_the_port_is_marked() -> None:
    original = guests.source("kernel").splitlines()
    port = guests.source("kernel_pv").splitlines()
    hunks = "\n".join(difflib.unified_diff(original, port, lineterm="")).split("\n@@")[1:]
    assert hunks
    for hunk in hunks:
        changed = [line for line in hunk.splitlines()[1:] if line[:1] in "+-"]
        if any(line[1:].split("#")[0].strip() for line in changed):  # code, not only comments
            assert any(line[0] == "+" and "PV" in line for line in changed), hunk


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


def test_a_multicall_is_one_trap_with_an_emulate_per_entry_and_results_written_back() -> None:
    m = run(_batched(), "paravirt")
    (call,) = [e for e in events(m, Kind.HYPERCALL)
               if e.data["name"] not in ("set_gdt", "set_trap_table", "stack_switch",
                                         "console_write", "poweroff")]
    assert call.data["name"] == "multicall" and call.data["args"]["count"] == len(CALLS)
    batched = [e for e in events(m, Kind.EMULATE) if e.data.get("batched")]
    assert [(e.data["index"], e.data["name"]) for e in batched] == [
        (i, name) for i, (name, _args) in enumerate(CALLS)]
    assert all(e.icount == call.icount for e in batched)  # no guest instruction between
    assert [e.data["result"] for e in batched] == [0, 6, 1, 0]
    calls = m.memory.read(call.data["args"]["calls"], 32 * len(CALLS))
    written = [int.from_bytes(calls[32 * i + 4 : 32 * i + 8], "little") for i in range(4)]
    assert written == [0, 6, 1, 0]


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


def test_a_kernel_that_leaves_ring_1_by_itself_cannot_lend_ring_3_its_hypercalls() -> None:
    source = pv_kernel(
        "    mov ecx, UDATA\n    mov ds, ecx\n    mov es, ecx\n    push 0x23\n"
        "    push 0x80000\n    push 0x202\n    push 0x1b\n    lea eax, [user]\n"
        "    push eax\n    iretd",
        traps={13: ("gp", 4)},
        code=f"user:\n    mov ebx, 42\n    mov eax, {HC['poweroff']}\n    int 0x82\n"
             f"gp:\n    mov eax, [esp]\n    call puthex\n    mov al, 13\n    jmp exit_with")
    m = run(source, "paravirt")
    assert m.exit.code == 13, m.exit.message  # #GP in the guest, not a poweroff with 42
    assert hexlines(m) == [0x82 * 8 + 2]
    (found,) = [e for e in events(m, Kind.RING) if "by itself" in e.detail]
    assert (found.data["from"], found.data["to"]) == (1, 3)
    calls = [e.data for e in events(m, Kind.HYPERCALL)]
    assert {"number": HC["poweroff"], "name": "poweroff", "args": {"code": 13}} in calls
    assert not [c for c in calls if c["args"] == {"code": 42}]


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


HELD = pv_kernel(
    f"""
    mov ebx, 200
    mov ecx, 0x20
    mov eax, {HC['set_timer']}
    int 0x82
    call spin
    mov ebx, 1
    mov eax, {HC['set_interrupt_flag']}
    int 0x82
    mov eax, [ticks]
    call puthex
    mov al, 0
    jmp exit_with
""",
    traps={0x20: ("timer", 4)},
    code="timer:\n    inc dword ptr [ticks]\n    jmp hyp_iret",
    data="ticks: .long 0",
)


def test_a_held_interrupt_is_delivered_before_the_next_instruction() -> None:
    m = run(HELD, "paravirt")
    assert hexlines(m) == [1], m.exit.message  # many timer edges while held, one event
    (held,) = [e for e in events(m, Kind.TRAP) if "holds" in e.detail]
    (interrupt,) = events(m, Kind.INTERRUPT)
    flag = [e for e in events(m, Kind.HYPERCALL) if e.data["name"] == "set_interrupt_flag"]
    assert held.icount < flag[0].icount == interrupt.icount


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
@pytest.mark.parametrize(("guest", "mnemonic", "instead"), [
    ("hello", "out", "The hypercall console_write replaces it"),
    ("kernel", "lgdt", "The hypercall set_gdt replaces it"),
    ("holes", "lgdt", "The hypercall set_gdt replaces it"),
    ("nop\nmov eax, cr0", "mov", "paging is not modelled"),
    ("nop\nmov cr3, eax", "mov", "paging is not modelled"),
    ("nop\nmov dr7, eax", "mov", "debug registers are not modelled"),
    ("nop\ncli", "cli", "The hypercall set_interrupt_flag replaces it"),
    ("nop\nhlt", "hlt", "The hypercall yield replaces it"),
    ("nop\nmov al, 0x34\nout 0x43, al", "out", "The hypercall set_timer replaces it"),
    ("nop\nin al, 0x60", "in", "no device at port 0x0060"),
    ("nop\nwrmsr", "wrmsr", "This monitor offers no hypercall for it."),
    ("nop\nlidt [0x500]", "lidt", "The hypercall set_trap_table replaces it"),
    ("nop\nltr ax", "ltr", "The hypercall stack_switch replaces it"),
])
def test_an_unmodified_guest_stops_at_its_first_privileged_instruction(
        guest: str, mnemonic: str, instead: str) -> None:
    image = guests.image(guest) if guest in guests.BUILTIN else build(guest)
    m = run(image, "paravirt")
    assert m.exit.kind == ExitKind.ERROR
    address = m.exit.address
    insn = m.instruction_at(address)
    assert insn.mnemonic == mnemonic
    message = m.exit.message
    what = f"{mnemonic.upper()} {insn.op_str}".strip()
    assert message.startswith(what) and f"at {address:#010x} is a privileged" in message
    assert "paravirtual monitor does not emulate privileged instructions" in message
    assert "int 0x82" in message and instead in message and not serial(m)
    assert "0X" not in message  # only the mnemonic is upper case
    (trap,) = m.log.events  # the trap that ended the run, and nothing after it
    assert (trap.kind, trap.address, trap.data["instruction"]) == (Kind.TRAP, address,
                                                                    insn.text)


def test_the_original_kernel_under_paravirt_on_the_command_line(capsys) -> None:
    status = main(["run", "kernel", "--technique", "paravirt", "--json"])
    out, err = capsys.readouterr()
    assert status == 0 and "Traceback" not in out + err
    doc = json.loads(out)
    assert (doc["exit"], doc["events"], doc["serial"]) == ("error", {"trap": 1}, "")
    assert doc["message"].startswith("LGDT [0x") and "set_gdt replaces it" in doc["message"]
    status = main(["run", "hello", "--technique", "paravirt"])
    text = capsys.readouterr().out
    assert status == 0 and "hello under paravirt: error" in text
    assert "OUT dx, al (port 0x03f8) at 0x" in text and "console_write replaces it" in text


# bad hypercalls: a clear message, never a traceback ----------------------------------
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
bad_entry:
    .long 1, 0, okmsg, 3, 0, 0, 0, 0
    .long 2, 0, ring0_gdt, 2, 0, 0, 0, 0
okmsg: .ascii "ok\\n"
"""


@pytest.mark.parametrize(("body", "expected"), [
    ("    mov eax, 99\n    int 0x82", ["number 99", "does not exist", "console_write"]),
    ("    xor eax, eax\n    int 0x82", ["number 0", "does not exist"]),
    (hypercall("set_gdt", "ring0_gdt", 2), ["set_gdt", "GDT entry 1", "grants ring 0"]),
    (hypercall("set_gdt", "tss_gdt", 2), ["set_gdt", "system descriptor"]),
    (hypercall("set_gdt", "gdt", 0), ["set_gdt", "0 entries"]),
    (hypercall("console_write", 0x02000000, 4), ["console_write", "0x02000000", "past guest RAM"]),
    (hypercall("console_write", 0xFFC00000, 4), ["console_write", "past guest RAM"]),
    (hypercall("console_write", 0x00FFFFF0, 0x100), ["console_write", "past guest RAM"]),
    (hypercall("set_trap_table", "ring0_traps"), ["set_trap_table", "asks for ring 0"]),
    (hypercall("set_trap_table", 0x01000000), ["set_trap_table", "past guest RAM"]),
    (hypercall("stack_switch", 0x23, 0x80000), ["stack_switch", "ring-1 selector"]),
    (hypercall("set_timer", 70000, 0x20), ["set_timer", "70000"]),
    (hypercall("set_timer", 1000, 0x0D), ["set_timer", "exceptions"]),
    (hypercall("multicall", "nested", 1), ["multicall", "entry 0", "cannot be batched"]),
    (hypercall("multicall", "iret_in_batch", 1), ["multicall", "iret cannot be batched"]),
    (hypercall("multicall", "unknown_op", 1), ["multicall", "entry 0", "77", "does not exist"]),
    (hypercall("multicall", "nested", 1000), ["multicall", "at most"]),
    (hypercall("multicall", "bad_entry", 2), ["multicall", "entry 1, set_gdt(", "grants ring 0"]),
    (hypercall("console_write", "okmsg", MAX_CONSOLE_WRITE + 1),
     ["console_write", f"at most {MAX_CONSOLE_WRITE} per call"]),
    ("    push 0x202\n    push 0x08\n    push 0x1000\n    push eax\n" + hypercall("iret"),
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
    documented = re.findall(r"^\| \d+ \| `\w+\(.*$", DOCS.read_text(encoding="utf-8"),
                            re.MULTILINE)
    assert documented == [call.row() for call in TABLE]
