"""`vizvm classify "INSTRUCTION" [--cpl N]`."""

from __future__ import annotations

import argparse

from vizvm.cli.render import table
from vizvm.session.classify import Classification
from vizvm.session.classify import classify as run_classify


def classify(args: argparse.Namespace) -> tuple[dict, str]:
    result = run_classify(args.instruction, args.cpl)
    return _json(result), _text(result)


def _json(r: Classification) -> dict:
    first_trap = next((e.deprivileged.fault for e in r.evidence if e.trapped), None)
    return {
        "instruction": r.instruction,
        "bytes": r.raw.hex(),
        "disassembly": r.disassembly,
        "cpl": r.ring,
        "class": r.cls,
        "reason": r.reason,
        "vector": None if first_trap is None else first_trap[0],
        "error_code": None if first_trap is None else first_trap[1],
        "evidence": [
            {
                "state": e.variant.name,
                "about": e.variant.about,
                "ring0": e.native.describe(),
                f"ring{r.ring}": e.deprivileged.describe(),
                "trapped": e.trapped,
                "differences": [d.__dict__ for d in e.differences],
            }
            for e in r.evidence
        ],
    }


def _text(r: Classification) -> str:
    rows = []
    for e in r.evidence:
        diff = "; ".join(f"{d.what} {d.native} vs {d.deprivileged}" for d in e.differences[:3])
        rows.append((e.variant.name, e.native.describe(), e.deprivileged.describe(),
                     diff or "same result"))
    lines = [
        f"{r.disassembly}  ({r.raw.hex(' ')})",
        f"class: {r.cls.upper()}",
        f"  {r.reason}",
        "",
        table(["state", "ring 0", f"ring {r.ring}", "what differs"], rows),
        "",
        "starting states:",
        *[f"  {e.variant.name}: {e.variant.about}" for e in r.evidence],
    ]
    return "\n".join(lines)
