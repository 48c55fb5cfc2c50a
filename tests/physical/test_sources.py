"""Tests for qstack.physical.sources: Poisson, single-photon and thermal (SPDC) statistics."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.physical.sources import SinglePhotonSource, SPDCSource, WeakCoherentSource

means = st.floats(min_value=0.0, max_value=5.0)


def moments(p: np.ndarray) -> tuple[float, float, float]:
    n = np.arange(p.size)
    total = float(p.sum())
    mean = float(np.dot(n, p))
    variance = float(np.dot(n**2, p)) - mean**2
    return total, mean, variance


@pytest.mark.parametrize("mu", [0.0, 0.1, 0.5, 0.8, 2.0, 10.0])
def test_weak_coherent_source_is_poissonian(mu: float) -> None:
    """p(n) = e^-mu mu^n / n! sums to 1 with mean and variance mu."""
    p = WeakCoherentSource(mu, 1e8).photon_number_distribution(150)
    total, mean, variance = moments(p)
    assert total == pytest.approx(1.0, abs=1e-12)
    assert mean == pytest.approx(mu, abs=1e-9)
    assert variance == pytest.approx(mu, abs=1e-9)
    for n in range(8):
        assert p[n] == pytest.approx(math.exp(-mu) * mu**n / math.factorial(n), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("mu", [0.0, 0.01, 0.1, 1.0, 5.0])
def test_spdc_source_has_thermal_pair_statistics(mu: float) -> None:
    """p(n) = mu^n / (1 + mu)^(n+1) sums to 1 with mean mu and variance mu (1 + mu)."""
    p = SPDCSource(mu, 1e8).photon_number_distribution(400)
    total, mean, variance = moments(p)
    assert total == pytest.approx(1.0, abs=1e-12)
    assert mean == pytest.approx(mu, abs=1e-9)
    assert variance == pytest.approx(mu * (1 + mu), abs=1e-9)
    for n in range(8):
        assert p[n] == pytest.approx(mu**n / (1 + mu) ** (n + 1), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
def test_single_photon_source_emits_at_most_one_photon(eta: float) -> None:
    src = SinglePhotonSource(eta, 1e6)
    p = src.photon_number_distribution(4)
    total, mean, _ = moments(p)
    assert total == pytest.approx(1.0, abs=1e-15)
    assert mean == pytest.approx(eta, abs=1e-15) == src.mean_photon_number
    assert p[2:].sum() == 0.0 and src.multi_photon_probability == 0.0


@pytest.mark.parametrize(
    "src",
    [WeakCoherentSource(0.8, 1.0), SPDCSource(0.3, 1.0), SinglePhotonSource(0.7, 1.0), WeakCoherentSource(0.0, 1.0)],
)
def test_multi_photon_probability_is_one_minus_p0_minus_p1(src) -> None:
    """The multi-photon fraction is what a photon-number-splitting attack exploits."""
    expected = 1.0 - src.photon_number_probability(0) - src.photon_number_probability(1)
    assert src.multi_photon_probability == pytest.approx(expected, abs=1e-12)


def test_distribution_and_pointwise_probabilities_agree() -> None:
    for src in (WeakCoherentSource(0.8, 1.0), SPDCSource(0.3, 1.0), SinglePhotonSource(0.7, 1.0)):
        p = src.photon_number_distribution(10)
        np.testing.assert_allclose(p, [src.photon_number_probability(n) for n in range(11)], rtol=1e-12, atol=0)


def test_pulse_period_is_inverse_repetition_rate() -> None:
    assert WeakCoherentSource(0.5, 100e6).pulse_period == pytest.approx(1e-8, rel=1e-15)
    assert SPDCSource(0.1, 2e6).pulse_period == pytest.approx(5e-7, rel=1e-15)
    assert SinglePhotonSource(0.5, 4.0).pulse_period == 0.25


def test_zero_mean_sources_are_vacuum() -> None:
    for src in (WeakCoherentSource(0.0, 1.0), SPDCSource(0.0, 1.0)):
        assert src.photon_number_distribution(3).tolist() == [1.0, 0.0, 0.0, 0.0]
        assert src.photon_number_probability(2) == 0.0


@given(means)
def test_poisson_and_thermal_distributions_normalise(mu: float) -> None:
    """Property: truncated far into the tail, every distribution sums to 1 and has mean mu."""
    for p in (
        WeakCoherentSource(mu, 1.0).photon_number_distribution(120),
        SPDCSource(mu, 1.0).photon_number_distribution(300),
    ):
        total, mean, _ = moments(p)
        assert total == pytest.approx(1.0, abs=1e-9)
        assert mean == pytest.approx(mu, abs=1e-9)


@given(means)
def test_thermal_light_has_more_vacuum_and_multi_photons_than_poisson(mu: float) -> None:
    """Property: at equal mean, thermal p(0) >= Poisson p(0) (bunching)."""
    assert SPDCSource(mu, 1.0).photon_number_probability(0) >= WeakCoherentSource(mu, 1.0).photon_number_probability(0)


def test_sources_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        WeakCoherentSource(0.5, 1.0).mean_photon_number = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda: WeakCoherentSource(-0.1, 1.0), "mean_photon_number"),
        (lambda: WeakCoherentSource(math.inf, 1.0), "mean_photon_number"),
        (lambda: WeakCoherentSource(0.5, 0.0), "repetition_rate"),
        (lambda: SinglePhotonSource(1.2, 1.0), "efficiency"),
        (lambda: SinglePhotonSource(-0.2, 1.0), "efficiency"),
        (lambda: SinglePhotonSource(0.5, -1.0), "repetition_rate"),
        (lambda: SPDCSource(-1.0, 1.0), "mean_pair_number"),
        (lambda: SPDCSource(0.1, math.nan), "repetition_rate"),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_field(factory, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        factory()


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: WeakCoherentSource(0.5, 1.0).photon_number_probability(-1), "n"),
        (lambda: SPDCSource(0.5, 1.0).photon_number_distribution(-1), "n_max"),
        (lambda: SinglePhotonSource(0.5, 1.0).photon_number_probability(-2), "n"),
    ],
)
def test_negative_photon_numbers_are_refused(call, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be an integer >= 0"):
        call()


def test_non_integer_photon_number_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="^n must be an integer"):
        WeakCoherentSource(0.5, 1.0).photon_number_probability(1.5)  # type: ignore[arg-type]
