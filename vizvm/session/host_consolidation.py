"""The consolidation scenario: how much server capacity workloads need, apart and together.

The host samples each VM per slot of guest time: the instructions it
executed (its load) and the instruction-times it spent halted. A workload
given a server of its own needs one sized for its own peak; workloads on
one host need capacity for the peak of their *sum*, which is smaller when
their peaks fall in different slots. The monitor's overhead is measured
too, by running the same guests natively: the student sees both the cost
per VM and the saving for the whole system.

A server's capacity is one CPU's worth of guest time per slot: SLOT
instructions (a VM that never halts uses exactly that).
"""

from __future__ import annotations

import dataclasses
import math

from vizvm.session.host import SLOT, Guest, Outcome
from vizvm.session.host_result import HostResult


class Consolidation:
    def __init__(self) -> None:
        self.busy: dict[str, list[int]] = {}
        self.idle: dict[str, list[int]] = {}
        self._last: dict[str, tuple[int, int]] = {}

    def attach(self, guests: list[Guest]) -> None:
        for guest in guests:
            self.busy[guest.name] = []
            self.idle[guest.name] = []
            self._last[guest.name] = (0, 0)

    def after_slot(self, guests: list[Guest]) -> None:
        for guest in guests:
            machine = guest.machine
            executed, idle = self._last[guest.name]
            self.busy[guest.name].append(machine.executed - executed)
            self.idle[guest.name].append(machine.idle - idle)
            self._last[guest.name] = (machine.executed, machine.idle)

    def outcome(self, guests: list[Guest]) -> Outcome:
        names = [g.name for g in guests]
        slots = len(self.busy[names[0]])
        total = [sum(self.busy[n][i] for n in names) for i in range(slots)]
        peaks = {n: max(self.busy[n], default=0) for n in names}
        sum_of_peaks = sum(peaks.values())
        peak_of_sum = max(total, default=0)
        separate = sum(max(1, math.ceil(p / SLOT)) for p in peaks.values())
        consolidated = max(1, math.ceil(peak_of_sum / SLOT))
        work = sum(total)
        figures: dict[str, int | float] = {f"peak_{n}": peaks[n] for n in names}
        figures |= {
            "slots": slots,
            "server_capacity": SLOT,
            "busy_instructions": work,
            "sum_of_peaks": sum_of_peaks,
            "peak_of_sum": peak_of_sum,
            "servers_separate": separate,
            "servers_consolidated": consolidated,
            "servers_saved": separate - consolidated,
            "utilization_separate_percent": _percent(work, separate * SLOT * slots),
            "utilization_consolidated_percent": _percent(work, consolidated * SLOT * slots),
        }
        series = {f"load_{n}": tuple(float(b) for b in self.busy[n]) for n in names}
        series["load_sum"] = tuple(float(t) for t in total)
        series["capacity_per_server"] = tuple(float(SLOT) for _ in range(slots))
        peak_slot = total.index(peak_of_sum) if total else 0
        log = [
            f"host: {len(names)} VMs sampled every {SLOT:,} instruction-times "
            f"({slots} slots); a server runs {SLOT:,} instructions per slot",
            *(f"{n}: peak {peaks[n]:,} instructions in slot {self.busy[n].index(peaks[n])}"
              for n in names),
            f"together: peak {peak_of_sum:,} instructions in slot {peak_slot}, "
            f"against {sum_of_peaks:,} for the sum of the peaks",
            f"servers: {separate} apart, {consolidated} consolidated",
        ]
        return Outcome(figures=figures, series=series, log=log)


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def with_overhead(result: HostResult, native: HostResult | None) -> HostResult:
    """Add the monitor's cost: the VMs' simulated cycles against the same guests run natively.

    `native` is None when every VM already ran natively (overhead 1)."""
    cycles = sum(s.simulated_cycles for s in result.vms.values())
    base = native if native is not None else result
    native_cycles = sum(s.simulated_cycles for s in base.vms.values())
    overhead = round(cycles / native_cycles, 3) if native_cycles else 0.0
    figures = dict(result.figures)
    figures |= {f"cycles_{name}": s.simulated_cycles for name, s in result.vms.items()}
    for name, s in result.vms.items():
        own = base.vms[name].simulated_cycles
        figures[f"overhead_{name}"] = round(s.simulated_cycles / own, 3) if own else 0.0
    figures |= {
        "simulated_cycles": cycles,
        "native_cycles": native_cycles,
        "overhead": overhead,
        "overhead_percent": round(100.0 * (overhead - 1.0), 1) if native_cycles else 0.0,
    }
    log = (*result.log, f"monitor: {cycles:,} simulated cycles against {native_cycles:,} "
           f"for the same guests run natively: overhead x{overhead}")
    return dataclasses.replace(result, figures=figures, log=log)
