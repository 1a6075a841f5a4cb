"""RamHistory (memory at each snapshot as changed pages) and EventTape."""

from __future__ import annotations

import numpy as np
import pytest

from vizvm.trace.events import Event, Kind
from vizvm.trace.recorder import PAGE, EventTape, RamHistory


def memory_after(writes: list[tuple[int, int]], base: np.ndarray) -> np.ndarray:
    out = base.copy()
    for address, value in writes:
        out[address] = value
    return out


def test_each_snapshot_comes_back_and_keeps_only_changed_pages() -> None:
    rng = np.random.default_rng(1)
    memory = rng.integers(0, 256, 16 * PAGE, dtype=np.uint8)
    history = RamHistory(memory)
    states = [memory.copy()]
    for step in range(1, 6):
        memory[step * PAGE + 7] ^= 0xFF  # one page each time
        memory[3 * PAGE] = step  # and page 3 every time
        assert history.add(memory) == step
        states.append(memory.copy())
        assert history.changed(step) == (1 if step == 3 else 2)
    for index, expected in enumerate(states):
        assert np.array_equal(history.at(index), expected)


def test_dropping_a_snapshot_keeps_the_others_exact() -> None:
    memory = np.zeros(8 * PAGE, np.uint8)
    history = RamHistory(memory)
    states = [memory.copy()]
    for step in range(1, 5):
        memory[step * PAGE] = step
        memory[0] = step
        history.add(memory)
        states.append(memory.copy())
    history.drop(2)
    del states[2]
    assert len(history) == len(states)
    for index, expected in enumerate(states):
        assert np.array_equal(history.at(index), expected)
    with pytest.raises(ValueError, match="cannot be dropped"):
        history.drop(len(history) - 1)


def event(icount: int, kind: Kind = Kind.TRAP) -> Event:
    return Event(kind, icount, 0, 0, 0x1000, b"\xfa", "cli", "test")


def test_the_tape_stores_events_once_across_rewinds() -> None:
    tape = EventTape()
    for n in (5, 9, 9, 20):
        tape.seen(event(n))
    tape.rewind(1)  # went back to after the first event: the future is the same
    for n in (9, 9, 20, 31):
        tape.seen(event(n))
    assert tape.icounts == [5, 9, 9, 20, 31] and tape.position == 5
    assert tape.before(20) == 20 and tape.before(19) == 9 and tape.before(4) is None
    tape.seen(event(40, Kind.IO))
    assert tape.before(40, frozenset({"io"})) == 31
    assert [e.icount for e in tape.upto(3, 2)] == [9, 9]
