"""Intel VT-x as the hardware-assist technique presents it: exit reasons, controls,
exit qualifications.

Numbers and names follow the Intel SDM, vol. 3C, appendix C (basic exit
reasons) and tables 27-3 (control-register access) and 27-5 (I/O
instructions).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

# Appendix C, "VMX basic exit reasons"
EXIT_REASONS: dict[int, str] = {
    0: "Exception or non-maskable interrupt (NMI)",
    1: "External interrupt",
    2: "Triple fault",
    3: "INIT signal",
    4: "Start-up IPI (SIPI)",
    5: "I/O system-management interrupt (SMI)",
    6: "Other SMI",
    7: "Interrupt window",
    8: "NMI window",
    9: "Task switch",
    10: "CPUID",
    11: "GETSEC",
    12: "HLT",
    13: "INVD",
    14: "INVLPG",
    15: "RDPMC",
    16: "RDTSC",
    17: "RSM",
    18: "VMCALL",
    19: "VMCLEAR",
    20: "VMLAUNCH",
    21: "VMPTRLD",
    22: "VMPTRST",
    23: "VMREAD",
    24: "VMRESUME",
    25: "VMWRITE",
    26: "VMXOFF",
    27: "VMXON",
    28: "Control-register accesses",
    29: "MOV DR",
    30: "I/O instruction",
    31: "RDMSR",
    32: "WRMSR",
    33: "VM-entry failure due to invalid guest state",
    34: "VM-entry failure due to MSR loading",
    36: "MWAIT",
    37: "Monitor trap flag",
    39: "MONITOR",
    40: "PAUSE",
    41: "VM-entry failure due to machine-check event",
    43: "TPR below threshold",
    44: "APIC access",
    45: "Virtualized EOI",
    46: "Access to GDTR or IDTR",
    47: "Access to LDTR or TR",
    48: "EPT violation",
    49: "EPT misconfiguration",
    50: "INVEPT",
    51: "RDTSCP",
    52: "VMX-preemption timer expired",
    53: "INVVPID",
    54: "WBINVD or WBNOINVD",
    55: "XSETBV",
    56: "APIC write",
    57: "RDRAND",
    58: "INVPCID",
    59: "VMFUNC",
    60: "ENCLS",
    61: "RDSEED",
    62: "Page-modification log full",
    63: "XSAVES",
    64: "XRSTORS",
}

EXCEPTION_OR_NMI, EXTERNAL_INTERRUPT, TRIPLE_FAULT = 0, 1, 2
INTERRUPT_WINDOW, CPUID, HLT, INVD, INVLPG, RDPMC, RDTSC = 7, 10, 12, 13, 14, 15, 16
CR_ACCESS, MOV_DR, IO_INSTRUCTION, RDMSR, WRMSR = 28, 29, 30, 31, 32
GDTR_IDTR_ACCESS, LDTR_TR_ACCESS, WBINVD = 46, 47, 54

GPR_NUMBERS = {"eax": 0, "ecx": 1, "edx": 2, "ebx": 3, "esp": 4, "ebp": 5, "esi": 6, "edi": 7}


def reason_name(reason: int) -> str:
    return EXIT_REASONS.get(reason, f"exit reason {reason}")


def cr_qualification(cr: int, access: int, gpr: str | None = None, lmsw: int = 0) -> int:
    """Table 27-3: CR number, access type (0 to CR, 1 from CR, 2 CLTS, 3 LMSW), register."""
    register = GPR_NUMBERS.get(gpr or "eax", 0)
    return (cr & 0xF) | (access & 3) << 4 | register << 8 | (lmsw & 0xFFFF) << 16


def io_qualification(port: int, size: int, is_in: bool, *, string: bool = False,
                     rep: bool = False, immediate: bool = False) -> int:
    """Table 27-5: size - 1, direction (1 = IN), string, REP, immediate operand, port."""
    return ((size - 1) & 7) | int(is_in) << 3 | int(string) << 4 | int(rep) << 5 \
        | int(immediate) << 6 | (port & 0xFFFF) << 16


@dataclass(frozen=True)
class Controls:
    """The VM-execution controls a run uses (SDM vol. 3C, 24.6), as a VMM would set them.

    The defaults are those of a first-generation VT-x (2005-2006) VMM: no EPT,
    so the VMM keeps shadow page tables and must see CR3 loads and stores,
    INVLPG and page faults; every port access exits.
    """

    hlt_exiting: bool = True
    unconditional_io_exiting: bool = True
    io_bitmap: frozenset[int] = frozenset()  # with unconditional I/O exiting off
    cr3_load_exiting: bool = True
    cr3_store_exiting: bool = True
    invlpg_exiting: bool = True
    msr_exiting: bool = True  # MSR bitmaps that ask for every MSR
    rdtsc_exiting: bool = False
    external_interrupt_exiting: bool = True
    interrupt_window_exiting: bool = True
    descriptor_table_exiting: bool = False
    exception_bitmap: frozenset[int] = field(default_factory=lambda: frozenset({14}))
    ept: bool = False  # extended page tables: no shadow paging, no paging exits

    def __post_init__(self) -> None:
        if not self.ept:
            # without EPT the VMM must shadow the guest's page tables
            object.__setattr__(self, "cr3_load_exiting", True)
            object.__setattr__(self, "cr3_store_exiting", True)
            object.__setattr__(self, "invlpg_exiting", True)
            object.__setattr__(self, "exception_bitmap", self.exception_bitmap | {14})

    def io_exits(self, port: int) -> bool:
        return self.unconditional_io_exiting or port in self.io_bitmap

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = sorted(value) if isinstance(value, frozenset) else value
        return out


FIRST_GENERATION = Controls()
# A current VMM: EPT, no paging exits, ports of the emulated devices in the bitmap.
MODERN = Controls(ept=True, cr3_load_exiting=False, cr3_store_exiting=False,
                  invlpg_exiting=False, exception_bitmap=frozenset(),
                  unconditional_io_exiting=False,
                  io_bitmap=frozenset(range(0x20, 0x22)) | frozenset(range(0x40, 0x44))
                  | frozenset(range(0x3F8, 0x400)) | frozenset({0xA0, 0xA1, 0xF4}))
PRESETS = {"first-generation": FIRST_GENERATION, "modern": MODERN}

BOOLEAN_CONTROLS = [f.name for f in fields(Controls) if f.type in ("bool", bool)]


def parse_controls(spec: str, base: Controls = FIRST_GENERATION) -> Controls:
    """A preset and changes: 'modern,no-hlt-exiting,io-bitmap=0x3f8-0x3ff+0xf4'."""
    changes: dict[str, object] = {}
    for item in (part.strip() for part in spec.split(",") if part.strip()):
        name, _, value = item.partition("=")
        if name in PRESETS and not value:
            base = PRESETS[name]
            continue
        key = name.replace("-", "_")
        negative = key.startswith("no_")
        key = key.removeprefix("no_")
        if key in BOOLEAN_CONTROLS and not value:
            changes[key] = not negative
        elif key in ("io_bitmap", "exception_bitmap") and value and not negative:
            changes[key] = frozenset(_numbers(value))
        else:
            valid = ", ".join(n.replace("_", "-") for n in BOOLEAN_CONTROLS)
            raise ValueError(f"unknown VMX control {item!r}; controls: {valid} (each may be "
                             f"prefixed no-), io-bitmap=PORTS, exception-bitmap=VECTORS "
                             f"(ranges a-b joined with +), presets {', '.join(PRESETS)}")
    controls = replace(base, **changes)  # type: ignore[arg-type]
    forced = [k for k in ("cr3_load_exiting", "cr3_store_exiting", "invlpg_exiting")
              if changes.get(k) is False and getattr(controls, k)]
    if forced:
        names = ", ".join(k.replace("_", "-") for k in forced)
        raise ValueError(f"{names} cannot be off without ept: the VMM keeps shadow page "
                         f"tables and must see the guest's CR3 loads and INVLPGs")
    return controls


def _numbers(text: str) -> list[int]:
    out: list[int] = []
    for part in text.replace(";", " ").replace("+", " ").split():
        low, _, high = part.partition("-")
        try:
            first, last = int(low, 0), int(high or low, 0)
        except ValueError:
            raise ValueError(f"not a number or range: {part!r}") from None
        out.extend(range(first, last + 1))
    return out
