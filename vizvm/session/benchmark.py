"""The measurements of `vizvm bench` and benchmarks/bench.py, taken in one run.

- ratio_to_bare: guest instructions per second in run mode on a compute-bound
  guest, per technique, over the same code on bare Unicorn (no monitor, no
  hooks, no instruction count);
- traps_per_second: a CLI/STI loop under trap-and-emulate;
- jump_ms: going to random instruction counts in a recorded run (native) of a
  guest that writes memory as it goes; with p90 and the time to record;
- recording_bytes_per_minsn: what that recording holds per million instructions.

Timings are wall-clock on this computer and noisy; each is the best (or the
median) of a few tries, as stated beside it.
"""

from __future__ import annotations

import os
import platform
import random
import statistics
import sys
import time
from dataclasses import dataclass

import unicorn
from unicorn import UC_ARCH_X86, UC_MODE_32, Uc

from vizvm import __version__
from vizvm.asm.assembler import assemble
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.machine.machine import Machine
from vizvm.monitors import registry
from vizvm.session import runner
from vizvm.session.timetravel import Recording

POWEROFF = b"\xb0\x00\xe6\xf4"  # mov al, 0; out 0xf4, al
GOALS = {"ratio_to_bare": {"native": 0.9, "trap-emulate": 0.9, "paravirt": 0.9,
                           "hardware-assist": 0.9, "binary-translation": 0.8},
         "traps_per_second": 200_000, "jump_ms": 200}


@dataclass(frozen=True)
class Sizes:
    compute_loops: int  # 4 instructions each
    traps: int  # CLI/STI pairs
    jump_insns: int  # the recorded run
    jumps: int
    tries: int  # best of, for the speed ratios

    @property
    def compute_insns(self) -> int:
        return 4 * self.compute_loops + 1


FULL = Sizes(compute_loops=25_000_000, traps=200_000, jump_insns=100_000_000, jumps=20,
             tries=3)
QUICK = Sizes(compute_loops=200_000, traps=5_000, jump_insns=2_000_000, jumps=5, tries=1)


def compute_guest(loops: int) -> bytes:
    return assemble(f"mov ecx, {loops}\nspin: add eax, ecx\nxor ebx, eax\ndec ecx\njnz spin\n"
                    "mov al, 0\nout 0xf4, al\nhlt")


def trap_guest(pairs: int) -> bytes:
    return assemble(f"mov ecx, {pairs}\nspin: cli\nsti\ndec ecx\njnz spin\n"
                    "mov al, 0\nout 0xf4, al\nhlt")


def writing_guest(insns: int) -> bytes:
    """Stores a word every 64 bytes over 4 MiB, round and round: 6 instructions a loop."""
    return assemble(f"mov ecx, {max(1, insns // 6)}\nmov esi, 0x400000\n"
                    "spin: mov [esi], ecx\nadd esi, 64\nand esi, 0x3fffff\nor esi, 0x400000\n"
                    "dec ecx\njnz spin\nmov al, 0\nout 0xf4, al\nhlt")


def bare_seconds(image: bytes, counted: int = 0) -> float:
    """The guest on a Unicorn with nothing attached, to the poweroff; `counted`: with
    emu_start's instruction count (what the machine needs to keep time)."""
    uc = Uc(UC_ARCH_X86, UC_MODE_32)
    uc.mem_map(0, 16 << 20)
    uc.mem_write(LOAD_ADDRESS, image)
    end = LOAD_ADDRESS + image.index(POWEROFF)
    started = time.perf_counter()
    uc.emu_start(LOAD_ADDRESS, end, count=counted)
    return time.perf_counter() - started


def machine_seconds(image: bytes, technique: str) -> tuple[float, Machine]:
    machine = runner.build(image, runner.Settings(technique=technique))
    started = time.perf_counter()
    machine.run(10**12)
    return time.perf_counter() - started, machine


def ratios(sizes: Sizes) -> dict[str, object]:
    """Best of `tries` for each, interleaved so that a busy spell on the host hits the
    bare run and the machine's alike."""
    image = compute_guest(sizes.compute_loops)
    n = sizes.compute_insns
    best: dict[str, float] = {}
    names = ["bare", "bare counted", *registry.available()]
    for _ in range(sizes.tries):
        for name in names:
            if name == "bare":
                wall = bare_seconds(image)
            elif name == "bare counted":
                wall = bare_seconds(image, n + 10)
            else:
                wall = machine_seconds(image, name)[0]
            best[name] = min(wall, best.get(name, wall))
    bare = best["bare"]
    return {"guest_instructions": n, "bare_minsn_per_s": n / bare / 1e6,
            "bare_counted_minsn_per_s": n / best["bare counted"] / 1e6,
            "techniques": {t: {"minsn_per_s": n / best[t] / 1e6, "ratio_to_bare": bare / best[t]}
                           for t in names[2:]}}


def traps(sizes: Sizes) -> dict[str, float]:
    wall, machine = machine_seconds(trap_guest(sizes.traps), "trap-emulate")
    count = machine.log.counts["trap"]
    return {"traps": count, "seconds": wall, "traps_per_second": count / wall}


def jumps(sizes: Sizes, seed: int = 6) -> dict[str, float]:
    machine = runner.build(writing_guest(sizes.jump_insns), runner.Settings(max_insns=10**12))
    started = time.perf_counter()
    recording = Recording(machine)
    while machine.exit is None:
        began = time.perf_counter()
        machine.advance(machine.ticks + 5_000_000)  # the window's longest stretch
        recording.note(time.perf_counter() - began)
    record_seconds = time.perf_counter() - started
    end = machine.icount
    rng = random.Random(seed)
    times = []
    for _ in range(sizes.jumps):
        target = rng.randrange(end)
        began = time.perf_counter()
        recording.go_to(target)
        times.append((time.perf_counter() - began) * 1000)
        assert machine.icount == target
    times.sort()
    return {
        "recorded_instructions": end,
        "record_seconds": record_seconds,
        "snapshots": len(recording.snapshots),
        "jump_ms": statistics.median(times),
        "jump_p90_ms": times[min(len(times) - 1, int(0.9 * len(times)))],
        "recording_bytes": recording.recording_bytes,
        "recording_bytes_per_minsn": recording.recording_bytes / (end / 1e6),
    }


def machine_description() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0],
            "unicorn": unicorn.__version__, "os": platform.platform(), "vizvm": __version__,
            "host": platform.node(),
            # other work on the host slows every figure; the ratios least (same run)
            "load_average_1min": None if load is None else round(load[0], 2)}


def measure(quick: bool = False) -> dict[str, object]:
    """Everything, in one run (see the module's docstring)."""
    sizes = QUICK if quick else FULL
    speed = ratios(sizes)
    trap = traps(sizes)
    jump = jumps(sizes)
    per = speed["techniques"]
    assert isinstance(per, dict)
    return {
        "quick": quick,
        "machine": machine_description(),
        "ratio_to_bare": {t: round(v["ratio_to_bare"], 4) for t, v in per.items()},
        "traps_per_second": round(trap["traps_per_second"]),
        "jump_ms": round(jump["jump_ms"], 2),
        "recording_bytes_per_minsn": round(jump["recording_bytes_per_minsn"]),
        "details": {"compute": speed, "traps": trap, "jumps": jump},
        "goals": GOALS,
    }
