"""A computed quantity said as a sentence, for a student's feedback.

"the run under trap-emulate made 17 traps" reads better than
"events.trap = 17"; the quantity's name stays in brackets so that the
author can match it with the lesson's `compute`.
"""

from __future__ import annotations

PHRASES = {
    "exit_code": "powered off with exit code {v}",
    "guest_instructions": "executed {v} guest instructions",
    "simulated_cycles": "took {v} simulated cycles",
    "overhead": "cost {v} times native's simulated cycles",
    "direct_percent": "ran {v}% of its instructions directly",
}


def describe(subject: str, name: str, shown: str) -> str:
    """`subject` is "the run under trap-emulate" or "the host run"."""
    if name.startswith("vm."):
        vm, _, rest = name.removeprefix("vm.").partition(".")
        return describe(f"{subject}: VM {vm}", rest, shown) if rest else f"{subject}: {shown}"
    if name.startswith("host."):
        return f"{subject}: the host's {name.removeprefix('host.').replace('_', ' ')} was {shown}"
    if name.startswith("events."):
        kind = name.removeprefix("events.")
        return f"{subject} made {shown} {kind} event{'' if shown == '1' else 's'}"
    if name.startswith("register."):
        return f"{subject} ended with {name.removeprefix('register.')} = {shown}"
    if name.startswith("memory."):
        return f"{subject} left {shown} at {name.removeprefix('memory.')}"
    phrase = PHRASES.get(name)
    return f"{subject} {phrase.format(v=shown)}" if phrase else f"{subject} gave {name} = {shown}"
