from pathlib import Path

import pytest
from pack_on_disk import LESSON_TOML, SOURCE, write_pack

from vizvm.asm import assembler
from vizvm.lessons.checker import Report, check_pack, check_path
from vizvm.lessons.loader import load_pack


def messages(report: Report) -> list[str]:
    return [str(f) for f in report.findings]


def test_a_clean_pack_is_ok(tmp_path: Path) -> None:
    report = check_path(write_pack(tmp_path / "p"), seeds=2)
    assert report.ok and report.findings == []
    assert report.counts["checks"] == 6 and report.counts["seeds"] == 2  # 3 checks x 2 seeds
    assert report.counts["runs"] == 4


def test_a_stale_image_is_an_error_and_build_fixes_it(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p")
    (root / "sums" / "sum.bin").write_bytes(b"\x90")
    report = check_path(root, seeds=1)
    assert not report.ok
    assert any(m.startswith("sums/sum.bin: error: is not what sums/sum.asm assembles to")
               for m in messages(report)), messages(report)
    built = check_path(root, seeds=1, build=True)
    assert built.ok and messages(built) == ["sums/sum.bin: note: rebuilt from sums/sum.asm"]
    assert (root / "sums" / "sum.bin").read_bytes() == assembler.assemble(SOURCE)
    assert check_path(root, seeds=1).ok


def test_broken_assembly_is_named_with_its_line(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p")
    (root / "sums" / "sum.asm").write_text("mov eax, [0x500]\nmvo eax, 1\nout 0xf4, al\n")
    report = check_pack(load_pack(root), seeds=1)
    assert any(m.startswith("sums/sum.asm:2: error:") for m in messages(report))


def test_a_condition_that_never_holds_is_found(tmp_path: Path) -> None:
    lesson = LESSON_TOML.replace('op = ">="', 'op = "=="').replace("value = 1", "value = 0")
    report = check_path(write_pack(tmp_path / "p", lesson), seeds=1)
    assert not report.ok
    [finding] = report.findings
    assert finding.where.file == "sums/lesson.toml" and finding.where.line > 0
    assert "made 1 io events, so io == 0 never holds" in finding.message


def test_a_step_that_never_ends_is_found_per_seed(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", source="spin:\njmp spin\n")
    report = check_path(root, seeds=2)
    budget = [f for f in report.findings if "whole budget of 1,000" in f.message]
    assert len(budget) == 2 and "(seed 0: a = " in budget[0].message
    assert budget[0].where.file == "sums/lesson.toml"


def test_schema_problems_are_findings_with_file_and_line(tmp_path: Path) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('kind = "trap"', 'kind = "trapp"'))
    report = check_path(root)
    assert not report.ok
    assert all(f.where.file == "sums/lesson.toml" and f.where.line for f in report.findings)


def test_without_an_assembler_the_images_are_skipped_and_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace("cli", "sti"))
    monkeypatch.setattr(assembler, "BACKENDS", {})
    report = check_path(root, seeds=1)
    assert report.ok
    assert [f.severity for f in report.findings] == ["warning"]
    assert "no assembler" in report.findings[0].message
    assert report.counts["checks"] == 3  # the trap check judged from probes.toml
