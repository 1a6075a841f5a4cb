"""A whole machine's state at a pause, and putting it back exactly.

What a run depends on lives in three places: Unicorn (the CPU context, RAM,
its translated blocks and the installed hooks), the machine's Python objects
(devices, counters) and the monitor's (virtual CPU, shadow tables, the
translation cache's index). The Python part is copied with `copy.deepcopy`,
which follows every attribute, so a monitor needs no code of its own to be
snapshotted. Restoring copies the saved attributes back *into the live
objects* rather than replacing them, because Unicorn's hooks call bound
methods of those very objects; a saved object with a live counterpart of the
same class (found by following the same attributes) is restored in place,
anything else is copied in fresh.

Objects that are views of Unicorn rather than state (the engine itself,
ctypes windows into it) are shared, never copied. The event log is not
copied either: it only grows, so a snapshot keeps its counts and length.

Limits, by design: only objects of vizvm's own classes are written into
(never enum members, functions, classes or a library's objects: those may be
shared by the whole program); state kept outside the machine's object graph
(module globals) is not captured, and a closure kept in state still refers to
the objects it was made with. tests/session/test_timetravel.py co-simulates
every technique to show that the monitors keep nothing of the kind.
"""

from __future__ import annotations

import copy
import ctypes
import enum
import types
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
from unicorn import Uc, UcError

from vizvm.machine.hooks import HookSpec, HookTable
from vizvm.machine.uc_internals import CpuState, Registers, flush_tlb
from vizvm.trace.log import EventLog

FOREIGN = ("unicorn", "capstone")  # modules whose objects are shared, never copied
SHARED_TYPES: tuple[type, ...] = (
    Uc, HookTable, CpuState, Registers, EventLog,
    ctypes._SimpleCData, ctypes.Structure, ctypes.Array, ctypes._Pointer,  # type: ignore[attr-defined]
)


@dataclass(frozen=True)
class LogMark:
    """The event log at the pause: it is cut back to this on restore."""

    kept: int
    counts: dict[str, int]
    cycles_by_kind: dict[str, int]
    cycles: int
    dropped: int


@dataclass(frozen=True)
class MachineState:
    """One pause of a machine, RAM aside (see vizvm.trace.recorder for RAM)."""

    context: bytes  # uc.context_save(), the nested-exception field at rest
    scratch: bytes  # the CPU's working copy of a context (CpuState), which may be older
    objects: Any  # a private deep copy of the machine's Python object graph
    hooks: tuple[dict[int, HookSpec], int]
    log: LogMark
    icount: int
    ticks: int


def _shared_memo(root: object) -> dict[int, Any]:
    """Objects reachable from `root` that must be shared, not copied, by id."""
    memo: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, SHARED_TYPES) or type(obj).__module__.startswith(FOREIGN):
            memo[id(obj)] = obj
            continue
        stack.extend(_children(obj))
    return memo


def _children(obj: object) -> list[Any]:
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, list | tuple | set | frozenset):
        return list(obj)
    if hasattr(obj, "__self__") and hasattr(obj, "__func__"):  # a bound method
        return [obj.__self__]  # type: ignore[attr-defined]
    out = list(getattr(obj, "__dict__", {}).values())
    for name in _slots(type(obj)):
        if hasattr(obj, name):
            out.append(getattr(obj, name))
    return out


def _slots(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return [n for n in names if n not in ("__dict__", "__weakref__")]


def capture(machine: Any, extras: tuple[object, ...] = ()) -> MachineState:
    """The machine (with its supervisor) as it is between two chunks; `extras` are
    other objects that follow the run (a pane's plot data), restored with it."""
    roots = [machine, *extras]
    objects = copy.deepcopy(roots, _shared_memo(roots))
    log = machine.log
    return MachineState(
        context=bytes(machine.uc.context_save()),
        scratch=bytes(machine.cpu.state._view),  # read between begin()s (linear_pc)
        objects=objects,
        hooks=machine.hooks.state(),
        log=LogMark(len(log.events), dict(log.counts), dict(log.cycles_by_kind), log.cycles,
                    log.dropped),
        icount=machine.icount,
        ticks=machine.ticks,
    )


def restore(machine: Any, state: MachineState, extras: tuple[object, ...] = ()) -> None:
    """Put `machine` (and the same `extras`) back to `state`; RAM is the caller's."""
    roots = [machine, *extras]
    if len(roots) != len(state.objects):
        raise ValueError("restored with other extras than it was captured with")
    memo = _shared_memo(roots)
    pairs: list[tuple[Any, Any]] = []
    _pair(roots, state.objects, memo, pairs)
    for live, saved in pairs:
        _assign(live, saved, memo)
    uc = machine.uc
    _load_context(uc, state.context)
    machine.cpu.state._view[:] = state.scratch
    machine.hooks.restore(state.hooks)
    log = machine.log
    del log.events[state.log.kept:]
    log.counts = Counter(state.log.counts)
    log.cycles_by_kind = Counter(state.log.cycles_by_kind)
    log.cycles, log.dropped = state.log.cycles, state.log.dropped
    uc.ctl_set_exits(sorted(machine.breakpoints))
    uc.ctl_flush_tb()
    flush_tlb(uc)


def _load_context(uc: Uc, raw: bytes) -> None:
    """context_restore from bytes saved earlier (the binding has no constructor for it)."""
    ctx = uc.context_save()
    size = len(bytes(ctx))
    if size != len(raw):
        raise ValueError(f"a CPU context of {len(raw)} bytes, where this Unicorn has {size}")
    ctypes.memmove(_context_address(ctx), raw, size)
    uc.context_restore(ctx)


def _context_address(ctx: Any) -> int:
    """Where a UcContext's bytes live (bytes(ctx) reads the same memory)."""
    return int(ctypes.cast(ctx.context, ctypes.c_void_p).value or 0)


def _mutable(obj: object) -> bool:
    if isinstance(obj, SHARED_TYPES) or not (hasattr(obj, "__dict__") or _slots(type(obj))):
        return False
    if isinstance(obj, type | types.FunctionType | types.MethodType | types.ModuleType
                  | enum.Enum):
        return False  # shared by the whole program: never written into
    if not type(obj).__module__.startswith("vizvm."):
        return False  # only the program's own objects are written into; others are copied
    params = getattr(type(obj), "__dataclass_params__", None)
    return not (params is not None and params.frozen)


def _pair(live: Any, saved: Any, memo: dict[int, Any], pairs: list[tuple[Any, Any]]) -> None:
    """Match saved objects to live ones along the same attributes, keys and indexes,
    one to one: a live object already matched (reached again by another path, where
    the saved graph has a different object) is not reused, the saved one is copied."""
    stack = [(live, saved)]
    taken: set[int] = set()  # live objects matched so far
    walked: set[int] = set()  # saved containers followed so far
    while stack:
        live, saved = stack.pop()
        if id(saved) in memo or id(live) in taken or type(live) is not type(saved):
            continue
        if isinstance(saved, dict | list):
            if id(saved) in walked:
                continue
            walked.add(id(saved))
            if isinstance(saved, dict):
                stack.extend((live[k], v) for k, v in saved.items() if k in live)
            elif len(saved) == len(live):
                stack.extend(zip(live, saved, strict=True))
            continue
        if not _mutable(saved) or isinstance(saved, tuple | set):
            continue
        taken.add(id(live))
        memo[id(saved)] = live
        pairs.append((live, saved))
        stack.extend((_get(live, n), v) for n, v in _fields(saved) if _has(live, n))


def _fields(obj: object) -> list[tuple[str, Any]]:
    out = list(getattr(obj, "__dict__", {}).items())
    out += [(n, getattr(obj, n)) for n in _slots(type(obj)) if hasattr(obj, n)]
    return out


def _has(obj: object, name: str) -> bool:
    in_dict = name in getattr(obj, "__dict__", {})
    return in_dict or (name in _slots(type(obj)) and hasattr(obj, name))


def _get(obj: object, name: str) -> Any:
    return getattr(obj, "__dict__", {}).get(name) if name in getattr(obj, "__dict__", {}) \
        else getattr(obj, name)


def _assign(live: Any, saved: Any, memo: dict[int, Any]) -> None:
    values = {n: copy.deepcopy(v, memo) for n, v in _fields(saved)}
    if hasattr(live, "__dict__"):
        live.__dict__.clear()
    for name in _slots(type(live)):
        if hasattr(live, name) and name not in values:
            object.__delattr__(live, name)
    for name, value in values.items():
        if name in getattr(saved, "__dict__", {}):
            live.__dict__[name] = value
        else:
            object.__setattr__(live, name, value)


__all__ = ["LogMark", "MachineState", "capture", "restore"]


def regions(uc: Uc) -> tuple[tuple[int, int], ...]:
    """(start, size) of every mapped range: guest RAM, and a monitor's own memory."""
    return tuple((begin, end - begin + 1) for begin, end, _perms in uc.mem_regions())


def read_memory(uc: Uc, layout: tuple[tuple[int, int], ...],
                into: np.ndarray | None = None) -> np.ndarray:
    """Every mapped byte, the ranges of `layout` end to end (`into`: a buffer to reuse).

    Straight through the C API into the array: the binding's mem_read makes two
    copies of 16 MiB (tens of milliseconds), this none (about one, in a buffer
    whose pages the host has already given)."""
    total = sum(size for _b, size in layout)
    out = into if into is not None and into.size == total else np.empty(total, np.uint8)
    at = 0
    for begin, size in layout:
        _check(_lib().uc_mem_read(uc._uch, begin, _pointer(out, at), size))
        at += size
    return out


def write_memory(uc: Uc, layout: tuple[tuple[int, int], ...], data: np.ndarray) -> None:
    data = np.ascontiguousarray(data, np.uint8)
    at = 0
    for begin, size in layout:
        _check(_lib().uc_mem_write(uc._uch, begin, _pointer(data, at), size))
        at += size


def _lib() -> Any:
    from unicorn.unicorn_py3.unicorn import uclib

    return uclib


def _pointer(array: np.ndarray, offset: int) -> Any:
    return ctypes.cast(array.ctypes.data + offset, ctypes.POINTER(ctypes.c_char))


def _check(status: int) -> None:
    if status:
        raise UcError(status)
