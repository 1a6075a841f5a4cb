"""Waiting for the engine thread's frames, shared by the session tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from vizvm.session.engine import Engine
from vizvm.session.views import Frame


def wait(engine: Engine, done: Callable[[Frame], bool], timeout: float = 30.0) -> Frame:
    """The first frame for which `done` holds (the engine answers in its own time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        frame = engine.take()
        if frame is not None and done(frame):
            return frame
        time.sleep(0.01)
    raise AssertionError("the engine did not answer")
