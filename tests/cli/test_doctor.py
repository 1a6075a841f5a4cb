"""`vizvm doctor`: every answer checked against a condition made here."""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata

import pytest

from vizvm import __version__
from vizvm.asm.assembler import MISSING_ASSEMBLER
from vizvm.cli import doctor, doctor_checks, main

QT_STUB = {"requested": "offscreen", "display": {}, "window": True, "error": None,
           "platform": "offscreen", "opengl": {"available": False, "reason": "stub"}}


@pytest.fixture
def no_qt_child(monkeypatch):
    """Qt's own check starts a child process; the tests below are about something else."""
    monkeypatch.setattr(doctor, "qt_probe", lambda timeout: dict(QT_STUB))


def report(capsys) -> tuple[int, dict]:
    status = main(["doctor", "--json"])
    return status, json.loads(capsys.readouterr().out)


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_the_json_document_names_every_part(no_qt_child, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path))
    status, doc = report(capsys)
    assert {"ok", "problems", "notes", "vizvm", "python", "system", "dependencies", "qt",
            "assemblers", "data_dir", "lessons"} <= doc.keys()
    assert doc["vizvm"]["version"] == __version__
    assert doc["python"]["executable"] == sys.executable
    for name in ("unicorn", "PySide6-Essentials"):  # the truth, with or without Qt
        assert doc["dependencies"][name] == _installed(name)
    assert status == (0 if doc["ok"] else 1)


def test_a_writable_data_folder_is_reported_and_left_clean(no_qt_child, capsys, tmp_path,
                                                          monkeypatch) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path))
    _, doc = report(capsys)
    assert doc["data_dir"] == {"path": str(tmp_path), "exists": True,
                               "from": "VIZVM_DATA_DIR", "writable": True}
    assert list(tmp_path.iterdir()) == []


def test_a_folder_not_made_yet_is_judged_by_its_parent(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path / "a" / "b"))
    found = doctor_checks.data_dir_report()
    assert found["exists"] is False and found["writable"] is True
    assert not (tmp_path / "a").exists()


def test_a_data_folder_under_a_file_is_not_writable(no_qt_child, capsys, tmp_path,
                                                    monkeypatch) -> None:
    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path / "file" / "vizvm"))
    status, doc = report(capsys)
    assert doc["data_dir"]["writable"] is False
    assert "is a file" in doc["data_dir"]["error"]
    assert status == 1 and not doc["ok"]
    assert any("not writable" in p["what"] and "VIZVM_DATA_DIR" in p["fix"]
               for p in doc["problems"])


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="permissions: root writes anywhere; Windows has no chmod 0o500")
def test_a_read_only_data_folder_is_not_writable(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    monkeypatch.setenv("VIZVM_DATA_DIR", str(folder))
    assert doctor_checks.data_dir_report()["writable"] is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_a_data_folder_where_no_file_can_be_made_is_not_writable(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", "/proc/vizvm-doctor-test")
    found = doctor_checks.data_dir_report()
    assert found["writable"] is False and "cannot create a file in /proc" in found["error"]


def test_without_as_on_the_path_gnu_as_is_missing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    found = doctor.assemblers()
    assert found["gnu_as"] == {"found": False}
    assert "gnu-as" not in found["usable"]


def test_without_any_assembler_the_note_says_what_to_install(no_qt_child, capsys, tmp_path,
                                                            monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "keystone", None)  # import keystone now fails
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path))
    _, doc = report(capsys)
    assert doc["assemblers"]["usable"] == []
    assert doc["assemblers"]["keystone"] == {"installed": False}
    assert {"what": "no assembler", "fix": MISSING_ASSEMBLER} in doc["notes"]
    assert doc["dependencies"]["keystone-engine"] is None


def test_gnu_as_on_the_path_is_found_with_its_version(monkeypatch) -> None:
    found = doctor.assemblers()["gnu_as"]
    if not found["found"]:
        pytest.skip("GNU as is not installed here")
    assert "GNU assembler" in found["version"]
    assert os.path.basename(found["as"]).endswith("as")


def test_the_built_in_lessons_are_found() -> None:
    found = doctor.lessons_report()
    assert found["packs"], found
    assert all(p["lessons"] >= 1 for p in found["packs"])


def test_qt_is_started_for_real_offscreen(monkeypatch) -> None:
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    found = doctor_checks.qt_probe(timeout=60)
    assert found["window"] is True and found["platform"] == "offscreen"
    assert isinstance(found["opengl"]["available"], bool)


def test_a_platform_plugin_that_does_not_exist_is_a_problem(monkeypatch) -> None:
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "no-such-platform")
    found = doctor_checks.qt_probe(timeout=60)
    assert found["window"] is False and "no-such-platform" in found["error"]
    assert found["headless"] is True


@pytest.mark.parametrize(("library", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"), ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libEGL.so.1", "libegl1"), ("libxcb-cursor.so.0", "libxcb-cursor0")])
def test_debian_package_names(library, package) -> None:
    assert doctor_checks.debian_package(library) == package


def test_the_text_report_ends_with_a_verdict(no_qt_child, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path))
    main(["doctor"])
    text = capsys.readouterr().out
    assert text.startswith(f"vizvm {__version__}")
    assert text.rstrip().splitlines()[-1].startswith("verdict: ")
