"""What `vizvm` with no command shows until the window exists: the x86 holes on bare
hardware, under trap-and-emulate, and under the two techniques that closed them."""

from __future__ import annotations

from vizvm import guests
from vizvm.cli.render import table
from vizvm.session import compare, runner

TECHNIQUES = ["native", "trap-emulate", "binary-translation", "hardware-assist"]
HEADERS = ["question", "native", "trap-emulate", "binary transl.", "hardware assist"]


def demo() -> int:
    outcomes, _ = compare.compare(guests.image("holes"), runner.Settings(), TECHNIQUES)
    runs = [o.summary for o in outcomes]
    print("vizvm demo: a guest kernel asks the CPU ten questions, on bare hardware and")
    print("under three monitors that run it deprivileged.\n")
    answers = [s.serial.splitlines()[1:-1] for s in runs]
    rows = []
    for lines in zip(*answers, strict=False):
        question, _, native = lines[0].rpartition(": ")
        others = [line.rpartition(": ")[2] for line in lines[1:]]
        rows.append((question, f"{native}    ",
                     *(f"{o}    " if o == native else f"{o} (!)" for o in others)))
    print(table(HEADERS, rows))
    trap, bt, vt = runs[1], runs[2], runs[3]
    traps = trap.events.get("trap", 0)
    print(f"\n(!) differs from bare hardware. Trap-and-emulate caught {traps:,} traps, yet none of")
    print("the questions trapped: they are sensitive but unprivileged, so the monitor never")
    print(f"knew. Binary translation rewrote them ({bt.events.get('callout', 0):,} callouts, "
          f"{bt.events.get('translate', 0)} blocks translated);")
    print(f"hardware assist ran them in non-root ring 0 ({vt.events.get('vm-exit', 0):,} VM "
          "exits, for other reasons).")
    print("\nTry: vizvm compare kernel   vizvm classify popfd   "
          "vizvm run holes -t binary-translation --translations")
    return 0
