"""`vizvm snapshot save PROGRAM FILE --at N` and `vizvm snapshot open FILE [--run]`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from vizvm.cli.render import indent, registers
from vizvm.monitors import registry
from vizvm.session import program, runner, snapshots
from vizvm.session.snapshots import SnapshotError


def add_parsers(sub: argparse._SubParsersAction, common: Callable, machine_options: Callable
                ) -> None:
    snap = sub.add_parser("snapshot", help="save a VM's state to a file, or open one")
    verbs = snap.add_subparsers(dest="verb", required=True)
    save = verbs.add_parser("save", help="run a program to instruction N and save it there")
    save.add_argument("program", help="assembly source, flat binary, or built-in guest")
    save.add_argument("file", help=f"the snapshot to write (e.g. NAME{snapshots.SUFFIX})")
    save.add_argument("--at", type=int, required=True, metavar="N",
                      help="the guest instruction count to stop at")
    save.add_argument("--technique", "-t", default="native", metavar="T",
                      help=f"one of {', '.join(registry.TECHNIQUES)}")
    machine_options(save)
    common(save)
    opened = verbs.add_parser("open", help="open a snapshot: replay it here and check it")
    opened.add_argument("file")
    opened.add_argument("--run", action="store_true",
                        help="then run on to the end and report like `vizvm run`")
    common(opened)


def command(args: argparse.Namespace) -> tuple[dict, str]:
    return save(args) if args.verb == "save" else open_(args)


def save(args: argparse.Namespace) -> tuple[dict, str]:
    from vizvm.cli.runs import settings as settings_of

    registry.create(args.technique)
    if args.at < 0:
        raise SnapshotError("--at must be a guest instruction count, 0 or more")
    prog = program.load(args.program)
    settings = settings_of(args, args.technique)
    machine = runner.build(prog.image, settings)
    while machine.exit is None and machine.icount < args.at:
        machine.advance(machine.ticks + args.at - machine.icount)
    saved = snapshots.save_snapshot(machine, args.file, program=prog, settings=settings)
    size = Path(args.file).stat().st_size
    ended = "" if machine.exit is None else f" (the run ended first: {machine.exit.message})"
    doc = {"file": args.file, "program": prog.name, "technique": args.technique,
           "icount": saved.icount, "ticks": saved.ticks, "bytes": size,
           "ended": machine.exit is not None}
    return doc, (f"saved {prog.name} under {args.technique} at instruction {saved.icount:,}"
                 f"{ended} to {args.file} ({size:,} bytes)")


def open_(args: argparse.Namespace) -> tuple[dict, str]:
    started = time.perf_counter()
    saved, machine = snapshots.open_snapshot(args.file)
    doc: dict = {"file": args.file, "program": saved.program.name,
                 "technique": saved.settings.technique, "icount": saved.icount,
                 "ticks": saved.ticks, "written_by": saved.app_version, "verified": True,
                 "registers": machine.cpu.registers(),
                 "open_seconds": round(time.perf_counter() - started, 4)}
    text = (f"{saved.program.name} under {saved.settings.technique} at instruction "
            f"{saved.icount:,} (written by vizvm {saved.app_version}): replayed here and "
            f"checked against the file's registers and memory\n\nregisters:\n"
            f"{registers(machine.cpu.registers())}")
    if args.run:
        began = time.perf_counter()
        machine.run(saved.settings.max_insns)
        machine.finish()
        summary = runner.summarize(machine, saved.settings, time.perf_counter() - began)
        doc["run"] = summary.to_json()
        code = "" if summary.exit_code is None else f" with exit code {summary.exit_code}"
        text += (f"\n\nran on to the end: {summary.exit}{code}, "
                 f"{summary.guest_instructions:,} guest instructions\nserial output:\n"
                 f"{indent(summary.serial)}")
    return doc, text
