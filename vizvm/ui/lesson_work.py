"""Work a lesson panel hands off its UI thread: checking answers and running hosts.

A check whose answer comes from a run takes a second or more, so it runs on a
pool of one thread (the step's runs are cached and not shared between threads)
and its result comes back as a queued signal. Whatever the work raises comes
back as a message, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    done = Signal(object, object)  # the job's key, its result (or an Exception)


class _Job(QRunnable):
    def __init__(self, key: object, work: Callable[[], object], relay: _Relay) -> None:
        super().__init__()
        self.key, self.work, self.relay = key, work, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result: object = self.work()
        except Exception as exc:  # reported in the panel, beside what asked for it
            result = exc
        self.relay.done.emit(self.key, result)


class Worker(QObject):
    """One job at a time, in order; `finished(key, result)` on the UI thread."""

    finished = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.relay = _Relay(self)
        self.relay.done.connect(self._done)
        self.pending = 0

    def submit(self, key: object, work: Callable[[], object]) -> None:
        self.pending += 1
        self.pool.start(_Job(key, work, self.relay))

    def _done(self, key: object, result: object) -> None:
        self.pending -= 1
        self.finished.emit(key, result)

    def wait(self, msecs: int = 30000) -> bool:
        """Drop the jobs not started and let the running one end (closing the window)."""
        self.pool.clear()
        return self.pool.waitForDone(msecs)
