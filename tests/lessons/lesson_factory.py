"""Lessons and packs built directly as model objects, for the checks' tests."""

from __future__ import annotations

from vizvm.lessons.model import Check, Choice, Lesson, Pack, Param, Program, Step, Where

WHERE = Where("demo/lesson.toml", 12)


def check(id_: str, kind: str, **fields: object) -> Check:
    return Check(id_, kind, f"prompt of {id_}", where=WHERE, **fields)  # type: ignore[arg-type]


def step(*checks: Check, program: str | None = "hello", techniques: tuple[str, ...] = ("native",),
         max_insns: int = 100_000, id_: str = "run", **fields: object) -> Step:
    return Step(id_, "run", "Run it", "Run **it**.", Where("demo/lesson.toml", 8),
                program=program, techniques=techniques, max_insns=max_insns, checks=checks,
                where=Where("demo/lesson.toml", 7), **fields)  # type: ignore[arg-type]


def lesson(*steps: Step, id_: str = "demo", programs: dict[str, Program] | None = None,
           params: tuple[Param, ...] = ()) -> Lesson:
    return Lesson(id_, "A demo", "What happens?", 5, programs or {}, params, steps,
                  where=Where("demo/lesson.toml", 1))


def pack(*lessons: Lesson, version: str = "1.0.0", content_hash: str = "a" * 64) -> Pack:
    return Pack(1, "demo-pack", "Demo", version, "0.1.0", ("A. Teacher",), "CC-BY-4.0",
                lessons, content_hash)


def quiz_pack() -> Pack:
    """Two lessons of checks that need no run: quick to grade."""
    first = lesson(step(
        check("rings", "number", answer=4, points=2),
        check("pick", "choice", choices=(Choice("a", False, "no"), Choice("b", True, "yes"))),
        program=None, techniques=()), id_="first")
    second = lesson(step(check("word", "text", pattern="ring ?0", ignore_case=True),
                         program=None, techniques=()), id_="second")
    return pack(first, second)
