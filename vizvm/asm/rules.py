"""The rules of the vizvm dialect: what keystone and GNU as read alike.

Each check returns why a statement is outside the dialect, or None. Every
rule was found by assembling both ways; docs/assembly.md lists them for
guest authors, with the form to write instead.
"""

from __future__ import annotations

import re

from vizvm.asm.lexicon import (
    ADDRESS_REGISTERS,
    BRANCHES,
    DATA_DIRECTIVES,
    DIRECTIVES,
    EQU,
    IDENT,
    LABEL,
    RESERVED_WORDS,
    WORD_REGISTERS,
    ZERO_PAD,
    Program,
    Statement,
    _operand_list,
    _outside_brackets,
    _without_literals,
    is_register,
    number_value,
    symbol_names,
)


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
