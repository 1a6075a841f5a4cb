"""Guests that come with vizvm, as sources and as built images.

The images are committed so that running a built-in guest needs no
assembler; `python -m vizvm.guests.build` rebuilds them and the tests check
that they match their sources.
"""

from __future__ import annotations

from importlib import resources

BUILTIN = {
    "hello": "prints a line on COM1 and powers off",
    "kernel": "loads its GDT, IDT and TSS, programs the PIC and PIT, runs a ring-3 task "
    "with system calls under timer interrupts, powers off with a checksum",
    "holes": "asks the CPU ten questions that classic x86 answers differently to a "
    "deprivileged kernel (POPF, PUSHF, CS, SGDT, SIDT, STR, SMSW, LAR, LSL)",
    "kernel_pv": "the kernel ported to the paravirt monitor: hypercalls (int 0x82) in place "
    "of every privileged instruction",
    # Adams and Agesen's nanobenchmarks (ASPLOS 2006): each repeats one operation
    "nano_syscall": "Adams & Agesen's syscall test: a ring-3 task makes int 0x80 system calls",
    "nano_in": "Adams & Agesen's in test: reads a chipset port (CMOS data, 0x71) over and over",
    "nano_clisti": "Adams & Agesen's cr8wr test, with CLI and STI in place of a CR8 write",
    "nano_callret": "Adams & Agesen's call/ret test: calls to a function that returns at once",
    "nano_pgfault": "Adams & Agesen's pgfault test: reads a not-present page; the handler "
    "skips the read",
    "nano_divzero": "Adams & Agesen's divzero test: divides by zero; the handler skips the DIV",
    "nano_ptemod": "Adams & Agesen's ptemod test: remaps a page in the active page table and "
    "flushes it with INVLPG",
    "nano_compute": "the control for Adams & Agesen's tests: a compute loop with nothing "
    "privileged",
}
PARAVIRT_PORTS = {"kernel": "kernel_pv"}  # a guest's paravirtual port, for `compare`


def source(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.asm").read_text()


def image(name: str) -> bytes:
    return resources.files(__package__).joinpath(f"{name}.bin").read_bytes()
