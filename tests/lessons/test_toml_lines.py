"""Key paths to lines: what every schema error's file:line stands on."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from vizvm.lessons.errors import PackError
from vizvm.lessons.toml_lines import parse, scan

TEXT = '''\
# a comment
format = 1
lessons = [
  "a",  # first
  "b",
]
note = """
[[not-a-table]]
key = "inside a string"
"""
literal = \'\'\'
[steps]
\'\'\'

[[steps]]
id = "one"

[[steps.checks]]
id = "c1"

[[steps.checks]]
id = "c2"
choices = [ { text = "x", correct = true },
  { text = "y" } ]

[[steps]]
id = "two"

[steps.host]
vms = [
  { name = "a", program = "p" },
  { name = "b", program = "p" },
]

[[steps.checks]]
"quoted.key" = 1
dotted.inner = 2
'''


@pytest.mark.parametrize(("path", "line"), [
    (("format",), 2),
    (("lessons",), 3),
    (("lessons", 1), 5),
    (("note",), 7),
    (("literal",), 11),
    (("steps", 0), 15),
    (("steps", 0, "id"), 16),
    (("steps", 0, "checks", 0, "id"), 19),
    (("steps", 0, "checks", 1), 21),
    (("steps", 0, "checks", 1, "choices", 1, "text"), 24),
    (("steps", 1, "id"), 27),
    (("steps", 1, "host"), 29),
    (("steps", 1, "host", "vms", 1, "program"), 32),
    (("steps", 1, "checks", 0), 35),
    (("steps", 1, "checks", 0, "quoted.key"), 36),
    (("steps", 1, "checks", 0, "dotted", "inner"), 37),
])
def test_lines_of_keys(path, line):
    assert scan(TEXT).line_of(path) == line


def test_strings_hide_what_looks_like_tables():
    lines = scan(TEXT)
    assert ("not-a-table",) not in lines.lines
    assert ("steps", 2) not in lines.lines  # the [steps] inside ''' is text


def test_a_missing_key_falls_back_to_its_table():
    assert scan(TEXT).line_of(("steps", 0, "checks", 1, "kind")) == 21
    assert scan(TEXT).line_of(("nothing",)) == 1


def test_multiline_string_text_starts_on_the_next_line():
    assert scan(TEXT).text_line(("note",)) == 8


def test_value_spans():
    lines = scan(TEXT)
    start, end = lines.spans[("lessons",)]
    assert TEXT[start:end].startswith("[") and TEXT[start:end].endswith("]")


@pytest.mark.parametrize(("text", "line"), [
    ("a = 1\nb = \nc = 2\n", 2),
    ("a = 1\n\n\n[x\n", 4),
    ('a = "unterminated\n', 1),
    ("a = 1\na = 2\n", 2),
])
def test_tomllib_errors_keep_their_line(text, line):
    with pytest.raises(PackError) as caught:
        parse("f.toml", text)
    (problem,) = caught.value.problems
    assert problem.where.file == "f.toml"
    assert problem.where.line == line
    assert "not valid TOML" in problem.message and "(at line" not in problem.message


def test_not_utf8_is_a_problem_at_its_line():
    with pytest.raises(PackError) as caught:
        parse("f.toml", b"a = 1\nb = '\xff'\n")
    assert str(caught.value.problems[0]) == "f.toml:2: not UTF-8 text"


def test_windows_line_ends():
    text = TEXT.replace("\n", "\r\n")
    assert scan(text).line_of(("steps", 1, "host", "vms", 1, "program")) == 32
    assert scan(text).text_line(("note",)) == 8


def _paths(value, path=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*path, key)
            yield from _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*path, index)
            yield from _paths(inner, (*path, index))


def _real_toml_files(tmp_path) -> list[Path]:
    from vizvm.lessons import builtin, scaffold

    scaffold.new_lesson("made", tmp_path)
    found = sorted(tmp_path.rglob("*.toml"))
    return found + sorted(builtin.lessons_root().rglob("*.toml"))


def test_every_key_of_real_files_is_found_on_a_line_that_names_it(tmp_path):
    """The scaffold's output and the shipped lessons: every key path tomllib sees."""
    checked = 0
    for file in _real_toml_files(tmp_path):
        text = file.read_text(encoding="utf-8")
        lines = scan(text)
        for path in _paths(tomllib.loads(text)):
            assert path in lines.lines, (file, path)
            if isinstance(path[-1], str):
                assert path[-1] in text.splitlines()[lines.lines[path] - 1], (file, path)
            checked += 1
    assert checked > 50
