"""`new_lesson`: a new pack, or a new lesson in a pack, that works as it stands.

The generated lesson is a small, real example of each part of the format (a
read step, a run step with a guest and a per-student parameter, and trap,
computed-number and choice checks), so that an author starts from something
that loads and runs and changes it, rather than from a blank page.
"""

from __future__ import annotations

from pathlib import Path

from vizvm import __version__, guests
from vizvm.asm.assembler import assemble
from vizvm.asm.lexicon import AsmError
from vizvm.lessons import probes_file
from vizvm.lessons import scaffold_text as text
from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.model import Where
from vizvm.lessons.schema_fields import NAME, NAME_RULE
from vizvm.lessons.toml_lines import parse
from vizvm.lessons.trap_probe import probe_kernel

FIRST_LESSON = "first-lesson"
PROGRAM = "stars"


def _refuse(where: Path | str, message: str) -> PackError:
    return PackError([Problem(Where(str(where)), message)])


def new_lesson(name: str, where: Path) -> list[Path]:
    """The files written. In a pack folder, adds lesson `name`; elsewhere, a pack `name`."""
    if not NAME.fullmatch(name):
        raise _refuse(name, f"{name!r} is not {NAME_RULE}")
    where = Path(where)
    try:
        return _new(name, where)
    except OSError as exc:
        at = exc.filename if isinstance(exc.filename, str) else str(where)
        raise _refuse(at, f"cannot be written: {exc.strerror or exc}") from None


def _new(name: str, where: Path) -> list[Path]:
    if (where / "pack.toml").is_file():
        return _add_lesson(where, name)
    root = where / name
    if root.exists():
        raise _refuse(root, "already exists: choose another name or remove it")
    pack_toml = root / "pack.toml"
    written = _write_lesson(root / FIRST_LESSON, FIRST_LESSON)
    pack_toml.write_text(text.PACK_TOML.format(pack=f'"{name}"', title=f'"{_title(name)}"',
                                               app=__version__, lessons=f'["{FIRST_LESSON}"]'),
                         encoding="utf-8")
    return [pack_toml, *written]


def _title(name: str) -> str:
    return name.replace("-", " ").replace("_", " ").capitalize()


def _add_lesson(pack: Path, name: str) -> list[Path]:
    """Append `name` to pack.toml's `lessons`, keeping the rest of its text as it is."""
    pack_toml = pack / "pack.toml"
    source = pack_toml.read_text(encoding="utf-8")
    doc, lines = parse(str(pack_toml), source)
    lessons = doc.get("lessons")
    span = lines.spans.get(("lessons",))
    if not isinstance(lessons, list) or span is None or source[span[1] - 1] != "]":
        raise _refuse(pack_toml, "has no lessons = [...] list to add the lesson to")
    if name in lessons or (pack / name).exists():
        raise _refuse(pack / name, "already exists in this pack: choose another name")
    last = lines.spans.get(("lessons", len(lessons) - 1)) if lessons else None
    if last is None:  # an empty list: right after its '['
        edited = source[: span[0] + 1] + f'"{name}"' + source[span[0] + 1:]
    else:
        edited = _append(source, last[1], span[1] - 1, name, "\n" in source[span[0]:span[1]])
    written = _write_lesson(pack / name, name)
    pack_toml.write_text(edited, encoding="utf-8")
    return [pack_toml, *written]


def _append(source: str, end: int, close: int, name: str, multiline: bool) -> str:
    """`source` with `name` after the item ending at `end` of the list closed at `close`,
    in the list's style (one line, or one item per line)."""
    rest = source[end:]
    trailing = rest.lstrip(" \t\r\n").startswith(",")
    if not multiline:
        if trailing:
            comma = source.index(",", end)
            return source[: comma + 1] + f' "{name}",' + source[comma + 1:]
        return source[:end] + f', "{name}"' + source[end:]
    if not trailing:
        source, close = source[:end] + "," + rest, close + 1
    comma = source.index(",", end)
    line_start = source.rfind("\n", 0, end) + 1
    indent = source[line_start:end][: len(source[line_start:end])
                                    - len(source[line_start:end].lstrip())]
    line_end = source.find("\n", comma)
    line_end = close if line_end < 0 else min(line_end, close)
    item = f'"{name}",' if trailing else f'"{name}"'
    return source[:line_end] + "\n" + indent + item + source[line_end:]


def _write_lesson(folder: Path, lesson: str) -> list[Path]:
    folder.mkdir(parents=True)
    source = text.STARS_ASM.format(program=PROGRAM)
    try:
        image = assemble(source, filename=f"{PROGRAM}.asm")
        words = text.STARS
    except AsmError:  # no assembler back end here: a built-in guest, already built
        source, image, words = guests.source("hello"), guests.image("hello"), text.HELLO
    files = {
        "lesson.toml": text.LESSON_TOML.format(lesson=lesson, title=_title(lesson),
                                               program=PROGRAM, **words),
        "intro.md": text.INTRO_MD.format(title=_title(lesson), **words),
        f"{PROGRAM}.asm": source,
    }
    written = []
    for file, content in files.items():
        (folder / file).write_text(content, encoding="utf-8")
        written.append(folder / file)
    (folder / f"{PROGRAM}.bin").write_bytes(image)
    written.append(folder / f"{PROGRAM}.bin")
    try:  # the trap check's kernel, as `lesson check --build` would write it
        probe = probe_kernel("cli", "trap-emulate")
    except AsmError:
        return written  # `lesson check` will say how to build it
    (folder / probes_file.FILE).write_text(
        probes_file.render({probes_file.key("cli", "trap-emulate"): probe}), encoding="utf-8")
    written.append(folder / probes_file.FILE)
    return written
