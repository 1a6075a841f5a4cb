"""Check that every hard dependency installs from wheels on the five desktop platforms.

A class brings Windows laptops, Intel and Apple-silicon MacBooks and Linux lab
machines, none with a compiler: `pip install vizvm` must never build from a
source archive. For each platform and Python version this asks pip itself to
fetch the dependencies of pyproject.toml with `--only-binary=:all:` and the
platform's wheel tags, so the answer is the package index's real files, not a
table. Needs the network (the package index); prints one line per platform and
Python, names every requirement without a wheel, and exits 1 on any.

    python packaging/check_wheels.py [--python 3.12] [--target linux-aarch64] [--extra authoring]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.11", "3.12", "3.13")


def _manylinux(arch: str, newest_glibc: int) -> tuple[str, ...]:
    """Every manylinux tag a machine with glibc 2.`newest_glibc` accepts, oldest first."""
    return ("manylinux2014_" + arch,
            *(f"manylinux_2_{minor}_{arch}" for minor in range(17, newest_glibc + 1)))


def _macos(arch: str, oldest: tuple[int, int], newest: int) -> tuple[str, ...]:
    versions = [(10, minor) for minor in range(oldest[1], 16)] if oldest[0] == 10 else []
    versions += [(major, 0) for major in range(max(11, oldest[0]), newest + 1)]
    return tuple(f"macosx_{major}_{minor}_{arch}" for major, minor in versions)


@dataclass(frozen=True)
class Target:
    """A desktop platform: its wheel tags and the values its environment markers see."""

    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    tags: tuple[str, ...]
    note: str

    def markers(self, python: str) -> dict[str, str]:
        return {
            "python_version": python, "python_full_version": python + ".0",
            "implementation_name": "cpython", "platform_python_implementation": "CPython",
            "sys_platform": self.sys_platform, "platform_system": self.platform_system,
            "platform_machine": self.platform_machine, "os_name": self.os_name,
            "platform_release": "", "platform_version": "", "implementation_version":
            python + ".0", "extra": "",
        }


# The oldest systems a class is likely to bring, and still supported by their vendors:
# Ubuntu 22.04 (glibc 2.35) on Linux, macOS 13 on Intel, macOS 14 on Apple silicon.
TARGETS = (
    Target("linux-x86_64", "linux", "Linux", "x86_64", "posix", _manylinux("x86_64", 35),
           "manylinux, glibc 2.35 (Ubuntu 22.04) or newer"),
    Target("linux-aarch64", "linux", "Linux", "aarch64", "posix", _manylinux("aarch64", 35),
           "manylinux, glibc 2.35 (Ubuntu 22.04) or newer"),
    Target("windows-amd64", "win32", "Windows", "AMD64", "nt", ("win_amd64",),
           "64-bit Windows 10 or 11"),
    Target("macos-x86_64", "darwin", "Darwin", "x86_64", "posix", _macos("x86_64", (10, 9), 13),
           "Intel Macs, macOS 13 or newer"),
    Target("macos-arm64", "darwin", "Darwin", "arm64", "posix", _macos("arm64", (11, 0), 14),
           "Apple silicon, macOS 14 or newer"),
)


def target(name: str) -> Target:
    for candidate in TARGETS:
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown platform {name!r}: one of {', '.join(t.name for t in TARGETS)}")


def requirements(pyproject: Path, extras: Sequence[str] = ()) -> list[Requirement]:
    """The project's dependencies, and those of the named extras."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise ValueError(f"{pyproject}: no optional dependency group {extra!r}")
        lines += optional[extra]
    return [Requirement(line) for line in lines]


def applicable(reqs: Sequence[Requirement], where: Target, python: str) -> list[Requirement]:
    """The requirements whose environment markers hold on this platform and Python."""
    env = where.markers(python)
    return [r for r in reqs if r.marker is None or r.marker.evaluate(env)]


def pip_command(where: Target, python: str, reqs: Sequence[Requirement], dest: Path,
                executable: str = sys.executable) -> list[str]:
    """pip download that accepts only this platform's wheels, for this CPython."""
    abi = "cp" + python.replace(".", "")
    command = [executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
               "--only-binary=:all:", "--implementation", "cp", "--python-version", python,
               "--abi", abi, "--abi", "abi3", "--abi", "none", "--dest", str(dest)]
    for tag in where.tags:
        command += ["--platform", tag]
    # the markers were evaluated for the target here: pip would evaluate them for this machine
    return command + [_without_marker(r) for r in reqs]


def _without_marker(req: Requirement) -> str:
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    return f"{req.name}{extras}{req.specifier}"


@dataclass(frozen=True)
class Outcome:
    target: str
    python: str
    missing: tuple[str, ...]  # requirements without a wheel here ("" when none)
    detail: str

    @property
    def ok(self) -> bool:
        return not self.missing


NO_MATCH = re.compile(r"No matching distribution found for (\S+)")


def check(where: Target, python: str, reqs: Sequence[Requirement]) -> Outcome:
    """All at once; on a failure, each requirement alone, to name every one that fails."""
    wanted = applicable(reqs, where, python)
    ok, detail = _download(where, python, wanted)
    if ok:
        return Outcome(where.name, python, (), f"{len(wanted)} requirements")
    missing = []
    for req in wanted:
        alone_ok, alone_detail = _download(where, python, [req])
        if not alone_ok:
            missing.append(f"{_without_marker(req)} ({alone_detail})")
    if not missing:  # only together: a conflict between their own dependencies
        missing.append(f"the set resolves only separately ({detail})")
    return Outcome(where.name, python, tuple(missing), detail)


def _download(where: Target, python: str, reqs: Sequence[Requirement]) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="vizvm-wheels-") as dest:
        result = subprocess.run(pip_command(where, python, reqs, Path(dest)),
                                capture_output=True, text=True, check=False, timeout=900)
    if result.returncode == 0:
        return True, ""
    found = NO_MATCH.findall(result.stderr)
    tail = result.stderr.strip().splitlines()[-1:] or ["pip failed"]
    return False, f"no wheel for {found[-1]}" if found else tail[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", action="append", choices=PYTHONS,
                        help="a Python version (default: all of %(choices)s)")
    parser.add_argument("--target", action="append", choices=[t.name for t in TARGETS],
                        help="a platform (default: all five)")
    parser.add_argument("--extra", action="append", default=[],
                        help="also check an optional group, e.g. authoring (expected to fail "
                             "where keystone has no wheel)")
    parser.add_argument("--jobs", type=int, default=3, help="pip processes at once")
    args = parser.parse_args(argv)
    reqs = requirements(ROOT / "pyproject.toml", args.extra)
    jobs = [(target(t), p) for t in (args.target or [t.name for t in TARGETS])
            for p in (args.python or PYTHONS)]
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda job: check(job[0], job[1], reqs), jobs))
    for outcome, (where, _python) in zip(outcomes, jobs, strict=True):
        verdict = "ok" if outcome.ok else "MISSING " + "; ".join(outcome.missing)
        print(f"{outcome.target:14} cp{outcome.python:5} {verdict}"
              + (f"  [{outcome.detail}; {where.note}]" if outcome.ok else ""))
    failed = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} platform/Python pairs install "
          "from wheels alone" + (": every dependency has a wheel" if not failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
