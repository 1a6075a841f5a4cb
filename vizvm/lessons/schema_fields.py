"""Typed reading of one TOML table, collecting every problem with its file and line.

The schema asks a `Table` for each key with the type it expects; a wrong type,
a missing key or an unknown one becomes a Problem naming the key as the author
wrote it (`steps[2].checks[0].kind`) and the line it is on, and reading goes on,
so that one run reports everything wrong with a pack.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

from vizvm.lessons.errors import Problem
from vizvm.lessons.model import Where
from vizvm.lessons.toml_lines import LineMap, Path

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
NAME_RULE = "a name of lowercase letters, digits, '-' and '_' (at most 40, starting " \
    "with a letter or digit)"
_MISSING = object()


def dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass
class Context:
    """One file being validated: its name, its line map, and the problems so far."""

    file: str
    lines: LineMap
    problems: list[Problem] = field(default_factory=list)
    ids: dict[Path, str] = field(default_factory=dict)  # a check's path -> its id

    def where(self, path: Path) -> Where:
        return Where(self.file, self.lines.line_of(path))

    def error(self, path: Path, message: str) -> None:
        prefix = f"{dotted(path)}{self._check_id(path)}: " if path else ""
        self.problems.append(Problem(self.where(path), prefix + message))

    def _check_id(self, path: Path) -> str:
        """` (check 'id')` when the path is in a check that has an id: an author finds a
        check by its id faster than by counting to `checks[4]`."""
        for end in range(len(path), 1, -1):
            if path[end - 2] == "checks" and path[:end] in self.ids:
                return f" (check {self.ids[path[:end]]!r})"
        return ""


def one_of(value: object, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(str(value), list(allowed), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{value!r} is not one of {', '.join(allowed)}{hint}"


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", float: "a number",
             list: "a list", dict: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


class Table:
    """A dict from tomllib, read key by key; `finish` reports the keys nobody asked for."""

    def __init__(self, ctx: Context, data: object, path: Path) -> None:
        self.ctx = ctx
        self.path = path
        self.ok = isinstance(data, dict)
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        self.asked: set[str] = set()
        if len(path) >= 2 and path[-2] == "checks" and isinstance(self.data.get("id"), str):
            ctx.ids[path] = self.data["id"]
        if not self.ok:
            ctx.error(path, f"expected a table, found {_describe(data)}")

    def at(self, key: str | int, *more: str | int) -> Path:
        return (*self.path, key, *more)

    def error(self, key: str | int | None, message: str) -> None:
        self.ctx.error(self.path if key is None else self.at(key), message)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        """The value, or `default` (None when required and missing: reported)."""
        self.asked.add(key)
        if key not in self.data:
            if default is _MISSING:
                self.ctx.error(self.path, f"missing key {key!r} ({_type_name(kind)})")
                return None
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            return value
        bad_bool = isinstance(value, bool) and bool not in kinds  # True is an int to Python
        if bad_bool or not isinstance(value, kinds):
            self.error(key, f"expected {_type_name(kind)}, found {_describe(value)}")
            return None if default is _MISSING else default
        return value

    def text(self, key: str, default: Any = _MISSING) -> Any:
        value = self.get(key, str, default)
        if isinstance(value, str) and not value.strip() and default is _MISSING:
            self.error(key, "must not be empty")
        return value

    def name(self, key: str) -> str | None:
        value = self.get(key, str)
        if isinstance(value, str) and not NAME.fullmatch(value):
            self.error(key, f"{value!r} is not {NAME_RULE}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key, list, [])
        out = []
        for i, item in enumerate(value or []):
            if isinstance(item, str):
                out.append(item)
            else:
                self.error(key, f"item {i + 1}: expected a string, found {_describe(item)}")
        return tuple(out)

    def tables(self, key: str) -> list[Table]:
        value = self.get(key, list, [])
        return [Table(self.ctx, item, self.at(key, i)) for i, item in enumerate(value or [])]

    def choose(self, key: str, allowed: tuple[str, ...], default: Any = _MISSING) -> Any:
        value = self.get(key, str, default)
        if isinstance(value, str) and value not in allowed:
            self.error(key, one_of(value, allowed))
            return None
        return value

    def finish(self, allowed: tuple[str, ...] | None = None) -> None:
        known = sorted(self.asked if allowed is None else set(allowed) | self.asked)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; expected one of {', '.join(known)}"
                self.error(key, f"unknown key{hint}")


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return f"{text[:40]}..." if len(text) > 40 else text
