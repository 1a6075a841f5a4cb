"""The engine in a process of its own, for the window.

In one process, every Qt virtual call the window makes on a Python-derived
widget takes the GIL, and the engine thread, running monitor hooks in
Python, holds it in bursts: measured here, that made the UI thread wait up
to 100 ms at a time while guests ran at full speed. In its own process the
engine has its own GIL. Commands and frames are the same frozen dataclasses
as with the thread (vizvm.session.engine); only the transport differs. A
crash in the engine (Unicorn is native code) also leaves the window alive.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
from dataclasses import replace
from multiprocessing.process import BaseProcess

from vizvm.session import commands as cmd
from vizvm.session.engine import Engine, merge
from vizvm.session.views import Frame

RELAY_SECONDS = 1 / 60
RUNNING_EVENTS = 300  # per pane and frame while running: nobody reads faster; all are counted


def _lighter(frame: Frame) -> Frame:
    """A running frame with only its newest events: the window unpickles every frame on
    its own thread, and the counters already hold every event."""
    panes = tuple(replace(p, events=p.events[-RUNNING_EVENTS:],
                          dropped=p.dropped + max(0, len(p.events) - RUNNING_EVENTS))
                  for p in frame.panes)
    return replace(frame, panes=panes)


def _serve(commands: mp.Queue, frames: mp.Queue) -> None:
    """The child: relay commands to a thread engine, and its frames back."""
    if hasattr(os, "nice"):
        os.nice(5)  # when the two compete for a core, the window goes first
    engine = Engine()
    parent = mp.parent_process()
    try:
        while True:
            try:
                command = commands.get(timeout=RELAY_SECONDS)
            except queue.Empty:
                command = None
            if isinstance(command, cmd.Quit) or (parent is not None and not parent.is_alive()):
                return  # asked to, or the window is gone (killed, crashed)
            if command is not None:
                engine.submit(command)
            frame = engine.take()
            if frame is not None:
                frames.put(_lighter(frame) if frame.running else frame)
    finally:
        engine.close()


class EngineProcess:
    """Engine's interface (submit, take, close, alive), across a process boundary."""

    def __init__(self) -> None:
        context = mp.get_context("spawn")  # the same on every platform; no forked Qt state
        self._commands: mp.Queue = context.Queue()
        self._frames: mp.Queue = context.Queue()
        self._process: BaseProcess = context.Process(
            target=_serve, args=(self._commands, self._frames), name="vizvm-engine",
            daemon=True)
        self._process.start()

    def submit(self, command: cmd.Command) -> None:
        self._commands.put(command)

    def take(self) -> Frame | None:
        """Every frame that arrived since the last take, merged into the newest."""
        taken: Frame | None = None
        while True:
            try:
                frame = self._frames.get_nowait()
            except (queue.Empty, EOFError, OSError, ValueError):  # ValueError: closed
                return taken
            taken = frame if taken is None else merge(taken, frame)

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def close(self, timeout: float = 5.0) -> None:
        if self._process.is_alive():
            self._commands.put(cmd.Quit())
            deadline = time.monotonic() + timeout
            while self._process.is_alive() and time.monotonic() < deadline:
                self.take()  # keep the pipe drained so the child can finish
                self._process.join(0.05)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout)
        for channel in (self._commands, self._frames):
            channel.close()
            channel.cancel_join_thread()
