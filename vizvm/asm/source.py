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
ADDRESS_REGISTERS = frozenset(["eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp"])
WORD_REGISTERS = frozenset(["ax", "bx", "cx", "dx", "si", "di", "sp", "bp"])


@dataclass(frozen=True)
class Rewritten:
    text: str
    gnu_text: str = ""


def _operand_list(operands: str) -> list[str]:
    return [o.strip() for o in operands.split(",")] if operands.strip() else []


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


def _label_based_constants(program: Program) -> set[str]:
    """Constants whose value depends on a label's address (`.equ LEN, end - start`)."""
    uses = {
        s.operands.split(",", 1)[0].strip(): set(symbol_names(s.operands.partition(",")[2]))
        for s in program.statements
        if s.mnemonic in (".equ", ".set")
    }
    based: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, used in uses.items():
            if name not in based and used & (program.labels.keys() | based):
                based.add(name)
                changed = True
    return based


def symbol_names(text: str) -> list[str]:
    """Identifiers an operand list uses, outside literals, that could be symbols."""
    text = _without_literals(text)
    text = re.sub(r"\b0x[0-9a-fA-F]+\b|\b\d\w*", " ", text)
    return [
        name for name in IDENT.findall(text)
        if not is_register(name) and name.lower() not in SIZE_WORDS
    ]


def _check_symbols(statement: Statement, program: Program, seen: dict[str, int]) -> str | None:
    """Duplicate labels, undefined symbols and unfinished operands, which keystone
    reports without a line or, for the last, silently assembles as something else."""
    rest = statement.text
    names = []
    while match := LABEL.match(rest):
        names.append(match.group(1))
        rest = rest[match.end() :]
    if match := EQU.match(rest):
        names.append(match.group(2))
    for name in names:
        if name.startswith("."):
            return f"`{name}`: start a name with a letter or `_` (keystone misreads a `.`)"
        if is_register(name) or name.lower() in RESERVED_WORDS:
            kind = "a register" if is_register(name) else "a keyword"
            return f"`{name}` is {kind} to the assemblers: choose another name"
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


# Mnemonics only one of the two assemblers knows, and what to write instead.
ONE_SIDED = {
    "lret": "write `retf`",
    "retfd": "write `retf`",
    "retfw": "write `.byte 0x66, 0xcb` for a 16-bit far return",
    "iretw": "write `.byte 0x66, 0xcf` for a 16-bit IRET",
    "pushfw": "write `.byte 0x66, 0x9c` for a 16-bit PUSHF",
    "popfw": "write `.byte 0x66, 0x9d` for a 16-bit POPF",
    "pushw": "write `push` (32-bit) or `.byte 0x66, 0x6a, n` for a 16-bit push",
    "pushd": "write `push`",
    "salc": "write `.byte 0xd6`",
    "icebp": "write `int1`",
}
INT3 = re.compile(r"^(0x0*3|0*3)$", re.IGNORECASE)


def check(statement: Statement, program: Program) -> str | None:
    """Why a statement is outside the dialect, or None."""
    mnemonic = statement.mnemonic
    if statement.operands.startswith("=") and not statement.operands.startswith("=="):
        name = statement.text.partition("=")[0].rpartition(":")[2].strip()
        return f"write `.equ {name}, value` to define a constant"
    if number := re.search(r"\b\d[0-9a-f]*h\b", _without_literals(statement.operands), re.I):
        digits = number.group()[:-1]
        return f"`{digits}h`: GNU as does not read a trailing h; write 0x{digits}"
    if mnemonic.startswith("."):
        problem = _check_directive(mnemonic, statement.operands)
    elif mnemonic:
        problem = _check_instruction(mnemonic, statement.operands, program)
    else:
        problem = None
    return problem or _check_constant_order(statement, program)


def _check_directive(mnemonic: str, operands: str) -> str | None:
    if mnemonic in (".section", ".data", ".bss", ".text", ".org"):
        return (f"`{mnemonic}` is not supported: a guest is one flat section; "
                "use `.fill`, `.space` or `.align` to place things")
    if mnemonic in (".include", ".incbin"):
        return (f"`{mnemonic}` is not supported: a guest is one source file, and would "
                "otherwise read files from this computer")
    padded = mnemonic == ".balign" and ZERO_PAD.match(operands)
    if mnemonic in (".align", ".p2align") or (mnemonic == ".balign" and not padded):
        return ("write `.align N` with N a number of bytes (a power of two): it pads with "
                "zeros; for other padding use `.fill count, 1, value`")
    if mnemonic == ".balign":
        n = operands.partition(",")[0].strip()
        if n.isdigit() and int(n) & (int(n) - 1):
            return f"`.align {n}`: the alignment must be a power of two"
    if mnemonic not in DIRECTIVES:
        return (f"`{mnemonic}` is not part of the vizvm dialect; the directives are "
                + ", ".join(sorted(DIRECTIVES - {".balign"} | {".align"})))
    return None


def _check_instruction(mnemonic: str, operands: str, program: Program) -> str | None:
    lowered = operands.lower()
    words = set(symbol_names(_outside_brackets(operands)))
    if not re.fullmatch(r"[a-z][a-z0-9]*", mnemonic):
        return f"unknown instruction `{mnemonic}`"
    if mnemonic in ONE_SIDED:
        return f"`{mnemonic}` assembles with only one of keystone and GNU as: {ONE_SIDED[mnemonic]}"
    if '"' in operands or "'" in operands:
        return "character and string constants only go in .ascii/.asciz: write the number"
    if re.search(r"\boffset\b", lowered):
        return "keystone has no OFFSET: write `lea reg, [label]` for a label's address"
    far = "write a far jump as `.byte 0xea; .long target; .word selector`"
    if mnemonic in ("ljmp", "lcall") or (
        mnemonic in ("jmp", "call") and re.match(r"^\s*(far\s+)?\w+\s*:\s*\w+", lowered)
    ):
        return f"far jumps and calls do not assemble with keystone: {far}, or use `retf`"
    if mnemonic in ("jmp", "call") and re.search(r"\b(far|fword)\b", lowered):
        return ("an indirect far jump or call does not assemble with keystone: push the "
                "selector and the offset and use `retf`")
    if re.search(r"\b(short|near|far)\b", lowered):
        return ("leave out `short`, `near` and `far`: the assemblers read them differently, "
                "and both pick a jump's size themselves")
    if mnemonic in ("push", "pop") and "[" not in operands and re.search(
        r"\b(byte|word|dword)\b", lowered
    ):
        return (f"`{mnemonic} {operands}`: a size before a number or register assembles "
                "with keystone only; write it without the size (a 32-bit push)")
    if mnemonic == "int" and INT3.match(operands.strip()):
        return ("`int 3` is 0xcd 0x03 to keystone and the one-byte 0xcc to GNU as: write "
                "`int3` for the breakpoint instruction, or `.byte 0xcd, 3`")
    if mnemonic == "nop" and operands:
        return ("keystone encodes a NOP with an operand as another instruction: write "
                "`nop`, or the bytes of the long NOP with `.byte`")
    for memory in re.findall(r"\[([^\]]*)\]", operands):
        if problem := _memory_problem(memory, program):
            return problem
    if problem := _immediate_size_problem(mnemonic, _operand_list(operands)):
        return problem
    if BRANCHES.match(mnemonic):
        return None  # a branch's bare label is its target, to both
    for operand in _operand_list(_without_literals(operands)):
        if "[" not in operand and symbol_names(operand) and not IDENT.match(operand):
            name = symbol_names(operand)[0]
            return (f"`{operand}`: keystone reads an expression that does not start with "
                    f"a name as a memory operand; start with `{name}`, or give the value "
                    "a name with `.equ`")
    labels = sorted(w for w in words if w in program.labels)
    if labels:
        name = labels[0]
        if mnemonic == "push":
            return (f"`push {name}` does not assemble with keystone: "
                    f"write `lea eax, [{name}]` then `push eax`")
        return (f"the label `{name}` as a bare operand means its address to keystone and its "
                f"contents to GNU as: write `lea reg, [{name}]` for the address or "
                f"`[{name}]` for the contents")
    if mnemonic == "push" and words and "[" not in operands:
        return (f"`push {operands}`: keystone encodes a push of a named constant as a "
                "16-bit push when it fits a byte; write the number, or load a register "
                "and push that")
    return None


ALU = frozenset(["mov", "add", "sub", "and", "or", "xor", "cmp", "adc", "sbb", "test", "imul"])
BYTE_REGISTERS = frozenset(["al", "ah", "bl", "bh", "cl", "ch", "dl", "dh"])


def _immediate_size_problem(mnemonic: str, operands: list[str]) -> str | None:
    """A number too wide for its operand: the assemblers cut it to different encodings."""
    if mnemonic not in ALU | {"push"} or not operands:
        return None
    value = number_value(operands[-1])
    if value is None:
        return None
    target = operands[0].lower()
    if target in BYTE_REGISTERS or target.startswith("byte"):
        bits = 8
    elif target in WORD_REGISTERS or target.startswith("word"):
        bits = 16
    else:
        bits = 32
    if -(1 << (bits - 1)) <= value < 1 << bits:
        return None
    return f"`{operands[-1]}` does not fit the {bits}-bit operand `{operands[0]}`"


def _check_constant_order(statement: Statement, program: Program) -> str | None:
    """A constant used before its `.equ`: GNU as reads it as a memory operand, and
    keystone, inside brackets, encodes a different address (`[K]` as `[ebx]`)."""
    if statement.mnemonic in (".equ", ".set"):
        return None
    for word in sorted(set(symbol_names(statement.operands))):
        defined = program.constants.get(word)
        if defined is not None and defined > statement.line:
            return (f"`{word}` is used before its `.equ` on line {defined}: "
                    "define constants before their first use")
    return None


def _memory_problem(memory: str, program: Program) -> str | None:
    """The address expressions keystone encodes as another address.

    Found by assembling both ways: keystone drops one of two symbols (`[table + K]`),
    ignores a minus or a product (`[ebx - K]`, `[ebx + K*2]`), and gives a constant
    a 32-bit displacement where GNU as gives 8 bits (`[ebx + K + 4]`, `[ebx + LEN]`
    with LEN computed from labels).
    """
    fix = "compute the value with `.equ` and use that one name"
    terms = re.findall(r"([-+]?)\s*([^-+]+)", memory.rsplit(":", 1)[-1])
    for _, term in terms:
        for factor in term.split("*"):
            if is_register(factor.strip()) and factor.strip().lower() not in ADDRESS_REGISTERS:
                return (f"`[{memory.strip()}]`: `{factor.strip()}` cannot be part of an "
                        "address; use 32-bit registers (eax, ebx, ecx, edx, esi, edi, ebp, esp)")
    uses_of_esp = [t for _, t in terms if "esp" in t.lower().replace(" ", "").split("*")]
    if len(uses_of_esp) > 1 or any("*" in t for t in uses_of_esp):
        return f"`[{memory.strip()}]`: esp can only be the base register of an address"
    symbols = [(sign, term.strip()) for sign, term in terms if symbol_names(term)]
    if not symbols:
        return None
    if len(symbols) > 1:
        return f"`[{memory.strip()}]`: keystone keeps only one symbol in an address; {fix}"
    sign, term = symbols[0]
    if sign == "-" or not IDENT.fullmatch(term):
        return (f"`[{memory.strip()}]`: keystone ignores a minus, product or other operator "
                f"on `{symbol_names(term)[0]}` in an address; {fix}")
    if term in program.constants:
        registers = [t for _, t in terms if any(is_register(f.strip()) for f in t.split("*"))]
        if len(terms) > len(registers) + 1:  # a number besides the constant
            return (f"`[{memory.strip()}]`: keystone and GNU as give `{term}` plus a number "
                    f"different encodings; {fix}")
        if registers and term in program.label_based:
            return (f"`[{memory.strip()}]`: `{term}` is computed from labels, and keystone "
                    "and GNU as encode it differently next to a register: load it into a "
                    "register first")
    return None
