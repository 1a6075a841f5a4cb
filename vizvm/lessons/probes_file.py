"""probes.toml: each trap check's probe kernel, assembled once by the author.

A trap check's answer comes from running the instruction in a tiny kernel
(vizvm.lessons.trap_probe). Building that kernel needs an assembler, which a
student's laptop may lack (keystone has no wheel for Apple silicon), so
`vizvm lesson check --build` stores the built kernels beside lesson.toml, as
programs keep their built images; `vizvm lesson check` rebuilds and compares
them wherever an assembler exists.
"""

from __future__ import annotations

from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.model import Where
from vizvm.lessons.toml_lines import parse

FILE = "probes.toml"
GUESTS = ("kernel", "paravirt")
MAX_IMAGE = 4096
HEADER = """\
# Built by `vizvm lesson check --build`: every trap check's probe kernel, assembled,
# so that a student's machine needs no assembler to judge it. Do not edit by hand:
# `vizvm lesson check` compares it with a fresh build wherever an assembler exists.
"""


def key(instruction: str, technique: str) -> str:
    return f"{'paravirt' if technique == 'paravirt' else 'kernel'}:{instruction}"


def read(files: dict[str, bytes], folder: str) -> tuple[dict[str, bytes], list[Problem]]:
    """The probes of one lesson folder (none when the file is absent)."""
    file = f"{folder}/{FILE}"
    if file not in files:
        return {}, []
    try:
        doc, lines = parse(file, files[file])
    except PackError as exc:
        return {}, exc.problems
    probes: dict[str, bytes] = {}
    problems: list[Problem] = []
    entries = doc.get("probes", [])
    unknown = sorted(set(doc) - {"probes"})
    if unknown or not isinstance(entries, list):
        problems.append(Problem(Where(file, 1), "only [[probes]] tables belong here"))
        return {}, problems
    for i, entry in enumerate(entries):
        where = Where(file, lines.line_of(("probes", i)))
        try:
            instruction, guest, image = _entry(entry)
        except ValueError as exc:
            problems.append(Problem(where, f"probes[{i}]: {exc}"))
            continue
        probes[f"{guest}:{instruction}"] = image
    return probes, problems


def _entry(entry: object) -> tuple[str, str, bytes]:
    if not isinstance(entry, dict) or set(entry) != {"instruction", "guest", "image"}:
        raise ValueError("needs exactly instruction, guest and image")
    instruction, guest, text = entry["instruction"], entry["guest"], entry["image"]
    if not isinstance(instruction, str) or guest not in GUESTS or not isinstance(text, str):
        raise ValueError(f"instruction is text, guest one of {', '.join(GUESTS)}, image hex")
    try:
        image = bytes.fromhex(text)
    except ValueError:
        raise ValueError("image is not hexadecimal") from None
    if not 0 < len(image) <= MAX_IMAGE:
        raise ValueError(f"image must be 1 to {MAX_IMAGE} bytes")
    return instruction, guest, image


def render(probes: dict[str, bytes]) -> str:
    out = [HEADER]
    for name in sorted(probes):
        guest, instruction = name.split(":", 1)
        quoted = instruction.replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'\n[[probes]]\ninstruction = "{quoted}"\nguest = "{guest}"\n'
                   f'image = "{probes[name].hex()}"\n')
    return "".join(out)
