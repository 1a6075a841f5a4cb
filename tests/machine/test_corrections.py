"""Where Unicorn departs from the architecture, and the machine's correction.

Each correction has two tests: one showing Unicorn alone misbehaves (so the
correction is still needed; if Unicorn is fixed, that test says so), and one
showing the machine behaves as the CPU does.
"""

from __future__ import annotations

import contextlib

import pytest
from conftest import build, machine, run, serial
from scaffold import kernel
from unicorn import UC_ARCH_X86, UC_HOOK_INSN, UC_HOOK_INTR, UC_MODE_32, Uc, UcError
from unicorn import x86_const as x86

from vizvm.machine.descriptors import Descriptor
from vizvm.machine.uc_internals import _probe_engine

# --- port I/O privilege --------------------------------------------------------------

RING3_OUT = kernel(
    """
    lea eax, [user]
    mov ebx, 0x202
    jmp enter_user
""",
    handlers={13: "gp"},
    code="""
user:
    mov al, 0x41
    mov dx, 0x3f8
    out dx, al
    mov al, 1
    out 0xf4, al
gp:
    pop eax
    call puthex
    mov eax, [esp]
    call puthex
    mov al, 13
    jmp exit_with
""",
)


def test_unicorn_alone_lets_ring3_do_port_io() -> None:
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0, 0x10000)
    gdt = b"".join(d.to_bytes() for d in (
        Descriptor(0, 0), Descriptor.build(0, 0xFFFFF, 0xB), Descriptor.build(0, 0xFFFFF, 0x3),
        Descriptor.build(0, 0xFFFFF, 0xB, dpl=3), Descriptor.build(0, 0xFFFFF, 0x3, dpl=3)))
    uc.mem_write(0x1000, gdt)
    uc.reg_write(x86.UC_X86_REG_GDTR, (0, 0x1000, len(gdt) - 1, 0))
    uc.reg_write(x86.UC_X86_REG_SS, 0x10)
    uc.reg_write(x86.UC_X86_REG_CS, 0x08)
    uc.reg_write(x86.UC_X86_REG_ESP, 0x8000)
    # push ss, esp, eflags (IOPL 0), cs, eip ; iretd  -> ring 3 at 0x3000
    uc.mem_write(0x2000, b"\x6a\x23\x68\x00\x80\x00\x00\x6a\x02\x6a\x1b"
                 b"\x68\x00\x30\x00\x00\xcf")
    uc.mem_write(0x3000, b"\xe6\x80\xeb\xfe")  # out 0x80, al ; jmp $
    seen: list[tuple[int, int]] = []
    uc.hook_add(UC_HOOK_INSN, lambda uc, port, size, value, data: seen.append(
        (port, uc.reg_read(x86.UC_X86_REG_CS) & 3)), None, 1, 0, x86.UC_X86_INS_OUT)
    uc.hook_add(UC_HOOK_INTR, lambda uc, intno, data: seen.append((-1, intno)))
    uc.emu_start(0x2000, 0, count=12)
    assert seen[0] == (0x80, 3)  # CPL 3 > IOPL 0, yet no #GP: the check is compiled out


def test_machine_raises_gp_for_port_io_from_ring3() -> None:
    m = run(RING3_OUT)
    assert m.exit.code == 13
    error_code, _eip = serial(m).split()
    assert int(error_code, 16) == 0  # #GP(0), as the SDM says for IN/OUT
    assert m.serial.output.count(b"A") == 0  # the OUT never reached COM1
    assert any(e.data.get("vector") == 13 for e in m.log.events)


# --- nested-exception state ----------------------------------------------------------

MANY_GP = kernel(
    """
    mov ecx, 5
again:
    mov eax, 0x1238
    mov ds, eax
    loop again
    mov eax, [count]
    call puthex
    mov al, 0
    jmp exit_with
""",
    handlers={13: "gp", 8: "df"},
    code="""
gp:
    add esp, 4
    add dword ptr [esp], 2      # skip the 2-byte mov ds, eax
    inc dword ptr [count]
    iretd
df:
    mov al, 8
    jmp exit_with
""",
    data="count: .long 0",
)


def test_unicorn_alone_turns_the_second_handled_gp_into_a_double_fault() -> None:
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    seen: list[int] = []

    def on_intr(uc: Uc, intno: int, _d: object) -> None:
        seen.append(intno)
        uc.reg_write(x86.UC_X86_REG_EIP, uc.reg_read(x86.UC_X86_REG_EIP) + 2)

    uc = _probe_engine()
    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.mem_write(0x2000, b"\x66\xb8\x38\x12\x8e\xd8\x8e\xd8\x8e\xd8")  # three bad loads
    with contextlib.suppress(UcError):  # the third one resets the CPU
        uc.emu_start(0x2000, 0x200A, count=10)
    assert seen[:2] == [13, 8]


def test_machine_handles_repeated_faults() -> None:
    m = run(MANY_GP)
    assert m.exit.code == 0
    assert serial(m).strip() == "00000005"


# --- translations after writes from outside ------------------------------------------

SELF_PATCHED = kernel(
    """
    mov ecx, 3
round:
    call patched
    loop round
    mov eax, [total]
    call puthex
    mov al, 0
    jmp exit_with
""",
    code="""
patched:
    add dword ptr [total], 1
    ret
""",
    data="total: .long 0",
)


def _patch_site(m) -> int:
    """Where `add dword ptr [total], 1` lives: find its bytes (83 05 ...)."""
    ram = m.ram()
    at = ram.find(b"\x83\x05", 0x100000)
    assert at > 0
    return at


def test_unicorn_alone_runs_stale_code_after_mem_write() -> None:
    uc = _probe_engine()
    uc.mem_write(0x2000, b"\x40\xc3")  # inc eax ; ret  (called twice)
    uc.mem_write(0x3000, b"\xe8" + (0x2000 - 0x3005).to_bytes(4, "little", signed=True)
                 + b"\xe8" + (0x2000 - 0x300A).to_bytes(4, "little", signed=True) + b"\xf4")
    uc.reg_write(x86.UC_X86_REG_EAX, 0)
    uc.emu_start(0x3000, 0x3005)  # first call: translates inc eax
    uc.mem_write(0x2000, b"\x48")  # now dec eax
    uc.emu_start(0x3005, 0x300A)
    assert uc.reg_read(x86.UC_X86_REG_EAX) == 2  # the old translation ran


@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_machine_runs_the_new_code_after_a_write_from_outside(technique: str) -> None:
    m = machine(build(SELF_PATCHED), technique)
    site = _patch_site(m)
    # run until the first call has executed the add, then rewrite it to add 0x10
    m.run_to(site, 100_000)
    m.advance(m.ticks + 3)
    m.memory.write(site, b"\x83\x05" + m.ram()[site + 2 : site + 6] + b"\x10")
    m.run(1_000_000)
    assert m.exit.code == 0
    assert int(serial(m), 16) == 1 + 0x10 + 0x10


# --- RDPMC -------------------------------------------------------------------------------

RDPMC = kernel(
    """
    mov eax, 0x1234
    mov edx, 0x5678
    xor ecx, ecx
    rdpmc
    or eax, edx
    call puthex
    lea eax, [user]
    mov ebx, 0x202
    jmp enter_user
""",
    handlers={13: "gp", 6: "ud"},
    code="""
user:
    xor ecx, ecx
    rdpmc
    mov al, 1
    out 0xf4, al
gp:
    mov al, 13
    jmp exit_with
ud:
    mov al, 6
    jmp exit_with
""",
)


def test_unicorn_alone_stops_on_rdpmc() -> None:
    uc = _probe_engine()
    uc.mem_write(0x2000, b"\x31\xc9\x0f\x33")  # xor ecx, ecx ; rdpmc
    with pytest.raises(UcError) as info:
        uc.emu_start(0x2000, 0x2004)
    assert "INSN_INVALID" in str(info.value)


def test_machine_rdpmc_reads_zero_at_ring0_and_faults_at_ring3() -> None:
    m = run(RDPMC)
    assert serial(m).split()[0] == "00000000"
    assert m.exit.code == 13
