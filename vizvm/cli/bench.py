"""`vizvm bench [--json] [--quick]`: the performance figures of issue 6, in one run."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from vizvm.cli.render import table


def add_parsers(sub: argparse._SubParsersAction, common: Callable) -> None:
    bench = sub.add_parser("bench", help="measure run-mode speed, traps/s, time-travel jumps")
    bench.add_argument("--quick", action="store_true",
                       help="small sizes (seconds, for tests); the figures are then rough")
    common(bench)


def command(args: argparse.Namespace) -> tuple[dict, str]:
    from vizvm.session import benchmark

    doc = benchmark.measure(quick=args.quick)
    return doc, report(doc)


def report(doc: dict) -> str:
    """The figures as a table, each beside its goal."""
    goals = doc["goals"]
    details = doc["details"]
    compute = details["compute"]
    rows = [[f"ratio_to_bare {t}", f"{v:.3f}", f">= {goals['ratio_to_bare'].get(t, '')}",
             f"{compute['techniques'][t]['minsn_per_s']:.0f} M insn/s"]
            for t, v in doc["ratio_to_bare"].items()]
    jumps = details["jumps"]
    rows += [
        ["traps_per_second (trap-emulate)", f"{doc['traps_per_second']:,}",
         f">= {goals['traps_per_second']:,}", ""],
        ["jump_ms (median)", f"{doc['jump_ms']:.1f}", f"<= {goals['jump_ms']}",
         f"p90 {jumps['jump_p90_ms']:.1f} ms, {jumps['snapshots']} snapshots"],
        ["recording_bytes_per_minsn", f"{doc['recording_bytes_per_minsn']:,}", "",
         f"{jumps['recording_bytes'] / 2**20:.1f} MiB for "
         f"{jumps['recorded_instructions']:,} insns, recorded in "
         f"{jumps['record_seconds']:.2f} s"],
    ]
    m = doc["machine"]
    head = (f"vizvm bench{' --quick' if doc['quick'] else ''} on {m['cpu']}, {m['cores']} "
            f"cores, {m['os']}, Python {m['python']}, unicorn {m['unicorn']}\n"
            f"compute-bound guest of {compute['guest_instructions']:,} instructions: bare "
            f"Unicorn {compute['bare_minsn_per_s']:.0f} M insn/s uncounted, "
            f"{compute['bare_counted_minsn_per_s']:.0f} M insn/s with emu_start's count\n")
    return head + "\n" + table(["measure", "value", "goal", "detail"], rows)
