"""The words of the vizvm dialect: statements, symbols, numbers, registers.

The lexical half of the front end (vizvm.asm.source): how a line splits into
statements, what is a label, a constant, a register or a number, and the
types a parsed program is made of. vizvm.asm.rules holds the checks.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass, field

SIZE_WORDS = frozenset(
    ["byte", "word", "dword", "fword", "qword", "tbyte", "ptr", "short", "near", "far"]
)
SEGMENT_REGISTERS = frozenset(["cs", "ds", "es", "fs", "gs", "ss"])
BRANCHES = re.compile(r"^(j[a-z]+|call|loop[a-z]*|jecxz)$")
DATA_DIRECTIVES = frozenset(
    [".byte", ".word", ".short", ".long", ".int", ".quad", ".ascii", ".asciz", ".string"]
)
# What both assemblers read alike (`.align N` arrives here as `.balign N, 0`).
DIRECTIVES = DATA_DIRECTIVES | frozenset(
    [".fill", ".space", ".skip", ".zero", ".balign", ".equ", ".set", ".globl", ".global",
     ".rept", ".endr"]
)
NO_BYTES = frozenset([".equ", ".set", ".globl", ".global", ".rept", ".endr"])
ZERO_PAD = re.compile(r"^[^,]+,\s*0$")
TABLE_INSTRUCTIONS = frozenset({"lgdt", "lidt", "sgdt", "sidt"})
# Any register either assembler knows, in any mode (AVX-512's k0-k7 included):
# such a name cannot be a symbol.
REGISTER_NAME = re.compile(
    r"e?[abcd]x|[abcd][lh]|e?(si|di|sp|bp)|[cdefgs]s|[re]?ip|[re]iz"
    r"|r[abcd]x|r(si|di|sp|bp)|(si|di|sp|bp)l|r([89]|1[0-5])[bwd]?"
    r"|[cdt]r\d+|st\d?|mm\d+|[xyz]mm\d+|k[0-7]|bnd[0-3]",
    re.IGNORECASE,
)
# GNU as reads these as operators or keywords in Intel syntax.
RESERVED_WORDS = frozenset(
    ["and", "or", "xor", "not", "mod", "shl", "shr", "eq", "ne", "lt", "le", "gt", "ge",
     "offset", "flat", "oword", "xmmword", "ymmword", "zmmword"]
) | SIZE_WORDS
IDENT = re.compile(r"[A-Za-z_.$][\w.$]*")
LABEL = re.compile(r"^\s*([A-Za-z_.$][\w.$]*)\s*:(?!:)")
EQU = re.compile(r"^\s*\.(equ|set)\s+([A-Za-z_.$][\w.$]*)\s*,", re.IGNORECASE)


def is_register(name: str) -> bool:
    return REGISTER_NAME.fullmatch(name) is not None


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
    fix_table_prefix: bool = False  # LGDT and friends: keystone adds a 0x66 to remove
    gnu_text: str = ""  # what GNU as is given instead of `text`, when they differ


@dataclass
class Program:
    filename: str
    statements: list[Statement] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)  # name -> defining line
    constants: dict[str, int] = field(default_factory=dict)  # .equ/.set name -> line
    label_based: set[str] = field(default_factory=set)  # constants computed from labels
    source_lines: list[str] = field(default_factory=list)  # as written, for messages

    def source_line(self, line: int) -> str:
        """Line `line` (1-based) as the author wrote it, comments included."""
        return self.source_lines[line - 1] if 0 < line <= len(self.source_lines) else ""

    @property
    def has_code(self) -> bool:
        """Whether any statement emits bytes (constants and labels alone do not)."""
        return any(s.mnemonic and s.mnemonic not in NO_BYTES for s in self.statements)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"?')  # to the end of the line if unclosed
CHAR = re.compile(r"'(?:\\.|[^'\\])'")  # 'a', '\n': a character constant


def _literal_at(text: str, i: int) -> int:
    """The end of a string or character literal starting at i, or i if none does."""
    match = STRING.match(text, i) or CHAR.match(text, i)
    return match.end() if match else i


def strip_comments(text: str) -> str:
    """Remove `# ...` and `/* ... */` outside string and character literals.

    A block comment keeps its newlines, so that line numbers stay right.
    """
    out = []
    i = 0
    while i < len(text):
        if (end := _literal_at(text, i)) > i:
            out.append(text[i:end])
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = len(text) if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
        elif text[i] == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def split_statements(line: str) -> list[str]:
    """Split one line at `;` outside string and character literals."""
    parts, current = [], []
    i = 0
    while i < len(line):
        if (end := _literal_at(line, i)) > i:
            current.append(line[i:end])
            i = end
            continue
        if line[i] == ";":
            parts.append("".join(current))
            current = []
        else:
            current.append(line[i])
        i += 1
    parts.append("".join(current))
    return [p for p in (part.strip() for part in parts) if p]


def _without_literals(text: str) -> str:
    return CHAR.sub(" 0 ", STRING.sub(" ", text))
NUMBER = re.compile(r"\b(0x[0-9a-f]+|0b[01]+|\d+)\b", re.IGNORECASE)
OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Mod: operator.mod, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_, ast.BitXor: operator.xor,
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert,
}  # fmt: skip


def number_value(expression: str) -> int | None:
    """The value of a constant expression made of numbers only, as GNU as reads
    it (a leading 0 means octal), or None for anything else."""

    def literal(match: re.Match[str]) -> str:
        text = match.group().lower()
        if text.startswith(("0x", "0b")):
            return str(int(text, 0))
        return str(int(text, 8) if text.startswith("0") else int(text))

    def evaluate(node: ast.expr) -> int:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            left, right = evaluate(node.left), evaluate(node.right)
            if isinstance(node.op, (ast.LShift, ast.RShift)) and not 0 <= right < 64:
                raise ValueError(node)  # keeps a hostile `1 << 10**9` cheap
            value = OPERATORS[type(node.op)](left, right)
            if abs(value) >= 1 << 64:
                raise ValueError(node)
            return value
        if isinstance(node, ast.UnaryOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](evaluate(node.operand))
        raise ValueError(node)

    if symbol_names(expression) or not expression.strip():
        return None
    try:
        value = evaluate(ast.parse(NUMBER.sub(literal, expression.strip()), mode="eval").body)
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, RecursionError):
        return None
    return value


def _mnemonic(text: str) -> tuple[str, str]:
    rest = text
    while match := LABEL.match(rest):
        rest = rest[match.end() :]
    words = rest.split(None, 1)
    if not words:
        return "", ""
    return words[0].lower(), words[1].strip() if len(words) == 2 else ""


def _outside_brackets(operands: str) -> str:
    return re.sub(r"\[[^\]]*\]", " ", _without_literals(operands))


def symbol_names(text: str) -> list[str]:
    """Identifiers an operand list uses, outside literals, that could be symbols."""
    text = _without_literals(text)
    text = re.sub(r"\b0x[0-9a-fA-F]+\b|\b\d\w*", " ", text)
    return [
        name for name in IDENT.findall(text)
        if not is_register(name) and name.lower() not in SIZE_WORDS
    ]


ADDRESS_REGISTERS = frozenset(["eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp"])
WORD_REGISTERS = frozenset(["ax", "bx", "cx", "dx", "si", "di", "sp", "bp"])
def _operand_list(operands: str) -> list[str]:
    return [o.strip() for o in operands.split(",")] if operands.strip() else []
