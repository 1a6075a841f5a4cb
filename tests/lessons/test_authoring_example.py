"""The authoring guide's worked example is a real pack that `vizvm lesson check` passes,
and the guide shows its files as they are.

docs/authoring-lessons.md walks an instructor through docs/examples/first-pack; if the
pack or the tools change so that the pack no longer checks, or the guide's listings
drift from the files, an instructor following the guide would be misled.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vizvm.lessons.checker import check_path
from vizvm.lessons.checks import reference_answer
from vizvm.lessons.loader import load_pack
from vizvm.lessons.runs import StepRuns

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "first-pack"
GUIDE = ROOT / "docs" / "authoring-lessons.md"
SHOWN = ["pack.toml", "what-traps/lesson.toml", "what-traps/sampler.asm",
         "what-traps/predict.md"]


def test_the_example_pack_checks_clean() -> None:
    report = check_path(EXAMPLE, seeds=1)
    assert report.ok, "\n".join(str(f) for f in report.findings)
    assert report.findings == []  # no warnings or notes either
    assert report.counts["checks"] == 6  # every check was judged, right and wrong


@pytest.mark.parametrize(("reads", "traps"), [(2, 8), (6, 16)])
def test_the_trap_count_is_what_the_guide_says(reads: int, traps: int) -> None:
    """The guide explains the answer as 2 per read + 4; the machine must agree."""
    lesson = load_pack(EXAMPLE).lessons[0]
    step = next(s for s in lesson.steps if s.id == "predict")
    check = next(c for c in step.checks if c.id == "traps")
    assert reference_answer(lesson, step, check, {"reads": reads}, StepRuns()) == str(traps)


def _fenced_blocks(markdown: str) -> list[str]:
    """The text of each fenced block (``` or longer fences, for files that hold ``` themselves)."""
    return [m.group(2) for m in re.finditer(r"^(`{3,})[a-z]*\n(.*?)^\1$", markdown, re.M | re.S)]


@pytest.mark.parametrize("name", SHOWN)
def test_the_guide_lists_the_real_file(name: str) -> None:
    text = (EXAMPLE / name).read_text(encoding="utf-8")
    assert text in _fenced_blocks(GUIDE.read_text(encoding="utf-8")), (
        f"docs/authoring-lessons.md does not show {name} as it is in docs/examples/first-pack")
