import struct
from concurrent.futures import ThreadPoolExecutor

import pytest
from lesson_factory import lesson, step

from vizvm import guests
from vizvm.asm.assembler import assemble
from vizvm.lessons.model import Host, HostVm, Param, Program, Where
from vizvm.lessons.runs import RunError, SparseRam, StepRuns
from vizvm.session import runner
from vizvm.trace.events import Kind

# exits with the sum of the first two parameters (at 0x500 and 0x504)
SUM_SOURCE = "mov eax, [0x500]\nadd eax, [0x504]\nout 0xf4, al\n"
LOOP_SOURCE = "spin:\njmp spin\n"
PARAMS = (Param("a", "int", 1, 9), Param("b", "choice", values=(10, 20)))


def program(name: str, source: str, port: str | None = None) -> Program:
    return Program(name, source, assemble(source), f"demo/{name}.asm", f"demo/{name}.bin",
                   port, Where(f"demo/{name}.asm"))


def test_every_quantity_of_the_format_is_there() -> None:
    hello = step(techniques=("native", "trap-emulate"))
    found = StepRuns().quantities(lesson(hello), hello, "trap-emulate", {})
    assert {f"events.{kind}" for kind in Kind} <= set(found)
    assert found["exit_code"] == 0 and found["serial"] == "hello from the guest\n"
    assert found["events.trap"] > 0 and found["events.vm-exit"] == 0
    entries = found["events.trap"] + found["events.callout"] + found["events.hypercall"]
    assert found["direct_percent"] == pytest.approx(
        100 * (1 - entries / found["guest_instructions"]))
    assert isinstance(found["register.eip"], int) and isinstance(found["overhead"], float)


def test_overhead_is_over_natives_run() -> None:
    hello = step(techniques=("native", "hardware-assist"))
    runs = StepRuns()
    native = runs.quantities(lesson(hello), hello, "native", {})
    assisted = runs.quantities(lesson(hello), hello, "hardware-assist", {})
    assert native["overhead"] == 1.0
    assert assisted["overhead"] == assisted["simulated_cycles"] / native["simulated_cycles"]


def test_memory_is_read_on_demand_from_the_ram_at_the_end() -> None:
    hello = step()
    found = StepRuns().quantities(lesson(hello), hello, "native", {})
    assert "memory.0x100000" not in found
    assert found["memory.0x100000"] == struct.unpack_from("<I", guests.image("hello"))[0]
    assert found["memory.1048576"] == found["memory.0x100000"]
    with pytest.raises(KeyError):
        found["memory.0xffffffff"]


def test_a_run_is_made_once() -> None:
    hello = step()
    demo, runs = lesson(hello), StepRuns()
    assert runs.run(demo, hello, "native", {}) is runs.run(demo, hello, "native", {})


def test_the_students_values_are_in_guest_memory() -> None:
    summed = step(program="sum")
    demo = lesson(summed, programs={"sum": program("sum", SUM_SOURCE)}, params=PARAMS)
    runs = StepRuns()
    assert runs.quantities(demo, summed, "native", {"a": 3, "b": 20})["exit_code"] == 23
    assert runs.quantities(demo, summed, "native", {"a": 5, "b": 10})["exit_code"] == 15


def test_paravirt_runs_the_programs_port() -> None:
    ported = step(program="sum", techniques=("paravirt",))
    port_source = "mov ebx, [0x500]\nmov eax, 9\nint 0x82\n"  # poweroff(code) hypercall
    demo = lesson(ported, params=PARAMS, programs={
        "sum": program("sum", SUM_SOURCE, port="sum_pv"),
        "sum_pv": program("sum_pv", port_source)})
    found = StepRuns().quantities(demo, ported, "paravirt", {"a": 7, "b": 10})
    assert found["exit_code"] == 7 and found["events.hypercall"] == 1


@pytest.mark.parametrize(("name", "message"), [
    ("hello", "the built-in guest 'hello' has no paravirtual port"),
    ("sum", "program 'sum' has no paravirtual port"),
])
def test_paravirt_without_a_port_is_a_lesson_error(name: str, message: str) -> None:
    chosen = step(program=name, techniques=("paravirt",))
    demo = lesson(chosen, programs={"sum": program("sum", SUM_SOURCE)})
    with pytest.raises(RunError, match=f"lesson demo, step run: {message}"):
        StepRuns().quantities(demo, chosen, "paravirt", {})


def test_an_unknown_program_is_named() -> None:
    chosen = step(program="nothing")
    with pytest.raises(RunError, match="'nothing' is neither a program of the lesson"):
        StepRuns().quantities(lesson(chosen), chosen, "native", {})


@pytest.mark.parametrize("allowed", [False, True])
def test_a_run_out_of_budget_is_an_error_unless_allowed(allowed: bool) -> None:
    looping = step(program="loop", max_insns=1_000, allow_budget=allowed)
    demo = lesson(looping, programs={"loop": program("loop", LOOP_SOURCE)})
    if allowed:
        assert StepRuns().quantities(demo, looping, "native", {})["exit"] == "budget"
    else:
        with pytest.raises(RunError, match="used its whole budget of 1,000 instructions"):
            StepRuns().quantities(demo, looping, "native", {})


def test_a_host_step_gives_each_vms_quantities_and_the_hosts_figures() -> None:
    host = Host("consolidation", (HostVm("a", "hello"), HostVm("b", "hello", "trap-emulate")),
                max_insns=10_000)
    hosted = step(program=None, techniques=(), host=host)
    found = StepRuns().quantities(lesson(hosted), hosted, "native", {})
    assert found["vm.a.serial"] == found["vm.b.serial"] == "hello from the guest\n"
    assert found["vm.a.events.trap"] == 0 < found["vm.b.events.trap"]
    assert any(key.startswith("host.") for key in found)


def test_a_run_asked_for_from_several_threads_is_made_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    real = runner.run
    monkeypatch.setattr(runner, "run", lambda *a, **k: made.append(1) or real(*a, **k))
    hello, runs = step(), StepRuns()
    demo = lesson(hello)
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: runs.run(demo, hello, "native", {}), range(8)))
    assert len(made) == 1 and all(run is found[0] for run in found)


def test_a_failed_run_fails_again_without_running(monkeypatch: pytest.MonkeyPatch) -> None:
    looping = step(program="loop", max_insns=500)
    demo, runs = lesson(looping, programs={"loop": program("loop", LOOP_SOURCE)}), StepRuns()
    with pytest.raises(RunError):
        runs.run(demo, looping, "native", {})
    monkeypatch.setattr(runner, "run", None)  # a second run would fail differently
    with pytest.raises(RunError, match="whole budget of 500"):
        runs.run(demo, looping, "native", {})


def test_a_host_vm_out_of_budget_is_a_lesson_error() -> None:
    host = Host("consolidation", (HostVm("a", "hello"), HostVm("spin", "loop")),
                max_insns=2_000)
    hosted = step(program=None, techniques=(), host=host)
    demo = lesson(hosted, programs={"loop": program("loop", LOOP_SOURCE)})
    with pytest.raises(RunError, match="under spin's native used its whole budget of 2,000"):
        StepRuns().quantities(demo, hosted, "native", {})


def test_the_ram_kept_is_only_its_non_zero_pages() -> None:
    ram = bytearray(5 * 4096)
    ram[4094:4098] = b"\x01\x02\x03\x04"  # a word across a page boundary
    ram[-4:] = b"\xff\xff\xff\xff"
    sparse = SparseRam(bytes(ram))
    assert len(sparse._pages) == 3
    assert sparse.word(4094) == 0x04030201
    assert sparse.word(8192) == 0 and sparse.word(len(ram) - 4) == 0xFFFFFFFF
    with pytest.raises(IndexError):
        sparse.word(len(ram) - 3)


def test_a_host_step_reads_a_vms_memory_on_demand() -> None:
    from vizvm.lessons.builtin import lessons_root
    from vizvm.lessons.loader import load_pack

    lesson = load_pack(lessons_root() / "core").lesson("hypervisor-breach")
    step = next(s for s in lesson.steps if s.host is not None)
    quantities = StepRuns().quantities(lesson, step, "host", {"attempts": 5})
    assert quantities["vm.victim.memory.0x500"] == 5  # the parameter, preloaded in each VM
