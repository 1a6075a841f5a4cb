"""Chrome/Perfetto trace JSON and counters CSV, checked against the trace event format."""

from __future__ import annotations

import csv
import io
import json

import pytest

from vizvm.session import files, runner
from vizvm.session.program import load
from vizvm.trace import export

PHASES = {"M", "X", "i", "C"}


@pytest.fixture(scope="module")
def runs() -> list[export.TraceRun]:
    image = load("holes").image
    return [files.run_for_export(image, runner.Settings(technique=t))
            for t in ("native", "trap-emulate")]


def test_trace_follows_the_chrome_trace_event_format(runs: list[export.TraceRun]) -> None:
    doc = json.loads(json.dumps(export.chrome_trace(runs)))
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    for e in events:
        assert e["ph"] in PHASES
        assert isinstance(e["name"], str) and isinstance(e["pid"], int)
        assert isinstance(e["tid"], int)
        if e["ph"] != "M":
            assert isinstance(e["ts"], int | float) and e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] > 0
        if e["ph"] == "i":
            assert e["s"] in {"g", "p", "t"}
        if e["ph"] == "C":
            assert all(isinstance(v, int | float) for v in e["args"].values())
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert len(names) == 2 and "trap-emulate" in names[2]
    assert doc["otherData"]["clock_mhz"] == export.CLOCK_MHZ


def test_each_event_is_on_its_techniques_track_in_order(runs: list[export.TraceRun]) -> None:
    events = export.chrome_trace(runs)["traceEvents"]
    traps = [e for e in events if e.get("cat") == "trap"]
    assert traps and {e["pid"] for e in traps} == {2}  # native has no traps
    assert len(traps) == sum(1 for e in runs[1].events if str(e.kind) == "trap")
    for pid in (1, 2):
        stamps = [e["ts"] for e in events if e["pid"] == pid and e["ph"] in "Xi"]
        assert stamps == sorted(stamps)
    first = traps[0]["args"]
    assert first["disasm"] and first["address"].startswith("0x") and first["detail"]


def test_last_counter_is_the_runs_totals(runs: list[export.TraceRun]) -> None:
    events = export.chrome_trace(runs)["traceEvents"]
    last = [e for e in events if e["ph"] == "C" and e["pid"] == 2][-1]["args"]
    run = runs[1]
    assert last["traps"] == sum(1 for e in run.events if str(e.kind) == "trap")
    assert last["simulated_cycles"] == (run.icount * run.instruction_cycles
                                        + sum(e.cycles for e in run.events))


def test_csv_counts_grow_to_the_totals(runs: list[export.TraceRun]) -> None:
    rows = list(csv.DictReader(io.StringIO(export.counters_csv(runs))))
    trap_rows = [r for r in rows if r["technique"] == "trap-emulate"]
    counts = [int(r["trap"]) for r in trap_rows]
    assert counts == sorted(counts) and counts[-1] > 0
    assert int(trap_rows[-1]["icount"]) == runs[1].icount
