"""`vizvm window --lesson ID [--pack PATH]`: a class starts from one command."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from vizvm.cli import main
from vizvm.ui import app
from vizvm.ui.main_window import MainWindow


def test_an_unknown_lesson_is_refused_before_any_window(capsys) -> None:
    assert main(["window", "--lesson", "no-such-lesson"]) == 2
    assert "no lesson 'no-such-lesson'" in capsys.readouterr().err


def test_the_lesson_opens_beside_the_panes(qtbot, settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path))
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    app.open_lesson(window, "vizvm-core/two-rings", None)
    panel = window.lessons
    qtbot.waitUntil(lambda: panel.lesson is not None and panel.lesson.id == "two-rings",
                    timeout=30000)
    assert panel.isVisible()
    panel.close_work()
    window.close()
