"""The lesson panel in the window, offscreen: a small pack built in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vizvm.asm.assembler import assemble

QtCore = pytest.importorskip("PySide6.QtCore")

from PySide6.QtCore import QUrl  # noqa: E402
from PySide6.QtGui import QImage, QTextDocument  # noqa: E402

from vizvm.lessons import variants  # noqa: E402
from vizvm.lessons.progress import Progress  # noqa: E402
from vizvm.ui.lesson_checks import RIGHT, WRONG  # noqa: E402
from vizvm.ui.lesson_view import StepText  # noqa: E402
from vizvm.ui.main_window import MainWindow  # noqa: E402
from vizvm.ui.theme import PRESENTATION_SCALE  # noqa: E402

SHOT_DIR = os.environ.get("VIZVM_SHOTS")  # set it to keep the pictures and look at them
ADDER = "mov ebx, [0x500]\nadd ebx, 1\nmov al, 0\nout 0xf4, al\nhlt\n"
PACK = """\
format = 1
id = "test-pack"
title = "A test pack"
version = "1.0.0"
min_app_version = "0.1.0"
authors = ["T. Tester <t@example.org>"]
license = "CC-BY-4.0"
lessons = ["basics"]
"""
LESSON = '''\
id = "basics"
title = "Counting rings and traps"
question = "When does the monitor step in?"
minutes = 10

[[programs]]
name = "adder"
source = "adder.asm"
image = "adder.bin"

[[params]]
name = "calls"
kind = "int"
min = 3
max = 9

[[steps]]
id = "intro"
kind = "read"
title = "Rings"
text = "intro.md"
hints = ["Look at the ring diagram.", "Ring 0 is the most privileged."]

[[steps.checks]]
id = "rings"
kind = "number"
prompt = "How many rings has **x86**?"
answer = 4
points = 2
hints = ["Count the circles."]

[[steps]]
id = "run"
kind = "run"
title = "Run the adder"
body = "The adder adds one to your number, {calls}."
program = "adder"
techniques = ["native", "trap-emulate"]
max_insns = 10000

[[steps.checks]]
id = "ebx"
kind = "register"
prompt = "What is EBX at the end?"
register = "ebx"
technique = "native"

[[steps.checks]]
id = "ran"
kind = "events"
prompt = "Run or step it under trap-and-emulate."
event = "trap"
op = ">="
value = 0
technique = "trap-emulate"

[[steps]]
id = "guess"
kind = "predict"
title = "Predict"
body = "Before running **hello**: will `cli` trap?"
program = "hello"
techniques = ["native", "trap-emulate"]

[[steps.checks]]
id = "cli"
kind = "trap"
prompt = "Does `cli` trap under trap-and-emulate?"
instruction = "cli"
technique = "trap-emulate"
'''
HOST = """
[[steps]]
id = "host"
kind = "run"
title = "Two VMs, one host"
body = "Two VMs share a host: the adder and **hello**."

[steps.host]
scenario = "consolidation"
vms = [
  { name = "one", program = "adder", technique = "native" },
  { name = "two", program = "hello", technique = "trap-emulate" },
]
max_insns = 20_000

[[steps.checks]]
id = "host-ebx"
kind = "number"
prompt = "What is EBX in VM *one* at the end?"
compute = "vm.one.register.ebx"
"""
INTRO = "# Rings\n\nx86 has **rings**. Your number is {calls}.\n\n![the rings](rings.png)\n"


def write_pack(root: Path, host: str = HOST) -> Path:
    lesson = root / "basics"
    lesson.mkdir(parents=True)
    (root / "pack.toml").write_text(PACK)
    (lesson / "lesson.toml").write_text(LESSON + host)
    (lesson / "intro.md").write_text(INTRO)
    (lesson / "adder.asm").write_text(ADDER)
    (lesson / "adder.bin").write_bytes(assemble(ADDER))
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(0x336699)
    image.save(str(lesson / "rings.png"))
    return root


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("VIZVM_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def pack_dir(tmp_path) -> Path:
    return write_pack(tmp_path / "pack")


def make_window(qtbot, settings) -> MainWindow:
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    return window


@pytest.fixture
def window(qtbot, settings, data, monkeypatch):
    monkeypatch.setattr("vizvm.ui.lesson_packs.builtin_pack_dirs", list)  # only the test's
    window = make_window(qtbot, settings)
    yield window
    window.close()


def opened(qtbot, panel, pack_dir: Path) -> None:
    """Open a pack (read in the worker process) and wait for its first lesson."""
    panel.open_pack(pack_dir)
    qtbot.waitUntil(lambda: panel.worker.pending == 0, timeout=30000)


def start(qtbot, window: MainWindow, pack_dir: Path, student: str = "Ada Lovelace"):
    panel = window.lessons
    panel.settings.setValue("lessons/student", student)
    panel._show_student()
    opened(qtbot, panel, pack_dir)
    assert panel.isVisible()
    assert panel.pack.id == "test-pack" and panel.lesson.id == "basics"
    return panel


def check(qtbot, panel, check_id: str, answer: str) -> str:
    card = panel.cards[check_id]
    card.set_answer(answer)
    card.check_button.click()
    qtbot.waitUntil(lambda: "checking" not in card.feedback.text(), timeout=30000)
    return card.feedback.text()


def test_the_panel_is_a_hidden_dock_toggled_by_ctrl_l(window) -> None:
    assert not window.lessons.isVisible()
    action = window.lessons.toggleViewAction()
    assert action.shortcut().toString() == "Ctrl+L"
    action.trigger()
    assert window.lessons.isVisible()


def test_a_lesson_shows_its_question_variant_and_steps(qtbot, window, pack_dir) -> None:
    panel = start(qtbot, window, pack_dir)
    seed = variants.seed_for("Ada Lovelace", "test-pack", "basics")
    calls = variants.draw(panel.lesson.params, seed)["calls"]
    assert panel.title.text() == "Counting rings and traps"
    assert "When does the monitor step in?" in panel.question.text()
    assert panel.variant.text() == f"Your variant: calls = {calls} (seed {seed})"
    assert [panel.steps.item(i).text() for i in range(4)] == [
        "○ 1. Rings", "○ 2. Run the adder", "○ 3. Predict", "○ 4. Two VMs, one host"]
    assert f"Your number is {calls}." in panel.text.toPlainText()
    assert panel.text.refused == []  # the pack's own image loaded


def test_the_name_is_asked_once_and_picks_the_variant(qtbot, window, pack_dir) -> None:
    panel = window.lessons
    panel.toggleViewAction().trigger()
    assert not panel.body.isEnabled() and panel.student_edit.isVisible()
    qtbot.keyClicks(panel.student_edit, "Alan Turing")
    qtbot.keyClick(panel.student_edit, QtCore.Qt.Key.Key_Return)
    assert panel.body.isEnabled() and not panel.student_edit.isVisible()
    assert panel.settings.value("lessons/student") == "Alan Turing"
    opened(qtbot, panel, pack_dir)
    seed = variants.seed_for("Alan Turing", "test-pack", "basics")
    assert f"(seed {seed})" in panel.variant.text()
    panel.student_button.click()  # Change name…
    panel.student_edit.setText("Grace Hopper")
    panel.student_button.click()
    assert f"(seed {variants.seed_for('Grace Hopper', 'test-pack', 'basics')})" in \
        panel.variant.text()


def test_a_wrong_then_a_right_answer_and_a_hint_are_recorded(qtbot, window, pack_dir,
                                                              data) -> None:
    panel = start(qtbot, window, pack_dir)
    wrong = check(qtbot, panel, "rings", "3")
    assert wrong.startswith(f"<b>{WRONG}")
    assert panel.cards["rings"].feedback.property("verdict") == "wrong"
    right = check(qtbot, panel, "rings", "0x4")
    assert right.startswith(f"<b>{RIGHT} 2 of 2 points</b> · Right: the answer is 4")
    assert panel.steps.item(0).text().startswith(RIGHT)
    assert panel.lesson_bar.text() == "This lesson: 2 of 6 points"
    panel.cards["rings"].hint_button.click()
    assert "<b>Hint 1:</b> Count the circles." in panel.cards["rings"].hints.text()
    assert not panel.cards["rings"].hint_button.isEnabled()  # one hint, shown
    panel.hint_button.click()
    assert "Look at the ring diagram." in panel.hint_text.text()
    assert "most privileged" not in panel.hint_text.text()  # one at a time
    progress = Progress(data / "progress.sqlite3")
    latest = progress.latest_answers("Ada Lovelace", "test-pack", "basics")
    assert (latest["rings"].answer, latest["rings"].correct) == ("0x4", True)
    assert progress.hints_used("Ada Lovelace", "test-pack", "basics", "rings") == 1
    progress.close()


def test_answers_come_back_after_closing_and_reopening(qtbot, settings, data, pack_dir,
                                                        monkeypatch) -> None:
    monkeypatch.setattr("vizvm.ui.lesson_packs.builtin_pack_dirs", list)
    first = make_window(qtbot, settings)
    panel = start(qtbot, first, pack_dir)
    check(qtbot, panel, "rings", "4")
    panel.hint_button.click()
    first.close()
    second = make_window(qtbot, settings)
    panel = second.lessons
    assert panel.isVisible()  # the dock is part of the remembered layout
    qtbot.waitUntil(lambda: panel.lesson is not None, timeout=30000)
    assert panel.lesson is not None and panel.lesson.id == "basics"  # the pack reopened
    card = panel.cards["rings"]
    assert card.edit.text() == "4"
    assert card.feedback.text().startswith(f"<b>{RIGHT}")
    assert "Look at the ring diagram." in panel.hint_text.text()
    assert panel.lesson_bar.text() == "This lesson: 2 of 6 points"
    second.close()


def test_an_unusable_progress_folder_is_said_and_the_lesson_goes_on(qtbot, settings, tmp_path,
                                                                    monkeypatch,
                                                                    pack_dir) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("VIZVM_DATA_DIR", str(blocker))
    monkeypatch.setattr("vizvm.ui.lesson_packs.builtin_pack_dirs", list)
    window = make_window(qtbot, settings)
    panel = start(qtbot, window, pack_dir)
    assert "Your progress could not be" in panel.note.text()
    assert "not-a-folder" in panel.note.text()
    assert check(qtbot, panel, "rings", "4").startswith(f"<b>{RIGHT}")  # still judged
    window.close()


def test_a_malformed_pack_shows_its_problems_and_the_app_goes_on(qtbot, window, pack_dir,
                                                                  tmp_path) -> None:
    broken = write_pack(tmp_path / "broken")
    (broken / "pack.toml").write_text(PACK.replace('version = "1.0.0"\n', "version = \n"))
    panel = window.lessons
    window.lessons.toggleViewAction().trigger()
    opened(qtbot, panel, broken)
    assert panel.chooser.problems.isVisible() and panel.pack is None
    assert "pack.toml:4" in panel.chooser.problems.toPlainText()
    opened(qtbot, panel, pack_dir)  # and a good one still opens
    assert panel.pack.id == "test-pack"
    assert not panel.chooser.problems.isVisible()


def test_a_run_step_opens_its_program_under_its_techniques(qtbot, window, pack_dir,
                                                          tmp_path) -> None:
    panel = start(qtbot, window, pack_dir)
    panel.next.click()
    assert panel.step.id == "run"
    qtbot.waitUntil(lambda: window.last_frame is not None and len(window.last_frame.panes) == 2
                    and window.poll() is None, timeout=20000)
    assert [p.technique for p in window.panes] == ["native", "trap-emulate"]
    assert window.panes[0].view.program == "adder"
    gate = panel.cards["ran"]
    assert not gate.check_button.isEnabled()  # not run yet
    window.step("into")
    window.step("into")
    qtbot.waitUntil(lambda: (window.poll(), gate.ran and window.panes[0].view.icount == 2)[1],
                    timeout=20000)
    # the student's number is in guest memory: EBX holds it after two steps
    calls = panel.values["calls"]
    assert window.panes[0].view.registers["ebx"] == calls + 1
    assert check(qtbot, panel, "ran", "ran").startswith(f"<b>{RIGHT}")
    assert check(qtbot, panel, "ebx", str(calls + 1)).startswith(f"<b>{RIGHT}")
    shots = shot_dir(tmp_path)
    shoot(qtbot, window, shots, "window-run-step.png")


def test_the_keyboard_checks_an_answer(qtbot, window, pack_dir) -> None:
    panel = start(qtbot, window, pack_dir)
    card = panel.cards["rings"]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts need the window active
    card.edit.setFocus()
    qtbot.keyClicks(card.edit, "4")
    qtbot.keyClick(card.edit, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: card.feedback.text().startswith(f"<b>{RIGHT}"), timeout=30000)
    panel.go(2)
    card = panel.cards["cli"]
    qtbot.waitUntil(card.isVisible)  # a widget added to a shown layout shows a moment later
    card.buttons[1].setFocus()
    qtbot.keyClick(card.buttons[1], QtCore.Qt.Key.Key_Space)  # choose "no"
    qtbot.keyClick(card.buttons[1], QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: card.feedback.text().startswith(f"<b>{WRONG}"), timeout=30000)


def test_a_prediction_locks_and_only_then_opens_the_panes(qtbot, window, pack_dir) -> None:
    panel = start(qtbot, window, pack_dir)
    panel.steps.setCurrentRow(2)
    assert window.program == ""  # nothing opened before the prediction
    assert "Predict first" in panel.note.text()
    feedback = check(qtbot, panel, "cli", "yes")
    assert feedback.startswith(f"<b>{RIGHT}")
    card = panel.cards["cli"]
    assert card.locked and not card.buttons[0].isEnabled()
    assert window.program == "hello" and window.techniques == ("native", "trap-emulate")


def test_a_predicted_host_runs_only_after_the_prediction(qtbot, window, tmp_path) -> None:
    pack = write_pack(tmp_path / "pack", HOST.replace('kind = "run"', 'kind = "predict"'))
    panel = start(qtbot, window, pack)
    panel.steps.setCurrentRow(3)
    assert not panel.host.isVisible() and "the host runs" in panel.note.text()
    check(qtbot, panel, "host-ebx", "1")  # a wrong guess still counts as a prediction
    assert panel.host.isVisible()
    qtbot.waitUntil(lambda: not panel.host.heading.text().startswith("⏳"), timeout=60000)
    assert panel.host.heading.text().startswith("✔")


def test_presentation_mode_scales_the_panel(qtbot, window, pack_dir) -> None:
    panel = start(qtbot, window, pack_dir)
    before = panel.title.font().pointSizeF()
    window.toggle_presentation()
    assert panel.title.font().pointSizeF() == pytest.approx(before * PRESENTATION_SCALE)
    window.toggle_presentation()


@pytest.mark.parametrize(("address", "loads"), [
    ("rings.png", True), ("../basics/rings.png", True), ("http://example.org/x.png", False),
    ("file:///etc/passwd", False), ("../../outside.png", False), ("/etc/hosts", False)])
def test_the_text_loads_images_only_from_the_pack(qtbot, address, loads) -> None:
    text = StepText()
    qtbot.addWidget(text)
    image = QImage(2, 2, QImage.Format.Format_RGB32)
    image.fill(0)
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    text.files = {"basics/rings.png": bytes(buffer.data())}
    text.folder = "basics"
    got = text.loadResource(QTextDocument.ResourceType.ImageResource.value, QUrl(address))
    assert isinstance(got, QImage) is loads


def shot_dir(tmp_path: Path) -> Path:
    shots = Path(SHOT_DIR) if SHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def shoot(qtbot, widget, folder: Path, name: str) -> None:
    qtbot.wait(300)  # the layouts settle (posted events) before a picture is taken
    assert widget.grab().save(str(folder / name))


def test_screenshots_normal_and_presenting(qtbot, window, pack_dir, tmp_path) -> None:
    """Pictures to look at, in VIZVM_SHOTS (never in the repository): the panel draws in
    every mode without a Qt warning."""
    shots = shot_dir(tmp_path)
    panel = start(qtbot, window, pack_dir)
    check(qtbot, panel, "rings", "3")
    panel.hint_button.click()
    panel.cards["rings"].hint_button.click()
    shoot(qtbot, window, shots, "window.png")
    shoot(qtbot, panel, shots, "panel.png")
    window.toggle_presentation()
    check(qtbot, panel, "rings", "4")
    shoot(qtbot, panel, shots, "panel-presenting.png")
    window.set_theme("high-contrast")
    shoot(qtbot, panel, shots, "panel-high-contrast.png")
    window.toggle_presentation()
    window.set_theme("light")


def test_a_host_step_runs_off_the_ui_thread_and_shows_its_result(qtbot, window,
                                                                   pack_dir, tmp_path) -> None:
    panel = start(qtbot, window, pack_dir)
    panel.steps.setCurrentRow(3)
    host = panel.host
    assert host.isVisible() and host.heading.text().startswith("⏳")
    qtbot.waitUntil(lambda: not host.heading.text().startswith("⏳"), timeout=60000)
    assert host.heading.text().startswith("✔"), host.heading.text()
    result = host.result
    assert set(result.vms) == {"one", "two"}
    assert host.figures.rowCount() == len(result.figures) > 0
    serial = host.serial.toPlainText()
    assert "── one (native): poweroff, exit code 0" in serial
    assert "── two (trap-emulate): poweroff, exit code 0\nhello from the guest" in serial
    assert host.log.toPlainText().splitlines() == list(result.log)
    assert len(host.plot.getPlotItem().listDataItems()) == len(result.series) > 0
    calls = panel.values["calls"]
    assert check(qtbot, panel, "host-ebx", str(calls + 1)).startswith(f"<b>{RIGHT}")
    shots = shot_dir(tmp_path)
    window.toggle_presentation()
    shoot(qtbot, panel, shots, "panel-host-presenting.png")
    shoot(qtbot, host, shots, "host-presenting.png")
    window.toggle_presentation()


def test_export_writes_the_submission(qtbot, window, pack_dir, tmp_path) -> None:
    from vizvm.lessons.bundle import read_bundle

    panel = start(qtbot, window, pack_dir)
    check(qtbot, panel, "rings", "4")
    written = panel.export_to(tmp_path)
    bundle = read_bundle(written)
    assert bundle.student == "Ada Lovelace"
    assert bundle.lesson("basics").answers == {"rings": "4"}
    assert str(written) in panel.note.text()


def test_the_built_in_pack_shows_every_step(qtbot, settings, data) -> None:
    """Every step of the built-in lessons renders, with a card per check (the panel
    alone: the window's panes are tested above)."""
    from vizvm.lessons.builtin import builtin_pack_dirs
    from vizvm.lessons.errors import PackError
    from vizvm.lessons.loader import load_pack
    from vizvm.ui.lesson_panel import LessonPanel

    try:
        packs = [load_pack(d) for d in builtin_pack_dirs()]
    except PackError as exc:
        pytest.skip(f"the built-in pack is being written: {exc}")
    if not packs:
        pytest.skip("no built-in pack in this checkout")
    panel = LessonPanel(settings)
    qtbot.addWidget(panel)
    opened_steps: list[object] = []
    panel.open_program.connect(opened_steps.append)
    panel.settings.setValue("lessons/student", "Grace Hopper")
    panel._show_student()
    panel.show()
    qtbot.waitUntil(lambda: panel.lesson is not None, timeout=30000)
    assert [p.id for p in panel.chooser.packs] == [p.id for p in packs]
    assert not panel.chooser.problems.isVisible()
    for index, lesson in enumerate(packs[0].lessons):
        panel.chooser.lesson_box.setCurrentIndex(index)
        assert panel.lesson.id == lesson.id
        for row, step in enumerate(lesson.steps):
            panel.steps.setCurrentRow(row)
            assert panel.step.id == step.id
            assert panel.text.toPlainText().strip()
            assert set(panel.cards) == {c.id for c in step.checks}
            assert panel.text.refused == []
            waiting = step.kind == "predict"  # no answers yet: nothing of the run shows
            assert panel.host.isVisible() == (step.host is not None and not waiting)
    runs = [s for lesson in packs[0].lessons for s in lesson.steps
            if s.kind in {"run", "answer"} and s.program and s.techniques and not s.host]
    assert len(opened_steps) == len(runs)  # every run step asked the window for its panes
    panel.close_work()  # host runs still queued are dropped


def test_a_zipped_pack_opens_and_its_program_runs_from_the_zip(qtbot, window, pack_dir,
                                                                tmp_path) -> None:
    import shutil

    archive = Path(shutil.make_archive(str(tmp_path / "zipped"), "zip", pack_dir))
    shutil.rmtree(pack_dir)  # nothing of the pack is left on disk but the .zip
    panel = start(qtbot, window, archive)
    panel.steps.setCurrentRow(1)
    qtbot.waitUntil(lambda: (window.poll(), window.last_frame is not None
                             and len(window.last_frame.panes) == 2)[1], timeout=20000)
    assert window.panes[0].view.program == "adder"
    assert window.panes[0].view.status == "ready"
