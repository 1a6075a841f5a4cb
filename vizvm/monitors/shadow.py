"""Shadow descriptor tables: the GDT and LDT the real CPU uses under a monitor.

The monitor copies the guest's tables into memory of its own, changing each
descriptor the way a deprivileging monitor must: ring 0 becomes the ring the
guest kernel really runs in, code segments are marked not present so that
every far transfer and IRET traps into the monitor (which then knows the
guest's ring and interrupt flag exactly), and limits stop below the
monitor's memory. Writes the guest makes to its own tables are traced and
copied; accessed bits the CPU sets in the shadow are copied back.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from unicorn import UC_HOOK_MEM_WRITE, Uc

from vizvm.machine.cpu import TableRegister
from vizvm.machine.descriptors import (
    TYPE_CALL_GATE32,
    TYPE_LDT,
    TYPE_TASK_GATE,
    TYPE_TSS32_BUSY,
    Descriptor,
)
from vizvm.machine.layout import MONITOR_BASE
from vizvm.monitors.monitor_memory import claim
from vizvm.monitors.vcpu import VirtualCpu

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

SHADOW_GDT = MONITOR_BASE
MONITOR_TSS = MONITOR_BASE + 0x11000
MONITOR_IDT = MONITOR_BASE + 0x12000
SHADOW_LDT = MONITOR_BASE + 0x20000
SHADOW_LDT_END = SHADOW_LDT + 0x10000
TSS_SIZE = 104
ACCESSED = 0x100


class ShadowTables:
    def __init__(
        self, machine: Machine, vcpu: VirtualCpu, kernel_ring: int, *, trap_far: bool = True
    ) -> None:
        self.machine = machine
        self.vcpu = vcpu
        self.kernel_ring = kernel_ring
        self.trap_far = trap_far  # mark code segments not present (see the module's docstring)
        self._gdt_hook: int | None = None
        self._ldt_hook: int | None = None
        self.monitor_tss_selector = 0
        self.monitor_ldt_selector = 0
        # descriptors a monitor adds for itself after the TSS and LDT (binary translation)
        self.extra: tuple[Descriptor, ...] = ()
        self.guard = claim(machine, self._cpu_wrote)
        tss = bytearray(TSS_SIZE)
        struct.pack_into("<H", tss, 0x66, TSS_SIZE)  # no I/O bitmap: all I/O traps
        machine.uc.mem_write(MONITOR_TSS, bytes(tss))
        machine.cpu.set_table_register("idt", MONITOR_IDT, 0x7FF)

    @staticmethod
    def _cpu_wrote(address: int, size: int, value: int) -> bool:
        """The CPU's own writes here: accessed bits set in shadow descriptors on loads."""
        in_tables = SHADOW_GDT <= address < MONITOR_TSS or SHADOW_LDT <= address < SHADOW_LDT_END
        return in_tables and address % 8 == 4 and size == 4 and bool(value & ACCESSED)

    # rings ------------------------------------------------------------------
    def real_ring(self, guest_ring: int) -> int:
        """Where code the guest runs at `guest_ring` really runs (ring compression)."""
        return 3 if guest_ring == 3 else max(guest_ring, self.kernel_ring)

    def shadow_of(self, d: Descriptor) -> Descriptor:
        """The descriptor the real CPU may load from the shadow table."""
        if not d.present:
            return d
        if not d.is_segment:
            if d.type in (TYPE_CALL_GATE32, TYPE_TASK_GATE) or d.type == 4:
                return d.with_present(False)  # gates are not virtualized: trap
            return d
        shadow = self.cache_of(d)
        return shadow.with_present(False) if d.is_code and self.trap_far else shadow

    def cache_of(self, d: Descriptor) -> Descriptor:
        """What the monitor puts in a hidden cache when it loads `d` itself."""
        if not d.is_segment:
            return d
        shadow = d.with_dpl(self.real_ring(d.dpl))
        if not d.type & 0x4 or d.is_code:  # expand-up: keep clear of monitor memory
            top = d.base + d.limit
            if d.base >= MONITOR_BASE:
                shadow = shadow.with_limit(0).with_present(False)
            elif top >= MONITOR_BASE:
                shadow = shadow.with_limit(MONITOR_BASE - 1 - d.base)
        return shadow

    def load_idt_copy(self) -> None:
        """Plain ring compression: the CPU uses a copy of the guest's IDT whose
        gates are reachable from the guest kernel's real ring."""
        idtr = self.vcpu.idtr
        raw = bytearray(self._read_guest(idtr.base, idtr.limit + 1) if idtr.limit else b"")
        for offset in range(0, len(raw) - 7, 8):
            high = int.from_bytes(raw[offset + 4 : offset + 8], "little")
            dpl = self.real_ring((high >> 13) & 3)
            high = (high & ~(3 << 13)) | (dpl << 13)
            raw[offset + 4 : offset + 8] = high.to_bytes(4, "little")
        self.machine.uc.mem_write(MONITOR_IDT, bytes(raw))
        self.machine.cpu.set_table_register("idt", MONITOR_IDT, idtr.limit)

    # the GDT ------------------------------------------------------------------
    def load_gdt(self, previous: TableRegister | None = None) -> None:
        """Rebuild the shadow after LGDT and put the real GDTR on it."""
        if previous is not None:
            self.sync_accessed(previous)
        gdtr = self.vcpu.gdtr
        count = (gdtr.limit + 1 + 7) // 8 if gdtr.limit else 1
        raw = self._read_guest(gdtr.base, count * 8)
        out = bytearray()
        for i in range(count):
            out += self._shadow_entry(raw[8 * i : 8 * i + 8], i)
        self.monitor_tss_selector = count * 8
        self.monitor_ldt_selector = count * 8 + 8
        tss = Descriptor.build(MONITOR_TSS, TSS_SIZE - 1, TYPE_TSS32_BUSY, s=False,
                               db=False, granularity=False)
        out += tss.to_bytes() + self._ldt_descriptor().to_bytes()
        out += b"".join(d.to_bytes() for d in self.extra)
        self.machine.uc.mem_write(SHADOW_GDT, bytes(out))
        cpu = self.machine.cpu
        cpu.set_table_register("gdt", SHADOW_GDT, len(out) - 1)
        cpu.set_table_register("tr", MONITOR_TSS, TSS_SIZE - 1, self.monitor_tss_selector,
                               tss.high)
        self._gdt_hook = self._trace(self._gdt_hook, gdtr, self._on_gdt_write)
        if self.vcpu.ldtr.limit:
            self.load_ldt()

    def _read_guest(self, base: int, size: int) -> bytes:
        try:
            return self.machine.memory.read(base, size)
        except Exception:
            return bytes(size)

    def _shadow_entry(self, raw: bytes, index: int, *, gdt: bool = True) -> bytes:
        if (gdt and index == 0) or len(raw) < 8:
            return bytes(8)
        return self.shadow_of(Descriptor.from_bytes(raw)).to_bytes()

    def _trace(self, old: int | None, table: TableRegister, callback: object) -> int | None:
        uc = self.machine.uc
        if old is not None:
            uc.hook_del(old)
        hook = None
        if table.limit:
            hook = uc.hook_add(UC_HOOK_MEM_WRITE, callback, None, table.base,
                               table.base + table.limit)
        uc.ctl_flush_tb()  # translated stores check for write hooks only if made after them
        return hook

    def _on_gdt_write(
        self, uc: Uc, access: int, address: int, size: int, value: int, _data: object
    ) -> None:
        """The guest stores into its GDT: the write is about to happen; copy it."""
        self._copy_write(self.vcpu.gdtr, SHADOW_GDT, address, value.to_bytes(8, "little")[:size])

    def guest_wrote(self, address: int, data: bytes) -> None:
        """The monitor itself wrote a guest table (accessed or busy bits)."""
        self._copy_write(self.vcpu.gdtr, SHADOW_GDT, address, data)
        if self.vcpu.ldtr.limit:
            self._copy_write(self.vcpu.ldtr, SHADOW_LDT, address, data, gdt=False)

    def _copy_write(
        self, table: TableRegister, shadow: int, address: int, data: bytes, *, gdt: bool = True
    ) -> None:
        start = address - table.base
        end = start + len(data)
        if end <= 0 or start > table.limit:
            return
        first, last = max(0, start) // 8, min(table.limit, end - 1) // 8
        for index in range(first, last + 1):
            if gdt:  # an accessed bit the CPU set must survive the guest's own write
                self._sync_entry(table, index)
            raw = bytearray(self._read_guest(table.base + 8 * index, 8))
            for offset, byte in enumerate(data):
                at = start + offset - 8 * index
                if 0 <= at < 8:
                    raw[at] = byte
            entry = self._shadow_entry(bytes(raw), index, gdt=gdt)
            self.machine.uc.mem_write(shadow + 8 * index, entry)

    def sync_accessed(self, gdtr: TableRegister | None = None) -> None:
        """Copy accessed bits the CPU set in the shadow back to the guest's GDT.

        Done lazily (at LGDT, at the end of a run, before the guest rewrites an
        entry) rather than at every trap: only a guest reading its own GDT's
        accessed bits in between could tell.
        """
        gdtr = gdtr or self.vcpu.gdtr
        for index in range(1, (gdtr.limit + 1) // 8):
            self._sync_entry(gdtr, index)

    def _sync_entry(self, gdtr: TableRegister, index: int) -> None:
        s_high = int.from_bytes(self.machine.uc.mem_read(SHADOW_GDT + 8 * index + 4, 4), "little")
        if not s_high & ACCESSED:
            return
        address = gdtr.base + 8 * index + 4
        g_high = int.from_bytes(self._read_guest(address, 4), "little")
        if not g_high & ACCESSED and g_high & (1 << 12):
            self.machine.memory.write(address, (g_high | ACCESSED).to_bytes(4, "little"))

    def extra_selector(self, index: int, ring: int) -> int:
        """The selector of the monitor's `index`th extra descriptor, with RPL `ring`."""
        return (self.monitor_ldt_selector + 8 * (index + 1)) | ring

    # the LDT ------------------------------------------------------------------
    def _ldt_descriptor(self) -> Descriptor:
        size = self.vcpu.ldtr.limit + 1 if self.vcpu.ldtr.limit else 8
        return Descriptor.build(SHADOW_LDT, size - 1, TYPE_LDT, s=False, db=False,
                                granularity=False)

    def load_ldt(self) -> None:
        """Shadow the guest's LDT; the real LDTR names the monitor's descriptor for it."""
        ldtr = self.vcpu.ldtr
        cpu = self.machine.cpu
        if not ldtr.limit:
            cpu.set_table_register("ldt", 0, 0)
        else:
            count = (ldtr.limit + 1 + 7) // 8
            raw = self._read_guest(ldtr.base, count * 8)
            out = b"".join(
                self.shadow_of(Descriptor.from_bytes(raw[8 * i : 8 * i + 8])).to_bytes()
                for i in range(count)
            )
            self.machine.uc.mem_write(SHADOW_LDT, out)
            descriptor = self._ldt_descriptor()
            self.machine.uc.mem_write(SHADOW_GDT + self.monitor_ldt_selector, descriptor.to_bytes())
            cpu.set_table_register("ldt", SHADOW_LDT, len(out) - 1, self.monitor_ldt_selector,
                                   descriptor.high)
        self._ldt_hook = self._trace(self._ldt_hook, ldtr, self._on_ldt_write)

    def _on_ldt_write(
        self, uc: Uc, access: int, address: int, size: int, value: int, _data: object
    ) -> None:
        data = value.to_bytes(8, "little")[:size]
        self._copy_write(self.vcpu.ldtr, SHADOW_LDT, address, data, gdt=False)
