"""The session layer behind the window: panes, lockstep, the engine thread."""

from __future__ import annotations

import time

import pytest
from engine_wait import wait

from vizvm.asm.disasm import disassemble
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.session import commands as cmd
from vizvm.session.engine import Engine
from vizvm.session.lockstep import Lockstep
from vizvm.session.pane import Pane
from vizvm.session.program import load
from vizvm.session.runner import Settings

ALL = ("native", "trap-emulate", "binary-translation", "hardware-assist")


def first(program: str, text: str) -> int:
    """The address of the first instruction whose text starts with `text`."""
    image = load(program).image
    for insn in disassemble(image, LOAD_ADDRESS):
        if insn.text.startswith(text):
            return insn.address
    raise AssertionError(f"{text} not in {program}")


def at(session: Lockstep, address: int) -> None:
    session.set_breakpoints(session.program.name, frozenset({address}))
    while session.live and not all(p.pc() == address for p in session.live):
        assert session.run_stretch(1_000_000) is False or session.live
        if any(p.at_breakpoint() for p in session.live):
            break
    session.set_breakpoints(session.program.name, frozenset())


def test_one_step_moves_every_pane_one_instruction() -> None:
    session = Lockstep(load("hello"), ALL, Settings())
    session.step()
    assert [p.machine.icount for p in session.panes] == [1, 1, 1, 1]
    assert len({p.pc() for p in session.panes}) == 1


def test_binary_translation_pane_shows_the_guest_address_not_the_cache() -> None:
    pane = Pane("binary-translation", load("hello"), Settings())
    native = Pane("native", load("hello"), Settings())
    for _ in range(5):
        pane.step()
        native.step()
        assert pane.pc() == native.pc()
        assert pane.registers()["eip"] == native.registers()["eip"]
    view = pane.view()
    assert view.translation is not None
    assert any(line.current for line in view.translation.guest)
    assert any(line.current for line in view.translation.translated)


def test_a_trap_takes_the_token_into_the_monitor_and_back() -> None:
    pane = Pane("trap-emulate", load("holes"), Settings())
    pane.view()  # drains the start
    pane.step()  # LGDT at ring 1: #GP into the monitor
    view = pane.view()
    assert [e.kind for e in view.events] == ["trap", "emulate"]
    rings = [(p.ring, p.label.split(":")[0]) for p in view.path]
    assert rings == [(1, "guest kernel"), (0, "trap"), (1, "guest kernel")]


def test_hardware_assist_exits_go_to_root_mode() -> None:
    session = Lockstep(load("hello"), ("hardware-assist",), Settings())
    session.step_to_event()
    view = session.panes[0].view()
    assert any(p.root for p in view.path)
    assert any(e.kind == "vm-exit" for e in view.events)


def test_popf_under_trap_emulate_is_noted_as_unseen() -> None:
    session = Lockstep(load("holes"), ("trap-emulate", "binary-translation"), Settings())
    at(session, first("holes", "popfd"))
    session.step()
    trap, bt = (p.view() for p in session.panes)
    notes = [e for e in trap.events if e.observed]
    assert notes and notes[-1].disasm == "popfd"
    assert "IF stayed 1" in notes[-1].reason
    assert not [e for e in bt.events if e.observed]
    assert any(e.kind == "callout" and e.disasm == "popfd" for e in bt.events)


def test_listing_marks_classes_found_by_running() -> None:
    session = Lockstep(load("holes"), ("native",), Settings())
    at(session, first("holes", "popfd"))
    lines = session.panes[0].view(classify_budget=5).listing
    current = next(line for line in lines if line.current)
    assert (current.text, current.cls) == ("popfd", "sensitive")
    assert any(line.cls == "innocuous" for line in lines)


def test_breakpoints_stop_every_pane_at_the_same_instruction() -> None:
    session = Lockstep(load("holes"), ALL, Settings())
    target = first("holes", "sgdt")
    session.set_breakpoints("holes", frozenset({target}))
    while session.run_stretch(50_000):
        pass
    native, trap, bt, vtx = session.panes
    assert all(p.at_breakpoint() for p in session.panes)
    assert native.ticks == bt.ticks == vtx.ticks
    assert trap.ticks != native.ticks  # the holes changed its path: it got there sooner
    assert session.note == "stopped at a breakpoint"


def test_step_over_runs_a_call_as_one_step() -> None:
    session = Lockstep(load("holes"), ("native", "binary-translation"), Settings())
    call = first("holes", "call")
    at(session, call)
    session.step_over()
    insn = disassemble(load("holes").image[call - LOAD_ADDRESS:], call, 1)[0]
    assert all(p.pc() == call + insn.size for p in session.panes)
    assert all(p.machine.icount > 2 for p in session.panes)


def test_go_to_an_earlier_event_runs_again_from_the_start() -> None:
    session = Lockstep(load("holes"), ("native", "trap-emulate"), Settings())
    session.run_stretch(20_000)
    session.go_to(1, 7)  # the MOV SS that traps under trap-emulate
    trap = session.panes[1]
    assert trap.machine.icount == 6
    assert trap.current().text == "mov ss, eax"
    assert session.panes[0].ticks == trap.ticks


def test_a_guest_error_stays_in_its_pane() -> None:
    session = Lockstep(load("holes"), ("native", "paravirt"), Settings())
    session.step()
    native, paravirt = (p.view() for p in session.panes)
    assert native.status == "ready"
    assert paravirt.status == "exited"
    assert "privileged instruction" in paravirt.message


def test_an_image_too_large_is_a_pane_error_not_an_exception(tmp_path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x90" * (17 << 20))
    view = Pane("native", load(str(big)), Settings()).view()
    assert (view.status == "error" and "RAM" in view.message) or "memory" in view.message




@pytest.fixture
def engine():
    engine = Engine()
    yield engine
    engine.close()
    assert not engine.alive


def test_engine_runs_pauses_and_loses_no_event(engine: Engine) -> None:
    engine.submit(cmd.Open("kernel", ("native", "trap-emulate")))
    wait(engine, lambda f: len(f.panes) == 2)
    engine.submit(cmd.Run(None))
    wait(engine, lambda f: f.running)
    engine.submit(cmd.Pause())
    frame = wait(engine, lambda f: not f.running)
    time.sleep(0.1)
    later = engine.take()
    frame = later or frame
    trap = frame.panes[1]
    assert trap.icount > 0
    assert trap.counters.get("trap", 0) > 0


def test_engine_reports_a_bad_program_and_keeps_going(engine: Engine, tmp_path) -> None:
    broken = tmp_path / "broken.asm"
    broken.write_text("mov eax, \n")
    engine.submit(cmd.Open(str(broken), ("native",)))
    frame = wait(engine, lambda f: bool(f.message))
    assert "broken.asm:1" in frame.message
    engine.submit(cmd.Open("hello", ("native",)))
    wait(engine, lambda f: len(f.panes) == 1)


def test_engine_stops_a_guest_that_loops_forever(engine: Engine, tmp_path) -> None:
    loop = tmp_path / "loop.asm"
    loop.write_text("spin: jmp spin\n")
    engine.submit(cmd.Open(str(loop), ("native", "binary-translation")))
    wait(engine, lambda f: len(f.panes) == 2)
    engine.submit(cmd.Step("event"))  # there is none: it would step a million times
    time.sleep(0.3)
    started = time.monotonic()
    engine.submit(cmd.Pause())
    frame = wait(engine, lambda f: f.panes[0].icount > 0, timeout=5)
    assert time.monotonic() - started < 5
    assert all(p.status == "ready" for p in frame.panes)
    assert frame.panes[0].icount == frame.panes[1].icount


def test_run_to_unseen_stops_where_trap_and_emulate_goes_wrong() -> None:
    session = Lockstep(load("holes"), ALL, Settings())
    session.step_to_unseen()
    trap = session.panes[1]
    notes = [row for row in trap.pending if row.observed]
    assert [row.disasm for row in notes] == ["popfd"]
    assert all(p.machine.icount == trap.machine.icount for p in session.panes)
    assert not any(row.observed for p in session.panes if p is not trap for row in p.pending)
