"""Tests for qstack.physical.detectors: threshold-detector click probabilities."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qstack.physical.detectors import Detector
from qstack.physical.sources import SPDCSource, WeakCoherentSource

unit = st.floats(min_value=0.0, max_value=1.0)
dark = st.floats(min_value=0.0, max_value=0.999)
means = st.floats(min_value=0.0, max_value=50.0)


@pytest.mark.parametrize(("eta", "p_dc", "n"), [(0.5, 0.0, 1), (0.25, 0.0, 2), (0.6, 1e-5, 3), (0.9, 0.1, 0)])
def test_fock_state_click_probability(eta: float, p_dc: float, n: int) -> None:
    """|n>: silent only if all n photons are missed and no dark count: 1 - (1 - p_dc)(1 - eta)^n."""
    assert Detector(eta, p_dc).click_probability_fock(n) == pytest.approx(1 - (1 - p_dc) * (1 - eta) ** n, abs=1e-12)


@pytest.mark.parametrize(("eta", "p_dc", "mu"), [(0.5, 0.0, 2.0), (0.1, 1e-6, 0.8), (1.0, 0.0, 0.0), (0.3, 0.2, 5.0)])
def test_coherent_state_click_probability(eta: float, p_dc: float, mu: float) -> None:
    """Poissonian light thinned by eta stays Poissonian: 1 - (1 - p_dc) exp(-eta mu)."""
    expected = 1 - (1 - p_dc) * math.exp(-eta * mu)
    assert Detector(eta, p_dc).click_probability_coherent(mu) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("eta", "p_dc", "mu"), [(0.5, 0.0, 2.0), (0.1, 1e-6, 0.8), (0.3, 0.2, 5.0)])
def test_thermal_state_click_probability(eta: float, p_dc: float, mu: float) -> None:
    """Thermal light thinned by eta is thermal with mean eta mu: P(0) = 1 / (1 + eta mu)."""
    expected = 1 - (1 - p_dc) / (1 + eta * mu)
    assert Detector(eta, p_dc).click_probability_thermal(mu) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("eta", "p_dc", "mu"), [(0.5, 0.0, 0.5), (0.2, 1e-4, 3.0), (0.9, 0.05, 1.0)])
def test_general_formula_reproduces_closed_forms_from_source_distributions(eta: float, p_dc: float, mu: float) -> None:
    """sum_n p(n) (1 - eta)^n with Poisson / thermal p(n) gives the closed forms."""
    det = Detector(eta, p_dc)
    poisson = WeakCoherentSource(mu, 1.0).photon_number_distribution(200)
    thermal = SPDCSource(mu, 1.0).photon_number_distribution(400)
    assert det.click_probability(poisson) == pytest.approx(det.click_probability_coherent(mu), abs=1e-12)
    assert det.click_probability(thermal) == pytest.approx(det.click_probability_thermal(mu), abs=1e-12)
    fock = np.zeros(5)
    fock[3] = 1.0
    assert det.click_probability(fock) == pytest.approx(det.click_probability_fock(3), abs=1e-15)


def test_perfect_detector_clicks_iff_light_present() -> None:
    det = Detector(1.0)
    assert det.click_probability_fock(0) == 0.0
    assert det.click_probability_fock(1) == 1.0
    assert det.click_probability_fock(7) == 1.0


def test_blind_detector_clicks_only_on_dark_counts() -> None:
    det = Detector(0.0, dark_count_probability=0.03)
    assert det.click_probability_fock(10) == pytest.approx(0.03, abs=1e-15)
    assert det.click_probability_coherent(100.0) == pytest.approx(0.03, abs=1e-15)


@given(unit, dark, unit, means)
def test_loss_before_detector_is_lower_efficiency(eta: float, p_dc: float, t: float, mu: float) -> None:
    """Property: a channel of transmissivity t then the detector = a detector of efficiency eta t."""
    det = Detector(eta, p_dc)
    assert det.attenuated(t).click_probability_coherent(mu) == pytest.approx(
        det.click_probability_coherent(mu * t), abs=1e-12
    )
    assert det.attenuated(t).efficiency == pytest.approx(eta * t, abs=1e-15)


@given(unit, dark, means)
def test_click_probabilities_are_probabilities(eta: float, p_dc: float, mu: float) -> None:
    """Property: all click probabilities lie in [p_dc, 1]."""
    det = Detector(eta, p_dc)
    for p in (det.click_probability_coherent(mu), det.click_probability_thermal(mu), det.click_probability_fock(3)):
        assert p_dc - 1e-15 <= p <= 1.0


@given(unit, dark, means, means)
def test_more_light_clicks_more(eta: float, p_dc: float, a: float, b: float) -> None:
    """Property: click probability is non-decreasing in mean photon number."""
    low, high = sorted((a, b))
    det = Detector(eta, p_dc)
    assert det.click_probability_coherent(high) >= det.click_probability_coherent(low)
    assert det.click_probability_thermal(high) >= det.click_probability_thermal(low)


def test_thermal_light_clicks_less_than_coherent_light_of_same_mean() -> None:
    """Bunching: thermal light has more vacuum, 1/(1+x) >= e^-x."""
    det = Detector(0.5)
    assert det.click_probability_thermal(2.0) < det.click_probability_coherent(2.0)


def test_max_count_rate_from_dead_time() -> None:
    assert Detector(0.5, dead_time=100e-9).max_count_rate == pytest.approx(1e7)
    assert Detector(0.5).max_count_rate == math.inf


def test_detector_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Detector(0.5).efficiency = 0.9  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"efficiency": -0.1}, "efficiency"),
        ({"efficiency": 1.1}, "efficiency"),
        ({"efficiency": math.nan}, "efficiency"),
        ({"efficiency": 0.5, "dark_count_probability": 1.0}, "dark_count_probability"),
        ({"efficiency": 0.5, "dark_count_probability": -1e-9}, "dark_count_probability"),
        ({"efficiency": 0.5, "dead_time": -1e-9}, "dead_time"),
    ],
)
def test_bad_parameters_raise_value_error_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        Detector(**kwargs)


def test_dark_count_message_states_half_open_range() -> None:
    with pytest.raises(ValueError, match=r"^dark_count_probability must be in \[0, 1\), got 1\.0$"):
        Detector(0.5, dark_count_probability=1.0)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda d: d.click_probability_fock(-1), "photon_number"),
        (lambda d: d.click_probability_coherent(-0.1), "mean_photon_number"),
        (lambda d: d.click_probability_thermal(math.inf), "mean_photon_number"),
        (lambda d: d.click_probability([0.7, 0.7]), "photon_number_distribution"),
        (lambda d: d.click_probability([-0.1, 0.5]), "photon_number_distribution"),
        (lambda d: d.click_probability([]), "photon_number_distribution"),
        (lambda d: d.click_probability([[0.5, 0.5]]), "photon_number_distribution"),
        (lambda d: d.attenuated(1.5), "transmissivity"),
    ],
)
def test_bad_arguments_raise_value_error_naming_them(call, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be"):
        call(Detector(0.5))


@pytest.mark.parametrize("n", [1.5, True, "2"])
def test_non_integer_photon_number_is_a_type_error(n: object) -> None:
    with pytest.raises(TypeError, match="^photon_number must be an integer"):
        Detector(0.5).click_probability_fock(n)  # type: ignore[arg-type]
