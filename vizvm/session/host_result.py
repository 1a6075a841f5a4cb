"""What a host run gives back: each VM's summary and the scenario's figures."""

from __future__ import annotations

from dataclasses import dataclass

from vizvm.session.runner import Summary
from vizvm.trace.events import Kind

REGISTERS = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags")


@dataclass(frozen=True)
class HostResult:
    scenario: str
    vms: dict[str, Summary]
    figures: dict[str, int | float]
    series: dict[str, tuple[float, ...]]  # per slot, for plots
    log: tuple[str, ...]  # what the host and its devices did, in order

    def quantities(self) -> dict[str, object]:
        """Every quantity a lesson's check may `compute` from this run (lesson-format.md)."""
        out: dict[str, object] = {}
        for name, summary in self.vms.items():
            prefix = f"vm.{name}."
            out[prefix + "exit_code"] = summary.exit_code
            out[prefix + "serial"] = summary.serial
            out[prefix + "guest_instructions"] = summary.guest_instructions
            out[prefix + "simulated_cycles"] = summary.simulated_cycles
            for kind in Kind:
                out[f"{prefix}events.{kind}"] = summary.events.get(str(kind), 0)
            for register in REGISTERS:
                out[f"{prefix}register.{register}"] = summary.registers[register]
        for figure, value in self.figures.items():
            out[f"host.{figure}"] = value
        return out
