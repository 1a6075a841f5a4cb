"""How fast the machine runs guests, as ratios measured in one run (noisy machines).

    python benchmarks/machine_speed.py

Prints: guest instructions per second on a compute-bound loop, for bare
Unicorn (no hooks, no instruction count) and for the machine under each
technique; traps per second on a trap-heavy guest under trap-emulate; and
the wall time of the kernel guest. Issue 6 turns this into `vizvm bench`.
"""

from __future__ import annotations

import time

from unicorn import UC_ARCH_X86, UC_MODE_32, Uc

from vizvm import guests
from vizvm.asm.assembler import assemble
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.machine.machine import Machine
from vizvm.monitors import registry

LOOPS = 5_000_000
COMPUTE = f"mov ecx, {LOOPS}\nspin: add eax, ecx\nxor ebx, eax\ndec ecx\njnz spin\n" \
          "mov al, 0\nout 0xf4, al\nhlt"
TRAPS = 100_000
TRAPPY = f"mov ecx, {TRAPS}\nspin: cli\nsti\ndec ecx\njnz spin\nmov al, 0\nout 0xf4, al\nhlt"


def bare_unicorn(image: bytes) -> float:
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0, 16 << 20)
    uc.mem_write(LOAD_ADDRESS, image)
    end = LOAD_ADDRESS + image.index(b"\xb0\x00\xe6\xf4")  # stop at the poweroff
    started = time.perf_counter()
    uc.emu_start(LOAD_ADDRESS, end)
    return time.perf_counter() - started


def machine(image: bytes, technique: str) -> tuple[float, Machine]:
    m = Machine(image, cpu_model=registry.technique(technique).cpu_model)  # AMD-V for VT-x
    m.attach(registry.create(technique))
    started = time.perf_counter()
    m.run(10**9)
    return time.perf_counter() - started, m


def main() -> None:
    compute = assemble(COMPUTE)
    instructions = 4 * LOOPS + 1
    bare = bare_unicorn(compute)
    print(f"compute-bound loop, {instructions:,} instructions")
    print(f"  bare Unicorn            {instructions / bare / 1e6:8.1f} M instructions/s")
    for technique in registry.available():
        wall, _m = machine(compute, technique)
        print(f"  {technique:<22}  {instructions / wall / 1e6:8.1f} M instructions/s"
              f"   ratio to bare {bare / wall:.3f}")
    wall, m = machine(assemble(TRAPPY), "trap-emulate")
    traps = m.log.counts["trap"]
    print(f"trap-heavy loop under trap-emulate: {traps:,} traps in {wall:.2f} s "
          f"= {traps / wall:,.0f} traps/s")
    for technique in registry.available():
        name = guests.PARAVIRT_PORTS["kernel"] if technique == "paravirt" else "kernel"
        wall, m = machine(guests.image(name), technique)
        print(f"{name} guest under {technique}: {m.executed:,} instructions, "
              f"{sum(m.log.counts.values()):,} events, {wall:.3f} s")


if __name__ == "__main__":
    main()
