"""The engine thread: the only thread that touches the emulated machines.

The window submits commands and, on its own timer, takes the newest frame.
Frames the window has not taken yet are merged, so no event is lost
between two looks. Running is done in slices of a few tens of milliseconds
with the command queue read between slices, so Pause is answered at once;
Pause also sets a flag that long single commands (step to the next event,
step over, go to) check as they go.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import replace

from vizvm.asm.lexicon import AsmError
from vizvm.session import commands as cmd
from vizvm.session import files
from vizvm.session import program as programs
from vizvm.session.lockstep import Lockstep
from vizvm.session.pane import MAX_PENDING
from vizvm.session.views import Frame, PaneView

FRAME_SECONDS = 1 / 30
SLICE_SECONDS = 0.025
FIRST_STRETCH = 20_000
STEP_MARK_BUDGET = 0.02  # seconds per pane of classifying before a step's frame goes out
IDLE_MARK_BUDGET = 0.1  # ... and per pane in each idle frame after it
INTERRUPTING = (cmd.Pause | cmd.Quit | cmd.Open | cmd.Reset | cmd.GoTo | cmd.Seek
                | cmd.StepBack | cmd.BackToEvent | cmd.OpenSnapshot)


class Engine:
    def __init__(self) -> None:
        self._commands: queue.Queue[cmd.Command] = queue.Queue()
        self._lock = threading.Lock()
        self._outbox: Frame | None = None
        self._serial = 0
        self.session: Lockstep | None = None
        self._speed: float | None = None
        self._running = False
        self._stretch = FIRST_STRETCH
        self._steps_owed = 0.0
        self._last_tick = 0.0  # when a paced run last counted the steps it owes
        self._last_frame = 0.0
        self._message = ""
        self._unmarked = False  # the last frame showed lines not yet classified
        self._interrupting = 0  # interrupting commands submitted and not yet handled
        self._thread = threading.Thread(target=self._loop, name="vizvm-engine", daemon=True)
        self._thread.start()

    # the window's side -------------------------------------------------------------
    def submit(self, command: cmd.Command) -> None:
        if isinstance(command, INTERRUPTING):
            with self._lock:
                self._interrupting += 1
            session = self.session
            if session is not None:
                session.stop.set()  # end a long command now; the queue does the rest
        self._commands.put(command)

    def take(self) -> Frame | None:
        """The newest frame with every event since the last take, or None if nothing new."""
        with self._lock:
            frame, self._outbox = self._outbox, None
        return frame

    def close(self, timeout: float = 5.0) -> None:
        self.submit(cmd.Quit())
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # the engine's side -------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            try:
                command = self._commands.get(timeout=self._wait())
            except queue.Empty:
                command = None
            if isinstance(command, cmd.Quit):
                return
            if command is None and not self._running and self._unmarked:
                self._publish(force=True, budget=IDLE_MARK_BUDGET)  # marks, while idle
                continue
            try:
                if command is not None:
                    self._handle(command)
                if self._running:
                    self._run_slice()
            except Exception as exc:
                self._running = False
                self._message = f"the engine stopped a command: {type(exc).__name__}: {exc}"
                self._publish(force=True)
                continue
            self._publish(force=command is not None)

    def _wait(self) -> float | None:
        if not self._running:
            return 0.0 if self._unmarked else None
        if self._speed is None:
            return 0.0
        return max(0.0, min(FRAME_SECONDS, (1 - self._steps_owed) / self._speed))

    def _handle(self, command: cmd.Command) -> None:
        session = self.session
        with self._lock:
            if isinstance(command, INTERRUPTING):
                self._interrupting -= 1
            if session is not None and not self._interrupting:
                session.stop.clear()  # no Pause is waiting behind this command
        self._message = ""
        match command:
            case cmd.Open():
                self._open(command)
            case cmd.OpenSnapshot(path=path):
                self._open_snapshot(path)
            case cmd.Pause():
                self._running = False
            case cmd.Run(speed=speed):
                self._running, self._speed, self._steps_owed = True, speed, 0.0
                self._last_tick = time.perf_counter()
            case _ if session is None:
                self._message = "open a program first"
            case cmd.Step(how=how):
                self._running = False
                {"into": session.step, "over": session.step_over,
                 "event": session.step_to_event, "unseen": session.step_to_unseen}[how]()
            case cmd.Reset():
                self._running = False
                session.reset()
            case cmd.Breakpoints(program=name, addresses=addresses):
                session.set_breakpoints(name, addresses)
            case cmd.GoTo(pane=pane, icount=icount):
                self._running = False
                session.go_to(pane, icount)
            case cmd.Seek(pane=pane, icount=icount):
                self._running = False
                session.seek(pane, icount)
            case cmd.StepBack():
                self._running = False
                session.step_back()
            case cmd.BackToEvent():
                self._running = False
                session.back_to_event()
            case cmd.SaveSnapshot(pane=pane, path=path):
                self._message = files.save(session, pane, path)
            case cmd.Export(perfetto=perfetto, csv=csv):
                self._message = files.export(session, perfetto, csv)

    def _open(self, command: cmd.Open) -> None:
        self._running = False
        try:
            program, port = _programs(command)
        except (programs.ProgramError, AsmError) as exc:
            self._message = str(exc)
            return
        self.session = Lockstep(program, command.techniques, command.settings, port)
        self._serial = 0

    def _open_snapshot(self, path: str) -> None:
        self._running = False
        session, self._message = files.open_session(path)
        if session is not None:
            self.session = session
            self._serial = 0

    def _run_slice(self) -> None:
        session = self.session
        if session is None:
            self._running = False
            return
        if self._speed is None:
            started = time.perf_counter()
            going = session.run_stretch(self._stretch)
            spent = max(time.perf_counter() - started, 1e-4)
            self._stretch = max(1000, min(int(self._stretch * SLICE_SECONDS / spent), 5_000_000))
        else:
            now = time.perf_counter()
            self._steps_owed += (now - self._last_tick) * self._speed
            self._last_tick = now
            due = int(self._steps_owed)
            self._steps_owed -= due
            if due > self._speed * SLICE_SECONDS + 1:  # behind: drop, do not pile up
                due, self._steps_owed = int(self._speed * SLICE_SECONDS) + 1, 0.0
            going = session.run_steps(due) if due else True
        if not going:
            self._running = False

    def _publish(self, *, force: bool, budget: float | None = None) -> None:
        """A frame for the window. Classifying an instruction for its mark runs a probe
        machine (~70 ms), so a step's frame goes out with what is known and the engine
        classifies the rest while idle, a frame at a time."""
        now = time.perf_counter()
        if not force and now - self._last_frame < FRAME_SECONDS:
            return
        self._last_frame = now
        session = self.session
        if budget is None:
            budget = 0.0 if self._running else STEP_MARK_BUDGET
        panes = () if session is None else tuple(p.view(classify_budget=budget)
                                                 for p in session.panes)
        self._unmarked = not self._running and any(
            not line.cls for pane in panes for line in pane.listing)
        message = self._message or ("" if session is None else session.note)
        self._serial += 1
        frame = Frame(self._serial, panes, self._running, message)
        with self._lock:
            if self._outbox is not None:
                frame = merge(self._outbox, frame)
            self._outbox = frame


def _programs(command: cmd.Open) -> tuple[programs.Program, programs.Program | None]:
    """The program and its paravirtual port: given as images, or loaded by name or path."""
    paravirt = "paravirt" in command.techniques
    if command.image is not None:
        port = None
        if paravirt and command.port_image is not None:
            port = programs.Program(command.port or f"{command.program}_pv", command.port_image)
        return programs.Program(command.program, command.image), port
    port = programs.paravirt_port(command.program, command.port) if paravirt else None
    return programs.load(command.program), port


def merge(old: Frame, new: Frame) -> Frame:
    """`new`, carrying the events and ring moves of `old` that the window never took."""
    if len(old.panes) != len(new.panes):
        return new  # another program was opened in between
    panes = []
    for before, after in zip(old.panes, new.panes, strict=True):
        panes.append(_merge_pane(before, after))
    return replace(new, panes=tuple(panes))


def _merge_pane(old: PaneView, new: PaneView) -> PaneView:
    if old.generation != new.generation:
        return new  # the machine was rebuilt: what came before is gone
    events = old.events + new.events
    dropped = old.dropped + new.dropped + max(0, len(events) - MAX_PENDING)
    return replace(new, events=events[-MAX_PENDING:], dropped=dropped,
                   path=(old.path + new.path)[-12:],
                   changed=old.changed | new.changed)
