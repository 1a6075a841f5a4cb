"""The packaging recipes: files they name exist, the wheel check builds the right pip
commands (offline; the real check needs the package index: packaging/check_wheels.py),
one version everywhere, the built-in lessons inside the wheel."""

from __future__ import annotations

import configparser
import importlib.metadata
import importlib.util
import re
import struct
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import vizvm

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check_wheels = load("check_wheels")
render_icons = load("render_icons")


def test_the_spec_names_only_files_that_exist() -> None:
    spec = (PACKAGING / "vizvm.spec").read_text()
    named = re.findall(r'ROOT((?: / "[^"]+")+)', spec)
    paths = [ROOT.joinpath(*re.findall(r'"([^"]+)"', chain)) for chain in named]
    assert ROOT / "packaging" / "vizvm_app.py" in paths
    assert ROOT / "lessons" in paths and ROOT / "assets" in paths
    for path in paths:
        if path.parts[len(ROOT.parts)] == "build":  # made by render_icons.py at build time
            continue
        assert list(path.parent.glob(path.name)), path


def test_the_desktop_entry_is_complete_and_its_icon_exists() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(PACKAGING / "linux" / "vizvm.desktop")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"].split()[0] == "vizvm"
    assert (ROOT / "assets" / "icons" / f"{section['Icon']}.svg").is_file()
    assert section["Categories"].endswith(";") and "Education" in section["Categories"]


def test_the_build_scripts_are_executable() -> None:
    for script in ("build_linux.sh", "linux/install.sh", "macos/build_macos.sh"):
        assert (PACKAGING / script).stat().st_mode & 0o111, script


def test_five_platforms() -> None:
    assert [t.name for t in check_wheels.TARGETS] == [
        "linux-x86_64", "linux-aarch64", "windows-amd64", "macos-x86_64", "macos-arm64"]


@pytest.mark.parametrize("where", check_wheels.TARGETS, ids=lambda t: t.name)
@pytest.mark.parametrize("python", check_wheels.PYTHONS)
def test_the_pip_command_accepts_only_the_platforms_wheels(where, python, tmp_path) -> None:
    reqs = check_wheels.requirements(ROOT / "pyproject.toml")
    command = check_wheels.pip_command(where, python, reqs, tmp_path, executable="py")
    assert command[:4] == ["py", "-m", "pip", "download"]
    assert "--only-binary=:all:" in command
    assert command[command.index("--python-version") + 1] == python
    assert command[command.index("--implementation") + 1] == "cp"
    assert "cp" + python.replace(".", "") in command
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == list(where.tags)
    machine = "amd64" if where.platform_machine == "AMD64" else where.platform_machine
    assert all(tag.endswith(machine) for tag in platforms)
    assert command[-len(reqs):] == [check_wheels._without_marker(r) for r in reqs]


def test_keystone_is_not_a_hard_dependency() -> None:
    names = {r.name for r in check_wheels.requirements(ROOT / "pyproject.toml")}
    assert {"unicorn", "capstone", "PySide6-Essentials", "pyqtgraph", "numpy"} <= names
    assert "keystone-engine" not in names


@pytest.mark.parametrize(("platform", "wanted"), [
    ("linux-x86_64", True), ("windows-amd64", True), ("macos-x86_64", True),
    ("linux-aarch64", False), ("macos-arm64", False)])
def test_the_authoring_extra_asks_for_keystone_only_where_it_has_wheels(platform,
                                                                        wanted) -> None:
    reqs = check_wheels.requirements(ROOT / "pyproject.toml", ["authoring"])
    chosen = check_wheels.applicable(reqs, check_wheels.target(platform), "3.12")
    assert ("keystone-engine" in {r.name for r in chosen}) is wanted


def test_an_unknown_extra_or_platform_is_named() -> None:
    with pytest.raises(ValueError, match="nope"):
        check_wheels.requirements(ROOT / "pyproject.toml", ["nope"])
    with pytest.raises(ValueError, match="solaris"):
        check_wheels.target("solaris")


def test_the_test_extra_installs_the_authoring_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "vizvm[authoring]" in project["optional-dependencies"]["test"]


def test_one_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vizvm.__version__"}
    assert importlib.metadata.version("vizvm") == vizvm.__version__
    out = subprocess.run([sys.executable, "-m", "vizvm", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == f"vizvm {vizvm.__version__}"


def test_the_build_step_puts_the_built_in_lessons_in_the_package(tmp_path) -> None:
    """setup.py's build_py, the step a wheel is made from (a whole `pip wheel .` takes
    longer; packaging/README.md says how to list one)."""
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
                   cwd=ROOT, check=True, capture_output=True)
    packs = [p.parent.name for p in (ROOT / "lessons").glob("*/pack.toml")]
    assert packs
    for pack in packs:
        assert (tmp_path / "vizvm" / "_lessons" / pack / "pack.toml").is_file()
    assert (tmp_path / "vizvm" / "guests" / "kernel.bin").is_file()
    assert (tmp_path / "vizvm" / "lessons" / "builtin.py").is_file()


PNG = b"\x89PNG\r\n\x1a\n"


def test_the_ico_container_lists_each_size() -> None:
    data = render_icons.ico({16: PNG + b"a", 256: PNG + b"bb"})
    assert struct.unpack("<HHH", data[:6]) == (0, 1, 2)
    first = struct.unpack("<BBBBHHII", data[6:22])
    second = struct.unpack("<BBBBHHII", data[22:38])
    assert first[0] == 16 and second[0] == 0  # 0 stands for 256
    assert data[first[7]:first[7] + first[6]] == PNG + b"a"
    assert data[second[7]:] == PNG + b"bb"


def test_the_icns_container_length_adds_up() -> None:
    pngs = {size: PNG + bytes([size % 256]) for _, size in render_icons.ICNS_TYPES}
    data = render_icons.icns(pngs)
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    assert data[8:12] == b"icp4" and struct.unpack(">I", data[12:16])[0] == 8 + 9


def test_the_svg_renders(monkeypatch) -> None:
    pytest.importorskip("PySide6.QtSvg")
    from PySide6.QtWidgets import QApplication

    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    # a QApplication, not a QGuiApplication: the window's tests later reuse this one
    _app = QApplication.instance() or QApplication([])
    png = render_icons.render(render_icons.SVG, 32)
    assert png.startswith(PNG)
    assert struct.unpack(">II", png[16:24]) == (32, 32)
