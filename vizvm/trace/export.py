"""A run's events as Chrome trace JSON (ui.perfetto.dev opens it) and counters as CSV.

Time on the trace is simulated, not the host's: the cycles the run costs under
its cost-model profile, shown as microseconds of a processor at CLOCK_MHZ
(stated in the trace's metadata). An event that costs cycles (a trap, a VM
exit, a hypercall) is a slice as long as its cost, so the time a technique
spends in its monitor is visible as width; a free event is an instant.
Each technique is a process of its own (a track group in Perfetto), with
its cumulative counters as counter tracks.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from vizvm.trace.events import Event

CLOCK_MHZ = 1000  # simulated cycles per microsecond on the trace
MAX_COUNTER_SAMPLES = 2000  # per technique; the counters are sampled beyond this
CSV_ROWS = 200  # per technique


@dataclass(frozen=True)
class TraceRun:
    """One technique's run, as the exporters need it."""

    technique: str
    title: str
    events: Sequence[Event]
    instruction_cycles: int  # the profile's price of one guest instruction
    icount: int  # guest instructions at the end of what is exported
    profile: str = ""


def _cycles_at(run: TraceRun, event_cycles_before: int, icount: int) -> int:
    return icount * run.instruction_cycles + event_cycles_before


def chrome_trace(runs: Sequence[TraceRun]) -> dict[str, object]:
    """The trace as a JSON-ready dict: {"traceEvents": [...], "displayTimeUnit", metadata}."""
    out: list[dict[str, object]] = []
    for pid, run in enumerate(runs, start=1):
        out.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
                    "args": {"name": f"{run.title} ({run.technique})"}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0,
                    "args": {"sort_index": pid}})
        out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": 1,
                    "args": {"name": "guest and monitor events"}})
        spent = 0
        counts: Counter[str] = Counter()
        stride = max(1, len(run.events) // MAX_COUNTER_SAMPLES)
        for n, event in enumerate(run.events):
            ts = _us(_cycles_at(run, spent, event.icount))
            out.append(_event(pid, event, ts))
            spent += event.cycles
            counts[str(event.kind)] += 1
            if n % stride == 0 or n == len(run.events) - 1:
                out.append(_counter(pid, _us(_cycles_at(run, spent, event.icount)), counts,
                                    _cycles_at(run, spent, event.icount)))
        out.append(_counter(pid, _us(_cycles_at(run, spent, run.icount)), counts,
                            _cycles_at(run, spent, run.icount)))
    return {
        "traceEvents": out,
        "displayTimeUnit": "ns",
        "otherData": {
            "generator": "vizvm",
            "clock": f"ts is simulated cycles (cost-model profile) at {CLOCK_MHZ} MHz, in µs",
            "clock_mhz": CLOCK_MHZ,
            "profiles": {r.technique: r.profile for r in runs},
        },
    }


def _us(cycles: int) -> float:
    return cycles / CLOCK_MHZ


def _event(pid: int, event: Event, ts: float) -> dict[str, object]:
    args = {"icount": event.icount, "address": f"{event.address:#010x}",
            "disasm": event.disasm, "detail": event.detail, "ring": event.ring,
            "guest_ring": event.guest_ring, "cost": event.cost, "cycles": event.cycles}
    record: dict[str, object] = {"name": f"{event.kind}: {event.disasm}" if event.disasm
                                 else str(event.kind),
                                 "cat": str(event.kind), "pid": pid, "tid": 1, "ts": ts,
                                 "args": args}
    if event.cycles:
        record.update(ph="X", dur=_us(event.cycles))
    else:
        record.update(ph="i", s="t")
    return record


def _counter(pid: int, ts: float, counts: Counter[str], cycles: int) -> dict[str, object]:
    return {"ph": "C", "name": "cumulative", "pid": pid, "tid": 1, "ts": ts,
            "args": {"traps": counts["trap"], "vm_exits": counts["vm-exit"],
                     "hypercalls": counts["hypercall"], "events": sum(counts.values()),
                     "simulated_cycles": cycles}}


def write_chrome_trace(runs: Sequence[TraceRun], path: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(chrome_trace(runs), out)


def counters_csv(runs: Sequence[TraceRun]) -> str:
    """Counters per technique over guest time: one row per sample, cumulative values."""
    kinds = sorted({str(e.kind) for r in runs for e in r.events})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["technique", "icount", "simulated_cycles", *kinds])
    for run in runs:
        step = max(1, run.icount // CSV_ROWS)
        counts: Counter[str] = Counter()
        spent, index = 0, 0
        marks = sorted({*range(0, run.icount, step), run.icount})
        for mark in marks:
            while index < len(run.events) and run.events[index].icount <= mark:
                spent += run.events[index].cycles
                counts[str(run.events[index].kind)] += 1
                index += 1
            writer.writerow([run.technique, mark, _cycles_at(run, spent, mark),
                             *[counts[k] for k in kinds]])
    return buffer.getvalue()


def write_counters_csv(runs: Sequence[TraceRun], path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(counters_csv(runs))
