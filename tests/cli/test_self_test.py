"""`vizvm self-test`: its verdict. The whole run, window included, is the Linux build
script's last step (packaging/build_linux.sh); here the parts that are fast."""

from __future__ import annotations

import json
import sys

import pytest

from vizvm.cli import main, self_test


def test_the_guest_part_runs_every_technique() -> None:
    status, detail = self_test.guests()
    assert status == self_test.PASSED, detail
    assert "under 5 techniques" in detail


def test_without_the_lesson_tools_the_lesson_part_is_skipped(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "vizvm.lessons.checker", None)
    status, detail = self_test.lesson()
    assert status == self_test.SKIPPED and "not in this build" in detail


def fake(status: str, detail: str = "said so"):
    return lambda: (status, detail)


def broken():
    raise RuntimeError("it broke")


@pytest.mark.parametrize(("parts", "exit_status"), [
    ((self_test.PASSED, self_test.PASSED), 0),
    ((self_test.PASSED, self_test.SKIPPED), 1),  # skipped is not passed
    ((self_test.FAILED, self_test.PASSED), 1),
])
def test_exit_status_zero_only_when_every_part_passed(monkeypatch, capsys, parts,
                                                      exit_status) -> None:
    monkeypatch.setattr(self_test, "PARTS", tuple((f"p{i}", fake(s)) for i, s in
                                                  enumerate(parts)))
    assert main(["self-test", "--json"]) == exit_status
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is (exit_status == 0)
    assert [p["status"] for p in doc["parts"]] == list(parts)


def test_a_part_that_raises_fails_with_its_reason(monkeypatch, capsys) -> None:
    monkeypatch.setattr(self_test, "PARTS", (("boom", broken),))
    assert main(["self-test"]) == 1
    out = capsys.readouterr().out
    assert "FAILED   boom: RuntimeError: it broke" in out
    assert out.rstrip().endswith("self-test FAILED")
