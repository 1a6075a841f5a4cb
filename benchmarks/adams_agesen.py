"""Adams and Agesen's nanobenchmarks, run: simulated cycles per operation beside the paper's.

    python benchmarks/adams_agesen.py [--profile modern] [--iterations 100,300] [--events]

Adams and Agesen (ASPLOS 2006, section 6.3) timed one virtualization-sensitive
operation at a time on a 3.8 GHz Pentium 4, natively, under VMware's binary
translator (BT) and under its first VT-x monitor (VT). The built-in guests
nano_* repeat the same operations. A run's simulated cycles include the
guest's set-up and its report, so each guest is assembled from source at two
iteration counts and the difference in cycles is divided by the difference
in operations: what is left is the price of one operation (with its loop's
DEC and JNZ) under the cost profile. Every run is also checked against
native's: same serial output and exit code.
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from vizvm import guests
from vizvm.asm.assembler import assemble
from vizvm.monitors import cost_model, registry
from vizvm.session import runner

COUNTS = (100, 300)  # iteration counts; their difference is what is measured
NEEDS_PORT = {"paravirt": "needs a port"}  # runs only guests rewritten to call it
PAPER = ("native", "binary-translation", "hardware-assist")  # the paper's three columns
ITERATIONS = re.compile(r"^\.equ ITERATIONS, \d+$", re.MULTILINE)


@dataclass(frozen=True)
class Nanobenchmark:
    name: str
    guest: str  # a built-in guest whose `.equ ITERATIONS` line is rewritten
    ops_per_iteration: int
    paper: Mapping[str, int] | None  # cycles per operation by technique; None: not in cycles
    note: str = ""


# The paper's cycle counts: raw-data appendix of the published version, plotted in Figure 4.
NANOBENCHMARKS: tuple[Nanobenchmark, ...] = (
    Nanobenchmark("syscall", "nano_syscall", 1,
                  {"native": 242, "binary-translation": 2308, "hardware-assist": 246},
                  "int 0x80 and IRET here; SYSCALL/SYSRET in the paper"),
    Nanobenchmark("in", "nano_in", 1,
                  {"native": 3209, "binary-translation": 216, "hardware-assist": 15826},
                  "CMOS port 0x71 here (0x80 has no device); port 0x80 in the paper"),
    Nanobenchmark("cr8wr", "nano_clisti", 2,
                  {"native": 150, "binary-translation": 35, "hardware-assist": 177},
                  "one CLI or STI here; a CR8 write in the paper"),
    Nanobenchmark("call/ret", "nano_callret", 1,
                  {"native": 11, "binary-translation": 51, "hardware-assist": 11},
                  "per CALL/RET pair"),
    Nanobenchmark("pgfault", "nano_pgfault", 1,
                  {"native": 1093, "binary-translation": 3927, "hardware-assist": 11242}),
    Nanobenchmark("divzero", "nano_divzero", 1,
                  {"native": 889, "binary-translation": 3223, "hardware-assist": 1014}),
    Nanobenchmark("ptemod", "nano_ptemod", 1,
                  {"native": 1, "binary-translation": 391, "hardware-assist": 12733},
                  "a PTE store and its INVLPG here; the store alone in the paper"),
    Nanobenchmark("compute", "nano_compute", 1, None,
                  "one xorshift32 step; the paper gives SPECint slowdowns, not cycles"),
)


def source(guest: str, iterations: int) -> str:
    """The guest's source with its iteration count replaced."""
    text, found = ITERATIONS.subn(f".equ ITERATIONS, {iterations}", guests.source(guest))
    if found != 1:
        raise ValueError(f"{guest}.asm has no single `.equ ITERATIONS, N` line")
    return text


@functools.cache
def image(guest: str, iterations: int) -> bytes:
    return assemble(source(guest, iterations), filename=f"{guest}.asm")


@functools.cache
def run(guest: str, iterations: int, technique: str, profile: str) -> runner.Summary:
    settings = runner.Settings(technique=technique, profile=profile)
    return runner.run(image(guest, iterations), settings)[0]


@dataclass(frozen=True)
class PerOperation:
    """One benchmark under one technique: what one operation costs, from two runs."""

    cycles: float
    events: dict[str, float]  # events of each kind per operation
    runs: tuple[runner.Summary, runner.Summary]
    cycles_by_kind: dict[str, float] = field(default_factory=dict)  # their cycles per operation

    def same_as(self, other: PerOperation) -> bool:
        """Same serial output and exit code at both counts (equivalence, timing aside)."""
        return all(a.exit == b.exit == "poweroff" and a.exit_code == b.exit_code
                   and a.serial == b.serial for a, b in zip(self.runs, other.runs, strict=True))


def per_operation(bench: Nanobenchmark, technique: str, profile: str = cost_model.DEFAULT_PROFILE,
                  counts: tuple[int, int] = COUNTS) -> PerOperation:
    low, high = (run(bench.guest, n, technique, profile) for n in counts)
    ops = (counts[1] - counts[0]) * bench.ops_per_iteration

    def per_op(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, float]:
        kinds = sorted(set(before) | set(after))
        diffs = {k: (after.get(k, 0) - before.get(k, 0)) / ops for k in kinds}
        return {k: v for k, v in diffs.items() if v}

    return PerOperation((high.simulated_cycles - low.simulated_cycles) / ops,
                        per_op(low.events, high.events), (low, high),
                        per_op(low.cycles_by_kind, high.cycles_by_kind))


def techniques() -> list[str]:
    """Every technique the registry names, the paper's three first."""
    rest = [name for name in registry.TECHNIQUES if name not in PAPER]
    return [*PAPER, *rest]


def status(technique: str) -> str | None:
    """Why a technique is not run on these unmodified guests, or None."""
    if technique in NEEDS_PORT:
        return NEEDS_PORT[technique]
    if not registry.technique(technique).available:
        return "not available"
    return None


def measure_all(profile: str, counts: tuple[int, int],
                benches: Iterable[Nanobenchmark] = NANOBENCHMARKS,
                ) -> dict[str, dict[str, PerOperation]]:
    """{benchmark: {technique: per operation}} for every technique that can run them."""
    runnable = [t for t in techniques() if status(t) is None]
    return {b.name: {t: per_operation(b, t, profile, counts) for t in runnable} for b in benches}


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def cell(bench: Nanobenchmark, technique: str, results: Mapping[str, PerOperation]) -> str:
    measured = results.get(technique)
    if measured is None:
        text = status(technique) or "?"
    else:
        text = _number(measured.cycles)
        if technique != "native" and not measured.same_as(results["native"]):
            text += " DIFFERS"
    if bench.paper is not None and technique in bench.paper:
        text += f" ({bench.paper[technique]:,})"
    return text


def table(results: Mapping[str, Mapping[str, PerOperation]]) -> str:
    names = techniques()
    rows = [["benchmark", *names]]
    rows += [[b.name, *(cell(b, t, results[b.name]) for t in names)]
             for b in NANOBENCHMARKS if b.name in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(names) + 1)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _event(kind: str, count: float, cycles: float) -> str:
    """`callout 1 (1,038)`: events of a kind per operation and, if priced, their cycles."""
    return f"{kind} {_number(count)}" + (f" ({_number(cycles)})" if cycles else "")


def events_text(results: Mapping[str, Mapping[str, PerOperation]]) -> str:
    lines = ["events per operation, in brackets their cycles (the rest of an operation's "
             "cycles are\nits guest instructions, priced `instruction` each):"]
    width = max(map(len, techniques()))
    for bench in NANOBENCHMARKS:
        for technique, measured in results.get(bench.name, {}).items():
            what = ", ".join(_event(k, v, measured.cycles_by_kind.get(k, 0))
                             for k, v in measured.events.items()) or "none"
            lines.append(f"  {bench.name:<9} {technique:<{width}} {what}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=cost_model.DEFAULT_PROFILE,
                        choices=sorted(cost_model.PROFILES))
    parser.add_argument("--iterations", default=",".join(map(str, COUNTS)),
                        help="two iteration counts, LOW,HIGH (default %(default)s)")
    parser.add_argument("--events", action="store_true",
                        help="also list the events each operation causes")
    args = parser.parse_args(argv)
    low, high = (int(n) for n in args.iterations.split(","))
    if not 0 < low < high:
        parser.error("--iterations wants two counts, 0 < LOW < HIGH")
    results = measure_all(args.profile, (low, high))
    print(f"Adams & Agesen's nanobenchmarks under the {args.profile} cost profile: simulated "
          f"cycles per operation,\nfrom runs of {low} and {high} iterations; in brackets the "
          f"paper's cycles on a 3.8 GHz Pentium 4\n(ASPLOS 2006, section 6.3, raw data), "
          f"native, BT and VT.\n")
    print(table(results))
    print()
    for bench in NANOBENCHMARKS:
        if bench.note:
            print(f"  {bench.name}: {bench.note}")
    print("  DIFFERS: serial output or exit code not the same as native's (a monitor bug)")
    if args.events:
        print()
        print(events_text(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
