"""Lessons compare techniques in tables: GitHub's pipe tables render, raw HTML still does not."""

from vizvm.lessons.markdown_check import render_html


def test_a_pipe_table_renders_as_a_table() -> None:
    html = render_html("| technique | traps |\n|---|---|\n| native | 0 |\n")
    assert "<table>" in html
    assert "<td>native</td>" in html


def test_html_inside_a_table_cell_is_escaped() -> None:
    html = render_html("| a |\n|---|\n| <img src=x onerror=y> |\n")
    assert "<img" not in html
