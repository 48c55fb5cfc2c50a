"""Scenario files: a quantum network and its workload described in one TOML file.

A scenario says which nodes exist, which hardware they carry, how they are linked, which
network policies run and which entanglement requests the applications make — the "whole
network from one file" of SeQUeNCe's JSON topologies, written in TOML (stdlib :mod:`tomllib`)
so that people can read and comment it::

    [simulation]
    seed = 1
    duration = "0.2 s"

    [hardware.default]
    memory_positions = 10
    t2 = "1.3 s"
    attempt_rate = "2 kHz"

    [[nodes]]
    name = "alice"
    role = "end"

    [[nodes]]
    name = "bob"
    role = "end"

    [[links]]
    a = "alice"
    b = "bob"
    length = "10 km"

    [[requests]]
    source = "alice"
    destination = "bob"

:func:`load_scenario` reads such a file (or the equivalent ``dict``) into frozen dataclasses
holding SI floats (metres, seconds, hertz, radians; attenuation in dB/km, as
:class:`qstack.physical.fibre.Fibre` takes it). Quantities may be written as SI numbers or as
unit strings (``"25 km"``, ``"10 ms"``, ``"2 kHz"``), parsed by
:func:`qstack.physical.units.parse_quantity`.

Validation is complete before anything is built: every error of a file is collected and
reported together in one :class:`ScenarioError`, one line per error, each naming the field
path (``links[2].length``; array indices count from 0), the value given and what is allowed.
Unknown keys are errors, with a "did you mean" suggestion. The same rules run when the
dataclasses are built directly, so a :class:`Scenario` is valid however it was made.

The schema (every key, its default and its range) is documented on the dataclasses:
:class:`SimulationSpec`, :class:`HardwareSpec`, :class:`NodeSpec`, :class:`LinkSpec`,
:class:`PolicySpec`, :class:`PurificationSpec`, :class:`RequestSpec`, :class:`SecuritySpec`.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import tomllib
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final

from qstack.physical.fibre import Fibre
from qstack.physical.heralding import SCHEMES
from qstack.physical.station import LinkHardware
from qstack.physical.units import check_range, parse_quantity
from qstack.quantum.noise import GateNoise
from qstack.quantum.operations import BellMeasurement

__all__ = [
    "MEASUREMENT_BASES",
    "NODE_ROLES",
    "PURIFICATION_PROTOCOLS",
    "PURIFICATION_SCOPES",
    "LINK_TYPES",
    "REQUEST_TYPES",
    "ROUTING_POLICIES",
    "SCHEMES",
    "STARLIGHT_HARDWARE",
    "MAX_MEMORY_POSITIONS",
    "MAX_SIMULATED_CYCLES",
    "MAX_TOTAL_MEMORY_POSITIONS",
    "HardwareSpec",
    "LinkSpec",
    "NodeSpec",
    "PolicySpec",
    "PurificationSpec",
    "RequestSpec",
    "Scenario",
    "ScenarioError",
    "SimulationSpec",
    "linear_chain",
    "load_scenario",
]

ROUTING_POLICIES: tuple[str, ...] = ("shortest_path",)
"""Routing names :func:`load_scenario` accepts besides those of the routing registry
(:data:`qstack.network.policies.ROUTING`, where policies register: the way to add one).

Rebinding it (``qstack.scenario.ROUTING_POLICIES += ("k_shortest_paths",)``) admits a name the
scenario may carry without a registered policy, e.g. for a loader used apart from the network.
"""

NODE_ROLES: Final[tuple[str, ...]] = ("end", "repeater")
PURIFICATION_PROTOCOLS: Final[tuple[str, ...]] = ("bbpssw", "dejmps", "pumping", "dejmps_pumping", "bbpssw_pumping")
PURIFICATION_SCOPES: Final[tuple[str, ...]] = ("link", "end_to_end")
REQUEST_TYPES: Final[tuple[str, ...]] = ("keep", "measure")
LINK_TYPES: Final[tuple[str, ...]] = ("fibre", "satellite_downlink")
MEASUREMENT_BASES: Final[tuple[str, ...]] = ("Z", "X", "Y")

STARLIGHT_HARDWARE: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "memory_positions": 10,
        "t1": "inf",
        "t2": "1.3 s",
        "emission_efficiency": 0.75,
        "attempt_rate": "2 kHz",
        "detector_efficiency": 0.8,
        "dark_count_probability": 0.0,
    }
)
"""A hardware profile like SeQUeNCe's "starlight" example (Wu et al., Quantum Sci. Technol. 6,
045027 (2021)): memories at 2 kHz with efficiency 0.75 and coherence time 1.3 s (here a T2),
detectors of efficiency 0.8 without dark counts, 10 memory positions per link end."""

UINT32_MAX: Final[int] = 2**32 - 1
"""Largest count the protocol messages carry (``uint32``: ``num_pairs``, ``max_rounds``)."""
INT32_RANGE: Final[tuple[int, int]] = (-(2**31), 2**31 - 1)
"""Range of a request ``priority`` (``int32`` in the network and link protocols)."""

MAX_MEMORY_POSITIONS: Final[int] = 65_536
"""Most memory positions one link end may reserve (``memory_positions`` of a profile or link).

Each simulated position costs about half a kilobyte before it holds a qubit and is served by the
link protocol one by one; 2¹⁶ per link end is far beyond any memory built so far and keeps a
scenario within what one machine can hold (see also :data:`MAX_TOTAL_MEMORY_POSITIONS`)."""

MAX_TOTAL_MEMORY_POSITIONS: Final[int] = 2**20
"""Most memory positions all link ends of a scenario may reserve together (about 0.5 GB)."""

MAX_SIMULATED_CYCLES: Final[float] = 1e9
"""How many attempt cycles of the scenario's fastest link ``simulation.duration``, a request's
``start`` and its ``start + deadline`` may span.

Simulated time is a double in seconds, so its resolution at time ``T`` is ``T·2⁻⁵²``: at
``1e9`` cycles it is 2·10⁻⁷ of a cycle, and the attempt grid, heralds and messages keep their
order and spacing. Far beyond, one cycle no longer moves the clock (at ``T = 1e299 s`` a step
is 10²⁸³ s): a link would herald pairs forever at one instant and the run could not end, so such
times are refused at load."""

_TOP_LEVEL: Final[tuple[str, ...]] = (
    "simulation", "hardware", "nodes", "links", "policies", "requests", "application", "security",
)
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


class ScenarioError(ValueError):
    """A scenario is invalid; ``errors`` holds one line per problem found.

    Each line names the field path, the value given and what is allowed. ``source`` is the
    file the scenario came from (``None`` for a dict); ``line``/``column`` locate a TOML syntax
    error (``None`` otherwise).

    >>> err = ScenarioError(["links[0].length: must be >= 0 m, got -3", "nodes[1].role: bad"])
    >>> len(err.errors), str(err).splitlines()[1]
    (2, 'nodes[1].role: bad')
    """

    def __init__(
        self,
        errors: str | Sequence[str],
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.errors: tuple[str, ...] = (errors,) if isinstance(errors, str) else tuple(errors)
        self.source = source
        self.line = line
        self.column = column
        text = "\n".join(self.errors)
        if source is not None:
            count = len(self.errors)
            text = f"{source}: {count} error{'s' if count != 1 else ''}\n{text}"
        super().__init__(text)


# --------------------------------------------------------------------------------------------
# Showing values and paths in messages


def _show(value: object) -> str:
    """A value as the user wrote it, in TOML spelling where there is one."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Real):
        number = float(value)
        if math.isnan(number):
            return "nan"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return repr(value) if isinstance(value, (int, float)) else repr(number)
    if isinstance(value, Mapping):
        return "a table {" + ", ".join(str(k) for k in value) + "}"
    if isinstance(value, (list, tuple)):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
        return text if len(text) <= 60 else text[:56] + " ...]"
    return f"{type(value).__name__} {value!r}"


def _key_path(base: str, key: object) -> str:
    key = str(key)
    part = key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)
    return f"{base}.{part}" if base else part


def _did_you_mean(word: object, options: Sequence[str]) -> str:
    matches = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean {_show(matches[0])}?" if matches else ""


def _unknown_key(path: str, key: object, allowed: Sequence[str]) -> str:
    hint = _did_you_mean(key, allowed)
    if hint:
        return f"{_key_path(path, key)}: unknown key, {hint}"
    return f"{_key_path(path, key)}: unknown key (allowed: {', '.join(allowed)})"


def _si(value: float, unit: str) -> str:
    return f"{value:g} {unit}"


# --------------------------------------------------------------------------------------------
# Field rules: each converts a value as written into its SI form or raises _Invalid


class _Invalid(Exception):
    """A value breaks its field's rule; ``detail`` says why when the rule alone does not."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True, slots=True)
class _Rule:
    allowed: str  # completes "must be ..."
    convert: Callable[[Any], Any]


def _is_real(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _range_text(low: float, high: float, low_inclusive: bool, high_inclusive: bool, unit: str = "") -> str:
    suffix = f" {unit}" if unit else ""
    if math.isinf(high):
        return f"{'>=' if low_inclusive else '>'} {low:g}{suffix}"
    left, right = "[" if low_inclusive else "(", "]" if high_inclusive else ")"
    return f"in {left}{low:g}, {high:g}{right}{suffix}"


def _integer(low: int | None = None, high: int | None = None, note: str = "") -> _Rule:
    def convert(value: object) -> int:
        if not isinstance(value, Integral) or isinstance(value, bool):
            raise _Invalid
        if (low is not None and value < low) or (high is not None and value > high):
            raise _Invalid
        return int(value)

    if high is None:
        allowed = "an integer" + ("" if low is None else f" >= {low}")
    else:
        allowed = f"an integer in [{low}, {high}]" if low is not None else f"an integer <= {high}"
    return _Rule(allowed + note, convert)


def _number(
    low: float, high: float = math.inf, *, low_inclusive: bool = True, high_inclusive: bool = True, note: str = ""
) -> _Rule:
    bounds = {"low": low, "high": high, "low_inclusive": low_inclusive, "high_inclusive": high_inclusive}

    def convert(value: object) -> float:
        if not _is_real(value):
            raise _Invalid
        try:
            return check_range("value", value, **bounds)
        except (ValueError, TypeError, OverflowError):
            raise _Invalid from None

    return _Rule(f"a number {_range_text(low, high, low_inclusive, high_inclusive)}{note}", convert)


_QUANTITY_WORDS: Final[dict[str, tuple[str, str, str]]] = {
    "length": ("a length", "m", '"10 km"'),
    "time": ("a time", "s", '"10 ms"'),
    "frequency": ("a frequency", "Hz", '"2 kHz"'),
    "attenuation": ("an attenuation", "dB/km", '"0.2 dB/km"'),
    "angle": ("an angle", "rad", '"0.1 rad"'),
}


def _quantity(
    kind: str,
    *,
    low: float = 0.0,
    low_inclusive: bool = True,
    allow_inf: bool = False,
    example: str | None = None,
    note: str = "",
) -> _Rule:
    article, unit, default_example = _QUANTITY_WORDS[kind]
    allowed = f"{article} {_range_text(low, math.inf, low_inclusive, True, unit)} like {example or default_example}"
    if allow_inf:
        allowed += ' or "inf"'

    def convert(value: object) -> float:
        if allow_inf and (value == math.inf if _is_real(value) else isinstance(value, str) and value.strip() == "inf"):
            return math.inf
        try:
            number = parse_quantity(value, kind)  # type: ignore[arg-type]
        except TypeError:
            raise _Invalid from None
        except (ValueError, OverflowError) as exc:
            raise _Invalid(str(exc)) from None
        try:
            return check_range(kind, number, low=low, low_inclusive=low_inclusive)
        except ValueError:
            raise _Invalid from None

    return _Rule(allowed + note, convert)


def _choice(*options: str) -> _Rule:
    def convert(value: object) -> str:
        if isinstance(value, str) and value in options:
            return value
        raise _Invalid(_did_you_mean(value, options) if isinstance(value, str) else "")

    return _Rule("one of " + ", ".join(_show(o) for o in options), convert)


def _name(what: str) -> _Rule:
    def convert(value: object) -> str:
        if isinstance(value, str) and _NAME.fullmatch(value):
            return value
        raise _Invalid

    return _Rule(f'{what} of letters, digits, "_", "." and "-"', convert)


def _text() -> _Rule:
    def convert(value: object) -> str:
        if isinstance(value, str):
            return value
        raise _Invalid

    return _Rule("a string", convert)


def _plugin(kind: str, what: str, builtins: Sequence[str] = (), lazy_names: bool = False) -> _Rule:
    """A plug-in chosen by name (``"asap"``, ``"pkg.module:Name"``) or by a table with a
    ``name`` and parameters (``{ name = "threshold", min_fidelity = 0.93 }``)."""

    def convert(value: object) -> object:
        from qstack.registry import PluginError, plugin_spec

        if not isinstance(value, (str, Mapping)):
            raise _Invalid
        if lazy_names and isinstance(value, str):
            if _NAME.fullmatch(value) or ":" in value:
                return value  # checked against the registry when the scenario is complete
            raise _Invalid
        try:
            return plugin_spec(kind, value)
        except PluginError as exc:
            raise _Invalid(str(exc)) from None

    shown = ", ".join(_show(b) for b in builtins)
    return _Rule(f"a {what} name: one of {shown} (or another registered one), or a table "
                 "{ name = …, <parameters> }", convert)


def _cutoff() -> _Rule:
    time_rule = _quantity("time", low_inclusive=False, example='"1.3 s"')
    plugin = _plugin("cutoff", "cut-off policy", ("fixed", "fidelity", "none", "slots"))

    def convert(value: object) -> object:
        if isinstance(value, Mapping):
            return plugin.convert(value)
        return time_rule.convert(value)

    return _Rule(f'a time > 0 s like "1.3 s", or {plugin.allowed}', convert)


def _downlink() -> _Rule:
    """A ``satellite`` table, read by :meth:`qstack.physical.satellite.DownlinkSpec.from_mapping`."""

    def convert(value: object) -> object:
        from qstack.physical.satellite import DownlinkSpec

        if not isinstance(value, (Mapping, DownlinkSpec)):
            raise _Invalid
        try:
            return DownlinkSpec.from_mapping(value)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            raise _Invalid(str(exc)) from None

    return _Rule("a table of satellite-downlink parameters (qstack.physical.satellite.DownlinkSpec: altitude, "
                 "max_elevation, wavelength, transmitter_aperture, ground_station = {…}, …)", convert)


def _bell_coefficients() -> _Rule:
    """Four Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), each >= 0, summing to 1."""

    def convert(value: object) -> object:
        from qstack.physical.link_noise import pauli_weights_from_bell

        if not isinstance(value, (list, tuple)) or not all(_is_real(v) for v in value):
            raise _Invalid
        try:
            return pauli_weights_from_bell(value)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            raise _Invalid(str(exc)) from None

    return _Rule("an array of four numbers >= 0 summing to 1 (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻)", convert)


def _instance(cls: type, what: str) -> _Rule:
    def convert(value: object) -> object:
        if isinstance(value, cls):
            return value
        raise _Invalid

    return _Rule(what, convert)


# --------------------------------------------------------------------------------------------
# Reading one table against a spec class


@dataclass
class _Entry:
    """One table being read: its path, the raw values, the converted (valid) values."""

    path: str
    raw: Mapping[Any, Any]
    values: dict[str, Any] = field(default_factory=dict)
    bad: set[str] = field(default_factory=set)

    def get(self, key: str) -> Any:
        """The converted value, or None when absent or invalid."""
        return self.values.get(key)

    def shown(self, key: str) -> str:
        if key in self.raw and self.raw[key] is not None:
            return _show(self.raw[key])
        return _show(self.values.get(key))

    def at(self, key: str) -> str:
        return _key_path(self.path, key)


def _read_entry(cls: type[_Spec], raw: object, path: str, errors: list[str]) -> _Entry | None:
    """Check ``raw`` against the fields of ``cls``; append errors; return what was readable."""
    if not isinstance(raw, Mapping):
        errors.append(f"{path}: must be a table, got {_show(raw)}")
        return None
    rules = cls._RULES
    for key in raw:
        if key not in rules:
            errors.append(_unknown_key(path, key, list(rules)))
    entry = _Entry(path, raw)
    for f in dataclasses.fields(cls):
        rule = rules[f.name]
        value = raw.get(f.name)
        if value is None:
            if f.default is dataclasses.MISSING:
                errors.append(f"{entry.at(f.name)}: required, must be {rule.allowed}")
                entry.bad.add(f.name)
            else:
                entry.values[f.name] = f.default
            continue
        try:
            entry.values[f.name] = rule.convert(value)
        except _Invalid as exc:
            detail = f"; {exc.detail}" if exc.detail else ""
            errors.append(f"{entry.at(f.name)}: must be {rule.allowed}, got {_show(value)}{detail}")
            entry.bad.add(f.name)
    for key, message in cls._together(entry):
        errors.append(f"{entry.at(key)}: {message}, got {entry.shown(key)}")
        entry.bad.add(key)
    cls._complete(entry.values)
    return entry


def _read_array(cls: type[_Spec], raw: object, name: str, errors: list[str]) -> list[_Entry | None] | None:
    """Read an array of tables; None (and an error) when ``raw`` is not an array."""
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        errors.append(f"{name}: must be an array of tables ([[{name}]] entries), got {_show(raw)}")
        return None
    return [_read_entry(cls, item, f"{name}[{i}]", errors) for i, item in enumerate(raw)]


class _Spec:
    """Validation shared by the spec dataclasses: per-field rules, then cross-field checks.

    The loader and ``__post_init__`` run the same :func:`_read_entry`, so a spec built directly
    is checked exactly as one read from a file, and its quantities are normalised to SI.
    """

    _RULES: ClassVar[Mapping[str, _Rule]] = {}

    @staticmethod
    def _together(entry: _Entry) -> Iterator[tuple[str, str]]:
        """Cross-field problems as (field, message); the value shown is appended."""
        return iter(())

    @staticmethod
    def _complete(values: dict[str, Any]) -> None:
        """Fill defaults that depend on other fields."""

    def __post_init__(self) -> None:
        errors: list[str] = []
        raw = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        entry = _read_entry(type(self), raw, type(self).__name__, errors)
        if errors or entry is None:
            raise ScenarioError(errors)
        for key, value in entry.values.items():
            object.__setattr__(self, key, value)

    def _as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value._as_dict() if isinstance(value, _Spec) else (
                    dict(value) if isinstance(value, Mapping) else
                    value.to_dict() if callable(getattr(value, "to_dict", None)) else value)
        return out


# --------------------------------------------------------------------------------------------
# The specs


@dataclass(frozen=True)
class SimulationSpec(_Spec):
    """The ``[simulation]`` table: ``seed`` (integer >= 0, required), ``duration`` (simulated
    time limit in s, > 0 and at most :data:`MAX_SIMULATED_CYCLES` attempt cycles of the fastest
    link, where the clock still resolves a cycle; optional when every request asks for a number
    of ``pairs``), an
    optional ``name`` and ``wire``: how classical messages travel between simulated nodes,
    ``"objects"`` (default: validated message objects, counted at their serialised size) or
    ``"bytes"`` (serialised and parsed like on a real network) -- the same run either way, see
    :mod:`qstack.runtime.sim` -- and ``engine``: how pair states are held, ``"auto"`` (default:
    as four Bell coefficients when every link state, memory and gate model keeps pairs
    Bell-diagonal, else density matrices), ``"density_matrix"`` or ``"bell_diagonal"`` (refused
    when a model leaves the family, naming it) -- the same run to rounding either way, see
    :mod:`qstack.quantum.bell_engine`; the summary's ``engine`` says which ran.

    >>> SimulationSpec(seed=1, duration="200 ms").duration
    0.2
    """

    seed: int
    duration: float | None = None
    name: str | None = None
    wire: str = "objects"
    engine: str = "auto"

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "seed": _integer(0),
        "duration": _quantity("time", low_inclusive=False, example='"0.2 s"'),
        "name": _text(),
        "wire": _choice("objects", "bytes"),
        "engine": _choice("auto", "density_matrix", "bell_diagonal"),
    }


@dataclass(frozen=True)
class HardwareSpec(_Spec):
    """A named hardware profile, ``[hardware.<name>]``; nodes refer to it by name.

    * ``memory_positions`` (int in [1, 65536], required): memory positions reserved at each end
      of every link of the node (all link ends of a scenario together at most 2²⁰:
      :data:`MAX_MEMORY_POSITIONS`, :data:`MAX_TOTAL_MEMORY_POSITIONS`);
    * ``attempt_rate`` (Hz, > 0, required): most entanglement attempts per second per memory;
    * ``t1``, ``t2`` (s, > 0 or ``"inf"``, default ``inf``; ``t2 <= 2·t1``), or instead
      ``depolarizing_time`` (s, > 0; only with infinite ``t1`` and ``t2``);
    * ``single_qubit_depolarizing``, ``two_qubit_depolarizing``, ``readout_error`` in [0, 1]
      (default 0): the processor's :class:`~qstack.quantum.noise.GateNoise`;
    * ``emission_efficiency`` in [0, 1] (default 1): photon emission × collection;
    * ``detector_efficiency`` in [0, 1] (default 1) and ``dark_count_probability`` in [0, 1)
      (default 0): the detectors of the heralding stations on the node's links;
    * ``raw_fidelity`` in [0.25, 1] (default 1): emitter imperfection — each heralded pair is
      depolarised so that an otherwise perfect pair would have this fidelity (SeQUeNCe's
      ``raw_fidelity``); the lower of a link's two ends applies;
    * ``memory_noise``: a memory noise model plug-in (:data:`qstack.physical.memory.MEMORY_NOISE`,
      e.g. ``{ name = "mypkg.noise:Drift", rate = 3.0 }``) instead of ``t1``/``t2``/
      ``depolarizing_time``; the stage report and the fidelity floors read its
      ``coherence_time()`` and Pauli twirl;
    * ``gate_model``: a gate noise model plug-in (:data:`qstack.quantum.noise.GATE_NOISE`, e.g.
      ``{ name = "mypkg.noise:DephasingGates", p = 0.01 }``) instead of the three depolarising
      and readout numbers above;
    * ``bsm_success_probability`` in (0, 1] (default 1) and ``bsm_outcomes``: ``"all"``
      (default) or ``"psi"`` (a linear-optics BSM: only Ψ± herald, so a swap of Werner pairs
      succeeds with probability ½): the node's Bell-state measurement
      (:class:`qstack.quantum.BellMeasurement`). A failed swap destroys both pairs, and the
      repeater tells both segments' far ends, which free their memories.

    >>> hw = HardwareSpec("default", memory_positions=10, attempt_rate="2 kHz", t2="1.3 s")
    >>> hw.attempt_rate, hw.t1, hw.t2
    (2000.0, inf, 1.3)
    """

    name: str
    memory_positions: int
    attempt_rate: float
    t1: float = math.inf
    t2: float = math.inf
    depolarizing_time: float | None = None
    single_qubit_depolarizing: float = 0.0
    two_qubit_depolarizing: float = 0.0
    readout_error: float = 0.0
    emission_efficiency: float = 1.0
    detector_efficiency: float = 1.0
    dark_count_probability: float = 0.0
    raw_fidelity: float = 1.0
    memory_noise: Any = None
    gate_model: Any = None
    bsm_success_probability: float = 1.0
    bsm_outcomes: str = "all"

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "name": _name("a profile name"),
        "memory_positions": _integer(1, MAX_MEMORY_POSITIONS, " (per link end)"),
        "attempt_rate": _quantity("frequency", low_inclusive=False),
        "t1": _quantity("time", low_inclusive=False, allow_inf=True, example='"1 s"'),
        "t2": _quantity("time", low_inclusive=False, allow_inf=True, example='"1.3 s"'),
        "depolarizing_time": _quantity("time", low_inclusive=False, example='"1 s"'),
        "single_qubit_depolarizing": _number(0.0, 1.0),
        "two_qubit_depolarizing": _number(0.0, 1.0),
        "readout_error": _number(0.0, 1.0),
        "emission_efficiency": _number(0.0, 1.0),
        "detector_efficiency": _number(0.0, 1.0),
        "dark_count_probability": _number(0.0, 1.0, high_inclusive=False),
        "raw_fidelity": _number(0.25, 1.0),
        "memory_noise": _plugin("memory_noise", "memory noise model", ("t1t2", "depolarizing")),
        "gate_model": _plugin("gate_noise", "gate noise model", ("depolarizing",)),
        "bsm_success_probability": _number(0.0, 1.0, low_inclusive=False),
        "bsm_outcomes": _choice("all", "psi"),
    }

    @staticmethod
    def _together(entry: _Entry) -> Iterator[tuple[str, str]]:
        t1, t2 = entry.get("t1"), entry.get("t2")
        if t1 is not None and t2 is not None and t2 > 2 * t1 * (1 + 1e-12):
            yield "t2", f"must be <= 2·t1 = {_si(2 * t1, 's')} (t1 = {entry.shown('t1')})"
        if entry.get("gate_model") is not None:
            set_ = [k for k in ("single_qubit_depolarizing", "two_qubit_depolarizing", "readout_error") if entry.get(k)]
            if set_:
                yield "gate_model", f"must be left out when {set_[0]} is set: give either a gate_model or the numbers"
        if entry.get("depolarizing_time") is not None:
            finite = [k for k in ("t1", "t2") if entry.get(k) is not None and math.isfinite(entry.get(k))]
            if finite:
                yield (
                    "depolarizing_time",
                    f"must be left out when {finite[0]} is finite ({finite[0]} = {entry.shown(finite[0])}): "
                    "give either t1/t2 or depolarizing_time",
                )

    def memory_model(self) -> Any:
        """The profile's memory noise model (:class:`qstack.physical.memory.MemoryNoise`).

        >>> HardwareSpec("hw", 1, 1e3, t2="2 s").memory_model().coherence_time()
        2.0
        """
        from qstack.physical.memory import memory_noise_from

        return memory_noise_from(self.t1, self.t2, self.depolarizing_time, self.memory_noise)

    @property
    def bell_measurement(self) -> BellMeasurement:
        """The node's Bell-state measurement (:class:`~qstack.quantum.BellMeasurement`).

        >>> HardwareSpec("hw", 1, 1e3, bsm_outcomes="psi", bsm_success_probability=0.8).bell_measurement
        BellMeasurement(success_probability=0.8, outcomes=(2, 3))
        """
        return BellMeasurement(self.bsm_success_probability, (2, 3) if self.bsm_outcomes == "psi" else (0, 1, 2, 3))

    @property
    def gate_noise(self) -> GateNoise:
        """The processor's gate and readout noise as a :class:`~qstack.quantum.noise.GateNoise`.

        >>> HardwareSpec("hw", 1, 1e3, two_qubit_depolarizing=0.02).gate_noise.two_qubit_depolarizing
        0.02
        """
        if self.gate_model is not None:
            from qstack.quantum.noise import GATE_NOISE

            return GATE_NOISE.create(self.gate_model)
        return GateNoise(self.single_qubit_depolarizing, self.two_qubit_depolarizing, self.readout_error)


@dataclass(frozen=True)
class NodeSpec(_Spec):
    """A ``[[nodes]]`` entry: unique ``name``, ``role`` (``"end"`` — may be a request endpoint —
    or ``"repeater"``, the default) and ``hardware``, a profile name (default ``"default"``).

    >>> NodeSpec("alice", role="end")
    NodeSpec(name='alice', role='end', hardware='default')
    """

    name: str
    role: str = "repeater"
    hardware: str = "default"

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "name": _name("a node name"),
        "role": _choice(*NODE_ROLES),
        "hardware": _name("a hardware profile name"),
    }


@dataclass(frozen=True)
class LinkSpec(_Spec):
    """A ``[[links]]`` entry: a fibre between nodes ``a`` and ``b`` with a heralding station.

    * ``length`` (m, >= 0, required), ``attenuation`` (dB/km, >= 0, default 0.2),
      ``refractive_index`` (>= 1, default 1.44);
    * ``station_position`` in [0, 1] (default 0.5): where the station sits, as the fraction
      of the length from ``a``;
    * ``scheme``: ``"single_click"`` or ``"double_click"`` (default); ``alpha`` in (0, 1), the
      bright-state population, only for single click (absent: the link layer picks it from
      the requested fidelity); ``phase_std`` (rad, >= 0, default 0);
    * ``rounds`` (double click only): ``"interleaved"`` (default: both Barrett–Kok rounds within
      one attempt cycle ``max(2·d, 1/attempt_rate)``) or ``"sequential"`` (round 2 only after
      round 1 heralded, each round ``1/attempt_rate + 2·d`` — SeQUeNCe's timing);
    * ``attempt_clock``: ``"slotted"`` (default: the link's memories emit on the grid
      ``k·cycle`` (``k·round`` with sequential rounds) from t = 0, as in the slotted
      repeater-chain models) or ``"free"`` (an attempt as soon as the position is free and one
      cycle has passed since its last emission). Either way no memory attempts faster than its
      ``attempt_rate``;
    * ``classical_delay_per_km`` (s per km, > 0): overrides the fibre delay ``n/c`` for
      classical messages;
    * optional overrides of the end nodes' profiles: ``memory_positions`` (int >= 1, at each
      end, in [1, 65536]), ``detector_efficiency`` and ``dark_count_probability`` (the station's detectors;
      required when the two ends' profiles disagree on them);
    * ``noise``: the link noise on each heralded pair beyond the heralding physics —
      ``"werner"`` (default: only the end nodes' ``raw_fidelity`` depolarisation),
      ``"bell_diagonal"`` (also a Pauli channel on one qubit, :mod:`qstack.physical.link_noise`,
      given either as ``bell_coefficients = [Φ⁺, Φ⁻, Ψ⁺, Ψ⁻]``, the state a perfect pair becomes,
      or as ``visibility_z`` and ``visibility_x`` in [0, 1], independent bit and phase flips with
      QBER (1 − V)/2 per basis; built-in schemes only; keeps the Bell-diagonal engine) or
      ``"spdc"`` (the multi-pair emissions of a polarisation-entangled SPDC source of
      ``mean_pair_number`` μ >= 0: the Werner parameter is multiplied by the two-photon
      visibility :func:`qstack.physical.sources.spdc_visibility` at the arms' efficiencies);
    * ``type``: ``"fibre"`` (default) or ``"satellite_downlink"``: a free-space optical
      downlink from the satellite node ``a`` to the ground node ``b`` over one pass, described
      by the ``satellite`` table (required for that type, refused otherwise:
      :class:`qstack.physical.satellite.DownlinkSpec` — orbit ``altitude``, ``max_elevation`` and
      ``min_elevation`` or ``duration``, ``wavelength``, ``transmitter_aperture``,
      ``divergence``, ``pointing_jitter``, ``scintillation_index``, ``airmass_model``, sky
      background ``sky_radiance``/``field_of_view``/``filter_bandwidth``/``detection_window``,
      slant-path turbulence ``turbulence`` (``"hv57"`` or ``"hufnagel_valley"`` with
      ``ground_cn2`` or ``zenith_seeing``, ``wind_speed``; then ``field_of_view`` is also the
      receiver's field stop, ``psf_model``), ``time_step``, and the named
      ``ground_station = {name, latitude, longitude, altitude, aperture, zenith_transmittance,
      extra_loss_db}``; numbers in SI or unit strings). Its
      decoy-state key over the pass is :func:`qstack.physical.satellite.downlink_key_budget`
      (:func:`qstack.physical.satellite.scenario_key_budget` from a scenario); ``length`` then sets only the
      classical messages' delay (e.g. the pass's longest slant range), and the entanglement
      link layer does not use the satellite table.

    >>> link = LinkSpec("a", "b", length="10 km", station_position=0.25)
    >>> link.length, link.attenuation, link.arm_lengths
    (10000.0, 0.2, (2500.0, 7500.0))
    """

    a: str
    b: str
    length: float
    attenuation: float = 0.2
    refractive_index: float = 1.44
    station_position: float = 0.5
    scheme: str = "double_click"
    alpha: float | None = None
    phase_std: float = 0.0
    rounds: str = "interleaved"
    attempt_clock: str = "slotted"
    classical_delay_per_km: float | None = None
    memory_positions: int | None = None
    detector_efficiency: float | None = None
    dark_count_probability: float | None = None
    type: str = "fibre"
    satellite: Any = None
    noise: str = "werner"
    bell_coefficients: tuple[float, float, float, float] | None = None
    visibility_z: float | None = None
    visibility_x: float | None = None
    mean_pair_number: float | None = None

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "a": _name("a node name"),
        "b": _name("a node name"),
        "length": _quantity("length"),
        "attenuation": _quantity("attenuation"),
        "refractive_index": _number(1.0),
        "station_position": _number(0.0, 1.0, note=" (fraction of the length from a)"),
        "scheme": _plugin("link_scheme", "link generation scheme", SCHEMES),
        "alpha": _number(0.0, 1.0, low_inclusive=False, high_inclusive=False),
        "phase_std": _quantity("angle"),
        "rounds": _choice("interleaved", "sequential"),
        "attempt_clock": _choice("slotted", "free"),
        "classical_delay_per_km": _quantity("time", low_inclusive=False, example='"5 us"', note=" (per km)"),
        "memory_positions": _integer(1, MAX_MEMORY_POSITIONS, " (per link end)"),
        "detector_efficiency": _number(0.0, 1.0),
        "dark_count_probability": _number(0.0, 1.0, high_inclusive=False),
        "type": _choice(*LINK_TYPES),
        "satellite": _downlink(),
        "noise": _choice("werner", "bell_diagonal", "spdc"),
        "bell_coefficients": _bell_coefficients(),
        "visibility_z": _number(0.0, 1.0),
        "visibility_x": _number(0.0, 1.0),
        "mean_pair_number": _number(0.0, note=" (mean pairs per pulse)"),
    }

    @staticmethod
    def _together(entry: _Entry) -> Iterator[tuple[str, str]]:
        if entry.get("a") is not None and entry.get("a") == entry.get("b"):
            yield "b", "must differ from a (a link joins two distinct nodes)"
        downlink = entry.get("type") == "satellite_downlink"
        if downlink and entry.get("satellite") is None and "satellite" not in entry.bad:
            yield "satellite", 'required for type = "satellite_downlink" (a table of downlink parameters)'
        if entry.get("type") == "fibre" and entry.get("satellite") is not None:
            yield "satellite", 'only applies to type = "satellite_downlink" (this link has type = "fibre")'

        scheme = entry.get("scheme")
        # a scheme is a name or a {name = …, …} table; a user's scheme may read alpha and rounds
        name = scheme.get("name") if isinstance(scheme, Mapping) else scheme
        if entry.get("alpha") is not None and name == "double_click":
            yield "alpha", f'only applies to scheme = "single_click" (this link has scheme = {_show(scheme)})'
        if entry.get("rounds") == "sequential" and name == "single_click":
            yield "rounds", 'only applies to scheme = "double_click" (single click has one round)'
        yield from _link_noise_problems(entry, name)

    @property
    def pauli_weights(self) -> tuple[float, float, float, float] | None:
        """The Pauli weights of ``noise = "bell_diagonal"`` (Bell-index order I, Z, X, XZ), else None.

        >>> w = LinkSpec("a", "b", 1.0, noise="bell_diagonal", visibility_z=1.0, visibility_x=0.9).pauli_weights
        >>> [round(x, 12) for x in w]
        [0.95, 0.05, 0.0, 0.0]
        """
        if self.noise != "bell_diagonal":
            return None
        if self.bell_coefficients is not None:
            return self.bell_coefficients
        from qstack.physical.link_noise import pauli_weights_from_visibilities

        return pauli_weights_from_visibilities(self.visibility_z, self.visibility_x)  # type: ignore[arg-type]

    @property
    def arm_lengths(self) -> tuple[float, float]:
        """Fibre lengths (m) from ``a`` and from ``b`` to the heralding station.

        >>> LinkSpec("a", "b", 1000.0).arm_lengths
        (500.0, 500.0)
        """
        to_a = self.length * self.station_position
        return to_a, self.length - to_a

    @property
    def classical_delay(self) -> float:
        """One-way classical delay (s) between ``a`` and ``b``: ``classical_delay_per_km``
        times the length if given, else the fibre's ``length · n / c``.

        >>> round(LinkSpec("a", "b", "10 km", classical_delay_per_km="5 us").classical_delay * 1e6, 9)   # us
        50.0
        >>> round(LinkSpec("a", "b", "10 km").classical_delay * 1e6, 3)   # n/c with n = 1.44
        48.033
        """
        if self.classical_delay_per_km is not None:
            return self.classical_delay_per_km * self.length / 1000.0
        return Fibre(self.length, self.attenuation, self.refractive_index).delay


_NOISE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "werner": (), "bell_diagonal": ("bell_coefficients", "visibility_z", "visibility_x"), "spdc": ("mean_pair_number",),
}


def _link_noise_problems(entry: _Entry, scheme: object) -> Iterator[tuple[str, str]]:
    """The ``noise`` fields of a ``[[links]]`` entry that do not fit together."""
    noise = entry.get("noise")
    if noise is None:
        return
    for other, fields in _NOISE_FIELDS.items():
        if other != noise:
            for key in fields:
                if entry.get(key) is not None and key not in _NOISE_FIELDS[noise]:
                    yield key, f'only applies to noise = "{other}" (this link has noise = "{noise}")'
    if noise == "bell_diagonal":
        given = [k for k in ("bell_coefficients", "visibility_z", "visibility_x") if entry.get(k) is not None]
        bad = entry.bad & {"bell_coefficients", "visibility_z", "visibility_x"}
        if "bell_coefficients" in given and len(given) > 1:
            yield given[1], "must be left out when bell_coefficients is set: give either the four coefficients " \
                            "or visibility_z and visibility_x"
        elif not given and not bad:
            yield "noise", 'needs bell_coefficients, or visibility_z and visibility_x, for noise = "bell_diagonal"'
        elif "bell_coefficients" not in given and len(given) == 1 and not bad:
            missing = "visibility_x" if given[0] == "visibility_z" else "visibility_z"
            yield missing, f'required with {given[0]} for noise = "bell_diagonal" (a number in [0, 1])'
        if scheme not in (None, "single_click", "double_click"):
            yield "noise", ('"bell_diagonal" needs a built-in scheme ("single_click" or "double_click"), which '
                            f"apply it; this link has scheme = {_show(scheme)}")
    if noise == "spdc" and entry.get("mean_pair_number") is None and "mean_pair_number" not in entry.bad:
        yield "noise", 'needs mean_pair_number (a number >= 0, mean pairs per pulse) for noise = "spdc"'


@dataclass(frozen=True)
class PurificationSpec(_Spec):
    """The ``[policies.purification]`` table: ``protocol`` (required: recurrence ``"bbpssw"`` or
    ``"dejmps"``; entanglement pumping ``"dejmps_pumping"`` (DEJMPS steps) or
    ``"bbpssw_pumping"`` (each step twirls both pairs, then BBPSSW); ``"pumping"`` is an alias of
    ``"dejmps_pumping"`` kept for existing scenarios), ``target_fidelity`` in (0.5, 1] (required), ``scope``
    (``"link"``, the default, or ``"end_to_end"``) and ``max_rounds`` (int in [1, 2³² − 1], default 3).

    >>> PurificationSpec("dejmps", target_fidelity=0.95).scope
    'link'
    """

    protocol: str
    target_fidelity: float
    scope: str = "link"
    max_rounds: int = 3

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "protocol": _plugin("purification", "purification policy", PURIFICATION_PROTOCOLS),
        "target_fidelity": _number(0.5, 1.0, low_inclusive=False),
        "scope": _choice(*PURIFICATION_SCOPES),
        "max_rounds": _integer(1, UINT32_MAX, " (uint32, as the protocol carries it)"),
    }


@dataclass(frozen=True)
class PolicySpec(_Spec):
    """The ``[policies]`` table; every entry is a plug-in chosen by name, by
    ``"module:Name"`` or by a table ``{ name = …, <parameters> }``
    (:mod:`qstack.network.policies`): ``routing`` (default ``"shortest_path"``), ``swapping``
    (``"asap"``, the default, ``"nested"`` or ``{ name = "threshold", min_fidelity = … }``),
    ``cutoff`` (a time in s — pairs older than this are discarded — or a cut-off table such as
    ``{ name = "fidelity", min_fidelity = 0.8 }``; default none) and ``purification`` (a
    :class:`PurificationSpec`; default none).

    >>> PolicySpec(cutoff="1.3 s").cutoff
    1.3
    """

    routing: Any = "shortest_path"
    swapping: Any = "asap"
    cutoff: Any = None
    purification: PurificationSpec | None = None

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "routing": _plugin("routing", "routing policy", ("shortest_path", "fewest_hops"), lazy_names=True),
        "swapping": _plugin("swapping", "swapping policy", ("asap", "nested", "threshold")),
        "cutoff": _cutoff(),
        "purification": _instance(PurificationSpec, "a table [policies.purification]"),
    }


@dataclass(frozen=True)
class SecuritySpec(_Spec):
    """The ``[security]`` table: ``keys``, the path of a JSON key file ``{"a|b": "<64 hex
    digits>", ...}`` holding the pre-shared key of every pair of nodes that may exchange classical
    messages — every pair of nodes, and each link's heralding station ``"station:<a>-<b>"`` with
    both of its ends — relative to the scenario file (to the working directory for a scenario
    given as a dict). Every classical frame is authenticated with its pair's key (HMAC-SHA256 and
    a sequence number, :mod:`qstack.runtime.auth`). Without ``keys`` each run draws fresh keys from
    the operating system's random source, never from the seed; tags never change an outcome, so a
    run is the same for a seed either way.

    >>> SecuritySpec().keys is None
    True
    """

    keys: str | None = None

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "keys": _text(),
    }


@dataclass(frozen=True)
class RequestSpec(_Spec):
    """A ``[[requests]]`` entry: entangled pairs wanted between two ``"end"`` nodes.

    * ``source``, ``destination``: distinct nodes with role ``"end"``, joined by some path;
    * ``pairs`` (int in [1, 2³² − 1], the protocol's ``uint32``): how many; absent means as
      many as possible until ``simulation.duration``;
    * ``min_fidelity`` in [0, 1] (default 0): every delivered pair's estimated fidelity is at
      least this (pairs below it are discarded and counted per flow in ``discarded``; an
      unreachable one fails the flow with UNSUPPORTED), unless the flow purifies, where it sets
      the links' budget only; ``deadline`` (s, > 0): time allowed after
      ``start`` (s, >= 0, default 0); ``priority`` (int in [−2³¹, 2³¹ − 1], the protocol's
      ``int32``; default 0); ``start`` and ``start + deadline`` span at most
      :data:`MAX_SIMULATED_CYCLES` attempt cycles of the fastest link;
    * ``type``: ``"keep"`` (default) or ``"measure"``; ``basis`` (``"Z"``, ``"X"`` or ``"Y"``,
      default ``"Z"``) only for ``"measure"``.

    >>> RequestSpec("alice", "bob", pairs=100, type="measure").basis
    'Z'
    """

    source: str
    destination: str
    pairs: int | None = None
    min_fidelity: float = 0.0
    deadline: float | None = None
    start: float = 0.0
    priority: int = 0
    type: str = "keep"
    basis: str | None = None

    _RULES: ClassVar[Mapping[str, _Rule]] = {
        "source": _name("a node name"),
        "destination": _name("a node name"),
        "pairs": _integer(1, UINT32_MAX, " (uint32, as the protocol carries it)"),
        "min_fidelity": _number(0.0, 1.0),
        "deadline": _quantity("time", low_inclusive=False, example='"1 s"'),
        "start": _quantity("time", example='"0 s"'),
        "priority": _integer(*INT32_RANGE, " (int32, as the protocol carries it)"),
        "type": _choice(*REQUEST_TYPES),
        "basis": _choice(*MEASUREMENT_BASES),
    }

    @staticmethod
    def _together(entry: _Entry) -> Iterator[tuple[str, str]]:
        if entry.get("source") is not None and entry.get("source") == entry.get("destination"):
            yield "destination", "must differ from source"
        kind = entry.get("type")
        if entry.get("basis") is not None and kind is not None and kind != "measure":
            yield "basis", f'only applies to type = "measure" (this request has type = {_show(kind)})'

    @staticmethod
    def _complete(values: dict[str, Any]) -> None:
        if values.get("type") == "measure" and values.get("basis") is None:
            values["basis"] = "Z"


# --------------------------------------------------------------------------------------------
# Checks across tables


def _components(adjacency: Mapping[str, set[str]]) -> dict[str, int]:
    """Label each node with the index of its connected component (breadth-first search)."""
    label: dict[str, int] = {}
    component = -1
    for start in adjacency:
        if start in label:
            continue
        component += 1
        label[start] = component
        queue = deque([start])
        while queue:
            node = queue.popleft()
            for neighbour in adjacency[node]:
                if neighbour not in label:
                    label[neighbour] = component
                    queue.append(neighbour)
    return label


def _attempt_cycle(link: _Entry, profile_a: _Entry | None, profile_b: _Entry | None) -> float | None:
    """A link's attempt cycle ``max(2·d_a, 2·d_b, slower end's 1/attempt_rate)`` from its entries
    (as :meth:`Scenario.link_hardware` computes it), or None when a value it needs is invalid."""
    rates = [p.get("attempt_rate") for p in (profile_a, profile_b) if p is not None]
    length, position = link.get("length"), link.get("station_position")
    if len(rates) != 2 or None in rates or length is None or position is None:
        return None
    period = max(1.0 / rates[0], 1.0 / rates[1])
    per_km = link.get("classical_delay_per_km")
    arms = (length * position, length * (1.0 - position))
    if per_km is not None:
        delays = [per_km * arm / 1e3 for arm in arms]
    else:
        index = link.get("refractive_index")
        if index is None:
            return None
        delays = [Fibre(arm, 0.0, index).delay for arm in arms]
    return max(2.0 * delays[0], 2.0 * delays[1], period)


def _check_network(
    simulation: _Entry | None,
    profiles: Sequence[_Entry | None],
    nodes: Sequence[_Entry | None] | None,
    links: Sequence[_Entry | None] | None,
    requests: Sequence[_Entry | None] | None,
    errors: list[str],
    application: ApplicationSpec | None = None,
) -> None:
    """References between tables: names exist and are unique, the requests can be served.

    An array given as something else than an array (already reported) is passed as None.
    """
    profile_by_name: dict[str, _Entry] = {}
    for p in profiles:
        if p is None or p.get("name") is None:
            continue
        if p.get("name") in profile_by_name:
            errors.append(f"{p.path}: duplicate hardware profile name, got {p.shown('name')}")
        else:
            profile_by_name[p.get("name")] = p

    if nodes is not None and not nodes:
        errors.append("nodes: at least one [[nodes]] entry is required")
    node_by_name: dict[str, _Entry] = {}
    for n in nodes or ():
        if n is None:
            continue
        name = n.get("name")
        if name in node_by_name:
            errors.append(f"{n.at('name')}: duplicate of {node_by_name[name].at('name')}, got {n.shown('name')}")
        elif name is not None:
            node_by_name[name] = n
        hardware = n.get("hardware")
        if hardware is not None and hardware not in profile_by_name:
            defined = ", ".join(profile_by_name) or "none"
            hint = _did_you_mean(hardware, list(profile_by_name))
            note = ' (a node without "hardware" uses the profile named "default")' if hardware == "default" else ""
            errors.append(
                f"{n.at('hardware')}: must name a defined [hardware.<name>] profile{note}, got {n.shown('hardware')}"
                + (f"; {hint}" if hint else "")
                + f" (defined: {defined})"
            )

    def profile_of(node: str) -> _Entry | None:
        entry = node_by_name.get(node)
        return None if entry is None else profile_by_name.get(entry.get("hardware"))

    names = list(node_by_name)
    adjacency: dict[str, set[str]] = {name: set() for name in names}
    seen: dict[frozenset[str], _Entry] = {}
    reserved: dict[str, tuple[int, str]] = {}  # memory_positions path -> (positions it reserves, value)
    fastest: tuple[float, str] | None = None  # the shortest attempt cycle and its link
    for link in links or ():
        if link is None:
            continue
        ends_known = True
        for end in ("a", "b"):
            node = link.get(end)
            if node is None:
                ends_known = False
            elif node not in node_by_name:
                ends_known = False
                hint = _did_you_mean(node, names)
                errors.append(
                    f"{link.at(end)}: must name a node defined in [[nodes]], got {link.shown(end)}"
                    + (f"; {hint}" if hint else "")
                )
        a, b = link.get("a"), link.get("b")
        if not ends_known or a == b:
            continue
        pair = frozenset((a, b))
        if pair in seen:
            errors.append(f"{link.path}: duplicate of {seen[pair].path} (both join {_show(a)} and {_show(b)})")
            continue
        seen[pair] = link
        adjacency[a].add(b)
        adjacency[b].add(a)
        profile_a, profile_b = profile_of(a), profile_of(b)
        if link.get("memory_positions") is not None:
            reserved[link.at("memory_positions")] = (2 * link.get("memory_positions"), link.shown("memory_positions"))
        else:
            for profile in (profile_a, profile_b):
                if profile is not None and profile.get("memory_positions") is not None:
                    path = profile.at("memory_positions")
                    count = reserved.get(path, (0, ""))[0] + profile.get("memory_positions")
                    reserved[path] = (count, profile.shown("memory_positions"))
        if profile_a is None or profile_b is None:
            continue
        cycle = _attempt_cycle(link, profile_a, profile_b)
        if cycle is not None and cycle > 0.0 and (fastest is None or cycle < fastest[0]):
            fastest = (cycle, f"{a}-{b}")
        for key in ("detector_efficiency", "dark_count_probability"):
            value_a, value_b = profile_a.get(key), profile_b.get(key)
            if link.get(key) is None and key not in link.bad and None not in (value_a, value_b) and value_a != value_b:
                errors.append(
                    f"{link.at(key)}: required here because the station's detectors are not defined: "
                    f"{_show(a)} uses {profile_a.path}.{key} = {value_a:g} but {_show(b)} uses "
                    f"{profile_b.path}.{key} = {value_b:g}"
                )

    total = sum(count for count, _ in reserved.values())
    if total > MAX_TOTAL_MEMORY_POSITIONS:
        path = max(reserved, key=lambda k: reserved[k][0])
        count, shown = reserved[path]
        errors.append(
            f"{path}: must keep the link ends' memory positions within {MAX_TOTAL_MEMORY_POSITIONS} in all "
            f"(MAX_TOTAL_MEMORY_POSITIONS: what one simulation holds; they reserve {total}, {count} of them "
            f"by this value), got {shown}"
        )
    if requests is not None and not requests and application is None:
        errors.append("requests: at least one [[requests]] entry (or an [application]) is required")
    if application is not None and nodes is not None:
        known = {n.get("name") for n in nodes if n is not None}
        for role, node in application.roles.items():
            if node not in known:
                errors.append(f"application.roles.{role}: must name a node, got {_show(node)}; nodes are "
                              + ", ".join(sorted(_show(k) for k in known if k)))
    component = _components(adjacency)
    if application is not None:
        roles = [(role, node) for role, node in application.roles.items() if node in component]
        for role, node in roles[1:]:
            first_role, first = roles[0]
            if component[node] != component[first]:
                errors.append(
                    f"application.roles.{role}: must be reachable through [[links]] from {_show(first)} "
                    f"(application.roles.{first_role}), got {_show(node)} (no path: the nodes are not connected)"
                )
    duration = None if simulation is None else simulation.get("duration")
    horizon = None if fastest is None else MAX_SIMULATED_CYCLES * fastest[0]

    def beyond() -> str:
        assert fastest is not None and horizon is not None
        return (f"must be <= {_si(horizon, 's')} ({MAX_SIMULATED_CYCLES:g} attempt cycles of link "
                f"{fastest[1]}, {_si(fastest[0], 's')} each: MAX_SIMULATED_CYCLES; beyond it the simulation "
                "clock, a double, no longer resolves a cycle)")

    if horizon is not None and duration is not None and duration > horizon:
        errors.append(f"simulation.duration: {beyond()}, got {simulation.shown('duration')}")
    for r in requests or ():
        if r is None:
            continue
        for end in ("source", "destination"):
            node = r.get(end)
            if node is None:
                continue
            if node not in node_by_name:
                hint = _did_you_mean(node, names)
                errors.append(
                    f"{r.at(end)}: must name a node defined in [[nodes]], got {r.shown(end)}"
                    + (f"; {hint}" if hint else "")
                )
            elif node_by_name[node].get("role") == "repeater":
                errors.append(
                    f'{r.at(end)}: must name a node with role = "end" (request endpoints are end nodes), '
                    f'got {r.shown(end)} (role "repeater", {node_by_name[node].path})'
                )
        source, destination = r.get("source"), r.get("destination")
        if source in component and destination in component and component[source] != component[destination]:
            errors.append(
                f"{r.at('destination')}: must be reachable from source {_show(source)} through [[links]], "
                f"got {r.shown('destination')} (no path: the nodes are not connected)"
            )
        start = r.get("start")
        if duration is not None and start is not None and start >= duration:
            errors.append(
                f"{r.at('start')}: must be < simulation.duration = {_si(duration, 's')}, got {r.shown('start')}"
            )
        elif horizon is not None and start is not None and start > horizon:
            errors.append(f"{r.at('start')}: {beyond()}, got {r.shown('start')}")
        elif horizon is not None and start is not None and r.get("deadline") is not None \
                and start + r.get("deadline") > horizon:
            shown_start = r.shown("start")
            errors.append(f"{r.at('deadline')}: start + deadline {beyond()} (start = {shown_start}), "
                          f"got {r.shown('deadline')}")

    if simulation is not None and simulation.get("duration") is None and "duration" not in simulation.bad:
        unbounded = [
            r.path for r in requests or () if r is not None and r.get("pairs") is None and "pairs" not in r.bad
        ]
        if unbounded:
            errors.append(
                "simulation.duration: required unless every request sets pairs "
                f"({', '.join(unbounded)} {'has' if len(unbounded) == 1 else 'have'} none): "
                'give a simulated time limit like "0.2 s" or a number of pairs per request'
            )


# --------------------------------------------------------------------------------------------
# The scenario


def _entry_of(spec: _Spec, path: str) -> _Entry:
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}  # type: ignore[arg-type]
    return _Entry(path, values, dict(values))


@dataclass(frozen=True)
class Scenario:
    """A whole network and its workload: what :func:`load_scenario` returns.

    ``hardware`` holds the named profiles in file order, ``nodes``, ``links`` and ``requests``
    the array entries in file order. Building one checks the references between them (node
    names unique, links between defined distinct nodes and not repeated, hardware profiles
    defined, request endpoints are connected ``"end"`` nodes); the routing policy name is
    checked against the registry by :func:`load_scenario` only.

    >>> s = load_scenario(linear_chain(3))
    >>> [n.name for n in s.nodes], [n.role for n in s.nodes]
    (['n0', 'n1', 'n2'], ['end', 'repeater', 'end'])
    >>> load_scenario(s.to_dict()) == s
    True
    """

    simulation: SimulationSpec
    hardware: tuple[HardwareSpec, ...]
    nodes: tuple[NodeSpec, ...]
    links: tuple[LinkSpec, ...]
    requests: tuple[RequestSpec, ...]
    policies: PolicySpec = field(default_factory=PolicySpec)
    application: ApplicationSpec | None = None
    security: SecuritySpec = field(default_factory=SecuritySpec)

    def __post_init__(self) -> None:
        errors: list[str] = []
        if not isinstance(self.simulation, SimulationSpec):
            errors.append(f"simulation: must be a SimulationSpec, got {_show(self.simulation)}")
        if not isinstance(self.policies, PolicySpec):
            errors.append(f"policies: must be a PolicySpec, got {_show(self.policies)}")
        if not isinstance(self.security, SecuritySpec):
            errors.append(f"security: must be a SecuritySpec, got {_show(self.security)}")
        arrays = {"hardware": HardwareSpec, "nodes": NodeSpec, "links": LinkSpec, "requests": RequestSpec}
        for name, cls in arrays.items():
            items = getattr(self, name)
            if isinstance(items, (str, Mapping)) or not isinstance(items, Sequence):
                errors.append(f"{name}: must be a sequence of {cls.__name__}, got {_show(items)}")
                continue
            object.__setattr__(self, name, tuple(items))
            for i, item in enumerate(items):
                if not isinstance(item, cls):
                    errors.append(f"{name}[{i}]: must be a {cls.__name__}, got {_show(item)}")
        if errors:
            raise ScenarioError(errors)
        _check_network(
            _entry_of(self.simulation, "simulation"),
            [_entry_of(h, _key_path("hardware", h.name)) for h in self.hardware],
            [_entry_of(n, f"nodes[{i}]") for i, n in enumerate(self.nodes)],
            [_entry_of(link, f"links[{i}]") for i, link in enumerate(self.links)],
            [_entry_of(r, f"requests[{i}]") for i, r in enumerate(self.requests)],
            errors,
            application=self.application,
        )
        if errors:
            raise ScenarioError(errors)

    def to_dict(self) -> dict[str, Any]:
        """The scenario as a plain dict in SI units that :func:`load_scenario` reads back
        to an equal scenario; absent optional values are left out (TOML has no null).

        >>> d = load_scenario(linear_chain(2, "5 km")).to_dict()
        >>> d["links"][0]["length"], d["hardware"]["default"]["attempt_rate"]
        (5000.0, 2000.0)
        """
        hardware = {}
        for profile in self.hardware:
            values = profile._as_dict()
            del values["name"]
            hardware[profile.name] = values
        out = {
            "simulation": self.simulation._as_dict(),
            "hardware": hardware,
            "nodes": [n._as_dict() for n in self.nodes],
            "links": [link._as_dict() for link in self.links],
            "policies": self.policies._as_dict(),
            "requests": [r._as_dict() for r in self.requests],
        }
        if self.application is not None:
            out["application"] = {"name": self.application.name, "roles": dict(self.application.roles),
                                  "params": dict(self.application.params)}
        if self.security.keys is not None:
            out["security"] = self.security._as_dict()
        return out

    def node(self, name: str) -> NodeSpec:
        """The node called ``name`` (``KeyError`` if there is none).

        >>> load_scenario(linear_chain(3)).node("n1").role
        'repeater'
        """
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node named {name!r}")

    def link(self, a: str, b: str) -> LinkSpec:
        """The link between nodes ``a`` and ``b``, in either order (``KeyError`` if none).

        >>> load_scenario(linear_chain(3)).link("n1", "n0").length
        10000.0
        """
        for candidate in self.links:
            if {candidate.a, candidate.b} == {a, b}:
                return candidate
        raise KeyError(f"no link between {a!r} and {b!r}")

    def hardware_of(self, node: str) -> HardwareSpec:
        """The hardware profile of the node called ``node``.

        >>> load_scenario(linear_chain(2, t2="0.5 s")).hardware_of("n0").t2
        0.5
        """
        wanted = self.node(node).hardware
        return next(h for h in self.hardware if h.name == wanted)

    def link_memory_positions(self, link: LinkSpec) -> tuple[int, int]:
        """Memory positions reserved for ``link`` at its ``a`` and ``b`` ends: the link's
        ``memory_positions`` if set, else each end's hardware profile.

        >>> s = load_scenario(linear_chain(2, memory_positions=4))
        >>> s.link_memory_positions(s.links[0])
        (4, 4)
        """
        if link.memory_positions is not None:
            return link.memory_positions, link.memory_positions
        return self.hardware_of(link.a).memory_positions, self.hardware_of(link.b).memory_positions

    def link_hardware(self, link: LinkSpec) -> tuple[LinkHardware, float, float]:
        """What ``link``'s generation scheme sees of it, and the one-way delays from its station to
        each end: ``(LinkHardware, delay_a, delay_b)``. Each arm's efficiency is emission × fibre ×
        detector; an attempt lasts the longer of the arms' round trips and the slower end's
        ``1/attempt_rate``; the raw-fidelity depolarisation is the worse end's. The network builds
        its links from this and ``qstack stages`` judges them by it, so the two always agree.

        >>> hw, da, db = load_scenario(linear_chain(2, link_length=10e3)).link_hardware(
        ...     load_scenario(linear_chain(2, link_length=10e3)).links[0])
        >>> round(hw.eta_a, 4), round(da * 1e6, 2)   # 0.75 · 10^-0.1 · 0.8; 5 km / (c/1.44)
        (0.4766, 24.02)
        """
        ha, hb = self.hardware_of(link.a), self.hardware_of(link.b)
        fa = Fibre(link.length * link.station_position, link.attenuation, link.refractive_index)
        fb = Fibre(link.length * (1 - link.station_position), link.attenuation, link.refractive_index)
        per_km = link.classical_delay_per_km
        da = fa.delay if per_km is None else per_km * fa.length / 1e3
        db = fb.delay if per_km is None else per_km * fb.length / 1e3
        efficiency, dark = self.station_detector(link)
        period = max(1.0 / ha.attempt_rate, 1.0 / hb.attempt_rate)
        raw_f = min(ha.raw_fidelity, hb.raw_fidelity)
        eta_a = ha.emission_efficiency * fa.transmissivity * efficiency
        eta_b = hb.emission_efficiency * fb.transmissivity * efficiency
        raw_w = (4.0 * raw_f - 1.0) / 3.0
        if link.noise == "spdc":  # the source's multi-pair emissions (qstack.physical.sources)
            from qstack.physical.sources import spdc_visibility

            raw_w *= spdc_visibility(link.mean_pair_number, eta_a, eta_b)  # type: ignore[arg-type]
        hardware = LinkHardware(
            eta_a=eta_a,
            eta_b=eta_b,
            p_dark=dark, phase_std=link.phase_std,
            cycle_time=max(2 * da, 2 * db, period),
            round_period=period + 2 * max(da, db) if link.rounds == "sequential" else 0.0,
            alpha=link.alpha, raw_w=raw_w, pauli=link.pauli_weights,
        )
        return hardware, da, db

    def station_detector(self, link: LinkSpec) -> tuple[float, float]:
        """``(detector_efficiency, dark_count_probability)`` of ``link``'s heralding station:
        the link's values if set, else those its end nodes' profiles agree on.

        >>> s = load_scenario(linear_chain(2))
        >>> s.station_detector(s.links[0])
        (0.8, 0.0)
        """
        hardware = self.hardware_of(link.a)
        efficiency = hardware.detector_efficiency if link.detector_efficiency is None else link.detector_efficiency
        dark = hardware.dark_count_probability if link.dark_count_probability is None else link.dark_count_probability
        return efficiency, dark

    def link_graph(self) -> dict[str, dict[str, LinkSpec]]:
        """Adjacency of the network: node name → {neighbour name → the link joining them}.

        Every node is a key (an isolated node maps to ``{}``); order follows the file.

        >>> g = load_scenario(linear_chain(3)).link_graph()
        >>> {node: list(neighbours) for node, neighbours in g.items()}
        {'n0': ['n1'], 'n1': ['n0', 'n2'], 'n2': ['n1']}
        >>> g["n0"]["n1"].length
        10000.0
        """
        graph: dict[str, dict[str, LinkSpec]] = {n.name: {} for n in self.nodes}
        for link in self.links:
            graph[link.a][link.b] = link
            graph[link.b][link.a] = link
        return graph


# --------------------------------------------------------------------------------------------
# Loading


def _scenario_from_mapping(data: Mapping[Any, Any], registry: Sequence[str], source: str | None) -> Scenario:
    errors: list[str] = []
    for key in data:
        if key not in _TOP_LEVEL:
            errors.append(_unknown_key("", key, _TOP_LEVEL))

    simulation = None
    if data.get("simulation") is None:
        errors.append('simulation: required, must be a table [simulation] with at least "seed"')
    else:
        simulation = _read_entry(SimulationSpec, data["simulation"], "simulation", errors)

    profiles: list[_Entry | None] = []
    hardware = data.get("hardware", {})
    if not isinstance(hardware, Mapping):
        errors.append(f"hardware: must be a table of named profiles like [hardware.default], got {_show(hardware)}")
    else:
        for key, table in hardware.items():
            path = _key_path("hardware", key)
            if not isinstance(table, Mapping):
                errors.append(f"{path}: must be a table of hardware parameters, got {_show(table)}")
                continue
            if "name" in table:
                errors.append(f"{path}.name: unknown key (a profile is named by its table, [{path}])")
            profiles.append(_read_entry(HardwareSpec, {**table, "name": key}, path, errors))

    nodes = _read_array(NodeSpec, data.get("nodes"), "nodes", errors)
    links = _read_array(LinkSpec, data.get("links"), "links", errors)

    policies = None
    purification = None
    policies_raw = data.get("policies", {})
    if not isinstance(policies_raw, Mapping):
        errors.append(f"policies: must be a table [policies], got {_show(policies_raw)}")
    else:
        policies_raw = dict(policies_raw)
        purification_raw = policies_raw.pop("purification", None)
        if purification_raw is not None:
            purification = _read_entry(PurificationSpec, purification_raw, "policies.purification", errors)
        policies = _read_entry(PolicySpec, policies_raw, "policies", errors)
        routing = policies.get("routing") if policies is not None else None
        from qstack.network.policies import ROUTING

        if isinstance(routing, str) and routing not in registry and routing not in ROUTING and ":" not in routing:
            known = sorted({*registry, *ROUTING.names()})
            hint = _did_you_mean(routing, known)
            errors.append(
                f"policies.routing: must be one of {', '.join(_show(r) for r in known)} (registered routing "
                f"policies), got {policies.shown('routing')}" + (f"; {hint}" if hint else "")
            )

    application = _read_application(data.get("application"), errors)
    requests_raw = data.get("requests")
    if requests_raw is None and application is not None:
        requests_raw = []  # an application scenario needs no [[requests]]
    requests = _read_array(RequestSpec, requests_raw, "requests", errors)
    _check_network(simulation, profiles, nodes, links, requests, errors, application=application)
    security = _read_security(data.get("security"), source, nodes, links, errors)
    if errors:
        raise ScenarioError(sorted(errors, key=_file_order), source=source)

    assert simulation is not None and policies is not None  # no errors: every table was read
    policy_values = dict(policies.values)
    if purification is not None:
        policy_values["purification"] = PurificationSpec(**purification.values)
    return Scenario(
        simulation=SimulationSpec(**simulation.values),
        hardware=tuple(HardwareSpec(**p.values) for p in profiles if p is not None),
        nodes=tuple(NodeSpec(**n.values) for n in nodes or () if n is not None),
        links=tuple(LinkSpec(**link.values) for link in links or () if link is not None),
        requests=tuple(RequestSpec(**r.values) for r in requests or () if r is not None),
        policies=PolicySpec(**policy_values),
        application=application,
        security=security or SecuritySpec(),
    )


def _read_security(raw: Any, source: str | None, nodes: Sequence[_Entry | None] | None,
                   links: Sequence[_Entry | None] | None, errors: list[str]) -> SecuritySpec | None:
    """The ``[security]`` table, its key file read and checked to hold a key for every pair of
    nodes that may exchange classical messages (the path made absolute, relative to the file)."""
    if raw is None:
        return None
    entry = _read_entry(SecuritySpec, raw, "security", errors)
    if entry is None or entry.values.get("keys") is None:
        return SecuritySpec(**entry.values) if entry is not None else None
    path = Path(entry.values["keys"])
    if not path.is_absolute():
        path = (Path(source).parent if source else Path.cwd()) / path
    from qstack.runtime.auth import PairKeys
    from qstack.runtime.sim import authenticated_pairs

    try:
        keys = PairKeys.from_file(path)
    except (ValueError, TypeError) as exc:
        errors.append(f"security.keys: {exc}")
        return None
    if nodes is not None and links is not None and not errors:
        names = [n.values["name"] for n in nodes if n is not None]
        ends = [(link.values["a"], link.values["b"]) for link in links if link is not None]
        missing = [f"{a}|{b}" for a, b in authenticated_pairs(names, ends) if (a, b) not in keys]
        if missing:
            shown = ", ".join(repr(m) for m in missing[:6])
            if len(missing) > 6:
                shown += f" and {len(missing) - 6} more"
            errors.append(f"security.keys: key file {str(path)!r} has no key for {len(missing)} pair(s) of nodes "
                          f"that exchange classical messages: {shown}")
    return SecuritySpec(keys=str(path))


@dataclass(frozen=True)
class ApplicationSpec:
    """An ``[application]`` table: run an application instead of (or besides) requests.

    ``name`` is a registered application (``qstack.apps.APPLICATIONS``), ``roles`` maps each
    role to a node, ``params`` are the application's keyword arguments.

    >>> ApplicationSpec("teleportation", {"sender": "n0", "receiver": "n2"}).roles["sender"]
    'n0'
    """

    name: str
    roles: Mapping[str, str]
    params: Mapping[str, Any] = field(default_factory=dict)


def _read_application(raw: Any, errors: list[str]) -> ApplicationSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        errors.append(f"application: must be a table [application], got {_show(raw)}")
        return None
    for key in raw:
        if key not in ("name", "roles", "params"):
            errors.append(_unknown_key("application", key, ("name", "roles", "params")))
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"application.name: required, must name a registered application, got {_show(name)}")
    roles = raw.get("roles")
    if not isinstance(roles, Mapping) or not roles or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in roles.items()
    ):
        errors.append(f'application.roles: required, a table mapping roles to nodes like {{sender = "n0"}}, '
                      f"got {_show(roles)}")
        roles = None
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        errors.append(f"application.params: must be a table of the application's parameters, got {_show(params)}")
        params = None
    if not isinstance(name, str) or not name or roles is None or params is None:
        return None
    return ApplicationSpec(name, dict(roles), dict(params))


_SECTION = re.compile(r"([A-Za-z_]+)(?:\[(\d+)\])?")


def _file_order(error: str) -> tuple[int, int]:
    """Sort key putting errors in the order of the file's sections and array entries."""
    match = _SECTION.match(error)
    if match is None or match[1] not in _TOP_LEVEL:
        return -1, 0
    return _TOP_LEVEL.index(match[1]), int(match[2] or 0)


def _toml_error(exc: tomllib.TOMLDecodeError, text: str, source: str) -> ScenarioError:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if match is None:
        return ScenarioError(f"invalid TOML: {message}", source=source)
    line, column = int(match[1]), int(match[2])
    lines = text.splitlines()
    snippet = ""
    if 1 <= line <= len(lines):
        snippet = f"\n    {lines[line - 1]}\n    {' ' * (column - 1)}^"
    reason = message[: match.start()]
    return ScenarioError(
        f"line {line}, column {column}: invalid TOML: {reason}{snippet}", source=source, line=line, column=column
    )


def load_scenario(
    source: str | os.PathLike[str] | Mapping[str, Any], *, routing_policies: Sequence[str] | None = None
) -> Scenario:
    """Read and validate a scenario from a ``.toml`` file path, or from a dict of the same shape.

    TOML text itself is not accepted (parse it with :func:`tomllib.loads` and pass the dict).
    ``routing_policies`` are the routing names allowed (default: :data:`ROUTING_POLICIES`).
    Raises :class:`ScenarioError` listing every problem found (``OSError`` if the file cannot
    be read).

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "link.toml"
    >>> _ = path.write_text('''
    ... [simulation]
    ... seed = 7
    ... [hardware.default]
    ... memory_positions = 2
    ... attempt_rate = "1 kHz"
    ... [[nodes]]
    ... name = "alice"
    ... role = "end"
    ... [[nodes]]
    ... name = "bob"
    ... role = "end"
    ... [[links]]
    ... a = "alice"
    ... b = "bob"
    ... length = "-3 km"
    ... [[requests]]
    ... source = "alice"
    ... destination = "bob"
    ... pairs = 10
    ... ''')
    >>> load_scenario(path)
    Traceback (most recent call last):
    ...
    qstack.scenario.ScenarioError: ...link.toml: 1 error
    links[0].length: must be a length >= 0 m like "10 km", got "-3 km"
    >>> _ = path.write_text(path.read_text().replace("-3 km", "3 km"))
    >>> load_scenario(path).links[0].length
    3000.0
    """
    registry = tuple(ROUTING_POLICIES if routing_policies is None else routing_policies)
    if isinstance(source, Mapping):
        return _validated(source, registry, None)
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"load_scenario takes a path to a .toml file or a dict, got {type(source).__name__}")
    path = Path(source)
    if isinstance(source, str) and ("\n" in source or "=" in source):
        try:
            exists = path.exists()
        except (OSError, ValueError):
            exists = False
        if not exists:
            raise ScenarioError(
                "load_scenario takes a path to a .toml file or a dict, not TOML text: "
                "write the text to a file, or pass tomllib.loads(text)"
            )
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text (byte {exc.start}): TOML files are UTF-8", source=str(path)) from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, text, str(path)) from None
    except RecursionError:  # the parser recurses once per nested array or inline table
        depth = _nesting_depth(text)
        raise ScenarioError(f"invalid TOML: arrays and inline tables nested {depth} deep, deeper than the TOML "
                            f"parser can read; a scenario nests at most {MAX_NESTING} deep",
                            source=str(path)) from None
    return _validated(parsed, registry, str(path))


MAX_NESTING: Final[int] = 32
"""Deepest nesting of tables and arrays a scenario may have (the schema itself needs 4:
``[application.params]`` holding a table of arrays); deeper files are refused by name."""


def _nesting_depth(text: str) -> int:
    """Deepest nesting of ``[``/``{`` in TOML text (an estimate: brackets inside strings count)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _too_deep(data: Mapping[Any, Any]) -> str | None:
    """The path of a value nested deeper than :data:`MAX_NESTING`, or None."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, Mapping):
            children = [(v, _key_path(path, k)) for k, v in item.items()]
        elif isinstance(item, (list, tuple)):
            children = [(v, f"{path}[{i}]") for i, v in enumerate(item)]
        else:
            continue
        if depth + 1 > MAX_NESTING:
            return path
        stack.extend((child, child_path, depth + 1) for child, child_path in children)
    return None


def _validated(data: Mapping[Any, Any], registry: Sequence[str], source: str | None) -> Scenario:
    """:func:`_scenario_from_mapping` after refusing values nested deeper than the schema allows
    (validation, like the TOML parser, recurses into nested values)."""
    deep = _too_deep(data)
    if deep is not None:
        raise ScenarioError(f"{deep}: must nest tables and arrays at most {MAX_NESTING} deep, got a value nested "
                            "deeper", source=source)
    return _scenario_from_mapping(data, registry, source)


def linear_chain(
    n_nodes: int,
    link_length: float | str = "10 km",
    *,
    seed: int = 1,
    duration: float | str | None = "0.2 s",
    pairs: int | None = None,
    min_fidelity: float = 0.0,
    swapping: str = "asap",
    cutoff: float | str | None = None,
    name: str | None = None,
    link: Mapping[str, Any] | None = None,
    **hardware: Any,
) -> dict[str, Any]:
    """A scenario dict for a chain ``n0 — n1 — … — n{N-1}`` of ``n_nodes`` >= 2 nodes.

    The ends have role ``"end"``, the middle nodes ``"repeater"``; every link has
    ``link_length`` with its station in the middle, plus the :class:`LinkSpec` keys in ``link``
    (e.g. ``{"scheme": "single_click"}``); one request asks for ``pairs`` (or as many as
    possible in ``duration``) of at least ``min_fidelity`` from ``n0`` to the last node. All
    nodes use one ``"default"`` profile: :data:`STARLIGHT_HARDWARE` updated with ``hardware``
    (any :class:`HardwareSpec` field).
    The dict is checked with :func:`load_scenario` before it is returned.

    >>> d = linear_chain(4, "25 km", pairs=10, duration=None, t2="0.1 s")
    >>> [link["a"] + "-" + link["b"] for link in d["links"]]
    ['n0-n1', 'n1-n2', 'n2-n3']
    >>> load_scenario(d).hardware_of("n3").t2
    0.1
    """
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, Integral) or n_nodes < 2:
        raise ValueError(f"n_nodes must be an integer >= 2, got {n_nodes!r}")
    simulation: dict[str, Any] = {"seed": seed}
    if duration is not None:
        simulation["duration"] = duration
    if name is not None:
        simulation["name"] = name
    names = [f"n{i}" for i in range(n_nodes)]
    request: dict[str, Any] = {"source": names[0], "destination": names[-1], "min_fidelity": min_fidelity}
    if pairs is not None:
        request["pairs"] = pairs
    policies: dict[str, Any] = {"routing": "shortest_path", "swapping": swapping}
    if cutoff is not None:
        policies["cutoff"] = cutoff
    scenario = {
        "simulation": simulation,
        "hardware": {"default": {**STARLIGHT_HARDWARE, **hardware}},
        "nodes": [
            {"name": node, "role": "end" if i in (0, n_nodes - 1) else "repeater"} for i, node in enumerate(names)
        ],
        "links": [
            {"a": a, "b": b, "length": link_length, "station_position": 0.5, **(link or {})}
            for a, b in zip(names, names[1:], strict=False)
        ],
        "policies": policies,
        "requests": [request],
    }
    load_scenario(scenario)
    return scenario
