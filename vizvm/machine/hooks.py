"""The machine's Unicorn hooks as data, so that a snapshot can put them back.

Monitors add and remove hooks as the guest runs (write hooks on the guest's
descriptor tables, on translated code pages). A snapshot restored later must
have exactly the hooks that were installed when it was taken, and the hook
handles the monitors keep must still name them. So the engine's `hook_add`
and `hook_del` are routed through this table: it hands out handles of its own
that stay the same when a hook is removed and installed again by a restore.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from unicorn import Uc


@dataclass(frozen=True)
class HookSpec:
    """Everything hook_add was given (the callback as the object it was)."""

    htype: int
    callback: Any
    user_data: Any
    begin: int
    end: int
    aux1: int
    aux2: int


class HookTable:
    """Wraps one engine's hook_add/hook_del; installed once, in Machine.__init__."""

    def __init__(self, uc: Uc) -> None:
        self._uc = uc
        self._add = uc.hook_add
        self._del = uc.hook_del
        self.specs: dict[int, HookSpec] = {}  # our handle -> what it was added with
        self._real: dict[int, int] = {}  # our handle -> Unicorn's
        self._next = 1
        uc.hook_add = self.add  # type: ignore[method-assign]
        uc.hook_del = self.remove  # type: ignore[method-assign]

    def add(self, htype: int, callback: Any, user_data: Any = None, begin: int = 1,  # noqa: PLR0917
            end: int = 0, aux1: int = 0, aux2: int = 0) -> int:
        """Unicorn's hook_add, under a handle of ours (its signature: callers use it)."""
        spec = HookSpec(htype, callback, user_data, begin, end, aux1, aux2)
        handle = self._next
        self._next += 1
        self._install(handle, spec)
        return handle

    def remove(self, handle: int) -> None:
        real = self._real.pop(handle, None)
        if real is None:
            self._del(handle)  # not one of ours (none should exist): let Unicorn judge
            return
        del self.specs[handle]
        self._del(real)

    def _install(self, handle: int, spec: HookSpec) -> None:
        self._real[handle] = self._add(spec.htype, spec.callback, spec.user_data, spec.begin,
                                       spec.end, spec.aux1, spec.aux2)
        self.specs[handle] = spec

    def state(self) -> tuple[dict[int, HookSpec], int]:
        return dict(self.specs), self._next

    def restore(self, state: tuple[dict[int, HookSpec], int]) -> None:
        """Exactly the hooks of `state`, under the same handles and in the same order.

        Unicorn calls hooks of one kind in the order they were added, and a monitor's
        overlapping write hooks depend on it; handles grow with each add, so from the
        first hook that must come back, every later one is removed and added again
        in handle order."""
        specs, self._next = state
        live = self.specs
        back = [h for h in specs if live.get(h) is not specs[h]]
        first = min(back, default=None)
        for handle in sorted(live):
            if handle not in specs or live[handle] is not specs[handle] or (
                    first is not None and handle > first):
                self.remove(handle)
        for handle in sorted(specs):
            if handle not in self.specs:
                self._install(handle, specs[handle])
