"""How soon the window shows, and the longest the UI thread stalls while guests run.

    python benchmarks/ui_responsiveness.py [--seconds 8] [--program kernel]

Startup: a fresh Python process imports the window, opens the default guest
and paints; the parent times it from spawning the process to the child's
report (so interpreter start and imports count), and the child reports its
own time from its first line to the first paint.

Stalls: a 1 ms timer on the UI thread records the gaps between its ticks
while the engine runs every pane of the program at full speed, then at a
paced 1,000 steps a second, then steps to event after event. A gap is time
the window could not answer. Run offscreen (QT_QPA_PLATFORM=offscreen) or
under Xvfb; the figures are from this machine in this run, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

CHILD = """
import time
started = time.perf_counter()
import sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from vizvm.ui.main_window import MainWindow
app = QApplication([])
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = MainWindow(settings)
window.show()
window.open("holes")
app.processEvents()
shown = time.perf_counter() - started
print(f"SHOWN {shown:.4f}", flush=True)
window.close()
"""


def startup(runs: int) -> tuple[list[float], list[float]]:
    import tempfile

    outer, inner = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            begun = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-c", CHILD, f"{home}/s.ini"],
                                       stdout=subprocess.PIPE, text=True)
            assert process.stdout is not None
            for line in process.stdout:
                if line.startswith("SHOWN"):
                    outer.append(time.perf_counter() - begun)
                    inner.append(float(line.split()[1]))
            process.wait()
    return outer, inner


def stalls(program: str, seconds: float) -> dict[str, list[float]]:
    import tempfile

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from vizvm.session import commands as cmd
    from vizvm.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    home = tempfile.TemporaryDirectory()
    window = MainWindow(QSettings(f"{home.name}/s.ini", QSettings.Format.IniFormat))
    window.resize(1800, 1100)
    window.show()
    window.open(program)
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.nsecsElapsed()]

    def tick() -> None:
        now = clock.nsecsElapsed()
        gaps.append((now - last[0]) / 1e6)
        last[0] = now

    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(tick)
    timer.start()

    def phase(kick: Callable[[], None], length: float) -> list[float]:
        """Keep the guests busy for `length` seconds: `kick` restarts them when idle."""
        gaps.clear()
        end = time.monotonic() + length
        while time.monotonic() < end:
            frame = window.last_frame
            if frame is None or not frame.running or all(p.status != "ready"
                                                         for p in frame.panes):
                kick()
            for _ in range(100):
                app.processEvents()
                time.sleep(0.0005)
        window.pause()
        return list(gaps)

    def again(speed: float | None) -> Callable[[], None]:
        def kick() -> None:
            frame = window.last_frame
            if frame is not None and frame.panes and frame.panes[0].status != "ready":
                window.reset()
            window.engine.submit(cmd.Run(speed))
        return kick

    def next_events() -> None:
        frame = window.last_frame
        if frame is not None and frame.panes and frame.panes[0].status != "ready":
            window.reset()
        for _ in range(5):
            window.step("event")

    results = {
        "full speed": phase(again(None), seconds),
        "1,000 steps/s": phase(again(1000.0), seconds),
        "step to event": phase(next_events, seconds),
    }
    timer.stop()
    window.close()
    home.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--program", default="kernel")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    outer, inner = startup(args.runs)
    print(f"time to the window shown (process spawn to first paint), {args.runs} runs: "
          f"median {statistics.median(outer):.2f} s, worst {max(outer):.2f} s "
          f"(in-process: median {statistics.median(inner):.2f} s)")
    print(f"UI-thread stalls while {args.program} runs in every pane "
          "(gaps between 1 ms timer ticks):")
    for name, gaps in stalls(args.program, args.seconds).items():
        ordered = sorted(gaps)
        p99 = ordered[int(len(ordered) * 0.99)] if ordered else 0.0
        print(f"  {name:<14} ticks {len(gaps):>6}  longest {max(gaps, default=0):6.1f} ms  "
              f"99th percentile {p99:5.1f} ms  median {statistics.median(gaps or [0]):4.1f} ms")


if __name__ == "__main__":
    main()
