"""Where a run's events go: counted in full, kept up to a bound."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

from vizvm.trace.events import Event

DEFAULT_KEEP = 200_000


class EventLog:
    """Counts every event and prices it; keeps the first `keep` for display.

    `prices` maps a cost name to cycles (a profile of the cost model); the
    log fills each event's cycles from it so that the machine below never
    needs to know which profile is in force.
    """

    def __init__(self, prices: Mapping[str, int] | None = None, keep: int = DEFAULT_KEEP) -> None:
        self.prices = dict(prices or {})
        self.keep = keep
        self.events: list[Event] = []
        self.counts: Counter[str] = Counter()
        self.cycles_by_kind: Counter[str] = Counter()
        self.cycles = 0
        self.dropped = 0
        self.listeners: list = []

    def price(self, cost: str) -> int:
        return self.prices.get(cost, 0)

    def add(self, event: Event) -> Event:
        """Count and keep an event; it arrives priced (Machine.emit) or is priced here."""
        if event.cost and not event.cycles and event.cost in self.prices:
            event = replace(event, cycles=self.prices[event.cost])
        self.counts[str(event.kind)] += 1
        self.cycles_by_kind[str(event.kind)] += event.cycles
        self.cycles += event.cycles
        if len(self.events) < self.keep:
            self.events.append(event)
        else:
            self.dropped += 1
        for listener in self.listeners:
            listener(event)
        return event
