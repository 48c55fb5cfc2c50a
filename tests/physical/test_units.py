"""Tests for qstack.physical.units: SI parsing of scenario quantities and range validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.physical.units import (
    EARTH_RADIUS,
    GM_EARTH,
    SPEED_OF_LIGHT,
    UNIT_KINDS,
    check_range,
    check_range_array,
    parse_quantity,
)


def test_constants_have_their_defined_values() -> None:
    """c is exact by the SI definition of the metre; R_E and GM are the agreed values."""
    assert SPEED_OF_LIGHT == 299_792_458.0
    assert EARTH_RADIUS == 6_371_000.0
    assert GM_EARTH == 3.986004418e14


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("25 km", "length", 25_000.0),
        ("850 nm", "length", 850e-9),
        ("1.5 m", "length", 1.5),
        ("30 cm", "length", 0.3),
        ("10 ms", "time", 0.01),
        ("1.3 s", "time", 1.3),
        ("500 us", "time", 500e-6),
        ("500 \u00b5s", "time", 500e-6),  # MICRO SIGN
        ("500 \u03bcs", "time", 500e-6),  # GREEK SMALL LETTER MU
        ("2 min", "time", 120.0),
        ("2 kHz", "frequency", 2000.0),
        ("100 MHz", "frequency", 1e8),
        ("0.2 dB/km", "attenuation", 0.2),
        ("0.0002 dB/m", "attenuation", 0.2),
        ("3 dB", "loss", 3.0),
        ("90 deg", "angle", math.pi / 2),
        ("10 urad", "angle", 1e-5),
        ("1e3 m", "length", 1000.0),
        ("-4.5e-1 s", "time", -0.45),
        ("  7km  ", "length", 7000.0),
        ("42", "length", 42.0),
    ],
)
def test_strings_with_units_become_si_floats(text: str, kind: str, expected: float) -> None:
    """Each unit scales its number to SI (dB/km for attenuation); no unit means SI already."""
    assert parse_quantity(text, kind) == pytest.approx(expected, rel=1e-12)


def test_numbers_are_taken_as_si() -> None:
    """A plain number is already SI and comes back as a float."""
    assert parse_quantity(25_000, "length") == 25_000.0
    assert isinstance(parse_quantity(3, "time"), float)


@pytest.mark.parametrize(
    ("text", "kind", "actual_kind"),
    [("10 ms", "length", "time"), ("25 km", "time", "length"), ("2 kHz", "time", "frequency")],
)
def test_a_unit_of_the_wrong_dimension_is_refused(text: str, kind: str, actual_kind: str) -> None:
    """'10 ms' given for a length says it is a time, not a length."""
    with pytest.raises(ValueError, match=f"is a {actual_kind}, not a {kind}"):
        parse_quantity(text, kind)


@pytest.mark.parametrize("text", ["km 25", "", "   ", "abc", "25 furlongs", "1.2.3 m", "nan km", "inf s"])
def test_malformed_strings_are_refused(text: str) -> None:
    """Strings that are not '<number> <known unit>' raise ValueError quoting the input."""
    with pytest.raises(ValueError, match="could not parse"):
        parse_quantity(text, "length")


def test_units_are_case_sensitive() -> None:
    """'MS' is not milliseconds; 'Km' is not kilometres."""
    with pytest.raises(ValueError):
        parse_quantity("10 MS", "time")
    with pytest.raises(ValueError):
        parse_quantity("1 Km", "length")


def test_unknown_unit_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unit_kind must be one of"):
        parse_quantity("1 m", "mass")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        parse_quantity(value, "length")


@pytest.mark.parametrize("value", [None, True, [1.0], b"1 m"])
def test_non_numbers_are_a_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="length must be a number or a string"):
        parse_quantity(value, "length")  # type: ignore[arg-type]


def test_every_kind_has_units() -> None:
    assert set(UNIT_KINDS) == {"length", "time", "frequency", "angle", "attenuation", "loss"}


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_kilometres_scale_by_one_thousand(x: float) -> None:
    """Property: parse('x km') = 1000 x for any finite x written with repr()."""
    assert parse_quantity(f"{x!r} km", "length") == pytest.approx(1000.0 * x, rel=1e-12, abs=1e-300)


def test_check_range_message_names_field_range_and_value() -> None:
    """The message form used by every constructor: field, allowed range, given value."""
    with pytest.raises(ValueError) as info:
        check_range("length", -3.0, low=0.0, unit="m")
    assert str(info.value) == "length must be >= 0 m, got -3.0"


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({"low": 0.0, "high": 1.0}, 1.5, "efficiency must be in [0, 1], got 1.5"),
        ({"low": 0.0, "high": 1.0, "high_inclusive": False}, 1.0, "efficiency must be in [0, 1), got 1.0"),
        ({"low": 0.0, "low_inclusive": False}, 0.0, "efficiency must be > 0, got 0.0"),
        ({"high": 2.0, "high_inclusive": False}, 2.0, "efficiency must be < 2, got 2.0"),
        ({"low": 0.0}, math.nan, "efficiency must be >= 0, got nan"),
        ({"low": 0.0}, math.inf, "efficiency must be >= 0, got inf"),
    ],
)
def test_check_range_refuses_out_of_range_and_non_finite(kwargs: dict, value: float, message: str) -> None:
    with pytest.raises(ValueError) as info:
        check_range("efficiency", value, **kwargs)
    assert str(info.value) == message


def test_check_range_accepts_bounds_and_returns_float() -> None:
    assert check_range("x", 0, low=0.0, high=1.0) == 0.0
    assert check_range("x", 1, low=0.0, high=1.0) == 1.0
    assert isinstance(check_range("x", 1, low=0.0), float)


@pytest.mark.parametrize("value", ["1", None, True, [0.5]])
def test_check_range_refuses_non_numbers_with_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="x must be a real number"):
        check_range("x", value, low=0.0)


def test_check_range_array_validates_every_element_and_reports_scalars() -> None:
    """Scalars come back flagged as scalars so callers can return a float for a float."""
    values, scalar = check_range_array("d", np.array([0.0, 1.0, 2.0]), low=0.0, unit="m")
    assert values.tolist() == [0.0, 1.0, 2.0] and not scalar
    values, scalar = check_range_array("d", 3, low=0.0, unit="m")
    assert values.ndim == 0 and scalar
    with pytest.raises(ValueError, match=r"^d must be in \[0, 1\), got 1\.0$"):
        check_range_array("d", [0.5, 1.0], low=0.0, high=1.0, high_inclusive=False)
    with pytest.raises(ValueError, match=r"^d must be >= 0 m, got nan$"):
        check_range_array("d", [0.5, float("nan")], low=0.0, unit="m")


@pytest.mark.parametrize("value", ["1 m", None, True, ["a"]])
def test_check_range_array_refuses_non_numbers_with_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="^d must be a real number or an array"):
        check_range_array("d", value, low=0.0)  # type: ignore[arg-type]
