"""Decoding guest bytes with Capstone, for monitors and for listings."""

from __future__ import annotations

import pytest
from capstone import x86_const

from vizvm.asm.disasm import MAX_INSN, decode, decode_detail, disassemble


@pytest.mark.parametrize(
    ("code", "text", "size"),
    [
        ("fa", "cli", 1),
        ("0f0115e0001000", "lgdt [0x1000e0]", 7),
        ("cd80", "int 0x80", 2),
        ("668cd8", "mov ax, ds", 3),
        ("f3a4", "rep movsb byte ptr es:[edi], byte ptr [esi]", 2),
        ("8b448b08", "mov eax, dword ptr [ebx + ecx*4 + 8]", 4),
    ],
)
def test_decode_gives_the_first_instruction(code: str, text: str, size: int) -> None:
    insn = decode(bytes.fromhex(code) + b"\x90" * 8, 0x100000)
    assert (insn.text, insn.size, insn.address) == (text, size, 0x100000)
    assert insn.raw == bytes.fromhex(code)


def test_an_instruction_text_without_operands_has_no_trailing_space() -> None:
    assert decode(b"\xf4", 0).text == "hlt"


@pytest.mark.parametrize("code", ["", "0f", "0f0115", "ff"])
def test_undecodable_bytes_are_one_byte_of_bad(code: str) -> None:
    insn = decode(bytes.fromhex(code), 0x2000)
    assert (insn.mnemonic, insn.address, insn.size) == ("(bad)", 0x2000, len(code) and 1)


def test_a_relative_branch_is_shown_with_its_target_address() -> None:
    assert decode(b"\xeb\xfe", 0x100000).text == "jmp 0x100000"


def test_decode_detail_exposes_operands_for_emulation() -> None:
    insn = decode_detail(bytes.fromhex("0f22d8"), 0x100000)  # mov cr3, eax
    assert insn is not None
    target, value = insn.operands
    assert (target.type, value.type) == (x86_const.X86_OP_REG, x86_const.X86_OP_REG)
    assert insn.reg_name(target.reg) == "cr3"
    assert insn.reg_name(value.reg) == "eax"


def test_decode_detail_of_bad_bytes_is_none() -> None:
    assert decode_detail(b"\x0f", 0) is None


def test_disassemble_lists_the_run_in_order() -> None:
    code = bytes.fromhex("b801000000" "40" "cd80" "f4")
    listing = disassemble(code, 0x100000)
    assert [(i.address, i.text) for i in listing] == [
        (0x100000, "mov eax, 1"),
        (0x100005, "inc eax"),
        (0x100006, "int 0x80"),
        (0x100008, "hlt"),
    ]


def test_disassemble_stops_after_count() -> None:
    assert [i.text for i in disassemble(b"\x90\x90\xf4", 0, count=2)] == ["nop", "nop"]


def test_disassemble_steps_over_bad_bytes_one_at_a_time() -> None:
    listing = disassemble(b"\xf4\x0f", 0x10)
    assert [(i.address, i.mnemonic, i.size) for i in listing] == [
        (0x10, "hlt", 1),
        (0x11, "(bad)", 1),
    ]


@pytest.mark.parametrize(("prefixes", "size"), [(4, MAX_INSN), (5, 1)])
def test_an_instruction_longer_than_fifteen_bytes_is_bad(prefixes: int, size: int) -> None:
    store = bytes.fromhex("26" * prefixes + "c784887856341278563412")  # es: mov [...], imm
    (insn, *_) = disassemble(store, 0)
    assert insn.size == size
    assert (insn.mnemonic == "(bad)") is (size == 1)
