"""The plots panel with real guest data, offscreen."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from vizvm.session.pane import Pane
from vizvm.session.program import load
from vizvm.session.runner import Settings
from vizvm.session.views import PaneView, Series
from vizvm.ui.plots import MAX_BARS, PlotsPanel, compact
from vizvm.ui.theme import PRESENTATION_SCALE, THEMES

# the offscreen platform says so whenever a top-level window's size limits change, as
# this panel's do with its fonts; inside the main window it is no top-level window
pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")

TECHNIQUES = ("native", "trap-emulate", "binary-translation")


@pytest.fixture(scope="module")
def views() -> tuple[PaneView, ...]:
    """Each technique runs 'holes' headlessly, in stretches, so the cycles have samples."""
    panes = [Pane(t, load("holes"), Settings()) for t in TECHNIQUES]
    for ticks in range(4000, 40001, 4000):
        for pane in panes:
            pane.advance_to(ticks)
    return tuple(pane.view() for pane in panes)


@pytest.fixture
def panel(qtbot) -> PlotsPanel:
    panel = PlotsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    return panel


def nonzero(view: PaneView) -> set[str]:
    assert view.series is not None
    return {k for k, v in view.series.by_kind.items() if v.any()}


def shown_kinds(panel: PlotsPanel) -> set[str]:
    return {kind for kind, layer in panel.layers.items() if layer.isVisible()}


def test_the_race_holds_each_techniques_whole_arrays(panel, views) -> None:
    panel.update_panes(views)
    panel.redraw_now()
    for view in views:
        assert view.series is not None and len(view.series.icount) > 2
        x, y = panel.lines[view.technique].getData()
        assert np.array_equal(x, view.series.icount)
        assert np.array_equal(y, view.series.cycles)
    assert [label.text for _, label in panel.race_legend.items] == [v.title for v in views]
    styles = {panel.lines[t].opts["pen"].style() for t in TECHNIQUES}
    assert len(styles) == len(TECHNIQUES)  # told apart without colour


def test_events_default_to_the_first_monitor_and_follow_the_combo(panel, views) -> None:
    panel.update_panes(views)
    panel.redraw_now()
    assert panel.chosen == "trap-emulate"
    assert [panel.technique.itemText(i) for i in range(panel.technique.count())] == \
        [v.title for v in views]
    assert shown_kinds(panel) == nonzero(views[1])
    assert "trap" in shown_kinds(panel)
    legend = [label.text for _, label in panel.events_legend.items]
    assert set(legend) == nonzero(views[1])

    panel.technique.setCurrentIndex(2)
    panel.redraw_now()
    assert panel.chosen == "binary-translation"
    assert shown_kinds(panel) == nonzero(views[2])
    assert "translate" in shown_kinds(panel)


def test_the_stack_adds_up_to_all_events(panel, views) -> None:
    panel.update_panes(views)
    panel.redraw_now()
    series = views[1].series
    assert series is not None
    top = max(panel.layers[k].getData()[1].sum() for k in shown_kinds(panel))
    assert top == sum(int(v.sum()) for v in series.by_kind.values())
    bars = len(panel.layers["trap"].getData()[1])
    assert bars <= MAX_BARS
    width = int(panel.layers["trap"].getData()[0][1])
    assert width % series.bin_width == 0
    assert panel.events.getAxis("left").labelText == f"events per {width:,} instructions"


def test_redraws_only_when_the_data_changed(qtbot, panel, views) -> None:
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=5000)  # the first styling
    drawn = panel.frames_drawn
    panel.update_panes(views)
    qtbot.waitUntil(lambda: panel.frames_drawn == drawn + 1, timeout=5000)
    panel.frame()
    panel.update_panes(tuple(dataclasses.replace(v) for v in views))  # equal copies
    panel.frame()
    panel.frame()
    assert panel.frames_drawn == drawn + 1
    assert not panel.timer.isActive()  # idle when nothing changes

    series = views[0].series
    assert series is not None
    longer = Series(np.append(series.icount, series.icount[-1] + 100),
                    np.append(series.cycles, series.cycles[-1] + 500),
                    series.bin_width, series.by_kind)
    panel.update_panes((dataclasses.replace(views[0], series=longer), *views[1:]))
    panel.frame()
    assert panel.frames_drawn == drawn + 2
    assert len(panel.lines["native"].getData()[0]) == len(longer.icount)


def test_panes_without_series_and_new_pane_sets(panel, views) -> None:
    panel.update_panes((dataclasses.replace(views[0], series=None), views[2]))
    panel.redraw_now()
    assert not panel.lines["native"].isVisible()
    assert panel.chosen == "binary-translation"
    panel.update_panes(())
    panel.redraw_now()
    assert panel.chosen == ""
    assert not shown_kinds(panel)


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_themes_and_presentation_scale_render(panel, views, theme) -> None:
    panel.update_panes(views)
    panel.set_theme(THEMES[theme])
    panel.set_scale(PRESENTATION_SCALE)
    panel.redraw_now()
    image = panel.grab().toImage()
    assert not image.isNull()
    assert image.pixelColor(2, 2).name() == THEMES[theme].background.lower()
    line = panel.lines["trap-emulate"].opts["pen"]
    assert line.color().name() == THEMES[theme].techniques["trap-emulate"].lower()
    assert line.widthF() == pytest.approx(2 * PRESENTATION_SCALE)
    assert panel.race.getAxis("left").style["tickFont"].pointSizeF() > 10
    panel.set_scale(1.0)
    panel.redraw_now()
    assert not panel.grab().isNull()


def test_compact_tick_labels() -> None:
    assert [compact(v) for v in (0, 250, 1500, 2_000_000, 17.5e6)] == \
        ["0", "250", "1.5k", "2M", "17.5M"]
