"""A paging guest whose INT n is followed by a VM exit: equivalent under every technique.

Unicorn moves EIP past the last INT n before reporting an exception if QEMU's
"was INT n" flag is still set, and a #VMEXIT leaves that flag alone. Without
the VMM clearing it, the first exit after a guest's INT n (a hidden page
fault on the ring-3 task's code page, a CPUID) was reported at, and resumed
from, the INT's return address: the task then faulted there, a supervisor
page, with error 5 instead of faulting on its write with error 7.
"""

from __future__ import annotations

import hashlib

import pytest
from conftest import build, machine, serial
from scaffold import kernel

from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.monitors import vmx

KERNEL_BODY = """
    mov edi, 0x201000               # every page of the first 4 MiB: supervisor
    xor ecx, ecx
fill_pt:
    mov eax, ecx
    shl eax, 12
    or eax, 3
    mov [edi + ecx*4], eax
    inc ecx
    cmp ecx, 1024
    jne fill_pt
    lea eax, [user]                 # except the task's code page and stack page
    shr eax, 12
    or dword ptr [edi + eax*4], 7
    or dword ptr [edi + 0x7f * 4], 7
    mov dword ptr [0x200000], 0x201007
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword ptr [0x700], 0x1111
    int 0x80                        # its handler enters the task: it does not return
"""

HANDLERS = """
syscall:
    {before}
    mov al, 0x53                    # 'S'
    call putc
    add esp, 12                     # drop the INT's frame
    lea eax, [user]
    mov ebx, 2
    jmp enter_user

pf:
    pop eax                         # the error code
    call puthex
    mov eax, cr2
    call puthex
    mov eax, [0x700]
    call puthex
    mov al, 0x4e
    jmp exit_with

.align 4096
user:
    mov dword ptr [0x700], 0xbad    # a supervisor page from ring 3: #PF, error 7
    mov al, 0x7e
    out 0xf4, al
.align 4096                         # alone in its page: the kernel never touches it
"""

# what runs in the INT's handler before the task: nothing, or an exiting CPUID
BEFORE = {"fault": "", "cpuid": "xor eax, eax\n    cpuid"}
EXPECTED = "S00000007\n00000700\n00001111\n"
TECHNIQUES = ["hardware-assist", "binary-translation", "trap-emulate"]


def _guest(before: str) -> bytes:
    code = HANDLERS.format(before=before)
    return build(kernel(KERNEL_BODY, handlers={0x80: "syscall", 14: "pf"}, code=code))


def _run(image: bytes, technique: str, **options: object):
    m = machine(image, technique, options=options)
    m.run(2_000_000)
    m.finish()
    return m


@pytest.mark.parametrize("technique", TECHNIQUES)
@pytest.mark.parametrize("before", sorted(BEFORE))
def test_equivalent_to_native(before: str, technique: str) -> None:
    image = _guest(BEFORE[before])
    native = _run(image, "native")
    assert serial(native) == EXPECTED
    assert (native.exit.kind, native.exit.code) == ("poweroff", 0x4E)
    other = _run(image, technique)
    assert serial(other) == serial(native)
    assert (other.exit.kind, other.exit.code) == (native.exit.kind, native.exit.code)
    assert hashlib.sha256(other.ram()).hexdigest() == hashlib.sha256(native.ram()).hexdigest()
    assert other.executed == native.executed


@pytest.mark.parametrize("preset", ["first-generation", "modern"])
def test_exits_after_int_name_the_exiting_instruction(preset: str) -> None:
    """The CPUID in the INT's handler, then the task's first instruction (shadow paging)."""
    image = _guest(BEFORE["cpuid"])
    m = _run(image, "hardware-assist", vmx=vmx.PRESETS[preset])
    cpuid = LOAD_ADDRESS + image.index(bytes.fromhex("31c00fa2")) + 2
    user = LOAD_ADDRESS + image.index(bytes.fromhex("c70500070000ad0b0000"))
    exits = [e for e in m.log.events if e.kind == "vm-exit"]
    assert [e.address for e in exits if e.data["reason"] == vmx.CPUID] == [cpuid]
    faults = [(e.address, e.data["qualification"]) for e in exits
              if e.data["reason"] == vmx.EXCEPTION_OR_NMI]
    if preset == "first-generation":  # the code page is not in the shadow yet
        assert (user, user) in faults
    assert all(address != cpuid + 2 for address, _ in faults)
    assert serial(m) == EXPECTED
