"""docs/hardware-assist.md against vmx.py, so that the doc cannot drift from the code.

The doc's exit-reason table, its `--vmx` examples and its table of control defaults
are read back and checked against what the code defines, parses and emits. The SDM's
own numbers are checked here too, written out literally, so that a typo in vmx.py
cannot hide behind a test that reads its expectations from vmx.py.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from vizvm.monitors import vmx

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "hardware-assist.md"
MONITORS = ROOT / "vizvm" / "monitors"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(heading: str) -> str:
    """The text under a `## heading`, up to the next `## `."""
    text = _doc()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _rows(text: str) -> list[list[str]]:
    """Every Markdown table row in `text`, as stripped cells (separator rows dropped)."""
    rows = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("|") or re.fullmatch(r"[|\s:-]+", line):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _documented_reasons() -> dict[int, str]:
    """number -> name from the table of "Exit reasons vizvm produces"."""
    out: dict[int, str] = {}
    for cells in _rows(_section("Exit reasons vizvm produces")):
        if cells[0].isdigit():
            number = int(cells[0])
            assert number not in out, f"exit reason {number} is listed twice"
            out[number] = cells[1]
    return out


def _emitted_reasons() -> set[int]:
    """Exit reasons the monitors can log: every `vmx.NAME` (or name imported from vmx)
    that is an exit-reason number, found in the monitors' source."""
    found: set[int] = set()
    for path in MONITORS.glob("*.py"):
        if path.name == "vmx.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "vmx":
                names = [node.attr]
            elif isinstance(node, ast.ImportFrom) and node.module == "vizvm.monitors.vmx":
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                value = getattr(vmx, name, None)
                if name.isupper() and isinstance(value, int) and value in vmx.EXIT_REASONS:
                    found.add(value)
    return found


# ------------------------------------------------------------------ exit reasons


def test_the_documented_exit_reasons_are_the_codes_numbers_and_names() -> None:
    documented = _documented_reasons()
    assert documented, "no exit-reason table found"
    for number, name in documented.items():
        assert vmx.EXIT_REASONS.get(number) == name, f"reason {number}: doc says {name!r}"


def test_the_doc_lists_exactly_the_reasons_the_monitors_can_emit() -> None:
    emitted = _emitted_reasons()
    assert {vmx.HLT, vmx.IO_INSTRUCTION, vmx.CR_ACCESS} <= emitted  # the scan found them
    assert set(_documented_reasons()) == emitted


# Intel SDM vol. 3C, appendix C, table C-1, "Basic Exit Reasons". Literal on purpose.
SDM_CONSTANTS = {
    "EXCEPTION_OR_NMI": 0, "EXTERNAL_INTERRUPT": 1, "TRIPLE_FAULT": 2,
    "INTERRUPT_WINDOW": 7, "CPUID": 10, "HLT": 12, "INVD": 13, "INVLPG": 14,
    "RDPMC": 15, "RDTSC": 16, "CR_ACCESS": 28, "MOV_DR": 29, "IO_INSTRUCTION": 30,
    "RDMSR": 31, "WRMSR": 32, "GDTR_IDTR_ACCESS": 46, "LDTR_TR_ACCESS": 47, "WBINVD": 54,
}
SDM_NAMES = {
    2: "Triple fault", 9: "Task switch", 13: "INVD", 15: "RDPMC", 16: "RDTSC",
    18: "VMCALL", 29: "MOV DR", 46: "Access to GDTR or IDTR", 47: "Access to LDTR or TR",
    49: "EPT misconfiguration", 52: "VMX-preemption timer expired", 54: "WBINVD or WBNOINVD",
}


@pytest.mark.parametrize(("name", "number"), SDM_CONSTANTS.items())
def test_exit_reason_constants_are_the_sdms_numbers(name: str, number: int) -> None:
    assert getattr(vmx, name) == number


@pytest.mark.parametrize(("number", "name"), SDM_NAMES.items())
def test_exit_reason_names_are_the_sdms(number: int, name: str) -> None:
    assert vmx.EXIT_REASONS[number] == name


def test_qualification_layouts_are_the_sdms() -> None:
    # "Exit Qualification for Control-Register Accesses": CR in 3:0, type in 5:4, GPR in 11:8
    assert vmx.cr_qualification(3, 0, "ecx") == 0x103
    assert vmx.cr_qualification(3, 1, "edi") == 0x713
    # "... for I/O Instructions": size-1 in 2:0, IN 3, string 4, REP 5, immediate 6, port 31:16
    assert vmx.io_qualification(0x3F8, 1, False) == 0x03F8_0000
    assert vmx.io_qualification(0x60, 4, True, immediate=True) == 0x0060_004B
    assert vmx.io_qualification(0x3F8, 1, False, string=True, rep=True) == 0x03F8_0030


# ------------------------------------------------------------------ --vmx examples


def _vmx_examples() -> list[str]:
    """Every `--vmx SPEC` the doc spells, in backticks or in code blocks."""
    return [m.group(1).strip("'\"")
            for m in re.finditer(r"--vmx[ =]([^\s`|]+)", _doc())]


def test_the_doc_has_vmx_examples() -> None:
    assert len(_vmx_examples()) >= 5


@pytest.mark.parametrize("spec", sorted(set(_vmx_examples())))
def test_every_vmx_example_in_the_doc_parses(spec: str) -> None:
    assert isinstance(vmx.parse_controls(spec), vmx.Controls)


# ------------------------------------------------------------------ control defaults


def _documented_defaults() -> dict[str, dict[str, object]]:
    """preset -> control field -> value, from the table whose columns are the presets."""
    rows = _rows(_section("The VM-execution controls"))
    header = next(cells for cells in rows if set(vmx.PRESETS) <= set(cells))
    columns = {preset: header.index(preset) for preset in vmx.PRESETS}
    out: dict[str, dict[str, object]] = {preset: {} for preset in vmx.PRESETS}
    for cells in rows[rows.index(header) + 1:]:
        control = re.fullmatch(r"`([a-z0-9-]+)`", cells[0])
        if control is None:
            continue
        key = control.group(1).replace("-", "_")
        for preset, column in columns.items():
            out[preset][key] = _value(key, cells[column].strip("`"))
    return out


def _value(key: str, text: str) -> object:
    """A table cell as a control's value: on/off, none, or a list in --vmx syntax."""
    if text in ("on", "off"):
        return text == "on"
    if text == "none":
        return frozenset()
    spelled = key.replace("_", "-")
    return getattr(vmx.parse_controls(f"modern,{spelled}={text}"), key)


def test_every_control_is_in_the_defaults_table() -> None:
    every = {f.name for f in dataclasses.fields(vmx.Controls)}
    for preset, values in _documented_defaults().items():
        assert set(values) == every, preset


@pytest.mark.parametrize("preset", sorted(vmx.PRESETS))
def test_documented_defaults_are_the_presets(preset: str) -> None:
    documented = _documented_defaults()[preset]
    actual = vmx.PRESETS[preset]
    for key, value in documented.items():
        assert getattr(actual, key) == value, f"{preset}: {key}"
