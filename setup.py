"""One build step pyproject.toml cannot say: ship the repository's lessons/ in the wheel.

The built-in lesson packs live at the top of the repository, where authors find them;
an installed copy needs them inside the package, as vizvm/_lessons, which
vizvm.lessons.builtin.lessons_root() looks for first. Editable installs skip the copy:
there lessons_root() falls back to the repository's folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

LESSONS = Path(__file__).resolve().parent / "lessons"


class BuildWithLessons(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False) or not LESSONS.is_dir():
            return
        target = Path(self.build_lib) / "vizvm" / "_lessons"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(LESSONS, target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


setup(cmdclass={"build_py": BuildWithLessons})
