"""Strings that a `text` check's pattern accepts, and strings it refuses.

The checker must show that every check passes with a reference answer; for a
text check the author gives only a regular expression, so a matching line is
built from the parsed pattern (Python's own parser) and then verified with
`re.fullmatch`: a pattern too clever to build an example for is reported,
never guessed.
"""

from __future__ import annotations

import re
import re._constants as c
import re._parser as sre
from itertools import product

_CATEGORY = {c.CATEGORY_DIGIT: "0", c.CATEGORY_NOT_DIGIT: "a", c.CATEGORY_SPACE: " ",
             c.CATEGORY_NOT_SPACE: "a", c.CATEGORY_WORD: "a", c.CATEGORY_NOT_WORD: " "}
_PRINTABLE = sorted((chr(n) for n in range(0x20, 0x7F)),
                    key=lambda ch: (not ch.isalnum(), ch == " "))


def matching(pattern: str, ignore_case: bool = False) -> str | None:
    """A line the pattern matches as a whole, or None if none could be built."""
    flags = re.IGNORECASE if ignore_case else 0
    compiled = re.compile(pattern, flags)
    parsed = sre.parse(pattern, flags)
    for branch, extra in product(range(3), range(3)):
        try:
            candidate = _build(parsed, branch, extra)
        except _Unsupported:
            return None
        if candidate == candidate.strip() and compiled.fullmatch(candidate):
            return candidate
    return None


def not_matching(pattern: str, ignore_case: bool = False, reference: str = "") -> str | None:
    """A plausible line the pattern refuses (an answer that must be judged wrong)."""
    compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    for candidate in (reference + " and more", "not " + reference, "no idea", "x",
                      reference[:-1], "~" * 3, "0", ""):
        if compiled.fullmatch(candidate.strip()) is None and candidate.strip() == candidate:
            return candidate
    return None


class _Unsupported(Exception):
    pass


def _build(items: sre.SubPattern | list, branch: int, extra: int) -> str:
    return "".join(_item(op, av, branch, extra) for op, av in items)


def _item(op: object, av: object, branch: int, extra: int) -> str:
    if op is c.LITERAL:
        return chr(av)  # type: ignore[arg-type]
    if op is c.NOT_LITERAL:
        return "a" if av != ord("a") else "b"
    if op is c.ANY:
        return "a"
    if op is c.IN:
        return _in(av)  # type: ignore[arg-type]
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, high, sub = av  # type: ignore[misc]
        count = low if high == low else min(low + extra, high)
        return _build(sub, branch, extra) * count
    if op is c.SUBPATTERN:
        return _build(av[-1], branch, extra)  # type: ignore[index]
    if op is c.ATOMIC_GROUP:
        return _build(av, branch, extra)  # type: ignore[arg-type]
    if op is c.BRANCH:
        options = av[1]  # type: ignore[index]
        return _build(options[branch % len(options)], branch, extra)
    if op is c.AT:
        return ""
    raise _Unsupported(str(op))


def _in(members: list) -> str:
    if members and members[0][0] is c.NEGATE:
        refused = re.compile(_class_text(members[1:]))
        return next(ch for ch in _PRINTABLE if not refused.fullmatch(ch))
    op, av = members[0]
    if op is c.LITERAL:
        return chr(av)
    if op is c.RANGE:
        return chr(av[0])
    if op is c.CATEGORY and av in _CATEGORY:
        return _CATEGORY[av]
    raise _Unsupported(str(op))


def _class_text(members: list) -> str:
    """A character class back as pattern text, to test candidates against."""
    parts = []
    for op, av in members:
        if op is c.LITERAL:
            parts.append(re.escape(chr(av)))
        elif op is c.RANGE:
            parts.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is c.CATEGORY:
            parts.append({c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D",
                          c.CATEGORY_SPACE: r"\s", c.CATEGORY_NOT_SPACE: r"\S",
                          c.CATEGORY_WORD: r"\w", c.CATEGORY_NOT_WORD: r"\W"}[av])
        else:
            raise _Unsupported(str(op))
    return "[" + "".join(parts) + "]"
