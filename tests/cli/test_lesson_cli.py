import json
import sys
from pathlib import Path

import pytest

from vizvm.cli import main
from vizvm.lessons import variants
from vizvm.lessons.checks import Verdict
from vizvm.lessons.loader import load_pack
from vizvm.lessons.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lessons"))
from pack_on_disk import LESSON_TOML, write_pack


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_pack(tmp_path / "tiny")


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    status = main([*argv, "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_check_a_clean_pack(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lesson", "check", str(tiny), "--seeds", "1"]) == 0
    assert f"{tiny}: ok (" in capsys.readouterr().out
    status, doc = run_json(capsys, "lesson", "check", str(tiny), "--seeds", "2")
    assert status == 0 and doc["ok"] and doc["findings"] == [] and doc["counts"]["seeds"] == 2


def test_check_exits_1_with_each_finding(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('op = ">="', 'op = "<"'))
    status, doc = run_json(capsys, "lesson", "check", str(root), "--seeds", "1")
    assert status == 1 and not doc["ok"]
    [finding] = doc["findings"]
    assert finding["file"] == "sums/lesson.toml" and finding["line"] > 0
    assert main(["lesson", "check", str(root), "--seeds", "1"]) == 1
    assert "sums/lesson.toml:" in capsys.readouterr().out


def test_run_shows_the_lesson_and_with_show_answers_its_computed_answers(
        tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "lesson", "run", "tiny/sums", "--pack", str(tiny),
                           "--student", "ada", "--show-answers")
    assert status == 0
    seed = variants.seed_for("ada", "tiny", "sums")
    values = variants.draw(load_pack(tiny).lesson("sums").params, seed)
    assert doc["seed"] == seed and doc["values"] == values
    assert doc["steps"][0]["text"] == f"The guest adds **{values['a']}** and {values['b']}."
    code, cli, ran = doc["steps"][1]["checks"]
    assert code["answer"] == str(values["a"] + values["b"])
    assert cli["answer"] == "yes" and "#GP" in cli["evidence"]
    assert ran["answer"] == "ran"
    assert main(["lesson", "run", "sums", "--pack", str(tiny), "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "Question: What does the guest add?" in text and "(seed 3)" in text
    assert "answer:" not in text  # nothing computed is shown without --show-answers


def test_an_unknown_lesson(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "lesson", "run", "nothing", "--pack", str(tiny))
    assert status == 2 and "no lesson 'nothing'" in doc["error"]["message"]


def test_a_broken_pack_lists_every_problem(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('kind = "trap"', 'kind = "trapp"'))
    status, doc = run_json(capsys, "lesson", "run", "sums", "--pack", str(root))
    assert status == 2 and doc["error"]["kind"] == "pack"
    assert all(p["file"] == "sums/lesson.toml" and p["line"] for p in doc["error"]["problems"])
    assert main(["lesson", "run", "sums", "--pack", str(root)]) == 2
    assert "sums/lesson.toml:" in capsys.readouterr().err


def test_export_then_grade(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path / "data"))
    pack = load_pack(tiny)
    with Progress() as progress:
        progress.record_answer("ada", pack, "sums", "cli", "yes", Verdict(True, 1, "", "yes"),
                               variants.seed_for("ada", "tiny", "sums"))
    out = tmp_path / "ada.json"
    status, doc = run_json(capsys, "lesson", "export", "--student", "ada", "--pack", str(tiny),
                           "-o", str(out))
    assert status == 0 and doc["bundle"] == str(out) and (doc["points"], doc["possible"]) == (1, 4)
    status, doc = run_json(capsys, "lesson", "grade", str(out), "--pack", str(tiny))
    assert status == 0
    assert [(r["check"], r["correct"]) for r in doc["rows"]] == [
        ("code", False), ("cli", True), ("ran", False)]
    assert doc["totals"] == [{"student": "ada", "points": 1, "possible": 4, "notes": ""}]
    assert main(["lesson", "grade", str(out), "--pack", str(tiny), "--csv"]) == 0
    assert "ada,,total,,,1,4," in capsys.readouterr().out


def test_export_of_an_unknown_student(tiny: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIZVM_DATA_DIR", str(tmp_path / "data"))
    status, doc = run_json(capsys, "lesson", "export", "--student", "zed", "--pack", str(tiny))
    assert status == 2 and "no progress recorded for 'zed'" in doc["error"]["message"]


def test_new_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, doc = run_json(capsys, "lesson", "new", "mypack", "--dir", str(tmp_path))
    assert status == 0 and doc["files"]
    assert main(["lesson", "check", str(tmp_path / "mypack"), "--seeds", "1"]) == 0


def test_list_of_a_broken_pack_exits_2_with_its_problems_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_pack(tmp_path / "p", LESSON_TOML.replace('kind = "trap"', 'kind = "trapp"'))
    assert main(["lesson", "list", "--pack", str(root)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "sums/lesson.toml:" in err and "'trapp'" in err
    status, doc = run_json(capsys, "lesson", "list", "--pack", str(root))
    assert status == 2 and doc["error"]["kind"] == "pack"
    assert doc["error"]["problems"][0]["file"] == "sums/lesson.toml"


def test_new_help_explains_name_and_dir(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["lesson", "new", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "NAME the new pack's id and folder name" in text
    assert "a pack's folder (one with pack.toml) gets a new lesson NAME added instead" in text
