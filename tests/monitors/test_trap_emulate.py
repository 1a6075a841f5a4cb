"""Trap-and-emulate: equivalent where x86 lets it be, visibly not where it cannot."""

from __future__ import annotations

import pytest
from conftest import build, machine, run, serial
from scaffold import kernel

from vizvm import guests
from vizvm.machine.exits import ExitKind

RINGS = [1, 3]


def _pair(image: bytes, ring: int = 1, budget: int = 5_000_000):
    native = machine(image)
    native.run(budget)
    monitor = machine(image, "trap-emulate", ring)
    monitor.run(budget)
    native.finish()
    monitor.finish()
    return native, monitor


@pytest.mark.parametrize("ring", RINGS)
def test_the_kernel_guest_is_equivalent_to_native(ring: int) -> None:
    native, monitor = _pair(guests.image("kernel"), ring)
    assert monitor.exit.kind == native.exit.kind == ExitKind.POWEROFF
    assert monitor.exit.code == native.exit.code
    assert bytes(monitor.serial.output) == bytes(native.serial.output)
    assert b"timer interrupts arrived: yes" in bytes(native.serial.output)
    assert monitor.ram() == native.ram()
    assert monitor.executed == native.executed
    when = [[(e.icount, e.data.get("vector")) for e in m.log.events if e.kind == "interrupt"]
            for m in (native, monitor)]
    assert when[0] == when[1] and len(when[0]) > 20


def test_port_io_of_the_guest_kernel_traps_and_is_reported() -> None:
    _native, monitor = _pair(guests.image("kernel"))
    io_traps = [e for e in monitor.log.events if e.kind == "trap" and "port" in e.data]
    assert io_traps, "no trap was reported for the kernel's port I/O"
    first = io_traps[0]
    assert (first.ring, first.guest_ring) == (1, 0)
    assert first.disasm.startswith(("out", "in"))
    assert first.insn_bytes and first.address >= 0x100000
    assert first.cost == "trap"


def test_the_holes_guest_answers_every_question_differently() -> None:
    native, monitor = _pair(guests.image("holes"))
    a = bytes(native.serial.output).decode().splitlines()
    b = bytes(monitor.serial.output).decode().splitlines()
    assert a[0] == b[0] and a[-1] == b[-1] == "done"
    answers = list(zip(a[1:-1], b[1:-1], strict=True))
    assert len(answers) == 10
    assert all(x != y for x, y in answers), [x for x, y in answers if x == y]
    native_values = [line.rpartition(": ")[2] for line in a[1:-1]]
    assert native_values[0] == "0" and native_values[2] == "0" and native_values[3] == "0"
    assert b[5].endswith("0xFFC00000")  # SGDT shows the monitor's shadow GDT
    assert monitor.exit.code == native.exit.code == 0


STI_SHADOW = kernel(
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
    mov eax, 200
    out 0x40, al
    mov al, ah
    out 0x40, al
    mov ecx, 300
spin:
    loop spin                   # an edge passes while interrupts are off
    sti
    mov ebx, [ticks]            # the STI shadow: this runs before the interrupt
    mov eax, [ticks]
    cli
    push eax
    mov eax, ebx
    call puthex
    pop eax
    call puthex
    mov al, 0
    jmp exit_with
""",
    handlers={0x20: "timer"},
    code="timer:\n    inc dword ptr [ticks]\n    push eax\n    mov al, 0x20\n"
         "    out 0x20, al\n    pop eax\n    iretd",
    data="ticks: .long 0",
)


@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_a_held_interrupt_comes_one_instruction_after_sti(technique: str) -> None:
    m = run(STI_SHADOW, technique)
    assert serial(m).split() == ["00000000", "00000001"]


GDT_REWRITE = kernel(
    """
    lea ebx, [gdt]
    mov byte ptr [ebx + 0x10 + 4], 0x20     # kernel data base: 0x00200000
    mov eax, 0x10
    mov es, eax                             # loaded from the rewritten descriptor
    mov eax, es:[0x1000]
    mov ecx, 0x10
    mov es, ecx
    call puthex
    mov al, 0
    jmp exit_with
""",
)


@pytest.mark.parametrize("ring", RINGS)
def test_writes_to_the_guest_gdt_reach_the_shadow(ring: int) -> None:
    image = build(GDT_REWRITE)
    native, monitor = _pair(image, ring)
    assert serial(monitor) == serial(native)
    marker = native.read_u32(0x201000)
    assert int(serial(native), 16) == marker


LDT_AND_FAR = kernel(
    """
    lea eax, [ldt_table]
    lea ebx, [ldt_desc]
    mov word ptr [ebx], 15
    mov [ebx + 2], ax
    shr eax, 16
    mov [ebx + 4], al
    mov byte ptr [ebx + 5], 0x82
    mov [ebx + 7], ah
    mov eax, 0x30
    lldt ax
    mov eax, 0x04                    # LDT entry 0, RPL 0
    mov fs, eax
    mov eax, fs:[marker]
    call puthex
    sldt eax
    call puthex
    .byte 0x9a; .long far_target; .word 0x38   # call far into a second code segment
    mov eax, 0x77
    call puthex
    mov eax, cr0
    or eax, 0x20
    mov cr0, eax
    mov eax, cr0
    call puthex
    mov ecx, 0x174
    mov eax, 0x08
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    call puthex
    mov al, 0
    jmp exit_with
""",
    code="""
far_target:
    mov eax, cs
    call puthex
    retf
""",
    data="""
.align 8
ldt_table:
    .quad 0x00cf92000000ffff
    .quad 0
marker: .long 0x1234abcd
""",
)


def test_ldt_far_calls_control_registers_and_msrs_under_the_monitor() -> None:
    source = LDT_AND_FAR.replace(
        "tss_desc:\n    .quad 0\n",
        "tss_desc:\n    .quad 0\nldt_desc:\n    .quad 0\n    .quad 0x00cf9a000000ffff\n")
    native, monitor = _pair(build(source))
    assert native.exit.code == 0, serial(native)
    lines = serial(native).split()
    assert lines[0] == "1234ABCD" and lines[1] == "00000030" and lines[2] == "00000038"
    mon = serial(monitor).split()
    assert mon[0] == lines[0] and mon[3:] == lines[3:]
    assert mon[1] != lines[1]  # SLDT shows the monitor's LDT selector: a hole
    assert mon[2] == "00000039"  # MOV from CS shows the real ring: a hole


USER_CLI = kernel("lea eax, [user]\nmov ebx, 0x202\njmp enter_user",
                  handlers={13: "gp"},
                  code="user: cli\ngp:\n    pop eax\n    call puthex\n    mov eax, [esp + 4]\n"
                       "    call puthex\n    mov al, 13\n    jmp exit_with")


@pytest.mark.parametrize("ring", RINGS)
def test_a_privileged_instruction_in_guest_user_mode_reaches_the_guest(ring: int) -> None:
    native, monitor = _pair(build(USER_CLI), ring)
    assert serial(native).split() == ["00000000", "0000001B"]
    assert serial(monitor) == serial(native)


PAGING = kernel(
    """
    mov edi, 0x201000               # page table 0: identity, user, writable
    xor eax, eax
fill_pt:
    mov edx, eax
    shl edx, 12
    or edx, 7
    mov [edi + eax*4], edx
    inc eax
    cmp eax, 1024
    jne fill_pt
    mov dword ptr [edi + 0x300 * 4], 0          # 0x00300000 not present yet
    mov dword ptr [0x200000], 0x201007          # PDE 0 -> page table 0
    mov dword ptr [0x200004], 0x400083          # PDE 1: a 4 MiB supervisor page
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr4
    or eax, 0x10                                # PSE
    mov cr4, eax
    mov eax, cr0
    or eax, 0x80010000                          # PG and WP
    mov cr0, eax
    mov dword ptr [0x300010], 0x1234            # faults; the handler maps the page
    mov eax, [0x300010]
    call puthex
    mov eax, [0x201000 + 0x300 * 4]
    and eax, 0x60                               # accessed and dirty
    call puthex
    mov eax, [0x400100]                         # read through the 4 MiB page
    mov eax, [0x200004]
    and eax, 0x60                               # accessed, not dirty
    call puthex
    mov dword ptr [0x201000 + 0x300 * 4], 0x301007
    invlpg [0x300000]                           # remap to another frame
    mov eax, [0x300010]
    call puthex
    mov eax, [faults]
    call puthex
    lea eax, [user]
    mov ebx, 0x202
    jmp enter_user
""",
    handlers={14: "pf"},
    code="""
user:
    mov eax, [0x400000]                         # supervisor page: #PF(P|U)
    mov al, 1
    out 0xf4, al
pf:
    inc dword ptr [faults]
    push eax
    mov eax, cr2
    cmp eax, 0x300010
    jne pf_report
    mov dword ptr [0x201000 + 0x300 * 4], 0x300007
    pop eax
    add esp, 4
    iretd
pf_report:
    call puthex
    mov eax, [esp + 4]
    call puthex
    mov al, 14
    jmp exit_with
""",
    data="faults: .long 0",
)


@pytest.mark.parametrize("ring", RINGS)
def test_a_paging_guest_runs_on_shadow_page_tables(ring: int) -> None:
    native, monitor = _pair(build(PAGING), ring)
    assert native.exit.code == 14, serial(native)
    assert serial(native).split() == [
        "00001234", "00000060", "00000020", "00000000", "00000001", "00400000", "00000005"]
    assert serial(monitor) == serial(native)
    assert monitor.ram() == native.ram()
    assert monitor.executed == native.executed  # hidden faults are not guest instructions
    hidden = [e for e in monitor.log.events if "hidden page fault" in e.detail]
    assert hidden, "the monitor should have filled its shadow on demand"


def test_a_guest_page_fault_is_reflected_not_absorbed() -> None:
    _native, monitor = _pair(build(PAGING))
    reflected = [e for e in monitor.log.events
                 if e.kind == "exception" and e.data.get("vector") == 14]
    assert len(reflected) == 2  # the not-present page, then ring 3 touching a kernel page


# A guest leaning on what the kernel guest does not: a far return to reload CS,
# INT from ring 0 through a trap gate, a TSS I/O bitmap granting ring 3 the
# serial port, system calls that re-enable interrupts and are interrupted by
# the timer, and a divide error in ring 3.
MIXED = kernel(
    """
    # PIC + PIT (period 700)
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
    mov eax, 700
    out 0x40, al
    mov al, ah
    out 0x40, al
    # TSS I/O bitmap: allow ring 3 to use COM1 (0x3f8..0x3ff) only
    lea eax, [tss]
    mov word ptr [eax + 0x66], 104
    lea edi, [iomap]
    mov ecx, 8192/4
    mov eax, 0xffffffff
    .byte 0xf3, 0xab               # rep stosd
    lea edi, [iomap]
    mov byte ptr [edi + 0x3f8/8], 0
    # TSS limit grows to cover the bitmap
    lea ebx, [tss_desc]
    mov word ptr [ebx], 104 + 8192
    and byte ptr [ebx + 5], 0xfd         # available again
    mov eax, TSS_SEL
    ltr ax
    # far return to reload CS
    push 0x08
    lea eax, [after_retf]
    push eax
    retf
after_retf:
    int 0x81                  # a kernel-mode software interrupt (trap gate)
    # kernel loop with interrupts on for a while
    sti
    mov ecx, 3000
kloop:
    loop kloop
    cli
    mov eax, [ticks]
    cmp eax, 2
    setae al
    movzx eax, al
    call puthex
    lea eax, [user]
    mov ebx, 0x202
    jmp enter_user
""",
    handlers={0x20: "timer", 0x80: "syscall", 0x81: "kint", 0: "de"},
    user_gates=(0x80,),
    code="""
timer:
    push eax
    inc dword ptr [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd
kint:
    mov eax, cs
    and eax, 0xfffc
    call puthex
    iretd
syscall:                          # trap gate: interrupts stay on
    sti
    push ecx
    mov ecx, 2000
sys_spin:
    loop sys_spin                 # long enough to be interrupted by the timer
    pop ecx
    inc dword ptr [calls]
    iretd
user:
    mov dx, 0x3f8                 # granted by the I/O bitmap
    mov al, 0x55
    out dx, al
    mov al, 10
    out dx, al
    mov ecx, 3
user_calls:
    int 0x80
    loop user_calls
    mov eax, [calls]
    add al, 0x30
    mov dx, 0x3f8
    out dx, al
    mov al, 10
    out dx, al
    xor edx, edx
    xor ecx, ecx
    mov eax, 7
    div ecx                       # #DE in ring 3
de:
    mov eax, [esp + 4]            # cs of the faulting code
    call puthex
    mov eax, [esp + 16]           # ss
    call puthex
    mov al, 0
    jmp exit_with
""",
    data="ticks: .long 0\ncalls: .long 0\n.align 4\niomap: .space 8192\n.byte 0xff",
)


@pytest.mark.parametrize("ring", RINGS)
def test_a_guest_using_more_of_the_architecture_is_equivalent(ring: int) -> None:
    native, monitor = _pair(build(MIXED), ring)
    assert serial(native).split() == ["00000008", "00000001", "U", "3", "0000001B", "00000023"]
    assert serial(monitor) == serial(native)
    assert monitor.exit.code == native.exit.code == 0
    assert monitor.ram() == native.ram()


@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_writing_above_ram_stops_the_guest_even_where_the_monitor_lives(technique: str) -> None:
    m = run("mov dword ptr [0xFFC00010], 1\nmov al, 0\nout 0xf4, al\nhlt", technique)
    assert m.exit.kind == ExitKind.ERROR
    assert "0xffc00010" in m.exit.message.lower()
