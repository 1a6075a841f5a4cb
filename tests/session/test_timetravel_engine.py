"""The window's time-travel and file commands, through the engine thread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_wait import wait

from vizvm.session import commands as cmd
from vizvm.session.engine import Engine


@pytest.fixture
def engine():
    engine = Engine()
    engine.submit(cmd.Open("kernel", ("native", "trap-emulate")))
    wait(engine, lambda f: len(f.panes) == 2)
    engine.submit(cmd.Seek(1, 60_000))  # forward: runs there, recording as it goes
    wait(engine, lambda f: f.panes[1].icount == 60_000)
    yield engine
    engine.close()
    assert not engine.alive


def test_seek_back_and_forth_keeps_the_panes_together(engine: Engine) -> None:
    engine.submit(cmd.Seek(0, 20_000))
    frame = wait(engine, lambda f: f.panes[0].icount == 20_000)
    assert [p.ticks for p in frame.panes] == [20_000, 20_000]
    assert frame.panes[0].recorded == (0, 60_000)
    assert all(e.icount <= 20_000 for p in frame.panes for e in p.events)
    engine.submit(cmd.StepBack())
    frame = wait(engine, lambda f: f.panes[0].icount == 19_999)
    assert frame.panes[1].icount == 19_999


def test_back_to_event_lands_before_the_event(engine: Engine) -> None:
    engine.submit(cmd.BackToEvent())
    frame = wait(engine, lambda f: f.message.startswith("back to the event"))
    trap = frame.panes[1]
    assert trap.icount < 60_000
    assert trap.events and max(e.icount for e in trap.events) <= trap.icount


def test_save_open_and_export(engine: Engine, tmp_path: Path) -> None:
    snap = tmp_path / "kernel.vizvm-snap"
    engine.submit(cmd.SaveSnapshot(1, str(snap)))
    wait(engine, lambda f: f.message.startswith("saved"))
    engine.submit(cmd.Export(str(tmp_path / "t.json"), str(tmp_path / "t.csv")))
    wait(engine, lambda f: f.message.startswith("wrote"))
    trace = json.loads((tmp_path / "t.json").read_text())
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "process_name"}
    assert len(names) == 2
    engine.submit(cmd.OpenSnapshot(str(snap)))
    frame = wait(engine, lambda f: f.message.startswith("opened"))
    assert [(p.technique, p.icount) for p in frame.panes] == [("trap-emulate", 60_000)]


def test_a_bad_snapshot_is_a_message(engine: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.vizvm-snap"
    bad.write_bytes(b"not a snapshot")
    engine.submit(cmd.OpenSnapshot(str(bad)))
    frame = wait(engine, lambda f: "not a vizvm snapshot" in f.message)
    assert len(frame.panes) == 2  # the session stays as it was
