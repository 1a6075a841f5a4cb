"""`vizvm run` and `vizvm compare`."""

from __future__ import annotations

import argparse
from pathlib import Path

from vizvm.cli.render import indent, registers, table, translation_cache
from vizvm.monitors import registry
from vizvm.session import compare as comparing
from vizvm.session import files, program, runner


def settings(args: argparse.Namespace, technique: str = "native") -> runner.Settings:
    return runner.Settings(
        technique=technique,
        max_insns=args.max_insns,
        profile=args.profile,
        kernel_ring=args.kernel_ring,
        vmx=args.vmx,
    )


def run(args: argparse.Namespace) -> tuple[dict, str]:
    registry.create(args.technique)  # refuse an unknown technique before loading anything
    if args.translations and args.technique != "binary-translation":
        raise registry.TechniqueError(
            f"--translations lists the translation cache of binary-translation; "
            f"{args.technique} translates nothing")
    prog = program.load(args.program)
    trace = Path(args.trace) if args.trace else None
    summary, machine = runner.run(prog.image, settings(args, args.technique), trace)
    doc = {"program": prog.name, **summary.to_json()}
    text = _run_text(prog.name, summary)
    if args.technique == "hardware-assist":
        doc["vmx_controls"] = args.vmx.describe()
    if trace is not None:
        doc["trace"] = str(trace)
    if args.translations:
        blocks = machine.supervisor.listing()  # type: ignore[attr-defined]
        doc["translation_cache"] = [b.to_json() for b in blocks]
        text += "\n\n" + translation_cache(blocks)
    return doc, text


def _run_text(name: str, s: runner.Summary) -> str:
    code = "" if s.exit_code is None else f" with exit code {s.exit_code}"
    lines = [
        f"{name} under {s.technique}: {s.exit}{code}",
        f"  {s.message}",
        f"  guest instructions {s.guest_instructions:,}; simulated cycles "
        f"{s.simulated_cycles:,} ({s.profile}); {s.wall_seconds:.3f} s on this computer",
        "",
        "serial output:",
        indent(s.serial),
        "",
        "events:",
        table(["kind", "count", "cycles"],
              [(k, v, s.cycles_by_kind.get(k, 0)) for k, v in s.events.items()])
        if s.events else "  (none)",
        "",
        "registers at the end:",
        registers(s.registers),
    ]
    return "\n".join(lines)


def compare(args: argparse.Namespace) -> tuple[dict, str]:
    prog = program.load(args.program)
    names = args.techniques.split(",") if args.techniques else None
    for name in names or []:
        registry.create(name)
    found = program.paravirt_port(args.program, args.port)
    port = None if found is None else comparing.Port(found.name, found.image)
    outcomes, skipped = comparing.compare(prog.image, settings(args), names, name=prog.name,
                                          port=port)
    doc = {
        "program": prog.name,
        "paravirt_port": None if port is None else port.name,
        "techniques": [
            {
                **o.summary.to_json(),
                "program": o.program,
                "equivalent": o.equivalent,
                "judged_on": list(o.judged_on),
                "overhead": None if o.overhead is None else round(o.overhead, 4),
                "parting": None if o.parting is None else o.parting.__dict__,
            }
            for o in outcomes
        ],
        "skipped": [s.__dict__ for s in skipped],
    }
    text = _compare_text(prog.name, outcomes, skipped)
    if args.perfetto or args.csv:
        runs = [files.run_for_export(found.image if o.program != prog.name and found else
                                     prog.image, settings(args, o.summary.technique))
                for o in outcomes]
        doc["export"] = files.export_runs(runs, args.perfetto, args.csv)
        text += "\n" + doc["export"]
    return doc, text


def _compare_text(name: str, outcomes: list[comparing.Outcome],
                  skipped: list[comparing.Skipped]) -> str:
    kinds = sorted({k for o in outcomes for k in o.summary.events})
    headers = ["", *[o.summary.technique for o in outcomes]]
    rows = [
        ["exit", *[o.summary.exit for o in outcomes]],
        ["exit code", *[o.summary.exit_code for o in outcomes]],
        ["guest instructions", *[o.summary.guest_instructions for o in outcomes]],
        *[[f"events: {k}", *[o.summary.events.get(k, 0) for o in outcomes]] for k in kinds],
        ["simulated cycles", *[o.summary.simulated_cycles for o in outcomes]],
        ["overhead vs native", *[o.overhead for o in outcomes]],
        ["equivalent to native", *[o.equivalent for o in outcomes]],
    ]
    lines = [f"{name}: {len(outcomes)} techniques, cost profile {outcomes[0].summary.profile}",
             "", table(headers, rows), ""]
    for o in outcomes:
        if o.parting is None:
            continue
        p = o.parting
        lines.append(f"{o.summary.technique} parts from native: {p.detail}")
        if p.native is not None:
            lines.append(f"  native: {p.native}")
            lines.append(f"  {o.summary.technique}: {p.other}")
    for o in outcomes:
        if o.program != name:
            lines.append(f"{o.summary.technique} ran {o.program}, the paravirtual port of {name}: "
                         f"judged on serial output and exit code (its memory differs by "
                         f"construction)")
    for s in skipped:
        lines.append(f"{s.technique} not run: {s.reason}")
    if all(o.equivalent for o in outcomes):
        lines.append("every technique produced the same output and exit code as native, and "
                     "the same memory wherever it ran the same program")
    return "\n".join(lines)
