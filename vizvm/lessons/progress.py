"""A student's progress: every answer checked and every hint taken, kept in SQLite.

Each record is one transaction in WAL mode with synchronous=FULL, so a crash
or a kill loses at most the record being written and never an older one. A
file that is not our database (damaged, or something else with the same
name) is moved aside, never deleted, and a fresh one started: the student
keeps working, and what was there can still be recovered by hand.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vizvm.lessons.checks import Verdict
from vizvm.lessons.data_dir import data_dir
from vizvm.lessons.model import Pack

APPLICATION_ID = 0x76697A76  # "vizv": tells our database from any other SQLite file
SCHEMA_VERSION = 1
MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE students (name TEXT PRIMARY KEY, created REAL NOT NULL)",
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY, student TEXT NOT NULL, pack_id TEXT NOT NULL,
            pack_version TEXT NOT NULL, content_hash TEXT NOT NULL, lesson_id TEXT NOT NULL,
            check_id TEXT NOT NULL, answer TEXT NOT NULL, correct INTEGER NOT NULL,
            points INTEGER NOT NULL, possible INTEGER NOT NULL, seed INTEGER NOT NULL,
            hints_used INTEGER NOT NULL, at REAL NOT NULL)""",
        "CREATE INDEX attempts_by_lesson ON attempts (student, pack_id, lesson_id, check_id)",
        """CREATE TABLE hints (
            id INTEGER PRIMARY KEY, student TEXT NOT NULL, pack_id TEXT NOT NULL,
            lesson_id TEXT NOT NULL, check_id TEXT NOT NULL, at REAL NOT NULL)""",
        """CREATE TABLE opened_steps (
            student TEXT NOT NULL, pack_id TEXT NOT NULL, lesson_id TEXT NOT NULL,
            step_id TEXT NOT NULL, at REAL NOT NULL,
            PRIMARY KEY (student, pack_id, lesson_id, step_id))""",
    ),
}


def default_path() -> Path:
    return data_dir() / "progress.sqlite3"


class ProgressError(RuntimeError):
    """The progress database cannot be used (written by a newer vizvm, or unwritable)."""


@dataclass(frozen=True)
class Attempt:
    student: str
    pack_id: str
    pack_version: str
    content_hash: str
    lesson_id: str
    check_id: str
    answer: str
    correct: bool
    points: int
    possible: int
    seed: int
    hints_used: int
    at: float  # seconds since the epoch


class Progress:
    """One student's (or a lab machine's several students') record; thread-safe."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.notice: str | None = None  # said once to the user: a file was moved aside
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open()
        except sqlite3.OperationalError as exc:  # locked, unwritable: not damaged
            raise ProgressError(f"the progress file {self.path} cannot be used: {exc}") from None
        except sqlite3.DatabaseError as exc:
            self.notice = self._move_aside(str(exc))
            self._db = self._open()

    # opening ----------------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False,
                             isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._adopt(db)
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("the database failed its integrity check")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _adopt(self, db: sqlite3.Connection) -> None:
        """An empty file becomes ours; one with another application's tables is foreign."""
        app = db.execute("PRAGMA application_id").fetchone()[0]
        if app == APPLICATION_ID:
            return
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != 0 or tables:
            raise sqlite3.DatabaseError("it is not a vizvm progress database")
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")

    def _migrate(self, db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = db.execute("SELECT max(version) FROM schema_version").fetchone()
        current = row[0] or 0
        if current > SCHEMA_VERSION:
            db.close()
            raise ProgressError(f"{self.path} was written by a newer vizvm (schema {current}, "
                                f"this one knows {SCHEMA_VERSION}): update vizvm to use it")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[version]:
                    db.execute(statement)
                db.execute("INSERT INTO schema_version VALUES (?)", (version,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _move_aside(self, reason: str) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}-{n}")
        self.path.rename(aside)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side.rename(aside.with_name(aside.name + suffix))
        return (f"the progress file {self.path} could not be read ({reason}); it was kept as "
                f"{aside.name} and a new one started")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # writing ----------------------------------------------------------------------------
    def _write(self, statements: list[tuple[str, tuple]]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    self._db.execute(sql, params)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _student(self, student: str) -> tuple[str, tuple]:
        return ("INSERT OR IGNORE INTO students VALUES (?, ?)", (student, time.time()))

    def record_answer(self, student: str, pack: Pack, lesson_id: str, check_id: str,  # noqa: PLR0917
                      answer: str, verdict: Verdict, seed: int) -> None:
        possible = _possible(pack, lesson_id, check_id, verdict)
        hints = self._count("SELECT count(*) FROM hints WHERE student=? AND pack_id=? AND "
                            "lesson_id=? AND check_id=?", (student, pack.id, lesson_id, check_id))
        self._write([self._student(student), (
            "INSERT INTO attempts (student, pack_id, pack_version, content_hash, lesson_id, "
            "check_id, answer, correct, points, possible, seed, hints_used, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (student, pack.id, pack.version, pack.content_hash, lesson_id, check_id, answer,
             int(verdict.correct), verdict.points, possible, seed, hints, time.time()))])

    def record_hint(self, student: str, pack: Pack, lesson_id: str, check_id: str) -> None:
        self._write([self._student(student), (
            "INSERT INTO hints (student, pack_id, lesson_id, check_id, at) VALUES (?, ?, ?, ?, ?)",
            (student, pack.id, lesson_id, check_id, time.time()))])

    def record_opened(self, student: str, pack: Pack, lesson_id: str, step_id: str) -> None:
        self._write([self._student(student), (
            "INSERT OR IGNORE INTO opened_steps VALUES (?, ?, ?, ?, ?)",
            (student, pack.id, lesson_id, step_id, time.time()))])

    # reading ----------------------------------------------------------------------------
    def _count(self, sql: str, params: tuple) -> int:
        with self._lock:
            return int(self._db.execute(sql, params).fetchone()[0])

    def latest_answers(self, student: str, pack_id: str, lesson_id: str) -> dict[str, Attempt]:
        """Each check's latest attempt, by check id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT student, pack_id, pack_version, content_hash, lesson_id, check_id, "
                "answer, correct, points, possible, seed, hints_used, at FROM attempts "
                "WHERE student=? AND pack_id=? AND lesson_id=? ORDER BY id",
                (student, pack_id, lesson_id)).fetchall()
        out: dict[str, Attempt] = {}
        for row in rows:
            attempt = Attempt(*row[:7], bool(row[7]), *row[8:])
            out[attempt.check_id] = attempt
        return out

    def hints_used(self, student: str, pack_id: str, lesson_id: str, check_id: str) -> int:
        return self._count("SELECT count(*) FROM hints WHERE student=? AND pack_id=? AND "
                           "lesson_id=? AND check_id=?", (student, pack_id, lesson_id, check_id))

    def opened_steps(self, student: str, pack_id: str, lesson_id: str) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT step_id FROM opened_steps WHERE student=? AND pack_id=? AND lesson_id=?",
                (student, pack_id, lesson_id)).fetchall()
        return {row[0] for row in rows}

    def score(self, student: str, pack: Pack) -> tuple[int, int]:
        """(points of each check's latest answer, points possible) over the whole pack."""
        points = possible = 0
        for lesson in pack.lessons:
            latest = self.latest_answers(student, pack.id, lesson.id)
            for step in lesson.steps:
                for check in step.checks:
                    possible += check.points
                    attempt = latest.get(check.id)
                    points += attempt.points if attempt is not None else 0
        return points, possible

    def students(self) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT name FROM students ORDER BY name").fetchall()
        return [row[0] for row in rows]


def _possible(pack: Pack, lesson_id: str, check_id: str, verdict: Verdict) -> int:
    try:
        return pack.lesson(lesson_id).check(check_id)[1].points
    except KeyError:
        return verdict.points
