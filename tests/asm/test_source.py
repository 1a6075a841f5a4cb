"""The front end of the vizvm dialect: what it reads, refuses and rewrites.

No assembler is needed here: these are the checks made before either back
end sees the source. Byte-level results are in test_assembler.py.
"""

from __future__ import annotations

import pytest

from vizvm.asm.source import (
    AsmError,
    number_value,
    parse,
    split_statements,
    strip_comments,
    symbol_names,
)


def texts(source: str) -> list[str]:
    return [s.text for s in parse(source).statements]


# --- comments and statements ---------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("nop # a comment", "nop "),
        ("nop /* a comment */ ; hlt", "nop  ; hlt"),
        ('.ascii "# not a comment"', '.ascii "# not a comment"'),
        ('.ascii "/* not a comment */"', '.ascii "/* not a comment */"'),
        ('.ascii "say \\"#\\"" # comment', '.ascii "say \\"#\\"" '),
        (".byte '#', 1 # comment", ".byte '#', 1 "),
        ("# only a comment", ""),
    ],
)
def test_comments_are_removed_outside_literals(source: str, expected: str) -> None:
    assert strip_comments(source) == expected


def test_a_block_comment_keeps_its_newlines_so_lines_stay_numbered() -> None:
    source = "nop\n/* one\ntwo\nthree */ hlt\n"
    assert strip_comments(source).splitlines() == ["nop", "", "", " hlt"]
    assert [s.line for s in parse(source).statements] == [1, 4]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("nop; hlt", ["nop", "hlt"]),
        ("x: nop ;; hlt ;", ["x: nop", "hlt"]),
        ('.ascii "a;b"; nop', ['.ascii "a;b"', "nop"]),
        (".byte ';'; nop", [".byte ';'", "nop"]),
        ("   ", []),
    ],
)
def test_statements_are_split_at_semicolons_outside_literals(
    line: str, expected: list[str]
) -> None:
    assert split_statements(line) == expected


def test_statements_on_one_line_share_its_number() -> None:
    program = parse("nop\n.byte 0xea; .long start; .word 8\nstart: hlt\n")
    assert [(s.line, s.mnemonic) for s in program.statements] == [
        (1, "nop"), (2, ".byte"), (2, ".long"), (2, ".word"), (3, "hlt"),
    ]  # fmt: skip


def test_labels_and_constants_are_recorded_with_their_lines() -> None:
    program = parse(".equ K, 4\nfirst: second: nop\n.set L, K\n")
    assert program.labels == {"first": 2, "second": 2}
    assert program.constants == {"K": 1, "L": 3}


def test_a_constant_computed_from_labels_is_known_as_such() -> None:
    program = parse("a: nop\nb:\n.equ LEN, b - a\n.equ TWICE, LEN * 2\n.equ K, 4\n")
    assert program.label_based == {"LEN", "TWICE"}


@pytest.mark.parametrize(
    ("operands", "expected"),
    [
        ("eax, [table + ecx*4]", ["table"]),
        ("dword ptr [ebx + SIZE], 0x10", ["SIZE"]),
        ('"text", 0', []),
        ("'a', 10, 0xff", []),
        ("xmm0, k1, cr0, st", []),
    ],
)
def test_symbol_names_skips_registers_numbers_and_literals(
    operands: str, expected: list[str]
) -> None:
    assert symbol_names(operands) == expected


@pytest.mark.parametrize(
    ("expression", "value"),
    [("0x10", 16), ("010", 8), ("0b101", 5), ("-1", -1), ("~0", -1), ("0x10000 - 1", 0xFFFF),
     ("1 << 4 | 1", 17), ("K", None), ("eax", None), ("09", None), ("1 << 100000", None),
     ("1 % 0", None), ("", None)],
)  # fmt: skip
def test_number_value_reads_numbers_as_gnu_as_does(expression: str, value: int | None) -> None:
    assert number_value(expression) == value


# --- refusals ---------------------------------------------------------------------------

REFUSED = [
    # (source, line of the error, a fragment of the message)
    ("nop\nmov eax, [nowhere]\n", 2, "undefined symbol `nowhere`"),
    ("jmp nowhere\n", 1, "undefined symbol `nowhere`"),
    ("a: nop\nb: nop\na: hlt\n", 3, "`a` is already defined on line 1"),
    ("mov eax, [ebx+\n", 1, "unfinished"),
    ("add eax,\n", 1, "unfinished"),
    ("mov eax, offset data\ndata: .long 0\n", 1, "lea reg, [label]"),
    ("mov eax, data\ndata: .long 0\n", 1, "`lea reg, [data]`"),
    ("push data\ndata: .long 0\n", 1, "`lea eax, [data]` then `push eax`"),
    (".equ SEL, 0x23\npush SEL\n", 2, "write the number"),
    ("jmp 0x08:next\nnext: nop\n", 1, ".byte 0xea; .long target; .word selector"),
    ("ljmp 0x08, next\nnext: nop\n", 1, ".byte 0xea"),
    ("jmp fword ptr [ebx]\n", 1, "retf"),
    ("jmp short next\nnext: nop\n", 1, "leave out `short`"),
    (".org 0x100\nnop\n", 1, "one flat section"),
    (".section .data\nnop\n", 1, "one flat section"),
    ("nop\n.data\n", 2, "one flat section"),
    ('.incbin "/etc/passwd"\n', 1, "read files from this computer"),
    ('.include "other.asm"\n', 1, "one source file"),
    (".macro twice\nnop\n.endm\n", 1, "not part of the vizvm dialect"),
    (".balignw 4, 0x9090\n", 1, "not part of the vizvm dialect"),
    (".p2align 3\nnop\n", 1, "write `.align N`"),
    (".align 4, 0x90\nnop\n", 1, "write `.align N`"),
    (".align 12\nnop\n", 1, "power of two"),
    ("mov eax, K\n.equ K, 4\n", 1, "`K` is used before its `.equ` on line 2"),
    ("mov eax, [ebx + K]\n.equ K, 4\n", 1, "before its `.equ`"),
    ("mov eax, 'a'\n", 1, "character and string constants"),
    ('mov eax, "ab"\n', 1, "character and string constants"),
    ("int 3\n", 1, "`int3`"),
    ("nop dword ptr [eax]\n", 1, "NOP with an operand"),
    ("lret\n", 1, "write `retf`"),
    ("pushw 5\n", 1, "only one of keystone and GNU as"),
    ("push word 5\n", 1, "without the size"),
    ("K = 5\n", 1, "`.equ K, value`"),
    ("k1: nop\n", 1, "`k1` is a register"),
    (".equ xmm0, 4\n", 1, "`xmm0` is a register"),
    ("mod: nop\n", 1, "`mod` is a keyword"),
    ("nop\n.L1: nop\n", 2, "start a name with a letter"),
    (".equ K, 4\nt: .long 0\nmov eax, [t + K]\n", 3, "only one symbol"),
    (".equ K, 4\nmov eax, [ebx - K]\n", 2, "minus, product"),
    (".equ K, 4\nmov eax, [ebx + K*2]\n", 2, "minus, product"),
    (".equ K, 4\nmov eax, [ebx + K + 4]\n", 2, "plus a number"),
    ("a: nop\nb:\n.equ LEN, b - a\nmov eax, [ebx + LEN]\n", 4, "computed from labels"),
    ("mov eax, [ebx + K2]\n", 1, "`K2` cannot be part of an address"),
    (".equ K, 4\nmov eax, -K\n", 2, "start with `K`"),
    (".equ K, 4\nand eax, ~K\n", 2, "start with `K`"),
    ("frob! eax\n", 1, "unknown instruction"),
    ("mov eax, 10h\n", 1, "write 0x10"),
    ("mov eax, [esp + esp]\n", 1, "esp can only be the base"),
    ("add ax, 0xffffff80\n", 1, "does not fit the 16-bit operand `ax`"),
    ("mov byte ptr [ebx], 0x100\n", 1, "does not fit the 8-bit operand"),
]


@pytest.mark.parametrize(("source", "line", "fragment"), REFUSED)
def test_the_front_end_refuses_with_the_line_and_the_text(
    source: str, line: int, fragment: str
) -> None:
    with pytest.raises(AsmError) as caught:
        parse(source, "guest.asm")
    error = caught.value
    assert (error.filename, error.line) == ("guest.asm", line)
    assert fragment in error.message
    offending = source.splitlines()[line - 1].strip()
    assert str(error).startswith(f"guest.asm:{line}: ")
    assert str(error).endswith(offending)


@pytest.mark.parametrize(
    "source",
    [
        ".equ K, 4\nmov eax, [ebx + K]\n",
        ".equ K, 4\nmov eax, [ebx + ecx*4 + K]\n",
        "t: .long 0\nmov eax, [t + 4]\n",
        "t: .long 0\nmov eax, [ebx + ecx*4 + t + 8]\n",
        ".equ K, 4\nmov eax, K - 1\n",
        ".equ K, 4\n.equ NEG, -K\nmov eax, NEG\n",
        "a: nop\nb:\n.equ LEN, b - a\nmov ecx, LEN\nmov eax, [LEN]\n",
        "rep movsb\nlock inc dword ptr [ebx]\n",
        "movsd\nxlat\npushf\npopf\niret\n",
        ".byte 'a', '\\n', ';', '#'\n",
        "loop: dec ecx\njnz loop\n",
        "mov eax, fs:[ebx]\n",
    ],
)
def test_forms_both_assemblers_agree_on_are_accepted(source: str) -> None:
    assert parse(source).has_code


def test_a_source_without_instructions_has_no_code() -> None:
    assert not parse("# nothing\nlabel:\n.equ K, 1\n").has_code


# --- rewrites -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("push cs", [".byte 0x0e"]),
        ("push ds", [".byte 0x1e"]),
        ("push ss", [".byte 0x16"]),
        ("push es", [".byte 0x06"]),
        ("push fs", [".byte 0x0f, 0xa0"]),
        ("pop ds", [".byte 0x1f"]),
        ("pop gs", [".byte 0x0f, 0xa9"]),
        ("here: PUSH CS", ["here: .byte 0x0e"]),
        ("iret", ["iretd"]),
        ("pushf", ["pushfd"]),
        ("popf", ["popfd"]),
        ("movsd", [".byte 0xa5"]),
        ("xlat", ["xlatb"]),
        ("mov ds, ax", ["mov ds, eax"]),
        ("mov ss, bx", ["mov ss, ebx"]),
        (".align 8", [".balign 8, 0"]),
        ("table: .align 16", ["table: .balign 16, 0"]),
        ("rep movsw", ["rep", "movsw"]),
        ("copy: rep movsd", ["copy: rep", ".byte 0xa5"]),
        ("lock inc word ptr [ebx]", ["lock", "inc word ptr [ebx]"]),
        ("push 0xffff", [".byte 0x68", ".long 0xffff"]),
        ("top: push 0x10000 - 0x80", ["top: .byte 0x68", ".long 0xff80"]),
    ],
)
def test_forms_keystone_encodes_otherwise_are_rewritten(source: str, expected: list[str]) -> None:
    assert texts(source) == expected


def test_a_segment_register_store_asks_gnu_as_for_keystones_prefix() -> None:
    (statement,) = parse("save: mov word ptr [ebx], ds").statements
    assert statement.text == "save: mov word ptr [ebx], ds"
    assert statement.gnu_text == "save: data16 mov word ptr [ebx], ds"


@pytest.mark.parametrize(
    ("source", "marked"),
    [("lgdt [gdtr]", True), ("lidt [ebx]", True), ("sgdt [ebx]", True), ("sidt [ebx+4]", True),
     ("lldt ax", False), ("ltr ax", False)],
)  # fmt: skip
def test_the_descriptor_table_instructions_are_marked_for_the_prefix_fix(
    source: str, marked: bool
) -> None:
    statement = parse(f"{source}\ngdtr: .long 0\n").statements[0]
    assert statement.fix_table_prefix is marked
