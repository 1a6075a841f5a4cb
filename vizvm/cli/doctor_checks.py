"""The checks of `vizvm doctor` that try something outside Python: Qt, files, tools."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from vizvm.lessons.data_dir import data_dir


@dataclass(frozen=True)
class Problem:
    what: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return {"what": self.what, "fix": self.fix}


def self_command() -> list[str]:
    """How to start vizvm again: the frozen app is its own interpreter."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "vizvm"]


def first_line(command: list[str]) -> str | None:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return next(iter(out.stdout.splitlines()), None)


def data_dir_report() -> dict[str, object]:
    """The data folder, and whether a file can really be made in it.

    A folder not made yet is judged by its nearest existing parent, where vizvm
    would create it; nothing is left behind either way.
    """
    path = data_dir()
    report: dict[str, object] = {"path": str(path), "exists": path.is_dir(),
                                 "from": "VIZVM_DATA_DIR" if os.environ.get("VIZVM_DATA_DIR")
                                 else "platform default"}
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return report | {"writable": False, "error": f"{probe} is a file, not a folder"}
    try:
        with tempfile.NamedTemporaryFile(dir=probe, prefix=".vizvm-doctor-"):
            pass
    except OSError as exc:
        return report | {"writable": False,
                         "error": f"cannot create a file in {probe}: {exc.strerror or exc}"}
    return report | {"writable": True}


def qt_probe(timeout: float) -> dict[str, object]:
    """Start Qt in a child process, as the window would; then, if that fails, offscreen.

    A child, because a Qt that cannot reach a display aborts its process, and one
    that hangs must not hang doctor.
    """
    requested = os.environ.get("QT_QPA_PLATFORM")
    display = {k: os.environ[k] for k in ("DISPLAY", "WAYLAND_DISPLAY") if k in os.environ}
    report: dict[str, object] = {"requested": requested, "display": display}
    found, error = _child(os.environ.copy(), timeout)
    if found is not None:
        return report | found | {"window": True, "error": None}
    if sys.platform.startswith("linux") and not display and requested in (None, "xcb",
                                                                          "wayland"):
        error = f"no display (DISPLAY and WAYLAND_DISPLAY are unset); {error}"
    report |= {"window": False, "error": error, "platform": None, "opengl": None}
    if requested != "offscreen":
        headless, _ = _child(os.environ | {"QT_QPA_PLATFORM": "offscreen"}, timeout)
        report["headless"] = headless is not None
        report["offscreen"] = headless  # what Qt offers without a display
    return report


def _child(env: dict[str, str], timeout: float) -> tuple[dict | None, str]:
    with tempfile.TemporaryDirectory(prefix="vizvm-doctor-") as home:
        # nothing of the user's is touched; the plugin loader says which library is missing
        env = env | {"XDG_CONFIG_HOME": home, "QT_DEBUG_PLUGINS": "1"}
        try:
            out = subprocess.run([*self_command(), "doctor", "--qt-probe"], env=env,
                                 capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None, f"Qt did not start within {timeout:.0f} s"
        except OSError as exc:
            return None, f"cannot start {sys.executable}: {exc}"
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line), ""
            except json.JSONDecodeError:
                break
    return None, _why(out.stderr, out.returncode)


MISSING_LIBRARY = re.compile(r"plugins/platforms/libq?(\w+)\.\S+: ([\w.+-]+\.so[\w.]*): "
                             r"cannot open shared object file")


def _why(stderr: str, status: int) -> str:
    """Qt's own words: which platform plugin, and why it could not load."""
    said = [s for s in stderr.splitlines() if s.strip()]
    missing = dict.fromkeys(MISSING_LIBRARY.findall(stderr))
    useful = [f"Qt's {plugin} platform plugin cannot load: {library} is missing"
              for plugin, library in missing]
    useful += [s for s in said if s.startswith("qt.qpa") and "xcb-cursor0" not in s][:2]
    if not useful:
        useful = said[-2:]
    ended = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
    return "; ".join([*useful, ended])


def debian_package(library: str) -> str:
    """The usual Debian/Ubuntu package of a shared library: libxcb-icccm.so.4 -> libxcb-icccm4."""
    name, _, version = library.partition(".so")
    version = version.strip(".")
    joiner = "-" if name[-1:].isdigit() else ""
    return (name + (joiner + version if version else "")).lower()
