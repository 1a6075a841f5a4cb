"""The simulated host: each scenario's figures come from running its guests."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from vizvm.session.host import SLOT, HostError, HostVm, run_host
from vizvm.trace.events import Kind

CORE = Path(__file__).resolve().parents[2] / "lessons" / "core"
DEVICE_TECHNIQUES = ["native", "trap-emulate", "binary-translation", "hardware-assist"]


def image(lesson: str, name: str) -> bytes:
    return (CORE / lesson / f"{name}.bin").read_bytes()


def param(value: int) -> tuple[tuple[int, bytes], ...]:
    return ((0x500, struct.pack("<I", value)),)


def consolidation(names: tuple[str, ...], technique: str = "native"):
    vms = [HostVm(f"vm{i}-{n}", image("consolidation", n), technique)
           for i, n in enumerate(names)]
    return run_host("consolidation", vms, max_insns=400_000, preload=param(12))


def breach(scenario: str, technique: str):
    vms = [HostVm("attacker", image("hypervisor-breach", "attacker"), technique),
           HostVm("victim", image("hypervisor-breach", "victim"), technique)]
    return run_host(scenario, vms, max_insns=200_000)


def switched(technique: str, copies: int):
    vms = [HostVm("web", image("watching-vms", "web"), technique),
           HostVm("db", image("watching-vms", "db"), technique)]
    return run_host("virtual-switch", vms, max_insns=200_000, preload=param(copies))


def test_staggered_peaks_need_fewer_servers_together() -> None:
    result = consolidation(("web", "batch", "reports"))
    f = result.figures
    assert all(s.exit == "poweroff" for s in result.vms.values())
    assert f["peak_of_sum"] < f["sum_of_peaks"]
    assert f["servers_consolidated"] < f["servers_separate"]
    assert f["utilization_consolidated_percent"] > f["utilization_separate_percent"]
    # the figures are the series' own peaks and sums
    loads = {n[len("load_"):]: s for n, s in result.series.items()
             if n.startswith("load_") and n != "load_sum"}
    assert set(loads) == {"vm0-web", "vm1-batch", "vm2-reports"}
    for name, series in loads.items():
        assert f[f"peak_{name}"] == max(series) <= SLOT
    total = [sum(s[i] for s in loads.values()) for i in range(int(f["slots"]))]
    assert list(result.series["load_sum"]) == total
    assert f["peak_of_sum"] == max(total)
    assert f["busy_instructions"] == sum(s.guest_instructions for s in result.vms.values())
    assert f["overhead"] == 1.0


def test_aligned_peaks_gain_nothing() -> None:
    f = consolidation(("web", "web", "web")).figures
    assert f["peak_of_sum"] == f["sum_of_peaks"]
    # what one host saves then is only the packing of whole peaks
    assert f["servers_consolidated"] == math.ceil(f["sum_of_peaks"] / SLOT)


def test_the_monitors_overhead_is_measured_against_native() -> None:
    native = consolidation(("web", "batch"))
    trapped = consolidation(("web", "batch"), "trap-emulate")
    f = trapped.figures
    assert f["native_cycles"] == native.figures["simulated_cycles"]
    assert f["overhead"] == round(f["simulated_cycles"] / f["native_cycles"], 3) > 1.0
    assert trapped.quantities()["vm.vm0-web.overhead"] == f["overhead_vm0-web"] > 1.0
    # the guests' work per slot does not depend on the technique
    assert trapped.series["load_sum"] == native.series["load_sum"]


@pytest.mark.parametrize("technique", DEVICE_TECHNIQUES)
def test_flawed_dma_lets_one_vm_patch_and_read_its_neighbour(technique: str) -> None:
    result = breach("flawed-dma", technique)
    f = result.figures
    assert f["cross_vm_bytes"] == 6 and f["cross_vm_bytes_read"] == 16
    assert f["dma_requests"] == 4 and f["dma_refused"] == 0
    victim, attacker = result.vms["victim"], result.vms["attacker"]
    assert "access granted" in victim.serial and victim.exit_code == 3
    assert "stole: PIN 4711 vault" in attacker.serial
    assert any("inside victim's RAM" in line for line in result.log)


@pytest.mark.parametrize("technique", DEVICE_TECHNIQUES)
def test_fixed_dma_refuses_and_the_victim_stays_intact(technique: str) -> None:
    result = breach("fixed-dma", technique)
    f = result.figures
    assert f["cross_vm_bytes"] == 0 and f["cross_vm_bytes_read"] == 0
    assert f["dma_refused"] == 2
    victim, attacker = result.vms["victim"], result.vms["attacker"]
    assert "access granted" not in victim.serial and victim.exit_code == 0
    assert victim.serial.count("access denied") == 4
    assert attacker.exit_code == 0xE1 and "stole" not in attacker.serial


@pytest.mark.parametrize("technique", DEVICE_TECHNIQUES)
def test_frames_between_vms_never_reach_the_ids(technique: str) -> None:
    result = switched(technique, copies=4)
    f = result.figures
    assert result.vms["db"].exit_code == 4
    assert result.vms["db"].serial.count("received: SECRET") == 4
    assert f["frames_switched"] == f["frames_unseen_by_ids"] == 4
    assert f["marked_frames_unseen_by_ids"] == 4
    assert f["frames_on_wire"] == f["ids_frames_seen"] == 2
    assert f["ids_alerts"] == 1
    assert result.series["frames_switched"][-1] == 4


def test_runs_are_deterministic() -> None:
    assert switched("trap-emulate", 2) == switched("trap-emulate", 2)
    assert breach("flawed-dma", "binary-translation") == breach("flawed-dma", "binary-translation")


def test_quantities_name_every_vm_value_and_figure() -> None:
    result = breach("flawed-dma", "trap-emulate")
    q = result.quantities()
    assert q["vm.victim.exit_code"] == 3
    assert q["vm.attacker.serial"] == result.vms["attacker"].serial
    assert q["vm.victim.guest_instructions"] == result.vms["victim"].guest_instructions
    assert q["vm.victim.events.trap"] == result.vms["victim"].events["trap"] > 0
    for kind in Kind:
        assert f"vm.attacker.events.{kind}" in q
    assert q["vm.victim.register.eax"] == result.vms["victim"].registers["eax"]
    assert q["host.cross_vm_bytes"] == 6
    # the victim's check routine now starts with the attacker's mov eax, 1
    assert q["vm.victim.memory.0x100010"] == 0x0001B8
    assert q["vm.attacker.memory.0x100010"] != 0x0001B8
    assert 0 < q["vm.victim.direct_percent"] < 100
    with pytest.raises(KeyError):
        q["vm.victim.memory.0x2000000"]


def test_a_vm_that_runs_out_of_budget_is_stopped_there() -> None:
    vms = [HostVm("victim", image("hypervisor-breach", "victim"))]
    result = run_host("fixed-dma", vms, max_insns=3_000)
    assert result.vms["victim"].exit == "budget"
    assert result.vms["victim"].guest_instructions == 3_000


@pytest.mark.parametrize(("scenario", "vms", "max_insns", "message"), [
    ("cloud", [HostVm("a", b"\xf4")], 10, "unknown host scenario 'cloud'"),
    ("fixed-dma", [], 10, "1 to 8 VMs"),
    ("fixed-dma", [HostVm("a", b"\xf4"), HostVm("a", b"\xf4")], 10, "unique"),
    ("virtual-switch", [HostVm("a", b"\xf4")], 10, "at least two VMs"),
    ("fixed-dma", [HostVm("a", b"\xf4")], 0, "max_insns"),
    ("fixed-dma", [HostVm("a", b"\xf4", "warp-drive")], 10, "VM 'a'"),
    ("fixed-dma", [HostVm("a", b"")], 10, "VM 'a'"),
])
def test_bad_hosts_are_refused_with_a_message(
    scenario: str, vms: list[HostVm], max_insns: int, message: str
) -> None:
    with pytest.raises(HostError, match=message):
        run_host(scenario, vms, max_insns=max_insns)
