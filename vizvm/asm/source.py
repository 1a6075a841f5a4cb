"""The vizvm assembly dialect: Intel syntax that keystone and GNU as agree on.

A guest source is read statement by statement before any back end sees it.
This front end strips comments, refuses the forms on which the two
assemblers disagree or keystone encodes the wrong instruction (each with a
message that names the line and the form to write instead), and marks the
four descriptor-table instructions that keystone always encodes with a
16-bit operand size, so that the back end can correct them (docs/assembly.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

REGISTERS = frozenset(
    ["eax", "ebx", "ecx", "edx", "esi", "edi", "esp", "ebp", "ax", "bx", "cx", "dx", "si", "di", "sp", "bp", "al", "ah", "bl", "bh", "cl", "ch", "dl", "dh", "cs", "ds", "es", "fs", "gs", "ss", "cr0", "cr2", "cr3", "cr4", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7", "st"]
)
SIZE_WORDS = frozenset(["byte", "word", "dword", "fword", "qword", "tbyte", "ptr", "short", "near", "far"])
SEGMENT_REGISTERS = frozenset(["cs", "ds", "es", "fs", "gs", "ss"])
BRANCHES = re.compile(r"^(j[a-z]+|call|loop[a-z]*|jecxz)$")
DATA_DIRECTIVES = frozenset([".byte", ".word", ".short", ".long", ".int", ".quad", ".ascii", ".asciz", ".string"])
TABLE_INSTRUCTIONS = frozenset({"lgdt", "lidt", "sgdt", "sidt"})
IDENT = re.compile(r"[A-Za-z_.$][\w.$]*")
LABEL = re.compile(r"^\s*([A-Za-z_.$][\w.$]*)\s*:(?!:)")
EQU = re.compile(r"^\s*\.(equ|set)\s+([A-Za-z_.$][\w.$]*)\s*,", re.IGNORECASE)


class AsmError(ValueError):
    """A source error, located: `file:line: message`."""

    def __init__(self, filename: str, line: int, message: str, text: str = "") -> None:
        self.filename = filename
        self.line = line
        self.message = message
        self.text = text
        where = f"{filename}:{line}" if line else filename
        super().__init__(f"{where}: {message}" + (f"\n    {text.strip()}" if text.strip() else ""))


@dataclass(frozen=True)
class Statement:
    line: int  # 1-based line in the source file
    text: str  # one statement, comments removed, labels included
    mnemonic: str  # lower case; '' for a bare label
    operands: str
    fix_table_prefix: bool = False


@dataclass
class Program:
    filename: str
    statements: list[Statement] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)  # name -> defining line
    constants: dict[str, int] = field(default_factory=dict)  # .equ/.set name -> line

    def source_line(self, index: int) -> Statement:
        return self.statements[index]

    @property
    def has_code(self) -> bool:
        return any(s.mnemonic for s in self.statements)


def strip_comments(text: str) -> str:
    """Remove `# ...` and `/* ... */` outside string literals."""
    out = []
    i = 0
    in_string = False
    in_block = False
    while i < len(text):
        ch = text[i]
        if in_block:
            if text.startswith("*/", i):
                in_block = False
                i += 2
                continue
            if ch == "\n":
                out.append(ch)
            i += 1
            continue
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
            continue
        if ch == '"':
            in_string = True
        elif text.startswith("/*", i):
            in_block = True
            i += 2
            continue
        elif ch == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def split_statements(line: str) -> list[str]:
    """Split one line at `;` outside string literals."""
    parts, current, in_string = [], [], False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_string and ch == "\\" and i + 1 < len(line):
            current.append(line[i : i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        if ch == ";" and not in_string:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p for p in (part.strip() for part in parts) if p]


ALIGN = re.compile(r"^(?P<labels>(?:\s*[A-Za-z_.$][\w.$]*\s*:)*)\s*\.(?:b?align)\s+(?P<n>[^,]+)$",
                   re.IGNORECASE)


SEGMENT_STACK_OPS = {
    ("push", "es"): "0x06", ("push", "cs"): "0x0e", ("push", "ss"): "0x16",
    ("push", "ds"): "0x1e", ("push", "fs"): "0x0f, 0xa0", ("push", "gs"): "0x0f, 0xa8",
    ("pop", "es"): "0x07", ("pop", "ss"): "0x17", ("pop", "ds"): "0x1f",
    ("pop", "fs"): "0x0f, 0xa1", ("pop", "gs"): "0x0f, 0xa9",
}
LABELS = re.compile(r"^((?:\s*[A-Za-z_.$][\w.$]*\s*:(?!:))*)\s*(.*)$", re.DOTALL)


def _normalize(text: str) -> str:
    """Rewrite the forms keystone encodes wrongly into what the CPU means in 32-bit code.

    `.align N` pads with zeros (the assemblers pick different NOPs); `push cs`
    and friends, which keystone makes 16-bit pushes, become their one-byte
    opcodes; `iret`, a 16-bit IRET to keystone, becomes `iretd`.
    """
    if match := ALIGN.match(text):
        return f"{match.group('labels')} .balign {match.group('n').strip()}, 0".strip()
    labels, body = LABELS.match(text).groups()  # type: ignore[union-attr]
    words = body.lower().split()
    if len(words) == 2 and tuple(words) in SEGMENT_STACK_OPS:
        return f"{labels} .byte {SEGMENT_STACK_OPS[words[0], words[1]]}".strip()
    if words == ["iret"]:
        return f"{labels} iretd".strip()
    return text


def _mnemonic(text: str) -> tuple[str, str]:
    rest = text
    while match := LABEL.match(rest):
        rest = rest[match.end() :]
    rest = rest.strip()
    if not rest:
        return "", ""
    head, _, operands = rest.partition(" ")
    head, _, tail = head.partition("\t")
    return head.lower(), (tail + " " + operands).strip()


def _outside_brackets(operands: str) -> str:
    return re.sub(r"\[[^\]]*\]", " ", re.sub(r'"(?:\\.|[^"\\])*"', " ", operands))


def parse(source: str, filename: str = "<source>") -> Program:
    """Read a source into statements; AsmError for forms the dialect refuses."""
    program = Program(filename)
    raw_lines = source.splitlines()
    clean_lines = strip_comments(source).splitlines()
    for number, line in enumerate(clean_lines, start=1):
        for text in split_statements(line):
            rest = text
            while match := LABEL.match(rest):
                program.labels.setdefault(match.group(1), number)
                rest = rest[match.end() :]
            if match := EQU.match(rest):
                program.constants.setdefault(match.group(2), number)
            text = _normalize(text)
            mnemonic, operands = _mnemonic(text)
            program.statements.append(
                Statement(number, text, mnemonic, operands, mnemonic in TABLE_INSTRUCTIONS)
            )
    seen: dict[str, int] = {}
    for statement in program.statements:
        original = raw_lines[statement.line - 1] if statement.line <= len(raw_lines) else ""
        problem = check(statement, program) or _check_symbols(statement, program, seen)
        if problem:
            raise AsmError(filename, statement.line, problem, original)
    return program


def symbol_names(text: str) -> list[str]:
    """Identifiers an operand list uses, outside strings, that could be symbols."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', " ", text)
    text = re.sub(r"\b0x[0-9a-fA-F]+\b|\b\d\w*", " ", text)
    return [
        name for name in IDENT.findall(text)
        if name.lower() not in REGISTERS and name.lower() not in SIZE_WORDS
    ]


def _check_symbols(statement: Statement, program: Program, seen: dict[str, int]) -> str | None:
    """Duplicate labels, undefined symbols and unfinished operands, which keystone
    reports without a line or, for the last, silently assembles as something else."""
    rest = statement.text
    while match := LABEL.match(rest):
        name = match.group(1)
        if name in seen:
            return f"the label `{name}` is already defined on line {seen[name]}"
        seen[name] = statement.line
        rest = rest[match.end() :]
    operands = statement.operands
    if operands.count("[") != operands.count("]") or re.search(r"[-+*,\[(]\s*$", operands):
        return "this operand is unfinished"
    used = symbol_names(operands)
    if statement.mnemonic in (".equ", ".set"):
        used = used[1:]
    elif statement.mnemonic.startswith(".") and statement.mnemonic not in DATA_DIRECTIVES:
        used = []
    defined = program.labels.keys() | program.constants.keys()
    for name in used:
        if name not in defined:
            return f"undefined symbol `{name}`"
    return None


def check(statement: Statement, program: Program) -> str | None:
    """Why a statement is outside the dialect, or None."""
    mnemonic, operands = statement.mnemonic, statement.operands
    lowered = operands.lower()
    words = set(symbol_names(_outside_brackets(operands)))
    lowered_words = {w.lower() for w in words}
    if mnemonic in (".section", ".data", ".bss", ".org"):
        return (f"`{mnemonic}` is not supported: a guest is one flat section; "
                "use `.fill`, `.space` or `.align` to place things")
    if mnemonic and not mnemonic.startswith(".") and ('"' in operands or "'" in operands):
        return "character and string constants only go in .ascii/.asciz: write the number"
    if "offset" in lowered_words:
        return "keystone has no OFFSET: write `lea reg, [label]` for a label's address"
    if mnemonic in ("jmp", "call") and re.match(r"^\s*(far\s+)?\w+\s*:\s*\w+", lowered):
        return ("far jumps do not assemble with keystone: write "
                "`.byte 0xea; .long target; .word selector` (jmp) or use `retf`")
    if mnemonic in ("ljmp", "lcall"):
        return "write a far jump as `.byte 0xea; .long target; .word selector`"
    if not mnemonic or mnemonic.startswith(".") or BRANCHES.match(mnemonic):
        return _check_constant_order(statement, program, words)
    if mnemonic == "push" and words and "[" not in operands:
        return (f"`push {operands}`: keystone encodes a push of a named constant as a "
                "16-bit push when it fits a byte; write the number, or load a register "
                "and push that")
    labels = sorted(w for w in words if w in program.labels and w.lower() not in REGISTERS)
    if labels:
        name = labels[0]
        if mnemonic == "push":
            return (f"`push {name}` does not assemble with keystone: "
                    f"write `lea eax, [{name}]` then `push eax`")
        return (f"the label `{name}` as a bare operand means its address to keystone and its "
                f"contents to GNU as: write `lea reg, [{name}]` for the address or "
                f"`[{name}]` for the contents")
    return _check_constant_order(statement, program, words)


def _check_constant_order(statement: Statement, program: Program, words: set[str]) -> str | None:
    if statement.mnemonic in (".equ", ".set"):
        return None
    for word in sorted(words):
        defined = program.constants.get(word)
        if defined is not None and defined > statement.line:
            return (f"`{word}` is used before its `.equ` on line {defined}: GNU as would read "
                    "it as a memory operand; define constants before their first use")
    return None
