"""Line numbers for TOML keys, which `tomllib` does not give.

tomllib parses the file; this scanner walks the same text once more and notes,
for every key path such as ("steps", 2, "checks", 0, "kind"), the line where it
is defined and the span of its value, so that every schema error can say
`file:line`. It assumes the text already parsed (tomllib first), so it can be
lenient about what TOML forbids.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from dataclasses import dataclass, field

from vizvm.lessons.errors import PackError, Problem
from vizvm.lessons.model import Where

Path = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_END = re.compile(r"\s*\(at end of document\)\s*$")


@dataclass
class LineMap:
    """Where each key path of one TOML file is defined."""

    lines: dict[Path, int] = field(default_factory=dict)
    spans: dict[Path, tuple[int, int]] = field(default_factory=dict)  # value offsets
    content_lines: dict[Path, int] = field(default_factory=dict)  # a string's first line

    def line_of(self, path: Path) -> int:
        """The key's line, else the nearest enclosing table's (1 when nothing is known)."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line:
                return line
        return 1

    def text_line(self, path: Path) -> int:
        """The line where a string value's text starts (a multi-line string's next line)."""
        return self.content_lines.get(tuple(path)) or self.line_of(path)


def parse(file: str, data: bytes | str) -> tuple[dict, LineMap]:
    """tomllib's dict and the line map; PackError with the file and line when it fails."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1 if isinstance(data, bytes) else 1
        raise PackError([Problem(Where(file, line), "not UTF-8 text")]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError([decode_problem(file, exc, text)]) from None
    return doc, scan(text)


def decode_problem(file: str, exc: tomllib.TOMLDecodeError, text: str = "") -> Problem:
    """tomllib's '... (at line 7, column 3)' as a Problem at that line."""
    message = str(exc)
    found = _AT.search(message)
    if found:
        line, column = int(found.group(1)), int(found.group(2))
        reason = message[: found.start()]
        return Problem(Where(file, line), f"not valid TOML: {reason} (column {column})")
    end = _END.search(message)
    line = text.count("\n") + 1 if text else 0
    reason = message[: end.start()] if end else message
    return Problem(Where(file, line), f"not valid TOML: {reason} (at the end of the file)")


def scan(text: str) -> LineMap:
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.map = LineMap()
        self.arrays: dict[Path, int] = {}  # array-of-tables path -> tables so far

    def line(self, offset: int | None = None) -> int:
        return bisect.bisect_right(self.starts, self.i if offset is None else offset)

    def record(self, path: Path, line: int) -> None:
        self.map.lines.setdefault(path, line)

    def peek(self, k: int = 1) -> str:
        return self.s[self.i : self.i + k]

    def blank(self, newlines: bool) -> None:
        """Skip spaces (and newlines and comments when `newlines`)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#":
                end = self.s.find("\n", self.i)
                self.i = len(self.s) if end < 0 else end
            else:
                return

    def to_line_end(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end + 1

    def run(self) -> LineMap:
        table: Path = ()
        while True:
            self.blank(newlines=True)
            if self.i >= len(self.s):
                return self.map
            line = self.line()
            if self.peek(2) == "[[":
                self.i += 2
                table = self.header(self.key(), line, array=True)
            elif self.peek() == "[":
                self.i += 1
                table = self.header(self.key(), line, array=False)
            else:
                self.pair(table)
            self.to_line_end()

    def header(self, keys: list[str], line: int, array: bool) -> Path:
        path: Path = ()
        for k in keys[:-1]:
            path = (*path, k)
            self.record(path, line)
            if path in self.arrays:
                path = (*path, self.arrays[path] - 1)
        path = (*path, keys[-1])
        self.record(path, line)
        if array:
            count = self.arrays.get(path, 0)
            self.arrays[path] = count + 1
            path = (*path, count)
            self.record(path, line)
        return path

    def key(self) -> list[str]:
        keys: list[str] = []
        while True:
            self.blank(newlines=False)
            c = self.peek()
            if c in ('"', "'"):
                start = self.i
                self.string()
                keys.append(tomllib.loads(f"k = {self.s[start:self.i]}")["k"])
            else:
                found = _BARE.match(self.s, self.i)
                if not found:
                    return keys or [""]
                keys.append(found.group())
                self.i = found.end()
            self.blank(newlines=False)
            if self.peek() != ".":
                return keys
            self.i += 1

    def pair(self, table: Path) -> None:
        line = self.line()
        keys = self.key()
        path = table
        for k in keys:
            path = (*path, k)
            self.record(path, line)
        self.blank(newlines=False)
        if self.peek() == "=":
            self.i += 1
        self.blank(newlines=False)
        self.value(path)

    def value(self, path: Path) -> None:
        start = self.i
        c = self.peek()
        if c in ('"', "'"):
            self.string(path)
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}\n#":
                self.i += 1
        self.map.spans.setdefault(path, (start, self.i))

    def array(self, path: Path) -> None:
        self.i += 1
        index = 0
        while True:
            self.blank(newlines=True)
            if self.i >= len(self.s) or self.peek() == "]":
                self.i += 1
                return
            item = (*path, index)
            self.record(item, self.line())
            self.value(item)
            self.blank(newlines=True)
            if self.peek() == ",":
                self.i += 1
            index += 1

    def inline_table(self, path: Path) -> None:
        self.i += 1
        while True:
            self.blank(newlines=True)
            if self.i >= len(self.s) or self.peek() == "}":
                self.i += 1
                return
            if self.peek() == ",":
                self.i += 1
                continue
            self.pair(path)

    def string(self, path: Path | None = None) -> None:
        quote = self.peek()
        if self.peek(3) == quote * 3:
            self.i += 3
            if path is not None:
                skip = 1 if self.peek() == "\n" else 2 if self.peek(2) == "\r\n" else 0
                self.map.content_lines.setdefault(path, self.line(self.i + skip))
            while self.i < len(self.s):
                if quote == '"' and self.peek() == "\\":
                    self.i += 2
                elif self.peek(3) == quote * 3:
                    self.i += 3
                    while self.peek() == quote:  # up to two quotes may end the text
                        self.i += 1
                    return
                else:
                    self.i += 1
            return
        self.i += 1
        while self.i < len(self.s) and self.s[self.i] not in (quote, "\n"):
            self.i += 2 if quote == '"' and self.s[self.i] == "\\" else 1
        self.i += 1
