"""The event log: every event counted and priced, a bounded number kept."""

from __future__ import annotations

from vizvm.trace.events import Event, Kind
from vizvm.trace.log import EventLog


def _event(kind: Kind, cost: str = "") -> Event:
    return Event(kind, 1, 1, 0, 0x100000, b"\xfa", "cli", "why", cost)


def test_events_are_priced_from_the_profile_and_counted() -> None:
    log = EventLog({"trap": 100, "emulate": 10}, keep=2)
    for kind, cost in [(Kind.TRAP, "trap"), (Kind.EMULATE, "emulate"), (Kind.TRAP, "trap")]:
        log.add(_event(kind, cost))
    assert log.counts == {"trap": 2, "emulate": 1}
    assert log.cycles == 210 and log.cycles_by_kind["trap"] == 200
    assert len(log.events) == 2 and log.dropped == 1
    assert log.events[0].cycles == 100


def test_an_event_serializes_to_plain_json_values() -> None:
    doc = _event(Kind.TRAP, "trap").to_json()
    assert doc["kind"] == "trap" and doc["insn_bytes"] == "fa" and doc["address"] == "0x00100000"
