"""The ring diagram: where the token ends, its animation, and drawing in every theme."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")

from PySide6.QtGui import QColor

from vizvm.session.views import Place
from vizvm.ui.ring_diagram import RingDiagram
from vizvm.ui.theme import THEMES

KERNEL, USER = Place(1, label="guest kernel"), Place(3, label="guest user")
TRAP = Place(0, label="trap: lgdt [0x100504]")
TRAP_EMULATE = (("monitor", Place(0, label="monitor")), ("guest kernel", Place(1)),
                ("guest user", Place(3)))
HARDWARE_ASSIST = (("VMM", Place(0, root=True, label="VMM")), ("guest kernel", Place(0)),
                   ("guest user", Place(3)))


@pytest.fixture
def diagram(qtbot):
    widget = RingDiagram()
    qtbot.addWidget(widget)
    widget.resize(280, 240)
    widget.set_occupants(TRAP_EMULATE)
    widget.show()
    return widget


def colour_at_token(widget: RingDiagram) -> QColor:
    centre = widget.token_center().toPoint()
    return widget.grab().toImage().pixelColor(centre)


def test_jump_lands_on_the_last_place(diagram):
    assert diagram.token_place() is None
    diagram.show_path([KERNEL, TRAP, KERNEL, USER], animate=False)
    assert diagram.token_place() == USER
    assert not diagram.is_animating()


def test_animation_runs_then_ends_on_the_last_place(qtbot, diagram):
    diagram.show_path([KERNEL], animate=False)
    diagram.show_path([KERNEL, TRAP, KERNEL], animate=True)
    assert diagram.is_animating()
    qtbot.waitUntil(lambda: not diagram.is_animating(), timeout=5000)
    assert diagram.token_place() == KERNEL
    jumped = RingDiagram()
    qtbot.addWidget(jumped)
    jumped.resize(diagram.size())
    jumped.set_occupants(TRAP_EMULATE)
    jumped.show_path([KERNEL], animate=False)
    assert diagram.token_center() == jumped.token_center()


def test_a_new_path_mid_animation_ends_on_its_last_place(qtbot, diagram):
    diagram.show_path([KERNEL, TRAP, KERNEL, USER], animate=True)
    assert diagram.is_animating()
    diagram.show_path([USER, KERNEL, TRAP], animate=True)
    assert diagram.is_animating()
    qtbot.waitUntil(lambda: not diagram.is_animating(), timeout=5000)
    assert diagram.token_place() == TRAP


def test_staying_put_does_not_move(diagram):
    diagram.show_path([KERNEL], animate=False)
    before = diagram.token_center()
    diagram.show_path([KERNEL], animate=True)
    assert not diagram.is_animating()
    assert diagram.token_center() == before


def test_the_token_is_drawn_where_it_says(diagram):
    for place in (TRAP, KERNEL, USER):
        diagram.show_path([place], animate=False)
        assert colour_at_token(diagram) == QColor(THEMES["light"].accent)


def test_hardware_assist_draws_root_and_non_root_modes(diagram):
    diagram.set_occupants(HARDWARE_ASSIST)
    accent = QColor(THEMES["light"].accent)
    diagram.show_path([Place(0, root=True, label="VM exit cr-access")], animate=False)
    in_root = diagram.token_center()
    assert colour_at_token(diagram) == accent
    diagram.show_path([Place(0, label="guest kernel")], animate=False)
    in_guest = diagram.token_center()
    assert colour_at_token(diagram) == accent
    assert in_root.x() < diagram.width() / 2 < in_guest.x()  # two ring sets, side by side


@pytest.mark.parametrize("scale", [1.0, 1.6])
@pytest.mark.parametrize("theme", sorted(THEMES))
@pytest.mark.parametrize("occupants", [TRAP_EMULATE, HARDWARE_ASSIST], ids=["te", "ha"])
def test_every_theme_and_scale_renders(diagram, theme, scale, occupants):
    diagram.set_theme(THEMES[theme])
    diagram.set_scale(scale)
    diagram.resize(diagram.sizeHint())
    diagram.set_occupants(occupants)
    diagram.show_path([Place(3, label="guest user"), TRAP], animate=False)
    assert diagram.sizeHint().width() == round(300 * scale)
    assert not diagram.grab().isNull()
    assert colour_at_token(diagram) == QColor(THEMES[theme].accent)
