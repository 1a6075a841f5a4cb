"""`vizvm doctor [--json]`: what this machine gives vizvm, found by trying, and what to do.

A student's "it does not start" becomes one document to paste: Python, the
libraries, whether Qt can open a window here and with which platform plugin,
OpenGL, the assemblers, the data folder and whether it takes a file, the
built-in lessons. Every answer comes from trying the thing (starting Qt in a
child process, writing a file), never from what ought to be installed.
"""

from __future__ import annotations

import importlib
import os
import platform
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from vizvm import __version__
from vizvm.asm.assembler import MISSING_ASSEMBLER, GnuBackend, KeystoneBackend
from vizvm.cli.doctor_checks import (
    Problem,
    data_dir_report,
    debian_package,
    first_line,
    qt_probe,
)
from vizvm.lessons.builtin import builtin_pack_dirs, lessons_root

# distribution name, and the module whose __version__ answers where metadata is absent
DEPENDENCIES = (
    ("unicorn", "unicorn"), ("capstone", "capstone"), ("PySide6-Essentials", "PySide6"),
    ("shiboken6", "shiboken6"), ("pyqtgraph", "pyqtgraph"), ("numpy", "numpy"),
    ("platformdirs", "platformdirs"), ("markdown-it-py", "markdown_it"),
    ("keystone-engine", "keystone"),
)
OPTIONAL = {"keystone-engine"}


def dependency_versions() -> dict[str, str | None]:
    """Each library's version, None where it cannot be imported."""
    found: dict[str, str | None] = {}
    for dist, module in DEPENDENCIES:
        try:
            imported = importlib.import_module(module)
        except (ImportError, OSError):
            found[dist] = None
            continue
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # a frozen app may carry no metadata
            found[dist] = str(getattr(imported, "__version__", "unknown"))
    return found


def assemblers() -> dict[str, object]:
    keystone: dict[str, object] = {"installed": KeystoneBackend().available()}
    if keystone["installed"]:
        from vizvm.asm.keystone_worker import WORKER

        keystone["works"] = WORKER.healthy()  # its worker process assembles one NOP
    tools = GnuBackend().tools()
    gnu: dict[str, object] = {"found": tools is not None}
    if tools is not None:
        gnu |= {"as": tools[0], "ld": tools[1], "objcopy": tools[2],
                "version": first_line([tools[0], "--version"])}
    usable = [name for name, ok in (("keystone", keystone.get("works")),
                                    ("gnu-as", gnu["found"])) if ok]
    return {"keystone": keystone, "gnu_as": gnu, "usable": usable}


def lessons_report() -> dict[str, object]:
    packs = []
    for folder in builtin_pack_dirs():
        try:
            pack = tomllib.loads((folder / "pack.toml").read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            packs.append({"path": str(folder), "error": str(exc)})
            continue
        listed = [str(n) for n in pack.get("lessons", [])]
        packs.append({"path": str(folder), "id": pack.get("id"), "lessons": len(listed),
                      "present": sum((folder / n).is_dir() for n in listed)})
    return {"root": str(lessons_root()), "packs": packs}


def collect(timeout: float = 30) -> dict[str, object]:
    """The whole report, with `ok` and the problems found, each with what to do."""
    versions = dependency_versions()
    qt = qt_probe(timeout)
    asm = assemblers()
    data = data_dir_report()
    lessons = lessons_report()
    problems: list[Problem] = []
    notes: list[Problem] = []
    for dist, version in versions.items():
        if version is None and dist not in OPTIONAL:
            problems.append(Problem(f"{dist} cannot be imported",
                                    "reinstall vizvm: python -m pip install --force-reinstall "
                                    "vizvm"))
    if not qt["window"]:
        problems.append(Problem(f"the window cannot open here: {qt['error']}", _qt_fix(qt)))
    opengl = qt.get("opengl") or (qt.get("offscreen") or {}).get("opengl") or {}
    if isinstance(opengl, dict) and not opengl.get("available"):
        notes.append(Problem("OpenGL is not available", "nothing: the window draws without it"))
    if not asm["usable"]:
        notes.append(Problem("no assembler", MISSING_ASSEMBLER))
    if not data["writable"]:
        problems.append(Problem(f"the data folder {data['path']} is not writable "
                                f"({data.get('error', 'no reason given')}): progress cannot "
                                "be saved",
                                "set VIZVM_DATA_DIR to a folder you can write to"))
    packs = lessons["packs"]
    if not packs:
        problems.append(Problem(f"no built-in lesson pack under {lessons['root']}",
                                "reinstall vizvm"))
    return {
        "ok": not problems,
        "problems": [p.as_dict() for p in problems],
        "notes": [n.as_dict() for n in notes],
        "vizvm": {"version": __version__, "location": str(Path(__file__).resolve().parents[1]),
                  "frozen": bool(getattr(sys, "frozen", False))},
        "python": {"version": platform.python_version(), "executable": sys.executable,
                   "implementation": platform.python_implementation()},
        "system": {"platform": platform.platform(), "machine": platform.machine()},
        "dependencies": versions,
        "qt": qt,
        "assemblers": asm,
        "data_dir": data,
        "lessons": lessons,
    }


def _qt_fix(qt: dict) -> str:
    error = str(qt["error"])
    fixes = []
    if error.startswith("no display"):
        fixes.append("run vizvm in a desktop session (or with ssh -X)")
    libraries = [m.group(1) for m in re.finditer(r"(\S+\.so\S*) is missing", error)]
    if libraries:
        fixes.append("install " + ", ".join(libraries) + " (Debian/Ubuntu packages: "
                     + " ".join(debian_package(lib) for lib in libraries) + ")")
    if not fixes:
        fixes.append("reinstall PySide6-Essentials, and run with QT_DEBUG_PLUGINS=1 to see why "
                     "the platform plugin fails")
    if qt.get("headless"):
        fixes.append("the commands without a window work here (offscreen Qt starts: "
                     "QT_QPA_PLATFORM=offscreen)")
    return "; ".join(fixes)


def render(doc: dict) -> str:
    qt, asm, data = doc["qt"], doc["assemblers"], doc["data_dir"]
    gl = qt.get("opengl") or (qt.get("offscreen") or {}).get("opengl") or {}
    lines = [
        f"vizvm {doc['vizvm']['version']}" + (" (frozen app)" if doc["vizvm"]["frozen"] else "")
        + f" at {doc['vizvm']['location']}",
        f"Python {doc['python']['version']} ({doc['python']['executable']}) on "
        f"{doc['system']['platform']}",
        "libraries: " + ", ".join(f"{k} {v or 'MISSING'}" for k, v in doc["dependencies"].items()
                                  if v or k not in OPTIONAL),
        f"Qt platform: {qt.get('platform') or 'none'} (asked for: "
        f"{qt['requested'] or 'Qt default'}); window: "
        + ("can open" if qt["window"] else f"cannot open: {qt['error']}"),
        "OpenGL: " + (f"{gl.get('renderer')} ({gl.get('version')}, {gl.get('vendor')})"
                      if gl.get("available") else f"not available ({gl.get('reason', 'untried')})"),
        "assemblers: " + (", ".join(asm["usable"]) or "none")
        + (f"; GNU as: {asm['gnu_as']['as']}, {asm['gnu_as']['version']}"
           if asm["gnu_as"]["found"] else "; GNU as: not found")
        + ("; keystone: " + ("works" if asm["keystone"].get("works") else "installed, broken")
           if asm["keystone"]["installed"] else "; keystone: not installed"),
        f"data folder: {data['path']} ("
        + ("exists" if data["exists"] else "not created yet") + ", "
        + ("writable" if data["writable"] else f"NOT writable: {data.get('error')}") + ")",
        f"built-in lessons: {doc['lessons']['root']}: "
        + (", ".join(f"{p.get('id')} ({p.get('present')} of {p.get('lessons')} lessons)" for p in
                     doc["lessons"]["packs"]) or "none"),
    ]
    for kind, title in (("problems", "problem"), ("notes", "note")):
        lines += [f"{title}: {p['what']}\n  what to do: {p['fix']}" for p in doc[kind]]
    lines.append("verdict: " + ("ready" if doc["ok"] else
                                f"{len(doc['problems'])} problem(s), see above"))
    return "\n".join(lines)


def qt_probe_main() -> int:
    """The child process of qt_probe: one JSON line on stdout."""
    import json

    from vizvm.ui.diagnostics import qt_report

    print(json.dumps(qt_report()))
    sys.stdout.flush()
    os._exit(0)  # skip Qt's teardown: the answer is given
