"""Parameter sweeps: a grid of scenarios, each run many times, on Dask distributed.

``qstack sweep FILE --param links.length=10km:200km:20 --runs N`` (and
:func:`run_sweep` from Python) takes one scenario file, changes one field or more over a grid
and runs every grid point ``N`` times with independent seeds; the result is a tidy table with
one row per grid point: the parameter values (in SI units, as the scenario loader stores them),
and for every numeric figure of the run summary its mean, its standard error and the number of
runs that defined it (a run with no delivered pair has no fidelity).

A parameter is written ``FIELD=START:STOP:COUNT`` (``COUNT`` values spaced evenly from ``START``
to ``STOP``, both ends included, in any unit the scenario loader accepts for that field:
``links.length=10km:200km:20``, ``hardware.default.t2=10ms:1s:5``) or ``FIELD=V1,V2,...``
(``links.scheme=single_click,double_click``). ``FIELD`` is a dotted path into the scenario
file, spelt as the loader's error messages spell it: ``simulation.duration``,
``hardware.default.t2`` (``hardware.*.t2``: every profile), ``links[0].length`` (one link) or
``links.length`` (every link), ``requests[0].pairs``, ``policies.cutoff``,
``application.params.rounds``. Several ``--param`` axes make their Cartesian product (the first
axis varies slowest). Every grid point is validated by :func:`qstack.scenario.load_scenario`
before anything runs, so a bad value is refused with the loader's own message, naming the field.

Seeds: repetition ``r`` of grid point ``p`` runs with the seed drawn from
``numpy.random.SeedSequence(entropy=seed, spawn_key=(p, r))`` (:func:`run_seed`) — a function
of the sweep seed and the indices only, never of which worker ran it or when it finished.
Results are put back in grid order, so the table is bit-identical whatever the number of
workers; the wall-clock figures of a run (``wall_seconds``, ``build_seconds``,
``pairs_per_wall_second``) are left out for that reason.

Execution: every run is :func:`execute_run`; a Dask task (:func:`execute_batch`) runs a few
consecutive repetitions of one grid point (``batch``; by default about 16 tasks per worker). Without a client,
:func:`run_sweep` starts a :class:`distributed.LocalCluster` of worker processes (one per core,
one thread each) and closes it at the end; ``client=`` (or ``--scheduler tcp://HOST:PORT``) uses
a user's cluster, whose workers need qstack installed. A task that raises is retried
(``retries``, default 3); a worker that dies (killed, out of memory) has its tasks rescheduled
on the others by the scheduler (``distributed.scheduler.allowed-failures``, default 3), so a
lost worker loses no run.

The figures: for a network run, the numbers of :func:`qstack.network.runner.run_scenario`'s
summary (``delivered_pairs``, ``rate``, ``fidelity_mean``, ``fidelity_std``, ``pair_age_mean``,
``first_pair_latency``, ``link_pairs_generated``, ``link_attempts``, ``messages_total``,
``bytes_total``, ``events``, ``simulated_time``), ``qber`` over the measured pairs of every flow,
and ``flows.<id>.delivered``/``fidelity_mean``/``qber`` per flow when there are several; for an
application run, ``simulated_time``, the application summary's numbers and each role result's
numeric fields and properties as ``<role>.<field>`` (``alice.key_rate``).

``link_attempts`` counts the attempts resolved by the end of the run (their photons reached the
station, :attr:`qstack.physical.station.HeraldingStation.attempts`), so the pooled
``Σ link_pairs_generated / Σ link_attempts`` of a point estimates the link's per-attempt success
probability ``p`` without bias even in runs of a few attempts, with binomial standard error
``√(p(1−p)/Σ link_attempts)``: for double click without dark counts ``p = η_A η_B / 2`` with each
arm's ``η = emission × fibre(its share of the length) × detector`` — not the end-to-end
``transmissivity`` column, which is the whole route's fibre alone.

>>> from qstack.scenario import linear_chain
>>> table = run_sweep(linear_chain(2, duration="2 ms"), ["links.length=1km:5km:2"], runs=2, seed=3,
...                   client=InlineClient())
>>> table.column("links.length"), table.column("runs")
([1000.0, 5000.0], [2, 2])
>>> table.column("delivered_pairs_n")
[2, 2]
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import itertools
import json
import math
import os
import re
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np

from qstack._optional import require

__all__ = [
    "FIGURE_UNITS",
    "GEOMETRY_COLUMNS",
    "InlineClient",
    "PARAM_FORM",
    "SweepError",
    "SweepParam",
    "SweepPlan",
    "SweepTable",
    "end_to_end",
    "execute_batch",
    "execute_run",
    "field_unit",
    "parse_param",
    "plan_sweep",
    "progress_bar",
    "read_table",
    "run_seed",
    "run_sweep",
]

#: how a ``--param`` is written (quoted in every error about one)
PARAM_FORM = ("FIELD=START:STOP:COUNT (COUNT >= 1 evenly spaced values, ends included, e.g. "
              "links.length=10km:200km:20) or FIELD=V1,V2,... (e.g. links.scheme=single_click,double_click)")

#: units of the run figures (those not listed are counts or dimensionless)
FIGURE_UNITS: dict[str, str] = {
    "rate": "pairs/s",
    "pair_age_mean": "s",
    "first_pair_latency": "s",
    "simulated_time": "s",
    "completion_time": "s",
    "key_rate": "bit/s",
    "duration": "s",
    "started": "s",
    "finished": "s",
}

#: figures of a network run's summary that the table keeps (wall-clock ones are left out)
NETWORK_FIGURES: tuple[str, ...] = (
    "delivered_pairs", "rate", "fidelity_mean", "fidelity_std", "pair_age_mean", "first_pair_latency",
    "link_pairs_generated", "link_attempts", "messages_total", "bytes_total", "events", "simulated_time",
)
_WALL_CLOCK = {"wall_seconds", "build_seconds", "pairs_per_wall_second"}

_SECTIONS = ("simulation", "hardware", "nodes", "links", "policies", "requests", "application")
_TOKEN = re.compile(r"(?P<key>[A-Za-z0-9_*-]+)(?:\[(?P<index>\d+)\])?")
_NUMBER_UNIT = re.compile(r"^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>\S.*?)?\s*$")
_INT = re.compile(r"^[+-]?\d+$")


class SweepError(ValueError):
    """A sweep cannot run as asked: a ``--param`` is malformed, names no field of the scenario,
    or gives a value the scenario loader refuses (the message names the parameter, the field and
    what is allowed), or ``runs``/``seed``/``workers`` is out of range.

    >>> parse_param("links.length=10km:200km")
    Traceback (most recent call last):
    ...
    qstack.sweep.SweepError: --param links.length=10km:200km: a grid needs START:STOP:COUNT, got 2 parts; \
write FIELD=START:STOP:COUNT (COUNT >= 1 evenly spaced values, ends included, e.g. links.length=10km:200km:20) \
or FIELD=V1,V2,... (e.g. links.scheme=single_click,double_click)
    """


# --------------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class SweepParam:
    """One sweep axis: the dotted ``field`` path and the ``values`` as the loader will read them
    (unit strings such as ``"10.0 km"``, numbers, names); ``spec`` is the text it came from."""

    field: str
    values: tuple[Any, ...]
    spec: str = ""

    def __post_init__(self) -> None:
        _tokens(self.field, self.spec or self.field)
        if not self.values:
            raise SweepError(f"--param {self.spec or self.field}: no values; write {PARAM_FORM}")
        object.__setattr__(self, "values", tuple(self.values))


def _refuse(spec: str, why: str) -> SweepError:
    return SweepError(f"--param {spec}: {why}; write {PARAM_FORM}")


def _tokens(path: str, spec: str) -> list[tuple[str, int | None]]:
    """``links[0].length`` -> ``[("links", 0), ("length", None)]``; refuses what is no field path."""
    parts = path.split(".")
    out: list[tuple[str, int | None]] = []
    for part in parts:
        m = _TOKEN.fullmatch(part)
        if m is None:
            raise _refuse(spec, f"{path!r} is not a field path (dotted keys, an index as links[0])")
        out.append((m["key"], None if m["index"] is None else int(m["index"])))
    if out[0][0] not in _SECTIONS:
        raise _refuse(spec, f"field {path!r} must start with one of the scenario's tables: {', '.join(_SECTIONS)}")
    if len(out) < 2:
        raise _refuse(spec, f"field {path!r} names a whole table; name a key in it, e.g. {path}.{_example(path)}")
    if out[-1][1] is not None:
        raise _refuse(spec, f"field {path!r} must end in a key, not an index")
    return out


def _example(section: str) -> str:
    return {"links": "length", "hardware": "default.t2", "simulation": "duration", "requests": "pairs",
            "policies": "cutoff", "nodes": "hardware", "application": "params.rounds"}.get(section, "key")


def _scalar(text: str) -> Any:
    """A comma-list item as TOML would read it: integer, float, true/false, else the string."""
    text = text.strip()
    if _INT.match(text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    try:
        return float(text)
    except ValueError:
        return text


def parse_param(spec: str) -> SweepParam:
    """Read one ``--param`` (see :data:`PARAM_FORM`) into a :class:`SweepParam`.

    >>> parse_param("links.length=10km:50km:3").values
    ('10.0 km', '30.0 km', '50.0 km')
    >>> parse_param("requests[0].pairs=1:5:3").values
    (1, 3, 5)
    >>> parse_param("links.scheme=single_click, double_click").values
    ('single_click', 'double_click')
    >>> parse_param("links.length=10km:50ms:3")
    Traceback (most recent call last):
    ...
    qstack.sweep.SweepError: --param links.length=10km:50ms:3: START and STOP must have the same unit, \
got 'km' and 'ms'; write FIELD=START:STOP:COUNT ...
    """
    if not isinstance(spec, str):
        raise TypeError(f"a sweep parameter is a string like 'links.length=10km:200km:20', got {type(spec).__name__}")
    name, eq, text = spec.partition("=")
    name, text = name.strip(), text.strip()
    if not eq or not name:
        raise _refuse(spec, "no '=' between the field and its values")
    if not text:
        raise _refuse(spec, f"no values after {name}=")
    _tokens(name, spec)
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise _refuse(spec, f"a grid needs START:STOP:COUNT, got {len(parts)} parts")
        start, stop, count_text = (p.strip() for p in parts)
        if not _INT.match(count_text) or int(count_text) < 1:
            raise _refuse(spec, f"COUNT must be an integer >= 1, got {count_text!r}")
        count = int(count_text)
        ends = [_NUMBER_UNIT.match(start), _NUMBER_UNIT.match(stop)]
        if ends[0] is None or ends[1] is None:
            bad = start if ends[0] is None else stop
            raise _refuse(spec, f"START and STOP must be numbers with an optional unit like 10km, got {bad!r}")
        units = [(m["unit"] or "") for m in ends]
        if units[0] != units[1]:
            raise _refuse(spec, f"START and STOP must have the same unit, got {units[0]!r} and {units[1]!r}")
        a, b = float(ends[0]["number"]), float(ends[1]["number"])
        if not (math.isfinite(a) and math.isfinite(b)):
            raise _refuse(spec, "START and STOP must be finite")
        grid = [float(x) for x in np.linspace(a, b, count)] if count > 1 else [a]
        values: list[Any]
        if units[0]:
            values = [f"{x!r} {units[0]}" for x in grid]
        elif _INT.match(ends[0]["number"]) and _INT.match(ends[1]["number"]) and all(x.is_integer() for x in grid):
            values = [int(x) for x in grid]
        else:
            values = grid
        return SweepParam(name, tuple(values), spec)
    items = [t for t in text.split(",")]
    if any(not t.strip() for t in items):
        raise _refuse(spec, "an empty value in the comma list")
    return SweepParam(name, tuple(_scalar(t) for t in items), spec)


def _targets(root: Mapping[str, Any], tokens: Sequence[tuple[str, int | None]], spec: str, create_last: bool):
    """The (container, key) pairs a field path reaches in a scenario dict: a list without an
    index means every entry, ``*`` every key of a table."""
    level: list[tuple[Any, str]] = [(root, "")]
    for depth, (key, index) in enumerate(tokens):
        last = depth == len(tokens) - 1
        nxt: list[tuple[Any, str]] = []
        for container, where in level:
            items = container if isinstance(container, list) else [container]
            for i, item in enumerate(items):
                at = f"{where}[{i}]" if isinstance(container, list) else where
                if not isinstance(item, Mapping):
                    what = type(item).__name__
                    raise _refuse(spec, f"{at or 'the scenario'} is {what}, not a table with key {key!r}")
                keys = list(item) if key == "*" else [key]
                if key == "*" and not keys:
                    raise _refuse(spec, f"{at} is an empty table, so '*' matches nothing")
                for k in keys:
                    path = f"{at}.{k}" if at else k
                    if last:
                        if k not in item and not create_last:
                            raise _refuse(spec, f"{path} is not in the scenario")
                        nxt.append((item, k))
                        continue
                    if k not in item:
                        have = ", ".join(map(str, item)) or "nothing"
                        raise _refuse(spec, f"{path} is not in the scenario ({at or 'the scenario'} has {have})")
                    child = item[k]
                    if index is not None:
                        if not isinstance(child, list) or index >= len(child):
                            size = len(child) if isinstance(child, list) else "no"
                            raise _refuse(spec, f"{path}[{index}] is not in the scenario ({path} has {size} entries)")
                        nxt.append((child[index], f"{path}[{index}]"))
                    else:
                        nxt.append((child, path))
        level = nxt
    if not level:
        raise _refuse(spec, f"field {'.'.join(k for k, _ in tokens)} matches nothing in the scenario "
                            "(an empty array?)")
    return level


def _assign(raw: dict[str, Any], param: SweepParam, value: Any) -> None:
    for container, key in _targets(raw, _tokens(param.field, param.spec), param.spec or param.field, True):
        container[key] = value


def _lookup(data: Mapping[str, Any], param: SweepParam) -> Any:
    """The field's value in a loaded scenario's SI dict (the first match)."""
    try:
        container, key = _targets(data, _tokens(param.field, param.spec), param.spec, False)[0]
    except SweepError:
        return None
    value = container.get(key)
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value) if isinstance(value, float) else value
    return value if isinstance(value, str | bool) or value is None else json.dumps(value, sort_keys=True, default=str)


def field_unit(path: str) -> str | None:
    """The SI unit the scenario loader stores a field in (``"m"``, ``"s"``, ``"Hz"``,
    ``"dB/km"``, ``"rad"``), or None for a number without a unit, a name or an unknown field.

    >>> field_unit("links.length"), field_unit("hardware.default.t2"), field_unit("links[0].station_position")
    ('m', 's', None)
    """
    from qstack import scenario as sc

    section = path.split(".")[0].split("[")[0]
    key = path.split(".")[-1]
    cls = {"simulation": sc.SimulationSpec, "hardware": sc.HardwareSpec, "nodes": sc.NodeSpec,
           "links": sc.LinkSpec, "requests": sc.RequestSpec, "policies": sc.PolicySpec}.get(section)
    if ".purification." in path:
        cls = sc.PurificationSpec
    rule = getattr(cls, "_RULES", {}).get(key) if cls is not None else None
    if key == "cutoff" and section == "policies":
        return "s"
    if rule is None:
        return None
    for article, unit, _example_text in sc._QUANTITY_WORDS.values():
        if rule.allowed.startswith(article + " "):
            return unit
    return None


# --------------------------------------------------------------------------------------------
# The plan: grid points, seeds, validated scenarios


def run_seed(seed: int, point: int, repetition: int) -> int:
    """The seed of repetition ``repetition`` at grid point ``point`` of a sweep seeded ``seed``:
    the first 63 bits drawn from ``SeedSequence(entropy=seed, spawn_key=(point, repetition))``.

    >>> run_seed(1, 0, 0) == run_seed(1, 0, 0) != run_seed(1, 0, 1)
    True
    """
    state = np.random.SeedSequence(entropy=seed, spawn_key=(point, repetition)).generate_state(1, np.uint64)
    return int(state[0]) >> 1


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: ``params``, ``points`` (per grid point, the parameter values as the
    loaded scenario holds them, SI), the scenario dicts to run (``raw``, seed not yet set),
    ``runs`` per point, the sweep ``seed`` and each point's :func:`end_to_end` ``geometry``."""

    params: tuple[SweepParam, ...]
    points: tuple[dict[str, Any], ...]
    raw: tuple[dict[str, Any], ...] = field(repr=False)
    runs: int
    seed: int
    geometry: tuple[dict[str, float], ...] = ()

    @property
    def total(self) -> int:
        """Number of runs: points × runs."""
        return len(self.points) * self.runs

    def tasks(self) -> Iterable[tuple[int, int, dict[str, Any]]]:
        """``(point, repetition, scenario dict with its run seed)`` in grid order."""
        for p, raw in enumerate(self.raw):
            for r in range(self.runs):
                point = copy.deepcopy(raw)
                point["simulation"]["seed"] = run_seed(self.seed, p, r)
                yield p, r, point


def _raw_scenario(scenario: Any) -> tuple[dict[str, Any], str | None]:
    from qstack.scenario import Scenario, ScenarioError, load_scenario

    if isinstance(scenario, Scenario):
        return scenario.to_dict(), None
    if isinstance(scenario, Mapping):
        return copy.deepcopy(dict(scenario)), None
    if isinstance(scenario, str | os.PathLike):
        path = Path(scenario)
        load_scenario(path)  # the file's own errors first, named as `qstack run` names them
        try:
            return tomllib.loads(path.read_text(encoding="utf-8")), str(path)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:  # pragma: no cover - load_scenario caught it
            raise ScenarioError(str(exc), source=str(path)) from None
    raise TypeError(f"run_sweep takes a scenario (path, dict or Scenario), got {type(scenario).__name__}")


def plan_sweep(scenario: Any, params: Sequence[str | SweepParam], runs: int, seed: int | None = None) -> SweepPlan:
    """Check a sweep completely and lay out its grid (nothing runs). ``scenario`` is a path to a
    ``.toml`` file, a scenario dict or a :class:`~qstack.scenario.Scenario`; ``seed`` defaults
    to the scenario's own. Raises :class:`SweepError` (or the file's
    :class:`~qstack.scenario.ScenarioError`).

    >>> from qstack.scenario import linear_chain
    >>> plan = plan_sweep(linear_chain(3), ["links.length=10km:20km:2", "hardware.default.t2=0.1,1"], runs=5)
    >>> plan.total, plan.points[1]
    (20, {'links.length': 10000.0, 'hardware.default.t2': 1.0})
    >>> plan_sweep(linear_chain(2), ["links.length=-1km:2km:2"], runs=5)
    Traceback (most recent call last):
    ...
    qstack.sweep.SweepError: --param links.length=-1km:2km:2: value '-1.0 km' is refused: \
links[0].length: must be a length >= 0 m like "10 km", got "-1.0 km"
    """
    from qstack.scenario import ScenarioError, load_scenario

    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
        raise SweepError(f"runs must be an integer >= 1 (runs per grid point), got {runs!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SweepError(f"seed must be an integer >= 0, got {seed!r}")
    axes = tuple(p if isinstance(p, SweepParam) else parse_param(p) for p in params)
    if not axes:
        raise SweepError(f"a sweep needs at least one --param, written {PARAM_FORM}")
    names = [a.field for a in axes]
    if len(set(names)) != len(names):
        raise SweepError(f"--param: a field is swept twice: {sorted({n for n in names if names.count(n) > 1})}")
    base, _source = _raw_scenario(scenario)
    if seed is None:
        seed = load_scenario(base).simulation.seed
    points: list[dict[str, Any]] = []
    raws: list[dict[str, Any]] = []
    geometry: list[dict[str, float]] = []
    for combo in itertools.product(*(a.values for a in axes)):
        raw = copy.deepcopy(base)
        for axis, value in zip(axes, combo, strict=True):
            _assign(raw, axis, value)
        try:
            loaded = load_scenario(raw)
        except ScenarioError as exc:
            # name the axis whose field an error line mentions (else the first of the point)
            lines = list(exc.errors)
            culprit = next((a for a, v in zip(axes, combo, strict=True)
                            if any(_mentions(line, a.field) for line in lines)), axes[0])
            value = combo[axes.index(culprit)]
            raise SweepError(f"--param {culprit.spec or culprit.field}: value {value!r} is refused: "
                             + "; ".join(lines)) from None
        data = loaded.to_dict()
        points.append({a.field: _lookup(data, a) for a in axes})
        geometry.append(end_to_end(loaded))
        raws.append(raw)
    return SweepPlan(axes, tuple(points), tuple(raws), runs, seed, tuple(geometry))


#: the per-point columns :func:`end_to_end` adds to a sweep table, and their units
GEOMETRY_COLUMNS: dict[str, str | None] = {
    "distance": "m", "transmissivity": None, "channel_use_rate": "Hz", "plob_rate": "1/s",
}


def end_to_end(scenario: Any) -> dict[str, float]:
    """The end-to-end channel a sweep point is compared with (NaN where there is none):

    * ``distance`` (m): fibre length of the shortest route between the first request's end
      nodes (an application scenario: its first and last role's nodes);
    * ``transmissivity``: that route's fibre transmissivity ``10^(-Σ α_i L_i / 10)`` (fibre only);
    * ``channel_use_rate`` (Hz): modes sent per second at the route's slowest link —
      ``memory positions × attempt rate``, the lesser end of each link;
    * ``plob_rate`` (1/s): the repeaterless bound at that clock, ``channel_use_rate ·
      plob_bound(transmissivity)`` (Pirandola et al., Nat. Commun. 8, 15043 (2017)) — no
      protocol without a repeater delivers more ebits or secret bits per second over the route.

    >>> from qstack.scenario import linear_chain, load_scenario
    >>> g = end_to_end(load_scenario(linear_chain(3, "50 km")))
    >>> g["distance"], round(g["transmissivity"], 12), g["channel_use_rate"]   # 100 km at 0.2 dB/km: 20 dB
    (100000.0, 0.01, 20000.0)
    """
    import networkx as nx

    from qstack.physical.fibre import Fibre
    from qstack.qkd.entropy import plob_bound

    nan = {k: math.nan for k in GEOMETRY_COLUMNS}
    ends: list[str] = []
    if scenario.requests:
        ends = [scenario.requests[0].source, scenario.requests[0].destination]
    elif scenario.application is not None:
        ends = list(dict.fromkeys(scenario.application.roles.values()))
    if len(ends) < 2 or ends[0] == ends[-1]:
        return nan
    graph = nx.Graph()
    for link in scenario.links:
        graph.add_edge(link.a, link.b, length=link.length, spec=link)
    try:
        route = nx.shortest_path(graph, ends[0], ends[-1], weight="length")
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return nan
    links = [graph.edges[a, b]["spec"] for a, b in zip(route, route[1:], strict=False)]
    eta = 1.0
    for link in links:
        eta *= Fibre(link.length, link.attenuation, link.refractive_index).transmissivity
    clock = min(min(scenario.link_memory_positions(link))
                * min(scenario.hardware_of(link.a).attempt_rate, scenario.hardware_of(link.b).attempt_rate)
                for link in links)
    return {"distance": float(sum(link.length for link in links)), "transmissivity": eta,
            "channel_use_rate": float(clock), "plob_rate": clock * plob_bound(eta)}


def _mentions(line: str, path: str) -> bool:
    key = path.split(".")[-1]
    section = path.split(".")[0].split("[")[0]
    return line.startswith(section) and f".{key}:" in line or line.startswith(f"{path}:")


# --------------------------------------------------------------------------------------------
# One run (a Dask task)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return float(value)


def _network_figures(summary: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key in NETWORK_FIGURES:
        v = _number(summary.get(key))
        out[key] = math.nan if v is None else v
    flows = summary.get("flows") or []
    measured = sum(f.get("measured") or 0 for f in flows)
    errors = sum(round((f.get("qber") or 0.0) * (f.get("measured") or 0)) for f in flows)
    out["qber"] = errors / measured if measured else math.nan
    if len(flows) > 1:
        for f in flows:
            for key in ("delivered", "fidelity_mean", "qber"):
                v = _number(f.get(key))
                out[f"flows.{f['flow_id']}.{key}"] = math.nan if v is None else v
    return out


def _numeric_fields(prefix: str, value: Any, out: dict[str, float]) -> None:
    v = _number(value)
    if v is not None:
        out[prefix] = v
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if not f.name.startswith("_"):
                _scalar_into(f"{prefix}.{f.name}", getattr(value, f.name), out)
        for name in dir(type(value)):
            if not name.startswith("_") and isinstance(getattr(type(value), name, None), property):
                try:
                    _scalar_into(f"{prefix}.{name}", getattr(value, name), out)
                except (ArithmeticError, ValueError, TypeError, AttributeError):
                    continue
    elif isinstance(value, Mapping):
        for k, item in value.items():
            _scalar_into(f"{prefix}.{k}", item, out)


def _scalar_into(key: str, value: Any, out: dict[str, float]) -> None:
    v = _number(value)
    if v is not None and key.split(".")[-1] not in _WALL_CLOCK:
        out[key] = v


def _application_figures(app: Any, result: Any) -> dict[str, float]:
    out: dict[str, float] = {"simulated_time": float(result.simulated_time)}
    summary = app.summary(result.results) or {}
    for key, value in summary.items():
        _scalar_into(str(key), value, out)
    for role, value in result.results.items():
        _numeric_fields(str(role), value, out)
    return out


def execute_run(raw: Mapping[str, Any]) -> dict[str, float]:
    """Run one scenario dict (its seed already set) and return its numeric figures — the Dask
    task of a sweep. NaN stands for a figure the run leaves undefined.

    >>> from qstack.scenario import linear_chain
    >>> figures = execute_run(linear_chain(2, duration="2 ms", seed=5))
    >>> figures["delivered_pairs"] == figures["rate"] * figures["simulated_time"]
    True
    """
    from qstack.scenario import load_scenario

    scenario = load_scenario(raw)
    if scenario.application is None:
        from qstack.network.runner import run_scenario

        return _network_figures(run_scenario(scenario))
    from qstack.apps import make_application, run_app

    spec = scenario.application
    app = make_application(spec.name, spec.params, spec.roles)
    return _application_figures(app, run_app(app, scenario, spec.roles))


# --------------------------------------------------------------------------------------------
# The table


@dataclass(frozen=True)
class SweepTable:
    """A sweep's result: ``rows`` (one dict per grid point, in grid order: ``point``, the
    parameter values, ``runs``, the :func:`end_to_end` columns ``distance``, ``transmissivity``,
    ``channel_use_rate``, ``plob_rate``, then ``<figure>_mean``, ``<figure>_stderr``,
    ``<figure>_n``) and
    ``run_rows`` (one dict per run: ``point``, ``repetition``, ``seed``, the parameter values and
    every figure). ``columns``/``run_columns`` give the column order; ``params`` the swept fields.

    The mean is over the runs that define the figure (``_n`` of them), the standard error
    ``std(ddof=1)/sqrt(n)`` (NaN for n < 2).
    """

    params: tuple[str, ...]
    figures: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    run_columns: tuple[str, ...]
    run_rows: tuple[dict[str, Any], ...]

    def column(self, name: str) -> list[Any]:
        """One column of the per-point table, in grid order."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r} in the sweep table (columns: {', '.join(self.columns)})")
        return [r[name] for r in self.rows]

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-point table: Parquet for ``.parquet`` (pyarrow), else CSV."""
        return _write(self.rows, self.columns, path)

    def write_runs(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-run table: Parquet for ``.parquet`` (pyarrow), else CSV."""
        return _write(self.run_rows, self.run_columns, path)


def _write(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is installed with the test extra
            raise RuntimeError("writing Parquet needs pyarrow: pip install 'qstack-qnet[records]' (or write .csv)") \
                from exc
        pq.write_table(pa.table({c: [r.get(c) for r in rows] for c in columns}), path)
        return path
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow(["" if r.get(c) is None else repr(r[c]) if isinstance(r[c], float) else r[c] for c in columns])
    return path


def read_table(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """A table written by :meth:`SweepTable.write` (CSV or Parquet) as ``{column: values}``;
    numbers come back as floats/ints, empty CSV cells as None."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pydict()
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: empty table (no header line)")
        columns: dict[str, list[Any]] = {h: [] for h in header}
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(f"{path}: line {line} has {len(row)} cells, the header {len(header)}")
            for h, cell in zip(header, row, strict=True):
                columns[h].append(_cell(cell))
    return columns


def _cell(text: str) -> Any:
    if text == "":
        return None
    if _INT.match(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def _tabulate(plan: SweepPlan, results: Sequence[Sequence[dict[str, float]]]) -> SweepTable:
    params = tuple(a.field for a in plan.params)
    figures = tuple(sorted({k for point in results for run in point for k in run}))
    columns = ("point", *params, "runs", *GEOMETRY_COLUMNS,
               *(f"{f}_{s}" for f in figures for s in ("mean", "stderr", "n")))
    rows = []
    run_rows = []
    for p, (values, runs) in enumerate(zip(plan.points, results, strict=True)):
        geometry = plan.geometry[p] if plan.geometry else dict.fromkeys(GEOMETRY_COLUMNS, math.nan)
        row: dict[str, Any] = {"point": p, **values, "runs": len(runs), **geometry}
        for f in figures:
            x = [v for v in (run.get(f, math.nan) for run in runs) if math.isfinite(v)]
            n = len(x)
            mean = math.fsum(x) / n if n else math.nan  # exactly rounded sums: a constant has stderr 0
            row[f"{f}_mean"] = mean
            row[f"{f}_stderr"] = math.sqrt(math.fsum((v - mean) ** 2 for v in x) / (n - 1) / n) if n > 1 else math.nan
            row[f"{f}_n"] = n
        rows.append(row)
        for r, run in enumerate(runs):
            run_rows.append({"point": p, "repetition": r, "seed": run_seed(plan.seed, p, r), **values,
                             **{f: run.get(f, math.nan) for f in figures}})
    run_columns = ("point", "repetition", "seed", *params, *figures)
    return SweepTable(params, figures, columns, tuple(rows), run_columns, tuple(run_rows))


# --------------------------------------------------------------------------------------------
# Running on Dask


class InlineClient:
    """Runs a sweep's tasks in this process, one after the other, without Dask — for debugging
    (a run's exception surfaces with its traceback), doctests and small sweeps; pass it as
    ``run_sweep(..., client=InlineClient())``. The table is the same as on any cluster."""

    def submit(self, fn: Callable[..., Any], *args: Any, **_: Any) -> Any:
        return _Done(fn(*args))


@dataclass
class _Done:
    value: Any
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    def result(self) -> Any:
        return self.value


def run_sweep(
    scenario: Any,
    params: Sequence[str | SweepParam],
    runs: int,
    seed: int | None = None,
    client: Any = None,
    *,
    workers: int | None = None,
    retries: int = 3,
    progress: Callable[[int, int], Any] | None = None,
    batch: int | None = None,
) -> SweepTable:
    """Run a sweep (see the module docstring) and return its :class:`SweepTable`.

    ``scenario``: a ``.toml`` path, a scenario dict or a :class:`~qstack.scenario.Scenario`;
    ``params``: ``--param`` strings (:data:`PARAM_FORM`) or :class:`SweepParam`; ``runs`` per
    grid point; ``seed`` (default: the scenario's). ``client``: a :class:`distributed.Client`
    (default: a local cluster of ``workers`` processes, default one per core, started and closed
    here). ``retries``: how often a task that raised is run again. ``progress(done, total)`` is
    called in this process as runs finish. ``batch``: runs per Dask task (consecutive repetitions
    of one point; default: about 16 tasks per worker). The table does not depend on ``client``,
    ``workers``, ``batch`` or the order in which runs finish.
    """
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
        raise SweepError(f"batch must be an integer >= 1 (runs per task), got {batch!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise SweepError(f"retries must be an integer >= 0, got {retries!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise SweepError(f"workers must be an integer >= 1, got {workers!r}")
    plan = plan_sweep(scenario, params, runs, seed)
    if isinstance(client, InlineClient):
        return _tabulate(plan, _collect(plan, client, retries, progress, inline=True))
    if client is not None:
        return _tabulate(plan, _collect(plan, client, retries, progress, batch=batch))
    import logging

    dask = require("dask", "sweep")
    distributed = require("distributed", "sweep")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    # a worker that dies takes its tasks' attempts with it: the scheduler reruns them elsewhere,
    # up to allowed-failures times per task (a task that dies every time is a bug, not bad luck)
    with dask.config.set({"distributed.scheduler.allowed-failures": max(retries, 1)}):
        with LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                          dashboard_address=":0", silence_logs=logging.CRITICAL) as cluster, Client(cluster) as own:
            return _tabulate(plan, _collect(plan, own, retries, progress, batch=batch))


def execute_batch(raws: Sequence[Mapping[str, Any]]) -> list[dict[str, float]]:
    """:func:`execute_run` on each scenario dict in turn — one Dask task of a sweep (consecutive
    repetitions of one grid point, so the per-task cost of the scheduler is shared)."""
    return [execute_run(raw) for raw in raws]


def _batch_size(plan: SweepPlan, client: Any, batch: int | None) -> int:
    """Runs per task: ``batch`` if given, else enough for ~16 tasks per worker (a Dask task costs
    milliseconds of scheduling, a tiny run about as much), at most one point's runs."""
    if batch is not None:
        return min(batch, plan.runs)
    try:
        workers = max(len(client.scheduler_info()["workers"]), 1)
    except (AttributeError, KeyError, TypeError):
        workers = 1
    return max(1, min(plan.runs, plan.total // (16 * workers)))


def _collect(plan: SweepPlan, client: Any, retries: int, progress: Callable[[int, int], Any] | None,
             inline: bool = False, batch: int | None = None) -> list[list[dict[str, float]]]:
    token = uuid.uuid4().hex[:12]
    results: list[list[Any]] = [[None] * plan.runs for _ in plan.points]
    size = 1 if inline else _batch_size(plan, client, batch)
    tasks: dict[int, list[tuple[int, int, dict[str, Any]]]] = {}
    for p, r, raw in plan.tasks():
        tasks.setdefault(p * plan.runs + r // size * size, []).append((p, r, raw))
    where: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    futures = []
    for first, runs in tasks.items():
        fut = client.submit(execute_batch, [raw for _, _, raw in runs], key=f"qstack-sweep-{token}-{first}",
                            retries=retries, pure=False)
        where[fut.key] = runs
        futures.append(fut)
    if inline:
        finished: Iterable[Any] = futures
    else:
        from distributed import as_completed

        finished = as_completed(futures)
    done = 0
    try:
        for fut in finished:
            runs = where[fut.key]
            try:
                figures = fut.result()
            except Exception as exc:
                p, r0 = runs[0][0], runs[0][1]
                raise RuntimeError(f"sweep runs {r0}–{runs[-1][1]} of grid point {p} ({plan.points[p]}) failed "
                                   f"after {retries} retries: {type(exc).__name__}: {exc}") from exc
            for (p, r, _), value in zip(runs, figures, strict=True):
                results[p][r] = value
            done += len(runs)
            if progress is not None:
                progress(done, plan.total)
    finally:
        if not inline:
            for fut in futures:
                fut.release()
    return results  # type: ignore[return-value]


def progress_bar(stream: Any = None) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback drawing ``runs done`` on a terminal's stderr (nothing
    when stderr is not a terminal)."""
    stream = sys.stderr if stream is None else stream
    start = time.perf_counter()
    tty = hasattr(stream, "isatty") and stream.isatty()

    def draw(done: int, total: int) -> None:
        if not tty:
            return
        frac = done / total if total else 1.0
        bar = "█" * int(40 * frac) + "·" * (40 - int(40 * frac))
        stream.write(f"\r  {bar} {done}/{total} runs done ({time.perf_counter() - start:.1f} s)")
        if done == total:
            stream.write("\n")
        stream.flush()

    return draw
