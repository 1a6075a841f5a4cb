"""probes.toml: trap checks judged on a machine with no assembler, from kernels built ahead."""

from pathlib import Path

import pytest
from pack_files import pack_folder

from vizvm.asm import assembler
from vizvm.asm.assembler import assemble
from vizvm.asm.lexicon import AsmError
from vizvm.lessons import probe_build, trap_probe
from vizvm.lessons.checker import check_path
from vizvm.lessons.checks import reference_answer
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.runs import StepRuns

pytestmark = pytest.mark.skipif(not assembler.available_backends(), reason="needs an assembler")


@pytest.mark.parametrize(("code", "text"), [
    (trap_probe.EPILOGUE, "mov al, 0x5a\nout 0xf4, al"),
    (trap_probe.PV_EPILOGUE, "mov eax, 9\nmov ebx, 0x5a\nint 0x82"),
    (trap_probe.FAULT_HANDLER, "mov al, 0xee\nout 0xf4, al"),
])
def test_the_fixed_code_is_what_its_text_assembles_to(code: bytes, text: str) -> None:
    assert code == assemble(text)


def _no_assembler(monkeypatch: pytest.MonkeyPatch, *, strict: bool = True) -> None:
    def refuse(*_args: object, **_kwargs: object) -> bytes:
        if strict:
            raise AssertionError("assembled on a machine with no assembler")
        raise AsmError("<instruction>", 0, "no assembler is available")

    monkeypatch.setattr(trap_probe, "assemble", refuse)
    monkeypatch.setattr(probe_build, "available_backends", lambda: [])
    trap_probe.traps.cache_clear()


def _trap_check(pack_dir: Path) -> tuple:
    pack = load_pack(pack_dir)
    lesson = pack.lessons[0]
    step, check = lesson.check("cli")
    return lesson, step, check


def test_a_pack_without_probes_is_warned_until_built(tmp_path: Path) -> None:
    folder = pack_folder(tmp_path)
    report = check_path(folder, seeds=1)
    [warning] = [f for f in report.findings if "probes.toml" in str(f)]
    assert warning.severity == "warning" and "--build" in warning.message
    assert check_path(folder, seeds=1, build=True).ok
    assert (folder / "rings" / "probes.toml").is_file()
    assert not [f for f in check_path(folder, seeds=1).findings if "probes" in str(f)]


def test_a_stale_probe_is_an_error(tmp_path: Path) -> None:
    folder = pack_folder(tmp_path)
    check_path(folder, seeds=1, build=True)
    probes = folder / "rings" / "probes.toml"
    probes.write_text(probes.read_text().replace('fa"', '90"'))  # cli -> nop
    report = check_path(folder, seeds=1)
    assert not report.ok
    assert any("differs from a fresh build" in f.message for f in report.findings)


def test_without_an_assembler_the_built_probe_answers(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder = pack_folder(tmp_path)
    check_path(folder, seeds=1, build=True)
    lesson, step, check = _trap_check(folder)
    expected = reference_answer(lesson, step, check, {"calls": 3}, StepRuns())
    _no_assembler(monkeypatch)
    lesson, step, check = _trap_check(folder)
    assert reference_answer(lesson, step, check, {"calls": 3}, StepRuns()) == expected == "yes"
    assert check_path(folder, seeds=1).ok


def test_without_an_assembler_a_missing_probe_is_an_error(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    folder = pack_folder(tmp_path)
    _no_assembler(monkeypatch, strict=False)
    report = check_path(folder, seeds=1)
    assert any("no built probe for 'cli'" in f.message for f in report.findings)


def test_a_malformed_probes_file_is_named_with_its_line(tmp_path: Path) -> None:
    folder = pack_folder(tmp_path)
    (folder / "rings" / "probes.toml").write_text(
        '# built\n\n[[probes]]\ninstruction = "cli"\nguest = "kernel"\nimage = "zz"\n')
    with pytest.raises(PackError) as caught:
        load_pack(folder)
    assert "rings/probes.toml:3: probes[0]: image is not hexadecimal" in str(caught.value)
