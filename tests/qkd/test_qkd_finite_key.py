"""Tests for qstack.qkd.finite_key: Tomamichel et al. (2012) key length; decoy-state bounds and rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.qkd.entropy import binary_entropy
from qstack.qkd.finite_key import (
    decoy_single_photon_bounds,
    decoy_state_rate,
    finite_key_length,
    finite_key_statistical_deviation,
    gllp_rate,
    ideal_decoy_rate,
    model_single_photon,
    weak_coherent_statistics,
)

# Gobby–Yuan–Shields (GYS) experiment parameters as used by Ma et al., PRA 72, 012326 (2005):
# 0.21 dB/km, Bob's detection efficiency 4.5 %, dark-count yield 1.7e-6, misalignment 3.3 %,
# error-correction efficiency 1.22; signal mu = 0.48.
ALPHA_DB_KM, ETA_BOB, Y0, E_D, F_EC, MU = 0.21, 0.045, 1.7e-6, 0.033, 1.22, 0.48


def _eta(length_km: float) -> float:
    return ETA_BOB * 10 ** (-ALPHA_DB_KM * length_km / 10)


def _decoy_rate(length_km: float, nu: float, mu: float = MU) -> float:
    eta = _eta(length_km)
    q_mu, e_mu = weak_coherent_statistics(mu, eta, Y0, E_D)
    q_nu, e_nu = weak_coherent_statistics(nu, eta, Y0, E_D)
    return decoy_state_rate(mu, nu, q_mu, e_mu, q_nu, e_nu, Y0, F_EC)


# ---------------------------------------------------------------- finite key


def test_statistical_deviation_formula() -> None:
    """μ = sqrt((n+k)/(nk) · (k+1)/k · ln(2/ε_sec)), Tomamichel et al. Eq. (2)."""
    n, k, eps = 50_000, 20_000, 1e-9
    expected = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2 / eps))
    assert finite_key_statistical_deviation(n, k, eps) == pytest.approx(expected, rel=1e-15)
    assert finite_key_statistical_deviation(10 * n, 10 * k, eps) < finite_key_statistical_deviation(n, k, eps)


def test_key_length_formula_term_by_term() -> None:
    """ℓ = floor(n(1 - h(Q + μ)) - leak_EC - log2(2/(ε_sec² ε_cor)))."""
    n, k, q, leak, eps_s, eps_c = 10**6, 2 * 10**5, 0.02, 150_000, 1e-10, 1e-12
    mu = finite_key_statistical_deviation(n, k, eps_s)
    expected = math.floor(n * (1 - binary_entropy(q + mu)) - leak - math.log2(2 / (eps_s**2 * eps_c)))
    assert finite_key_length(n, k, q, leak, eps_s, eps_c) == expected
    assert math.log2(2 / (eps_s**2 * eps_c)) == pytest.approx(1 + 20 * math.log2(10) + 12 * math.log2(10))


def test_key_length_approaches_asymptotic_rate() -> None:
    """With leak = n h(Q) (f = 1) and k = n, ℓ/n → 1 - 2h(Q) as n → ∞ (Shor–Preskill), from below."""
    q = 0.03
    asymptotic = 1 - 2 * binary_entropy(q)
    fractions = [
        finite_key_length(n, n, q, n * binary_entropy(q), 1e-10, 1e-12) / n for n in (10**4, 10**6, 10**8, 10**12)
    ]
    assert all(a < b for a, b in zip(fractions, fractions[1:], strict=False))
    assert all(f < asymptotic for f in fractions)
    assert fractions[-1] == pytest.approx(asymptotic, abs=1e-4)


def test_key_length_zero_for_small_blocks() -> None:
    """Finite-size effects kill the key at small n: nothing at n = k = 1000, Q = 2 %, f = 1.1."""
    assert finite_key_length(1_000, 1_000, 0.02, 1.1 * 1_000 * binary_entropy(0.02), 1e-10, 1e-12) == 0
    assert finite_key_length(100, 10, 0.0, 0, 1e-10, 1e-12) == 0
    assert finite_key_length(10**5, 10**5, 0.02, 1.1 * 10**5 * binary_entropy(0.02), 1e-10, 1e-12) > 0


def test_key_length_falls_one_for_one_with_leak_and_with_security() -> None:
    """Each leaked bit costs one key bit; a smaller ε_sec costs key."""
    base = finite_key_length(10**6, 10**5, 0.02, 100_000, 1e-10, 1e-12)
    assert base - finite_key_length(10**6, 10**5, 0.02, 100_500, 1e-10, 1e-12) in (499, 500, 501)
    assert finite_key_length(10**6, 10**5, 0.02, 100_000, 1e-15, 1e-12) < base


def test_key_length_validation() -> None:
    """QBER outside [0, 0.5], ε outside (0, 1), negative leak: ValueError with the range."""
    with pytest.raises(ValueError, match=r"qber must be in \[0, 0.5\], got 0.6"):
        finite_key_length(1000, 100, 0.6, 0, 1e-10, 1e-12)
    with pytest.raises(ValueError, match=r"eps_sec must be in \(0, 1\)"):
        finite_key_length(1000, 100, 0.01, 0, 0.0, 1e-12)
    with pytest.raises(ValueError, match="leak_ec must be >= 0"):
        finite_key_length(1000, 100, 0.01, -1, 1e-10, 1e-12)
    with pytest.raises(ValueError, match="k must be >= 1"):
        finite_key_length(1000, 0, 0.01, 0, 1e-10, 1e-12)


# ---------------------------------------------------------------- decoy states


def _yield(i: int, eta: float) -> float:
    return Y0 + 1 - (1 - eta) ** i


@pytest.mark.parametrize("length_km", [0.0, 40.0, 120.0])
@pytest.mark.parametrize("mu", [0.1, 0.48, 0.9])
def test_channel_model_is_a_poisson_mixture_of_photon_yields(length_km: float, mu: float) -> None:
    """Q_μ = Σ_i Y_i e^-μ μ^i/i! and E_μ Q_μ = Σ_i (e0 Y0 + e_d η_i) e^-μ μ^i/i!, Y_i = Y0 + η_i."""
    eta = _eta(length_km)
    gain, qber = weak_coherent_statistics(mu, eta, Y0, E_D)
    poisson = [math.exp(-mu) * mu**i / math.factorial(i) for i in range(60)]
    assert gain == pytest.approx(sum(p * _yield(i, eta) for i, p in enumerate(poisson)), rel=1e-12)
    errors = sum(p * (0.5 * Y0 + E_D * (1 - (1 - eta) ** i)) for i, p in enumerate(poisson))
    assert qber * gain == pytest.approx(errors, rel=1e-12)
    y1, e1 = model_single_photon(eta, Y0, E_D)
    assert y1 == pytest.approx(_yield(1, eta), rel=1e-15)
    assert e1 * y1 == pytest.approx(0.5 * Y0 + E_D * eta, rel=1e-12)


@pytest.mark.parametrize("length_km", [0.0, 25.0, 50.0, 100.0, 130.0])
@pytest.mark.parametrize("nu", [0.01, 0.05, 0.1, 0.2])
def test_decoy_bounds_bracket_the_true_single_photon_values(length_km: float, nu: float) -> None:
    """Vacuum + weak decoy (Ma et al. 2005): Y1^L <= Y1 and e1^U >= e1 of the model."""
    eta = _eta(length_km)
    q_mu, e_mu = weak_coherent_statistics(MU, eta, Y0, E_D)
    q_nu, e_nu = weak_coherent_statistics(nu, eta, Y0, E_D)
    y1_lower, e1_upper = decoy_single_photon_bounds(MU, nu, q_mu, e_mu, q_nu, e_nu, Y0)
    y1, e1 = model_single_photon(eta, Y0, E_D)
    assert 0 < y1_lower <= y1
    assert e1 <= e1_upper <= 0.5


@pytest.mark.parametrize(("length_km", "nu"), [(10.0, 0.1), (60.0, 0.05), (110.0, 0.02)])
def test_decoy_estimate_equals_closed_form_of_the_multiphoton_gap(length_km: float, nu: float) -> None:
    """The bound is exact up to the multiphoton terms its derivation drops, to 1e-9 relative:

    Y1 - Y1^L = μ/(ν(μ-ν)) Σ_{i>=3} Y_i ν² (μ^(i-2) - ν^(i-2)) / i!,
    e1^U Y1^L ν = Σ_{i>=1} (e0 Y0 + e_d η_i) ν^i / i!,
    and the rate is q{-Q_μ f h(E_μ) + Y1^L μ e^-μ (1 - h(e1^U))}.
    """
    eta = _eta(length_km)
    q_mu, e_mu = weak_coherent_statistics(MU, eta, Y0, E_D)
    q_nu, e_nu = weak_coherent_statistics(nu, eta, Y0, E_D)
    y1_lower, e1_upper = decoy_single_photon_bounds(MU, nu, q_mu, e_mu, q_nu, e_nu, Y0)
    gap = (
        MU
        / (nu * (MU - nu))
        * sum(_yield(i, eta) * nu**2 * (MU ** (i - 2) - nu ** (i - 2)) / math.factorial(i) for i in range(3, 60))
    )
    y1_closed = _yield(1, eta) - gap
    assert y1_lower == pytest.approx(y1_closed, rel=1e-9)
    errors_nu = sum((0.5 * Y0 + E_D * (1 - (1 - eta) ** i)) * nu**i / math.factorial(i) for i in range(1, 60))
    e1_closed = errors_nu / (y1_closed * nu)
    assert e1_upper == pytest.approx(e1_closed, rel=1e-9)
    rate_closed = 0.5 * (
        -q_mu * F_EC * binary_entropy(e_mu) + y1_closed * MU * math.exp(-MU) * (1 - binary_entropy(e1_closed))
    )
    assert decoy_state_rate(MU, nu, q_mu, e_mu, q_nu, e_nu, Y0, F_EC) == pytest.approx(rate_closed, rel=1e-9)


def test_weak_decoy_limit_is_the_infinite_decoy_rate() -> None:
    """As ν → 0 the bounds become tight (Lo, Ma & Chen 2005): the rate tends to the GLLP rate with true Y1, e1."""
    ideal = ideal_decoy_rate(MU, _eta(50.0), Y0, E_D, F_EC)
    errors = [abs(_decoy_rate(50.0, nu) / ideal - 1) for nu in (0.2, 0.05, 0.01, 0.001)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))
    assert errors[-1] < 2e-3


def test_decoy_rate_cut_off_distance() -> None:
    """GYS parameters: the rate is positive and falling up to a cut-off and zero beyond it.

    Measured cut-offs (0.5 km grid): 142.5 km with infinite decoys, 141 km with ν = 0.05 —
    about the ~140 km Ma et al. (2005) plot for these parameters.
    """
    lengths = np.arange(0.0, 200.0, 0.5)
    rates = np.array([_decoy_rate(float(length), 0.05) for length in lengths])
    positive = rates > 0
    cut = int(np.argmin(positive))
    assert positive[:cut].all() and not positive[cut:].any()
    assert lengths[cut] == pytest.approx(141.0, abs=1.0)
    assert np.all(np.diff(rates[:cut]) < 0)
    ideal = np.array([ideal_decoy_rate(MU, _eta(float(length)), Y0, E_D, F_EC) for length in lengths])
    assert lengths[int(np.argmin(ideal > 0))] == pytest.approx(142.5, abs=1.0)
    assert np.all(rates <= ideal + 1e-18)


def test_gllp_rate_formula_and_clipping() -> None:
    """R = q{-Q_μ f h(E_μ) + Q1(1 - h(e1))}, negative values clipped to zero."""
    assert gllp_rate(0.01, 0.02, 0.004, 0.03, 1.2, 0.5) == pytest.approx(
        0.5 * (-0.01 * 1.2 * binary_entropy(0.02) + 0.004 * (1 - binary_entropy(0.03)))
    )
    assert gllp_rate(0.01, 0.2, 0.001, 0.2, 1.2) == 0.0


def test_decoy_validation() -> None:
    """The decoy must be weaker than the signal, 0 < ν < μ: ValueError naming nu and the range."""
    with pytest.raises(ValueError, match=r"nu must be in \(0, 0.48\), got 0.5"):
        decoy_single_photon_bounds(0.48, 0.5, 0.01, 0.01, 0.01, 0.01, 1e-6)
    with pytest.raises(ValueError, match=r"misalignment must be in \[0, 0.5\]"):
        weak_coherent_statistics(0.5, 0.1, 1e-6, 0.7)
