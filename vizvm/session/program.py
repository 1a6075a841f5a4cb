"""Turning what the user names (a file, or a built-in guest) into an image."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vizvm import guests
from vizvm.asm.assembler import assemble

SOURCE_SUFFIXES = (".asm", ".s", ".S")


class ProgramError(ValueError):
    """The program cannot be read or built; the message says what and where."""


@dataclass(frozen=True)
class Program:
    name: str
    image: bytes
    source: str | None = None  # assembly text, when built from source

    @property
    def builtin(self) -> bool:
        return self.name in guests.BUILTIN


def load(path_or_name: str) -> Program:
    """A file (assembly source or flat binary), or the name of a built-in guest.

    AsmError (with file:line) passes through; everything else is ProgramError.
    """
    path = Path(path_or_name)
    if not path.exists():
        if path_or_name in guests.BUILTIN:
            return Program(path_or_name, guests.image(path_or_name), guests.source(path_or_name))
        names = ", ".join(guests.BUILTIN)
        raise ProgramError(f"{path_or_name}: no such file (built-in guests: {names})")
    if path.is_dir():
        raise ProgramError(f"{path}: is a directory, not a program")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProgramError(f"{path}: cannot be read ({exc.strerror})") from exc
    if path.suffix in SOURCE_SUFFIXES:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProgramError(f"{path}: is not UTF-8 text (byte {exc.start})") from exc
        return Program(path.name, assemble(text, filename=str(path)), text)
    if not data:
        raise ProgramError(f"{path}: the file is empty: there is no code to run")
    return Program(path.name, data)


def paravirt_port(path_or_name: str, explicit: str | None = None) -> Program | None:
    """The program's paravirtual port, if it names one.

    A built-in names its port in guests.PARAVIRT_PORTS; a file `NAME.asm` (or
    `.bin`) names `NAME_pv.asm` (or `.bin`) beside it; `explicit` overrides both.
    """
    if explicit is not None:
        return load(explicit)
    if path_or_name in guests.PARAVIRT_PORTS and not Path(path_or_name).exists():
        return load(guests.PARAVIRT_PORTS[path_or_name])
    path = Path(path_or_name)
    sibling = path.with_name(f"{path.stem}_pv{path.suffix}")
    return load(str(sibling)) if path.is_file() and sibling.is_file() else None
