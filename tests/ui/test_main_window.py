"""The main window with the real engine, offscreen."""

from __future__ import annotations

import pytest

from vizvm.asm.disasm import disassemble
from vizvm.machine.layout import LOAD_ADDRESS
from vizvm.session.program import load

QtCore = pytest.importorskip("PySide6.QtCore")

from vizvm.ui.main_window import DEFAULT_TECHNIQUES, SPEEDS, MainWindow  # noqa: E402
from vizvm.ui.theme import PRESENTATION_SCALE  # noqa: E402


def first(program: str, text: str) -> int:
    for insn in disassemble(load(program).image, LOAD_ADDRESS):
        if insn.text.startswith(text):
            return insn.address
    raise AssertionError(text)


@pytest.fixture
def window(qtbot, settings):
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def settled(window: MainWindow, test) -> bool:
    window.poll()
    frame = window.last_frame
    return frame is not None and not frame.running and test(frame)


def open_holes(qtbot, window: MainWindow) -> None:
    window.open("holes")
    qtbot.waitUntil(lambda: settled(window, lambda f: len(f.panes) == 4), timeout=20000)


def test_opens_one_pane_per_default_technique(qtbot, window) -> None:
    open_holes(qtbot, window)
    assert [p.technique for p in window.panes] == list(DEFAULT_TECHNIQUES)
    assert all(p.code.rowCount() > 0 for p in window.panes)
    assert window.panes[0].code.lines[0].address <= LOAD_ADDRESS


def test_a_guest_with_a_port_gets_a_paravirt_pane(qtbot, window) -> None:
    window.open("kernel")
    qtbot.waitUntil(lambda: settled(window, lambda f: len(f.panes) == 5), timeout=20000)
    assert window.panes[-1].technique == "paravirt"
    assert window.panes[-1].view.program == "kernel_pv"


def test_step_moves_every_pane_and_animates_the_trap(qtbot, window) -> None:
    open_holes(qtbot, window)
    window.step("into")
    qtbot.waitUntil(lambda: settled(window, lambda f: f.panes[0].icount == 1), timeout=20000)
    trap = window.panes[1]
    assert [e.kind for e in trap.events.events.rows] == ["trap", "emulate"]
    assert trap.rings.token_place().ring == 1  # back in the guest kernel after the trap
    assert "traps 1" in trap.counters.text()
    assert all(p.view.icount == 1 for p in window.panes)


def test_popf_shows_what_trap_and_emulate_missed(qtbot, window) -> None:
    open_holes(qtbot, window)
    popf = first("holes", "popfd")
    window.toggle_breakpoint("holes", popf)
    window.speed.setCurrentIndex(len(SPEEDS) - 1)  # full speed
    window.run()
    qtbot.waitUntil(lambda: settled(window, lambda f: all(p.pc == popf for p in f.panes)),
                    timeout=30000)
    current = [line for line in window.panes[0].code.lines if line.current]
    assert current[0].cls == "sensitive" and current[0].breakpoint
    window.step("into")
    qtbot.waitUntil(lambda: settled(window, lambda f: f.panes[0].pc != popf), timeout=20000)
    trap_rows = window.panes[1].events.events.rows
    assert any(r.observed and "IF stayed 1" in r.reason for r in trap_rows)
    bt_rows = window.panes[2].events.events.rows
    assert any(r.kind == "callout" and r.disasm == "popfd" for r in bt_rows)
    assert window.panes[2].translation.rowCount() > 0
    # the sentence above each pane: what the step did there
    latest = [pane.latest.text() for pane in window.panes]
    assert "IF stayed 1" in latest[1]
    assert "popfd" in latest[2] and latest[2].startswith("⇒")
    assert latest[3].startswith("No VM exit")


def test_a_click_on_an_event_goes_back_to_it(qtbot, window) -> None:
    open_holes(qtbot, window)
    for _ in range(10):
        window.step("event")
    qtbot.waitUntil(lambda: settled(window, lambda f: f.panes[1].icount >= 7), timeout=20000)
    assert window.panes[1].events.events.rows[-1].icount >= 7
    window.go_to("trap-emulate", 3)
    qtbot.waitUntil(lambda: settled(window, lambda f: "went to" in f.message), timeout=20000)
    assert window.panes[1].view.icount == 2


def test_a_broken_program_is_reported_in_the_status_bar(qtbot, window, tmp_path) -> None:
    source = tmp_path / "broken.asm"
    source.write_text("nop\nmov eax,\n")
    window.open(str(source))
    qtbot.waitUntil(lambda: "broken.asm:2" in window.status_text.text(), timeout=20000)
    open_holes(qtbot, window)  # and the window goes on


def test_presentation_mode_scales_the_fonts(qtbot, window) -> None:
    open_holes(qtbot, window)
    before = window.panes[0].code.font().pointSizeF()
    window.toggle_presentation()
    assert window.panes[0].code.font().pointSizeF() == pytest.approx(before * PRESENTATION_SCALE)
    window.toggle_presentation()
    assert window.panes[0].code.font().pointSizeF() == pytest.approx(before)


@pytest.mark.parametrize("theme", ["light", "dark", "high-contrast"])
def test_every_theme_renders(qtbot, window, theme) -> None:
    open_holes(qtbot, window)
    window.set_theme(theme)
    assert not window.grab().isNull()


def test_the_layout_and_choices_are_remembered(qtbot, settings) -> None:
    first_window = MainWindow(settings)
    qtbot.addWidget(first_window)
    first_window.set_theme("dark")
    first_window.technique_actions["hardware-assist"].setChecked(False)
    first_window.toggle_presentation()
    first_window.split.setSizes([300, 200])
    first_window.resize(700, 500)  # within the offscreen screen's 800 x 600
    first_window.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert second.theme.name == "dark"
    assert "hardware-assist" not in second.chosen
    assert second.presenting
    assert second.size().width() == 700
    assert second.split.sizes() == first_window.split.sizes()
    second.close()


def test_keys_are_the_debugger_keys(window) -> None:
    actions = {a.text().replace("&", ""): a.shortcut().toString() for a in window.findChildren(
        type(window.run_action))}
    assert actions["Run"] == "F5"
    assert actions["Step into"] == "F11"
    assert actions["Step over"] == "F10"
    assert actions["Toggle breakpoint"] == "F9"
    assert "(F5)" in window.run_action.toolTip()
    assert actions["Run to the next unseen instruction"] == "Shift+F8"


def test_the_plots_can_be_hidden_and_that_is_remembered(qtbot, settings) -> None:
    first_window = MainWindow(settings)
    qtbot.addWidget(first_window)
    first_window.show()
    first_window.plots_action.trigger()
    assert not first_window.plots.isVisible()
    first_window.close()
    second = MainWindow(settings)
    qtbot.addWidget(second)
    assert not second.plots_action.isChecked()
    second.close()
