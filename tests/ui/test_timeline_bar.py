"""Going back in the window: step back, back to an event, the timeline bar, snapshots
and exports, with the real engine, offscreen."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from vizvm.session import runner, snapshots
from vizvm.session.program import load
from vizvm.session.views import PaneView

QtCore = pytest.importorskip("PySide6.QtCore")

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog  # noqa: E402

from vizvm.ui.main_window import MainWindow  # noqa: E402
from vizvm.ui.timeline_strip import Row, columns, strip_image, ticks  # noqa: E402

TECHNIQUES = ("native", "trap-emulate")


@pytest.fixture
def window(qtbot, settings):
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(780, 580)
    window.show()
    yield window
    window.close()


def until(qtbot, window: MainWindow, test, timeout: int = 20000) -> None:
    def settled() -> bool:
        window.poll()
        frame = window.last_frame
        return (frame is not None and not frame.running
                and len(frame.panes) == len(window.panes) and bool(test(frame)))
    qtbot.waitUntil(settled, timeout=timeout)


def opened(qtbot, window: MainWindow) -> None:
    window.open("holes", TECHNIQUES)
    until(qtbot, window, lambda f: [p.technique for p in f.panes] == list(TECHNIQUES))


def current(view: PaneView) -> int:
    return next(line.address for line in view.listing if line.current)


def stepped(qtbot, window: MainWindow, count: int) -> dict[int, int]:
    """Step `count` times; the first pane's current address at every count on the way."""
    seen = {0: current(window.panes[0].view)}
    for n in range(1, count + 1):
        window.step("into")
        until(qtbot, window, lambda f, n=n: f.panes[0].icount == n)
        seen[n] = current(window.panes[0].view)
    return seen


def test_step_back_shows_the_earlier_instruction(qtbot, window) -> None:
    opened(qtbot, window)
    seen = stepped(qtbot, window, 4)
    assert len(set(seen.values())) > 1
    for n in (3, 2):
        window.travel.step_back()
        until(qtbot, window, lambda f, n=n: f.panes[0].icount == n)
        assert all(pane.view.icount == n for pane in window.panes)
        assert current(window.panes[0].view) == seen[n]
        shown = [line.address for line in window.panes[0].code.lines if line.current]
        assert shown == [seen[n]]
    assert window.travel.bar.position == 2
    assert window.travel.bar.recorded[1] >= 4  # what lies ahead stays on the bar


def test_back_to_the_previous_event(qtbot, window) -> None:
    opened(qtbot, window)
    stepped(qtbot, window, 8)  # past a few of trap-and-emulate's traps
    before = window.panes[1].view.icount
    last_event = window.panes[1].events.events.rows[-1].icount
    window.travel.back_to_event()
    until(qtbot, window, lambda f: "back to the event" in f.message)
    assert window.panes[1].view.icount < before
    assert window.panes[1].view.icount <= last_event
    once = window.panes[1].view.icount
    window.travel.back_to_event()  # and again, to the one before
    until(qtbot, window, lambda f: f.panes[1].icount < once)


def test_a_click_on_the_bar_seeks_there(qtbot, window) -> None:
    opened(qtbot, window)
    window.go_to("native", 3000)
    until(qtbot, window, lambda f: f.panes[0].icount == 2999)
    bar = window.travel.bar
    qtbot.waitUntil(lambda: bar.recorded[1] >= 2999)
    rect = bar.track()
    x = rect.left() + rect.width() * 0.4
    target = bar.icount_at(x)
    assert 0 < target < 2999
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(rect.center().y())))
    until(qtbot, window, lambda f: f.panes[0].icount == bar.icount_at(int(x)))
    assert abs(bar.x_of(window.panes[0].view.icount) - x) <= 1.5
    assert window.panes[1].view.icount == window.panes[0].view.icount  # in lockstep


def test_a_drag_seeks_as_it_goes_and_lands_where_released(qtbot, window, monkeypatch) -> None:
    opened(qtbot, window)
    window.go_to("native", 3000)
    until(qtbot, window, lambda f: f.panes[0].icount == 2999)
    bar = window.travel.bar
    sent: list[object] = []
    submit = window.engine.submit
    monkeypatch.setattr(window.engine, "submit", lambda c: (sent.append(c), submit(c)))
    rect = bar.track()
    y = rect.center().y()
    xs = [rect.left() + rect.width() * f for f in (0.9, 0.7, 0.5, 0.3, 0.2)]
    press, *moves, release = (QPointF(x, y) for x in xs)
    send = QApplication.sendEvent
    button = Qt.MouseButton.LeftButton
    send(bar, QMouseEvent(QEvent.Type.MouseButtonPress, press, press, button, button,
                          Qt.KeyboardModifier.NoModifier))
    for point in moves:
        send(bar, QMouseEvent(QEvent.Type.MouseMove, point, point, Qt.MouseButton.NoButton,
                              button, Qt.KeyboardModifier.NoModifier))
    assert bar.preview == bar.icount_at(moves[-1].x())
    send(bar, QMouseEvent(QEvent.Type.MouseButtonRelease, release, release, button,
                          Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    seeks = [c for c in sent if type(c).__name__ == "Seek"]
    assert 2 <= len(seeks) < len(xs)  # the first at once, the rest no faster than SEEK_MS
    assert seeks[-1].icount == bar.icount_at(release.x())
    until(qtbot, window, lambda f: f.panes[0].icount == seeks[-1].icount)
    assert bar.preview is None


def test_keys_on_the_bar_move_through_the_recording(qtbot, window) -> None:
    opened(qtbot, window)
    stepped(qtbot, window, 3)
    bar = window.travel.bar
    bar.setFocus()
    qtbot.keyClick(bar, Qt.Key.Key_Left)
    until(qtbot, window, lambda f: f.panes[0].icount == 2)
    qtbot.keyClick(bar, Qt.Key.Key_Home)
    until(qtbot, window, lambda f: f.panes[0].icount == 0)
    qtbot.keyClick(bar, Qt.Key.Key_End)
    until(qtbot, window, lambda f: f.panes[0].icount == 3)


def test_the_bar_draws_the_monitors_events(qtbot, window) -> None:
    opened(qtbot, window)
    window.go_to("native", 3000)
    until(qtbot, window, lambda f: f.panes[0].icount == 2999)
    bar = window.travel.bar
    rows = {row.technique: row for row in bar.rows}
    width = int(bar.track().width())
    trapped = columns(rows["trap-emulate"], *bar.span, width)
    assert trapped.sum() == pytest.approx(rows["trap-emulate"].counts.sum())
    assert trapped.sum() > columns(rows["native"], *bar.span, width).sum()
    window.toggle_presentation()
    image = bar.grab().toImage()
    assert image.height() == bar.height() and not image.isNull()


@pytest.mark.parametrize(("counts", "width"), [(4, 64), (5000, 64)])
def test_columns_keep_every_event(counts, width) -> None:
    row = Row("trap-emulate", "holes", np.arange(counts, dtype=np.int64) % 3, 7)
    summed = columns(row, 0, counts * 7, width)
    assert summed.sum() == pytest.approx(row.counts.sum())
    assert len(summed) == width


@pytest.mark.parametrize(("lo", "hi", "most", "expected"), [
    (0, 4999, 8, [0, 1000, 2000, 3000, 4000]),
    (0, 7, 10, list(range(8))),
    (123, 2_000_000, 5, [500_000, 1_000_000, 1_500_000, 2_000_000]),
])
def test_ticks_are_round_and_few(lo, hi, most, expected) -> None:
    assert ticks(lo, hi, most) == expected


def test_the_strip_image_has_a_bar_where_there_are_events() -> None:
    sums = [np.array([0.0, 1.0, 0.0, 100.0]), np.zeros(4)]
    image = strip_image(sums, [QColor("#D55E00"), QColor("#0072B2")], 20)
    assert (image.width(), image.height()) == (4, 40)

    def painted(x: int, row: int) -> int:
        return sum(image.pixelColor(x, y).alpha() > 0 for y in range(row * 20, row * 20 + 20))
    assert painted(0, 0) == painted(2, 0) == 0
    assert 0 < painted(1, 0) < painted(3, 0)  # a log scale: one event still shows
    assert all(painted(x, 1) == 0 for x in range(4))


def test_a_snapshot_saved_and_opened_is_the_same_moment(qtbot, window, tmp_path,
                                                        monkeypatch) -> None:
    opened(qtbot, window)
    seen = stepped(qtbot, window, 5)
    path = tmp_path / "moment"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    window.travel.save_snapshot(1)
    until(qtbot, window, lambda f: f.message.startswith("saved "))
    saved = path.with_name("moment.vizvm-snap")
    assert saved.exists()
    window.step("into")
    until(qtbot, window, lambda f: f.panes[0].icount == 6)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    window.travel.open_snapshot()
    assert window.techniques == ("trap-emulate",)
    until(qtbot, window, lambda f: f.message.startswith("opened "))
    view = window.panes[0].view
    assert (view.technique, view.icount) == ("trap-emulate", 5)
    assert current(view) == seen[5]


@pytest.fixture(scope="module")
def snapshot_bytes(tmp_path_factory) -> bytes:
    """A good snapshot file's bytes, written by the session layer, to damage."""
    settings = runner.Settings(technique="native")
    machine = runner.build(load("holes").image, settings)
    machine.advance(50)
    path = tmp_path_factory.mktemp("snap") / "good.vizvm-snap"
    snapshots.save_snapshot(machine, path, program=load("holes"), settings=settings)
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "future"])
def test_a_bad_snapshot_is_a_message_not_a_crash(qtbot, window, tmp_path, damage,
                                                 snapshot_bytes) -> None:
    opened(qtbot, window)
    data = snapshot_bytes
    bad = tmp_path / "bad.vizvm-snap"
    bad.write_bytes({"garbage": b"not a snapshot at all",
                     "truncated": data[: len(data) // 2],
                     "future": data[:8] + (99).to_bytes(4, "little") + data[12:]}[damage])
    window.travel.open_snapshot(str(bad))
    message = window.statusBar().currentMessage()
    assert str(bad) in message
    assert window.techniques == TECHNIQUES  # the run goes on
    if damage == "future":
        assert "99" in message


def test_exports_write_json_and_csv(qtbot, window, tmp_path, monkeypatch) -> None:
    opened(qtbot, window)
    window.go_to("native", 2000)
    until(qtbot, window, lambda f: f.panes[0].icount == 1999)
    trace, counters = tmp_path / "run.json", tmp_path / "run.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(trace), ""))
    window.travel.export_trace()
    until(qtbot, window, lambda f: str(trace) in f.message)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(counters), ""))
    window.travel.export_counters()
    until(qtbot, window, lambda f: str(counters) in f.message)
    events = json.loads(trace.read_text())["traceEvents"]
    assert any(e.get("name", "").startswith("trap") for e in events)
    rows = list(csv.DictReader(counters.read_text().splitlines()))
    assert {r["technique"] for r in rows} == set(TECHNIQUES)


def test_a_cancelled_dialog_sends_nothing(qtbot, window, monkeypatch) -> None:
    opened(qtbot, window)
    sent = []
    monkeypatch.setattr(window.engine, "submit", sent.append)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    window.travel.save_snapshot(0)
    window.travel.open_snapshot()
    window.travel.export_trace()
    assert sent == []


def test_the_keys_and_menus(window) -> None:
    actions = {a.text().replace("&", ""): a for a in window.findChildren(
        type(window.run_action))}
    assert actions["Step back"].shortcut().toString() == "Shift+F11"
    assert actions["Back to the previous event"].shortcut().toString() == "Ctrl+F8"
    assert "(Shift+F11)" in actions["Step back"].toolTip()
    for name in ("Open snapshot…", "Export trace (Perfetto JSON)…", "Export counters (CSV)…"):
        assert name in actions
    shortcuts = [a.shortcut().toString() for a in actions.values() if not a.shortcut().isEmpty()]
    assert len(shortcuts) == len(set(shortcuts))  # no key does two things
