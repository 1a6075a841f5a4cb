"""Small lesson packs written into a test's tmp_path, for the loader's tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

from vizvm import guests

PACK_TOML = """\
format = 1
id = "test-pack"
title = "A test pack"
version = "1.0.0"
min_app_version = "0.1.0"
authors = ["A. Teacher"]
license = "CC-BY-4.0"
lessons = ["rings"]
"""

LESSON_TOML = """\
id = "rings"
title = "Rings"
question = "Why rings?"
minutes = 5

[[programs]]
name = "driver"
source = "driver.asm"
image = "driver.bin"

[[params]]
name = "calls"
kind = "int"
min = 3
max = 9

[[steps]]
id = "intro"
kind = "read"
title = "Intro"
text = "intro.md"

[[steps]]
id = "count"
kind = "run"
title = "Run the driver"
body = "Run it {calls} times."
program = "driver"
techniques = ["native", "trap-emulate"]

[[steps.checks]]
id = "io"
kind = "number"
prompt = "How many port writes?"
compute = "events.io"
technique = "native"

[[steps.checks]]
id = "cli"
kind = "trap"
prompt = "Does cli trap?"
instruction = "cli"
technique = "trap-emulate"

[[steps.checks]]
id = "why"
kind = "choice"
prompt = "Why?"
choices = [ { text = "a", correct = true }, { text = "b", feedback = "no" } ]
"""

INTRO_MD = "# Rings\n\nThe driver runs {calls} times.\n"


def files(changes: dict[str, str | bytes | None] | None = None) -> dict[str, str | bytes]:
    """A valid pack as {path: content}; a change to None removes the file."""
    out: dict[str, str | bytes] = {
        "pack.toml": PACK_TOML,
        "rings/lesson.toml": LESSON_TOML,
        "rings/intro.md": INTRO_MD,
        "rings/driver.asm": guests.source("hello"),
        "rings/driver.bin": guests.image("hello"),
    }
    for path, value in (changes or {}).items():
        if value is None:
            out.pop(path, None)
        else:
            out[path] = value
    return out


def write_folder(root: Path, content: dict[str, str | bytes]) -> Path:
    for path, data in content.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            target.write_bytes(data)
        else:
            target.write_text(data, encoding="utf-8")
    return root


def pack_folder(tmp_path: Path, changes: dict[str, str | bytes | None] | None = None) -> Path:
    return write_folder(tmp_path / "pack", files(changes))


def lesson_with(tmp_path: Path, old: str, new: str) -> Path:
    """The valid pack with one piece of lesson.toml's text replaced."""
    assert old in LESSON_TOML, old
    return pack_folder(tmp_path, {"rings/lesson.toml": LESSON_TOML.replace(old, new, 1)})


def write_zip(path: Path, entries: dict[str, str | bytes], *, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(prefix + name, data)
    return path


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line holding `needle`."""
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)
