"""Per-student variants: a seed from the student's name, values drawn from it.

Everything here is a pure function of its arguments, with SHA-256 as the only
source of randomness, so a student gets the same values on every machine and
every Python version, and an instructor can recompute them from the name alone.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterator

from vizvm.lessons.model import PARAMS_ADDRESS, Param

# `{{` and `}}` are literal braces; `{name}` is a parameter
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([a-z0-9][a-z0-9_-]*)\}")


def seed_for(student: str, pack_id: str, lesson_id: str) -> int:
    """A 32-bit seed, shown to the student in decimal so an instructor can quote it."""
    name = unicodedata.normalize("NFC", student.strip())
    text = "\0".join((name, pack_id, lesson_id)).encode("utf-8")
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big")


def draw(params: tuple[Param, ...], seed: int) -> dict[str, int]:
    """Each parameter's value; a parameter's value depends only on the seed and its name,
    so adding a parameter to a lesson does not change the others."""
    values: dict[str, int] = {}
    for param in params:
        digest = hashlib.sha256(f"{seed & 0xFFFF_FFFF}\0{param.name}".encode()).digest()
        pick = int.from_bytes(digest, "big")  # 256 bits: modulo bias is negligible
        if param.kind == "choice":
            values[param.name] = param.values[pick % len(param.values)]
        else:
            count = (param.maximum - param.minimum) // param.step + 1
            values[param.name] = param.minimum + param.step * (pick % count)
    return values


def placeholders(text: str) -> Iterator[tuple[int, str]]:
    """(offset, name) of every `{name}` in the text, for the schema's check."""
    for found in _PLACEHOLDER.finditer(text):
        if found.group(1):
            yield found.start(), found.group(1)


def substitute(text: str, values: dict[str, int]) -> str:
    def replace(found: re.Match[str]) -> str:
        token, name = found.group(0), found.group(1)
        if name is None:
            return token[0]
        return str(values[name]) if name in values else token

    return _PLACEHOLDER.sub(replace, text)


def params_memory(params: tuple[Param, ...], values: dict[str, int]) -> bytes:
    """32-bit little-endian words in declaration order, for PARAMS_ADDRESS."""
    missing = [p.name for p in params if p.name not in values]
    if missing:
        raise ValueError(f"no value for parameter(s) {', '.join(missing)}")
    return b"".join(struct.pack("<I", values[p.name] & 0xFFFF_FFFF) for p in params)


def preload(params: tuple[Param, ...], values: dict[str, int]) -> tuple[tuple[int, bytes], ...]:
    """Ready for vizvm.session.runner.Settings(preload=...)."""
    if not params:
        return ()
    return ((PARAMS_ADDRESS, params_memory(params, values)),)
