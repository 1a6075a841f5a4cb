"""Guest sources to flat images, through keystone or the GNU assembler.

keystone (in-process) is used where it has a wheel; elsewhere GNU as and ld
from the PATH. Both read the same front-end output (vizvm.asm.source), and
the repository's tests check that they produce the same bytes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from vizvm.asm.disasm import decode
from vizvm.asm.keystone_worker import WORKER, KeystoneCrashed
from vizvm.asm.source import (
    LABEL,
    TABLE_INSTRUCTIONS,
    AsmError,
    Program,
    parse,
    symbol_names,
)

DEFAULT_ORIGIN = 0x0010_0000
NOP = b"\x90"
FIX_LABEL = "__vizvm_fix"


class Backend(Protocol):
    name: str

    def available(self) -> bool: ...

    def assemble(self, program: Program, origin: int) -> bytes: ...


MISSING_ASSEMBLER = (
    "assembling needs keystone (pip install 'vizvm[authoring]', on x86-64) or GNU as "
    "(GNU binutils: as, ld and objcopy on the PATH); built-in guests and lessons run without it"
)


def _missing_backends_message() -> str:
    return f"no assembler is available: {MISSING_ASSEMBLER}"


class KeystoneBackend:
    name = "keystone"

    def available(self) -> bool:
        try:
            import keystone  # noqa: F401
        except (ImportError, OSError):
            return False
        return True

    def assemble(self, program: Program, origin: int) -> bytes:
        fixes = [i for i, s in enumerate(program.statements) if s.fix_table_prefix]
        lines = [
            (f"{FIX_LABEL}{i}: " if s.fix_table_prefix else "") + s.text
            for i, s in enumerate(program.statements)
        ]
        if fixes:
            lines.append(".long " + ", ".join(f"{FIX_LABEL}{i}" for i in fixes))
        # No sym_resolver: installing one makes keystone 0.9.2 read numbers as hex.
        try:
            image, error = WORKER.assemble("\n".join(lines), origin)
        except KeystoneCrashed:
            raise _locate_crash(program) from None
        if image is None:
            raise _locate_keystone_error(program, error or "")
        if program.has_code and not image:
            raise AsmError(
                program.filename, 0, "keystone produced no code (an unsupported directive?)"
            )
        return _apply_table_fixes(image, fixes, origin, program)


def _apply_table_fixes(image: bytes, fixes: list[int], origin: int, program: Program) -> bytes:
    """Move keystone's stray 0x66 off LGDT/LIDT/SGDT/SIDT: same length, a NOP after.

    The table of fix addresses was appended to the image; it is removed here.
    """
    if not fixes:
        return image
    table = image[-4 * len(fixes) :]
    out = bytearray(image[: -4 * len(fixes)])
    for n, _index in enumerate(fixes):
        at = int.from_bytes(table[4 * n : 4 * n + 4], "little") - origin
        insn = decode(bytes(out[at : at + 15]), origin + at)
        if out[at] == 0x66 and insn.mnemonic in TABLE_INSTRUCTIONS:
            out[at : at + insn.size] = out[at + 1 : at + insn.size] + NOP
        else:
            raise AsmError(program.filename, program.statements[_index].line,
                           "internal: unexpected encoding of a descriptor-table instruction")
    return bytes(out)


KEYSTONE_HINTS = {
    "MNEMONICFAIL": "unknown instruction",
    "INVALIDOPERAND": "invalid operand",
    "SYMBOL_MISSING": "undefined symbol",
    "SYMBOL_REDEFINED": "label defined twice",
    "DIRECTIVE_UNKNOWN": "unknown directive",
    "EXPR_TOKEN": "cannot read this expression",
    "STAT_TOKEN": "cannot read this statement",
}


def _describe(text: str) -> str:
    for key, hint in KEYSTONE_HINTS.items():
        if key in text:
            return f"{hint} (keystone: {text})"
    return f"keystone: {text}"


def _alone(program: Program) -> list[str]:
    """Each statement on its own, with its symbols defined as stand-ins."""
    defined = set(program.labels) | set(program.constants)
    texts = []
    for statement in program.statements:
        stand_ins = "".join(
            f".equ {name}, 0\n" for name in dict.fromkeys(symbol_names(statement.operands))
            if name in defined
        )
        texts.append(stand_ins + _without_labels(statement.text))
    return texts


def _located(program: Program, index: int, message: str) -> AsmError:
    statement = program.statements[index]
    return AsmError(program.filename, statement.line, message,
                    program.source_line(statement.line))


def _locate_keystone_error(program: Program, error: str) -> AsmError:
    """keystone reports no line; find it by assembling statements alone."""
    try:
        found = WORKER.first_failure(_alone(program))
    except KeystoneCrashed:
        return _locate_crash(program)
    if found is None:
        return AsmError(program.filename, 0, _describe(error))
    return _located(program, found[0], _describe(found[1]))


def _locate_crash(program: Program) -> AsmError:
    if not WORKER.healthy():
        return AsmError(program.filename, 0, "keystone cannot run on this machine (its worker "
                        "process stops at once); install GNU binutils to use GNU as instead")
    return _locate_crashing_statement(program)


def _locate_crashing_statement(program: Program) -> AsmError:
    """keystone died: the first prefix of the source that kills it ends at the culprit
    (what crashes can depend on what came before, such as the address)."""
    texts = [s.text for s in program.statements]
    for index in range(len(texts)):
        try:
            WORKER.assemble("\n".join(texts[: index + 1]), 0)
        except KeystoneCrashed:
            return _located(program, index, "keystone crashes on this statement; "
                            "write it another way (docs/assembly.md)")
    return AsmError(program.filename, 0, "keystone crashed on this source")


def _without_labels(text: str) -> str:
    while match := LABEL.match(text):
        text = text[match.end() :]
    return text.strip() or "nop"


class GnuBackend:
    """GNU as and ld for i386, found on the PATH (cross prefixes included)."""

    name = "gnu-as"
    PREFIXES = ("", "i686-elf-", "i686-linux-gnu-", "i386-elf-", "x86_64-elf-",
                "x86_64-linux-gnu-")
    HEADER = (".intel_syntax noprefix", ".code32")

    def _tools(self) -> tuple[str, str, str] | None:
        for prefix in self.PREFIXES:
            tools = [shutil.which(prefix + tool) for tool in ("as", "ld", "objcopy")]
            if all(tools) and self._is_gnu(tools[0]):  # type: ignore[arg-type]
                return tools[0], tools[1], tools[2]  # type: ignore[return-value]
        return None

    @staticmethod
    def _is_gnu(path: str) -> bool:
        try:
            out = subprocess.run(
                [path, "--version"], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return "GNU assembler" in out.stdout

    def available(self) -> bool:
        return self._tools() is not None

    def tools(self) -> tuple[str, str, str] | None:
        """The paths of as, ld and objcopy that would be used, if all are found."""
        return self._tools()

    def assemble(self, program: Program, origin: int) -> bytes:
        tools = self._tools()
        if tools is None:
            raise AsmError(program.filename, 0, _missing_backends_message())
        as_, ld, objcopy = tools
        lines = list(self.HEADER)
        line_of: dict[int, int] = {}
        for statement in program.statements:
            lines.append(statement.gnu_text or statement.text)
            line_of[len(lines)] = statement.line
            if statement.fix_table_prefix:
                lines.append("nop")  # the same bytes as the keystone back end
        with tempfile.TemporaryDirectory(prefix="vizvm-as-") as tmp:
            work = Path(tmp)
            (work / "guest.s").write_text("\n".join(lines) + "\n")
            steps = [
                [as_, "--32", "-o", "guest.o", "guest.s"],
                [ld, "-m", "elf_i386", f"-Ttext={origin:#x}", "-e", f"{origin:#x}",
                 "--build-id=none", "-o", "guest.elf", "guest.o"],
                [objcopy, "-O", "binary", "-j", ".text", "guest.elf", "guest.bin"],
            ]
            for step in steps:
                result = subprocess.run(
                    step, cwd=work, capture_output=True, text=True, timeout=60, check=False
                )
                if result.returncode != 0:
                    raise _locate_gnu_error(program, result.stderr, line_of)
            return (work / "guest.bin").read_bytes()


def _locate_gnu_error(program: Program, stderr: str, line_of: dict[int, int]) -> AsmError:
    for row in stderr.splitlines():
        match = re.match(r"guest\.s:(\d+): (?:Error|Fatal error): (.*)", row)
        if match:
            line = line_of.get(int(match.group(1)), 0)
            return AsmError(
                program.filename, line, f"GNU as: {match.group(2)}", program.source_line(line)
            )
    return AsmError(program.filename, 0, f"GNU as/ld failed: {stderr.strip()}")


BACKENDS: dict[str, Backend] = {"keystone": KeystoneBackend(), "gnu-as": GnuBackend()}


def available_backends() -> list[str]:
    return [name for name, backend in BACKENDS.items() if backend.available()]


def assemble(
    source: str,
    *,
    origin: int = DEFAULT_ORIGIN,
    filename: str = "<source>",
    backend: str | None = None,
) -> bytes:
    """Assemble a vizvm-dialect source into a flat image loaded at `origin`."""
    program = parse(source, filename)
    if not program.has_code:
        raise AsmError(filename, 0, "the source has no instructions or data")
    if backend is None:  # the first available; GNU as is not even looked for when keystone is
        backend = next((name for name, b in BACKENDS.items() if b.available()), None)
        if backend is None:
            raise AsmError(filename, 0, _missing_backends_message())
    if backend not in BACKENDS:
        raise AsmError(filename, 0, f"unknown assembler back end {backend!r}")
    return BACKENDS[backend].assemble(program, origin)
