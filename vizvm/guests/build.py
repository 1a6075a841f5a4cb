"""Rebuild the built-in guests' images from their sources: python -m vizvm.guests.build"""

from __future__ import annotations

import sys
from pathlib import Path

from vizvm.asm.assembler import assemble
from vizvm.asm.source import AsmError
from vizvm.guests import BUILTIN

HERE = Path(__file__).parent


def main() -> int:
    for name in BUILTIN:
        path = HERE / f"{name}.asm"
        try:
            image = assemble(path.read_text(), filename=str(path))
        except AsmError as exc:
            print(exc, file=sys.stderr)
            return 1
        (HERE / f"{name}.bin").write_bytes(image)
        print(f"{name}.bin: {len(image)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
