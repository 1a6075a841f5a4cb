"""The vizvm assembly dialect: Intel syntax that keystone and GNU as agree on.

A guest source is read statement by statement before any back end sees it.
This front end strips comments, refuses the forms on which the two
assemblers disagree or keystone encodes another instruction or address
(each with a message that names the line and the form to write instead),
rewrites the forms keystone encodes with a 16-bit operand size into their
32-bit meaning, and marks the four descriptor-table instructions whose
stray 0x66 prefix the keystone back end removes. Every rule was found by
assembling both ways; docs/assembly.md lists them for guest authors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vizvm.asm.lexicon import (
    BRANCHES,
    DATA_DIRECTIVES,
    DIRECTIVES,
    EQU,
    IDENT,
    LABEL,
    NO_BYTES,
    RESERVED_WORDS,
    SEGMENT_REGISTERS,
    SIZE_WORDS,
    TABLE_INSTRUCTIONS,
    WORD_REGISTERS,
    AsmError,
    Program,
    Statement,
    _mnemonic,
    _operand_list,
    is_register,
    number_value,
    split_statements,
    strip_comments,
    symbol_names,
)
from vizvm.asm.rules import _check_symbols, _label_based_constants, check

__all__ = [
    "BRANCHES", "DATA_DIRECTIVES", "DIRECTIVES", "IDENT", "LABEL", "NO_BYTES",
    "RESERVED_WORDS", "SEGMENT_REGISTERS", "SIZE_WORDS", "TABLE_INSTRUCTIONS", "AsmError",
    "Program", "Statement", "check", "is_register", "number_value", "parse",
    "split_statements", "strip_comments", "symbol_names",
]

ALIGN = re.compile(
    r"^(?P<labels>(?:\s*[A-Za-z_.$][\w.$]*\s*:)*)\s*\.(?:b?align)\s+(?P<n>[^,]+)$",
    re.IGNORECASE,
)
LABELS = re.compile(r"^((?:\s*[A-Za-z_.$][\w.$]*\s*:(?!:))*)\s*(.*)$", re.DOTALL)
PREFIXES = frozenset(["rep", "repe", "repz", "repne", "repnz", "lock"])
SEGMENT_STACK_OPS = {
    ("push", "es"): "0x06", ("push", "cs"): "0x0e", ("push", "ss"): "0x16",
    ("push", "ds"): "0x1e", ("push", "fs"): "0x0f, 0xa0", ("push", "gs"): "0x0f, 0xa8",
    ("pop", "es"): "0x07", ("pop", "ss"): "0x17", ("pop", "ds"): "0x1f",
    ("pop", "fs"): "0x0f, 0xa1", ("pop", "gs"): "0x0f, 0xa9",
}  # fmt: skip
# Whole statements keystone encodes as 16-bit forms, or does not know, and the
# 32-bit instruction they mean.
REWRITES = {
    "iret": "iretd",  # keystone: 66 cf
    "pushf": "pushfd",  # keystone: 66 9c
    "popf": "popfd",  # keystone: 66 9d
    "movsd": ".byte 0xa5",  # keystone only knows the form with operands
    "xlat": "xlatb",  # keystone only knows xlatb
}


@dataclass(frozen=True)
class Rewritten:
    text: str
    gnu_text: str = ""


def _normalize(text: str) -> list[Rewritten]:
    """Rewrite the forms keystone encodes wrongly into what the CPU means in 32-bit code.

    `.align N` pads with zeros (the assemblers pick different NOPs); `push cs`
    and friends, which keystone makes 16-bit pushes, become their one-byte
    opcodes; `iret`, `pushf` and `popf`, 16-bit to keystone, become `iretd`,
    `pushfd` and `popfd`; `mov ds, ax` becomes `mov ds, eax` (the same
    instruction, which keystone alone gives a 0x66 prefix). A prefix (`rep`,
    `lock`) becomes a statement of its own, because the two assemblers put it
    on different sides of a 0x66 or segment prefix. `mov [mem], ds` keeps
    keystone's redundant 0x66, which GNU as is asked for with `data16`.
    """
    if match := ALIGN.match(text):
        return [Rewritten(f"{match.group('labels')} .balign {match.group('n').strip()}, 0".strip())]
    labels, body = LABELS.match(text).groups()  # type: ignore[union-attr]
    words = body.split(None, 1)
    if len(words) == 2 and words[0].lower() in PREFIXES:
        return [Rewritten(f"{labels} {words[0]}".strip()), *_normalize(words[1])]
    lowered = body.lower().split()
    if len(lowered) == 2 and tuple(lowered) in SEGMENT_STACK_OPS:
        return [Rewritten(f"{labels} .byte {SEGMENT_STACK_OPS[lowered[0], lowered[1]]}".strip())]
    if len(lowered) == 1 and lowered[0] in REWRITES:
        return [Rewritten(f"{labels} {REWRITES[lowered[0]]}".strip())]
    operands = _operand_list(words[1]) if len(words) == 2 else []
    if lowered and lowered[0] == "push" and len(operands) == 1:
        value = number_value(operands[0])
        if value is not None and 0xFF80 <= (value := value & 0xFFFF_FFFF) <= 0xFFFF:
            # keystone encodes these as `push imm8`, which pushes 0xffffff80-0xffffffff
            return [Rewritten(f"{labels} .byte 0x68".strip()), Rewritten(f".long {value:#x}")]
    if lowered and lowered[0] == "mov" and len(operands) == 2:
        target, source = operands[0].lower(), operands[1].lower()
        if target in SEGMENT_REGISTERS and source in WORD_REGISTERS:
            return [Rewritten(f"{labels} mov {target}, e{source}".strip())]
        if "[" in target and source in SEGMENT_REGISTERS:
            return [Rewritten(text, f"{labels} data16 {body}".strip())]
    return [Rewritten(text)]


def parse(source: str, filename: str = "<source>") -> Program:
    """Read a source into statements; AsmError for forms the dialect refuses."""
    program = Program(filename, source_lines=source.splitlines())
    clean_lines = strip_comments(source).splitlines()
    for number, line in enumerate(clean_lines, start=1):
        for written in split_statements(line):
            rest = written
            while match := LABEL.match(rest):
                program.labels.setdefault(match.group(1), number)
                rest = rest[match.end() :]
            if match := EQU.match(rest):
                program.constants.setdefault(match.group(2), number)
            for rewritten in _normalize(written):
                mnemonic, operands = _mnemonic(rewritten.text)
                program.statements.append(
                    Statement(
                        number, rewritten.text, mnemonic, operands,
                        mnemonic in TABLE_INSTRUCTIONS, rewritten.gnu_text,
                    )
                )
    program.label_based = _label_based_constants(program)
    seen: dict[str, int] = {}
    for statement in program.statements:
        problem = check(statement, program) or _check_symbols(statement, program, seen)
        if problem:
            raise AsmError(filename, statement.line, problem, program.source_line(statement.line))
    return program
