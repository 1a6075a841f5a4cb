"""Entering guest mode with the processor's virtualization extension.

Unicorn's CPU (QEMU's) implements AMD's SVM: VMRUN loads the guest's state
from a control block and every intercepted operation raises a #VMEXIT. Here
that hardware runs the VT-x model of vizvm.monitors.hardware_assist: the
guest really executes in guest mode at ring 0, and what the VT-x controls
say exits does exit, decided by the processor, not by scanning the code.
Unicorn hands a #VMEXIT to the interrupt hook as vector 0x100 + exit code
(it never switches back to the host state), which is where the VMM in
Python takes over and, returning, resumes the guest. Before the hook Unicorn
also moves EIP past the last INT n if QEMU's "was INT n" flag is still set,
and a #VMEXIT never clears it: the VMM clears it after each INT n instead
(end_software_interrupt), or the next exit reports the wrong instruction.

VMCB layout: AMD64 APM vol. 2, appendix B; QEMU's target/i386/svm.h.
"""

from __future__ import annotations

import ctypes
import struct
from typing import TYPE_CHECKING

from unicorn import Uc
from unicorn import x86_const as x86

from vizvm.machine.uc_internals import layout
from vizvm.monitors.vmx import Controls

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

VMEXIT_BASE = 0x100  # Unicorn's interrupt number for #VMEXIT with exit code 0
MSR_EFER, MSR_VM_HSAVE_PA = 0xC0000080, 0xC0010117
EFER_SVME = 1 << 12
VMRUN = b"\x0f\x01\xd8"
SVM_CPU_MODEL = x86.UC_CPU_X86_QEMU64  # a model whose CPUID offers SVM

# exit codes (SVM) and the intercept bit of each, counted from SVM_EXIT_INTR
READ_CR0, WRITE_CR0, EXCP_BASE = 0x00, 0x10, 0x40
INTR, VINTR, IDTR_READ, GDTR_READ, LDTR_READ, TR_READ = 0x60, 0x64, 0x66, 0x67, 0x68, 0x69
IDTR_WRITE, GDTR_WRITE, LDTR_WRITE, TR_WRITE, RDTSC, RDPMC = 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F
CPUID, INVD, HLT, INVLPG, MSR, SHUTDOWN, WBINVD = 0x72, 0x76, 0x78, 0x79, 0x7C, 0x7F, 0x89
READ_DR0, WRITE_DR0 = 0x20, 0x30

CONTROL_SIZE = 0x400
SAVE = CONTROL_SIZE
SEGMENTS = ("es", "cs", "ss", "ds", "fs", "gs")


def _intercept_bit(code: int) -> int:
    return 1 << (code - INTR)


def intercepts(controls: Controls) -> tuple[int, int, int, int]:
    """(CR reads, CR writes, exceptions, other intercepts) for these controls."""
    other = _intercept_bit(CPUID) | _intercept_bit(SHUTDOWN)
    if controls.hlt_exiting:
        other |= _intercept_bit(HLT)
    if controls.invlpg_exiting:
        other |= _intercept_bit(INVLPG)
    if controls.msr_exiting:
        other |= _intercept_bit(MSR)
    if controls.rdtsc_exiting:
        other |= _intercept_bit(RDTSC)
    if controls.descriptor_table_exiting:
        for code in (IDTR_READ, GDTR_READ, LDTR_READ, TR_READ, IDTR_WRITE, GDTR_WRITE,
                     LDTR_WRITE, TR_WRITE):
            other |= _intercept_bit(code)
    other |= _intercept_bit(INVD)  # VT-x: INVD always exits
    cr_read = (1 << 3) if controls.cr3_store_exiting else 0
    cr_write = (1 << 3) if controls.cr3_load_exiting else 0
    if not controls.ept:
        # the shadow's CR0 and CR4 differ from the guest's: reads and writes go to the VMM
        cr_read |= 1 | 1 << 4
        cr_write |= 1 | 1 << 4
    exceptions = sum(1 << v for v in controls.exception_bitmap)
    return cr_read, cr_write, exceptions, other


def _attributes(flags: int) -> int:
    """QEMU's segment-cache flags to the VMCB's 12-bit attribute field."""
    return ((flags >> 8) & 0xFF) | ((flags >> 12) & 0x0F00)


def control_block(machine: Machine, controls: Controls, msr_bitmap: int) -> bytes:
    """A VMCB whose saved guest state is the CPU's current state."""
    cpu = machine.cpu
    vmcb = bytearray(0x1000)
    cr_read, cr_write, exceptions, other = intercepts(controls)
    struct.pack_into("<HHHHIQ", vmcb, 0, cr_read, cr_write, 0, 0, exceptions, other)
    struct.pack_into("<Q", vmcb, 0x48, msr_bitmap)
    state = cpu.begin()
    for i, name in enumerate(SEGMENTS):
        selector, base, limit, flags = state.segment(name)
        struct.pack_into("<HHIQ", vmcb, SAVE + 16 * i, selector, _attributes(flags), limit, base)
    gdt, idt = cpu.table_register("gdt"), cpu.table_register("idt")
    struct.pack_into("<HHIQ", vmcb, SAVE + 0x60, 0, 0, gdt.limit, gdt.base)
    struct.pack_into("<HHIQ", vmcb, SAVE + 0x80, 0, 0, idt.limit, idt.base)
    struct.pack_into("<Q", vmcb, SAVE + 0xD0, 0)  # the guest's EFER: no SVME for it
    struct.pack_into("<QQQ", vmcb, SAVE + 0x148, cpu.read("cr4"), cpu.read("cr3"),
                     cpu.read("cr0"))
    struct.pack_into("<QQ", vmcb, SAVE + 0x170, cpu.eflags, cpu.eip)
    struct.pack_into("<Q", vmcb, SAVE + 0x1D8, cpu.read("esp"))
    struct.pack_into("<Q", vmcb, SAVE + 0x1F8, cpu.read("eax"))
    return bytes(vmcb)


def enter_guest_mode(machine: Machine, controls: Controls, area: int) -> None:
    """Run VMRUN once from a stub in `area` (4 pages the VMM owns): guest mode, for good."""
    uc = machine.uc
    vmcb, hsave, stub, msr_bitmap = area, area + 0x1000, area + 0x2000, area + 0x3000
    uc.mem_write(msr_bitmap, b"\xff" * 0x1000)  # every MSR, when MSR exiting is on
    uc.mem_write(vmcb, control_block(machine, controls, msr_bitmap))
    uc.mem_write(stub, VMRUN)
    uc.msr_write(MSR_EFER, EFER_SVME)
    uc.msr_write(MSR_VM_HSAVE_PA, hsave)
    guest_eip = machine.cpu.eip
    machine.cpu.write("eax", vmcb)
    uc.emu_start(stub, 0, count=1)
    if machine.cpu.eip != guest_eip:
        raise RuntimeError(f"VMRUN did not enter the guest (EIP {machine.cpu.eip:#x})")


def end_software_interrupt(uc: Uc) -> None:
    """Clear QEMU's exception_is_int once an INT n has been delivered.

    Unicorn sets EIP to the instruction after the last INT n before calling
    the interrupt hook whenever that flag is set. QEMU sets it for every
    exception it raises, but raises a #VMEXIT without touching it: after a
    guest's INT n, the next VM exit would otherwise report, and resume at, the
    INT's return address instead of the instruction that exited.
    """
    found = layout()
    ctx = uc.context_save()
    address = ctypes.cast(ctx.context, ctypes.c_void_p).value
    if address is None:
        raise RuntimeError("a saved context has no address")
    is_int = address + found.context_header + found.error_code + 4  # probed: next to it
    ctypes.c_int32.from_address(is_int).value = 0
    uc.context_restore(ctx)
