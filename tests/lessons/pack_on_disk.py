"""A small pack written as files, for the checker's and the command line's tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

from vizvm.asm.assembler import assemble
from vizvm.lessons import probes_file
from vizvm.lessons.trap_probe import probe_kernel

PACK_TOML = """format = 1
id = "tiny"
title = "A tiny pack"
version = "1.0.0"
min_app_version = "0.1.0"
authors = ["A. Teacher"]
license = "CC-BY-4.0"
lessons = ["sums"]
"""
SOURCE = "mov eax, [0x500]\nadd eax, [0x504]\nout 0xf4, al\n"
LESSON_TOML = """id = "sums"
title = "Adding in the guest"
question = "What does the guest add?"
minutes = 5

[[programs]]
name = "sum"
source = "sum.asm"
image = "sum.bin"

[[params]]
name = "a"
kind = "int"
min = 1
max = 9

[[params]]
name = "b"
kind = "choice"
values = [10, 20]

[[steps]]
id = "intro"
kind = "read"
title = "Sums"
body = "The guest adds **{a}** and {b}."

[[steps]]
id = "add"
kind = "run"
title = "Run the sum"
body = "Run it."
program = "sum"
techniques = ["native", "trap-emulate"]
max_insns = 1000

[[steps.checks]]
id = "code"
kind = "number"
prompt = "With what code does it power off?"
compute = "exit_code"
technique = "native"
points = 2

[[steps.checks]]
id = "cli"
kind = "trap"
prompt = "Does `cli` trap under trap-emulate?"
instruction = "cli"
technique = "trap-emulate"

[[steps.checks]]
id = "ran"
kind = "events"
prompt = "Run it under trap-emulate."
event = "io"
op = ">="
value = 1
technique = "trap-emulate"
"""


def write_pack(root: Path, lesson_toml: str = LESSON_TOML, source: str = SOURCE) -> Path:
    (root / "sums").mkdir(parents=True)
    (root / "pack.toml").write_text(PACK_TOML)
    (root / "sums" / "lesson.toml").write_text(lesson_toml)
    (root / "sums" / "sum.asm").write_text(source)
    (root / "sums" / "sum.bin").write_bytes(assemble(source))
    _write_probes(root / "sums", lesson_toml)
    return root


def _write_probes(folder: Path, lesson_toml: str) -> None:
    """probes.toml as `lesson check --build` writes it, for the trap checks it names."""
    probes = {}
    for check in (c for s in tomllib.loads(lesson_toml).get("steps", [])
                  for c in s.get("checks", [])):
        if check.get("kind") == "trap" and "instruction" in check:
            technique = check.get("technique", "native")
            probes[probes_file.key(check["instruction"], technique)] = probe_kernel(
                check["instruction"], technique)
    if probes:
        (folder / probes_file.FILE).write_text(probes_file.render(probes))
