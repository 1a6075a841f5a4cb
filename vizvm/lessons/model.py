"""A lesson pack as plain, frozen data: what the loader builds and every tool reads.

The loader (`vizvm.lessons.loader`) is the only code that turns files into
these; everything else (checks, the reference runner, grading, the window)
takes them as given, so a pack is validated once, in one place. Each element
keeps where it came from (`Where`) so that later errors name file and line too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORMAT_VERSION = 1
TECHNIQUES = ("native", "trap-emulate", "binary-translation", "paravirt", "hardware-assist")
STEP_KINDS = ("read", "run", "predict", "answer")
CHECK_KINDS = ("trap", "choice", "number", "text", "register", "memory", "serial", "events")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=")
SCENARIOS = ("consolidation", "flawed-dma", "fixed-dma", "virtual-switch")
PARAMS_ADDRESS = 0x0000_0500  # where parameters are written, one dword each
MAX_PARAMS = 32
DEFAULT_STEP_BUDGET = 10_000_000


@dataclass(frozen=True)
class Where:
    """A place in a pack: a file relative to the pack's root, and a line (1-based)."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Program:
    name: str
    source: str  # assembly text
    image: bytes  # the committed built image
    source_file: str  # relative to the pack root
    image_file: str
    port: str | None = None  # the name of its paravirtual port, another Program
    where: Where = Where("")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int" | "choice"
    minimum: int = 0
    maximum: int = 0
    step: int = 1
    values: tuple[int, ...] = ()
    where: Where = Where("")


@dataclass(frozen=True)
class Choice:
    text: str
    correct: bool
    feedback: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    kind: str  # one of CHECK_KINDS
    prompt: str
    points: int = 1
    hints: tuple[str, ...] = ()
    technique: str | None = None  # trap, computed kinds
    instruction: str | None = None  # trap
    choices: tuple[Choice, ...] = ()  # choice
    multiple: bool = False  # choice
    answer: int | float | None = None  # number, literal
    compute: str | None = None  # number, a quantity name
    tolerance: float = 0.0  # number, absolute
    tolerance_percent: float = 0.0  # number, relative to the answer
    pattern: str | None = None  # text
    ignore_case: bool = False  # text
    register: str | None = None  # register
    address: int | None = None  # memory
    size: int = 4  # memory
    line: int | None = None  # serial, 1-based
    event: str | None = None  # events
    op: str | None = None  # events
    value: int | None = None  # events
    where: Where = Where("")


@dataclass(frozen=True)
class HostVm:
    name: str
    program: str
    technique: str = "native"


@dataclass(frozen=True)
class Host:
    scenario: str  # one of SCENARIOS
    vms: tuple[HostVm, ...]
    max_insns: int = DEFAULT_STEP_BUDGET


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # one of STEP_KINDS
    title: str
    markdown: str  # the text, from `text` (a file) or `body`
    markdown_where: Where  # where the Markdown starts (file and line)
    program: str | None = None
    techniques: tuple[str, ...] = ()
    max_insns: int = DEFAULT_STEP_BUDGET
    allow_budget: bool = False
    host: Host | None = None
    hints: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    where: Where = Where("")


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    question: str
    minutes: int
    programs: dict[str, Program]
    params: tuple[Param, ...]
    steps: tuple[Step, ...]
    where: Where = Where("")
    # trap checks' probe kernels built ahead of time (probes.toml), by probes_file.key
    probes: dict[str, bytes] = field(default_factory=dict)

    def check(self, check_id: str) -> tuple[Step, Check]:
        for step in self.steps:
            for check in step.checks:
                if check.id == check_id:
                    return step, check
        raise KeyError(check_id)


@dataclass(frozen=True)
class Pack:
    format: int
    id: str
    title: str
    version: str
    min_app_version: str
    authors: tuple[str, ...]
    license: str
    lessons: tuple[Lesson, ...]
    content_hash: str  # SHA-256 over every file of the pack, in path order
    origin: str = ""  # the folder or .zip it was read from
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    def lesson(self, lesson_id: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)
