"""The techniques by name, as the command line and the window offer them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vizvm.machine.bare_metal import BareMetal
from vizvm.machine.supervisor import Supervisor
from vizvm.monitors import vmx
from vizvm.monitors.binary_translation import BinaryTranslation
from vizvm.monitors.hardware_assist import CPU_MODEL as HARDWARE_ASSIST_CPU
from vizvm.monitors.hardware_assist import HardwareAssist
from vizvm.monitors.paravirt import Paravirt
from vizvm.monitors.trap_emulate import TrapEmulate


@dataclass(frozen=True)
class Options:
    kernel_ring: int = 1  # trap-emulate: where the guest kernel really runs
    vmx: vmx.Controls = vmx.FIRST_GENERATION  # hardware-assist: the VM-execution controls


@dataclass(frozen=True)
class Technique:
    name: str
    title: str
    summary: str
    make: Callable[[Options], Supervisor] | None  # None: not built yet
    cpu_model: int | None = None  # a processor model the technique needs (Unicorn's ids)

    @property
    def available(self) -> bool:
        return self.make is not None


TECHNIQUES: dict[str, Technique] = {
    t.name: t
    for t in (
        Technique("native", "Native",
                  "The guest alone on the machine, really at ring 0; no monitor.",
                  lambda _o: BareMetal()),
        Technique("trap-emulate", "Trap and emulate",
                  "The guest kernel deprivileged; privileged instructions trap and are "
                  "emulated; x86's unprivileged sensitive instructions are not caught.",
                  lambda o: TrapEmulate(o.kernel_ring)),
        Technique("binary-translation", "Binary translation",
                  "Guest kernel code rewritten block by block into a translation cache before "
                  "it runs; user code runs as it is.",
                  lambda _o: BinaryTranslation()),
        Technique("paravirt", "Paravirtualization",
                  "A ported guest kernel in ring 1 calls the monitor with hypercalls instead "
                  "of executing privileged instructions; nothing is emulated.",
                  lambda _o: Paravirt()),
        Technique("hardware-assist", "Hardware assist (VT-x)",
                  "The guest kernel in ring 0 of non-root mode; what the VM-execution "
                  "controls ask for leaves it as a VM exit to the VMM.",
                  lambda o: HardwareAssist(o.vmx), cpu_model=HARDWARE_ASSIST_CPU),
    )
}


class TechniqueError(ValueError):
    """An unknown technique, or one this version cannot run yet."""


def technique(name: str) -> Technique:
    if name not in TECHNIQUES:
        raise TechniqueError(
            f"unknown technique {name!r}; choose one of: {', '.join(TECHNIQUES)}"
        )
    return TECHNIQUES[name]


def create(name: str, options: Options | None = None) -> Supervisor:
    chosen = technique(name)
    if chosen.make is None:
        available = ", ".join(t.name for t in TECHNIQUES.values() if t.available)
        raise TechniqueError(
            f"the {name} technique is not available in this version of vizvm "
            f"(available: {available})"
        )
    return chosen.make(options or Options())


def available() -> list[str]:
    return [t.name for t in TECHNIQUES.values() if t.available]
