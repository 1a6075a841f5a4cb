"""The built-in pack's lessons pass `vizvm lesson check`, one lesson at a time.

Each lesson is copied into a pack of its own, so that one lesson's findings do
not hide behind another's, and a lesson still being written elsewhere in
lessons/core does not stop these from being checked.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from vizvm.lessons.checker import check_path

CORE = Path(__file__).resolve().parents[2] / "lessons" / "core"
LESSONS = ["popek-goldberg", "more-rings", "two-rings", "trap-vs-translate", "paravirt"]


def _pack_of_one(lesson: str, folder: Path) -> Path:
    header = tomllib.loads((CORE / "pack.toml").read_text())
    shutil.copytree(CORE / lesson, folder / lesson)
    (folder / "pack.toml").write_text(
        f'format = {header["format"]}\nid = "{header["id"]}"\ntitle = "{header["title"]}"\n'
        f'version = "{header["version"]}"\nmin_app_version = "{header["min_app_version"]}"\n'
        f'authors = ["The vizvm developers"]\nlicense = "{header["license"]}"\n'
        f'lessons = ["{lesson}"]\n')
    return folder


def test_pack_lists_the_eight_lessons_in_order() -> None:
    header = tomllib.loads((CORE / "pack.toml").read_text())
    assert header["id"] == "vizvm-core"
    assert header["lessons"] == ["popek-goldberg", "consolidation", "more-rings", "two-rings",
                                 "trap-vs-translate", "paravirt", "hypervisor-breach",
                                 "watching-vms"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_passes_the_checker(lesson: str, tmp_path: Path) -> None:
    report = check_path(_pack_of_one(lesson, tmp_path), seeds=2)
    assert report.ok, "\n".join(str(f) for f in report.findings)
    assert report.counts.get("checks", 0) >= 4
