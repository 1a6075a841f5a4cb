"""classify agrees with Robin and Irvine (2000) and the Intel SDM, by running.

The expected classes below are the literature's; the code under test has no
list of instructions, only the two runs and their comparison.
"""

from __future__ import annotations

import pytest

from vizvm.session.classify import classify

# Robin & Irvine, "Analysis of the Intel Pentium's Ability to Support a Secure
# Virtual Machine Monitor" (USENIX Security 2000), section 4: sensitive but
# unprivileged instructions.
SENSITIVE = [
    "sgdt [ebx]", "sidt [ebx]", "sldt eax", "smsw eax", "pushfd", "popfd",
    "lar eax, ebx", "lsl eax, ebx", "verr ax", "verw ax", "push cs", "push ss",
    "pop ds", "pop ss", "str eax", "mov eax, cs", "mov ss, ax", "mov ds, ax",
    "int 0x80", "retf", "iretd",
    ".byte 0x9a; .long 0x100010; .word 0x08",  # call far
]
# Intel SDM vol. 3A, 5.9 (privileged instructions) and 19.5 (IOPL-sensitive ones,
# with IOPL 0): they fault at CPL > 0.
PRIVILEGED = [
    "cli", "sti", "hlt", "lgdt [eax]", "lidt [eax]", "lldt ax", "ltr ax", "lmsw ax",
    "clts", "mov eax, cr0", "mov cr3, eax", "mov dr7, eax", "invlpg [eax]", "wbinvd",
    "invd", "rdmsr", "wrmsr", "rdpmc", "in al, dx", "out dx, al", "insb", "outsd",
]
INNOCUOUS = [
    "nop", "add eax, ebx", "mov eax, [ebx]", "lea eax, [ebx+4]", "push eax", "pop eax",
    "xchg eax, ecx", "imul eax, ebx", "cpuid", "rdtsc", "movsb", "ud2", "push ds",
]


@pytest.mark.parametrize("instruction", SENSITIVE)
def test_sensitive_unprivileged(instruction: str) -> None:
    result = classify(instruction)
    assert result.cls == "sensitive", result.reason
    assert any(e.silently_different for e in result.evidence)


@pytest.mark.parametrize("instruction", PRIVILEGED)
def test_privileged(instruction: str) -> None:
    result = classify(instruction)
    assert result.cls == "privileged", result.reason
    trapped = [e for e in result.evidence if e.trapped]
    assert trapped and trapped[0].deprivileged.fault[0] == 13  # #GP


@pytest.mark.parametrize("instruction", INNOCUOUS)
def test_innocuous(instruction: str) -> None:
    assert classify(instruction).cls == "innocuous"


@pytest.mark.parametrize("ring", [1, 2, 3])
def test_popf_is_sensitive_at_every_deprivileged_ring(ring: int) -> None:
    assert classify("popfd", ring).cls == "sensitive"


def test_the_evidence_names_what_differs() -> None:
    result = classify("smsw eax")
    first = next(e for e in result.evidence if e.silently_different)
    assert first.differences[0].what == "eax"
    assert first.differences[0].native != first.differences[0].deprivileged


def test_setup_statements_run_first() -> None:
    # with an RPL-1 selector prepared, VERR answers differently at ring 1
    result = classify("mov eax, 0x11; verr ax")
    assert result.disassembly.startswith("verr")
    assert result.cls == "sensitive"
