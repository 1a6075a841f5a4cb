import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lesson_factory import quiz_pack

from vizvm.lessons.checks import Verdict
from vizvm.lessons.progress import Progress, ProgressError

RIGHT, WRONG = Verdict(True, 2, "Right.", "4"), Verdict(False, 0, "Not quite.", "4")


@pytest.fixture
def progress(tmp_path: Path) -> Iterator[Progress]:
    with Progress(tmp_path / "progress.sqlite3") as opened:
        yield opened


def test_latest_answer_per_check_and_score(progress: Progress) -> None:
    pack = quiz_pack()
    progress.record_answer("ada", pack, "first", "rings", "3", WRONG, 7)
    progress.record_answer("ada", pack, "first", "rings", "4", RIGHT, 7)
    latest = progress.latest_answers("ada", pack.id, "first")
    assert latest["rings"].answer == "4" and latest["rings"].correct
    assert latest["rings"].possible == 2 and latest["rings"].seed == 7
    assert latest["rings"].content_hash == pack.content_hash
    assert progress.score("ada", pack) == (2, 4)
    assert progress.score("bob", pack) == (0, 4)


def test_a_later_wrong_answer_replaces_a_right_one(progress: Progress) -> None:
    pack = quiz_pack()
    progress.record_answer("ada", pack, "first", "rings", "4", RIGHT, 7)
    progress.record_answer("ada", pack, "first", "rings", "5", WRONG, 7)
    assert progress.score("ada", pack) == (0, 4)


def test_hints_are_counted_with_the_next_answer(progress: Progress) -> None:
    pack = quiz_pack()
    progress.record_hint("ada", pack, "first", "rings")
    progress.record_hint("ada", pack, "first", "rings")
    progress.record_answer("ada", pack, "first", "rings", "4", RIGHT, 7)
    assert progress.latest_answers("ada", pack.id, "first")["rings"].hints_used == 2


def test_students_and_opened_steps(progress: Progress) -> None:
    pack = quiz_pack()
    progress.record_opened("bob", pack, "first", "run")
    progress.record_hint("ada", pack, "first", "rings")
    assert progress.students() == ["ada", "bob"]
    assert progress.opened_steps("bob", pack.id, "first") == {"run"}


def test_progress_survives_reopening(tmp_path: Path) -> None:
    pack = quiz_pack()
    Progress(tmp_path / "p.sqlite3").record_answer("ada", pack, "first", "rings", "4", RIGHT, 7)
    again = Progress(tmp_path / "p.sqlite3")
    assert again.notice is None
    assert again.score("ada", pack) == (2, 4)


@pytest.mark.parametrize("content", [b"not a database at all" * 100,
                                     b"SQLite format 3\x00" + bytes(200)])
def test_a_damaged_file_is_moved_aside_not_deleted(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(content)
    progress = Progress(path)
    assert progress.notice is not None and "could not be read" in progress.notice
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("progress.sqlite3.unreadable-")]
    assert len(kept) == 1 and kept[0].read_bytes() == content
    progress.record_answer("ada", quiz_pack(), "first", "rings", "4", RIGHT, 7)
    assert progress.students() == ["ada"]


def test_another_applications_database_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "progress.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE recipes (name TEXT)")
    db.close()
    progress = Progress(path)
    assert progress.notice is not None and "not a vizvm progress database" in progress.notice
    assert progress.students() == []


def test_a_database_from_a_newer_vizvm_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "progress.sqlite3"
    Progress(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (99)")
    db.close()
    with pytest.raises(ProgressError, match="newer vizvm"):
        Progress(path)
    assert path.exists()


WRITER = """
import sys
from collections.abc import Iterator
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from lesson_factory import quiz_pack
from vizvm.lessons.checks import Verdict
from vizvm.lessons.progress import Progress
progress, pack = Progress(Path(sys.argv[1])), quiz_pack()
print("ready", flush=True)
for n in range(100_000):
    progress.record_answer("ada", pack, "first", "rings", str(n), Verdict(False, 0, "", ""), n)
    print(n, flush=True)
"""


@pytest.mark.parametrize("kill_after", [1, 20, 60])
def test_a_kill_mid_write_loses_nothing_committed(tmp_path: Path, kill_after: int) -> None:
    """A child writes answers as fast as it can and says which committed; it is killed
    with SIGKILL somewhere in the next write. Every answer it reported must be there."""
    path = tmp_path / "progress.sqlite3"
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(Path(__file__).parent)],
                          stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        committed = [int(child.stdout.readline()) for _ in range(kill_after)]
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        committed += [int(line) for line in child.stdout.read().split()]
    with Progress(path) as progress:
        assert progress.notice is None
    with sqlite3.connect(path) as db:
        stored = {int(row[0]) for row in db.execute("SELECT answer FROM attempts")}
    db.close()
    assert set(committed) <= stored
    assert stored <= set(range(max(committed) + 2))
