"""The cost model: every profile complete and cited, and the 2006 numbers keep the paper's shape."""

from __future__ import annotations

import dataclasses

import pytest

from vizvm.monitors.cost_model import (
    BASES,
    COST_KEYS,
    DEFAULT_PROFILE,
    PROFILES,
    SOURCES,
    Price,
    Profile,
    profile,
)

ALL = sorted(PROFILES)


@pytest.mark.parametrize("name", ALL)
def test_every_profile_prices_every_key(name: str) -> None:
    assert set(PROFILES[name].prices) == set(COST_KEYS)


@pytest.mark.parametrize("name", ALL)
def test_every_price_cites_a_known_source_and_says_how(name: str) -> None:
    for key, price in PROFILES[name].prices.items():
        assert price.source in SOURCES, key
        assert price.basis in BASES, key
        assert len(price.note) > 40, key  # an explanation, not a tag


@pytest.mark.parametrize("name", ALL)
def test_cycles_are_non_negative_ints(name: str) -> None:
    for key, cycles in PROFILES[name].cycles().items():
        assert type(cycles) is int, key
        assert cycles >= 0, key


@pytest.mark.parametrize("name", ALL)
def test_profile_metadata(name: str) -> None:
    p = PROFILES[name]
    assert p.name == name
    assert p.title and "\n" not in p.title
    assert p.summary.count(".") >= 2  # a few sentences, not a label


def test_cycles_is_the_plain_mapping_the_log_consumes() -> None:
    p = profile(DEFAULT_PROFILE)
    assert p.cycles() == {key: price.cycles for key, price in p.prices.items()}
    assert type(p.cycles()) is dict


def test_every_source_is_a_full_citation() -> None:
    for key, citation in SOURCES.items():
        assert len(citation) > 80, key


def test_default_profile_exists() -> None:
    assert DEFAULT_PROFILE in PROFILES
    assert profile(DEFAULT_PROFILE) is PROFILES[DEFAULT_PROFILE]


def test_unknown_profile_lists_the_valid_names() -> None:
    with pytest.raises(KeyError) as err:
        profile("nope")
    for name in PROFILES:
        assert name in str(err.value)


def test_profiles_are_immutable() -> None:
    p = profile(DEFAULT_PROFILE)
    with pytest.raises(TypeError):
        p.prices["trap"] = Price(1, "adams2006", "estimate: tampering")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.prices["trap"].cycles = 1  # type: ignore[misc]
    assert len({p, profile("modern")}) == 2  # still usable as a key


def test_incomplete_or_uncited_profiles_are_rejected() -> None:
    good = dict(profile(DEFAULT_PROFILE).prices)
    missing = {k: v for k, v in good.items() if k != "trap"}
    with pytest.raises(ValueError, match="trap"):
        Profile("x", "x", "x", missing)
    uncited = {**good, "trap": Price(1, "nowhere", "estimate: no source at all")}
    with pytest.raises(ValueError, match="nowhere"):
        Profile("x", "x", "x", uncited)
    unlabelled = {**good, "trap": Price(1, "adams2006", "just a number")}
    with pytest.raises(ValueError, match="basis"):
        Profile("x", "x", "x", unlabelled)


def test_estimates_are_flagged() -> None:
    p = profile("p4-2006")
    assert "bt_translate" in p.estimates()
    assert "vm_exit" not in p.estimates()


# The 2006 profile against Adams & Agesen (ASPLOS 2006) and Agesen et al. (ATC 2012).
P4 = profile("p4-2006").cycles()


def test_p4_exits_cost_more_than_callouts() -> None:
    # The paper's central point: first-generation exits were expensive. Agesen et al. 2012
    # Table 1 (Prescott round trip 3963) against Adams & Agesen Section 3.3 (callout 1038).
    assert P4["vm_exit"] > P4["bt_callout"]
    assert P4["vm_exit"] > P4["trap"]


def test_p4_rdtsc_three_ways() -> None:
    # Adams & Agesen Section 3.3: rdtsc by trap-and-emulate 2030, callout-and-emulate 1254,
    # in-TC emulation 216 cycles. The keys must add back up to those measurements.
    assert P4["trap"] + P4["emulate"] == 2030
    assert P4["bt_callout"] + P4["emulate"] == 1254
    assert P4["emulate"] == 216
    assert P4["trap"] > P4["bt_callout"] > P4["bt_inline"]


def test_p4_port_io_is_cheaper_emulated_than_native_and_dearest_with_exits() -> None:
    # Section 6.3, in: native 3209, BT about fifteen times faster (216), VT 15826.
    assert P4["io_device"] >= 10 * P4["emulate"]
    assert P4["vm_exit"] + P4["vm_exit_handling"] > 3 * P4["io_device"]


def test_p4_guest_faults_cost_more_under_software_monitors() -> None:
    # Section 6.3, divzero: native 889, BT 3223, VT near native (no exit). Under BT the
    # fault traps in and is reflected, and the handler's IRET is a callout plus its
    # emulation; the keys must add back up to 3223, counting that IRET once.
    assert P4["hw_exception"] == 889
    assert P4["trap"] + P4["reflect"] + P4["bt_callout"] + P4["emulate"] == 3223
    assert P4["trap"] + P4["reflect"] + P4["bt_callout"] + P4["emulate"] > 3 * P4["hw_exception"]
    assert P4["reflect"] > 0


def test_modern_carries_the_p4_reflect_over() -> None:
    # No modern source times a software monitor's reflection: the 2006 price is kept.
    modern = profile("modern").prices["reflect"]
    assert modern.cycles == P4["reflect"]
    assert modern.basis == "estimate"


def test_p4_pte_writes_are_dearest_with_exits() -> None:
    # Section 6.3, ptemod: a native store is 1 cycle; VT 12733 (one exit, decoded and
    # emulated), far above the software monitor's 391-cycle adapted program or a trace fault.
    assert P4["vm_exit"] + P4["vm_exit_handling"] == 12733
    assert P4["vm_exit"] + P4["vm_exit_handling"] > 4 * P4["shadow_pt_update"]
    assert P4["shadow_pt_update"] > P4["trap"]


def test_exits_got_cheaper() -> None:
    # Agesen et al. 2012 Table 1: round trips fell about 80% from Prescott to Sandy Bridge;
    # vmlatency's Skylake result continues the trend.
    assert profile("modern").cycles()["vm_exit"] * 4 < P4["vm_exit"]


def test_p4_indirect_branch_lookup_is_the_call_ret_penalty() -> None:
    # Section 6.3, call/ret: a pair costs 51 cycles under BT against 11 natively and under VT;
    # the monitor charges the difference once per pair, at the RET.
    assert P4["bt_indirect"] == 51 - 11
    assert P4["bt_inline"] < P4["bt_indirect"] < P4["emulate"]
