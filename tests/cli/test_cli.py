"""The command line contract of BRIEF.md, and bad input ending in clear messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vizvm.cli import main

RUN_FIELDS = {"technique", "exit", "exit_code", "guest_instructions", "serial", "events",
              "simulated_cycles", "wall_seconds", "registers"}


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    doc = json.loads(out) if "--json" in argv and out.strip() else out
    return status, doc, err


def write(tmp_path: Path, name: str, content: bytes | str) -> str:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
    else:
        path.write_bytes(content)
    return str(path)


@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_run_json_has_the_contract_fields(capsys, technique: str) -> None:
    status, doc, _ = cli(capsys, "run", "kernel", "--technique", technique, "--json")
    assert status == 0
    assert set(doc) >= RUN_FIELDS
    assert doc["exit"] == "poweroff" and doc["exit_code"] == 125
    assert "checksum" in doc["serial"]
    assert doc["registers"]["eip"] > 0


def test_run_writes_a_trace(capsys, tmp_path: Path) -> None:
    trace = tmp_path / "events.jsonl"
    status, doc, _ = cli(capsys, "run", "hello", "-t", "trap-emulate", "--trace", str(trace),
                         "--json")
    assert status == 0
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert len(events) == sum(doc["events"].values())
    assert {"kind", "icount", "ring", "guest_ring", "address", "insn_bytes", "disasm",
            "cost", "cycles"} <= set(events[0])


def test_run_of_an_assembly_source(capsys, tmp_path: Path) -> None:
    source = write(tmp_path, "mine.asm", "mov al, 0x48\nout 0xe9, al\nmov al, 7\nout 0xf4, al\n")
    status, doc, _ = cli(capsys, "run", source, "--json")
    assert (status, doc["exit"], doc["exit_code"]) == (0, "poweroff", 7)


def test_compare_json_marks_equivalence_and_overhead(capsys) -> None:
    status, doc, _ = cli(capsys, "compare", "holes", "--json")
    assert status == 0
    by_name = {t["technique"]: t for t in doc["techniques"]}
    assert by_name["native"]["equivalent"] is True and by_name["native"]["overhead"] == 1.0
    trap = by_name["trap-emulate"]
    assert trap["equivalent"] is False
    assert trap["parting"]["what"] == "serial" and trap["parting"]["line"] == 2
    assert set(trap) >= RUN_FIELDS
    assert [s["technique"] for s in doc["skipped"]] == ["paravirt"]  # holes has no port


def test_compare_runs_a_kernels_paravirtual_port(capsys) -> None:
    status, doc, _ = cli(capsys, "compare", "kernel", "--json", "--techniques",
                         "native,paravirt")
    assert status == 0 and doc["paravirt_port"] == "kernel_pv"
    pv = doc["techniques"][1]
    assert (pv["technique"], pv["program"], pv["equivalent"]) == ("paravirt", "kernel_pv", True)
    assert pv["judged_on"] == ["serial", "exit"]


def test_run_lists_the_translation_cache(capsys) -> None:
    status, doc, _ = cli(capsys, "run", "hello", "-t", "binary-translation", "--translations",
                         "--json")
    assert status == 0 and doc["exit"] == "poweroff"
    first = doc["translation_cache"][0]
    assert first["guest"] == "0x00100000" and first["tc"].startswith("0xffe")
    assert any(row["how"] == "out of line" for row in first["translated"])  # OUT DX, AL
    status, text, _ = cli(capsys, "run", "hello", "-t", "binary-translation", "--translations")
    assert "translation cache: 2 blocks" in text and "lea esi" in text


def test_translations_need_the_translator(capsys) -> None:
    status, doc, _ = cli(capsys, "run", "hello", "--translations", "--json")
    assert status == 2 and "binary-translation" in doc["error"]["message"]


def test_compare_text_says_where_outputs_part(capsys) -> None:
    status, text, _ = cli(capsys, "compare", "holes")
    assert status == 0
    assert "trap-emulate parts from native: serial output differs from line 2" in text


def test_classify_json(capsys) -> None:
    status, doc, _ = cli(capsys, "classify", "cli", "--json")
    assert status == 0
    assert doc["class"] == "privileged" and doc["vector"] == 13
    assert doc["evidence"] and "ring1" in doc["evidence"][0]


@pytest.mark.parametrize(
    ("argv_tail", "kind", "words"),
    [
        (("run", "{empty}"), "program", "empty"),
        (("run", "{huge}"), "program", "fit"),
        (("run", "{missing}"), "program", "no such file"),
        (("run", "{broken}"), "assembly", "broken.asm:2"),
        (("run", "hello", "--technique", "magic"), "technique", "unknown technique"),
        (("compare", "hello", "--techniques", "native,magic"), "technique", "unknown technique"),
        (("compare", "{broken}"), "assembly", "broken.asm:2"),
        (("classify", "mov eax,"), "assembly", "unfinished"),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(
    capsys, tmp_path: Path, argv_tail: tuple[str, ...], kind: str, words: str
) -> None:
    files = {
        "empty": write(tmp_path, "empty.bin", b""),
        "huge": write(tmp_path, "huge.bin", bytes(16 << 20)),
        "missing": str(tmp_path / "nope.bin"),
        "broken": write(tmp_path, "broken.asm", "nop\nfrobnicate eax\n"),
    }
    argv = [a.format(**files) for a in argv_tail]
    status, doc, err = cli(capsys, *argv, "--json")
    assert status == 2
    assert doc["error"]["kind"] == kind and words in doc["error"]["message"]
    status, _text, err = cli(capsys, *argv)
    assert status == 2 and words in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("source", "exit_kind", "words"),
    [
        ("spin: jmp spin", "budget", "budget"),
        ("lidt [z]\nint3\nz: .word 0\n.long 0", "triple-fault", "triple fault"),
        ("mov eax, 0x5000000\njmp eax", "error", "0x05000000"),
        ("cli\nhlt", "halt", "interrupts disabled"),
    ],
)
@pytest.mark.parametrize("technique", ["native", "trap-emulate"])
def test_guests_that_misbehave_end_in_a_reported_state(
    capsys, tmp_path: Path, source: str, exit_kind: str, words: str, technique: str
) -> None:
    path = write(tmp_path, "guest.asm", source)
    status, doc, _ = cli(capsys, "run", path, "-t", technique, "--max-insns", "100000", "--json")
    assert status == 0
    assert doc["exit"] == exit_kind and words in doc["message"]


def test_the_installed_command_runs(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "vizvm", "run", "hello", "--json"],
                            capture_output=True, text=True, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["serial"] == "hello from the guest\n"


def test_the_demo_command_runs_the_terminal_demo(capsys) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line[:2].strip().isdigit()]
    assert len(rows) == 10
    assert all(line.count("(!)") == 1 for line in rows)  # trap-emulate's answer, only


def test_without_qt_the_window_says_what_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "vizvm.ui.app", None)  # import fails as without PySide6
    if "vizvm.ui" in sys.modules:  # and not found on the package, where another test left it
        monkeypatch.delattr(sys.modules["vizvm.ui"], "app", raising=False)
    assert main(["window"]) == 2
    err = capsys.readouterr().err
    assert "PySide6" in err and "vizvm demo" in err


def test_the_window_refuses_an_unknown_technique_before_opening(capsys) -> None:
    assert main(["window", "holes", "--techniques", "native,bogus"]) == 2
    assert "unknown technique 'bogus'" in capsys.readouterr().err
