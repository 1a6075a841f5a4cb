"""Which program a name stands for, and which port it names for paravirt."""

from __future__ import annotations

from pathlib import Path

from vizvm import guests
from vizvm.session import program


def test_a_builtin_names_its_port() -> None:
    port = program.paravirt_port("kernel")
    assert port is not None and port.name == "kernel_pv"
    assert port.image == guests.image("kernel_pv")
    assert program.paravirt_port("holes") is None


def test_a_file_names_the_port_beside_it(tmp_path: Path) -> None:
    original = tmp_path / "os.bin"
    original.write_bytes(b"\xf4")
    assert program.paravirt_port(str(original)) is None
    (tmp_path / "os_pv.bin").write_bytes(b"\x90\xf4")
    port = program.paravirt_port(str(original))
    assert port is not None and port.image == b"\x90\xf4"


def test_an_explicit_port_wins(tmp_path: Path) -> None:
    other = tmp_path / "mine.bin"
    other.write_bytes(b"\xcc")
    port = program.paravirt_port("kernel", str(other))
    assert port is not None and port.image == b"\xcc"
