import csv
import io
import json
from dataclasses import replace
from pathlib import Path

from lesson_factory import check, lesson, pack, quiz_pack, step

from vizvm.asm.assembler import assemble
from vizvm.lessons import variants
from vizvm.lessons.grading import grade, to_csv, totals
from vizvm.lessons.model import Param, Program, Where

SUM = "mov eax, [0x500]\nadd eax, [0x504]\nout 0xf4, al\n"


def write(tmp_path: Path, name: str, student: str, lessons: list[dict], **extra: object) -> Path:
    the_pack = quiz_pack()
    doc = {"format": "vizvm-submission", "format_version": 1, "app_version": "0.1.0",
           "student": student, "pack": {"id": the_pack.id, "version": the_pack.version,
                                        "content_hash": the_pack.content_hash},
           "lessons": lessons, **extra}
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def seeded(student: str, lesson_id: str, answers: dict[str, str]) -> dict:
    return {"id": lesson_id, "seed": variants.seed_for(student, "demo-pack", lesson_id),
            "answers": answers}


def test_scores_claimed_in_a_bundle_are_ignored(tmp_path: Path) -> None:
    tampered = seeded("mallory", "first", {"rings": "5", "pick": "0"})
    tampered.update(points=999, correct=True, score={"rings": 2, "pick": 1})
    path = write(tmp_path, "m.json", "mallory", [tampered], total=1000)
    rows = grade([path], quiz_pack())
    assert [(r.check, r.correct, r.points, r.possible) for r in rows] == [
        ("rings", False, 0, 2), ("pick", False, 0, 1), ("word", False, 0, 1)]
    assert rows[2].notes == "no answer"
    assert totals(rows)[0].points == 0


def test_right_answers_are_recomputed_right(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", "ada", [seeded("ada", "first", {"rings": "0x4", "pick": "1"}),
                                             seeded("ada", "second", {"word": "Ring 0"})])
    rows = grade([path], quiz_pack())
    assert all(r.correct and r.notes == "" for r in rows)
    assert (totals(rows)[0].points, totals(rows)[0].possible) == (4, 4)


def test_the_students_own_seed_is_used_not_the_bundles(tmp_path: Path) -> None:
    """A bundle cannot choose its variant: it is graded for the seed of its student's name."""
    program = Program("sum", SUM, assemble(SUM), "demo/sum.asm", "demo/sum.bin",
                      where=Where("demo/sum.asm"))
    params = (Param("a", "int", 1, 200), Param("b", "int", 1, 50))
    code = check("code", "number", compute="exit_code")
    the_pack = pack(lesson(step(code, program="sum"), id_="first", programs={"sum": program},
                           params=params))
    own = variants.draw(params, variants.seed_for("eve", the_pack.id, "first"))
    other_seed = next(s for s in range(100)
                      if sum(variants.draw(params, s).values()) != sum(own.values()))
    other = variants.draw(params, other_seed)
    bundles = [write(tmp_path, f"{n}.json", "eve", [{"id": "first", "seed": seed, "answers": {
        "code": str(sum(values.values()) & 0xFF)}}]) for n, (seed, values) in enumerate(
        [(other_seed, other), (variants.seed_for("eve", the_pack.id, "first"), own)])]
    cheat, honest = grade(bundles[:1], the_pack)[0], grade(bundles[1:], the_pack)[0]
    assert not cheat.correct and "seed mismatch" in cheat.notes
    assert honest.correct and "seed" not in honest.notes


def test_another_version_of_the_pack_is_flagged(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", "ada", [seeded("ada", "first", {"rings": "4"})])
    rows = grade([path], replace(quiz_pack(), version="1.1.0", content_hash="b" * 64))
    assert rows[0].correct
    assert "answered on pack version 1.0.0 (aaaaaaaaaaaa), graded against 1.1.0" in rows[0].notes


def test_an_unreadable_bundle_is_a_row_not_a_crash(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    good = write(tmp_path, "a.json", "ada", [seeded("ada", "first", {"rings": "4"})])
    rows = grade([broken, good], quiz_pack())
    assert rows[0].student == "broken.json" and "unreadable" in rows[0].notes
    assert rows[1].student == "ada" and rows[1].correct


def test_csv_has_every_row_and_a_total_per_student(tmp_path: Path) -> None:
    paths = [write(tmp_path, f"{s}.json", s, [seeded(s, "first", {"rings": "4"})])
             for s in ("ada", "bob")]
    table = list(csv.reader(io.StringIO(to_csv(grade(paths, quiz_pack())))))
    assert table[0] == ["student", "lesson", "check", "answer", "correct", "points",
                        "possible", "notes"]
    assert ["ada", "first", "rings", "4", "True", "2", "2", ""] in table
    assert table[-2:] == [["ada", "", "total", "", "", "2", "4", ""],
                          ["bob", "", "total", "", "", "2", "4", ""]]
