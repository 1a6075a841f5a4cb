"""The frozen app's entry point: what `python -m vizvm` is in a checkout.

A frozen app has no interpreter to run `-m module`, so it answers for the two
children vizvm starts with `sys.executable`: the engine (multiprocessing's spawn,
handled by freeze_support) and keystone's worker (`-m vizvm.asm.keystone_worker`).
"""

from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()  # a spawned engine process returns from here
    if sys.argv[1:3] == ["-m", "vizvm.asm.keystone_worker"]:
        from vizvm.asm.keystone_worker import serve

        serve()
        return 0
    from vizvm.cli import main as cli

    return cli(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
