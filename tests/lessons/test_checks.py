import pytest
from lesson_factory import check, lesson, step

from vizvm.lessons import quantity_words
from vizvm.lessons.checks import CheckError, Verdict, evaluate, reference_answer, wrong_answer
from vizvm.lessons.model import Check, Choice
from vizvm.lessons.runs import StepRuns

POPFD = "mov eax, 0x200; push eax; popfd"
CHOICES = (Choice("ring 0", False, "that is the kernel's"), Choice("ring 1", True, "yes"),
           Choice("ring 3", True, "also"))
CHECKS = {
    "trap": check("trap", "trap", instruction="cli", technique="trap-emulate", points=2),
    "hole": check("hole", "trap", instruction=POPFD, technique="trap-emulate"),
    "one": check("one", "choice", choices=CHOICES[:2]),
    "many": check("many", "choice", choices=CHOICES, multiple=True),
    "traps": check("traps", "number", compute="events.trap", technique="trap-emulate"),
    "fact": check("fact", "number", answer=4),
    "close": check("close", "number", compute="overhead", technique="hardware-assist",
                   tolerance_percent=10),
    "word": check("word", "text", pattern=r"ring\s*0", ignore_case=True),
    "eax": check("eax", "register", register="eax", technique="native"),
    "mem": check("mem", "memory", address=0x100000, size=1, technique="native"),
    "out": check("out", "serial", technique="trap-emulate"),
    "gate": check("gate", "events", event="io", op=">=", value=1, technique="trap-emulate"),
    "which": check("which", "events", event="trap", op="==", value=0),
}
HELLO = step(*CHECKS.values(), techniques=("native", "trap-emulate"))
DEMO = lesson(HELLO)
RUNS = StepRuns()  # shared: every test reads the same few runs of hello


def judge(check_id: str, answer: str) -> Verdict:
    return evaluate(DEMO, HELLO, CHECKS[check_id], answer, {}, RUNS)


@pytest.mark.parametrize(("check_id", "answer"), [
    ("trap", "yes"), ("trap", " YES "), ("hole", "no"), ("one", "1"), ("many", "1,2"),
    ("many", "2, 1"), ("traps", "22"), ("traps", "0x16"), ("fact", "4"), ("close", "4.2"),
    ("word", "Ring 0"), ("eax", "0x2badb000"), ("mem", "0x8d"), ("out", "hello from the guest"),
    ("gate", "ran"), ("which", "native"), ("which", "binary-translation"),
])
def test_right_answers_get_full_points(check_id: str, answer: str) -> None:
    verdict = judge(check_id, answer)
    assert verdict.correct, verdict.feedback
    assert verdict.points == CHECKS[check_id].points
    assert verdict.feedback.startswith("Right")


@pytest.mark.parametrize(("check_id", "answer", "said"), [
    ("trap", "no", "under trap-emulate it traps: the monitor handles it (trap: CLI"),
    ("hole", "yes", "under trap-emulate it does not trap (popfd ran directly: no monitor event)"),
    ("one", "0", "that is the kernel's"),
    ("many", "1", "not every right choice is chosen"),
    ("many", "0,1,2", "that is the kernel's"),
    ("traps", "3", "you said 3; that is too low: look again at the counters of the run under "
                   "trap-emulate"),
    ("fact", "5", "you said 5; that is too high: the question"),
    ("close", "3", "that is too low: look again at the counters of the run under hardware"),
    ("word", "ring 3", "not what the question asks"),
    ("eax", "0", "look again at eax at the end of the run under"),
    ("mem", "0x8e", "look again at memory at 0x00100000 at the end"),
    ("out", "hello", "compare it with the serial output under"),
    ("gate", "", "Run the step first"),
    ("which", "trap-emulate", "made 22 trap events"),
    ("which", "paravirt", "paravirt cannot run this step"),
])
def test_wrong_answers_get_nothing_and_hear_why(check_id: str, answer: str, said: str) -> None:
    verdict = judge(check_id, answer)
    assert not verdict.correct and verdict.points == 0
    assert said in verdict.feedback
    assert verdict.expected


@pytest.mark.parametrize(("check_id", "answer"), [
    ("traps", "3"), ("fact", "5"), ("close", "3"), ("eax", "0"), ("mem", "0x8e"), ("out", "hello"),
])
def test_a_wrong_value_is_not_given_away(check_id: str, answer: str) -> None:
    """A student working alone could copy it into the next try for the points."""
    verdict = judge(check_id, answer)
    assert verdict.expected not in verdict.feedback
    assert verdict.expected in judge(check_id, verdict.expected).feedback  # said once right


@pytest.mark.parametrize(("check_id", "answer", "said"), [
    ("trap", "maybe", "answer yes or no"),
    ("one", "0,1", "choose only one"),
    ("one", "7", "there are only 2 choices"),
    ("many", "a", "not a list of choice numbers"),
    ("many", "", "choose one of the answers"),
    ("traps", "1,000", "leave out the commas"),
    ("traps", "0xZZ", "'0xZZ' is not a number"),
    ("eax", "0x1_0000_0000", "does not fit in 32 bits"),
    ("eax", "2.5", "whole numbers"),
    ("which", "vmware", "name a technique"),
])
def test_malformed_answers_are_wrong_with_a_message(check_id: str, answer: str,
                                                    said: str) -> None:
    verdict = judge(check_id, answer)
    assert not verdict.correct and verdict.points == 0
    assert said in verdict.feedback and verdict.expected == ""


def test_a_negative_register_value_is_its_twos_complement() -> None:
    small = check("esp", "register", register="esp", technique="native")
    hello = step(small)
    assert evaluate(lesson(hello), hello, small, "0x1000000", {}, RUNS).correct
    assert not evaluate(lesson(hello), hello, small, "-1", {}, RUNS).correct


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_reference_answers_are_right_and_wrong_answers_wrong(check_id: str) -> None:
    right = reference_answer(DEMO, HELLO, CHECKS[check_id], {}, RUNS)
    wrong = wrong_answer(DEMO, HELLO, CHECKS[check_id], {}, RUNS)
    assert judge(check_id, right).correct
    assert not judge(check_id, wrong).correct


def test_reference_answers_are_measured_not_typed() -> None:
    assert reference_answer(DEMO, HELLO, CHECKS["traps"], {}, RUNS) == "22"
    assert reference_answer(DEMO, HELLO, CHECKS["hole"], {}, RUNS) == "no"
    assert reference_answer(DEMO, HELLO, CHECKS["which"], {}, RUNS) == "native"


@pytest.mark.parametrize(("broken", "message"), [
    (check("q", "number", compute="events.nothing"), "'events.nothing' is not a quantity"),
    (check("q", "number", compute="exit_code", technique="paravirt"), "no paravirtual port"),
    (check("q", "trap", instruction="mvo eax, 1", technique="trap-emulate"), "<instruction>"),
    (check("q", "text", pattern="(unclosed"), "the pattern does not compile"),
    (check("q", "serial", line=5), "the serial output has 1 lines, not a line 5"),
])
def test_a_broken_check_is_the_lessons_error_with_where(broken: Check, message: str) -> None:
    hello = step(broken)
    with pytest.raises(CheckError, match=r"demo/lesson\.toml:12: check 'q'") as caught:
        evaluate(lesson(hello), hello, broken, "1", {}, RUNS)
    assert message in str(caught.value)


@pytest.mark.parametrize(("broken", "message"), [
    (check("q", "choice", choices=(Choice("a", True),)), "no answer to it can be wrong"),
    (check("q", "events", event="trap", op="<", value=0, technique="native"), "never holds"),
    (check("q", "text", pattern="(?=a)abc"), "no example answer could be built"),
])
def test_checks_with_no_right_or_no_wrong_answer_are_reported(broken: Check, message: str) -> None:
    hello = step(broken)
    with pytest.raises(CheckError, match=message):
        reference_answer(lesson(hello), hello, broken, {}, RUNS)
        wrong_answer(lesson(hello), hello, broken, {}, RUNS)


@pytest.mark.parametrize(("name", "shown", "said"), [
    ("events.trap", "1", "the run made 1 trap event"),
    ("exit_code", "3", "the run powered off with exit code 3"),
    ("register.eax", "0x5", "the run ended with eax = 0x5"),
    ("vm.web.events.io", "4", "the run: VM web made 4 io events"),
    ("host.servers_saved", "2", "the run: the host's servers saved was 2"),
    ("something", "9", "the run gave something = 9"),
])
def test_quantities_are_said_in_words(name: str, shown: str, said: str) -> None:
    assert quantity_words.describe("the run", name, shown) == said
