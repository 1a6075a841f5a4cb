"""What the window opens for a lesson step: the step's program, as an image, under
exactly the step's techniques, with the student's parameters in guest memory.

A program of the pack comes from the pack's own bytes (a .zip is never
unpacked to disk); a built-in guest by name. Its paravirtual port goes along
when the step runs a paravirt pane.
"""

from __future__ import annotations

from dataclasses import dataclass

from vizvm import guests
from vizvm.lessons import variants
from vizvm.lessons.model import Lesson, Step
from vizvm.session.runner import Settings


@dataclass(frozen=True)
class OpenRequest:
    program: str
    techniques: tuple[str, ...]
    image: bytes
    settings: Settings
    port: str | None = None
    port_image: bytes | None = None


class StepProgramError(ValueError):
    """The step names a program that is neither in the lesson nor built in."""


def step_request(lesson: Lesson, step: Step, values: dict[str, int]) -> OpenRequest | None:
    """What to open for the step; None for a step that opens no panes."""
    if step.kind == "read" or step.host is not None or not step.program or not step.techniques:
        return None
    settings = Settings(preload=variants.preload(lesson.params, values),
                        max_insns=step.max_insns)
    name = step.program
    own = lesson.programs.get(name)
    if own is not None:
        port = lesson.programs.get(own.port or "")
        return OpenRequest(name, step.techniques, own.image, settings,
                           port.name if port else None, port.image if port else None)
    if name not in guests.BUILTIN:
        raise StepProgramError(f"{step.where}: step {step.id!r} names program {name!r}, which "
                               "is neither a program of the lesson nor a built-in guest")
    port_name = guests.PARAVIRT_PORTS.get(name)
    return OpenRequest(name, step.techniques, guests.image(name), settings, port_name,
                       guests.image(port_name) if port_name else None)
