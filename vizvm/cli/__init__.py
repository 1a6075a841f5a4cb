"""The headless commands of BRIEF.md: vizvm run | compare | classify.

Every command takes --json and then prints exactly one JSON document on
stdout. Bad input (a missing file, broken assembly, an unknown technique)
ends with a message naming what and where, and exit status 2, never a
Python traceback; a guest that loops, faults or triple-faults is a normal
run with its exit reported.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from vizvm import __version__
from vizvm.asm.source import AsmError
from vizvm.cli import bench, install_tools, lessons, snapshot
from vizvm.lessons.errors import PackError
from vizvm.machine.layout import DEFAULT_BUDGET
from vizvm.machine.loader import LoadError
from vizvm.machine.uc_internals import UnicornProbeError
from vizvm.monitors import cost_model, registry, vmx
from vizvm.session.program import ProgramError
from vizvm.session.snapshots import SnapshotError

USAGE_ERROR = 2
INTERNAL_ERROR = 70

Command = Callable[[argparse.Namespace], tuple]  # (doc, text) or (doc, text, exit status)


def _budget(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the budget must be positive")
    return value


def _vmx_controls(text: str) -> vmx.Controls:
    try:
        return vmx.parse_controls(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _machine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-insns", type=_budget, default=DEFAULT_BUDGET, metavar="N",
                        help=f"instruction budget (default {DEFAULT_BUDGET:,})")
    parser.add_argument("--profile", choices=sorted(cost_model.PROFILES),
                        default=cost_model.DEFAULT_PROFILE, help="cost model profile")
    parser.add_argument("--kernel-ring", type=int, choices=(1, 3), default=1,
                        help="trap-emulate: the ring the guest kernel really runs in")
    parser.add_argument("--vmx", type=_vmx_controls, default=vmx.FIRST_GENERATION,
                        metavar="CONTROLS",
                        help="hardware-assist: a preset (first-generation, modern) and changes, "
                             "e.g. 'modern,no-hlt-exiting,io-bitmap=0x3f8-0x3ff'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vizvm",
        description="See how virtualization works inside. With no command, opens the window "
                    "on the x86 holes demo.",
    )
    parser.add_argument("--version", action="version", version=f"vizvm {__version__}")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run a program under one technique")
    run.add_argument("program", help="assembly source (.asm, .s), flat binary, or built-in guest")
    run.add_argument("--technique", "-t", default="native", metavar="T",
                     help=f"one of {', '.join(registry.TECHNIQUES)}")
    run.add_argument("--trace", metavar="FILE", help="write every event as JSON Lines")
    run.add_argument("--translations", action="store_true",
                     help="binary-translation: list the translation cache at the end, guest "
                          "code beside its translation")
    _machine_options(run)
    _common(run)

    compare = sub.add_parser("compare", help="run a program under every technique that can")
    compare.add_argument("program")
    compare.add_argument("--techniques", metavar="T,T", help="a comma-separated subset")
    compare.add_argument("--perfetto", metavar="FILE",
                         help="also write the events as Chrome/Perfetto trace JSON")
    compare.add_argument("--csv", metavar="FILE", help="also write counters over time as CSV")
    compare.add_argument("--port", metavar="FILE",
                         help="the program's paravirtual port, for paravirt (default: a "
                              "built-in's own, or NAME_pv beside the file)")
    _machine_options(compare)
    _common(compare)

    window = sub.add_parser("window", help="open the window (the default with no command)")
    window.add_argument("program", nargs="?", help="a program to open (default: holes)")
    window.add_argument("--techniques", metavar="T,T", help="a comma-separated subset")
    window.add_argument("--lesson", metavar="ID",
                        help="open this lesson beside the panes (an id, or PACK_ID/LESSON_ID)")
    window.add_argument("--pack", metavar="PATH",
                        help="a lesson pack folder or .zip to open (with --lesson: where it is)")
    sub.add_parser("demo", help="the holes demo in the terminal, without the window")
    shots = sub.add_parser("screenshots", help="render the window's main views to PNG files")
    shots.add_argument("directory", nargs="?", default="docs/images")

    classify = sub.add_parser(
        "classify", help="run one instruction at ring 0 and deprivileged, and classify it")
    classify.add_argument("instruction", help='e.g. "popfd" or "mov eax, cs"; '
                          'statements before the last one set up registers')
    classify.add_argument("--cpl", type=int, choices=(1, 2, 3), default=1,
                          help="the ring the deprivileged kernel really runs in (default 1)")
    _common(classify)
    lessons.add_parsers(sub, _common)
    snapshot.add_parsers(sub, _common, _machine_options)
    bench.add_parsers(sub, _common)
    install_tools.add_parsers(sub)
    return parser


def _commands() -> dict[str, Command]:
    from vizvm.cli import classify, runs

    return {"run": runs.run, "compare": runs.compare, "classify": classify.classify,
            "lesson": lessons.command, "snapshot": snapshot.command, "bench": bench.command}


def _error(args: argparse.Namespace, kind: str, message: str, **where: object) -> int:
    if getattr(args, "json", False):
        print(json.dumps({"error": {"kind": kind, "message": message, **where}}, indent=2))
    else:
        print(f"vizvm: {message}", file=sys.stderr)
    return USAGE_ERROR


def _window(args: argparse.Namespace) -> int:
    """The window; bad input is refused first, and without Qt it says what to install."""
    program = getattr(args, "program", None)
    techniques = getattr(args, "techniques", None)
    chosen = tuple(t.strip() for t in techniques.split(",")) if techniques else None
    try:
        for name in chosen or ():
            registry.technique(name)
    except registry.TechniqueError as exc:
        return _error(args, "technique", str(exc))
    lesson = None
    if getattr(args, "lesson", None):
        from vizvm.cli.lessons import LessonUsageError, find_lesson
        from vizvm.lessons.errors import PackError

        try:
            pack, found = find_lesson(args.lesson, args.pack)
        except LessonUsageError as exc:
            return _error(args, exc.kind, str(exc))
        except PackError as exc:
            return _error(args, "pack", f"the pack cannot be opened:\n{exc}")
        lesson = f"{pack.id}/{found.id}"
    try:
        from vizvm.ui import app, screenshots
    except ImportError as exc:
        print(f"vizvm: the window needs PySide6 and pyqtgraph ({exc}); install them with\n"
              "  python -m pip install PySide6-Essentials pyqtgraph\n"
              "or try the terminal demo: vizvm demo", file=sys.stderr)
        return USAGE_ERROR
    if args.command == "screenshots":
        return screenshots.main(args.directory)
    return app.main(program, chosen, lesson=lesson, pack=getattr(args, "pack", None))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo":
        from vizvm.cli.demo import demo

        return demo()
    if args.command in install_tools.COMMANDS:
        return install_tools.main(args)
    if args.command in (None, "window", "screenshots"):
        return _window(args)
    try:
        doc, text, *status = _commands()[args.command](args)
    except PackError as exc:
        problems = [{"file": p.where.file, "line": p.where.line, "message": p.message}
                    for p in exc.problems]
        return _error(args, "pack", f"the pack cannot be opened:\n{exc}", problems=problems)
    except lessons.LessonUsageError as exc:
        return _error(args, exc.kind, str(exc))
    except AsmError as exc:
        return _error(args, "assembly", str(exc), file=exc.filename, line=exc.line)
    except (ProgramError, LoadError) as exc:
        return _error(args, "program", str(exc))
    except registry.TechniqueError as exc:
        return _error(args, "technique", str(exc))
    except SnapshotError as exc:
        return _error(args, "snapshot", str(exc))
    except UnicornProbeError as exc:
        return _error(args, "unicorn", f"this Unicorn build is not supported: {exc}")
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("VIZVM_DEBUG"):
            traceback.print_exc()
        message = f"internal error: {type(exc).__name__}: {exc} (set VIZVM_DEBUG=1 for details)"
        _error(args, "internal", message)
        return INTERNAL_ERROR
    try:
        print(json.dumps(doc, indent=2) if args.json else text)
        sys.stdout.flush()
    except BrokenPipeError:  # `vizvm run ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status[0] if status else 0
