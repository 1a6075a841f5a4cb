"""keystone in a child process, so that an LLVM abort ends the child, not the app.

keystone 0.9.2 aborts the whole process on some inputs (LLVM ERROR); the
front end refuses the ones found so far, but a student's source may find
another, and neither the window nor a student's unsaved edits may go with
it. One long-lived child (`python -m vizvm.asm.keystone_worker`) answers
requests as JSON lines on its standard input and output, so a call costs a
round trip. A plain subprocess rather than multiprocessing: spawning would
re-run the caller's main module in the child.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import subprocess
import sys
import threading


class KeystoneCrashed(RuntimeError):
    """keystone took its process down on this input."""


class WorkerUnavailable(RuntimeError):
    """The child could not be started or dies on every input."""


def _assemble(text: str, origin: int) -> tuple[bytes | None, str | None]:
    """(image, None) or (None, keystone's message); run in the child."""
    from keystone import KS_ARCH_X86, KS_MODE_32, Ks, KsError

    try:
        encoding, _count = Ks(KS_ARCH_X86, KS_MODE_32).asm(text, origin)
    except KsError as exc:
        return None, str(exc)
    return bytes(encoding or b""), None


def serve() -> None:
    """The child's loop: one request per line in, one answer per line out."""
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "abort":  # for the tests of crash handling
            import os

            os.abort()
        if request["op"] == "first_failure":
            answer = None
            for index, text in enumerate(request["texts"]):
                _image, error = _assemble(text, 0)
                if error is not None:
                    answer = [index, error]
                    break
            reply: dict = {"found": answer}
        else:
            image, error = _assemble(request["text"], request["origin"])
            reply = {"image": None if image is None else image.hex(), "error": error}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


class KeystoneWorker:
    def __init__(self) -> None:
        self._child: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()  # one request at a time on the pipes

    def _process(self) -> subprocess.Popen[str]:
        if self._child is None or self._child.poll() is not None:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "vizvm.asm.keystone_worker"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, bufsize=1,
            )
        return self._child

    def request(self, message: dict) -> dict:
        """Send one request; KeystoneCrashed if the child died on it."""
        with self._lock:
            child = self._process()
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(json.dumps(message) + "\n")
                child.stdin.flush()
                line = child.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                self._discard()
                raise KeystoneCrashed("keystone stopped on this input")
            return json.loads(line)

    def _discard(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
        if child.poll() is None:
            child.kill()
            child.wait()

    def close(self) -> None:
        """End the child (its loop stops when its input closes)."""
        with self._lock:
            self._discard()

    def assemble(self, text: str, origin: int) -> tuple[bytes | None, str | None]:
        reply = self.request({"op": "assemble", "text": text, "origin": origin})
        image = reply["image"]
        return (None if image is None else bytes.fromhex(image)), reply["error"]

    def first_failure(self, texts: list[str]) -> tuple[int, str] | None:
        found = self.request({"op": "first_failure", "texts": texts})["found"]
        return None if found is None else (found[0], found[1])

    def healthy(self) -> bool:
        """Whether the child can assemble at all (a crash may be the input's fault)."""
        try:
            return self.assemble("nop", 0) == (b"\x90", None)
        except KeystoneCrashed:
            return False


WORKER = KeystoneWorker()
atexit.register(WORKER.close)

if __name__ == "__main__":
    serve()
