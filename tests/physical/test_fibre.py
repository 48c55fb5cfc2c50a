"""Tests for qstack.physical.fibre: exponential fibre loss, group delay, dB conversions."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.physical.fibre import Fibre, db_to_transmissivity, transmissivity_to_db
from qstack.physical.units import SPEED_OF_LIGHT

lengths = st.floats(min_value=0.0, max_value=1e7, allow_nan=False)


def test_fifty_km_at_point_two_db_per_km_transmits_one_tenth() -> None:
    """eta = 10^(-0.2 * 50 / 10) = 10^-1 exactly: 10 dB of loss."""
    fibre = Fibre(50_000.0, attenuation_db_per_km=0.2)
    assert fibre.loss_db == pytest.approx(10.0, abs=1e-12)
    assert fibre.transmissivity == pytest.approx(0.1, abs=1e-9)


@pytest.mark.parametrize(("length_km", "alpha"), [(0.0, 0.2), (1.0, 0.2), (100.0, 0.16), (25.0, 0.35)])
def test_transmissivity_is_ten_to_minus_alpha_l_over_ten(length_km: float, alpha: float) -> None:
    fibre = Fibre(length_km * 1000.0, attenuation_db_per_km=alpha)
    assert fibre.transmissivity == pytest.approx(10 ** (-alpha * length_km / 10), rel=1e-9)


def test_delay_is_length_times_index_over_c() -> None:
    """One-way delay L n / c; with n = 1.44 a signal covers ~2.08e8 m/s."""
    fibre = Fibre(25_000.0)
    assert fibre.delay == pytest.approx(25_000.0 * 1.44 / SPEED_OF_LIGHT, rel=1e-12)
    assert fibre.speed == pytest.approx(SPEED_OF_LIGHT / 1.44, rel=1e-12)
    assert fibre.delay == pytest.approx(fibre.length / fibre.speed, rel=1e-12)


def test_vacuum_index_gives_light_speed() -> None:
    assert Fibre(SPEED_OF_LIGHT, refractive_index=1.0).delay == pytest.approx(1.0, rel=1e-15)


def test_default_parameters_are_telecom_fibre() -> None:
    fibre = Fibre(1.0)
    assert (fibre.attenuation_db_per_km, fibre.refractive_index) == (0.2, 1.44)


def test_fibre_is_frozen() -> None:
    fibre = Fibre(1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fibre.length = 2.0  # type: ignore[misc]


@pytest.mark.parametrize(("loss_db", "eta"), [(0.0, 1.0), (3.0, 10**-0.3), (10.0, 0.1), (20.0, 0.01), (math.inf, 0.0)])
def test_db_to_transmissivity_matches_definition(loss_db: float, eta: float) -> None:
    assert db_to_transmissivity(loss_db) == pytest.approx(eta, rel=1e-9, abs=0.0)
    if eta > 0:
        assert transmissivity_to_db(eta) == pytest.approx(loss_db, rel=1e-9, abs=1e-12)


def test_zero_transmissivity_is_infinite_loss() -> None:
    assert transmissivity_to_db(0.0) == math.inf


def test_conversions_accept_arrays() -> None:
    losses = np.array([0.0, 10.0, 20.0])
    etas = db_to_transmissivity(losses)
    np.testing.assert_allclose(etas, [1.0, 0.1, 0.01], rtol=1e-12)
    np.testing.assert_allclose(transmissivity_to_db(np.array([1.0, 0.1, 0.0])), [0.0, 10.0, np.inf], rtol=1e-12)


@given(st.floats(min_value=0.0, max_value=300.0))
def test_db_round_trip(loss_db: float) -> None:
    """Property: converting dB -> eta -> dB returns the loss."""
    assert transmissivity_to_db(db_to_transmissivity(loss_db)) == pytest.approx(loss_db, rel=1e-9, abs=1e-9)


@given(lengths, st.floats(min_value=0.0, max_value=5.0))
def test_transmissivity_stays_in_unit_interval(length: float, alpha: float) -> None:
    """Property: a passive fibre never transmits more than it receives."""
    assert 0.0 <= Fibre(length, alpha).transmissivity <= 1.0


@given(lengths, lengths)
def test_transmissivity_is_non_increasing_in_length(a: float, b: float) -> None:
    """Property: a longer fibre loses at least as much."""
    short, long = sorted((a, b))
    assert Fibre(long).transmissivity <= Fibre(short).transmissivity


@given(st.floats(min_value=0.0, max_value=2e5), st.floats(min_value=0.0, max_value=2e5))
def test_concatenated_fibres_multiply_transmissivities(a: float, b: float) -> None:
    """Property: losses in dB add, so eta(L1 + L2) = eta(L1) eta(L2)."""
    joined = Fibre(a + b).transmissivity
    assert joined == pytest.approx(Fibre(a).transmissivity * Fibre(b).transmissivity, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"length": -3.0}, "length"),
        ({"length": math.nan}, "length"),
        ({"length": math.inf}, "length"),
        ({"length": 1.0, "attenuation_db_per_km": -0.1}, "attenuation_db_per_km"),
        ({"length": 1.0, "refractive_index": 0.9}, "refractive_index"),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        Fibre(**kwargs)


def test_negative_length_message() -> None:
    with pytest.raises(ValueError, match=r"^length must be >= 0 m, got -3\.0$"):
        Fibre(-3.0)


def test_non_numeric_length_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="^length must be a real number"):
        Fibre("25 km")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_negative_or_nan_loss_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="loss_db must be >= 0 dB"):
        db_to_transmissivity(bad)
    with pytest.raises(ValueError, match="loss_db must be >= 0 dB"):
        db_to_transmissivity(np.array([1.0, bad]))


@pytest.mark.parametrize("bad", [-0.1, 1.1, math.nan])
def test_transmissivity_outside_unit_interval_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match=r"transmissivity must be in \[0, 1\]"):
        transmissivity_to_db(bad)
    with pytest.raises(ValueError, match=r"transmissivity must be in \[0, 1\]"):
        transmissivity_to_db(np.array([0.5, bad]))


def test_non_numeric_loss_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="loss_db"):
        db_to_transmissivity("3 dB")  # type: ignore[arg-type]
