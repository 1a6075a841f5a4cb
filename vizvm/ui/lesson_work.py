"""Work a lesson panel hands off its UI thread: judging answers and running hosts.

A check whose answer comes from a run takes a second or more of emulation,
and the monitors run Python on every trap: in a thread of the window's own
process that would hold the GIL for long stretches (measured: the UI thread
waited 0.6 s). So the work runs in a child process of its own, one job at a
time, and each result comes back to the UI thread as a queued signal.
Whatever the job raises comes back as the exception, shown in the panel, never
as a traceback.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from PySide6.QtCore import QObject, Signal

from vizvm.ui import lesson_jobs


class Worker(QObject):
    """`submit(key, function, *args)`; later `finished(key, result or exception)`."""

    finished = Signal(object, object)
    _arrived = Signal(object, object)  # from the executor's thread, queued to the UI's

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: ProcessPoolExecutor | None = None
        self.pending = 0
        self._arrived.connect(self._done)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"),
                                             initializer=lesson_jobs.start)
        return self._pool

    def submit(self, key: object, work: Callable[..., object], *args: object) -> None:
        self.pending += 1
        try:
            future = self._executor().submit(work, *args)
        except (BrokenProcessPool, RuntimeError) as exc:  # the child died: start another
            self._pool = None
            self._arrived.emit(key, RuntimeError(f"the checking process stopped ({exc}); "
                                                 "try again"))
            return
        future.add_done_callback(lambda done: self._arrived.emit(key, _outcome(done)))

    def _done(self, key: object, result: object) -> None:
        self.pending -= 1
        if isinstance(result, BrokenProcessPool):
            self._pool = None  # the next job starts a fresh process
        self.finished.emit(key, result)

    def wait(self) -> None:
        """Drop the jobs not started and let the running one end (closing the window)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _outcome(future: Future) -> object:
    if future.cancelled():
        return RuntimeError("cancelled")
    error = future.exception()
    return error if error is not None else future.result()
