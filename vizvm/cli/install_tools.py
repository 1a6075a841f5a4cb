"""The commands about the installation itself: version, doctor, self-test.

They print their own output and choose their own exit status (1 when something
is wrong), unlike the guest commands of vizvm.cli, so they are dispatched apart.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

from vizvm import __version__

COMMANDS = ("version", "doctor", "self-test")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    version = sub.add_parser("version", help="vizvm's version (with --json, Python's too)")
    version.add_argument("--json", action="store_true", help="print one JSON document")
    doctor = sub.add_parser(
        "doctor", help="what this machine gives vizvm: Qt, OpenGL, assemblers, data folder")
    doctor.add_argument("--json", action="store_true", help="print one JSON document")
    doctor.add_argument("--timeout", type=float, default=30, metavar="S",
                        help="seconds Qt may take to start (default 30)")
    doctor.add_argument("--qt-probe", action="store_true", help=argparse.SUPPRESS)
    test = sub.add_parser(
        "self-test", help="open the window offscreen, check a lesson, run a guest under "
                          "every technique; exit 0 only if all pass")
    test.add_argument("--json", action="store_true", help="print one JSON document")


def main(args: argparse.Namespace) -> int:
    if args.command == "version":
        doc = {"vizvm": __version__, "python": platform.python_version(),
               "frozen": bool(getattr(sys, "frozen", False))}
        print(json.dumps(doc, indent=2) if args.json else f"vizvm {__version__}")
        return 0
    if args.command == "doctor":
        from vizvm.cli import doctor

        if args.qt_probe:
            return doctor.qt_probe_main()
        report = doctor.collect(args.timeout)
        print(json.dumps(report, indent=2) if args.json else doctor.render(report))
        return 0 if report["ok"] else 1
    from vizvm.cli import self_test

    return self_test.main(as_json=args.json)
