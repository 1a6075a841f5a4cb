"""Interrupt and exception delivery through the guest's IDT, as the SDM describes it.

Every case runs natively and under trap-and-emulate: the monitor reflects
through the same rules, so the guest must see the same thing.
"""

from __future__ import annotations

import pytest
from conftest import TECHNIQUES, run, serial
from scaffold import kernel

PRINT_FRAME = """
    mov ecx, {words}
    mov esi, esp
print_frame:
    mov eax, [esi]
    call puthex
    add esi, 4
    loop print_frame
    mov al, {code}
    jmp exit_with
"""


def _lines(m) -> list[int]:
    return [int(x, 16) for x in serial(m).split()]


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_int_from_ring3_to_a_kernel_only_gate_is_gp_with_idt_error_code(technique: str) -> None:
    m = run(kernel("lea eax, [user]\nmov ebx, 0x202\njmp enter_user",
                   handlers={13: "gp", 0x30: "never"},
                   code="user: int 0x30\ngp:" + PRINT_FRAME.format(words=1, code=13)
                   + "\nnever: mov al, 0x30\njmp exit_with"), technique)
    assert m.exit.code == 13
    assert _lines(m) == [0x30 * 8 + 2]  # IDT bit set, EXT clear


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_not_present_gate_is_np(technique: str) -> None:
    body = """
    lea ebx, [idt]
    and byte ptr [ebx + 0x31 * 8 + 5], 0x7f
    int 0x31
"""
    m = run(kernel(body, handlers={11: "np", 0x31: "never"},
                   code="np:" + PRINT_FRAME.format(words=1, code=11)
                   + "\nnever: mov al, 0x31\njmp exit_with"), technique)
    assert m.exit.code == 11
    assert _lines(m) == [0x31 * 8 + 2]


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_system_call_from_ring3_switches_to_the_tss_stack(technique: str) -> None:
    m = run(kernel("lea eax, [user]\nmov ebx, 0x202\njmp enter_user",
                   handlers={0x80: "syscall"}, user_gates=(0x80,),
                   code="user: int 0x80\nsyscall:\n    mov eax, esp\n    call puthex\n"
                   + PRINT_FRAME.format(words=5, code=0x80)), technique)
    esp, eip, cs, eflags, user_esp, ss = _lines(m)
    assert esp == 0x90000 - 20  # ESP0 from the TSS, five dwords pushed
    assert (cs, ss, user_esp) == (0x1B, 0x23, 0x80000)
    assert eflags & 0x200  # the user ran with interrupts on
    assert eip > 0x100000


@pytest.mark.parametrize("technique", TECHNIQUES)
@pytest.mark.parametrize(("gate", "if_in_handler"), [(0x8E00, 0), (0x8F00, 1)])
def test_interrupt_gates_clear_if_and_trap_gates_do_not(
    technique: str, gate: int, if_in_handler: int
) -> None:
    # The handler's IF is read from the frame of a nested INT, not with PUSHF:
    # under trap-and-emulate PUSHF shows the real IF, which is the hole itself.
    body = f"""
    mov ecx, 0x40
    lea eax, [handler]
    mov edx, {gate}
    call set_gate
    sti
    int 0x40
"""
    code = ("handler:\n    int 0x41\n"
            "probe:\n    mov eax, [esp + 8]\n    shr eax, 9\n    and eax, 1\n"
            "    call puthex\n    mov al, 0\n    jmp exit_with")
    m = run(kernel(body, handlers={0x41: "probe"}, code=code), technique)
    assert _lines(m) == [if_in_handler]


@pytest.mark.parametrize("technique", TECHNIQUES)
@pytest.mark.parametrize(("fault", "vector", "words"), [
    ("mov eax, 0x1238\nmov ds, eax", 13, 4),  # error code, eip, cs, eflags
    ("ud2", 6, 3),  # no error code
])
def test_error_codes_are_pushed_only_for_those_vectors(
    technique: str, fault: str, vector: int, words: int
) -> None:
    m = run(kernel(fault, handlers={vector: "h"},
                   code="h:" + PRINT_FRAME.format(words=words, code=vector)), technique)
    frame = _lines(m)
    assert m.exit.code == vector
    cs_index = 2 if words == 4 else 1
    assert frame[cs_index] == 0x08
    if vector == 13:
        assert frame[0] == 0x1238


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_fault_while_delivering_a_fault_is_a_double_fault(technique: str) -> None:
    body = """
    lea ebx, [idt]
    and byte ptr [ebx + 13 * 8 + 5], 0x7f      # the #GP gate not present
    mov eax, 0x1238
    mov ds, eax                                # #GP, whose delivery raises #NP
"""
    m = run(kernel(body, handlers={8: "df", 11: "np"},
                   code="df:" + PRINT_FRAME.format(words=1, code=8)
                   + "\nnp: mov al, 11\njmp exit_with"), technique)
    assert m.exit.code == 8
    assert _lines(m) == [0]  # #DF pushes error code 0
