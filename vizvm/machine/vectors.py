"""Exception vectors of 32-bit x86 and the rules that combine them."""

from __future__ import annotations

from dataclasses import dataclass

DE, DB, NMI, BP, OF, BR, UD, NM, DF = 0, 1, 2, 3, 4, 5, 6, 7, 8
TS, NP, SS, GP, PF = 10, 11, 12, 13, 14
MF, AC, MC, XM = 16, 17, 18, 19

NAMES = {
    DE: "#DE divide error",
    DB: "#DB debug",
    NMI: "NMI",
    BP: "#BP breakpoint",
    OF: "#OF overflow",
    BR: "#BR bound range",
    UD: "#UD invalid opcode",
    NM: "#NM device not available",
    DF: "#DF double fault",
    9: "coprocessor segment overrun",
    TS: "#TS invalid TSS",
    NP: "#NP segment not present",
    SS: "#SS stack fault",
    GP: "#GP general protection",
    PF: "#PF page fault",
    MF: "#MF x87 error",
    AC: "#AC alignment check",
    MC: "#MC machine check",
    XM: "#XM SIMD error",
}

WITH_ERROR_CODE = frozenset({DF, TS, NP, SS, GP, PF, AC})
CONTRIBUTORY = frozenset({DE, TS, NP, SS, GP})


def name(vector: int) -> str:
    if vector in NAMES:
        return NAMES[vector]
    if vector < 32:
        return f"reserved exception {vector}"
    return f"vector {vector:#04x}"


def short_name(vector: int) -> str:
    """'#GP' for exceptions, 'int 0x80' for the rest."""
    full = name(vector)
    return full.split()[0] if full.startswith("#") else f"int {vector:#04x}"


@dataclass(eq=False)
class CpuFault(Exception):
    """An exception that an operation of the machine raised on the guest's behalf.

    Delivery code raises it when the guest's tables are broken, so that the
    caller can combine it with the event being delivered (double fault rules).
    """

    vector: int
    error_code: int = 0
    why: str = ""
    cr2: int | None = None

    def __str__(self) -> str:
        text = f"{name(self.vector)}({self.error_code:#x})"
        return f"{text}: {self.why}" if self.why else text


def escalate(first: int, second: int) -> int | None:
    """The vector to deliver when `second` occurs while delivering `first`.

    Returns DF for the double-fault combinations (SDM vol. 3A, table 6-5), None
    for a triple fault, and `second` when the two are handled serially.
    """
    if first == DF:
        return None
    if first in CONTRIBUTORY and second in CONTRIBUTORY:
        return DF
    if first == PF and (second == PF or second in CONTRIBUTORY):
        return DF
    return second
