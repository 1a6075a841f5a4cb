"""The translation cache: where translated blocks live, and how they find each other.

Blocks are placed one after another in monitor memory. A direct jump whose
target already has a translation goes straight there (the blocks are
chained); otherwise it goes to an exit stub, an INT3 the monitor resolves by
translating the target and re-aiming the jump, so that the stub runs once.
Translations are looked up by the guest's linear address and its code
segment's base. A write to guest bytes that were translated drops the blocks
holding them; jumps chained into a dropped block go back to stubs. The
cache's memory is only reused after a flush, so code that is still running
when its block is dropped can always be traced back to the guest.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from unicorn import Uc

from vizvm.asm.disasm import disassemble
from vizvm.machine.layout import PAGE
from vizvm.monitors.bt_translate import INT3, After, How, Slot, stub
from vizvm.monitors.monitor_memory import TC_BASE, TC_END

NOP = b"\x90"  # pads a 2-byte slot whose INT3 never falls through


class CacheFull(Exception):
    """No room for a block even in an empty cache (cannot happen with MAX_BLOCK)."""


@dataclass
class Block:
    guest: int  # the linear address translation started at
    cs_base: int
    slots: list[Slot]  # guest instructions, then exit stubs
    tc: int
    size: int
    valid: bool = True
    incoming: list[Slot] = field(default_factory=list)  # jumps from other blocks, chained

    @property
    def instructions(self) -> list[Slot]:
        return [s for s in self.slots if s.insn is not None]

    def covers(self, start: int, end: int) -> bool:
        """Whether any translated guest byte lies in physical [start, end)."""
        return any(lo < end and start < hi for s in self.slots for lo, hi in s.physical)

    def pages(self) -> set[int]:
        """The physical pages its guest code lies in."""
        return {lo & ~(PAGE - 1) for s in self.slots for lo, _hi in s.physical}

    def linear_pages(self) -> set[int]:
        out = set()
        for s in self.instructions:
            assert s.insn is not None
            out.add(s.guest & ~(PAGE - 1))
            out.add((s.guest + s.insn.size - 1) & ~(PAGE - 1))
        return out


@dataclass(frozen=True)
class ListedInstruction:
    address: int
    raw: bytes
    text: str
    how: str = ""
    why: str = ""


@dataclass(frozen=True)
class Listing:
    """One block, its guest code beside its translation, for the CLI and the window."""

    guest: int
    tc: int
    valid: bool
    guest_code: list[ListedInstruction]
    translated: list[ListedInstruction]

    def to_json(self) -> dict:
        def rows(items: list[ListedInstruction]) -> list[dict]:
            return [{"address": f"{i.address:#010x}", "bytes": i.raw.hex(), "text": i.text,
                     "how": i.how, "why": i.why} for i in items]
        return {"guest": f"{self.guest:#010x}", "tc": f"{self.tc:#010x}", "valid": self.valid,
                "guest_code": rows(self.guest_code), "translated": rows(self.translated)}


class TranslationCache:
    def __init__(self, uc: Uc, base: int = TC_BASE, end: int = TC_END) -> None:
        self.uc = uc
        self.base, self.end = base, end
        self.flushes = 0
        self._reset()

    def _reset(self) -> None:
        self._next = self.base
        self.blocks: list[Block] = []  # in the order placed, so by TC address
        self._starts: list[int] = []
        self._by_tc: dict[int, Slot] = {}
        self._by_guest: dict[tuple[int, int], Slot] = {}
        self._by_page: dict[int, list[Block]] = {}  # physical page -> blocks
        self._by_linear_page: dict[int, list[Block]] = {}

    # finding -----------------------------------------------------------------------
    def lookup(self, guest: int, cs_base: int) -> Slot | None:
        """The translation of the guest instruction at `guest`, if there is a valid one."""
        return self._by_guest.get((guest, cs_base))

    def at(self, tc: int) -> Slot | None:
        """What sits at a cache address: a slot of any block ever placed since the flush."""
        return self._by_tc.get(tc)

    def block_of(self, slot: Slot) -> Block:
        return self.blocks[bisect.bisect_right(self._starts, slot.tc) - 1]

    def guest_address(self, tc: int) -> int | None:
        slot = self._by_tc.get(tc)
        return None if slot is None else slot.guest

    def pages(self) -> dict[int, tuple[int, int]]:
        """Per physical page, the span of translated bytes in valid blocks: what to watch."""
        spans: dict[int, tuple[int, int]] = {}
        for page, blocks in self._by_page.items():
            for block in blocks:
                if not block.valid:
                    continue
                for s in block.slots:
                    for start, end in s.physical:
                        lo, hi = max(start, page), min(end, page + PAGE) - 1
                        if lo > hi:
                            continue
                        old = spans.get(page, (lo, hi))
                        spans[page] = (min(old[0], lo), max(old[1], hi))
        return spans

    # placing -----------------------------------------------------------------------
    def place(self, guest: int, cs_base: int, slots: list[Slot]) -> Block:
        """Lay out, chain and write one block; flush first if the cache is full."""
        needed = sum(self._size(s) for s in slots) + 1 + sum(
            1 for s in slots if s.how is How.JUMP)
        if self._next + needed > self.end:
            self.flush()
            if self._next + needed > self.end:
                raise CacheFull(f"a block of {needed} bytes does not fit the cache")
        block = Block(guest, cs_base, list(slots), self._next, 0)
        at = self._next
        for s in slots:
            s.tc = at
            at += self._size(s)
        own = {s.guest: s for s in slots if s.insn is not None}
        for s in list(slots):
            if s.how is not How.JUMP or s.target is None:
                continue
            if s.short is not None:
                self._place_short(s, own.get(s.target))
                continue
            target = own.get(s.target) or self.lookup(s.target, cs_base)
            if target is None:
                exit_stub = stub(s.target, s, f"the jump's target {s.target:#010x} has no "
                                              f"translation yet")
                exit_stub.tc = at
                at += 1
                block.slots.append(exit_stub)
                target = exit_stub
            elif s.target not in own:
                self.block_of(target).incoming.append(s)
            s.code = s.jump_to(target.tc)
        block.size = at - block.tc
        self._write(block.tc, b"".join(s.code for s in block.slots))
        self._next = at
        self.blocks.append(block)
        self._starts.append(block.tc)
        for s in block.slots:
            self._by_tc[s.tc] = s
            if s.insn is not None:
                self._by_guest.setdefault((s.guest, cs_base), s)
        for page in block.pages():
            self._by_page.setdefault(page, []).append(block)
        for page in block.linear_pages():
            self._by_linear_page.setdefault(page, []).append(block)
        return block

    @staticmethod
    def _place_short(slot: Slot, target: Slot | None) -> None:
        """LOOP and JECXZ reach 127 bytes: within the block, or the CPU runs them in place."""
        if target is not None and -128 <= target.tc - (slot.tc + 2) <= 127:
            slot.code = slot.jump_to(target.tc)
            return
        slot.how, slot.after, slot.code = How.STEP, After.BRANCH, INT3 + NOP
        slot.why = f"{slot.insn.mnemonic.upper() if slot.insn else 'LOOP'}'s target is out " \
                   f"of its 8-bit reach in the cache: runs in place"

    @staticmethod
    def _size(slot: Slot) -> int:
        return slot.jump_size if slot.how is How.JUMP else len(slot.code)

    def _write(self, tc: int, code: bytes) -> None:
        self.uc.mem_write(tc, code)
        self.uc.ctl_remove_cache(tc, tc + len(code))  # the emulator's own translations of it

    def chain(self, site: Slot, target: Slot) -> None:
        """Re-aim a jump at its target's translation (its exit stub has run)."""
        site.code = site.jump_to(target.tc)
        self._write(site.tc, site.code)
        block = self.block_of(target)
        if block is not self.block_of(site):
            block.incoming.append(site)

    # dropping ------------------------------------------------------------------------
    def covers(self, start: int, end: int) -> bool:
        """Whether a valid block translates a byte of physical [start, end)."""
        first, last = start & ~(PAGE - 1), (end - 1) & ~(PAGE - 1)
        return any(block.valid and block.covers(start, end)
                   for page in range(first, last + 1, PAGE)
                   for block in self._by_page.get(page, []))

    def invalidate(self, start: int, end: int) -> list[Block]:
        """Drop every valid block with a translated byte in physical [start, end)."""
        dropped = []
        first, last = start & ~(PAGE - 1), (end - 1) & ~(PAGE - 1)
        for page in range(first, last + 1, PAGE):
            for block in self._by_page.get(page, []):
                if block.valid and block.covers(start, end):
                    self.drop(block)
                    dropped.append(block)
        return dropped

    def invalidate_linear_page(self, linear: int) -> list[Block]:
        """Drop the blocks translated from a linear page whose mapping may change."""
        dropped = [b for b in self._by_linear_page.get(linear & ~(PAGE - 1), []) if b.valid]
        for block in dropped:
            self.drop(block)
        return dropped

    def drop(self, block: Block) -> None:
        """Forget a block's translations; code still running in it can be traced back."""
        if not block.valid:
            return
        block.valid = False
        for s in block.instructions:
            key = (s.guest, block.cs_base)
            if self._by_guest.get(key) is s:
                del self._by_guest[key]
                self._remap(key)
        for site in block.incoming:
            if self.block_of(site).valid:
                self._unchain(site)
        block.incoming.clear()

    def _remap(self, key: tuple[int, int]) -> None:
        """Another valid block may translate the same instruction (blocks overlap)."""
        for block in self._by_linear_page.get(key[0] & ~(PAGE - 1), []):
            if block.valid and block.cs_base == key[1]:
                for s in block.instructions:
                    if s.guest == key[0]:
                        self._by_guest[key] = s
                        return

    def _unchain(self, site: Slot) -> None:
        """A jump into a dropped block goes to a new exit stub."""
        assert site.target is not None
        if self._next + 1 > self.end:
            self.flush()
            return
        exit_stub = stub(site.target, site, f"the jump's target {site.target:#010x} was "
                                            f"invalidated")
        exit_stub.tc = self._next
        self._next += 1
        self._write(exit_stub.tc, INT3)
        self._by_tc[exit_stub.tc] = exit_stub  # a stub of its own, after the last block
        site.code = site.jump_to(exit_stub.tc)
        self._write(site.tc, site.code)

    def flush(self) -> None:
        """Empty the cache: its memory may be reused from now on."""
        self.flushes += 1
        self._reset()

    # listing ------------------------------------------------------------------------------
    def listing(self, *, include_invalid: bool = False) -> list[Listing]:
        return [self.listing_of(b) for b in self.blocks if b.valid or include_invalid]

    @staticmethod
    def listing_of(block: Block) -> Listing:
        guest_code = [ListedInstruction(s.guest, s.insn.raw, s.insn.text)
                      for s in block.slots if s.insn is not None]
        translated = []
        for s in block.slots:
            shown = disassemble(s.code, s.tc, 1)[0] if s.code else None
            translated.append(ListedInstruction(
                s.tc, s.code, shown.text if shown else "", str(s.how), s.why))
        return Listing(block.guest, block.tc, block.valid, guest_code, translated)
