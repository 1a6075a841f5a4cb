"""Variants: stable per student, different across students, and where the guest reads them."""

from __future__ import annotations

import struct

import pytest

from vizvm.lessons.model import PARAMS_ADDRESS, Param
from vizvm.lessons.variants import (
    draw,
    params_memory,
    placeholders,
    preload,
    seed_for,
    substitute,
)

PARAMS = (Param("calls", "int", 3, 90, 3), Param("port", "choice", values=(0x71, 0x61, 0x80)))


def test_a_seed_is_a_fixed_function_of_the_names():
    # the first 4 bytes of SHA-256("ada\0vizvm-core\0rings"): the same on every machine
    assert seed_for("ada", "vizvm-core", "rings") == 0xDA8A2A58
    assert seed_for(" ada ", "vizvm-core", "rings") == seed_for("ada", "vizvm-core", "rings")


def test_seeds_differ_across_students_and_lessons():
    seeds = {seed_for(s, "p", lesson) for s in ("ada", "alan", "grace") for lesson in "ab"}
    assert len(seeds) == 6


def test_values_are_stable_and_within_their_generator():
    for seed in range(200):
        values = draw(PARAMS, seed)
        assert values == draw(PARAMS, seed)
        assert values["calls"] in range(3, 91, 3)
        assert values["port"] in (0x71, 0x61, 0x80)


def test_values_differ_across_students():
    drawn = {tuple(draw(PARAMS, seed_for(f"student{i}", "p", "l")).values()) for i in range(40)}
    assert len(drawn) > 20
    calls = {draw(PARAMS, seed)["calls"] for seed in range(300)}
    assert calls == set(range(3, 91, 3))  # every value can come up


def test_adding_a_parameter_keeps_the_others():
    more = (*PARAMS, Param("extra", "int", 0, 1000))
    assert {k: v for k, v in draw(more, 7).items() if k != "extra"} == draw(PARAMS, 7)


@pytest.mark.parametrize(("text", "out"), [
    ("{calls} calls", "12 calls"),
    ("{{calls}} is literal", "{calls} is literal"),
    ("{{ and }}", "{ and }"),
    ("{unknown} stays", "{unknown} stays"),
    ("port {port:x}", "port {port:x}"),
    ("{calls}{port}", "12113"),
])
def test_substitute(text, out):
    assert substitute(text, {"calls": 12, "port": 0x71}) == out


def test_placeholders_skip_literal_braces():
    assert list(placeholders("a {x} {{y}} {z}")) == [(2, "x"), (12, "z")]


def test_memory_is_little_endian_words_in_declaration_order():
    values = {"port": 0x71, "calls": 12}
    assert params_memory(PARAMS, values) == struct.pack("<II", 12, 0x71)
    assert preload(PARAMS, values) == ((PARAMS_ADDRESS, struct.pack("<II", 12, 0x71)),)
    assert preload((), {}) == ()
    assert params_memory((Param("n", "int", -5, 5),), {"n": -1}) == b"\xff\xff\xff\xff"


def test_a_missing_value_is_named():
    with pytest.raises(ValueError, match="port"):
        params_memory(PARAMS, {"calls": 3})
