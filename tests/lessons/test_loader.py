"""load_pack: the model built from files, the hash over them, and what a missing file says."""

from __future__ import annotations

import pytest
from pack_files import LESSON_TOML, files, line_of, pack_folder, write_folder

from vizvm import guests
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.model import Where


def test_a_pack_becomes_the_model(tmp_path):
    pack = load_pack(pack_folder(tmp_path))
    assert (pack.id, pack.version, pack.authors) == ("test-pack", "1.0.0", ("A. Teacher",))
    lesson = pack.lesson("rings")
    driver = lesson.programs["driver"]
    assert driver.image == guests.image("hello") and driver.source == guests.source("hello")
    assert (driver.source_file, driver.image_file) == ("rings/driver.asm", "rings/driver.bin")
    intro, count = lesson.steps
    assert intro.markdown.startswith("# Rings") and intro.markdown_where == Where(
        "rings/intro.md", 1)
    assert count.markdown_where == Where("rings/lesson.toml", line_of(LESSON_TOML, "body ="))
    assert count.techniques == ("native", "trap-emulate")
    step, check = lesson.check("io")
    assert (step.id, check.compute, check.technique) == ("count", "events.io", "native")
    assert check.where == Where("rings/lesson.toml", line_of(LESSON_TOML, 'id = "io"') - 1)
    assert lesson.check("why")[1].choices[1].feedback == "no"
    assert [p.name for p in lesson.params] == ["calls"]
    assert pack.files.keys() == files().keys()


def test_the_content_hash_covers_every_path_and_byte(tmp_path):
    base = load_pack(pack_folder(tmp_path / "a")).content_hash
    assert base == load_pack(pack_folder(tmp_path / "b")).content_hash
    changed = load_pack(pack_folder(tmp_path / "c", {"rings/intro.md": "# Rings!\n"}))
    extra = load_pack(pack_folder(tmp_path / "d", {"rings/notes.txt": ""}))
    assert len({base, changed.content_hash, extra.content_hash}) == 3
    assert len(base) == 64 and int(base, 16) >= 0


def test_a_step_may_take_its_text_from_a_subfolder(tmp_path):
    root = pack_folder(tmp_path, {"rings/text/intro.md": "# Moved\n\n![d](img/d.png)\n",
                                  "rings/text/img/d.png": b"\x89PNG",
                                  "rings/lesson.toml": LESSON_TOML.replace(
                                      'text = "intro.md"', 'text = "text/intro.md"')})
    assert load_pack(root).lessons[0].steps[0].markdown.startswith("# Moved")


@pytest.mark.parametrize(("removed", "expected"), [
    ("rings/intro.md", "rings/lesson.toml:{text}: steps[0].text: no file 'intro.md' in rings/"),
    ("rings/driver.bin", "rings/lesson.toml:{image}: programs[0].image: no file 'driver.bin'"),
    ("rings/driver.asm", "rings/lesson.toml:{source}: programs[0].source: no file 'driver.asm'"),
])
def test_a_missing_file_is_named_at_the_key_naming_it(tmp_path, removed, expected):
    lines = {"text": line_of(LESSON_TOML, 'text = "intro.md"'),
             "image": line_of(LESSON_TOML, "image ="),
             "source": line_of(LESSON_TOML, "source =")}
    with pytest.raises(PackError) as caught:
        load_pack(pack_folder(tmp_path, {removed: None}))
    (problem,) = caught.value.problems
    assert str(problem).startswith(expected.format(**lines))


def test_loading_never_assembles(tmp_path, monkeypatch):
    from vizvm.asm import assembler

    def refuse(*args, **kwargs):
        raise AssertionError("the loader assembled")

    monkeypatch.setattr(assembler, "assemble", refuse)
    assert load_pack(pack_folder(tmp_path, {"rings/driver.asm": "not even assembly"}))


def test_binary_text_is_refused(tmp_path):
    with pytest.raises(PackError, match=r"'intro\.md' is not UTF-8 text"):
        load_pack(pack_folder(tmp_path, {"rings/intro.md": b"\xff\xfe"}))


def test_problems_come_in_file_order(tmp_path):
    text = LESSON_TOML.replace('minutes = 5', 'minutes = 0').replace('title = "Intro"', 'x = 1')
    root = write_folder(tmp_path / "p", files({"rings/lesson.toml": text,
                                               "rings/intro.md": "<p>x</p>\n"}))
    with pytest.raises(PackError) as caught:
        load_pack(root)
    where = [(p.where.file, p.where.line) for p in caught.value.problems]
    assert where == sorted(where, key=lambda w: (w[0] != "rings/lesson.toml", w[1]))
