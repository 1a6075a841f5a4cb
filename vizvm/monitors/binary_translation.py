"""Binary translation in the manner of VMware's monitor: the guest kernel runs rewritten.

The guest kernel is deprivileged to ring 1 on shadow tables, as under
trap-and-emulate, but it never runs its own code: whenever it is in its
ring 0 the CPU executes a translation of that code from the translation
cache, in monitor memory, on a code segment of the monitor's. Blocks are
translated the first time they are reached (vizvm.monitors.bt_translate,
vizvm.monitors.bt_cache). Instructions that would trap become cheaper
callouts, and the holes that trap-and-emulate leaves open (POPF, PUSHF,
SGDT, SIDT, SLDT, STR, SMSW, reads of CS and SS, LAR, LSL, VERR, VERW) are
closed the same way or by inline code on the virtual CPU, so the guest sees
what bare hardware would show it. Guest user code runs untranslated.

Whenever the monitor itself is entered (a callout, a fault, an interrupt)
it first takes the CPU out of the cache, restoring the guest's own CS, GS
and EIP, so that everything it shares with trap-and-emulate (emulation,
reflection, shadow paging) works on guest state; on the way back it puts
the CPU into the translation of wherever the guest is to continue.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from unicorn import UC_HOOK_MEM_WRITE, Uc

from vizvm.asm.disasm import MAX_INSN
from vizvm.machine.delivery import Source
from vizvm.machine.descriptors import Descriptor
from vizvm.machine.layout import PAGE
from vizvm.machine.memory import MachineError
from vizvm.machine.supervisor import Emulated, PortAccess, Trap
from vizvm.machine.vectors import BP, DB, GP, OF, CpuFault
from vizvm.monitors import privileged, sensitive
from vizvm.monitors.bt_cache import Listing, TranslationCache
from vizvm.monitors.bt_translate import (
    VCS_OFFSET,
    VIF_OFFSET,
    VSS_OFFSET,
    After,
    How,
    Slot,
    translate_block,
)
from vizvm.monitors.core import MonitorCore
from vizvm.monitors.monitor_memory import VMM_DATA
from vizvm.monitors.operands import effective_address
from vizvm.monitors.segments import Unsupported
from vizvm.monitors.trap_emulate import TrapEmulate
from vizvm.trace.events import Kind

if TYPE_CHECKING:
    from vizvm.machine.machine import Machine

KERNEL_RING = 1
CS32 = 1 << 22  # a segment cache's D/B flag
CR0_PG, CR4_PSE = 1 << 31, 0x10
TC_CODE = Descriptor.build(0, 0xFFFFF, 0xB, dpl=KERNEL_RING)  # flat, at the kernel's real ring
VMM_DATA_SEGMENT = Descriptor.build(VMM_DATA, PAGE - 1, 0x3, dpl=KERNEL_RING,
                                    granularity=False)
REPEATABLE = (After.NOTHING, After.IO, After.SEGMENT)  # not branches: EIP unmoved means REP
Segment = tuple[int, int, int, int]
T = TypeVar("T")  # a hidden cache: selector, base, limit, flags


def _monitor_entry(method: Callable[..., T]) -> Callable[..., T]:
    """Marks an entry into the monitor: the CPU is not running the cache's code."""

    @functools.wraps(method)
    def entry(self: BinaryTranslation, *args: object) -> T:
        self._handling += 1
        try:
            return method(self, *args)
        finally:
            self._handling -= 1

    return entry


class BinaryTranslation(TrapEmulate):
    name = "binary-translation"

    def __init__(self) -> None:
        super().__init__(KERNEL_RING)
        self._cache: TranslationCache | None = None
        self._guest_cs: Segment | None = None  # the guest's CS and GS while in the cache
        self._guest_gs: Segment | None = None
        self._stepping: Slot | None = None  # an instruction running out of line
        self._steps = 0  # tells a step's callback from a later one's
        self._written: list[tuple[int, int, int]] = []  # stores into translated code, pending
        self._handling = 0  # inside an entry into the monitor, where the cache may change
        self._paging: tuple[int, int, int] = (0, 0, 0)
        self._watched: dict[int, tuple[int, int, int]] = {}  # page -> (hook, first, last)

    @property
    def cache(self) -> TranslationCache:
        assert self._cache is not None
        return self._cache

    def setup(self, machine: Machine) -> None:
        self.machine = machine
        core = self._core = MonitorCore(machine, KERNEL_RING)
        core.shadow.extra = (TC_CODE, VMM_DATA_SEGMENT)
        core.shadow.guard.allow(lambda address, _s, _v: VMM_DATA <= address < VMM_DATA + PAGE)
        core.deprivilege()
        self._cache = TranslationCache(machine.uc)
        vif = VMM_DATA + VIF_OFFSET
        machine.uc.hook_add(UC_HOOK_MEM_WRITE, self._on_vif_write, None, vif, vif)
        machine.memory.write_listeners.append(self._monitor_wrote)
        machine.uc.ctl_flush_tb()
        self._paging = self._paging_state()
        self._enter()

    @_monitor_entry
    def finish(self) -> None:
        self.core.cpu.begin()
        self._leave()
        super().finish()

    def listing(self, *, include_invalid: bool = False) -> list[Listing]:
        """The translation cache's blocks, guest code beside translated code."""
        return self.cache.listing(include_invalid=include_invalid)

    def guest_registers(self, registers: dict[str, int]) -> dict[str, int]:
        """`registers` with the guest's own EIP, CS and GS in place of the cache's, so
        that a debugger shows where the guest is in its code, not in the cache."""
        if self._guest_cs is None or self._guest_gs is None:
            return registers
        guest = self.cache.guest_address(self.core.cpu.eip)
        if guest is None:
            return registers
        return {**registers, "eip": (guest - self._guest_cs[1]) & 0xFFFFFFFF,
                "cs": self._guest_cs[0], "gs": self._guest_gs[0]}

    # into and out of the cache ------------------------------------------------------------
    @property
    def in_cache(self) -> bool:
        return self._guest_cs is not None

    def _leave(self, at: int | None = None) -> None:
        """Put the guest's own CS, GS and EIP back (inside a hook or between chunks)."""
        if self._guest_cs is None or self._guest_gs is None:
            return
        cpu = self.core.cpu
        tc = cpu.eip if at is None else at
        guest = self.cache.guest_address(tc)
        if guest is None:
            raise MachineError(f"the CPU stopped at {tc:#010x} in the translation cache, where "
                               f"no translation begins")
        state = cpu.begin()
        state.load_segment("cs", *self._guest_cs)
        state.load_segment("gs", *self._guest_gs)
        state.set_eip((guest - self._guest_cs[1]) & 0xFFFFFFFF)
        cpu.commit()
        self._guest_cs = self._guest_gs = None

    def _enter(self, after: Slot | None = None) -> None:
        """Continue the guest kernel in the translation of where it is."""
        core, machine = self.core, self.core.machine
        if self.in_cache or machine.exit is not None or core.vcpu.cpl != 0:
            return
        state = core.cpu.begin()
        cs = state.segment("cs")
        if not cs[3] & CS32:
            return  # 16-bit code runs as under trap-and-emulate
        paging = self._paging_state()
        if paging != self._paging:
            self._paging = paging
            self._flush("the guest changed its page tables (CR3, CR0.PG or CR4.PSE)")
        guest = (cs[1] + core.cpu.eip) & 0xFFFFFFFF
        slot = self._find(guest, cs[1], after)
        if slot is None:
            return
        state = core.cpu.begin()
        self._guest_cs, self._guest_gs = cs, state.segment("gs")
        shadow = core.shadow
        core.cpu.load_cached("cs", shadow.extra_selector(0, KERNEL_RING), TC_CODE)
        core.cpu.load_cached("gs", shadow.extra_selector(1, KERNEL_RING), VMM_DATA_SEGMENT)
        state.set_eip(slot.tc)
        core.cpu.commit()
        uc = machine.uc
        uc.mem_write(VMM_DATA + VIF_OFFSET, bytes((int(core.vcpu.interrupts),)))
        for offset, selector in ((VCS_OFFSET, cs[0]), (VSS_OFFSET, state.segment("ss")[0])):
            virtual = (selector & 0xFFFC) | core.vcpu.cpl
            uc.mem_write(VMM_DATA + offset, virtual.to_bytes(4, "little"))

    def _paging_state(self) -> tuple[int, int, int]:
        v = self.core.vcpu
        return v.cr0 & CR0_PG, v.cr3 if v.cr0 & CR0_PG else 0, v.cr4 & CR4_PSE

    # finding and making translations ---------------------------------------------------------
    def _find(self, guest: int, cs_base: int, after: Slot | None) -> Slot | None:
        """The translation to continue in, with the events of the lookup, translating on a miss."""
        found = self.cache.lookup(guest, cs_base)
        looked_up = after is not None and after.after is After.LOOKUP
        if found is not None:
            if looked_up:
                assert after is not None
                self._event(Kind.CACHE_HIT, f"{after.insn.text if after.insn else 'branch'} "
                            f"went to {guest:#010x}: found its translation in the cache",
                            guest, "bt_indirect", target=guest)
            return found
        self._event(Kind.CACHE_MISS, f"no translation of {guest:#010x} in the cache yet",
                    guest, "bt_indirect" if looked_up else "", target=guest)
        return self._translate(guest, cs_base)

    def _translate(self, guest: int, cs_base: int) -> Slot | None:
        slots = translate_block(self._fetch, guest, cs_base)
        for slot in slots:
            if slot.insn is not None:
                slot.physical = self._physical(slot.guest, slot.insn.size)
        block = self.cache.place(guest, cs_base, slots)
        self._watch(block.pages())
        code = block.instructions
        callouts = sum(1 for s in code if s.how in (How.CALLOUT, How.STEP))
        inline = sum(1 for s in code if s.how is How.INLINE)
        first = code[0].insn if code else None
        self._insn = first
        listing = self.cache.listing_of(block)
        self.core.machine.emit(
            Kind.TRANSLATE,
            f"translated {len(code)} guest instructions at {guest:#010x} into the cache at "
            f"{block.tc:#010x}: {callouts} call the monitor, {inline} inline on the virtual CPU",
            address=guest, cost="bt_translate", units=max(1, len(code)), insn=first,
            data={"tc": block.tc, **listing.to_json()},
        )
        return self.cache.lookup(guest, cs_base) or (block.slots[0] if block.slots else None)

    def _fetch(self, address: int) -> bytes:
        """Guest code as the CPU would fetch it: through the guest's own page tables."""
        memory = self.core.machine.memory
        room = PAGE - (address & (PAGE - 1))
        try:
            first = memory.read(address, min(MAX_INSN, room))
        except (CpuFault, MachineError):
            return b""
        if room >= MAX_INSN:
            return first
        try:
            return first + memory.read((address + room) & 0xFFFFFFFF, MAX_INSN - room)
        except (CpuFault, MachineError):
            return first

    def _physical(self, linear: int, size: int) -> tuple[tuple[int, int], ...]:
        """Where an instruction's bytes lie in RAM (two pieces across a page boundary)."""
        memory = self.core.machine.memory
        pieces = []
        while size > 0:
            chunk = min(size, PAGE - (linear & (PAGE - 1)))
            start = memory.translate(linear)
            pieces.append((start, start + chunk))
            linear, size = (linear + chunk) & 0xFFFFFFFF, size - chunk
        return tuple(pieces)

    def _flush(self, why: str) -> None:
        if self.cache.blocks:
            self.core.machine.emit(Kind.INVALIDATE, f"flushed the translation cache: {why}",
                                   address=self._guest_pc(), cost="",
                                   data={"blocks": len(self.cache.blocks)})
        self.cache.flush()
        self._unwatch()

    def _guest_pc(self) -> int:
        if self.in_cache:
            found = self.cache.guest_address(self.core.cpu.eip)
            if found is not None:
                return found
        return self.core.machine.linear_pc()

    # watching translated code for writes ------------------------------------------------------
    def _watch(self, pages: set[int]) -> None:
        """A write hook over the translated bytes of each page (self-modifying code)."""
        spans = self.cache.pages()
        uc = self.core.machine.uc
        changed = False
        for page in pages:
            span = spans.get(page)
            old = self._watched.get(page)
            if span is None or (old is not None and old[1] <= span[0] and span[1] <= old[2]):
                continue
            if old is not None:
                uc.hook_del(old[0])
            first, last = span if old is None else (min(old[1], span[0]), max(old[2], span[1]))
            hook = uc.hook_add(UC_HOOK_MEM_WRITE, self._on_code_write, None, first, last)
            self._watched[page] = (hook, first, last)
            changed = True
        if changed:
            uc.ctl_flush_tb()  # stores translated before a hook exists do not call it

    def _unwatch(self) -> None:
        for hook, _first, _last in self._watched.values():
            self.core.machine.uc.hook_del(hook)
        self._watched.clear()

    def _on_code_write(
        self, uc: Uc, access: int, address: int, size: int, value: int, _data: object
    ) -> None:
        """A guest store into translated code (Unicorn reports its physical address).

        Inside the store nothing may touch the cache's code, which the CPU may be
        running: the work waits until the store is complete and the CPU stopped.
        """
        if self.cache.covers(address, address + size):
            if not self._written:
                self.core.machine.defer(self._apply_writes, in_store=True)
            self._written.append((address, size, self._guest_pc()))

    @_monitor_entry
    def _apply_writes(self) -> None:
        written, self._written = self._written, []
        for address, size, where in written:
            self._drop_written(address, size, where, cost="trap")
        self._resync()

    def _monitor_wrote(self, physical: int, size: int) -> None:
        """The monitor's own stores (a frame, an emulated SGDT) may hit translated code too.

        Made while the monitor handles an entry, they take effect at once; made from a
        memory hook (the shadow GDT's), they wait, as the guest's own stores do.
        """
        if self._handling:
            self._drop_written(physical, size, self._guest_pc(), cost="")
        elif self.cache.covers(physical, physical + size):
            if not self._written:
                self.core.machine.defer(self._apply_writes, in_store=True)
            self._written.append((physical, size, self._guest_pc()))

    def _drop_written(self, address: int, size: int, where: int, *, cost: str) -> None:
        for block in self.cache.invalidate(address, address + size):
            self.core.machine.emit(
                Kind.INVALIDATE,
                f"a write to {address:#010x} ({size} bytes) changed translated guest code: "
                f"dropped the block translated from {block.guest:#010x}",
                address=where, cost=cost,
                data={"written": address, "size": size, "block": block.guest},
            )

    def _resync(self) -> None:
        """Continue in a translation of the guest's code as it now is."""
        self.core.cpu.begin()
        self._leave()
        self._enter()

    # the virtual interrupt flag, written inline -------------------------------------------------
    def _on_vif_write(
        self, uc: Uc, access: int, address: int, size: int, value: int, _data: object
    ) -> None:
        core = self.core
        on = bool(value & 0xFF)
        was = core.vcpu.interrupts
        core.vcpu.interrupts = on
        slot = self.cache.at(core.cpu.eip)
        guest = slot.guest if slot is not None else self._guest_pc()
        self._insn = slot.insn if slot is not None else None
        name = "STI" if on else "CLI"
        self._event(Kind.EMULATE, f"translated {name} {'set' if on else 'cleared'} the virtual "
                    f"IF in the monitor's data page, without leaving the cache", guest,
                    "bt_inline", inline=True)
        if on and not was and core.machine.pic.has_interrupt():
            core.machine.check_interrupts_after_next(in_store=True)  # the STI shadow

    # entries into the monitor ---------------------------------------------------------------
    @_monitor_entry
    def on_exception(self, trap: Trap) -> None:
        core = self.core
        core.cpu.begin()
        if self.in_cache:
            # the cache's INT3s are one byte (the machine cannot read the cache's code
            # through the guest's page tables to find out)
            slot = self.cache.at(trap.return_eip - 1) if trap.software else None
            if trap.vector == 3 and slot is not None and slot.how in (
                    How.CALLOUT, How.STEP, How.STUB):
                self._callout(slot)
                return
            self._leave(at=trap.address)  # a fault in translated code: the guest's instruction
            trap = Trap(trap.vector, trap.source, trap.error_code, core.machine.linear_pc(),
                        core.cpu.eip)
        self._stepping = None  # an instruction run in place trapped: the monitor goes on
        super().on_exception(trap)
        self._enter()

    @_monitor_entry
    def take_interrupt(self) -> bool:
        self.core.cpu.begin()
        self._leave()
        taken = super().take_interrupt()
        self._enter()
        return taken

    def on_io_fault(self, access: PortAccess) -> Emulated | None:
        stepping = self._stepping
        if stepping is None or stepping.after is not After.IO:
            return super().on_io_fault(access)
        self.core.cpu.begin()
        self._insn = stepping.insn
        return self._device_access(access, "translated I/O: the monitor ")

    # callouts ---------------------------------------------------------------------------------
    def _callout(self, slot: Slot) -> None:
        if slot.how is How.STUB:
            self._resolve(slot)
        elif slot.how is How.STEP:
            self._step(slot)
        else:
            self._emulate_callout(slot)

    def _resolve(self, slot: Slot) -> None:
        """An exit stub: find or make the target's translation, chain the jump to it."""
        core, cache = self.core, self.cache
        core.machine.uncount()  # the stub is the monitor's, not a guest instruction
        assert self._guest_cs is not None
        cs_base = self._guest_cs[1]
        flushes = cache.flushes
        target = cache.lookup(slot.guest, cs_base)
        if target is None:
            self._leave(at=slot.tc)
            self._enter()  # translates the target
            target = cache.lookup(slot.guest, cs_base)
        else:
            self._event(Kind.CACHE_HIT, f"a jump reached {slot.guest:#010x}, whose translation "
                        f"exists: it will go there directly", slot.guest, "", target=slot.guest)
            state = core.cpu.begin()
            state.set_eip(target.tc)
            core.cpu.commit()
        site = slot.site
        if (target is not None and site is not None and cache.flushes == flushes
                and cache.at(site.tc) is site and cache.block_of(site).valid):
            cache.chain(site, target)

    def _step(self, slot: Slot) -> None:
        """Run the guest's own instruction once, in place, then continue in the cache."""
        core = self.core
        core.machine.uncount()  # the INT3 stands for nothing: the instruction itself will count
        if slot.insn is None and self._retranslate(slot):
            return
        self._leave(at=slot.tc)
        self._insn = slot.insn
        if slot.after is After.SEGMENT:
            self._event(Kind.CALLOUT, f"{slot.insn.text if slot.insn else ''}: {slot.why}",
                        slot.guest, "bt_callout")
        self._run_in_place(slot)

    def _run_in_place(self, slot: Slot) -> None:
        self._stepping = slot
        self._steps += 1
        token = self._steps
        self.core.machine.step_then(lambda: self._stepped(slot, token))

    def _retranslate(self, slot: Slot) -> bool:
        """Code that could not be fetched when translated may be readable now."""
        if not self._fetch(slot.guest):
            return False
        self.cache.drop(self.cache.block_of(slot))
        self._leave(at=slot.tc)
        self._enter()
        return self.in_cache

    @_monitor_entry
    def _stepped(self, slot: Slot, token: int) -> None:
        if token != self._steps or self._stepping is None:
            return  # the instruction trapped, and the monitor went on from there
        self._stepping = None
        core = self.core
        if core.machine.exit is not None or self.in_cache:
            return
        core.cpu.begin()
        if (core.vcpu.cpl == 0 and core.machine.linear_pc() == slot.guest
                and not core.machine.halted and slot.after in REPEATABLE):
            self._run_in_place(slot)  # a REP string instruction not done yet: once more
            return
        self._enter(after=slot)

    def _emulate_callout(self, slot: Slot) -> None:
        """Carry a privileged or sensitive instruction out on the virtual CPU."""
        core = self.core
        insn = slot.insn
        assert insn is not None
        self._leave(at=slot.tc)
        self._insn = insn
        detail = core.instruction(insn)
        before = core.vcpu.cpl
        self._event(Kind.CALLOUT, f"{insn.text}: {slot.why}", slot.guest, "bt_callout")
        try:
            if detail is None:
                raise Unsupported(f"{insn.text} cannot be decoded")
            mnemonic = detail.mnemonic
            if mnemonic in ("int", "int3", "into", "int1"):
                self._software_interrupt(detail, insn.size, slot.guest)
            else:
                result = sensitive.emulate(core, detail) or privileged.emulate(core, detail)
                if result is None:
                    raise CpuFault(GP, 0, f"{insn.text} is not allowed here")
                self._carry_out(result, insn.size, slot.guest, before)
                if mnemonic == "invlpg":
                    self._invalidate_page(detail)
        except CpuFault as fault:
            self._reflect_fault(fault, slot.guest)
        except Unsupported as exc:
            core.machine.fail(f"{insn.mnemonic} at {slot.guest:#010x}: {exc}")
            return
        self._enter()

    def _software_interrupt(self, detail: object, size: int, address: int) -> None:
        """INT n, INT3, INTO and INT1 from kernel code: delivered through the guest's IDT."""
        core = self.core
        mnemonic = detail.mnemonic  # type: ignore[attr-defined]
        next_eip = core.cpu.eip + size
        if mnemonic == "into" and not core.cpu.eflags & 0x800:
            state = core.cpu.begin()
            state.set_eip(next_eip)
            core.cpu.commit()
            return
        vector = {"int3": BP, "into": OF, "int1": DB}.get(
            mnemonic, detail.operands[0].imm if mnemonic == "int" else BP)  # type: ignore[attr-defined]
        source = Source.EXCEPTION if mnemonic == "int1" else Source.SOFTWARE
        self._reflect(vector & 0xFF, source, next_eip, None, address)

    def _invalidate_page(self, detail: object) -> None:
        linear = effective_address(self.core.cpu, detail, 0)  # type: ignore[arg-type]
        for block in self.cache.invalidate_linear_page(linear):
            self._event(Kind.INVALIDATE, f"INVLPG {linear:#010x}: the page's mapping may change, "
                        f"so its translations go", self.core.machine.linear_pc(), "",
                        block=block.guest)
