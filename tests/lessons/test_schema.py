"""The schema: every problem reported, each with file:line and what was expected."""

from __future__ import annotations

import pytest
from pack_files import LESSON_TOML, PACK_TOML, lesson_with, pack_folder

from vizvm import __version__
from vizvm.lessons.errors import PackError
from vizvm.lessons.loader import load_pack
from vizvm.lessons.schema import semver_key


def problems(path) -> list[str]:
    with pytest.raises(PackError) as caught:
        load_pack(path)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(("old", "new", "expected", "needle"), [
    ('kind = "number"', 'kind = "numbr"',
     "steps[1].checks[0].kind (check 'io'): 'numbr' is not one of trap, choice, number",
     'kind = "numbr"'),
    ('minutes = 5', 'minutes = 5\ntitel = "x"', "titel: unknown key; did you mean 'title'?",
     "titel"),
    ('technique = "native"', 'technique = "native"\ntolerence = 1',
     "steps[1].checks[0].tolerence (check 'io'): unknown key; did you mean 'tolerance'?",
     "tolerence"),
    ('instruction = "cli"', 'instruction = "cli"\nanswer = 1',
     "steps[1].checks[1].answer (check 'cli'): not a key of trap checks (it belongs to "
     "number checks)",
     "answer = 1"),
    ('techniques = ["native", "trap-emulate"]', 'techniques = ["native", "trap-emulat"]',
     "did you mean 'trap-emulate'?", "trap-emulat"),
    ('program = "driver"', 'program = "drivr"', "'drivr' is not a program of this lesson",
     'program = "drivr"'),
    ('id = "intro"', 'id = "Intro!"', "steps[0].id: 'Intro!' is not a name", 'id = "Intro!"'),
    ('id = "why"', 'id = "io"', "a second check with id 'io'", 'id = "io"\nkind = "choice"'),
    ('{ text = "a", correct = true }', '{ text = "a" }', "no choice has correct = true",
     "choices ="),
    ('{ text = "b", feedback = "no" }', '{ text = "b", correct = true }',
     "add multiple = true", "choices ="),
    ('compute = "events.io"', 'compute = "events.io"\nanswer = 3',
     "needs exactly one of 'answer'", '^id = "io"'),
    ('compute = "events.io"', 'compute = "events.iox"', "did you mean 'io'?", "events.iox"),
    ('compute = "events.io"', 'compute = "memory.zz"', "expected an address", "memory.zz"),
    ('compute = "events.io"', 'compute = "register.eaxx"', "did you mean 'eax'?", "eaxx"),
    ('compute = "events.io"', 'compute = "vm.a.exit_code"', "for steps that run a host",
     "vm.a"),
    ('compute = "events.io"\ntechnique = "native"', 'compute = "exit_code"',
     "needs 'technique' (the step has 2 techniques", '^id = "io"'),
    ('min = 3\nmax = 9', 'min = 9\nmax = 3', "max (3) is below min (9)", "max = 3"),
    ('min = 3\nmax = 9', 'min = 3\nmax = 9\nstep = 0', "step: must be positive", "step = 0"),
    ('kind = "int"\nmin = 3\nmax = 9', 'kind = "choice"\nvalues = []',
     "expected a non-empty list of integers", "values = []"),
    ('body = "Run it {calls} times."', 'body = "Run it {callz} times."',
     "{callz} names no parameter", "body ="),
    ('text = "intro.md"', 'text = "missing.md"', "no file 'missing.md' in rings/",
     "missing.md"),
    ('text = "intro.md"', 'text = "../../x.md"', "outside the pack", "../../x.md"),
    ('text = "intro.md"', 'text = "intro.md"\nbody = "x"', "has both 'text' and 'body'",
     '^id = "intro"'),
    ('image = "driver.bin"', 'image = "driver.img"', "no file 'driver.img'", "driver.img"),
    ('kind = "run"', 'kind = "runn"', "did you mean 'run'?", 'kind = "runn"'),
    ('program = "driver"\n', '', "a run step needs 'program'", '^id = "count"'),
])
def test_each_problem_names_the_key_and_line(tmp_path, old, new, expected, needle):
    """`needle` finds the line; with a leading '^', the table header just above it."""
    text = LESSON_TOML.replace(old, new, 1)
    found = problems(lesson_with(tmp_path, old, new))
    line = text[: text.index(needle.lstrip("^"))].count("\n") + 1 - needle.startswith("^")
    assert any(p.startswith(f"rings/lesson.toml:{line}: ") and expected in p
               for p in found), (found, line)


def test_every_problem_is_reported_in_one_run(tmp_path):
    text = (LESSON_TOML.replace('kind = "number"', 'kind = "numbr"')
            .replace('minutes = 5', 'minutes = -1')
            .replace('technique = "trap-emulate"', 'technique = "trap"'))
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    assert len(found) == 3, found
    assert [int(p.split(":")[1]) for p in found] == sorted(int(p.split(":")[1]) for p in found)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("format = 1", "format = 2",
     "pack.toml:1: format: written for lesson format 2; this vizvm reads format 1: update vizvm"),
    ('min_app_version = "0.1.0"', 'min_app_version = "99.0.0"',
     f"pack.toml:5: min_app_version: this pack needs vizvm 99.0.0 or newer; this is vizvm "
     f"{__version__}: update vizvm"),
    ('version = "1.0.0"', 'version = "1.0"', "pack.toml:4: version: '1.0' is not a semantic"),
    ('lessons = ["rings"]', 'lessons = ["rings", "rings"]', "pack.toml:8: lessons[1]: 'rings' "
     "is listed twice"),
    ('lessons = ["rings"]', 'lessons = ["rings", "gone"]', "pack.toml:8: lessons[1]: no lesson "
     "folder 'gone' in the pack"),
    ('license = "CC-BY-4.0"', 'licence = "CC-BY-4.0"',
     "pack.toml:7: licence: unknown key; did you mean 'license'?"),
    ('id = "test-pack"', 'id = 3', "pack.toml:2: id: expected a string, found 3"),
])
def test_pack_toml_problems(tmp_path, old, new, expected):
    found = problems(pack_folder(tmp_path, {"pack.toml": PACK_TOML.replace(old, new)}))
    assert any(p.startswith(expected) for p in found), found


def test_a_newer_format_stops_before_the_rest(tmp_path):
    text = PACK_TOML.replace("format = 1", "format = 2").replace("lessons", "lesons")
    assert len(problems(pack_folder(tmp_path, {"pack.toml": text}))) == 1


def test_a_missing_lesson_toml_is_named_at_the_key_listing_it(tmp_path):
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": None}))
    assert found == ["pack.toml:8: lessons[0]: no rings/lesson.toml"]


def test_a_malformed_lesson_toml_reports_its_line(tmp_path):
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": "id = 'rings'\ntitle = \n"}))
    assert len(found) == 1 and found[0].startswith("rings/lesson.toml:2: not valid TOML")


@pytest.mark.parametrize(("text", "older"), [
    ("0.1.0", "0.0.9"), ("1.0.0", "1.0.0-rc.1"), ("1.0.0-rc.2", "1.0.0-rc.1"),
    ("1.0.0-rc.1", "1.0.0-beta"), ("1.10.0", "1.9.9"), ("1.0.0-alpha.beta", "1.0.0-alpha.1"),
])
def test_semantic_versions_order(text, older):
    assert semver_key(older) < semver_key(text)


def test_host_steps(tmp_path):
    host = '''
[[steps]]
id = "pair"
kind = "run"
title = "Two VMs"
body = "Two."

[steps.host]
scenario = "flawed-dma"
vms = [
  { name = "attacker", program = "driver", technique = "trap-emulate" },
  { name = "victim", program = "hello", technique = "trapemulate" },
]

[[steps.checks]]
id = "left"
kind = "number"
prompt = "Exit?"
compute = "vm.victm.exit_code"

[[steps.checks]]
id = "reg"
kind = "register"
prompt = "eax?"
register = "eax"
'''
    text = LESSON_TOML + host
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    base = LESSON_TOML.count("\n")
    assert any(p.startswith(f"rings/lesson.toml:{base + 12}: steps[2].host.vms[1].technique:")
               and "did you mean 'trap-emulate'?" in p for p in found), found
    assert any("did you mean 'victim'?" in p for p in found), found
    assert any("a host runs several machines" in p for p in found), found
    assert len(found) == 3, found


def test_a_pack_without_lessons(tmp_path):
    text = PACK_TOML.replace('lessons = ["rings"]\n', "")
    assert problems(pack_folder(tmp_path, {"pack.toml": text})) == [
        "pack.toml:1: missing key 'lessons' (a list)"]


def test_a_host_that_is_not_a_table_is_reported_once(tmp_path):
    text = LESSON_TOML.replace('program = "driver"\n', 'host = "flawed-dma"\n')
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    assert sum("host" in p for p in found) == 1, found


def test_an_empty_image_is_not_a_program(tmp_path):
    found = problems(pack_folder(tmp_path, {"rings/driver.bin": b""}))
    assert len(found) == 1 and "'driver.bin' is empty" in found[0]


@pytest.mark.parametrize("kind", ["predict", "answer"])
def test_question_steps_need_checks(tmp_path, kind):
    text = LESSON_TOML.replace('kind = "read"', f'kind = "{kind}"')
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    assert any("step asks questions: give it [[steps.checks]]" in p for p in found), found


@pytest.mark.parametrize(("old", "new", "expected"), [
    ('choices = [ { text = "a", correct = true }, { text = "b", feedback = "no" } ]', "",
     "missing key 'choices'"),
    ('instruction = "cli"\n', "", "missing key 'instruction'"),
    ('technique = "trap-emulate"\n', "", "missing key 'technique'"),
    ('kind = "choice"', 'kind = "text"', "missing key 'pattern'"),
    ('kind = "choice"', 'kind = "events"', "missing key 'event'"),
    ('kind = "choice"', 'kind = "memory"', "missing key 'address'"),
    ('kind = "choice"', 'kind = "register"', "missing key 'register'"),
])
def test_missing_keys_of_each_kind(tmp_path, old, new, expected):
    assert any(expected in p for p in problems(lesson_with(tmp_path, old, new)))


@pytest.mark.parametrize(("check", "expected"), [
    ('kind = "text"\npattern = "(unclosed"', "not a regular expression"),
    ('kind = "text"\npattern = "' + "a" * 201 + '"', "at most 200"),
    ('kind = "memory"\naddress = 0x1000\nsize = 3\ntechnique = "native"', "3 is not one of"),
    ('kind = "serial"\nline = 0\ntechnique = "native"', "lines count from 1"),
    ('kind = "events"\nevent = "trap"\nop = "=>"\nvalue = 0', "write '>='"),
    ('kind = "number"\nanswer = 4\ntechnique = "native"', "only a computed answer"),
    ('kind = "number"\nanswer = 4\npoints = -1', "points (check 'extra'): must be 0 or more"),
    ('kind = "register"\nregister = "eax"', "needs 'technique'"),
])
def test_kind_specific_values(tmp_path, check, expected):
    text = LESSON_TOML + f'\n[[steps.checks]]\nid = "extra"\nprompt = "?"\n{check}\n'
    found = problems(pack_folder(tmp_path, {"rings/lesson.toml": text}))
    assert len(found) == 1 and expected in found[0], found
