"""Both back ends, byte for byte: keystone and GNU as must agree on the dialect.

Every test that assembles runs once per back end; a back end this machine
lacks is skipped with the reason (keystone has wheels for x86-64 only, GNU
as and ld come from the PATH).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import run, serial

from vizvm.asm.assembler import DEFAULT_ORIGIN, assemble, available_backends
from vizvm.asm.source import AsmError
from vizvm.guests import BUILTIN, image, source

AVAILABLE = available_backends()
BACKENDS = ["keystone", "gnu-as"]
MISSING = {
    "keystone": "keystone-engine is not installed (it has wheels for x86-64 only)",
    "gnu-as": "GNU as, ld and objcopy for i386 are not on the PATH",
}


def need(backend: str) -> None:
    if backend not in AVAILABLE:
        pytest.skip(MISSING[backend])


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    need(request.param)
    return request.param


def build(text: str, backend: str, **kw: object) -> bytes:
    return assemble(text, filename="guest.asm", backend=backend, **kw)  # type: ignore[arg-type]


# --- the built-in guests ---------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_a_builtin_guest_assembles_to_its_committed_image(name: str, backend: str) -> None:
    """Both back ends give the committed bytes, so the two agree with each other."""
    assert build(source(name), backend) == image(name)


# --- errors ------------------------------------------------------------------------------


ERRORS = [
    # (source, line, a fragment of the message)
    ("nop\nfrobnicate eax\n", 2, "instruction"),
    ("start: nop\nmov eax, ebx, ecx  # a comment\njmp start\n", 2, ""),
    ("nop\nmov eax, [nowhere]\n", 2, "undefined symbol `nowhere`"),
    ("x: nop\nx: nop\n", 2, "already defined on line 1"),
    ("mov eax, [ebx+\n", 1, "unfinished"),
    ("mov eax, offset x\nx: nop\n", 1, "OFFSET"),
    ("mov eax, x\nx: .long 0\n", 1, "bare operand"),
    ("push x\nx: nop\n", 1, "push eax"),
    (".equ K, 5\npush K\n", 2, "write the number"),
    ("jmp 0x08:x\nx: nop\n", 1, "far jump"),
    (".org 0x200\nnop\n", 1, "one flat section"),
    ("nop\n.section .data\n", 2, "one flat section"),
    ("mov eax, K\n.equ K, 1\n", 1, "before its `.equ`"),
    ("mov al, 'a'\n", 1, "character and string constants"),
]


@pytest.mark.parametrize(("text", "line", "fragment"), ERRORS)
def test_an_error_names_the_file_the_line_and_the_text(
    text: str, line: int, fragment: str, backend: str
) -> None:
    with pytest.raises(AsmError) as caught:
        build(text, backend)
    error = caught.value
    assert (error.filename, error.line) == ("guest.asm", line)
    assert fragment in error.message
    offending = text.splitlines()[line - 1].strip()
    assert str(error).startswith(f"guest.asm:{line}: ")
    assert offending in str(error)


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# comments only\n/* and more */\n", "x:\n.equ K, 1\n"]
)
def test_a_source_with_nothing_to_assemble_is_an_error(text: str, backend: str) -> None:
    with pytest.raises(AsmError, match=r"^guest\.asm: the source has no instructions or data"):
        build(text, backend)


def test_an_unknown_back_end_is_an_error() -> None:
    with pytest.raises(AsmError, match="unknown assembler back end 'nasm'"):
        assemble("nop\n", backend="nasm")


def test_without_binutils_the_gnu_back_end_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    assert "gnu-as" not in available_backends()
    with pytest.raises(AsmError, match="GNU binutils"):
        assemble("nop\n", backend="gnu-as")


@pytest.mark.parametrize("prefix", ["i686-elf-", "x86_64-elf-"])
def test_cross_prefixed_binutils_are_found(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    need("gnu-as")
    real = shutil.which

    def which(name: str) -> str | None:  # only the cross tools exist
        return real(name.removeprefix(prefix)) if name.startswith(prefix) else None

    monkeypatch.setattr(shutil, "which", which)
    assert "gnu-as" in available_backends()
    assert assemble("nop\nhlt\n", backend="gnu-as") == b"\x90\xf4"


# --- what the front end rewrites, in bytes --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("push es", "06"), ("push cs", "0e"), ("push ss", "16"), ("push ds", "1e"),
        ("push fs", "0fa0"), ("push gs", "0fa8"),
        ("pop es", "07"), ("pop ss", "17"), ("pop ds", "1f"), ("pop fs", "0fa1"),
        ("pop gs", "0fa9"),
        ("iret", "cf"), ("iretd", "cf"), ("pushf", "9c"), ("popf", "9d"),
        ("movsd", "a5"), ("xlat", "d7"),
        ("mov ds, ax", "8ed8"), ("mov ss, dx", "8ed2"),
        ("mov word ptr [ebx], ds", "668c1b"),
        ("rep movsw", "f366a5"), ("rep movsd", "f3a5"),
        ("lock inc word ptr [ebx]", "f066ff03"),
        ("lock inc dword ptr fs:[ebx]", "f064ff03"),
        ("push 0xffff", "68ffff0000"), ("push 0xff80", "6880ff0000"),
        ("push 0xff7f", "687fff0000"), ("push -128", "6a80"), ("push 0x7f", "6a7f"),
        (".byte 1\n.align 4\n.byte 2", "0100000002"),
        (".byte 1\n.align 8\n.byte 2", "010000000000000002"),
        ("lgdt [0x1000]", "0f01150010000090"),
        ("lidt [0x1000]", "0f011d0010000090"),
        ("sgdt [0x1000]", "0f01050010000090"),
        ("sidt [0x1000]", "0f010d0010000090"),
        ("lgdt [eax]", "0f011090"),
        ("sidt [ebx + 4]", "0f014b0490"),
    ],
)  # fmt: skip
def test_a_rewritten_form_gives_the_32_bit_encoding(text: str, expected: str, backend: str) -> None:
    assert build(text, backend).hex() == expected


def test_the_nop_after_a_table_instruction_keeps_labels_in_step(backend: str) -> None:
    code = build("lgdt [gdtr]\nhlt\ngdtr: .word 7\n", backend)
    assert code == bytes.fromhex("0f0115") + (DEFAULT_ORIGIN + 9).to_bytes(4, "little") + bytes(
        [0x90, 0xF4, 7, 0]
    )


# --- comments, statements, strings -------------------------------------------------------------

COMMENTED = """\
# a line comment
/* a block comment
   over lines */ nop
mov al, 1 ; mov bl, 2   # two statements and a comment
.ascii "a;b#c"          /* a string with ; and # */
.byte ';', '#'; hlt
"""


def test_comments_semicolons_and_strings(backend: str) -> None:
    assert build(COMMENTED, backend) == bytes.fromhex("90 b001 b302") + b"a;b#c;#" + b"\xf4"


def test_a_label_is_an_address_at_the_origin(backend: str) -> None:
    code = build("lea eax, [here]\nhere: nop\n", backend, origin=0x0020_0000)
    assert code == bytes.fromhex("8d05") + (0x0020_0006).to_bytes(4, "little") + b"\x90"


# --- the two back ends agree ----------------------------------------------------------------

BROAD = """\
.equ COM1, 0x3f8
.equ K, 0x10
.equ BIG, 0x12345
.equ NEG, -K
start:
    mov eax, ebx
    mov eax, 5
    mov eax, K
    mov eax, BIG
    mov eax, K * 2 + 1
    mov eax, NEG
    mov ax, 5
    mov al, K
    mov dx, COM1
    mov eax, [var]
    mov [var], eax
    mov al, [bvar]
    mov eax, [0x1000]
    mov eax, [ebx]
    mov eax, [ebx + 4]
    mov eax, [ebx + K]
    mov eax, [ebx - 4]
    mov eax, [ebx - 129]
    mov eax, [ebx + ecx*4]
    mov eax, [ebx + ecx*4 + 8]
    mov eax, [table + ecx*4]
    mov eax, [ecx*4 + K]
    mov eax, [table + 4]
    mov eax, [ebx + var + 4]
    mov eax, [esp]
    mov eax, [esp + 8]
    mov eax, [ebp]
    mov eax, [ebp - 8]
    mov eax, fs:[ebx]
    mov dword ptr [ebx], 5
    mov word ptr [ebx], 5
    mov byte ptr [ebx], 5
    mov dword ptr [var], K
    mov eax, cr0
    mov cr3, eax
    mov eax, dr7
    mov ds, eax
    mov eax, cs
    mov ax, ss
    lea esi, [message]
    lea ebx, [ebx + ecx*8]
    movzx eax, byte ptr [esi]
    movzx eax, ax
    movsx eax, word ptr [esi]
    add eax, 1
    add eax, 0x100
    add eax, [var]
    add [var], eax
    add ax, 1
    sub esp, 8
    adc eax, 1
    sbb eax, 1
    and eax, 0xfffffdff
    or eax, K << 16
    xor edi, eax
    cmp eax, 256
    cmp al, 0x3a
    cmp dword ptr [var], K
    test al, 0x20
    test ecx, 0x200
    inc eax
    dec ecx
    inc dword ptr [var]
    neg eax
    not eax
    mul ebx
    imul eax, ebx
    imul eax, ebx, 10
    imul edi, edi, 0x01000193
    div ecx
    idiv ecx
    shl eax, 1
    shl eax, 4
    shr eax, cl
    sar eax, 1
    rol eax, 4
    rcl eax, 1
    shld eax, ebx, 4
    bt eax, 3
    bts dword ptr [ebx], 1
    bsf eax, ebx
    bswap eax
    xchg eax, ebx
    xchg ecx, edx
    cmpxchg [ebx], ecx
    lock xadd [ebx], eax
    cdq
    cwde
    setz al
    cmovne eax, ebx
    push eax
    push 5
    push 0x80
    push -1
    push 0xffff
    push 0xff7f
    push dword ptr [var]
    pop eax
    pop dword ptr [var]
    pushfd
    popfd
    pushad
    popad
    push cs
    pop ds
    call near_target
    jmp near_target
    jz start
    jne far_target
    jecxz near_target
    loop near_target
    call eax
    call dword ptr [var]
    jmp dword ptr [table + ecx*4]
near_target:
    rep movsb
    rep stosd
    repne scasb
    cld
    lodsb
    stosd
    in al, dx
    in al, 0x60
    out dx, al
    out 0x20, al
    in eax, dx
    lgdt [gdtr]
    lidt [gdtr]
    sgdt [gdtr]
    sidt [gdtr]
    lldt ax
    ltr ax
    str eax
    smsw eax
    sldt eax
    lar eax, ebx
    lsl eax, ebx
    verr ax
    clts
    invlpg [eax]
    wbinvd
    rdmsr
    wrmsr
    rdtsc
    cpuid
    int 0x80
    int3
    into
    cli
    sti
    hlt
    enter 8, 0
    leave
    ret
    ret 4
    retf
    iretd
    .space 200
far_target:
    jmp start
    .byte 0xea; .long start; .word 0x08
.align 4
var:     .long 0
bvar:    .byte 0
.align 4
table:   .long start, near_target, far_target, far_target - start
gdtr:    .word 23
         .long table
message: .asciz "broad\\n"
         .fill 3, 1, 0xaa
         .quad 0x123456789abcdef0
"""


def test_keystone_and_gnu_as_agree_on_a_broad_source() -> None:
    need("keystone")
    need("gnu-as")
    keystone = assemble(BROAD, backend="keystone")
    assert assemble(BROAD, backend="gnu-as") == keystone
    assert len(keystone) > 600  # the whole source came through, jumps relaxed alike


# --- the guide's example ---------------------------------------------------------------------


def guide_example() -> str:
    guide = (Path(__file__).parents[2] / "docs" / "assembly.md").read_text()
    return guide.split("```asm\n", 1)[1].split("```", 1)[0]


def test_the_guides_example_guest_prints_its_line_and_powers_off(backend: str) -> None:
    code = build(guide_example(), backend)
    machine = run(code)
    assert serial(machine) == "Hello from my guest!\n"
    assert (machine.exit.kind.value, machine.exit.code) == ("poweroff", 0)


def test_a_keystone_crash_takes_down_only_its_worker() -> None:
    from vizvm.asm.keystone_worker import WORKER, KeystoneCrashed

    if "keystone" not in available_backends():
        pytest.skip("keystone is not installed")
    with pytest.raises(KeystoneCrashed):
        WORKER.request({"op": "abort"})
    image, error = WORKER.assemble("nop", 0)
    assert (image, error) == (b"\x90", None)


def test_a_statement_that_crashes_keystone_is_located() -> None:
    from vizvm.asm.assembler import KeystoneBackend
    from vizvm.asm.lexicon import Program, Statement

    if "keystone" not in available_backends():
        pytest.skip("keystone is not installed")
    program = Program("crash.asm", source_lines=["nop", ".balignw 4, 0x9090"])
    program.statements += [Statement(1, "nop", "nop", ""),
                           Statement(2, ".balignw 4, 0x9090", ".balignw", "4, 0x9090")]
    with pytest.raises(AsmError) as info:
        KeystoneBackend().assemble(program, 0x100000)
    assert info.value.line == 2 and "crashes" in info.value.message
