"""Open with an image: a lesson pack's program runs without a file on disk."""

from __future__ import annotations

import struct

import pytest
from engine_wait import wait

from vizvm.asm.assembler import assemble
from vizvm.session import commands as cmd
from vizvm.session.engine import Engine
from vizvm.session.runner import Settings

READER = "mov eax, [0x500]\nmov ebx, [0x504]\nmov al, 0\nout 0xf4, al\nhlt\n"




@pytest.fixture
def engine():
    engine = Engine()
    yield engine
    engine.close()


def test_an_image_opens_under_its_name_with_the_parameters_preloaded(engine, tmp_path,
                                                                       monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing named "reader" here, nor a built-in of that name
    words = struct.pack("<II", 7, 0x1234)
    settings = Settings(preload=((0x500, words),), max_insns=1000)
    engine.submit(cmd.Open("reader", ("native", "trap-emulate"), settings,
                           image=assemble(READER)))
    wait(engine, lambda f: len(f.panes) == 2)
    engine.submit(cmd.Step("into"))
    engine.submit(cmd.Step("into"))
    frame = wait(engine, lambda f: f.panes[0].icount == 2)
    assert [p.program for p in frame.panes] == ["reader", "reader"]
    assert frame.panes[0].registers["eax"] == 7
    assert frame.panes[1].registers["ebx"] == 0x1234


def test_an_image_named_like_a_builtin_is_the_image_not_the_builtin(engine) -> None:
    engine.submit(cmd.Open("kernel", ("native",), image=assemble(READER)))
    frame = wait(engine, lambda f: len(f.panes) == 1)
    current = [line for line in frame.panes[0].listing if line.current]
    assert current[0].text.startswith("mov eax")


def test_the_port_image_runs_in_the_paravirt_pane(engine) -> None:
    port = assemble("mov ecx, 5\nhlt\n")
    engine.submit(cmd.Open("driver", ("native", "paravirt"), image=assemble(READER),
                           port="driver_pv", port_image=port))
    frame = wait(engine, lambda f: len(f.panes) == 2)
    assert [p.program for p in frame.panes] == ["driver", "driver_pv"]


def test_paravirt_without_a_port_image_reports_it_in_the_pane(engine) -> None:
    engine.submit(cmd.Open("driver", ("paravirt",), image=assemble(READER)))
    frame = wait(engine, lambda f: len(f.panes) == 1)
    assert frame.panes[0].program == "driver"
