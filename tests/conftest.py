"""Shared helpers: assemble a guest, run it under a technique."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from vizvm.asm.assembler import assemble, available_backends
from vizvm.machine.machine import Machine
from vizvm.monitors import registry
from vizvm.trace.log import EventLog

sys.path.insert(0, str(Path(__file__).parent / "guests"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window's tests: no display


@pytest.fixture
def settings(tmp_path):
    """The window's settings in a file of the test's own, never the user's."""
    qt_core = pytest.importorskip("PySide6.QtCore")
    return qt_core.QSettings(str(tmp_path / "vizvm.ini"), qt_core.QSettings.Format.IniFormat)

TECHNIQUES = ["native", "trap-emulate", "hardware-assist"]


def build(source: str) -> bytes:
    if not available_backends():
        pytest.skip("no assembler back end on this machine")
    return assemble(source, filename="<test guest>")


def machine(image: bytes, technique: str = "native", kernel_ring: int = 1, **kw) -> Machine:
    options = registry.Options(kernel_ring=kernel_ring, **kw.pop("options", {}))
    m = Machine(image, log=EventLog(kw.pop("prices", {"instruction": 1})),
                cpu_model=registry.technique(technique).cpu_model, **kw)
    m.attach(registry.create(technique, options))
    return m


def run(source_or_image: str | bytes, technique: str = "native", budget: int = 2_000_000,
        kernel_ring: int = 1) -> Machine:
    image = build(source_or_image) if isinstance(source_or_image, str) else source_or_image
    m = machine(image, technique, kernel_ring)
    m.run(budget)
    m.finish()
    return m


def serial(m: Machine) -> str:
    return bytes(m.serial.output).decode()
