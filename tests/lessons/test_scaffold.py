"""`lesson new`: what it writes loads cleanly, runs, and keeps an existing pack's text."""

from __future__ import annotations

import tomllib

import pytest
from pack_files import PACK_TOML, pack_folder

from vizvm import guests
from vizvm.asm.assembler import available_backends
from vizvm.asm.lexicon import AsmError
from vizvm.lessons import scaffold
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.variants import draw, preload, seed_for
from vizvm.session import runner


def test_a_new_pack_loads_with_every_part(tmp_path):
    written = scaffold.new_lesson("my-pack", tmp_path)
    root = tmp_path / "my-pack"
    assert root / "pack.toml" in written
    pack = load_pack(root)
    (lesson,) = pack.lessons
    assert [s.kind for s in lesson.steps] == ["read", "run"]
    kinds = {c.kind: c for s in lesson.steps for c in s.checks}
    assert set(kinds) == {"trap", "number", "choice"}
    assert kinds["number"].compute and kinds["number"].answer is None
    assert [p.name for p in lesson.params] == ["count"]
    assert "#" in (root / scaffold.FIRST_LESSON / "lesson.toml").read_text()  # commented


@pytest.mark.skipif(not available_backends(), reason="no assembler back end")
def test_the_generated_program_runs_with_the_students_count(tmp_path):
    scaffold.new_lesson("my-pack", tmp_path)
    pack = load_pack(tmp_path / "my-pack")
    lesson = pack.lessons[0]
    values = draw(lesson.params, seed_for("ada", pack.id, lesson.id))
    image = lesson.programs[scaffold.PROGRAM].image
    summary, _ = runner.run(image, runner.Settings(
        technique="trap-emulate", max_insns=10_000, preload=preload(lesson.params, values)))
    count = values["count"]
    assert summary.serial == "*" * count + "\n"
    assert summary.exit_code == count
    assert summary.events["trap"] == count + 2  # each star, the new line, the power-off


def test_without_an_assembler_a_builtin_guest_is_used(tmp_path, monkeypatch):
    def no_backend(*args, **kwargs):
        raise AsmError("stars.asm", 0, "no assembler back end")

    monkeypatch.setattr(scaffold, "assemble", no_backend)
    scaffold.new_lesson("my-pack", tmp_path)
    program = load_pack(tmp_path / "my-pack").lessons[0].programs[scaffold.PROGRAM]
    assert program.image == guests.image("hello")


@pytest.mark.parametrize("lessons_line", [
    'lessons = ["rings"]',
    'lessons = ["rings",]',
    'lessons = [\n  "rings",  # the first\n]',
    'lessons = [\n  "rings"  # the first\n]',
])
def test_adding_a_lesson_keeps_the_rest_of_pack_toml(tmp_path, lessons_line):
    text = PACK_TOML.replace('lessons = ["rings"]', lessons_line) + "# the end\n"
    root = pack_folder(tmp_path, {"pack.toml": text})
    scaffold.new_lesson("second", root)
    after = (root / "pack.toml").read_text()
    assert tomllib.loads(after)["lessons"] == ["rings", "second"]
    def others(t: str) -> list[str]:
        return [line for line in t.splitlines() if "rings" not in line and "second" not in line]

    assert others(after) == others(text)
    assert "# the first" in after or "#" not in lessons_line
    assert [lesson.id for lesson in load_pack(root).lessons] == ["rings", "second"]


@pytest.mark.parametrize(("name", "expected"), [
    ("Bad Name", "is not a name"),
    ("rings", "already exists"),
])
def test_refused_names(tmp_path, name, expected):
    root = pack_folder(tmp_path)
    with pytest.raises(PackError, match=expected):
        scaffold.new_lesson(name, root)


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "taken").mkdir()
    with pytest.raises(PackError, match="already exists"):
        scaffold.new_lesson("taken", tmp_path)
