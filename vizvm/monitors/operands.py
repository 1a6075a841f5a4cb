"""Reading and writing the operands of a decoded instruction (Capstone detail).

A monitor that emulates an instruction needs its operands as the CPU would
compute them: registers of any width, effective addresses with the segment
base, and immediate values.
"""

from __future__ import annotations

from capstone import CsInsn
from capstone.x86 import X86_OP_IMM, X86_OP_MEM, X86_OP_REG, X86_REG_INVALID

from vizvm.machine.cpu import Cpu

GPR32 = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi")
GPR16 = {"ax": "eax", "cx": "ecx", "dx": "edx", "bx": "ebx", "sp": "esp", "bp": "ebp",
         "si": "esi", "di": "edi"}
GPR8 = {"al": ("eax", 0), "cl": ("ecx", 0), "dl": ("edx", 0), "bl": ("ebx", 0),
        "ah": ("eax", 8), "ch": ("ecx", 8), "dh": ("edx", 8), "bh": ("ebx", 8)}
SEGMENT_NAMES = ("es", "cs", "ss", "ds", "fs", "gs")


def read_gpr(cpu: Cpu, name: str) -> int:
    if name in GPR32:
        return cpu.read(name)
    if name in GPR16:
        return cpu.read(GPR16[name]) & 0xFFFF
    if name in GPR8:
        full, shift = GPR8[name]
        return (cpu.read(full) >> shift) & 0xFF
    if name in SEGMENT_NAMES:
        return cpu.read(name)
    raise KeyError(name)


def write_gpr(cpu: Cpu, name: str, value: int) -> None:
    if name in GPR32:
        cpu.write(name, value)
    elif name in GPR16:
        full = GPR16[name]
        cpu.write(full, (cpu.read(full) & 0xFFFF0000) | (value & 0xFFFF))
    elif name in GPR8:
        full, shift = GPR8[name]
        old = cpu.read(full) & ~(0xFF << shift)
        cpu.write(full, old | ((value & 0xFF) << shift))
    else:
        raise KeyError(name)


def register_name(insn: CsInsn, index: int) -> str | None:
    op = insn.operands[index]
    return insn.reg_name(op.reg) if op.type == X86_OP_REG else None


def is_memory(insn: CsInsn, index: int) -> bool:
    return insn.operands[index].type == X86_OP_MEM


def is_immediate(insn: CsInsn, index: int) -> bool:
    return insn.operands[index].type == X86_OP_IMM


def effective_address(cpu: Cpu, insn: CsInsn, index: int) -> int:
    """Linear address of a memory operand: segment base + base + index*scale + disp."""
    mem = insn.operands[index].mem
    offset = mem.disp
    if mem.base != X86_REG_INVALID:
        offset += read_gpr(cpu, insn.reg_name(mem.base))
    if mem.index != X86_REG_INVALID:
        offset += read_gpr(cpu, insn.reg_name(mem.index)) * mem.scale
    if mem.segment != X86_REG_INVALID:
        segment = insn.reg_name(mem.segment)
    elif mem.base != X86_REG_INVALID and insn.reg_name(mem.base) in ("esp", "ebp"):
        segment = "ss"
    else:
        segment = "ds"
    base = cpu.state.segment(segment)[1]
    return (base + offset) & 0xFFFFFFFF


def operand_value(cpu: Cpu, insn: CsInsn, index: int) -> int:
    """The value of a register, immediate or memory operand (memory by its size)."""
    op = insn.operands[index]
    if op.type == X86_OP_REG:
        return read_gpr(cpu, insn.reg_name(op.reg))
    if op.type == X86_OP_IMM:
        return op.imm & 0xFFFFFFFF
    address = effective_address(cpu, insn, index)
    return int.from_bytes(cpu.memory.read(address, op.size), "little")


def write_operand(cpu: Cpu, insn: CsInsn, index: int, value: int) -> None:
    op = insn.operands[index]
    if op.type == X86_OP_REG:
        write_gpr(cpu, insn.reg_name(op.reg), value)
        return
    address = effective_address(cpu, insn, index)
    cpu.memory.write(address, (value & ((1 << (8 * op.size)) - 1)).to_bytes(op.size, "little"))


def far_indirect(insn: CsInsn) -> str | None:
    """"call" or "jmp" for CALL FAR / JMP FAR through memory (FF /3, FF /5), else None.

    Capstone names them call and jmp, and gives the far call's operand 4 bytes.
    """
    if insn.opcode[0] != 0xFF or insn.modrm >> 6 == 3:
        return None
    return {3: "call", 5: "jmp"}.get((insn.modrm >> 3) & 7)
