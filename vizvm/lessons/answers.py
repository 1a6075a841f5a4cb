"""Reading what a student typed as a number.

Students write numbers the way the window and the docs show them: decimal,
hexadecimal, binary or octal, with `_` between digit groups. A comma is
refused rather than guessed at: `1,000` is a thousand to some readers and
one to others.
"""

from __future__ import annotations

import re

_HINT = "write 42, 0x2a or 0b101010"
_INTEGER = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*)")
_DECIMAL = re.compile(r"[+-]?([0-9][0-9_]*)?\.[0-9_]+([eE][+-]?[0-9]+)?|[+-]?[0-9]+[eE][+-]?[0-9]+")


def parse_number(text: str) -> int | float:
    """An int (or a float for `3.5`); ValueError with a message a student understands."""
    cleaned = text.strip()
    if not cleaned:
        raise ValueError(f"no number given: {_HINT}")
    if "," in cleaned:
        raise ValueError(f"{cleaned!r}: leave out the commas (write 1000 or 1_000), "
                         "or write a decimal point as '.'")
    if "__" in cleaned or cleaned.endswith("_"):
        raise ValueError(f"{cleaned!r} is not a number: '_' goes only between digits; {_HINT}")
    if _INTEGER.fullmatch(cleaned):
        try:
            return int(cleaned, 0) if not _leading_zero(cleaned) else int(cleaned, 10)
        except ValueError:
            pass
    elif _DECIMAL.fullmatch(cleaned):
        return float(cleaned.replace("_", ""))
    raise ValueError(f"{cleaned!r} is not a number: {_HINT}")


def _leading_zero(text: str) -> bool:
    """`007` is seven: int(..., 0) refuses leading zeros, a student would not expect it."""
    digits = text.lstrip("+-")
    return len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()
