"""Binary translation: the guest kernel runs from a translation cache, holes closed."""

from __future__ import annotations

import pytest
from conftest import build, machine, serial
from scaffold import kernel
from test_trap_emulate import GDT_REWRITE, LDT_AND_FAR, MIXED, PAGING, STI_SHADOW, USER_CLI

from vizvm import guests
from vizvm.machine.exits import ExitKind
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.monitors.bt_translate import How
from vizvm.trace.events import Kind

BT = "binary-translation"
LDT_AND_FAR_WITH_TABLES = LDT_AND_FAR.replace(
    "tss_desc:\n    .quad 0\n",
    "tss_desc:\n    .quad 0\nldt_desc:\n    .quad 0\n    .quad 0x00cf9a000000ffff\n")


def _pair(image: bytes, budget: int = 5_000_000):
    runs = []
    for technique in ("native", BT):
        m = machine(image, technique)
        m.run(budget)
        m.finish()
        runs.append(m)
    return runs


def _same(native, bt) -> None:
    assert bt.exit.kind == native.exit.kind and bt.exit.code == native.exit.code, bt.exit
    assert serial(bt) == serial(native)
    assert bt.ram() == native.ram()
    assert bt.executed == native.executed  # one translated instruction per guest instruction


@pytest.mark.parametrize("name", ["kernel", "holes", "hello"])
def test_the_builtin_guests_run_as_on_bare_hardware(name: str) -> None:
    _same(*_pair(guests.image(name)))


@pytest.mark.parametrize(
    "source",
    [STI_SHADOW, GDT_REWRITE, LDT_AND_FAR_WITH_TABLES, USER_CLI, PAGING, MIXED],
    ids=["sti-shadow", "gdt-rewrite", "ldt-and-far", "user-cli", "paging", "mixed"],
)
def test_guests_that_trip_up_trap_and_emulate_run_as_on_bare_hardware(source: str) -> None:
    _same(*_pair(build(source)))


def test_every_hole_is_closed_where_trap_and_emulate_leaves_it_open() -> None:
    native, bt = _pair(guests.image("holes"))
    trap = machine(guests.image("holes"), "trap-emulate")
    trap.run(5_000_000)
    lines = serial(native).splitlines()
    assert serial(bt).splitlines() == lines
    assert sum(a != b for a, b in zip(serial(trap).splitlines(), lines, strict=True)) == 10
    translated = {e.disasm.split()[0] for e in bt.log.events if e.kind is Kind.CALLOUT}
    assert {"pushfd", "popfd", "sgdt", "sidt", "str", "smsw", "lar", "lsl"} <= translated
    inline = [e for e in bt.log.events if e.kind is Kind.EMULATE and e.data.get("inline")]
    assert {e.disasm for e in inline} >= {"cli", "sti"}
    assert all(e.cost == "bt_inline" for e in inline)


# Every form of the sensitive instructions, results printed: registers, memory, ZF.
SENSITIVE_FORMS = kernel(
    """
    sti
    pushfd
    pop eax
    call puthex                 # IF set, IOPL 0
    .byte 0x66; pushfd          # pushf (16 bits)
    pop ax
    movzx eax, ax
    call puthex
    push 0x3002                 # IOPL 3, IF clear
    popfd
    pushfd
    pop eax
    call puthex
    push 0x202
    popfd
    sgdt [scratch]
    mov eax, [scratch + 2]
    call puthex
    movzx eax, word ptr [scratch]
    call puthex
    push 0
    push 0
    sidt [esp + 2]
    pop eax
    pop eax
    call puthex
    mov eax, 0xffffffff
    sldt eax
    call puthex
    mov eax, 0xffffffff
    str eax
    call puthex
    mov word ptr [scratch], 0xffff
    str word ptr [scratch]
    movzx eax, word ptr [scratch]
    call puthex
    mov eax, 0xffffffff
    smsw eax
    call puthex
    mov eax, cr0
    or eax, 8                   # the guest's own TS
    mov cr0, eax
    smsw word ptr [scratch]
    movzx eax, word ptr [scratch]
    call puthex
    clts
    mov eax, 0xffffffff
    mov eax, cs
    call puthex
    mov eax, 0xffffffff
    .byte 0x66; mov ax, ss
    call puthex
    mov word ptr [scratch], 0xffff
    mov word ptr [scratch], cs
    movzx eax, word ptr [scratch]
    call puthex
    push cs
    pop eax
    call puthex
    push ss
    pop eax
    call puthex
    lea esi, [selectors]
next_selector:
    movzx ecx, word ptr [esi]
    cmp ecx, 0xffff
    je selectors_done
    mov eax, 0x5a5a5a5a
    lar eax, ecx
    pushfd
    call puthex
    mov eax, 0x5a5a5a5a
    lsl eax, ecx
    pushfd
    call puthex
    verr cx
    pushfd
    verw cx
    pushfd
    pop eax
    pop ebx
    pop ecx
    pop edx
    shl eax, 3
    shl ebx, 2
    shl ecx, 1
    and eax, 0x200
    and ebx, 0x100
    and ecx, 0x80
    and edx, 0x40
    or eax, ebx
    or eax, ecx
    or eax, edx
    call puthex                 # the four ZFs
    add esi, 2
    jmp next_selector
selectors_done:
    lar eax, word ptr [selectors + 2]
    call puthex
    mov al, 0
    jmp exit_with
""",
    data="""
.align 4
scratch: .space 8
selectors: .word 0x08, 0x10, 0x1b, 0x23, 0x28, 0x0b, 0x13, 0, 0x4000, 0x0c, 0xffff
""",
)


def test_every_form_of_the_sensitive_instructions_gives_the_hardwares_answer() -> None:
    native, bt = _pair(build(SENSITIVE_FORMS))
    assert native.exit.code == 0, serial(native)
    assert len(serial(native).split()) > 40
    _same(native, bt)
    trap = machine(build(SENSITIVE_FORMS), "trap-emulate")
    trap.run(1_000_000)
    assert serial(trap) != serial(native)  # the same code, holes open


SELF_MODIFYING = """
    mov esp, 0x90000
    mov ecx, 3
again:
    mov byte ptr [patch + 1], 0x41          # the next instruction, in the same block
patch:
    mov al, 0x30
    call putc
    inc byte ptr [counter + 1]              # an instruction translated on the last round
counter:
    mov al, 0x30
    call putc
    dec ecx
    jnz again
    lea esi, [template]
    mov edi, 0x200000
    mov ecx, 3
    rep movsb                               # new code, then a call to it
    call dword ptr [function]
    call putc
    mov byte ptr [0x200001], 0x5a           # change it once it is translated
    call dword ptr [function]
    call putc
    mov al, 0
    out 0xf4, al
    hlt
putc:
    push edx
    mov dx, 0x3f8
    out dx, al
    pop edx
    ret
template:
    mov al, 0x59
    ret
function: .long 0x200000
"""


def test_self_modifying_code_behaves_as_on_bare_hardware() -> None:
    native, bt = _pair(build(SELF_MODIFYING))
    assert serial(native) == "A1A2A3YZ"
    assert serial(bt) == serial(native)
    assert bt.ram() == native.ram() and bt.exit.code == native.exit.code == 0
    dropped = [e for e in bt.log.events if e.kind is Kind.INVALIDATE]
    assert len(dropped) >= 7  # 3 rounds x 2 patches, and the copied function
    assert {e.data["written"] for e in dropped} >= {LOAD_ADDRESS + 0x12, 0x200001}
    # the emulated CPU counts a store into its own translated block twice; the translator not
    assert native.executed - bt.executed == 6


def test_translation_events_show_both_sides_and_the_cache_can_be_listed() -> None:
    m = machine(guests.image("kernel"), BT)
    m.run(5_000_000)
    translated = [e for e in m.log.events if e.kind is Kind.TRANSLATE]
    first = translated[0]
    assert first.address == LOAD_ADDRESS and first.cost == "bt_translate"
    assert first.cycles == len(first.data["guest_code"]) * m.log.price("bt_translate")
    assert first.data["translated"][0]["how"] == "callout"  # LGDT
    assert "lgdt" in first.data["guest_code"][0]["text"]
    assert {e.kind for e in m.log.events} >= {Kind.CALLOUT, Kind.CACHE_HIT, Kind.CACHE_MISS}
    listing = m.supervisor.listing()
    assert listing and all(b.valid for b in listing)
    hows = {row.how for block in listing for row in block.translated}
    assert {"copy", "jump", "callout", "out of line"} <= hows
    for block in listing:  # one translated instruction per guest instruction, then stubs
        rows = [r for r in block.translated if r.how != How.STUB]
        assert len(rows) == len(block.guest_code)


def test_user_code_runs_untranslated() -> None:
    m = machine(guests.image("kernel"), BT)
    m.run(5_000_000)
    user_events = [e for e in m.log.events if e.kind is Kind.TRAP and e.guest_ring == 3]
    assert len(user_events) > 50  # system calls and timer ticks in ring 3, run directly
    translated = {row.address for block in m.supervisor.listing() for row in block.guest_code}
    assert not translated & {e.address for e in user_events}


def test_a_store_to_a_page_with_code_but_not_to_code_invalidates_nothing() -> None:
    source = kernel("""
    mov ecx, 100
write_data:
    inc dword ptr [counter]     # data beside translated code
    loop write_data
    mov eax, [counter]
    call puthex
    mov al, 0
    jmp exit_with
""", data="counter: .long 0")
    native, bt = _pair(build(source))
    _same(native, bt)
    assert not [e for e in bt.log.events if e.kind is Kind.INVALIDATE]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ("jmp 0x2000000", ExitKind.ERROR),            # beyond RAM
        ("mov eax, [0x1000]\nmov dword ptr [0], 0\nlidt [0]\nint3", ExitKind.TRIPLE_FAULT),
        ("spin:\n    jmp spin", ExitKind.BUDGET),
    ],
    ids=["unmapped", "triple-fault", "loop"],
)
def test_guests_that_misbehave_end_as_on_bare_hardware(body: str, kind: ExitKind) -> None:
    native, bt = _pair(build(body), budget=100_000)
    assert native.exit.kind is bt.exit.kind is kind
    assert bt.exit.message


def test_user_mode_is_not_translated_so_its_holes_stay_open() -> None:
    """SIDT from ring 3 shows the monitor's IDT: Red Pill's test for VMware (2004)."""
    source = kernel("lea eax, [user]\nmov ebx, 0x202\njmp enter_user", handlers={0x80: "done"},
                    user_gates=(0x80,), code="""
user:
    sidt [sidt_out]
    int 0x80
done:
    mov eax, [sidt_out + 2]
    call puthex
    mov al, 0
    jmp exit_with
""", data="sidt_out: .space 8")
    native, bt = _pair(build(source))
    assert serial(native).strip() != serial(bt).strip() == "FFC12000"


# Paging on, the kernel's code page mapped a second time; the patch goes through the alias.
PATCH_THROUGH_AN_ALIAS = kernel(
    """
    mov edi, 0x201000
    xor eax, eax
identity:
    mov edx, eax
    shl edx, 12
    or edx, 3
    mov [edi + eax*4], edx
    inc eax
    cmp eax, 1024
    jne identity
    mov dword ptr [0x201000 + 0x3ff * 4], 0x100003   # 0x003ff000 -> the code page
    mov dword ptr [0x200000], 0x201003
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov ecx, 3
again:
    call patched
    call puthex
    lea ebx, [patched + 1]
    and ebx, 0xfff
    inc dword ptr [0x3ff000 + ebx]     # the immediate of patched's MOV, through the alias
    loop again
    mov al, 0
    jmp exit_with
""",
    code=".align 16\npatched:\n    mov eax, 0x100\n    ret",
)


def test_a_patch_through_another_mapping_of_the_code_is_seen() -> None:
    native, bt = _pair(build(PATCH_THROUGH_AN_ALIAS))
    assert serial(native).split() == ["00000100", "00000101", "00000102"]
    _same(native, bt)
    assert [e for e in bt.log.events if e.kind is Kind.INVALIDATE and "write" in e.detail]
