"""`vizvm snapshot save/open` and `vizvm compare --perfetto --csv`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vizvm.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, json.loads(out) if out.strip() else {}, err


def test_save_then_open_and_run_on(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    snap = str(tmp_path / "k.vizvm-snap")
    status, doc, _ = run(capsys, "snapshot", "save", "kernel", snap, "--at", "30000",
                         "-t", "trap-emulate", "--json")
    assert status == 0 and doc["icount"] == 30_000 and not doc["ended"]
    status, opened, _ = run(capsys, "snapshot", "open", snap, "--run", "--json")
    assert status == 0 and opened["verified"] and opened["icount"] == 30_000
    _, whole, _ = run(capsys, "run", "kernel", "-t", "trap-emulate", "--json")
    assert opened["run"]["serial"] == whole["serial"]
    assert opened["run"]["memory_sha256"] == whole["memory_sha256"]


def test_a_bad_snapshot_is_a_message(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.vizvm-snap"
    bad.write_bytes(b"VIZVMSNP\x01\x00\x00\x00\xff\xff\x00\x00{")
    status, doc, _ = run(capsys, "snapshot", "open", str(bad), "--json")
    assert status == 2 and doc["error"]["kind"] == "snapshot"
    assert "truncated" in doc["error"]["message"] and str(bad) in doc["error"]["message"]


def test_compare_exports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    trace, counters = tmp_path / "t.json", tmp_path / "c.csv"
    status, doc, _ = run(capsys, "compare", "holes", "--techniques", "native,trap-emulate",
                         "--perfetto", str(trace), "--csv", str(counters), "--json")
    assert status == 0 and doc["export"].startswith("wrote")
    events = json.loads(trace.read_text())["traceEvents"]
    assert {e["pid"] for e in events} == {1, 2}
    assert counters.read_text().startswith("technique,icount,simulated_cycles")
