"""The VMM's handlers for each kind of VM exit (hardware assist).

A handler either emulates the operation on what the VMM keeps (the guest's
CR3 under shadow paging, a halted virtual CPU, a device model, CPUID's
answers) or lets the processor carry it out once with the intercept lifted,
as a VMM does when it only needed to know that it happened.
"""

from __future__ import annotations

import functools
import struct
from typing import TYPE_CHECKING

from unicorn import UC_ARCH_X86, UC_MODE_32, Uc
from unicorn import x86_const as x86

from vizvm.asm.disasm import Insn, decode_detail
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.monitors import svm_entry as svm
from vizvm.monitors import vmx
from vizvm.monitors.operands import (
    effective_address,
    operand_value,
    read_gpr,
    register_name,
    write_operand,
)
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from vizvm.monitors.hardware_assist import HardwareAssist

HF_GUEST = 1 << 21  # QEMU's "intercepts are active" flag
CR0_OWNED = 0x1 | 0x20000000 | 0x40000000 | 0x10000 | 0x80000000  # PE, NW, CD, WP, PG
CR4_OWNED = 0x10 | 0x20 | 0x80 | 0x2000  # PSE, PAE, PGE, VMXE


@functools.cache
def native_cpuid(leaf: int, subleaf: int) -> tuple[int, int, int, int]:
    """What the machine's own processor model answers: the guest sees the same CPU."""
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0, 0x1000)
    uc.mem_write(0, b"\x0f\xa2")
    uc.reg_write(x86.UC_X86_REG_EAX, leaf)
    uc.reg_write(x86.UC_X86_REG_ECX, subleaf)
    uc.emu_start(0, 2)
    regs = (x86.UC_X86_REG_EAX, x86.UC_X86_REG_EBX, x86.UC_X86_REG_ECX, x86.UC_X86_REG_EDX)
    a, b, c, d = (uc.reg_read(r) for r in regs)
    return a, b, c, d


class ExitHandler:
    def __init__(self, vmm: HardwareAssist, area: int) -> None:
        self.vmm = vmm
        self.machine = vmm._m
        self.vmcb = area

    def exit_info_2(self) -> int:
        return struct.unpack("<Q", self.machine.uc.mem_read(self.vmcb + 0x80, 8))[0]

    def handle(self, code: int, trap: Trap) -> None:
        m, vmm = self.machine, self.vmm
        insn = m.instruction_at(trap.address)
        if svm.EXCP_BASE <= code < svm.EXCP_BASE + 32:
            vmm.exception_exit(code - svm.EXCP_BASE, trap)
        elif code == svm.CPUID:
            self._cpuid(trap, insn)
        elif code == svm.HLT:
            vmm.vm_exit(vmx.HLT, 0, trap.address, "HLT exiting is on", insn)
            self._skip(insn)
            m.halted = True
            vmm.handled("put the virtual CPU to sleep until an interrupt", trap.address, insn)
            m.request_stop()
        elif svm.READ_CR0 <= code < svm.WRITE_CR0 + 16:
            self._cr_access(code, trap, insn)
        elif code == svm.INVLPG:
            self._invlpg(trap, insn)
        elif code == svm.MSR:
            write = bool((trap.error_code or 0) & 1)
            reason = vmx.WRMSR if write else vmx.RDMSR
            vmm.vm_exit(reason, 0, trap.address, "MSR exiting is on (the MSR bitmap asks for "
                        f"MSR {m.cpu.read('ecx'):#x})", insn, msr=m.cpu.read("ecx"))
            self._natively(trap, insn, "let the processor access the MSR")
        elif code == svm.RDTSC:
            vmm.vm_exit(vmx.RDTSC, 0, trap.address, "RDTSC exiting is on", insn)
            m.read_time_stamp()
            self._skip(insn)
            vmm.handled("supplied the time-stamp counter", trap.address, insn)
        elif code == svm.INVD:
            vmm.vm_exit(vmx.INVD, 0, trap.address, "INVD always exits", insn)
            self._skip(insn)
            vmm.handled("ignored INVD (no caches to lose)", trap.address, insn)
        elif svm.IDTR_READ <= code <= svm.TR_WRITE:
            reason = vmx.GDTR_IDTR_ACCESS if code in (svm.IDTR_READ, svm.GDTR_READ,
                                                      svm.IDTR_WRITE, svm.GDTR_WRITE) \
                else vmx.LDTR_TR_ACCESS
            vmm.vm_exit(reason, 0, trap.address, "descriptor-table exiting is on", insn)
            self._natively(trap, insn, f"let the processor carry out {insn.mnemonic.upper()}")
        else:
            m.fail(f"{insn.text} at {trap.address:#010x} caused a VM exit this VMM does not "
                   f"handle (AMD-V exit code {code:#x})")

    # helpers ------------------------------------------------------------------------------
    def _skip(self, insn: Insn) -> None:
        state = self.machine.cpu.begin()
        state.set_eip(self.machine.cpu.eip + insn.size)
        self.machine.cpu.commit()

    def _natively(self, trap: Trap, insn: Insn, what: str) -> None:
        """Lift the intercepts for one instruction and let the processor execute it."""
        cpu = self.machine.cpu
        state = cpu.begin()
        state.set_hflags(state.hflags & ~HF_GUEST)
        cpu.commit()

        def restore() -> None:
            again = cpu.begin()
            again.set_hflags(again.hflags | HF_GUEST)
            cpu.commit()

        self.machine.reexecute(restore)
        self.vmm.handled(what, trap.address, insn)

    def _cpuid(self, trap: Trap, insn: Insn) -> None:
        m = self.machine
        leaf, subleaf = m.cpu.read("eax"), m.cpu.read("ecx")
        self.vmm.vm_exit(vmx.CPUID, 0, trap.address, "CPUID always exits", insn, leaf=leaf)
        for name, value in zip(("eax", "ebx", "ecx", "edx"), native_cpuid(leaf, subleaf),
                               strict=True):
            m.cpu.write(name, value)
        self._skip(insn)
        self.vmm.handled(f"answered CPUID leaf {leaf:#x} as the machine's processor would",
                         trap.address, insn)

    def _cr_access(self, code: int, trap: Trap, insn: Insn) -> None:
        vmm = self.vmm
        detail = decode_detail(insn.raw, insn.address)
        write = code >= svm.WRITE_CR0
        number = (code - svm.WRITE_CR0) if write else (code - svm.READ_CR0)
        mnemonic = insn.mnemonic
        access = {"clts": 2, "lmsw": 3}.get(mnemonic, 0 if write else 1)
        gpr = None
        if detail is not None and mnemonic == "mov":
            gpr = register_name(detail, 1 if write else 0)
        qualification = vmx.cr_qualification(number, access, gpr)
        if vmm.controls.ept:  # CR3 load or store exiting, nothing shadowed
            vmm.vm_exit(vmx.CR_ACCESS, qualification, trap.address,
                        f"CR{number} {'load' if write else 'store'} exiting is on", insn,
                        cr=number)
            self._natively(trap, insn, f"let the processor {'load' if write else 'read'} "
                                       f"CR{number}")
            return
        ShadowedControlRegisters(self, detail, trap, insn).apply(number, write, qualification)

    def _invlpg(self, trap: Trap, insn: Insn) -> None:
        vmm, m = self.vmm, self.machine
        detail = decode_detail(insn.raw, insn.address)
        linear = effective_address(m.cpu, detail, 0) if detail is not None else 0
        vmm.vm_exit(vmx.INVLPG, linear, trap.address, "INVLPG exiting is on", insn)
        if vmm.paging is not None:
            vmm.paging.invalidate(linear)
            self._skip(insn)
            vmm.handled(f"dropped its shadow mapping of {linear & ~0xFFF:#010x}", trap.address,
                        insn)
        else:
            self._natively(trap, insn, "let the processor invalidate the TLB entry")

    def io(self, access: PortAccess) -> Emulated:
        m, vmm = self.machine, self.vmm
        insn = m.instruction_at(access.address)
        string = insn.mnemonic.startswith(("ins", "outs", "rep"))
        qualification = vmx.io_qualification(
            access.port, access.size, access.is_in, string=string,
            rep=insn.mnemonic.startswith("rep"), immediate=_immediate_port(insn.raw))
        direction = "IN" if access.is_in else "OUT"
        vmm.vm_exit(vmx.IO_INSTRUCTION, qualification, access.address,
                    f"{direction} port {access.port:#06x}; I/O exiting covers it", insn,
                    port=access.port)
        if access.is_in:
            value = m.port_read(access.port, access.size, cost="")
            vmm.handled(f"read port {access.port:#06x} from its device model ({value:#x})",
                        access.address, insn)
            return Emulated(value)
        m.port_write(access.port, access.size, access.value or 0, cost="")
        vmm.handled(f"wrote {access.value or 0:#x} to port {access.port:#06x} through its device "
                    f"model", access.address, insn)
        return Emulated(0)


class ShadowedControlRegisters:
    """Control-register accesses without EPT: the VMM keeps CR0, CR3 and CR4 for the guest.

    Reads of CR0 and CR4 come from read shadows in VT-x and do not exit; writes
    exit only when they change a bit the VMM owns (the guest/host masks).
    """

    def __init__(self, exits: ExitHandler, detail: object, trap: Trap, insn: Insn) -> None:
        self.exits, self.detail, self.trap, self.insn = exits, detail, trap, insn
        self.vmm = exits.vmm
        self.cpu = exits.machine.cpu

    def apply(self, number: int, write: bool, qualification: int) -> None:
        vcpu = self.vmm.vcpu
        assert vcpu is not None
        mnemonic = self.insn.mnemonic
        if not write:
            value = getattr(vcpu, f"cr{number}")
            if mnemonic == "smsw":
                self._write_operand(value & 0xFFFF)
            else:
                self._write_operand(value)
            if number == 3:
                self._exit(qualification, "CR3 store exiting is on", "returned the guest's CR3")
            self.exits._skip(self.insn)
            return
        value = self._source(number, vcpu)
        old = getattr(vcpu, f"cr{number}")
        setattr(vcpu, f"cr{number}", value)
        owned = {0: CR0_OWNED, 3: 0xFFFFFFFF, 4: CR4_OWNED}.get(number, 0)
        if number == 3:
            self._exit(qualification, "CR3 load exiting is on",
                       "took the guest's new CR3 and emptied its shadow page tables")
            assert self.vmm.paging is not None
            if self.vmm.paging.enabled:
                self.vmm.paging.reset()
        elif (old ^ value) & owned:
            self._exit(qualification, f"the write changes a CR{number} bit the VMM owns",
                       f"updated the guest's CR{number} and its shadow paging")
            assert self.vmm.paging is not None
            self.vmm.paging.apply(self._real_cr0(vcpu.cr0))
        elif number == 0:
            real = self.cpu.read("cr0")
            self.cpu.write("cr0", (real & CR0_OWNED) | (vcpu.cr0 & ~CR0_OWNED))
        self.exits._skip(self.insn)

    @staticmethod
    def _real_cr0(guest: int) -> int:
        return guest & ~0x80000000  # paging on or off is the shadow's business

    def _source(self, number: int, vcpu: object) -> int:
        mnemonic = self.insn.mnemonic
        current = getattr(vcpu, f"cr{number}")
        if mnemonic == "clts":
            return current & ~0x8
        if mnemonic == "lmsw":
            word = operand_value(self.cpu, self.detail, 0) & 0xF  # type: ignore[arg-type]
            return (current & ~0xE) | (word & 0xE) | (current & 1) | (word & 1)
        return read_gpr(self.cpu, register_name(self.detail, 1) or "eax")  # type: ignore[arg-type]

    def _write_operand(self, value: int) -> None:
        write_operand(self.cpu, self.detail, 0, value)  # type: ignore[arg-type]

    def _exit(self, qualification: int, why: str, what: str) -> None:
        self.vmm.vm_exit(vmx.CR_ACCESS, qualification, self.trap.address, why, self.insn,
                         cr=qualification & 0xF)
        self.vmm.handled(what, self.trap.address, self.insn)


__all__ = ["ExitHandler", "Kind"]


IMMEDIATE_PORT_OPCODES = frozenset({0xE4, 0xE5, 0xE6, 0xE7})  # IN/OUT with an imm8 port
PREFIXES = frozenset({0x66, 0x67, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0xF0})


def _immediate_port(raw: bytes) -> bool:
    """Whether an IN or OUT names its port in an immediate (the qualification's bit 6)."""
    opcode = next((b for b in raw if b not in PREFIXES), None)
    return opcode in IMMEDIATE_PORT_OPCODES
