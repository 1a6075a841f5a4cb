import pytest

from vizvm.lessons.answers import parse_number


@pytest.mark.parametrize(("text", "value"), [
    ("42", 42), ("-3", -3), ("+5", 5), ("0x2A", 42), ("0x2a", 42), ("0b101010", 42),
    ("0o17", 15), ("1_000", 1000), ("0xffff_ffff", 0xFFFFFFFF), ("  7 ", 7), ("007", 7),
    ("3.5", 3.5), ("-0.25", -0.25), (".5", 0.5), ("1e3", 1000.0),
])
def test_numbers_students_write(text: str, value: float) -> None:
    assert parse_number(text) == value
    assert type(parse_number(text)) is type(value)


@pytest.mark.parametrize(("text", "message"), [
    ("1,000", "leave out the commas"),
    ("0xZZ", "'0xZZ' is not a number: write 42, 0x2a or 0b101010"),
    ("", "no number given"),
    ("   ", "no number given"),
    ("forty", "is not a number"),
    ("0b102", "is not a number"),
    ("1__0", "'_' goes only between digits"),
    ("10_", "'_' goes only between digits"),
    ("--1", "is not a number"),
    ("0x", "is not a number"),
])
def test_what_is_not_a_number_is_said_plainly(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as caught:
        parse_number(text)
    assert "Traceback" not in str(caught.value)
