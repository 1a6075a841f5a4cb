"""The project's own rules, checked on every run: lint, layering, no Qt below the window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "vizvm", "tests", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts_are_kept() -> None:
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == 0


def test_engine_imports_without_qt() -> None:
    """Every layer below the window must import with Qt made unimportable."""
    code = (
        "import sys, pkgutil, importlib\n"
        "for name in ('PySide6', 'shiboken6', 'pyqtgraph'):\n"
        "    sys.modules[name] = None\n"
        "import vizvm\n"
        "for mod in pkgutil.walk_packages(vizvm.__path__, 'vizvm.'):\n"
        "    if not mod.name.startswith('vizvm.ui') and not mod.name.endswith('__main__'):\n"
        "        importlib.import_module(mod.name)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


TEST_COMMAND = 'python -m pip install -e ".[test]" && python -m pytest'
START_COMMAND = "python -m pip install -e . && python -m vizvm"


@pytest.mark.parametrize("command", [START_COMMAND, TEST_COMMAND])
def test_readme_opens_with_the_two_commands(command: str) -> None:
    top = (ROOT / "README.md").read_text().splitlines()[:15]
    assert command in top


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == TEST_COMMAND
