"""Where vizvm keeps what a user makes (progress, saved snapshots).

The platform's per-user data folder (platformdirs), unless VIZVM_DATA_DIR
names another: tests and lab machines with shared homes set it.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_dir() -> Path:
    chosen = os.environ.get("VIZVM_DATA_DIR")
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir("vizvm", appauthor=False))
