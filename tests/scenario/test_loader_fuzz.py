"""Property-based fuzz of the scenario loader: no scenario file crashes it or the run after it.

Valid scenarios (the embedded default chain, two example networks and two stage files) are
mutated — a value replaced by an extreme integer or float, NaN, infinity, a string, a table or
an array; a key deleted; a value buried under deep nesting — written back as TOML and loaded
from the file. The contract (issue 14): every file is either refused by :class:`ScenarioError`,
one line per problem, each naming where the problem is (a field path, or the TOML line), or it
loads and a short run of it completes. Hypothesis runs derandomized (a fixed seed, no example
database), so the same examples run every time.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import re
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qstack.network.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
#: scenarios a short run is made of when they load (request workloads)
RUN_BASES = ("qstack/data/default_chain.toml", "examples/two_node_link.toml", "examples/mesh_two_flows.toml")
#: application scenarios, only loaded (their applications run for minutes)
LOAD_BASES = ("stages/stage0/micius_relay.toml", "stages/stage3/teleport_chain.toml")
BASES = {name: tomllib.loads((ROOT / name).read_text()) for name in RUN_BASES + LOAD_BASES}

#: how an error line names its place: a field path (``links[2].length``, ``hardware.default``,
#: ``"odd key"``), a TOML position (``line 3, column 5``) or the file's TOML itself
_PLACE = re.compile(r'^(line \d+, column \d+: |invalid TOML: |(?:[A-Za-z0-9_-]+|"[^"]*")(?:\[\d+\])*'
                    r'(?:\.(?:[A-Za-z0-9_-]+|"[^"]*")(?:\[\d+\])*)*: )')
_SHORT_RUN = 2e-3  # s of simulated time after the last request starts
_MAX_RUN_POSITIONS = 4096  # memory positions beyond which a loaded scenario is not run (time)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value of ``value`` (tables and arrays included)."""
    out = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _leaves(child, (*path, i))
    return out


def _value_at(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _is_number(value: Any) -> bool:
    """A number, or a quantity string such as ``"10 km"``."""
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) or (isinstance(value, str) and value[:1].isdigit())


PATHS = {name: _leaves(data) for name, data in BASES.items()}
#: the paths to numbers and quantities: half the replacements aim at these
NUMBER_PATHS = {name: [p for p in paths if _is_number(_value_at(BASES[name], p))] for name, paths in PATHS.items()}

EXTREME = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**32, 2**33, 2**40, 2**63 - 1, 10**9, 10**18]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e300, -1e300, math.nan, math.inf, -math.inf]),
    st.sampled_from(["", "inf", "nan", "1e300 s", "-3 km", "0 Hz", "1e-300 s", "10 lightyears", "2 kHz",
                     "1e400 dB/km", "double_click", "end"]),
    st.text(max_size=6),
    st.booleans(),
    st.just({}),
    st.just([]),
    st.just({"name": {"name": "x"}}),
)
#: values a field may well accept, so that many mutated files load and run
PLAUSIBLE = st.one_of(
    st.floats(min_value=0.0, max_value=1.0),
    st.integers(min_value=0, max_value=20),
    st.sampled_from([1e-12, 1e-9, 1e-6, 1e3, 1e6, 1e9, "0 km", "1 m", "1000 km", "0.5 ms", "1 ns", "1 GHz",
                     "1 mHz", "100 dB/km", "1e300 rad", 50.0]),
)


@st.composite
def recipes(draw: st.DrawFn) -> tuple[str, list[tuple[Any, ...]]]:
    """A base scenario's name and 1–3 mutations ``(kind, path, value or nesting depth)``: kept
    small, so a failing example prints as its recipe, not as a 700-deep value."""
    name = draw(st.sampled_from(sorted(BASES)))
    steps = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace_number"] * 4 + ["replace"] * 3 + ["delete", "nest"]))
        path = draw(st.sampled_from(NUMBER_PATHS[name] if kind == "replace_number" else PATHS[name]))
        kind = "replace" if kind == "replace_number" else kind
        if kind == "nest":
            steps.append((kind, path, draw(st.sampled_from([2, 40, 400, 700])), draw(st.booleans())))
        else:
            value = draw(st.one_of(EXTREME, PLAUSIBLE)) if kind == "replace" else None
            steps.append((kind, path, value, False))
    return name, steps


def mutated(name: str, steps: list[tuple[Any, ...]]) -> dict[str, Any]:
    """The base scenario ``name`` with the mutations of a recipe applied."""
    data = copy.deepcopy(BASES[name])
    for kind, path, value, arrays in steps:
        parent: Any = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced it
        if not isinstance(parent, (dict, list)):
            continue
        if kind == "delete":
            if isinstance(parent, dict):
                del parent[path[-1]]
        elif kind == "nest":
            nested = parent[path[-1]]
            for _ in range(value):
                nested = [nested] if arrays else {"v": nested}
            parent[path[-1]] = nested
        else:
            parent[path[-1]] = value
    return data


def _toml_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return json.dumps(value)  # a string: JSON's escapes are TOML's


def _toml_value(value: Any) -> str:
    """``value`` as a TOML inline value, tables inline, written without recursion (the fuzz
    nests values 1000 deep)."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, _Text):
            out.append(item.text)
        elif isinstance(item, dict):
            parts: list[Any] = [_Text("{")]
            for i, (key, child) in enumerate(item.items()):
                parts += [_Text((", " if i else "") + f"{json.dumps(str(key))} = "), child]
            stack.extend(reversed([*parts, _Text("}")]))
        elif isinstance(item, list):
            parts = [_Text("[")]
            for i, child in enumerate(item):
                parts += [_Text(", ")] if i else []
                parts.append(child)
            stack.extend(reversed([*parts, _Text("]")]))
        else:
            out.append(_toml_scalar(item))
    return "".join(out)


@dataclasses.dataclass(frozen=True)
class _Text:
    text: str


def _toml(data: dict[str, Any]) -> str:
    """``data`` as a TOML document of ``key = inline value`` lines."""
    return "\n".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in data.items()) + "\n"


def _short_run(scenario: Any) -> dict[str, Any]:
    last_start = max((r.start for r in scenario.requests), default=0.0)
    end = last_start + _SHORT_RUN
    if scenario.simulation.duration is not None:
        end = min(end, scenario.simulation.duration)
    short = dataclasses.replace(scenario, simulation=dataclasses.replace(scenario.simulation, duration=end))
    return run_scenario(short)


@settings(max_examples=200, derandomize=True, database=None, deadline=None, print_blob=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(recipe=recipes())
def test_every_mutated_scenario_file_is_refused_by_field_or_loads_and_runs(
        tmp_path_factory: Any, recipe: tuple[str, list[tuple[Any, ...]]]) -> None:
    """Loading never raises anything but ScenarioError, whose every line names its field path (or
    TOML position) and the value; a scenario that loads runs to a summary."""
    check_recipe(*recipe, tmp_path_factory.mktemp("fuzz") / "scenario.toml")


def check_recipe(name: str, steps: list[tuple[Any, ...]], path: Path) -> None:
    """The fuzz's contract for one mutated file (also callable outside hypothesis)."""
    path.write_text(_toml(mutated(name, steps)))
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        assert exc.errors, "a refusal lists its problems"
        for line in exc.errors:
            assert _PLACE.match(line), f"error line names no field path or TOML position: {line!r}"
        return
    if name in LOAD_BASES or scenario.application is not None:
        return
    positions = sum(sum(scenario.link_memory_positions(link)) for link in scenario.links)
    if positions > _MAX_RUN_POSITIONS:
        return
    out = _short_run(scenario)
    assert out["simulated_time"] <= scenario.simulation.duration if scenario.simulation.duration else True
    assert out["delivered_pairs"] >= 0 and len(out["flows"]) <= len(scenario.requests)
