"""What a new instructor tripped on in `lesson check`: first images, questions that cannot
be answered wrong, and messages said once."""

from pathlib import Path

import pytest
from pack_on_disk import LESSON_TOML, SOURCE, write_pack

from vizvm.asm import assembler
from vizvm.lessons.checker import Report, check_path
from vizvm.lessons.packer import pack

RAN = 'event = "io"\nop = ">="\nvalue = 1\ntechnique = "trap-emulate"\n'


def messages(report: Report) -> list[str]:
    return [str(f) for f in report.findings]


@pytest.mark.parametrize("image", [None, b""], ids=["missing", "empty"])
def test_build_makes_a_new_programs_first_image(tmp_path: Path, image: bytes | None) -> None:
    root = write_pack(tmp_path / "p")
    bin_file = root / "sums" / "sum.bin"
    bin_file.unlink()
    if image is not None:
        bin_file.write_bytes(image)
    assert not check_path(root, seeds=1).ok  # without --build: refused, as before
    built = check_path(root, seeds=1, build=True)
    assert built.ok, messages(built)
    assert messages(built) == ["sums/sum.bin: note: built from sums/sum.asm"]
    assert bin_file.read_bytes() == assembler.assemble(SOURCE)


def test_build_names_a_first_image_whose_source_does_not_assemble(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p")
    (root / "sums" / "sum.asm").write_text("mov eax, 1\nmvo eax, 2\n")
    (root / "sums" / "sum.bin").unlink()
    report = check_path(root, seeds=1, build=True)
    assert not report.ok
    assert messages(report)[0].startswith("sums/sum.asm:2: error:"), messages(report)
    assert not (root / "sums" / "sum.bin").exists()


def test_build_writes_nothing_outside_the_pack_folder(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('image = "sum.bin"',
                                                          'image = "../../outside.bin"'))
    check_path(root, seeds=1, build=True)
    assert not (tmp_path / "outside.bin").exists()


def test_build_never_writes_into_a_zip(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p")
    packed = pack(root, tmp_path / "tiny.zip")
    before = packed.read_bytes()
    assert check_path(packed, seeds=1, build=True).ok
    assert packed.read_bytes() == before


def test_an_events_check_every_technique_passes_is_an_error(tmp_path: Path) -> None:
    lesson = LESSON_TOML.replace(RAN, 'event = "io"\nop = ">="\nvalue = 1\n')
    report = check_path(write_pack(tmp_path / "p", lesson), seeds=3)
    found = [f for f in report.findings if "no technique fails" in f.message]
    assert not report.ok and len(found) == 1, messages(report)  # said once, not per seed
    assert found[0].severity == "error"
    assert found[0].where.file == "sums/lesson.toml"
    assert found[0].where.line == LESSON_TOML.splitlines().index('id = "ran"')
    assert "no technique fails io >= 1 (paravirt cannot run the step): any technique the " \
        "student names is right" in found[0].message


def test_an_events_check_some_technique_fails_is_fine(tmp_path: Path) -> None:
    lesson = LESSON_TOML.replace(RAN, 'event = "io"\nop = "=="\nvalue = 0\n')
    report = check_path(write_pack(tmp_path / "p", lesson), seeds=1)
    assert not any("no technique fails" in m for m in messages(report)), messages(report)


@pytest.mark.parametrize(("tolerance", "warned"), [
    ("tolerance_percent = 1000", True), ("tolerance = 500", True),
    ("tolerance_percent = 50", False), ("tolerance = 2", False)])
def test_a_number_check_no_answer_fails_in_practice_is_a_warning(
        tmp_path: Path, tolerance: str, warned: bool) -> None:
    lesson = LESSON_TOML.replace('compute = "exit_code"', f'compute = "exit_code"\n{tolerance}')
    report = check_path(write_pack(tmp_path / "p", lesson), seeds=3)
    found = [f for f in report.findings if "no answer is wrong in practice" in f.message]
    assert len(found) == (1 if warned else 0), messages(report)
    assert all(f.severity == "warning" and f.where.file == "sums/lesson.toml" for f in found)
    assert report.ok


def test_a_schema_problem_in_a_check_names_its_id(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('kind = "trap"', 'kind = "trapp"'))
    assert any("steps[1].checks[1].kind (check 'cli'): 'trapp'" in m
               for m in messages(check_path(root))), messages(check_path(root))


def test_a_stale_probes_file_says_the_command_to_run(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('instruction = "cli"',
                                                          'instruction = "sti"'))
    (root / "sums" / "probes.toml").unlink()
    found = [m for m in messages(check_path(root, seeds=1)) if "probes.toml" in m]
    assert found and all(m.endswith("run `vizvm lesson check PACK --build`") for m in found)


@pytest.mark.parametrize(("kind", "article"), [("events", "an events"),
                                               ("number", "a computed number")])
def test_a_run_check_on_a_step_without_a_run_reads_well(tmp_path: Path, kind: str,
                                                         article: str) -> None:
    extra = {"events": RAN, "number": 'compute = "exit_code"\ntechnique = "native"\n'}[kind]
    lesson = LESSON_TOML.replace('body = "The guest adds **{a}** and {b}."\n',
                                 'body = "The guest adds **{a}** and {b}."\n\n[[steps.checks]]\n'
                                 f'id = "x"\nkind = "{kind}"\nprompt = "?"\n{extra}', 1)
    found = messages(check_path(write_pack(tmp_path / "p", lesson)))
    assert any(f"kind (check 'x'): {article} check's answer comes from a run" in m
               for m in found), found
