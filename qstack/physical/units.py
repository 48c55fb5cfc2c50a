"""Physical constants, unit parsing for scenario files, and parameter validation.

qstack works in SI units internally (metres, seconds, hertz, radians). Scenario files are
written for people, so they may say ``"25 km"``, ``"10 ms"`` or ``"0.2 dB/km"``;
:func:`parse_quantity` turns such strings (or plain numbers, read as SI) into SI floats and
refuses a string of the wrong dimension (``"10 ms"`` where a length is expected).

The one non-SI kind is ``"attenuation"``: fibre attenuation is quoted in dB/km throughout
the literature (and :class:`qstack.physical.fibre.Fibre` takes ``attenuation_db_per_km``),
so that kind returns dB/km.

:func:`check_range` is the validator every physical-layer constructor uses, so that all
of them report bad parameters the same way: the field, the allowed range and the given
value, e.g. ``"length must be >= 0 m, got -3.0"``; :func:`check_range_array` does the same
element-wise for functions that accept numpy arrays.

Constants follow CODATA / IERS conventions: the speed of light is exact by the SI
definition of the metre; ``EARTH_RADIUS`` is the mean radius 6371 km; ``GM_EARTH`` is the
geocentric gravitational constant 3.986004418e14 m^3/s^2 (IERS Conventions 2010).
"""

from __future__ import annotations

import math
import re
from numbers import Real
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qstack.validation import check_range

__all__ = [
    "EARTH_RADIUS",
    "GM_EARTH",
    "SPEED_OF_LIGHT",
    "UNIT_KINDS",
    "check_range",
    "check_range_array",
    "parse_quantity",
]

SPEED_OF_LIGHT: Final[float] = 299_792_458.0
"""Speed of light in vacuum, m/s (exact)."""

EARTH_RADIUS: Final[float] = 6_371_000.0
"""Mean Earth radius, m."""

GM_EARTH: Final[float] = 3.986004418e14
"""Geocentric gravitational constant GM, m^3/s^2."""

_MICRO = ("u", "\u00b5", "\u03bc")  # ASCII u, MICRO SIGN, GREEK SMALL LETTER MU


def _with_micro(base: str, factor: float) -> dict[str, float]:
    return {prefix + base: factor for prefix in _MICRO}


_UNITS: Final[dict[str, dict[str, float]]] = {
    "length": {
        "km": 1e3,
        "m": 1.0,
        "cm": 1e-2,
        "mm": 1e-3,
        **_with_micro("m", 1e-6),
        "nm": 1e-9,
        "pm": 1e-12,
    },
    "time": {
        "h": 3600.0,
        "min": 60.0,
        "s": 1.0,
        "ms": 1e-3,
        **_with_micro("s", 1e-6),
        "ns": 1e-9,
        "ps": 1e-12,
    },
    "frequency": {
        "THz": 1e12,
        "GHz": 1e9,
        "MHz": 1e6,
        "kHz": 1e3,
        "Hz": 1.0,
    },
    "angle": {
        "rad": 1.0,
        "mrad": 1e-3,
        **_with_micro("rad", 1e-6),
        "deg": math.pi / 180.0,
        "\u00b0": math.pi / 180.0,
    },
    "attenuation": {"dB/km": 1.0, "dB/m": 1e3},
    "loss": {"dB": 1.0},
}

UNIT_KINDS: Final[tuple[str, ...]] = tuple(_UNITS)
"""The unit kinds :func:`parse_quantity` understands."""

_SI_NAME: Final[dict[str, str]] = {
    "length": "m",
    "time": "s",
    "frequency": "Hz",
    "angle": "rad",
    "attenuation": "dB/km",
    "loss": "dB",
}

_QUANTITY = re.compile(r"^\s*(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(?P<unit>\S.*?)?\s*$")


def _kind_of_unit(unit: str) -> str | None:
    for kind, table in _UNITS.items():
        if unit in table:
            return kind
    return None


def parse_quantity(value: float | str, unit_kind: str) -> float:
    """Return ``value`` as an SI float of dimension ``unit_kind``.

    ``value`` is either a real number, taken to be in the SI unit of the kind already
    (metres, seconds, hertz, radians; dB/km for ``"attenuation"``, dB for ``"loss"``), or
    a string ``"<number> <unit>"`` such as ``"25 km"``, ``"500 µs"``, ``"2 kHz"``,
    ``"850 nm"``, ``"0.2 dB/km"``, ``"10 deg"``. A string without a unit is read as SI.
    Units are case-sensitive (``ms`` is milliseconds); micro may be written ``u``, ``µ``
    or ``μ``.

    Raises ``ValueError`` for an unknown kind, a malformed string, an unknown unit, a unit
    of another dimension, or a non-finite number; ``TypeError`` for anything that is
    neither a real number nor a string (``True`` included).

    >>> parse_quantity("25 km", "length")
    25000.0
    >>> parse_quantity("500 us", "time") == parse_quantity("500 µs", "time") == 5e-4
    True
    >>> parse_quantity(3, "frequency")
    3.0
    >>> parse_quantity("10 ms", "length")
    Traceback (most recent call last):
    ...
    ValueError: '10 ms' is a time, not a length (expected a unit among km, m, cm, mm, um, µm, μm, nm, pm)
    """
    if unit_kind not in _UNITS:
        raise ValueError(f"unit_kind must be one of {', '.join(UNIT_KINDS)}, got {unit_kind!r}")
    table = _UNITS[unit_kind]
    expected = ", ".join(table)
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"a {unit_kind} must be finite, got {number!r}")
        return number
    if not isinstance(value, str):
        raise TypeError(
            f"a {unit_kind} must be a number or a string like '1 {_SI_NAME[unit_kind]}', "
            f"got {type(value).__name__} {value!r}"
        )
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(
            f"could not parse {value!r} as a {unit_kind}: expected '<number> <unit>' with a unit among {expected}"
        )
    number = float(match["number"])
    unit = match["unit"]
    if unit is None:
        return number
    if unit in table:
        return number * table[unit]
    other = _kind_of_unit(unit)
    if other is not None:
        raise ValueError(f"{value!r} is a {other}, not a {unit_kind} (expected a unit among {expected})")
    raise ValueError(f"could not parse {value!r} as a {unit_kind}: unknown unit {unit!r} (expected one of {expected})")


def check_range_array(
    name: str,
    value: ArrayLike,
    *,
    low: float = -math.inf,
    high: float = math.inf,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
    unit: str = "",
) -> tuple[NDArray[np.float64], bool]:
    """Validate a scalar or array argument element-wise, as :func:`check_range` does.

    Returns the values as a float array and whether the argument was a scalar (so that a
    function can hand a float back for a float). The message quotes the first bad element.

    >>> values, scalar = check_range_array("distance", [1.0, 2.0], low=0.0, unit="m")
    >>> values.tolist(), scalar
    ([1.0, 2.0], False)
    >>> check_range_array("distance", [1.0, -2.0], low=0.0, unit="m")
    Traceback (most recent call last):
    ...
    ValueError: distance must be >= 0 m, got -2.0
    """
    bounds = {
        "low": low,
        "high": high,
        "low_inclusive": low_inclusive,
        "high_inclusive": high_inclusive,
        "unit": unit,
    }
    if isinstance(value, Real) and not isinstance(value, bool):
        return np.asarray(check_range(name, value, **bounds), dtype=np.float64), True
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of them, got {value!r}") from None
    below = array < low if low_inclusive else array <= low
    above = array > high if high_inclusive else array >= high
    bad = ~np.isfinite(array) | below | above
    if np.any(bad):
        check_range(name, float(array[bad].flat[0]), **bounds)
    return array, array.ndim == 0
