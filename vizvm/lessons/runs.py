"""The runs a lesson's computed answers come from, made once and kept.

A check's answer is a quantity of a real run of the step's program under a
technique, with the student's parameters in guest memory (docs/lesson-format.md).
Several checks read the same run, and grading reads it for every student
with the same values, so runs are cached by lesson, step, technique and values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vizvm import guests
from vizvm.lessons.model import Lesson, Step
from vizvm.session import host, runner
from vizvm.session.quantities import summary_quantities

PARAVIRT = "paravirt"
PAGE = 4096
_ZERO_PAGE = bytes(PAGE)


class RunError(ValueError):
    """A step whose program cannot give an answer: it has no image, it ran out of
    budget or failed. The message names the lesson, the step and the technique."""


class SparseRam:
    """A run's RAM at the end, kept as its non-zero pages only: a guest touches a few
    pages of its 16 MiB, and a class's worth of cached runs must not hold 16 MiB each."""

    def __init__(self, ram: bytes) -> None:
        self.size = len(ram)
        view = memoryview(ram)
        self._pages = {n: bytes(view[n * PAGE:(n + 1) * PAGE])
                       for n in range(-(-len(ram) // PAGE))
                       if view[n * PAGE:(n + 1) * PAGE] != _ZERO_PAGE[: len(view[n * PAGE:])]}

    def read(self, address: int, size: int) -> bytes:
        out = bytearray()
        while size:
            page, offset = divmod(address, PAGE)
            take = min(size, PAGE - offset)
            out += self._pages.get(page, _ZERO_PAGE)[offset:offset + take]
            address, size = address + take, size - take
        return bytes(out)

    def word(self, address: int) -> int:
        """The little-endian dword at `address` (IndexError outside the RAM)."""
        if address < 0 or address + 4 > self.size:
            raise IndexError(address)
        return int.from_bytes(self.read(address, 4), "little")


@dataclass(frozen=True)
class Run:
    summary: runner.Summary
    ram: SparseRam  # the guest's RAM at the end, for memory.ADDRESS


class Quantities(dict[str, object]):
    """Every quantity of one run; `memory.ADDRESS` keys are read from the RAM on demand."""

    def __init__(self, values: dict[str, object], ram: SparseRam | None = None) -> None:
        super().__init__(values)
        self._ram = ram

    def __missing__(self, key: str) -> object:
        if not key.startswith("memory.") or self._ram is None:
            raise KeyError(key)
        try:
            return self._ram.word(_address(key.removeprefix("memory.")))
        except IndexError:
            raise KeyError(key) from None


def _address(text: str) -> int:
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        return -1


class StepRuns:
    """Runs of lesson steps, each made at most once per (step, technique, values).

    Safe to share between threads (the window judges off its UI thread): a run
    asked for twice at once is made once, and a run that failed fails again
    from the cache, with the same message, without running again.
    """

    def __init__(self) -> None:
        self._done: dict[tuple, Run | dict[str, object] | RunError] = {}
        self._making: dict[tuple, threading.Lock] = {}
        self._lock = threading.Lock()
        self._keep: list[Lesson] = []  # ids in the keys stay valid while they live

    def _cached(self, key: tuple, lesson: Lesson, make: Callable[[], Any]) -> Any:
        with self._lock:
            if not any(kept is lesson for kept in self._keep):
                self._keep.append(lesson)
            making = self._making.setdefault(key, threading.Lock())
        with making:
            if key not in self._done:
                try:
                    self._done[key] = make()
                except RunError as exc:
                    self._done[key] = exc
        found = self._done[key]
        if isinstance(found, RunError):
            raise found
        return found

    def run(self, lesson: Lesson, step: Step, technique: str, values: dict[str, int]) -> Run:
        key = (id(lesson), step.id, technique, tuple(sorted(values.items())))
        return self._cached(key, lesson, lambda: _make(lesson, step, technique, values))

    def quantities(self, lesson: Lesson, step: Step, technique: str,
                   values: dict[str, int]) -> dict[str, object]:
        if step.host is not None:
            key = (id(lesson), step.id, "host", tuple(sorted(values.items())))
            return self._cached(key, lesson, lambda: _run_host(lesson, step, values))
        run = self.run(lesson, step, technique, values)
        out = summary_quantities(run.summary)
        try:
            native = run if technique == "native" else self.run(lesson, step, "native", values)
        except RunError:
            native = None  # no overhead to give; every other quantity stands
        cycles = native.summary.simulated_cycles if native else 0
        out["overhead"] = run.summary.simulated_cycles / cycles if cycles else None
        return Quantities(out, run.ram)


def _make(lesson: Lesson, step: Step, technique: str, values: dict[str, int]) -> Run:
    image = step_image(lesson, step, technique)
    settings = runner.Settings(technique=technique, max_insns=step.max_insns,
                               preload=_preload(lesson, values))
    summary, machine = runner.run(image, settings)
    _judge(lesson, step, technique, summary)
    return Run(summary, SparseRam(machine.ram()))


def step_image(lesson: Lesson, step: Step, technique: str) -> bytes:
    """The image a step runs under `technique`: paravirt runs the program's port."""
    where = f"lesson {lesson.id}, step {step.id}"
    if step.program is None:
        raise RunError(f"{where}: the step names no program to run")
    return program_image(lesson, step.program, technique, where)


def program_image(lesson: Lesson, name: str, technique: str, where: str) -> bytes:
    program = lesson.programs.get(name)
    if program is not None:
        if technique != PARAVIRT:
            return program.image
        port = lesson.programs.get(program.port or "")
        if port is None:
            raise RunError(f"{where}: program {name!r} has no paravirtual port "
                           "(give it `port = \"...\"`), so it cannot run under paravirt")
        return port.image
    if name not in guests.BUILTIN:
        raise RunError(f"{where}: {name!r} is neither a program of the lesson nor a built-in "
                       f"guest ({', '.join(guests.BUILTIN)})")
    if technique == PARAVIRT:
        if name not in guests.PARAVIRT_PORTS:
            raise RunError(f"{where}: the built-in guest {name!r} has no paravirtual port, "
                           "so it cannot run under paravirt")
        name = guests.PARAVIRT_PORTS[name]
    return guests.image(name)


def _preload(lesson: Lesson, values: dict[str, int]) -> tuple[tuple[int, bytes], ...]:
    if not lesson.params:
        return ()
    from vizvm.lessons import variants

    return variants.preload(lesson.params, values)


def _judge(lesson: Lesson, step: Step, technique: str, s: runner.Summary,
           budget: int | None = None) -> None:
    where = f"lesson {lesson.id}, step {step.id}"
    if s.exit == "error":
        raise RunError(f"{where}: the run under {technique} failed: {s.message}")
    if s.exit == "budget" and not step.allow_budget:
        raise RunError(f"{where}: the run under {technique} used its whole budget of "
                       f"{budget or step.max_insns:,} instructions without ending (raise "
                       "max_insns, or set allow_budget = true if it is meant to run on)")


def host_run(lesson: Lesson, step: Step, values: dict[str, int]) -> host.HostResult:
    """The step's host, with the student's values in every VM's memory (RunError)."""
    assert step.host is not None
    where = f"lesson {lesson.id}, step {step.id}"
    vms = [host.HostVm(vm.name, program_image(lesson, vm.program, vm.technique, where),
                       vm.technique) for vm in step.host.vms]
    try:
        return host.run_host(step.host.scenario, vms, max_insns=step.host.max_insns,
                             preload=_preload(lesson, values))
    except host.HostError as exc:
        raise RunError(f"{where} ({step.where}): {exc}") from None


def _run_host(lesson: Lesson, step: Step, values: dict[str, int]) -> dict[str, object]:
    assert step.host is not None
    result = host_run(lesson, step, values)
    for name, summary in result.vms.items():
        _judge(lesson, step, f"{name}'s {summary.technique}", summary, step.host.max_insns)
    return result.quantities()  # as it is: it reads vm.NAME.memory.ADDRESS on demand
