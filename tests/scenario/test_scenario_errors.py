"""Every way a scenario can be wrong is reported, with the field path, the value and the rule.

Each case breaks one thing in a valid chain a — r1 — b and checks the one error line it
causes: the path it starts with and the fragments it must contain (the offending value as
written and what is allowed). The last tests check that all errors of a file come together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scenario_helpers import chain_dict, error_at, errors_of

from qstack.scenario import (
    HardwareSpec,
    LinkSpec,
    NodeSpec,
    RequestSpec,
    Scenario,
    ScenarioError,
    SimulationSpec,
    load_scenario,
)

Mutation = Callable[[dict[str, Any]], None]


def _set(*keys: Any, value: Any) -> Mutation:
    """A mutation that sets data[k0][k1]...[kn] = value."""

    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return mutate


def _delete(*keys: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return mutate


def _check(mutate: Mutation, path: str, *fragments: str) -> str:
    data = chain_dict()
    mutate(data)
    line = error_at(data, path)
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def test_the_message_names_path_value_and_rule_exactly() -> None:
    """The form every message follows: path, what is allowed (with units and an example), value."""
    line = _check(_set("links", 1, "length", value="-3 km"), "links[1].length")
    assert line == 'links[1].length: must be a length >= 0 m like "10 km", got "-3 km"'


# ---------------------------------------------------------------------------------------------
# Missing required keys

MISSING = [
    (_delete("simulation"), "simulation", ["required", "seed"]),
    (_delete("simulation", "seed"), "simulation.seed", ["required", "an integer >= 0"]),
    (_delete("hardware", "default", "memory_positions"), "hardware.default.memory_positions", ["required"]),
    (_delete("hardware", "default", "attempt_rate"), "hardware.default.attempt_rate", ["required", '"2 kHz"']),
    (_delete("nodes", 0, "name"), "nodes[0].name", ["required", "node name"]),
    (_delete("links", 0, "length"), "links[0].length", ["required", 'a length >= 0 m like "10 km"']),
    (_delete("links", 0, "b"), "links[0].b", ["required"]),
    (_delete("requests", 0, "source"), "requests[0].source", ["required"]),
    (_delete("requests", 0, "destination"), "requests[0].destination", ["required"]),
    (
        _set("policies", "purification", value={"protocol": "dejmps"}),
        "policies.purification.target_fidelity",
        ["required", "(0.5, 1]"],
    ),
    (
        _set("policies", "purification", value={"target_fidelity": 0.9}),
        "policies.purification.protocol",
        ["required", '"bbpssw", "dejmps", "pumping"'],
    ),
    (_set("nodes", value=[]), "nodes", ["at least one [[nodes]]"]),
    (_delete("nodes"), "nodes", ["at least one [[nodes]]"]),
    (_set("requests", value=[]), "requests", ["at least one [[requests]]"]),
    (_delete("requests"), "requests", ["at least one [[requests]]"]),
    (
        _delete("simulation", "duration"),
        "simulation.duration",
        ["required unless every request sets pairs", "requests[0]", '"0.2 s"'],
    ),
]


@pytest.mark.parametrize(("mutate", "path", "fragments"), MISSING, ids=[case[1] for case in MISSING])
def test_missing_required_keys(mutate: Mutation, path: str, fragments: list[str]) -> None:
    _check(mutate, path, *fragments)


def test_duration_may_be_left_out_when_every_request_has_pairs() -> None:
    data = chain_dict()
    del data["simulation"]["duration"]
    data["requests"][0]["pairs"] = 5
    data["requests"].append({"source": "b", "destination": "a"})
    line = error_at(data, "simulation.duration")
    assert "requests[1] has none" in line and "requests[0]" not in line
    data["requests"][1]["pairs"] = 1
    assert load_scenario(data).simulation.duration is None


# ---------------------------------------------------------------------------------------------
# Unknown keys, with a suggestion when one is close

UNKNOWN = [
    (_set("simulaton", value={}), "simulaton", 'did you mean "simulation"?'),
    (_set("simulation", "sed", value=1), "simulation.sed", 'did you mean "seed"?'),
    (
        _set("hardware", "default", "memory_position", value=1),
        "hardware.default.memory_position",
        'did you mean "memory_positions"?',
    ),
    (
        _set("hardware", "default", "detector_eficiency", value=1),
        "hardware.default.detector_eficiency",
        'did you mean "detector_efficiency"?',
    ),
    (_set("nodes", 1, "rol", value="end"), "nodes[1].rol", 'did you mean "role"?'),
    (_set("links", 0, "lenght", value="3 km"), "links[0].lenght", 'did you mean "length"?'),
    (_set("links", 0, "colour", value="red"), "links[0].colour", "allowed: a, b, length, attenuation"),
    (_set("policies", "swaping", value="asap"), "policies.swaping", 'did you mean "swapping"?'),
    (
        _set("policies", "purification", value={"protocl": "dejmps", "protocol": "dejmps", "target_fidelity": 0.9}),
        "policies.purification.protocl",
        'did you mean "protocol"?',
    ),
    (_set("requests", 0, "destinaton", value="b"), "requests[0].destinaton", 'did you mean "destination"?'),
    (_set("hardware", "default", "name", value="x"), "hardware.default.name", "named by its table"),
    (_set("links", 0, "odd key", value=1), 'links[0]."odd key"', "unknown key"),
]


@pytest.mark.parametrize(("mutate", "path", "hint"), UNKNOWN, ids=[case[1] for case in UNKNOWN])
def test_unknown_keys_are_errors_with_a_suggestion(mutate: Mutation, path: str, hint: str) -> None:
    _check(mutate, path, "unknown key", hint)


# ---------------------------------------------------------------------------------------------
# Wrong types

WRONG_TYPES = [
    (_set("simulation", "seed", value="1"), "simulation.seed", ["an integer >= 0", 'got "1"']),
    (_set("simulation", "seed", value=True), "simulation.seed", ["got true"]),
    (_set("simulation", "seed", value=1.5), "simulation.seed", ["got 1.5"]),
    (_set("simulation", "name", value=3), "simulation.name", ["a string", "got 3"]),
    (_set("simulation", value=3), "simulation", ["must be a table", "got 3"]),
    (_set("hardware", value=[1]), "hardware", ["table of named profiles", "got [1]"]),
    (_set("hardware", "default", value=4), "hardware.default", ["must be a table", "got 4"]),
    (
        _set("hardware", "default", "memory_positions", value=2.0),
        "hardware.default.memory_positions",
        ["an integer in [1, 65536]", "got 2.0"],
    ),
    (
        _set("hardware", "default", "emission_efficiency", value="75 %"),
        "hardware.default.emission_efficiency",
        ["a number in [0, 1]", 'got "75 %"'],
    ),
    (_set("nodes", value={"name": "a"}), "nodes", ["array of tables", "[[nodes]]", "got a table {name}"]),
    (_set("nodes", 0, "name", value=7), "nodes[0].name", ["node name", "got 7"]),
    (_set("links", 0, value=3), "links[0]", ["must be a table", "got 3"]),
    (_set("links", 0, "length", value=True), "links[0].length", ["a length", "got true"]),
    (_set("links", 0, "length", value=[10, "km"]), "links[0].length", ['got [10, "km"]']),
    (_set("links", 0, "station_position", value="middle"), "links[0].station_position", ['got "middle"']),
    (_set("policies", value="asap"), "policies", ["must be a table", 'got "asap"']),
    (_set("policies", "routing", value=3), "policies.routing", ["routing policy name", "got 3"]),
    (_set("policies", "purification", value="dejmps"), "policies.purification", ['got "dejmps"']),
    (_set("requests", 0, "pairs", value="100"), "requests[0].pairs", ["an integer in [1, 4294967295]", 'got "100"']),
    (_set("requests", 0, "priority", value=1.0), "requests[0].priority", ["an integer", "got 1.0"]),
    (_set("requests", 0, "min_fidelity", value=True), "requests[0].min_fidelity", ["got true"]),
]


@pytest.mark.parametrize(("mutate", "path", "fragments"), WRONG_TYPES, ids=[case[1] for case in WRONG_TYPES])
def test_wrong_types(mutate: Mutation, path: str, fragments: list[str]) -> None:
    _check(mutate, path, *fragments)


# ---------------------------------------------------------------------------------------------
# Values out of range (with and without units)

OUT_OF_RANGE = [
    (_set("simulation", "seed", value=-1), "simulation.seed", ["an integer >= 0", "got -1"]),
    (_set("simulation", "duration", value="0 s"), "simulation.duration", ["a time > 0 s", 'got "0 s"']),
    (_set("simulation", "duration", value=-0.2), "simulation.duration", ["got -0.2"]),
    (
        _set("hardware", "default", "memory_positions", value=0),
        "hardware.default.memory_positions",
        ["an integer in [1, 65536]", "got 0"],
    ),
    (
        _set("hardware", "default", "attempt_rate", value="-2 kHz"),
        "hardware.default.attempt_rate",
        ['a frequency > 0 Hz like "2 kHz"', 'got "-2 kHz"'],
    ),
    (_set("hardware", "default", "t1", value="0 s"), "hardware.default.t1", ['or "inf"', 'got "0 s"']),
    (_set("hardware", "default", "t2", value="-1 s"), "hardware.default.t2", ['got "-1 s"']),
    (_set("hardware", "default", "depolarizing_time", value=0), "hardware.default.depolarizing_time", ["got 0"]),
    (
        _set("hardware", "default", "emission_efficiency", value=1.2),
        "hardware.default.emission_efficiency",
        ["a number in [0, 1]", "got 1.2"],
    ),
    (
        _set("hardware", "default", "two_qubit_depolarizing", value=-0.1),
        "hardware.default.two_qubit_depolarizing",
        ["got -0.1"],
    ),
    (
        _set("hardware", "default", "dark_count_probability", value=1.0),
        "hardware.default.dark_count_probability",
        ["a number in [0, 1)", "got 1.0"],
    ),
    (_set("links", 0, "length", value=-3000), "links[0].length", ["got -3000"]),
    (_set("links", 0, "length", value=math.nan), "links[0].length", ["got nan"]),
    (_set("links", 0, "length", value=math.inf), "links[0].length", ["got inf"]),
    (
        _set("links", 0, "attenuation", value="-0.2 dB/km"),
        "links[0].attenuation",
        ['an attenuation >= 0 dB/km like "0.2 dB/km"', 'got "-0.2 dB/km"'],
    ),
    (_set("links", 0, "refractive_index", value=0.9), "links[0].refractive_index", ["a number >= 1", "got 0.9"]),
    (_set("links", 0, "station_position", value=1.5), "links[0].station_position", ["in [0, 1]", "got 1.5"]),
    (_set("links", 0, "phase_std", value="-0.1 rad"), "links[0].phase_std", ["an angle >= 0 rad", 'got "-0.1 rad"']),
    (
        _set("links", 0, "classical_delay_per_km", value="0 us"),
        "links[0].classical_delay_per_km",
        ["a time > 0 s", "per km", 'got "0 us"'],
    ),
    (_set("links", 0, "memory_positions", value=0), "links[0].memory_positions", ["got 0"]),
    (_set("links", 0, "detector_efficiency", value=2), "links[0].detector_efficiency", ["got 2"]),
    (_set("policies", "cutoff", value="0 s"), "policies.cutoff", ["a time > 0 s", 'got "0 s"']),
    (
        _set("policies", "purification", value={"protocol": "dejmps", "target_fidelity": 0.5}),
        "policies.purification.target_fidelity",
        ["a number in (0.5, 1]", "got 0.5"],
    ),
    (
        _set("policies", "purification", value={"protocol": "dejmps", "target_fidelity": 0.9, "max_rounds": 0}),
        "policies.purification.max_rounds",
        ["an integer in [1, 4294967295]", "got 0"],
    ),
    (_set("requests", 0, "pairs", value=0), "requests[0].pairs", ["an integer in [1, 4294967295]", "got 0"]),
    (_set("requests", 0, "min_fidelity", value=1.01), "requests[0].min_fidelity", ["in [0, 1]", "got 1.01"]),
    (_set("requests", 0, "deadline", value="0 s"), "requests[0].deadline", ["a time > 0 s", 'got "0 s"']),
    (_set("requests", 0, "start", value="-1 ms"), "requests[0].start", ["a time >= 0 s", 'got "-1 ms"']),
]


@pytest.mark.parametrize(("mutate", "path", "fragments"), OUT_OF_RANGE, ids=[case[1] for case in OUT_OF_RANGE])
def test_out_of_range_values(mutate: Mutation, path: str, fragments: list[str]) -> None:
    _check(mutate, path, *fragments)


def test_alpha_must_lie_strictly_between_0_and_1() -> None:
    for alpha in (0.0, 1.0):
        data = chain_dict()
        data["links"][0].update(scheme="single_click", alpha=alpha)
        assert "a number in (0, 1)" in error_at(data, "links[0].alpha")


# ---------------------------------------------------------------------------------------------
# Wrong or unknown units, malformed quantities

WRONG_UNITS = [
    ("links", 0, "length", "10 ms", "is a time, not a length"),
    ("simulation", None, "duration", "10 km", "is a length, not a time"),
    ("hardware", "default", "attempt_rate", "2 km", "is a length, not a frequency"),
    ("links", 0, "attenuation", "0.2 dB", "is a loss, not a"),  # units.py writes "a attenuation"
    ("links", 0, "phase_std", "1 s", "is a time, not a"),
    ("links", 0, "length", "5 furlongs", "unknown unit 'furlongs'"),
    ("links", 0, "length", "ten km", "could not parse"),
    ("hardware", "default", "t2", "1.3 seconds", "unknown unit"),
]


@pytest.mark.parametrize(("table", "index", "key", "value", "reason"), WRONG_UNITS, ids=[c[3] for c in WRONG_UNITS])
def test_wrong_units(table: str, index: Any, key: str, value: str, reason: str) -> None:
    path = table if index is None else (f"{table}[{index}]" if isinstance(index, int) else f"{table}.{index}")
    keys = (table, key) if index is None else (table, index, key)
    _check(_set(*keys, value=value), f"{path}.{key}", f'got "{value}"', reason)


# ---------------------------------------------------------------------------------------------
# Choices

CHOICES = [
    (
        _set("nodes", 0, "role", value="ends"),
        "nodes[0].role",
        ['one of "end", "repeater"', 'got "ends"', 'did you mean "end"?'],
    ),
    (
        _set("links", 0, "scheme", value="double-click"),
        "links[0].scheme",
        ['"single_click", "double_click"', 'did you mean "double_click"?'],
    ),
    (_set("policies", "swapping", value="nestd"), "policies.swapping", ['did you mean "nested"?']),
    (
        _set("policies", "routing", value="dijkstra"),
        "policies.routing",
        ['one of "fewest_hops", "shortest_path"', "registered", 'got "dijkstra"'],
    ),
    (_set("policies", "routing", value="shortest_paths"), "policies.routing", ['did you mean "shortest_path"?']),
    (
        _set("policies", "purification", value={"protocol": "dejmps", "target_fidelity": 0.9, "scope": "e2e"}),
        "policies.purification.scope",
        ['"link", "end_to_end"', 'got "e2e"'],
    ),
    (
        _set("policies", "purification", value={"protocol": "bbpssw_pump", "target_fidelity": 0.9}),
        "policies.purification.protocol",
        ['one of "bbpssw", "dejmps", "pumping", "dejmps_pumping", "bbpssw_pumping"', 'got "bbpssw_pump"',
         'did you mean "bbpssw_pumping"?'],
    ),
    (_set("requests", 0, "type", value="kept"), "requests[0].type", ['"keep", "measure"', 'did you mean "keep"?']),
    (_set("requests", 0, "type", value=1), "requests[0].type", ["got 1"]),
]


@pytest.mark.parametrize(("mutate", "path", "fragments"), CHOICES, ids=[case[1] for case in CHOICES])
def test_choices(mutate: Mutation, path: str, fragments: list[str]) -> None:
    _check(mutate, path, *fragments)


def test_measurement_basis_is_checked() -> None:
    data = chain_dict()
    data["requests"][0].update(type="measure", basis="z")
    assert 'one of "Z", "X", "Y", got "z"' in error_at(data, "requests[0].basis")


def test_routing_policies_can_be_passed_in() -> None:
    data = chain_dict()
    data["policies"]["routing"] = "k_shortest"
    assert 'got "k_shortest"' in error_at(data, "policies.routing")
    assert load_scenario(data, routing_policies=("shortest_path", "k_shortest")).policies.routing == "k_shortest"


# ---------------------------------------------------------------------------------------------
# Nodes and links referring to each other


@pytest.mark.parametrize("name", ["", "a b", "ä", "x/y"])
def test_node_names_are_restricted(name: str) -> None:
    _check(_set("nodes", 1, "name", value=name), "nodes[1].name", 'letters, digits, "_", "." and "-"', f'got "{name}"')


def test_duplicate_nodes() -> None:
    data = chain_dict()
    data["nodes"].append({"name": "r1"})
    assert error_at(data, "nodes[3].name") == 'nodes[3].name: duplicate of nodes[1].name, got "r1"'


def test_links_to_unknown_nodes_suggest_a_close_name() -> None:
    line = _check(
        _set("links", 1, "b", value="bb"), "links[1].b", "node defined in [[nodes]]", 'got "bb"', 'did you mean "b"?'
    )
    assert line.count("did you mean") == 1


def test_self_links() -> None:
    _check(_set("links", 0, "b", value="a"), "links[0].b", "must differ from a", 'got "a"')


@pytest.mark.parametrize("reverse", [False, True])
def test_duplicate_links_in_either_direction(reverse: bool) -> None:
    data = chain_dict()
    data["links"].append({"a": "b" if reverse else "r1", "b": "r1" if reverse else "b", "length": 5})
    line = error_at(data, "links[2]")
    assert "duplicate of links[1]" in line and '"r1"' in line and '"b"' in line


def test_nodes_must_name_a_defined_hardware_profile() -> None:
    data = chain_dict()
    data["hardware"]["fast"] = dict(data["hardware"]["default"])
    data["nodes"][1]["hardware"] = "fsat"
    line = error_at(data, "nodes[1].hardware")
    assert 'got "fsat"' in line and 'did you mean "fast"?' in line and "defined: default, fast" in line


def test_a_node_without_hardware_needs_a_default_profile() -> None:
    data = chain_dict()
    data["hardware"] = {"starlight": data["hardware"]["default"]}
    errors = errors_of(data)
    assert len(errors) == 3  # one per node
    assert errors[0].startswith("nodes[0].hardware:")
    assert 'profile named "default"' in errors[0] and 'got "default"' in errors[0]


def test_station_detectors_must_be_defined_when_profiles_disagree() -> None:
    data = chain_dict()
    data["hardware"]["better"] = {**data["hardware"]["default"], "detector_efficiency": 0.9}
    data["nodes"][1]["hardware"] = "better"
    errors = errors_of(data)
    assert [e.split(":")[0] for e in errors] == ["links[0].detector_efficiency", "links[1].detector_efficiency"]
    assert "0.8" in errors[0] and "0.9" in errors[0] and "hardware.better" in errors[0]
    data["links"][0]["detector_efficiency"] = 0.85
    data["links"][1]["detector_efficiency"] = 0.85
    scenario = load_scenario(data)
    assert scenario.station_detector(scenario.links[0]) == (0.85, 0.0)


# ---------------------------------------------------------------------------------------------
# Requests


def test_requests_must_end_at_end_nodes() -> None:
    line = _check(
        _set("requests", 0, "destination", value="r1"),
        "requests[0].destination",
        'role = "end"',
        'got "r1"',
        "nodes[1]",
    )
    assert "repeater" in line


def test_requests_to_unknown_nodes() -> None:
    _check(_set("requests", 0, "source", value="c"), "requests[0].source", "node defined in [[nodes]]", 'got "c"')


def test_requests_between_one_node() -> None:
    _check(
        _set("requests", 0, "destination", value="a"), "requests[0].destination", "must differ from source", 'got "a"'
    )


def test_requests_between_disconnected_nodes() -> None:
    data = chain_dict()
    data["nodes"] += [{"name": "c", "role": "end"}, {"name": "d", "role": "end"}]
    data["links"].append({"a": "c", "b": "d", "length": "1 km"})
    data["requests"].append({"source": "a", "destination": "d"})
    line = error_at(data, "requests[1].destination")
    assert 'got "d"' in line and 'from source "a"' in line and "not connected" in line


def test_requests_starting_after_the_simulation_ends() -> None:
    _check(_set("requests", 0, "start", value="1 s"), "requests[0].start", "simulation.duration = 0.2 s", 'got "1 s"')


def test_basis_only_for_measure_requests() -> None:
    _check(_set("requests", 0, "basis", value="X"), "requests[0].basis", 'type = "measure"', '"keep"', 'got "X"')


# ---------------------------------------------------------------------------------------------
# Hardware and link consistency


def test_t2_above_twice_t1() -> None:
    data = chain_dict()
    data["hardware"]["default"].update(t1="1 s", t2="3 s")
    line = error_at(data, "hardware.default.t2")
    assert line == 'hardware.default.t2: must be <= 2·t1 = 2 s (t1 = "1 s"), got "3 s"'
    data["hardware"]["default"]["t2"] = "2 s"  # the boundary is allowed
    assert load_scenario(data).hardware[0].t2 == 2.0


@pytest.mark.parametrize(("t1", "t2", "named"), [("1 s", "inf", "t1"), ("inf", "1 s", "t2")])
def test_depolarizing_time_excludes_a_finite_t1_or_t2(t1: str, t2: str, named: str) -> None:
    data = chain_dict()
    data["hardware"]["default"].update(t1=t1, t2=t2, depolarizing_time="2 s")
    line = error_at(data, "hardware.default.depolarizing_time")
    assert f'{named} = "1 s"' in line and 'got "2 s"' in line and "t1/t2 or depolarizing_time" in line


@pytest.mark.parametrize("scheme", [None, "double_click"])
def test_alpha_only_for_single_click(scheme: str | None) -> None:
    data = chain_dict()
    data["links"][0]["alpha"] = 0.1
    if scheme:
        data["links"][0]["scheme"] = scheme
    line = error_at(data, "links[0].alpha")
    assert '"single_click"' in line and '"double_click"' in line and "got 0.1" in line


# ---------------------------------------------------------------------------------------------
# No cascades: a value that is wrong is reported once, not again by every check that uses it


def test_an_invalid_node_is_still_known_to_links() -> None:
    data = chain_dict()
    data["nodes"][1]["role"] = "router"
    assert [e.split(":")[0] for e in errors_of(data)] == ["nodes[1].role"]


def test_an_invalid_duration_does_not_also_count_as_missing() -> None:
    data = chain_dict()
    data["simulation"]["duration"] = "soon"
    assert [e.split(":")[0] for e in errors_of(data)] == ["simulation.duration"]


def test_a_non_array_is_reported_once() -> None:
    data = chain_dict()
    data["requests"] = {"source": "a"}
    assert [e.split(":")[0] for e in errors_of(data)] == ["requests"]


# ---------------------------------------------------------------------------------------------
# Files: malformed TOML, many errors at once


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("[simulation]\nseed = 1\nduration = 0.2 s\n", 3, 16),
        ("[simulation]\nseed = 1\n[simulation]\nseed = 2\n", 3, 12),
        ("[simulation\nseed = 1\n", 1, 12),
        ('[simulation]\nname = "unterminated\n', 2, 21),
    ],
)
def test_malformed_toml_gives_line_and_column(tmp_path: Path, text: str, line: int, column: int) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert (err.line, err.column, err.source) == (line, column, str(path))
    message = str(err)
    assert message.startswith(f"{path}: 1 error\n")
    assert f"line {line}, column {column}: invalid TOML" in message
    assert text.splitlines()[line - 1] in message  # the offending line is quoted


def test_toml_error_without_position(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(_write(tmp_path, "x = [1,\n"))


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[simulation]\nname = "Zürich"\n'.encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(path)


BROKEN_FILE = """\
[simulation]
seed = -1

[hardware.default]
memory_positions = 10
attempt_rate = "2 kHz"
t1 = "1 s"
t2 = "3 s"

[[nodes]]
name = "a"
role = "end"

[[nodes]]
name = "b"
role = "end"

[[links]]
a = "a"
b = "b"
length = "10 ms"
scheme = "double_click"
alpha = 0.2

[[links]]
a = "a"
b = "c"
lenght = "1 km"

[[requests]]
source = "a"
destination = "b"
min_fidelity = 2
"""


def test_all_errors_of_a_file_come_together_in_file_order(tmp_path: Path) -> None:
    path = _write(tmp_path, BROKEN_FILE)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    paths = [e.split(":")[0] for e in err.errors]
    assert paths == [
        "simulation.seed",
        "simulation.duration",
        "hardware.default.t2",
        "links[0].length",
        "links[0].alpha",
        "links[1].lenght",
        "links[1].length",
        "links[1].b",
        "requests[0].min_fidelity",
    ]
    lines = str(err).splitlines()
    assert lines[0] == f"{path}: 9 errors"
    assert lines[1:] == list(err.errors)
    assert isinstance(err, ValueError)


# ---------------------------------------------------------------------------------------------
# What load_scenario accepts


def test_toml_text_is_not_accepted() -> None:
    with pytest.raises(ScenarioError, match="not TOML text"):
        load_scenario("[simulation]\nseed = 1\n")
    with pytest.raises(ScenarioError, match="not TOML text"):
        load_scenario("seed = 1")


def test_other_sources_are_type_errors() -> None:
    with pytest.raises(TypeError, match="path to a .toml file or a dict"):
        load_scenario(42)  # type: ignore[arg-type]


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_scenario(tmp_path / "absent.toml")


# ---------------------------------------------------------------------------------------------
# Building the dataclasses directly runs the same rules


def test_specs_built_directly_are_validated() -> None:
    with pytest.raises(ScenarioError) as info:
        LinkSpec("a", "a", length="-3 km", alpha=0.1)
    assert info.value.errors == (
        'LinkSpec.length: must be a length >= 0 m like "10 km", got "-3 km"',
        'LinkSpec.b: must differ from a (a link joins two distinct nodes), got "a"',
        'LinkSpec.alpha: only applies to scheme = "single_click" (this link has scheme = "double_click"), got 0.1',
    )
    with pytest.raises(ScenarioError, match=r"HardwareSpec.t2: must be <= 2·t1"):
        HardwareSpec("hw", 1, 1e3, t1=1.0, t2=3.0)
    with pytest.raises(ScenarioError, match="NodeSpec.role"):
        NodeSpec("x", role="router")
    with pytest.raises(ScenarioError, match="SimulationSpec.seed"):
        SimulationSpec(seed=-1)


def test_scenarios_built_directly_are_checked_across_tables() -> None:
    hw = HardwareSpec("default", 2, 1e3)
    nodes = (NodeSpec("a", role="end"), NodeSpec("b", role="end"))
    with pytest.raises(ScenarioError) as info:
        Scenario(SimulationSpec(1, 1.0), (hw,), nodes, (LinkSpec("a", "z", 1.0),), (RequestSpec("a", "b"),))
    assert info.value.errors[0].startswith('links[0].b: must name a node defined in [[nodes]], got "z"')
    with pytest.raises(ScenarioError, match=r"nodes\[0\]: must be a NodeSpec"):
        Scenario(SimulationSpec(1, 1.0), (hw,), ("a",), (), (RequestSpec("a", "b"),))  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="duplicate hardware profile"):
        Scenario(SimulationSpec(1, 1.0), (hw, hw), nodes, (LinkSpec("a", "b", 1.0),), (RequestSpec("a", "b"),))
