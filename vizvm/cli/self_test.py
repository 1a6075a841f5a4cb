"""`vizvm self-test [--json]`: does this installation really work, end to end?

What a frozen build is judged by before it is handed to a class, and what an
instructor runs on a lab machine: a guest under every technique, one built-in
lesson through `vizvm lesson check`, and the real window opened offscreen until
its first frame. Exit status 0 only when every part passed; a part that cannot
run here (the lesson tools missing) is reported as skipped, never as passed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from vizvm.lessons.builtin import builtin_pack_dirs

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
GUEST = "kernel"  # the smallest built-in guest with a paravirtual port: all five techniques


@dataclass(frozen=True)
class Part:
    name: str
    status: str
    detail: str
    seconds: float


def _cli(argv: list[str]) -> tuple[int, dict]:
    """One vizvm command, in this process, its JSON document captured."""
    from vizvm.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main(argv)
    return status, json.loads(out.getvalue() or "{}")


def guests() -> tuple[str, str]:
    from vizvm.monitors import registry

    status, doc = _cli(["compare", GUEST, "--json"])
    if status != 0:
        return FAILED, f"vizvm compare {GUEST} ended with status {status}: {doc.get('error')}"
    runs = {r["technique"]: r for r in doc.get("techniques", [])}
    wrong = [f"{t}: not run" for t in registry.TECHNIQUES if t not in runs]
    wrong += [f"{t}: {r['exit']}" + ("" if r.get("equivalent") else ", not equivalent to native")
              for t, r in runs.items() if r["exit"] != "poweroff" or not r.get("equivalent")]
    if wrong:
        return FAILED, "; ".join(wrong)
    counts = ", ".join(f"{t} {r['guest_instructions']:,}" for t, r in runs.items())
    return PASSED, f"{GUEST} under {len(runs)} techniques, all equivalent ({counts} instructions)"


def lesson() -> tuple[str, str]:
    """`vizvm lesson check` on a pack holding one built-in lesson: the first one."""
    try:
        import vizvm.lessons.checker  # noqa: F401
    except ImportError as exc:
        return SKIPPED, f"the lesson tools are not in this build ({exc})"
    packs = builtin_pack_dirs()
    if not packs:
        return FAILED, "no built-in lesson pack found"
    pack = packs[0]
    manifest = (pack / "pack.toml").read_text(encoding="utf-8")
    lessons = sorted(p.name for p in pack.iterdir() if (p / "lesson.toml").is_file())
    listed = re.search(r"(?ms)^lessons\s*=\s*\[(.*?)\]", manifest)
    if not listed or not lessons:
        return FAILED, f"{pack / 'pack.toml'}: no lessons listed, or none present"
    order = re.findall(r"\"([^\"]+)\"", listed.group(1))
    name = next((n for n in order if n in lessons), lessons[0])
    with tempfile.TemporaryDirectory(prefix="vizvm-selftest-") as tmp:
        one = Path(tmp) / pack.name
        one.mkdir()
        (one / "pack.toml").write_text(
            manifest[: listed.start()] + f'lessons = ["{name}"]' + manifest[listed.end():],
            encoding="utf-8")
        shutil.copytree(pack / name, one / name)
        status, doc = _cli(["lesson", "check", str(one), "--seeds", "1", "--json"])
    if status != 0 or not doc.get("ok"):
        found = doc.get("findings") or [doc.get("error")]
        return FAILED, f"vizvm lesson check on {pack.name}/{name}: status {status}; {found[:3]}"
    return PASSED, f"vizvm lesson check passed on {pack.name}/{name}"


def window() -> tuple[str, str]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt loads
    try:
        from vizvm.ui.diagnostics import first_frame
    except ImportError as exc:
        return FAILED, f"the window cannot load: {exc}"
    try:
        seen = first_frame("holes")
    except TimeoutError as exc:
        return FAILED, str(exc)
    return PASSED, (f"the window opened on {seen['program']} ({seen['platform']} platform), "
                    f"first frame with panes {', '.join(seen['panes'])} "
                    f"after {seen['seconds']} s")


PARTS: tuple[tuple[str, Callable[[], tuple[str, str]]], ...] = (
    ("guests", guests), ("lesson", lesson), ("window", window))


def run_parts() -> list[Part]:
    parts = []
    for name, test in PARTS:
        started = time.monotonic()
        try:
            status, detail = test()
        except Exception as exc:  # a part that breaks is a failed part, with its reason
            status, detail = FAILED, f"{type(exc).__name__}: {exc}"
        parts.append(Part(name, status, detail, round(time.monotonic() - started, 2)))
    return parts


def main(as_json: bool = False) -> int:
    from vizvm import __version__

    parts = run_parts()
    ok = all(p.status == PASSED for p in parts)
    if as_json:
        print(json.dumps({"ok": ok, "version": __version__,
                          "parts": [asdict(p) for p in parts]}, indent=2))
    else:
        for p in parts:
            print(f"{p.status.upper():8} {p.name}: {p.detail} ({p.seconds} s)")
        print("self-test " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1
