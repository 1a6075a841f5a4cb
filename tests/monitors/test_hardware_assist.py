"""Hardware assist, a model of VT-x: equivalent to native, and exits as the controls say."""

from __future__ import annotations

import pytest
from conftest import build, machine, serial
from scaffold import kernel
from test_trap_emulate import GDT_REWRITE, LDT_AND_FAR, MIXED, PAGING

from vizvm import guests
from vizvm.monitors import vmx
from vizvm.monitors.vmx import parse_controls

PRESETS = ["first-generation", "modern"]


def _run(image: bytes, controls: vmx.Controls, budget: int = 5_000_000):
    m = machine(image, "hardware-assist", options={"vmx": controls})
    m.run(budget)
    return m


def _exits(m, reason: int | None = None) -> list:
    return [e for e in m.log.events
            if e.kind == "vm-exit" and (reason is None or e.data["reason"] == reason)]


def _native(image: bytes):
    m = machine(image)
    m.run(5_000_000)
    return m


LDT_SOURCE = LDT_AND_FAR.replace(
    "tss_desc:\n    .quad 0\n",
    "tss_desc:\n    .quad 0\nldt_desc:\n    .quad 0\n    .quad 0x00cf9a000000ffff\n")


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("name", ["kernel", "holes", "mixed", "paging", "gdt", "ldt"])
def test_equivalent_to_native(name: str, preset: str) -> None:
    sources = {"mixed": MIXED, "paging": PAGING, "gdt": GDT_REWRITE, "ldt": LDT_SOURCE}
    image = guests.image(name) if name in ("kernel", "holes") else build(sources[name])
    native = _native(image)
    assisted = _run(image, vmx.PRESETS[preset])
    assert bytes(assisted.serial.output) == bytes(native.serial.output)
    assert (assisted.exit.kind, assisted.exit.code) == (native.exit.kind, native.exit.code)
    assert assisted.ram() == native.ram()
    assert assisted.executed == native.executed


EXITING = kernel(
    """
    mov eax, 0
    cpuid                                   # always exits (10)
    mov dx, 0x3f8
    mov al, 0x21
    out dx, al                              # I/O instruction (30)
    mov ecx, 0x174
    rdmsr                                   # RDMSR (31)
    wrmsr                                   # WRMSR (32)
    mov edi, 0x201000                       # identity-map the first 4 MiB
    xor eax, eax
fill_pt:
    mov edx, eax
    shl edx, 12
    or edx, 3
    mov [edi + eax*4], edx
    inc eax
    cmp eax, 1024
    jne fill_pt
    mov dword ptr [0x200000], 0x201003
    mov eax, 0x200000
    mov cr3, eax                            # CR3 load (28)
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    invlpg [0x300000]                       # INVLPG (14)
    mov al, 0x11                            # PIC and PIT: a timer every 500 instructions
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
    mov eax, 500
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov ecx, 2000                           # interrupts come while IF=0 ...
spin:
    loop spin
    sti                                     # ... and are taken when it opens (7)
    hlt                                     # HLT (12)
    cli
    mov eax, [ticks]
    call puthex
    mov al, 0
    jmp exit_with
""",
    handlers={0x20: "timer"},
    code="timer:\n    inc dword ptr [ticks]\n    push eax\n    mov al, 0x20\n    out 0x20, al\n"
         "    pop eax\n    iretd",
    data="ticks: .long 0",
)


def test_each_operation_exits_with_its_intel_reason_and_qualification() -> None:
    m = _run(build(EXITING), vmx.FIRST_GENERATION)
    assert m.exit.code == 0, m.exit
    reasons = {e.data["reason"] for e in _exits(m)}
    assert {0, 1, 7, 10, 12, 14, 28, 30, 31, 32} <= reasons
    out = next(e for e in _exits(m, 30) if e.data["port"] == 0x3F8)
    q = out.data["qualification"]
    assert (q & 7, q >> 3 & 1, q >> 6 & 1, q >> 16) == (0, 0, 0, 0x3F8)  # 1 byte, OUT, DX
    load = next(e for e in _exits(m, 28) if e.disasm.startswith("mov cr3"))
    q = load.data["qualification"]
    assert (q & 0xF, q >> 4 & 3, q >> 8 & 0xF) == (3, 0, 0)  # CR3, MOV to CR, from EAX
    assert _exits(m, 14)[0].data["qualification"] == 0x300000
    assert _exits(m, 0)[0].data["vector"] == 14  # shadow paging: page faults exit


@pytest.mark.parametrize(
    ("change", "reason", "exits_before"),
    [
        ("no-hlt-exiting", 12, True),
        ("no-msr-exiting", 31, True),
        ("no-external-interrupt-exiting", 1, True),
        ("no-interrupt-window-exiting", 7, True),
        ("no-unconditional-io-exiting", 30, True),
        ("ept,no-cr3-load-exiting,no-cr3-store-exiting,no-invlpg-exiting", 28, True),
        ("ept,no-cr3-load-exiting,no-cr3-store-exiting,no-invlpg-exiting", 14, True),
        ("rdtsc-exiting", 16, False),
    ],
)
def test_changing_a_control_changes_the_exits(change: str, reason: int,
                                              exits_before: bool) -> None:
    source = EXITING.replace("    sti ", "    rdtsc\n    sti ")
    image = build(source)
    before = _run(image, vmx.FIRST_GENERATION)
    after = _run(image, parse_controls(change))
    assert bool(_exits(before, reason)) == exits_before
    assert bool(_exits(after, reason)) != exits_before
    assert serial(after) == serial(before)  # the guest cannot tell


def test_an_io_bitmap_picks_the_ports_that_exit() -> None:
    image = build(EXITING)
    m = _run(image, parse_controls("no-unconditional-io-exiting,io-bitmap=0x3f8"))
    assert {e.data["port"] for e in _exits(m, 30)} == {0x3F8}


def test_syscalls_of_the_kernel_guest_do_not_exit() -> None:
    m = _run(guests.image("kernel"), vmx.MODERN)
    assert m.log.counts["exception"] == 50  # int 0x80 through the guest's own IDT
    assert not _exits(m, 0)


@pytest.mark.parametrize(("reason", "name"), [
    (0, "Exception or non-maskable interrupt (NMI)"), (1, "External interrupt"),
    (7, "Interrupt window"), (10, "CPUID"), (12, "HLT"), (14, "INVLPG"),
    (28, "Control-register accesses"), (30, "I/O instruction"), (31, "RDMSR"), (32, "WRMSR"),
    (48, "EPT violation"),
])
def test_reason_numbers_are_the_sdms(reason: int, name: str) -> None:
    # Intel SDM vol. 3C, appendix C, table C-1
    assert vmx.reason_name(reason) == name


@pytest.mark.parametrize("spec", ["bogus", "io-bitmap=zz", "no-cr3-load-exiting"])
def test_bad_controls_are_refused_with_a_reason(spec: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_controls(spec)


def test_io_qualification_says_dx_or_immediate_by_opcode_not_length() -> None:
    """66 EF (OUT DX, AX) names its port in DX; 66 E5 40 (IN AX, 0x40) in an immediate."""
    image = build(kernel("""
    mov dx, 0x80
    out dx, ax
    in ax, 0x40
    mov al, 0
    jmp exit_with
"""))
    m = _run(image, vmx.FIRST_GENERATION)
    assert m.exit.code == 0, m.exit
    by_port = {e.data["port"]: e.data["qualification"] for e in _exits(m, 30)}
    assert (by_port[0x80] >> 6 & 1, by_port[0x80] & 7) == (0, 1)  # DX, 2 bytes
    assert (by_port[0x40] >> 6 & 1, by_port[0x40] & 7) == (1, 1)  # immediate, 2 bytes
