"""What a host run gives back: each VM's summary and the scenario's figures."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from vizvm.session.quantities import summary_quantities
from vizvm.session.runner import Summary


class HostQuantities(dict[str, object]):
    """A host run's quantities; `vm.NAME.memory.ADDRESS` is read from that VM's RAM on demand."""

    def __init__(self, values: dict[str, object], rams: dict[str, bytes]) -> None:
        super().__init__(values)
        self._rams = rams

    def __missing__(self, key: str) -> object:
        name, _, address = key.removeprefix("vm.").partition(".memory.")
        ram = self._rams.get(name) if key.startswith("vm.") and address else None
        try:
            at = int(address.replace("_", ""), 0) if ram is not None else -1
        except ValueError:
            at = -1
        if ram is None or not 0 <= at <= len(ram) - 4:
            raise KeyError(key)
        return struct.unpack_from("<I", ram, at)[0]


@dataclass(frozen=True)
class HostResult:
    scenario: str
    vms: dict[str, Summary]
    figures: dict[str, int | float]
    series: dict[str, tuple[float, ...]]  # per slot, for plots
    log: tuple[str, ...]  # what the host and its devices did, in order
    # each VM's RAM at the end, for vm.NAME.memory.ADDRESS
    rams: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def quantities(self) -> dict[str, object]:
        """Every quantity a lesson's check may `compute` from this run (lesson-format.md)."""
        out: dict[str, object] = {}
        for name, summary in self.vms.items():
            prefix = f"vm.{name}."
            out.update(summary_quantities(summary, prefix))
            if f"overhead_{name}" in self.figures:  # consolidation measures it per VM
                out[prefix + "overhead"] = self.figures[f"overhead_{name}"]
        for figure, value in self.figures.items():
            out[f"host.{figure}"] = value
        return HostQuantities(out, self.rams)
