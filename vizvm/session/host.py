"""A simulated host: several guests, each a real Machine, sharing one host's time and devices.

The host runs its VMs round-robin, each for one slot of guest time
(SLOT instruction-times) before the next, the way a monitor's scheduler
shares CPUs between virtual CPUs. Guest time is counted in instructions, so
a run is a pure function of the images and settings, like a single guest's.
What the host adds between VMs (a shared DMA controller, a virtual switch,
the sampling of load) belongs to the scenario (host_consolidation,
host_dma, host_switch); docs/hosts.md is the reference for lesson authors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from vizvm.machine.loader import LoadError
from vizvm.machine.machine import Machine
from vizvm.monitors.registry import TechniqueError
from vizvm.session import runner
from vizvm.session.host_result import HostResult

SCENARIOS = ("consolidation", "flawed-dma", "fixed-dma", "virtual-switch")
SLOT = 5_000  # instruction-times each VM runs before the host turns to the next
MAX_VMS = 8


class HostError(ValueError):
    """A host that cannot be built: the message names the VM or the setting."""


@dataclass(frozen=True)
class HostVm:
    name: str
    image: bytes
    technique: str = "native"


@dataclass
class Guest:
    """A VM while the host runs it."""

    index: int
    name: str
    technique: str
    machine: Machine
    settings: runner.Settings


@dataclass
class Outcome:
    """What a scenario reports once the run is over."""

    figures: dict[str, int | float] = field(default_factory=dict)
    series: dict[str, tuple[float, ...]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


class Scenario(Protocol):
    def attach(self, guests: list[Guest]) -> None:
        """Connect the scenario's devices to the VMs, before the first instruction."""
        ...

    def after_slot(self, guests: list[Guest]) -> None:
        """Every VM has run the slot that just ended."""
        ...

    def outcome(self, guests: list[Guest]) -> Outcome: ...


def run_host(
    scenario: str,
    vms: Sequence[HostVm],
    *,
    max_insns: int,
    preload: tuple[tuple[int, bytes], ...] = (),
) -> HostResult:
    """Run `vms` on one host under `scenario` until each exits or has used `max_insns`."""
    _validate(scenario, vms, max_insns)
    result = _run(scenario, vms, max_insns, preload)
    if scenario == "consolidation":
        from vizvm.session import host_consolidation

        native = None
        if any(vm.technique != "native" for vm in vms):
            plain = [HostVm(vm.name, vm.image, "native") for vm in vms]
            native = _run(scenario, plain, max_insns, preload)
        result = host_consolidation.with_overhead(result, native)
    return result


def _validate(scenario: str, vms: Sequence[HostVm], max_insns: int) -> None:
    if scenario not in SCENARIOS:
        raise HostError(f"unknown host scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
    if not 1 <= len(vms) <= MAX_VMS:
        raise HostError(f"a host runs 1 to {MAX_VMS} VMs, not {len(vms)}")
    if scenario == "virtual-switch" and len(vms) < 2:
        raise HostError("the virtual-switch scenario needs at least two VMs")
    names = [vm.name for vm in vms]
    for name in names:
        if not name or names.count(name) > 1:
            raise HostError(f"VM names must be unique and non-empty: {name!r}")
    if max_insns <= 0:
        raise HostError(f"max_insns must be positive, not {max_insns}")


def _scenario(name: str) -> Scenario:
    # imported here: each scenario module imports this one for Guest and Outcome
    from vizvm.session import host_consolidation, host_dma, host_switch

    makers: dict[str, Callable[[], Scenario]] = {
        "consolidation": host_consolidation.Consolidation,
        "flawed-dma": lambda: host_dma.SharedDisk(checked=False),
        "fixed-dma": lambda: host_dma.SharedDisk(checked=True),
        "virtual-switch": host_switch.SwitchedHost,
    }
    return makers[name]()


def _build(vms: Sequence[HostVm], max_insns: int,
           preload: tuple[tuple[int, bytes], ...]) -> list[Guest]:
    guests = []
    for index, vm in enumerate(vms):
        settings = runner.Settings(technique=vm.technique, max_insns=max_insns, preload=preload)
        try:
            machine = runner.build(vm.image, settings)
        except (LoadError, TechniqueError, ValueError) as exc:
            raise HostError(f"VM {vm.name!r}: {exc}") from exc
        guests.append(Guest(index, vm.name, vm.technique, machine, settings))
    return guests


def _run(scenario_name: str, vms: Sequence[HostVm], max_insns: int,
         preload: tuple[tuple[int, bytes], ...]) -> HostResult:
    guests = _build(vms, max_insns, preload)
    scenario = _scenario(scenario_name)
    scenario.attach(guests)
    slot_end = 0
    while slot_end < max_insns and any(g.machine.exit is None for g in guests):
        slot_end = min(slot_end + SLOT, max_insns)
        for guest in guests:
            if guest.machine.exit is None:
                guest.machine.advance(slot_end)
        scenario.after_slot(guests)
    for guest in guests:
        guest.machine.run(max_insns)  # sets the budget exit on those still running
        guest.machine.finish()
    outcome = scenario.outcome(guests)
    return HostResult(
        scenario=scenario_name,
        # wall time left out (0.0): the result is a pure function of its inputs
        vms={g.name: runner.summarize(g.machine, g.settings, 0.0) for g in guests},
        figures=dict(outcome.figures),
        series={k: tuple(v) for k, v in outcome.series.items()},
        log=tuple(outcome.log),
        rams={g.name: g.machine.ram() for g in guests},
    )


__all__ = ["SCENARIOS", "SLOT", "HostError", "HostResult", "HostVm", "run_host"]
