"""`vizvm screenshots` renders the README's pictures from the real window."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QImage

from vizvm.cli import main


def test_screenshots_are_rendered(tmp_path, qapp) -> None:
    assert main(["screenshots", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["holes-popf.png", "kernel-race.png", "lesson.png", "presentation-dark.png"]
    image = QImage(str(tmp_path / "holes-popf.png"))
    assert (image.width(), image.height()) == (1800, 1100)
    dark = QImage(str(tmp_path / "presentation-dark.png"))
    assert dark.pixelColor(5, 300).lightness() < 80  # the dark theme really applied
