"""The descriptor tables a paravirtual guest hands the monitor, checked and installed.

The guest never loads a table register itself. It passes its GDT, its trap
table and its ring-1 stack to the monitor, which checks them (no descriptor
may reach ring 0, the monitor's; no handler may run there) and installs
copies in its own memory, which the guest cannot write. The CPU then uses
the copies directly: segment loads and far jumps inside ring 1 or ring 3 do
not trap. The trap table becomes an IDT and the stack a TSS in the monitor's
memory, so the machine's delivery checks (vizvm.monitors.reflect) reflect
exceptions and interrupts through them exactly as hardware would.
"""

from __future__ import annotations

import struct

from vizvm.machine.cpu import TableRegister
from vizvm.machine.descriptors import (
    TSS_MIN_LIMIT,
    TYPE_EXPAND_DOWN_OR_CONFORMING,
    TYPE_INTERRUPT_GATE32,
    TYPE_TRAP_GATE32,
    TYPE_TSS32_BUSY,
    Descriptor,
    is_null_selector,
    selector_rpl,
    tss_stack_offset,
)
from vizvm.machine.layout import MONITOR_BASE, MiB
from vizvm.machine.vectors import CpuFault
from vizvm.monitors.core import MonitorCore
from vizvm.monitors.pv_hypercalls import (
    MAX_TRAPS,
    TRAP_DISABLE_INTERRUPTS,
    TRAP_DPL_MASK,
    TRAP_INFO,
    HypercallError,
)
from vizvm.monitors.shadow import MONITOR_TSS, SHADOW_GDT, TSS_SIZE

KERNEL_RING = 1
PV_IDT = MONITOR_BASE + 0x13000  # the trap table as gates, for the delivery checks
PV_TSS = MONITOR_BASE + 0x14000  # SS1:ESP1 from stack_switch
IDT_LIMIT = 256 * 8 - 1
MAX_GDT_ENTRIES = 8191  # the 8192nd slot holds the monitor's own TSS descriptor
FLAT = 0xFFFFF

# Xen enters a paravirtual kernel on flat ring-1 segments of its own; so does this monitor.
START_OF_DAY = (
    Descriptor(0, 0),
    Descriptor.build(0, FLAT, 0xB, dpl=KERNEL_RING),  # 0x08: code, loaded as CS 0x09
    Descriptor.build(0, FLAT, 0x3, dpl=KERNEL_RING),  # 0x10: data, loaded as 0x11
)
START_CS, START_DS = 0x08 | KERNEL_RING, 0x10 | KERNEL_RING


def guest_bytes(core: MonitorCore, address: int, size: int, what: str) -> bytes:
    """Read guest RAM the guest named; anything outside it is refused, never read."""
    ram = core.machine.memory.ram_size
    if address >= ram or size > ram - address:
        raise HypercallError(
            f"{what} at {address:#010x} ({size} bytes) reaches past guest RAM "
            f"({ram // MiB} MiB, ending at {ram:#010x}): the monitor only reads memory the "
            f"guest owns")
    try:
        return core.machine.memory.read(address, size)
    except CpuFault as fault:
        raise HypercallError(f"{what} at {address:#010x} is not mapped ({fault})") from None


# the GDT ---------------------------------------------------------------------------
def refusal(index: int, d: Descriptor) -> str | None:
    """Why a descriptor may not go into a paravirtual guest's GDT, or None."""
    if index == 0 or not d.present:
        return None  # the null entry, and entries the CPU refuses to load anyway
    where = f"GDT entry {index} (selector {index * 8:#06x}, {d.low:08x} {d.high:08x})"
    if not d.is_segment:
        return (f"{where} is a system descriptor (TSS, LDT or gate): those belong to the "
                f"monitor")
    if d.dpl == 0:
        return (f"{where} grants ring 0, the monitor's own: a paravirtual kernel's segments "
                f"have DPL {KERNEL_RING} (kernel) or 3 (user)")
    if d.is_data and d.type & TYPE_EXPAND_DOWN_OR_CONFORMING:
        return f"{where} is expand-down: its reach could not be kept below the monitor"
    return None


def install_gdt(core: MonitorCore, entries: list[Descriptor]) -> int:
    """Check every entry, then copy the table into monitor memory and load it.

    Returns how many limits were cut short of the monitor's memory.
    """
    for index, d in enumerate(entries):
        why = refusal(index, d)
        if why is not None:
            raise HypercallError(why)
    shadow = core.shadow
    copies = [bytes(8)] + [shadow.cache_of(d).to_bytes() for d in entries[1:]]
    clipped = sum(1 for d, c in zip(entries[1:], copies[1:], strict=True)
                  if d.present and d.is_segment and Descriptor.from_bytes(c).limit != d.limit)
    tss = Descriptor.build(MONITOR_TSS, TSS_SIZE - 1, TYPE_TSS32_BUSY, s=False, db=False,
                           granularity=False)
    table = b"".join(copies) + tss.to_bytes()
    machine = core.machine
    machine.uc.mem_write(SHADOW_GDT, table)
    cpu = machine.cpu
    cpu.set_table_register("gdt", SHADOW_GDT, len(table) - 1)
    cpu.set_table_register("tr", MONITOR_TSS, TSS_SIZE - 1, len(entries) * 8, tss.high)
    # the monitor's checks read the installed copy, never the guest's writable original
    core.vcpu.gdtr = TableRegister(0, SHADOW_GDT, len(entries) * 8 - 1)
    machine.uc.ctl_flush_tb()
    return clipped


def read_gdt(core: MonitorCore, address: int, count: int) -> list[Descriptor]:
    if not 1 <= count <= MAX_GDT_ENTRIES:
        raise HypercallError(f"a GDT of {count} entries: 1 to {MAX_GDT_ENTRIES} are allowed")
    raw = guest_bytes(core, address, count * 8, "the GDT")
    return [Descriptor.from_bytes(raw[i : i + 8]) for i in range(0, len(raw), 8)]


# the trap table --------------------------------------------------------------------
def clear_trap_table(core: MonitorCore) -> None:
    core.machine.uc.mem_write(PV_IDT, bytes(IDT_LIMIT + 1))
    core.vcpu.idtr = TableRegister(0, PV_IDT, IDT_LIMIT)


def _handler_segment(core: MonitorCore, vector: int, selector: int) -> None:
    where = f"trap table entry for vector {vector:#04x}: selector {selector:#06x}"
    if is_null_selector(selector) or selector_rpl(selector) == 0:
        raise HypercallError(f"{where} asks for ring 0, the monitor's own")
    try:
        d = core.tables.read_descriptor(selector)
    except CpuFault:
        raise HypercallError(f"{where} lies beyond the installed GDT") from None
    if not (d.present and d.is_code and d.dpl != 0):
        raise HypercallError(f"{where} is not a present ring-1 or ring-3 code segment")


def load_trap_table(core: MonitorCore, address: int) -> list[int]:
    """Merge the guest's entries into the table, as Xen does; the vectors set."""
    gates: dict[int, bytes] = {}
    for index in range(MAX_TRAPS + 1):
        raw = guest_bytes(core, address + index * TRAP_INFO.size, TRAP_INFO.size,
                          "the trap table")
        vector, flags, selector, handler = TRAP_INFO.unpack(raw)
        if handler == 0:
            break
        _handler_segment(core, vector, selector)
        kind = TYPE_INTERRUPT_GATE32 if flags & TRAP_DISABLE_INTERRUPTS else TYPE_TRAP_GATE32
        dpl = flags & TRAP_DPL_MASK
        low = (selector << 16) | (handler & 0xFFFF)
        high = (handler & 0xFFFF0000) | 0x8000 | (dpl << 13) | (kind << 8)
        gates[vector] = struct.pack("<II", low, high)
    else:
        raise HypercallError(f"the trap table at {address:#010x} has no end: more than "
                             f"{MAX_TRAPS} entries and none with handler 0")
    for vector, gate in gates.items():
        core.machine.uc.mem_write(PV_IDT + vector * 8, gate)
    core.vcpu.idtr = TableRegister(0, PV_IDT, IDT_LIMIT)
    return sorted(gates)


# the ring-1 stack ------------------------------------------------------------------
def stack_switch(core: MonitorCore, ss: int, esp: int) -> None:
    """SS1:ESP1 of a TSS only the monitor sees: where events from ring 3 land."""
    where = f"stack segment {ss:#06x}"
    if is_null_selector(ss) or selector_rpl(ss) != KERNEL_RING:
        raise HypercallError(f"{where} must be a ring-{KERNEL_RING} selector (RPL "
                             f"{KERNEL_RING})")
    try:
        d = core.tables.read_descriptor(ss)
    except CpuFault:
        raise HypercallError(f"{where} lies beyond the installed GDT") from None
    if not (d.present and d.writable and d.dpl == KERNEL_RING):
        raise HypercallError(f"{where} is not a present, writable ring-{KERNEL_RING} data "
                             f"segment in the installed GDT")
    tss = bytearray(TSS_MIN_LIMIT + 1)
    esp_at, ss_at = tss_stack_offset(KERNEL_RING)
    struct.pack_into("<I", tss, esp_at, esp)
    struct.pack_into("<H", tss, ss_at, ss)
    core.machine.uc.mem_write(PV_TSS, bytes(tss))
    core.vcpu.tr = TableRegister(ss, PV_TSS, TSS_MIN_LIMIT)  # any non-null selector will do


def ring1_stack(core: MonitorCore) -> tuple[int, int]:
    """SS1 and ESP1 as stack_switch left them."""
    esp_at, ss_at = tss_stack_offset(KERNEL_RING)
    memory = core.machine.memory
    return memory.read_u16(PV_TSS + ss_at), memory.read_u32(PV_TSS + esp_at)
