"""The engine's file commands: save and open a snapshot, export a session's trace.

Each returns the sentence the window shows; a file that cannot be written or
read is a message naming it, never an exception out of the engine.
"""

from __future__ import annotations

from vizvm.machine.machine import Machine
from vizvm.monitors import registry
from vizvm.session import runner, snapshots
from vizvm.session.lockstep import Lockstep
from vizvm.session.pane import Pane
from vizvm.trace import export as exporting
from vizvm.trace.events import Event


def save(session: Lockstep, pane_index: int, path: str) -> str:
    if not 0 <= pane_index < len(session.panes):
        return f"there is no pane {pane_index}"
    pane = session.panes[pane_index]
    try:
        saved = snapshots.save_snapshot(pane, path)
    except snapshots.SnapshotError as exc:
        return str(exc)
    return (f"saved {pane.title} at instruction {saved.icount:,} to {path}")


def open_session(path: str) -> tuple[Lockstep | None, str]:
    """A session of one pane at the snapshot's moment, checked against the file."""
    try:
        saved = snapshots.read_snapshot(path)
        settings = saved.settings
        port = saved.program if settings.technique == "paravirt" else None
        session = Lockstep(saved.program, (settings.technique,), settings, port)
        pane = session.panes[0]
        if pane.machine is None:
            raise snapshots.SnapshotError(f"{path}: its program does not load: {pane.error}")
        pane.seek_ticks(saved.ticks)
        snapshots.verify(pane.machine, saved)
    except snapshots.SnapshotError as exc:
        return None, str(exc)
    return session, (f"opened {saved.program.name} under {settings.technique} at instruction "
                     f"{saved.icount:,} (saved by vizvm {saved.app_version})")


def trace_run(technique: str, title: str, machine: Machine, events: list[Event],
              profile: str = "") -> exporting.TraceRun:
    return exporting.TraceRun(technique, title, events, machine.log.price("instruction"),
                           machine.icount, profile)


def pane_run(pane: Pane) -> exporting.TraceRun | None:
    """A pane's recorded events up to where it stands."""
    if pane.machine is None or pane.recording is None:
        return None
    events = pane.recording.events_before(len(pane.recording.tape))
    return trace_run(pane.technique, pane.title, pane.machine, events, pane.settings.profile)


def export_runs(runs: list[exporting.TraceRun], perfetto: str | None, csv: str | None) -> str:
    written = []
    try:
        if perfetto:
            exporting.write_chrome_trace(runs, perfetto)
            written.append(f"the trace to {perfetto} (open it in ui.perfetto.dev)")
        if csv:
            exporting.write_counters_csv(runs, csv)
            written.append(f"the counters to {csv}")
    except OSError as exc:
        return f"cannot write {exc.filename}: {exc.strerror}"
    return "wrote " + " and ".join(written) if written else "nothing to export"


def export(session: Lockstep, perfetto: str | None, csv: str | None) -> str:
    runs = [r for r in (pane_run(p) for p in session.panes) if r is not None]
    return export_runs(runs, perfetto, csv)


def run_for_export(image: bytes, settings: runner.Settings) -> exporting.TraceRun:
    """A whole run from the start, every event kept: for the command line."""
    machine = runner.build(image, settings)
    machine.log.keep = 1 << 62
    machine.run(settings.max_insns)
    machine.finish()
    return trace_run(settings.technique, registry.technique(settings.technique).title,
                     machine, machine.log.events, settings.profile)

