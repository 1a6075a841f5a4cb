"""Plain-text tables for the terminal: readable without --json."""

from __future__ import annotations

from collections.abc import Sequence

from vizvm.monitors.bt_cache import ListedInstruction, Listing


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if _numeric(c) else c.ljust(w)
                               for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return "-" if value is None else str(value)


def _numeric(text: str) -> bool:
    return bool(text) and text.replace(",", "").replace(".", "", 1).isdigit()


def indent(text: str, prefix: str = "  | ") -> str:
    if not text:
        return prefix + "(nothing)"
    body = text[:-1] if text.endswith("\n") else text
    return "\n".join(prefix + line for line in body.split("\n"))


def registers(values: dict[str, int]) -> str:
    names = list(values)
    rows = [names[i : i + 4] for i in range(0, len(names), 4)]
    return "\n".join("  " + "  ".join(f"{n:>6}={values[n]:08x}" for n in row) for row in rows)


def translation_cache(blocks: Sequence[Listing]) -> str:
    """Each block: guest code on the left, what the cache holds on the right."""
    lines = [f"translation cache: {len(blocks)} blocks"]
    for block in blocks:
        lines += ["", f"block {block.guest:#010x} -> {block.tc:#010x}"]
        guest = {row.address: row for row in block.guest_code}
        left = max((len(r.text) for r in block.guest_code), default=0) + 12
        for row in block.translated:
            source = guest.get(_guest_of(block, row)) if row.how != "exit stub" else None
            before = f"{source.address:08x}  {source.text}" if source else ""
            lines.append(f"  {before:<{left}}  {row.address:08x}  {row.text:<34} {row.how}")
    return "\n".join(lines)


def _guest_of(block: Listing, row: ListedInstruction) -> int | None:
    """Translated rows follow guest rows one to one, exit stubs last."""
    index = block.translated.index(row)
    return block.guest_code[index].address if index < len(block.guest_code) else None
