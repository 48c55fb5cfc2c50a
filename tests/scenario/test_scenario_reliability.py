"""Scenarios that used to load and then crash or hang the run (issue 14).

The rule each test checks: a scenario is either refused at load — one :class:`ScenarioError`
line naming the field path, the value and what is allowed (the ranges the protocol carries,
memory a machine holds, times the simulation clock resolves) — or it runs to a result. A
physically dead link is a link that never heralds, reported as such; a cut-off that discards
every pair ends the flow with the reason; unreachable nodes are a load-time error naming both.
"""

from __future__ import annotations

import copy
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from qstack.link.protocol import DEAD_LINK_PROBABILITY
from qstack.network.runner import run_scenario
from qstack.physical.heralding import HeraldingModel, click_instrument, single_click_fidelity
from qstack.scenario import (
    MAX_MEMORY_POSITIONS,
    MAX_SIMULATED_CYCLES,
    MAX_TOTAL_MEMORY_POSITIONS,
    ScenarioError,
    linear_chain,
    load_scenario,
)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = tomllib.loads((ROOT / "qstack/data/default_chain.toml").read_text())
MICIUS = tomllib.loads((ROOT / "stages/stage0/micius_relay.toml").read_text())


def _default(duration: float | None = 5e-3, **request: Any) -> dict[str, Any]:
    """The embedded default chain (4 × 10 km at 5 µs/km, 2 kHz), run for ``duration``."""
    data = copy.deepcopy(DEFAULT)
    if duration is None:
        del data["simulation"]["duration"]
    else:
        data["simulation"]["duration"] = duration
    data["requests"][0].update(request)
    return data


def _refusal(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    return list(info.value.errors)


def _one_line(errors: list[str], path: str) -> str:
    lines = [line for line in errors if line.startswith(path + ":")]
    assert len(lines) == 1, errors
    return lines[0]


def test_priority_beyond_int32_is_refused_at_load_and_its_bounds_run() -> None:
    """The protocol carries a priority as int32: 2**40 is refused naming the field, the value
    and the range; the extremes of the range set up their paths and run."""
    line = _one_line(_refusal(_default(priority=2**40)), "requests[0].priority")
    assert "[-2147483648, 2147483647]" in line and "got 1099511627776" in line
    for priority in (2**31 - 1, -(2**31)):
        out = run_scenario(load_scenario(_default(duration=2e-3, priority=priority)))
        assert out["flows"][0]["failed"] is None


def test_pairs_beyond_uint32_is_refused_at_load_and_the_largest_runs() -> None:
    """num_pairs is a uint32: 2**33 pairs are refused; 2**32 − 1 pairs set up and run until the
    duration ends the run."""
    line = _one_line(_refusal(_default(pairs=2**33)), "requests[0].pairs")
    assert "[1, 4294967295]" in line and "got 8589934592" in line
    out = run_scenario(load_scenario(_default(duration=2e-3, pairs=2**32 - 1)))
    assert out["flows"][0]["failed"] is None and out["simulated_time"] == 2e-3


def test_memory_positions_beyond_a_machine_are_refused_at_load() -> None:
    """10⁹ positions per link end would exhaust memory while the network is built: refused by
    field; so is a total over all link ends beyond 2²⁰, on the field that reserves them."""
    data = _default()
    data["hardware"]["default"]["memory_positions"] = 10**9
    line = _one_line(_refusal(data), "hardware.default.memory_positions")
    assert f"[1, {MAX_MEMORY_POSITIONS}]" in line and "got 1000000000" in line
    with pytest.raises(ScenarioError) as info:  # 9 links × 2 ends × 2¹⁶ = 1179648 > 2²⁰
        linear_chain(10, memory_positions=MAX_MEMORY_POSITIONS)
    line = _one_line(list(info.value.errors), "hardware.default.memory_positions")
    assert f"within {MAX_TOTAL_MEMORY_POSITIONS} in all" in line and "reserve 1179648" in line
    assert line.endswith(f"got {MAX_MEMORY_POSITIONS}")
    assert load_scenario(linear_chain(3, memory_positions=MAX_MEMORY_POSITIONS)).links


@pytest.mark.parametrize("scheme", ["double_click", "single_click"])
@pytest.mark.parametrize("hardware, attenuation", [({"emission_efficiency": 0.0}, 0.2), ({}, 1e5)])
def test_dead_link_never_heralds_and_the_flow_fails_unsupported(scheme: str, hardware: dict[str, Any],
                                                                attenuation: float) -> None:
    """No light at the station — emission efficiency 0, or 10⁵ dB/km whose transmissivity
    underflows to exactly 0 — gives success probability exactly 0 (p = η_a·η_b/2 for double
    click, ≤ 2αη for single click, no dark counts). The run ends with the flow UNSUPPORTED and
    the link's error saying it never heralds; nothing is delivered."""
    data = _default()
    data["hardware"]["default"].update(hardware)
    for link in data["links"]:
        link.update(scheme=scheme, attenuation=attenuation)
    scenario = load_scenario(data)
    hw, _, _ = scenario.link_hardware(scenario.links[0])
    assert hw.eta_a == hw.eta_b == 0.0
    assert HeraldingModel(scheme, hw.eta_a, hw.eta_b, alpha=0.1).success_probability == 0.0
    out = run_scenario(scenario)
    assert out["delivered_pairs"] == 0 and out["link_pairs_generated"] == 0
    assert "UNSUPPORTED" in out["flows"][0]["failed"]
    assert out["link_errors"] and all("success probability 0" in e[4] and "never heralds" in e[4]
                                      for e in out["link_errors"])


def test_a_link_below_the_dead_link_probability_fails_unsupported_even_with_no_duration() -> None:
    """p > 0 but tiny (emission efficiency 1e-9: double click p = η_a·η_b/2 ≈ 1e-19 per attempt)
    is a dead link in practice — over the loader's longest run, 1e9 attempt cycles, it heralds a
    pair with probability ≈ 1e-10. A ``pairs`` request with no duration, which would otherwise end
    with nothing delivered and no reason (or wait for ever), fails UNSUPPORTED at once, its error
    giving p and the threshold."""
    data = _default(duration=None, pairs=3)
    data["hardware"]["default"]["emission_efficiency"] = 1e-9
    scenario = load_scenario(data)
    hw, _, _ = scenario.link_hardware(scenario.links[0])
    p = HeraldingModel("double_click", hw.eta_a, hw.eta_b).success_probability
    assert 0.0 < p < DEAD_LINK_PROBABILITY
    out = run_scenario(scenario)
    assert out["delivered_pairs"] == 0 and "UNSUPPORTED" in out["flows"][0]["failed"]
    assert all(f"success probability {p:.3g}" in e[4] and "never heralds" in e[4] for e in out["link_errors"])


def test_phase_std_beyond_float_range_dephases_the_link_fully() -> None:
    """σ = 1e300 rad (σ² overflows a double) means no coherence, e^{−σ²/2} = 0: the single-click
    fidelity is half its coherent value, F = (1 − α)/(2(1 − αη/2)), to 1e-12; a run with it
    completes."""
    assert click_instrument(0.5, 0.5, 0.0, 1e300)[0][1, 2] == 0.0
    model = HeraldingModel("single_click", 0.3, 0.3, 0.0, 0.1, 1e300)
    assert model.fidelity == pytest.approx(single_click_fidelity(0.1, 0.3) / 2, abs=1e-12)
    data = _default()
    for link in data["links"]:
        link["phase_std"] = 1e300
    out = run_scenario(load_scenario(data))
    assert out["flows"][0]["failed"] is None and out["simulated_time"] == 5e-3


@pytest.mark.parametrize("duration", [None, 5e-3])
def test_cutoff_shorter_than_herald_delay_expires_every_pair_and_ends(duration: float | None) -> None:
    """A pair reaches an end at the earliest d_a + d_b = 10 km × 5 µs/km = 50 µs after its
    emission (the station waits for both photons, the herald travels back). A 1 µs cut-off
    discards every pair, so the flow fails at once with that reason and the run ends — also
    with no duration, where it used to run forever."""
    data = _default(duration=duration, pairs=5)
    data["policies"]["cutoff"] = "1 us"
    out = run_scenario(load_scenario(data))
    flow = out["flows"][0]
    assert out["delivered_pairs"] == 0 and flow["delivered"] == 0
    assert flow["failed"].startswith("UNSUPPORTED: cut-off 1e-06 s is shorter than the herald delay of link")
    assert "(5e-05 s," in flow["failed"]
    assert out["simulated_time"] <= (duration or 1e-3)


def test_cutoff_longer_than_herald_delay_still_delivers() -> None:
    """The check is exact, not a margin: a 1.3 s cut-off (the default chain's) delivers."""
    out = run_scenario(load_scenario(_default(duration=0.05)))
    assert out["flows"][0]["failed"] is None and out["delivered_pairs"] > 0


def test_times_beyond_the_clock_resolution_are_refused_at_load() -> None:
    """Simulated time is a double: at 1e299 s one step is ~1e283 s, so a 500 µs attempt cycle no
    longer moves the clock and a link heralds forever at one instant (the run never ended).
    Duration, start and start + deadline are bounded by 10⁹ cycles of the fastest link, where
    the clock still resolves a cycle to 2.2e-7 of it; the bound itself loads."""
    errors = _refusal(_default(duration=1e300, start=1e299))
    horizon = MAX_SIMULATED_CYCLES * 5e-4
    for path, value in (("simulation.duration", "1e+300"), ("requests[0].start", "1e+299")):
        line = _one_line(errors, path)
        assert f"must be <= {horizon:g} s" in line and f"got {value}" in line
    assert "start + deadline" in _one_line(_refusal(_default(duration=None, pairs=3, deadline=1e299)),
                                           "requests[0].deadline")
    assert math.ulp(horizon) / 5e-4 < 1e-6
    assert load_scenario(_default(duration=horizon)).simulation.duration == horizon


def test_unreachable_application_roles_are_refused_naming_both_nodes() -> None:
    """The Micius relay without its second satellite link leaves Graz unreachable (the run used
    to crash in networkx): refused at load, naming both nodes."""
    data = copy.deepcopy(MICIUS)
    data["links"] = data["links"][:1]
    line = _one_line(_refusal(data), "application.roles.graz")
    assert '"xinglong"' in line and '"graz"' in line and "no path" in line


def test_unreachable_request_endpoints_are_refused_naming_both_nodes() -> None:
    data = _default()
    data["links"] = data["links"][:2]  # n2 — n3 — n4 cut off
    line = _one_line(_refusal(data), "requests[0].destination")
    assert '"n0"' in line and '"n4"' in line and "no path" in line


def test_deeply_nested_toml_is_refused_with_a_typed_error(tmp_path: Path) -> None:
    """5000 nested arrays exhaust the TOML parser's recursion: a ScenarioError names the
    problem; 40 levels parse but exceed the schema's nesting and are refused by field path."""
    path = tmp_path / "deep.toml"
    path.write_text("[simulation]\nseed = 1\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ScenarioError, match="nested 5000 deep"):
        load_scenario(path)
    path.write_text("[simulation]\nseed = 1\nx = " + "[" * 40 + "]" * 40 + "\n")
    with pytest.raises(ScenarioError, match=r"simulation\.x(\[0\])+: must nest tables and arrays at most 32"):
        load_scenario(path)
    deep: dict[str, Any] = {}
    inner = deep
    for _ in range(3000):
        inner["a"] = {}
        inner = inner["a"]
    with pytest.raises(ScenarioError, match="at most 32 deep"):
        load_scenario({"simulation": {"seed": 1, "name": deep}})
