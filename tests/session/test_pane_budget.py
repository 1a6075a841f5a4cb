"""A pane ends at its instruction budget, as `vizvm run` does: a lesson step's panes
show the very run its checks were computed on."""

import pytest

from vizvm.asm.assembler import assemble
from vizvm.session.pane import Pane
from vizvm.session.program import Program
from vizvm.session.runner import Settings, run

SPIN = Program("spin", assemble("mov ecx, 0\nspin: inc ecx\njmp spin"))


@pytest.mark.parametrize("technique", ["native", "trap-emulate", "binary-translation"])
def test_running_stops_at_the_budget_with_the_cli_s_exit(technique: str) -> None:
    settings = Settings(max_insns=5_000)
    pane = Pane(technique, SPIN, settings)
    pane.advance_to(1_000_000)
    assert pane.machine is not None and pane.machine.exit is not None
    assert pane.machine.exit.kind == "budget"
    summary, _machine = run(SPIN.image, Settings(technique=technique, max_insns=5_000))
    assert pane.machine.executed == summary.guest_instructions
    assert pane.view().status == "exited"


def test_stepping_stops_at_the_budget_too() -> None:
    pane = Pane("native", SPIN, Settings(max_insns=3))
    for _ in range(5):
        pane.step()
    assert pane.machine is not None and pane.machine.exit is not None
    assert pane.machine.executed == 3
