"""What `vizvm` with no command shows until the window exists: the x86 holes,
native against trap-and-emulate, in the terminal."""

from __future__ import annotations

from vizvm import guests
from vizvm.cli.render import table
from vizvm.session import compare, runner


def demo() -> int:
    image = guests.image("holes")
    outcomes, _ = compare.compare(image, runner.Settings(), ["native", "trap-emulate"])
    native, monitor = (o.summary for o in outcomes)
    print("vizvm demo: a guest kernel asks the CPU ten questions, on bare hardware and")
    print("under a trap-and-emulate monitor that runs it deprivileged at ring 1.\n")
    rows = []
    for a, b in zip(native.serial.splitlines()[1:-1], monitor.serial.splitlines()[1:-1],
                    strict=False):
        question, _, answer = a.rpartition(": ")
        rows.append((question, answer, b.rpartition(": ")[2], "" if a == b else "<- differs"))
    print(table(["question", "native", "trap-emulate", ""], rows))
    traps = monitor.events.get("trap", 0)
    print(f"\nThe monitor caught {traps:,} traps (privileged instructions, port I/O, timer")
    print("interrupts), yet none of the questions above trapped: they are sensitive but")
    print("unprivileged, so a pure trap-and-emulate monitor on classic x86 is not equivalent.")
    print("\nTry: vizvm compare kernel   vizvm classify popfd   vizvm run holes -t trap-emulate")
    return 0
