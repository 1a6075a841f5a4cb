"""`vizvm bench --quick --json`: every figure present and positive (never a timing goal)."""

from __future__ import annotations

import json

import pytest

from vizvm.cli import main
from vizvm.monitors import registry


def test_quick_bench_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["ratio_to_bare"]) == set(registry.available())
    assert all(v > 0 for v in doc["ratio_to_bare"].values())
    assert doc["traps_per_second"] > 0 and doc["jump_ms"] > 0
    assert doc["recording_bytes_per_minsn"] > 0
    assert {"cpu", "cores", "python", "unicorn", "os"} <= set(doc["machine"])
    jumps = doc["details"]["jumps"]
    assert jumps["jump_p90_ms"] >= doc["jump_ms"] and jumps["record_seconds"] > 0
    assert doc["details"]["traps"]["traps"] >= 5_000  # every CLI and STI of the loop


def test_quick_bench_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "ratio_to_bare native" in out and "jump_ms (median)" in out
