"""The few pieces of Unicorn's internal state that the machine must reach.

Unicorn hands exceptions to a hook instead of delivering them, never clears
QEMU's nested-exception state afterwards, hides the exception's error code,
cannot load a segment register into a more privileged ring from outside, and
does not expose how many instructions of a counted run have started. The
machine needs all five to behave like a CPU, so this module finds where they
live, by behaviour rather than by trusting a header: a throwaway engine runs
small probes at start-up and every offset is checked before it is used. If a
Unicorn release moves them, the probes fail with a message instead of the
machine silently corrupting state.
"""

from __future__ import annotations

import ctypes
import functools
import struct
from dataclasses import dataclass

from unicorn import UC_ARCH_X86, UC_HOOK_INSN, UC_HOOK_INTR, UC_MODE_32, Uc, UcError
from unicorn import x86_const as x86

# QEMU's CPUX86State starts with these fields, in this order, on every build
# Unicorn ships (TARGET_X86_64, so target_ulong is 8 bytes). Offsets are from
# the start of the CPU state inside a saved context; the probes verify them.
REGS = 0  # target_ulong regs[16]: EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI, ...
EIP = 128
HFLAGS = 176
SEGS = 184  # SegmentCache segs[6]: ES, CS, SS, DS, FS, GS; 24 bytes each
SEG_SIZE = 24
LDT = SEGS + 6 * SEG_SIZE
TR = LDT + SEG_SIZE
GDT = TR + SEG_SIZE
IDT = GDT + SEG_SIZE
CR = IDT + SEG_SIZE  # target_ulong cr[9]

SEG_INDEX = {"es": 0, "cs": 1, "ss": 2, "ds": 3, "fs": 4, "gs": 5}
SEGMENT_CACHE = struct.Struct("<I4xQII")  # selector, (padding), base, limit, flags

HF_CPL_MASK = 0x3
HF_INHIBIT_IRQ = 1 << 3
HF_CS32 = 1 << 4
HF_SS32 = 1 << 5
HF_ADDSEG = 1 << 6
HF_PE = 1 << 7

DESC_B = 1 << 22
DESC_DPL_SHIFT = 13

_COUNTER_SCAN_BYTES = 4096


class UnicornProbeError(RuntimeError):
    """The installed Unicorn does not lay out its state as the probes expect."""


@dataclass(frozen=True)
class Layout:
    """Where the hidden fields are, found by the probes."""

    context_header: int  # bytes before the CPU state in a saved context
    old_exception: int  # int32, relative to the CPU state
    error_code: int  # int32, relative to the CPU state
    emu_counter: int  # size_t inside struct uc_struct


def _descriptor(base: int, limit: int, access: int, flags: int = 0xC) -> bytes:
    return struct.pack(
        "<HHBBBB",
        limit & 0xFFFF,
        base & 0xFFFF,
        (base >> 16) & 0xFF,
        access,
        ((limit >> 16) & 0xF) | (flags << 4),
        (base >> 24) & 0xFF,
    )


def _probe_engine() -> Uc:
    """A tiny flat ring-0 machine: GDT at 0x1000, code at 0x2000."""
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0, 0x10000)
    gdt = (
        bytes(8)
        + _descriptor(0, 0xFFFFF, 0x9B)
        + _descriptor(0, 0xFFFFF, 0x93)
        + _descriptor(0x12345000, 0x6789, 0x93, 0x4)
    )
    uc.mem_write(0x1000, gdt)
    uc.reg_write(x86.UC_X86_REG_GDTR, (0, 0x1000, len(gdt) - 1, 0))
    for reg in (x86.UC_X86_REG_SS, x86.UC_X86_REG_DS, x86.UC_X86_REG_ES):
        uc.reg_write(reg, 0x10)
    uc.reg_write(x86.UC_X86_REG_CS, 0x08)
    uc.reg_write(x86.UC_X86_REG_ESP, 0x8000)
    return uc


def _u32(raw: bytes, off: int) -> int:
    return struct.unpack_from("<I", raw, off)[0]


def _find_header(uc: Uc) -> int:
    marker = 0x5A17C0DE
    uc.reg_write(x86.UC_X86_REG_EAX, marker)
    raw = bytes(uc.context_save())
    header = raw.find(struct.pack("<I", marker))
    if header < 0:
        raise UnicornProbeError("EAX not found in a saved context")
    return header


def _check_fixed_fields(uc: Uc, header: int) -> None:
    uc.reg_write(x86.UC_X86_REG_EIP, 0x2468ACE0)
    uc.reg_write(x86.UC_X86_REG_FS, 0x18)
    uc.reg_write(x86.UC_X86_REG_IDTR, (0, 0x0BADF00D, 0x7FF, 0))
    raw = bytes(uc.context_save())
    fs = header + SEGS + SEG_INDEX["fs"] * SEG_SIZE
    checks = {
        "eip": _u32(raw, header + EIP) == 0x2468ACE0,
        "fs.selector": _u32(raw, fs) == 0x18,
        "fs.base": _u32(raw, fs + 8) == 0x12345000,
        "fs.limit": _u32(raw, fs + 16) == 0x6789,
        "idt.base": _u32(raw, header + IDT + 8) == 0x0BADF00D,
        "idt.limit": _u32(raw, header + IDT + 16) == 0x7FF,
        "cr0": _u32(raw, header + CR) & 1 == 1,
        "cpl": _u32(raw, header + HFLAGS) & HF_CPL_MASK == 0,
    }
    wrong = [name for name, ok in checks.items() if not ok]
    if wrong:
        raise UnicornProbeError(f"CPU state fields not where expected: {', '.join(wrong)}")


def _context_at(code: bytes) -> tuple[bytes, bytes]:
    """Contexts before and at the first exception of code, on a fresh engine."""
    uc = _probe_engine()
    seen: list[bytes] = []

    def on_intr(uc: Uc, intno: int, _data: object) -> None:
        seen.append(bytes(uc.context_save()))
        uc.emu_stop()

    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.mem_write(0x2000, code)
    before = bytes(uc.context_save())
    uc.emu_start(0x2000, 0x2000 + len(code), count=4)
    if not seen:
        raise UnicornProbeError("a deliberate exception did not reach the interrupt hook")
    return before, seen[0]


def _gp_with_error(selector: int) -> bytes:
    """mov ax, selector ; mov ds, ax: #GP(selector), beyond the GDT limit."""
    return b"\x66\xb8" + struct.pack("<H", selector) + b"\x8e\xd8"


def _find_exception_fields(header: int) -> tuple[int, int]:
    """Cause #GP with two known error codes and see which int32s changed."""
    # RPL 3 in the selector: the error code drops it, so AX never matches
    before, first = _context_at(_gp_with_error(0x123B))
    _, second = _context_at(_gp_with_error(0x2343))
    _, software = _context_at(b"\xcd\x30")  # int 0x30
    after = [first, second]
    size = min(len(before), *(len(a) for a in after))
    old = [
        off - header
        for off in range(header, size - 3, 4)
        if before[off : off + 4] == b"\xff\xff\xff\xff" and _u32(after[0], off) == 13
    ]
    err = [
        off - header
        for off in range(header, size - 3, 4)
        if _u32(after[0], off) == 0x1238 and _u32(after[1], off) == 0x2340
    ]
    if len(old) != 1 or len(err) != 1:
        raise UnicornProbeError(f"exception fields ambiguous: old={old} error_code={err}")
    is_int = header + err[0] + 4
    if _u32(first, is_int) != 0 or _u32(software, is_int) != 1:
        raise UnicornProbeError("exception_is_int is not next to error_code")
    return old[0], err[0]


def engine_address(uc: Uc) -> int:
    handle = uc._uch  # the uc_engine pointer the binding holds
    return handle.value if isinstance(handle, ctypes.c_void_p) else int(handle)


def _find_counter(uc: Uc) -> int:
    uc.mem_write(0x2000, b"\x40\xeb\xfd")  # inc eax ; jmp $-1
    base = engine_address(uc)
    found: set[int] | None = None
    for count in (777, 12345):
        uc.emu_start(0x2000, 0x1FFF, count=count)
        raw = ctypes.string_at(base, _COUNTER_SCAN_BYTES)
        hits = {
            off
            for off in range(0, _COUNTER_SCAN_BYTES - 15, 8)
            if struct.unpack_from("<QQ", raw, off) == (count + 1, count)
        }
        found = hits if found is None else found & hits
    if not found or len(found) != 1:
        raise UnicornProbeError("the instruction counter of uc_emu_start was not found")
    return found.pop()


@functools.cache
def layout() -> Layout:
    """Probe once per process; raises UnicornProbeError with what went wrong."""
    try:
        uc = _probe_engine()
        header = _find_header(uc)
        _check_fixed_fields(uc, header)
        old, err = _find_exception_fields(header)
        counter = _find_counter(uc)
    except UcError as exc:
        raise UnicornProbeError(f"probe failed inside Unicorn: {exc}") from exc
    return Layout(header, old, err, counter)


class CpuState:
    """A reusable saved context of one engine, patched in place and restored.

    Writing a segment cache and CPL this way is how the machine completes an
    interrupt delivery or a monitor's emulated far transfer; Unicorn's
    register API refuses to load a more privileged SS, as a CPU would from
    the instruction stream.
    """

    def __init__(self, uc: Uc) -> None:
        self._uc = uc
        self._layout = layout()
        self._ctx = uc.context_save()
        address = ctypes.cast(self._ctx.context, ctypes.c_void_p).value
        if address is None:
            raise UnicornProbeError("a saved context has no address")
        size = self._ctx.size
        self._view = memoryview((ctypes.c_char * size).from_address(address)).cast("B")
        self._base = self._layout.context_header
        self._keep = self._ctx  # the view points into it

    def load(self) -> None:
        self._uc.context_update(self._ctx)

    def commit(self) -> None:
        self._uc.context_restore(self._ctx)

    def _get(self, fmt: str, off: int) -> int:
        return struct.unpack_from(fmt, self._view, self._base + off)[0]

    def _set(self, fmt: str, off: int, value: int) -> None:
        struct.pack_into(fmt, self._view, self._base + off, value)

    @property
    def hflags(self) -> int:
        return self._get("<I", HFLAGS)

    def set_hflags(self, value: int) -> None:
        self._set("<I", HFLAGS, value)

    @property
    def cpl(self) -> int:
        return self.hflags & HF_CPL_MASK

    @property
    def interrupts_inhibited(self) -> bool:
        """One instruction after STI or MOV SS, when no interrupt is taken."""
        return bool(self.hflags & HF_INHIBIT_IRQ)

    @property
    def error_code(self) -> int:
        return self._get("<i", self._layout.error_code) & 0xFFFFFFFF

    @property
    def exception_is_software(self) -> bool:
        """INT n, INT3 or INTO, rather than a fault the instruction caused."""
        return self._get("<i", self._layout.error_code + 4) != 0

    def clear_nested_exception(self) -> None:
        """QEMU resets this when it delivers; Unicorn never does (#1883)."""
        self._set("<i", self._layout.old_exception, -1)

    def set_eip(self, value: int) -> None:
        """Move EIP; the instruction there is done, so an STI/MOV SS shadow is over."""
        self._set("<Q", EIP, value & 0xFFFFFFFF)
        self._set("<I", HFLAGS, self.hflags & ~HF_INHIBIT_IRQ)

    def set_reg(self, index: int, value: int) -> None:
        self._set("<Q", REGS + 8 * index, value & 0xFFFFFFFF)

    def segment(self, name: str) -> tuple[int, int, int, int]:
        """(selector, base, limit, flags) of a segment register's cache."""
        off = self._base + SEGS + SEG_INDEX[name] * SEG_SIZE
        return SEGMENT_CACHE.unpack_from(self._view, off)  # type: ignore[return-value]

    def load_segment(self, name: str, selector: int, base: int, limit: int, flags: int) -> None:
        """Fill a hidden descriptor cache as a completed load would."""
        off = SEGS + SEG_INDEX[name] * SEG_SIZE
        self._set("<I", off, selector & 0xFFFF)
        self._set("<Q", off + 8, base & 0xFFFFFFFF)
        self._set("<I", off + 16, limit & 0xFFFFFFFF)
        self._set("<I", off + 20, flags & 0xFFFFFFFF)
        self._refresh_hflags()

    def _refresh_hflags(self) -> None:
        """Recompute what QEMU derives from the caches (CPL from SS, sizes, ADDSEG)."""
        hflags = self.hflags
        cs_flags = self.segment("cs")[3]
        _, ss_base, _, ss_flags = self.segment("ss")
        hflags &= ~(HF_CPL_MASK | HF_CS32 | HF_SS32 | HF_ADDSEG)
        hflags |= (ss_flags >> DESC_DPL_SHIFT) & 3
        if cs_flags & DESC_B:
            hflags |= HF_CS32
        if ss_flags & DESC_B:
            hflags |= HF_SS32
        flat = not (ss_base or self.segment("ds")[1] or self.segment("es")[1])
        if not hflags & HF_PE or not hflags & HF_CS32 or not flat:
            hflags |= HF_ADDSEG
        self._set("<I", HFLAGS, hflags)

    def table(self, name: str) -> tuple[int, int, int]:
        """(selector, base, limit) of LDTR, TR, GDTR or IDTR."""
        off = {"ldt": LDT, "tr": TR, "gdt": GDT, "idt": IDT}[name]
        return self._get("<I", off), self._get("<Q", off + 8), self._get("<I", off + 16)


def counter_reader(uc: Uc) -> ctypes.c_size_t:
    """A live view of how many instructions the current uc_emu_start has begun."""
    return ctypes.c_size_t.from_address(engine_address(uc) + layout().emu_counter)


def counter_limit(uc: Uc) -> ctypes.c_size_t:
    """The count uc_emu_start stops at, beside the counter (the probe found the pair).

    Lowering it to the counter from inside a memory hook stops the CPU at the
    start of the next instruction, with the current one complete: uc_emu_stop
    there would abandon the rest of the instruction after its store.
    """
    return ctypes.c_size_t.from_address(engine_address(uc) + layout().emu_counter + 8)


def hook_rdtsc(uc: Uc, callback: object) -> int:
    """Register an RDTSC hook; the binding knows the C hook but not this insn.

    callback(uc) returns nothing and must set EDX:EAX itself; the instruction's
    own read of the host's clock is then skipped, which keeps runs repeatable.
    """
    from unicorn.unicorn_py3.arch.intel import HOOK_INSN_CPUID_CFUNC
    from unicorn.unicorn_py3.unicorn import uccallback

    def on_rdtsc(uc: Uc, _key: int) -> int:
        callback(uc)  # type: ignore[operator]
        return 1

    fptr = uccallback(uc, HOOK_INSN_CPUID_CFUNC)(on_rdtsc)
    add = uc._Uc__do_hook_add  # type: ignore[attr-defined]
    return add(UC_HOOK_INSN, fptr, 1, 0, ctypes.c_int(x86.UC_X86_INS_RDTSC))


def flush_tlb(uc: Uc) -> None:
    """Forget cached translations (the C API has it; the binding has no wrapper)."""
    from unicorn.unicorn_const import UC_CTL_IO_WRITE, UC_CTL_TLB_FLUSH

    uc.ctl(UC_CTL_TLB_FLUSH, UC_CTL_IO_WRITE)


class Registers:
    """Plain register reads and writes without the binding's per-call dispatch.

    The binding picks a ctypes class for every access, which costs several
    microseconds; a trap handler makes a handful of accesses, so this goes
    straight to uc_reg_read/uc_reg_write with one reusable buffer. Only for
    registers that fit 64 bits (general, segment, EIP, EFLAGS, control).
    """

    def __init__(self, uc: Uc) -> None:
        from unicorn.unicorn_py3.unicorn import uclib

        self._lib = uclib
        self._handle = uc._uch
        self._buffer = ctypes.c_uint64(0)
        self._ref = ctypes.byref(self._buffer)
        self._uc = uc

    def read(self, regid: int) -> int:
        self._buffer.value = 0
        if self._lib.uc_reg_read(self._handle, regid, self._ref):
            return self._uc.reg_read(regid)  # let the binding raise its own error
        return self._buffer.value

    def write(self, regid: int, value: int) -> None:
        self._buffer.value = value
        if self._lib.uc_reg_write(self._handle, regid, self._ref):
            self._uc.reg_write(regid, value)
