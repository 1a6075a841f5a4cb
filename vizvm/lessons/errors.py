"""What is wrong with a pack, said with the file and the line."""

from __future__ import annotations

from dataclasses import dataclass

from vizvm.lessons.model import Where


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class PackError(ValueError):
    """A pack that cannot be opened; `problems` lists every error found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
