"""The named quantities of one run (docs/lesson-format.md), from its summary.

Lessons compute their answers from these, for a single guest (`events.trap`) and
for each VM of a host (`vm.NAME.events.trap`): one definition serves both.
"""

from __future__ import annotations

from vizvm.session.runner import Summary
from vizvm.trace.events import Kind

# a guest instruction that entered the monitor did not run directly
MONITOR_ENTRIES = (Kind.TRAP, Kind.CALLOUT, Kind.VM_EXIT, Kind.HYPERCALL)


def summary_quantities(s: Summary, prefix: str = "") -> dict[str, object]:
    """Every quantity the summary holds, each name after `prefix` ("vm.web." for a host)."""
    out: dict[str, object] = {
        "exit": s.exit,
        "exit_code": s.exit_code,
        "guest_instructions": s.guest_instructions,
        "simulated_cycles": s.simulated_cycles,
        "serial": s.serial,
    }
    for kind in Kind:
        out[f"events.{kind}"] = s.events.get(str(kind), 0)
    entries = sum(s.events.get(str(k), 0) for k in MONITOR_ENTRIES)
    out["direct_percent"] = (100.0 * (1 - entries / s.guest_instructions)
                             if s.guest_instructions else None)
    for name, value in s.registers.items():
        out[f"register.{name.lower()}"] = value
    return {prefix + name: value for name, value in out.items()}
