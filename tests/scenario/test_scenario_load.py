"""Loading valid scenarios: defaults, units to SI, the dataclass API, round trips, linear_chain."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scenario_helpers import chain_dict

import qstack.scenario as scenario_module
from qstack.scenario import (
    STARLIGHT_HARDWARE,
    HardwareSpec,
    LinkSpec,
    NodeSpec,
    PolicySpec,
    PurificationSpec,
    RequestSpec,
    Scenario,
    ScenarioError,
    SimulationSpec,
    linear_chain,
    load_scenario,
)


def test_minimal_scenario_gets_the_documented_defaults() -> None:
    data = {
        "simulation": {"seed": 0},
        "hardware": {"default": {"memory_positions": 1, "attempt_rate": 1000}},
        "nodes": [{"name": "a", "role": "end"}, {"name": "b", "role": "end"}, {"name": "r"}],
        "links": [{"a": "a", "b": "r", "length": 1}, {"a": "r", "b": "b", "length": 1}],
        "requests": [{"source": "a", "destination": "b", "pairs": 1}],
    }
    s = load_scenario(data)
    assert s.simulation == SimulationSpec(seed=0, duration=None, name=None)
    assert s.hardware == (HardwareSpec("default", 1, 1000.0),)
    hw = s.hardware[0]
    assert (hw.t1, hw.t2, hw.depolarizing_time) == (math.inf, math.inf, None)
    assert (hw.emission_efficiency, hw.detector_efficiency, hw.dark_count_probability) == (1.0, 1.0, 0.0)
    assert s.node("r") == NodeSpec("r", role="repeater", hardware="default")
    link = s.links[0]
    assert (link.attenuation, link.refractive_index, link.station_position, link.scheme) == (
        0.2,
        1.44,
        0.5,
        "double_click",
    )
    assert (link.alpha, link.phase_std, link.classical_delay_per_km, link.memory_positions) == (None, 0.0, None, None)
    assert s.policies == PolicySpec("shortest_path", "asap", None, None)
    assert s.requests[0] == RequestSpec("a", "b", pairs=1, min_fidelity=0.0, deadline=None, start=0.0, priority=0)
    assert (s.requests[0].type, s.requests[0].basis) == ("keep", None)


def test_quantities_are_read_as_si() -> None:
    data = chain_dict()
    data["simulation"]["duration"] = "250 ms"
    data["hardware"]["default"].update(t1="2 s", t2="1500 ms", attempt_rate="2.5 kHz")
    data["links"][0].update(
        length="25 km",
        attenuation="0.16 dB/km",
        phase_std="1 deg",
        classical_delay_per_km="5 µs",
        scheme="single_click",
    )
    data["links"][1].update(length=500.0, attenuation=0.3, phase_std=0.01)
    data["policies"]["cutoff"] = "100 ms"
    data["requests"][0].update(deadline="1 min", start="500 us")
    s = load_scenario(data)
    assert s.simulation.duration == 0.25
    assert (s.hardware[0].t1, s.hardware[0].t2, s.hardware[0].attempt_rate) == (2.0, 1.5, 2500.0)
    assert (s.links[0].length, s.links[0].attenuation) == (25_000.0, 0.16)
    assert s.links[0].phase_std == pytest.approx(math.pi / 180)
    assert s.links[0].classical_delay_per_km == pytest.approx(5e-6)
    assert (s.links[1].length, s.links[1].attenuation, s.links[1].phase_std) == (500.0, 0.3, 0.01)
    assert s.policies.cutoff == pytest.approx(0.1)
    assert s.requests[0].deadline == 60.0 and s.requests[0].start == pytest.approx(5e-4)


@pytest.mark.parametrize("inf", ["inf", math.inf, " inf "])
def test_infinite_memory_times(inf: Any) -> None:
    data = chain_dict()
    data["hardware"]["default"].update(t1=inf, t2=inf, depolarizing_time="3 s")
    hw = load_scenario(data).hardware[0]
    assert (hw.t1, hw.t2, hw.depolarizing_time) == (math.inf, math.inf, 3.0)


def test_single_click_with_and_without_alpha() -> None:
    data = chain_dict()
    data["links"][0].update(scheme="single_click", alpha=0.05)
    data["links"][1].update(scheme="single_click")
    s = load_scenario(data)
    assert (s.links[0].alpha, s.links[1].alpha) == (0.05, None)


def test_measure_requests_default_to_the_z_basis() -> None:
    data = chain_dict()
    data["requests"] = [
        {"source": "a", "destination": "b", "type": "measure"},
        {"source": "b", "destination": "a", "type": "measure", "basis": "Y"},
    ]
    assert [r.basis for r in load_scenario(data).requests] == ["Z", "Y"]


def test_purification_policy() -> None:
    data = chain_dict()
    data["policies"]["purification"] = {"protocol": "pumping", "target_fidelity": 1, "scope": "end_to_end"}
    assert load_scenario(data).policies.purification == PurificationSpec("pumping", 1.0, "end_to_end", 3)


def test_routing_registry_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    data = chain_dict()
    data["policies"]["routing"] = "widest_path"
    with pytest.raises(ScenarioError):
        load_scenario(data)
    monkeypatch.setattr(scenario_module, "ROUTING_POLICIES", (*scenario_module.ROUTING_POLICIES, "widest_path"))
    assert load_scenario(data).policies.routing == "widest_path"


def test_paths_of_every_kind_are_accepted(tmp_path: Path) -> None:
    text = Path(__file__).resolve().parents[2].joinpath("examples", "two_node_link.toml").read_text(encoding="utf-8")
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    expected = load_scenario(path)
    assert load_scenario(str(path)) == expected

    class PathLike:
        def __fspath__(self) -> str:
            return os.fspath(path)

    assert load_scenario(PathLike()) == expected


def test_the_input_dict_is_not_changed() -> None:
    data = chain_dict()
    data["requests"][0]["type"] = "measure"
    before = copy.deepcopy(data)
    load_scenario(data)
    assert data == before


def test_scenario_is_frozen_and_hashable() -> None:
    s = load_scenario(chain_dict())
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.links = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.links[0].length = 1.0  # type: ignore[misc]
    assert hash(s) == hash(load_scenario(chain_dict()))


def test_lists_given_to_scenario_become_tuples() -> None:
    s = load_scenario(chain_dict())
    rebuilt = Scenario(s.simulation, list(s.hardware), list(s.nodes), list(s.links), list(s.requests), s.policies)
    assert rebuilt == s and isinstance(rebuilt.links, tuple)


# ---------------------------------------------------------------------------------------------
# Queries on a scenario


def test_link_graph_and_lookups() -> None:
    data = chain_dict()
    data["nodes"].append({"name": "lonely"})
    s = load_scenario(data)
    graph = s.link_graph()
    assert {node: sorted(neighbours) for node, neighbours in graph.items()} == {
        "a": ["r1"],
        "r1": ["a", "b"],
        "b": ["r1"],
        "lonely": [],
    }
    assert graph["r1"]["b"] is s.links[1] and graph["b"]["r1"] is s.links[1]
    assert s.link("b", "r1") is s.links[1]
    with pytest.raises(KeyError):
        s.link("a", "b")
    with pytest.raises(KeyError):
        s.node("zz")


def test_per_node_hardware_and_per_link_resources() -> None:
    data = chain_dict()
    data["hardware"]["big"] = {**data["hardware"]["default"], "memory_positions": 50, "t2": "0.5 s"}
    data["nodes"][1]["hardware"] = "big"
    data["links"][1]["memory_positions"] = 3
    s = load_scenario(data)
    assert s.hardware_of("r1").t2 == 0.5 and s.hardware_of("a").t2 == 1.3
    assert s.link_memory_positions(s.links[0]) == (10, 50)
    assert s.link_memory_positions(s.links[1]) == (3, 3)
    assert s.station_detector(s.links[0]) == (0.8, 0.0)


def test_link_geometry_and_delay() -> None:
    link = LinkSpec("a", "b", "10 km", station_position=0.3, refractive_index=1.5)
    assert link.arm_lengths == pytest.approx((3000.0, 7000.0))
    assert link.classical_delay == pytest.approx(10_000.0 * 1.5 / 299_792_458.0)


def test_gate_noise_of_a_profile() -> None:
    from qstack.quantum.noise import GateNoise

    hw = HardwareSpec("hw", 1, 1e3, single_qubit_depolarizing=0.001, two_qubit_depolarizing=0.01, readout_error=0.02)
    assert hw.gate_noise == GateNoise(0.001, 0.01, 0.02)


# ---------------------------------------------------------------------------------------------
# Round trips


def _has_no_none(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_has_no_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_has_no_none(v) for v in value)
    return value is not None


def test_round_trip_with_every_optional_field() -> None:
    data = chain_dict()
    data["hardware"]["default"].update(t1="inf", t2="inf", depolarizing_time="2 s", readout_error=0.01)
    data["links"][0].update(
        scheme="single_click",
        alpha=0.1,
        phase_std="0.2 rad",
        classical_delay_per_km="5 us",
        memory_positions=4,
        detector_efficiency=0.7,
        dark_count_probability=1e-6,
        station_position=0.25,
    )
    data["policies"]["purification"] = {"protocol": "bbpssw", "target_fidelity": 0.9, "max_rounds": 2}
    data["requests"][0].update(pairs=7, deadline="3 ms", start="1 ms", priority=-2, type="measure", basis="X")
    s = load_scenario(data)
    d = s.to_dict()
    assert _has_no_none(d)  # writable as TOML
    assert load_scenario(d) == s
    assert load_scenario(copy.deepcopy(d)).to_dict() == d


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(2, 12),
    length=st.floats(0.0, 1e6, allow_nan=False),
    t2=st.floats(1e-6, 100.0),
    positions=st.integers(1, 100),
    pairs=st.none() | st.integers(1, 10**6),
    scheme=st.sampled_from(["single_click", "double_click"]),
    seed=st.integers(0, 2**63 - 1),
)
def test_round_trip_of_chains(
    n: int, length: float, t2: float, positions: int, pairs: int | None, scheme: str, seed: int
) -> None:
    d = linear_chain(n, length, seed=seed, pairs=pairs, link={"scheme": scheme}, t2=t2, memory_positions=positions)
    s = load_scenario(d)
    assert load_scenario(s.to_dict()) == s
    assert len(s.links) == n - 1 and s.links[0].length == length
    assert s.hardware_of("n0").t2 == t2


# ---------------------------------------------------------------------------------------------
# Nothing but ScenarioError escapes, whatever is put in a field

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["10 km", "10 ms", "2 kHz", "0.2 dB/km", "inf", "-1 s", "1e400 km", "end", "Z", "nested"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _field_paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        out = [prefix] if prefix else []
        for key, value in data.items():
            out += _field_paths(value, (*prefix, key))
        return out
    if isinstance(data, list):
        out = [prefix]
        for i, value in enumerate(data):
            out += _field_paths(value, (*prefix, i))
        return out
    return [prefix]


_PATHS = _field_paths(chain_dict())


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(_PATHS), junk=_JUNK)
def test_any_value_anywhere_gives_a_scenario_or_a_scenario_error(path: tuple[Any, ...], junk: Any) -> None:
    data = chain_dict()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    try:
        s = load_scenario(data)
    except ScenarioError as err:
        assert err.errors
        sections = ("simulation", "hardware", "nodes", "links", "policies", "requests")
        assert all(e.startswith(sections) for e in err.errors), err.errors  # every line names its field
    else:
        assert load_scenario(s.to_dict()) == s


# ---------------------------------------------------------------------------------------------
# linear_chain


def test_linear_chain_roles_names_and_hardware() -> None:
    s = load_scenario(linear_chain(5))
    assert [n.name for n in s.nodes] == ["n0", "n1", "n2", "n3", "n4"]
    assert [n.role for n in s.nodes] == ["end", "repeater", "repeater", "repeater", "end"]
    assert [(link.a, link.b, link.length) for link in s.links] == [
        ("n0", "n1", 10_000.0),
        ("n1", "n2", 10_000.0),
        ("n2", "n3", 10_000.0),
        ("n3", "n4", 10_000.0),
    ]
    assert s.hardware == (
        HardwareSpec("default", **{**STARLIGHT_HARDWARE, "t1": math.inf, "t2": 1.3, "attempt_rate": 2000.0}),
    )
    assert s.simulation == SimulationSpec(1, 0.2)
    assert s.requests == (RequestSpec("n0", "n4"),)
    assert s.policies == PolicySpec()


def test_linear_chain_options() -> None:
    d = linear_chain(
        2,
        25_000.0,
        seed=9,
        duration=None,
        pairs=3,
        min_fidelity=0.9,
        swapping="nested",
        cutoff="10 ms",
        name="pair",
        link={"scheme": "single_click", "alpha": 0.1},
        dark_count_probability=1e-5,
    )
    s = load_scenario(d)
    assert s.simulation == SimulationSpec(9, None, "pair")
    assert s.links[0].scheme == "single_click" and s.links[0].alpha == 0.1 and s.links[0].length == 25_000.0
    assert s.requests[0].pairs == 3 and s.requests[0].min_fidelity == 0.9
    assert s.policies == PolicySpec(swapping="nested", cutoff=0.01)
    assert s.hardware[0].dark_count_probability == 1e-5


@pytest.mark.parametrize("n", [0, 1, -3, 2.0, True])
def test_linear_chain_needs_two_nodes(n: Any) -> None:
    with pytest.raises(ValueError, match="n_nodes must be an integer >= 2"):
        linear_chain(n)


def test_linear_chain_checks_what_it_builds() -> None:
    with pytest.raises(ScenarioError, match=r'hardware.default.t_2: unknown key, did you mean "t2"\?'):
        linear_chain(3, t_2="1 s")
    with pytest.raises(ScenarioError, match=r"links\[0\].length"):
        linear_chain(3, "-1 km")
