"""keystone in a child process, so that an LLVM abort ends the child, not the app.

keystone 0.9.2 aborts the whole process on some inputs (LLVM ERROR); the
front end refuses the ones found so far, but a student's source may find
another, and neither the window nor a student's unsaved edits may go with it.
One long-lived worker keeps the cost to a round trip per call.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

TIMEOUT = 60


class KeystoneCrashed(RuntimeError):
    """keystone took its process down on this input."""


def _assemble(text: str, origin: int) -> tuple[bytes | None, str | None]:
    """In the worker: (image, None) or (None, keystone's message)."""
    from keystone import KS_ARCH_X86, KS_MODE_32, Ks, KsError

    try:
        encoding, _count = Ks(KS_ARCH_X86, KS_MODE_32).asm(text, origin)
    except KsError as exc:
        return None, str(exc)
    return bytes(encoding or b""), None


def _first_failure(texts: list[str]) -> tuple[int, str] | None:
    """In the worker: the first text keystone refuses, with its message."""
    for index, text in enumerate(texts):
        _image, error = _assemble(text, 0)
        if error is not None:
            return index, error
    return None


class KeystoneWorker:
    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)
        return self._pool

    def call(self, function, *args):  # type: ignore[no-untyped-def]
        """Run `function(*args)` in the worker; KeystoneCrashed if the worker died."""
        try:
            return self._executor().submit(function, *args).result(timeout=TIMEOUT)
        except BrokenProcessPool as exc:
            self._pool = None
            raise KeystoneCrashed("keystone stopped on this input") from exc

    def assemble(self, text: str, origin: int) -> tuple[bytes | None, str | None]:
        return self.call(_assemble, text, origin)

    def first_failure(self, texts: list[str]) -> tuple[int, str] | None:
        return self.call(_first_failure, texts)


WORKER = KeystoneWorker()
