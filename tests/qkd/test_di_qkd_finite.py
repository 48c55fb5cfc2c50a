"""DI-QKD beyond the uniform-setting asymptotic rate: noisy preprocessing (Ho et al., PRL 124,
230502 (2020)), the biased key basis and the finite-key rate by entropy accumulation
(Arnon-Friedman et al., Nat. Commun. 9, 459 (2018); Dupuis, Fawzi & Renner, CMP 379, 867 (2020)).

Each test checks a formula of qstack.qkd.entropy / qstack.qkd.device_independent against an
independent analytic expression or limit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.qkd.device_independent import (
    MAX_WIN_PROBABILITY,
    chsh_entropy_rate,
    chsh_entropy_rate_derivative,
    di_qkd_finite_key,
    di_qkd_min_rounds,
)
from qstack.qkd.entropy import (
    TSIRELSON_BOUND,
    binary_entropy,
    di_qkd_entropy_bound,
    di_qkd_noisy_preprocessing_rate,
    di_qkd_rate,
    di_qkd_rate_per_round,
    optimal_noisy_preprocessing,
)

S_GRID = np.linspace(2.0, TSIRELSON_BOUND, 41)


def _pironio(s: float) -> float:
    return 1.0 - float(binary_entropy((1.0 + math.sqrt(max(0.0, (s / 2) ** 2 - 1))) / 2.0))


@pytest.mark.parametrize("s", S_GRID)
def test_noisy_preprocessing_bound_at_zero_noise_is_pironio_bound(s):
    """p = 0: H(A|E) >= 1 - h((1 + sqrt((S/2)^2 - 1))/2) (Pironio et al. 2009)."""
    assert di_qkd_entropy_bound(float(s), 0.0) == pytest.approx(_pironio(float(s)), abs=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.2, 0.5])
def test_noisy_preprocessing_bound_limits(p):
    """Tsirelson point: 1 bit whatever p; local point S = 2: h(p) (Eve knows only the raw bit)."""
    assert di_qkd_entropy_bound(TSIRELSON_BOUND, p) == pytest.approx(1.0, abs=1e-9)
    assert di_qkd_entropy_bound(2.0, p) == pytest.approx(float(binary_entropy(p)), abs=1e-12)


def test_noisy_preprocessing_bound_matches_closed_form_in_win_probability():
    """Written in ω = 1/2 + S/8: 1 - h((1 + sqrt(16ω(ω-1)+3))/2) + h((1 + sqrt(1 + 8p(1-p)(1 - 8ω + 8ω²)))/2)."""
    for s in (2.2, 2.5, 2.7):
        for p in (0.03, 0.2):
            w = 0.5 + s / 8
            expect = (1 - binary_entropy((1 + math.sqrt(16 * w * (w - 1) + 3)) / 2)
                      + binary_entropy((1 + math.sqrt(1 + 8 * p * (1 - p) * (1 - 8 * w + 8 * w * w))) / 2))
            assert di_qkd_entropy_bound(s, p) == pytest.approx(expect, abs=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.3, 0.45])
def test_noisy_preprocessing_bound_is_convex_and_increasing_in_chsh(p):
    """A valid DI bound needs no convex hull: second differences >= 0, first differences > 0."""
    y = np.array([di_qkd_entropy_bound(float(s), p) for s in np.linspace(2.0, TSIRELSON_BOUND, 2001)])
    assert np.all(np.diff(y, 2) >= -1e-12)
    assert np.all(np.diff(y) > 0)


def test_noise_never_lowers_the_entropy_bound():
    for s in (2.1, 2.4, 2.7):
        values = [di_qkd_entropy_bound(s, p) for p in np.linspace(0, 0.5, 26)]
        assert np.all(np.diff(values) >= -1e-12)


def _werner_threshold(noise: float) -> float:
    from scipy.optimize import brentq

    def r(v: float) -> float:
        s, q = TSIRELSON_BOUND * v, (1 - v) / 2
        return di_qkd_entropy_bound(s, noise) - float(binary_entropy(noise + (1 - 2 * noise) * q))

    v = brentq(r, 0.75, 0.9999, xtol=1e-14)
    return (1 - v) / 2


def test_standard_protocol_tolerates_7_1_percent_depolarising_qber():
    """Pironio et al. (2009): the rate for Werner pairs vanishes at Q = 7.1 %."""
    assert _werner_threshold(0.0) == pytest.approx(0.0715, abs=5e-4)


def test_noisy_preprocessing_raises_the_depolarising_threshold():
    """p -> 1/2 raises the QBER threshold to 8.08 % (computed from the bound; ~8 % in Ho et al.)."""
    assert _werner_threshold(0.4999) == pytest.approx(0.0808, abs=5e-4)
    assert _werner_threshold(0.1) > _werner_threshold(0.0)


def test_noisy_preprocessing_rate_reduces_to_di_qkd_rate_and_adds_flip_to_qber():
    for s, q in ((2.6, 0.03), (2.45, 0.07)):
        assert di_qkd_noisy_preprocessing_rate(s, q, 0.0) == pytest.approx(di_qkd_rate(s, q), abs=1e-12)
        p = 0.12
        expect = di_qkd_entropy_bound(s, p) - float(binary_entropy(p + (1 - 2 * p) * q))
        assert di_qkd_noisy_preprocessing_rate(s, q, p) == pytest.approx(max(0.0, expect), abs=1e-12)


def test_optimal_noisy_preprocessing_is_a_maximum_and_beats_no_noise():
    p, r = optimal_noisy_preprocessing(2.45, 0.075)
    grid = [di_qkd_noisy_preprocessing_rate(2.45, 0.075, float(x)) for x in np.linspace(0, 0.4999, 5001)]
    assert r >= max(grid) - 1e-9
    assert r > di_qkd_rate(2.45, 0.075)
    assert 0 < p < 0.5


def test_biased_basis_rate_per_round_approaches_rate_per_key_bit():
    """(1 - γ) r -> r as γ -> 0, against r/6 for uniform settings (x in {0,1}, y in {0,1,2})."""
    r = di_qkd_rate(2.7, 0.02)
    assert di_qkd_rate_per_round(2.7, 0.02) == pytest.approx(r / 6, abs=1e-15)
    assert di_qkd_rate_per_round(2.7, 0.02, test_probability=0.05) == pytest.approx(0.95 * r, abs=1e-15)
    assert di_qkd_rate_per_round(2.7, 0.02, test_probability=1e-9) == pytest.approx(r, rel=1e-8)


def test_entropy_rate_in_win_probability_is_the_chsh_bound_and_its_derivative_is_exact():
    for s in (2.1, 2.5, 2.8):
        w = 0.5 + s / 8
        assert chsh_entropy_rate(w) == pytest.approx(_pironio(s), abs=1e-12)
        h = 1e-6
        numeric = (chsh_entropy_rate(w + h) - chsh_entropy_rate(w - h)) / (2 * h)
        assert chsh_entropy_rate_derivative(w) == pytest.approx(numeric, rel=1e-6)
    assert chsh_entropy_rate_derivative(0.75) == pytest.approx(4 / math.log(2), rel=1e-12)
    assert chsh_entropy_rate(0.7) == 0.0


def test_entropy_rate_is_convex_so_tangents_are_valid_min_tradeoff_functions():
    w = np.linspace(0.75, MAX_WIN_PROBABILITY - 1e-6, 4001)
    assert np.all(np.diff(chsh_entropy_rate(w), 2) >= -1e-12)


def test_finite_key_terms_add_up_to_the_key_length():
    k = di_qkd_finite_key(10**9, 2.7, 0.02, test_probability=0.05)
    total = (k.rounds * k.entropy_rate - k.eat_correction - k.bob_test_entropy - k.chain_rule
             - k.error_correction - k.privacy_amplification)
    assert k.key_length == pytest.approx(total, rel=1e-12)
    # the EAT second-order term is v sqrt(n) with v = 2(log2 13 + ceil(g'(p_t)/γ)) sqrt(1 - 2 log2(ε_s/4 ε_EA))
    v = 2 * (math.log2(13) + math.ceil(chsh_entropy_rate_derivative(k.tangent_point) / 0.05)) \
        * math.sqrt(1 - 2 * math.log2(1e-6 / 4 * 1e-6))
    assert k.eat_correction == pytest.approx(v * math.sqrt(1e9), rel=1e-12)
    x = 1e-6 / 4     # 3 log2(1/(1 - sqrt(1 - x²))) = 3 log2(2/x²) + O(x²): no cancellation in the series
    assert k.chain_rule == pytest.approx(3 * math.log2(2 / x**2), rel=1e-12)
    assert k.privacy_amplification == pytest.approx(2 * math.log2(1e6), rel=1e-12)


def test_finite_key_rate_at_fixed_test_fraction_tends_to_its_limit_like_one_over_sqrt_n():
    """At fixed γ: ℓ/n -> g(ω) - (1-γ)h(Q) - 2γh(ω), the gap shrinking like 1/sqrt(n)."""
    s, q, gamma = 2.7, 0.02, 0.05
    w = 0.5 + s / 8
    limit = chsh_entropy_rate(w) - (1 - gamma) * binary_entropy(q) - 2 * gamma * binary_entropy(w)
    gaps = []
    for n in (10**12, 10**14, 10**16):
        k = di_qkd_finite_key(n, s, q, test_probability=gamma)
        gaps.append(limit - k.key_length / n)
    assert all(g > 0 for g in gaps)
    assert gaps[2] < 1e-4
    assert gaps[1] / gaps[2] == pytest.approx(10.0, rel=0.25)   # 100x more rounds, 10x smaller gap


def test_optimised_finite_key_rate_approaches_the_asymptotic_rate():
    """n -> infinity with γ optimised: ℓ/n -> 1 - h(Q) - h((1 + sqrt((S/2)^2-1))/2)."""
    r = di_qkd_rate(2.7, 0.02)
    rates = [di_qkd_finite_key(n, 2.7, 0.02).rate for n in (10**8, 10**10, 10**12, 10**15)]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))
    assert rates[-1] < r
    assert rates[-1] == pytest.approx(r, abs=0.01)


def test_no_finite_key_without_bell_violation_or_with_too_few_rounds():
    assert di_qkd_finite_key(10**12, 2.0, 0.0).rate == 0.0
    assert di_qkd_finite_key(10**4, 2.8, 0.0).key_length < 0
    n = di_qkd_min_rounds(2.7, 0.02)
    assert n is not None
    assert di_qkd_finite_key(n, 2.7, 0.02).key_length > 0
    assert di_qkd_finite_key(int(n / 1.05), 2.7, 0.02).key_length <= 0
    assert di_qkd_min_rounds(2.3, 0.1) is None      # no asymptotic key either


def test_finite_key_is_deterministic_and_rejects_bad_input():
    assert di_qkd_finite_key(10**8, 2.7, 0.02) == di_qkd_finite_key(10**8, 2.7, 0.02)
    with pytest.raises(ValueError, match="rounds"):
        di_qkd_finite_key(0, 2.7, 0.02)
    with pytest.raises(ValueError, match="qber"):
        di_qkd_finite_key(10, 2.7, 0.7)
    with pytest.raises(ValueError, match="test_probability"):
        di_qkd_finite_key(10, 2.7, 0.01, test_probability=1.0)
    with pytest.raises(ValueError, match="epsilons has no field 'bogus'"):
        di_qkd_finite_key(10, 2.7, 0.01, epsilons={"bogus": 0.1})
    with pytest.raises(ValueError, match="noise"):
        di_qkd_entropy_bound(2.5, 0.6)


# --------------------------------------------------------------------------- improved second-order EAT


def test_improved_eat_is_tighter_than_the_original_at_every_n_tested():
    """Dupuis & Fawzi 2019: the second-order loss grows like sqrt(n/γ), not sqrt(n)/γ."""
    for n in (10**5, 10**6, 10**7, 10**8, 10**10, 10**12):
        orig = di_qkd_finite_key(n, 2.7, 0.02)
        new = di_qkd_finite_key(n, 2.7, 0.02, bound="eat_improved")
        assert new.key_length >= orig.key_length
    n = 1_500_000     # Oxford's round count: a key only with the improved term
    assert di_qkd_finite_key(n, 2.677, 0.0144, bound="eat_improved").key_length > 0 > \
        di_qkd_finite_key(n, 2.677, 0.0144).key_length


def test_improved_eat_approaches_but_never_exceeds_the_asymptotic_rate():
    r = di_qkd_rate(2.7, 0.02)
    rates = [di_qkd_finite_key(n, 2.7, 0.02, bound="eat_improved").rate for n in (10**7, 10**9, 10**12, 10**15)]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))
    assert all(x < r for x in rates)
    assert rates[-1] == pytest.approx(r, abs=0.005)


def test_improved_eat_correction_is_the_closed_form_and_alpha_is_optimised():
    from qstack.qkd.device_independent import MAX_WIN_PROBABILITY, MIN_WIN_PROBABILITY, improved_eat_correction

    n, slope, gamma, a, eps, lp = 10**8, 4.0, 0.1, 1.001, 1e-6, 20.0
    v = math.log2(13) + math.sqrt(2 + slope**2 * MAX_WIN_PROBABILITY / gamma)
    g = -math.log2(1 - math.sqrt(1 - eps**2)) if eps > 1e-4 else math.log2(2 / eps**2)
    spread = math.log2(6) + slope * (1 - MIN_WIN_PROBABILITY)
    k = 2 ** ((a - 1) * spread) * math.log(2**spread + math.e**2) ** 3 / (6 * (2 - a) ** 3 * math.log(2))
    expected = n * (a - 1) * math.log(2) / 2 * v * v + (g + a * lp) / (a - 1) + n * (a - 1) ** 2 * k
    assert improved_eat_correction(n, slope, gamma, a, eps, lp) == pytest.approx(expected, rel=1e-9)
    key = di_qkd_finite_key(10**8, 2.7, 0.02, bound="eat_improved", test_probability=0.05)
    assert 1.0 < key.renyi_order < 1.01
    total = (key.rounds * key.entropy_rate - key.eat_correction - key.bob_test_entropy - key.chain_rule
             - key.error_correction - key.privacy_amplification)
    assert key.key_length == pytest.approx(total, rel=1e-12)


def test_noisy_preprocessing_rate_function_and_slope_in_win_probability():
    from qstack.qkd.device_independent import noisy_entropy_rate, noisy_entropy_rate_derivative

    for p in (0.0, 0.05, 0.2):
        for s in (2.2, 2.5, 2.75):
            w = 0.5 + s / 8
            assert noisy_entropy_rate(w, p) == pytest.approx(di_qkd_entropy_bound(s, p), abs=1e-12)
            h = 1e-6
            numeric = (noisy_entropy_rate(w + h, p) - noisy_entropy_rate(w - h, p)) / (2 * h)
            assert noisy_entropy_rate_derivative(w, p) == pytest.approx(numeric, rel=1e-5)
        grid = np.linspace(0.7, 0.85, 301)   # convex (h(p) below ω = ¾): tangents are min-tradeoff functions
        assert np.all(np.diff(noisy_entropy_rate(grid, p), 2) >= -1e-12)


def test_noisy_preprocessing_finite_key_reduces_to_no_noise_and_helps_at_high_qber():
    a = di_qkd_finite_key(10**9, 2.6, 0.05, bound="eat_improved", test_probability=0.02)
    b = di_qkd_finite_key(10**9, 2.6, 0.05, bound="eat_improved", test_probability=0.02, noise=0.0)
    assert a == b
    plain = di_qkd_finite_key(10**12, 2.45, 0.075, bound="eat_improved")
    noisy = di_qkd_finite_key(10**12, 2.45, 0.075, bound="eat_improved", noise=0.06)
    assert noisy.rate > plain.rate > 0
    with pytest.raises(ValueError, match="bound"):
        di_qkd_finite_key(10**6, 2.7, 0.02, bound="renyi")
    with pytest.raises(ValueError, match="noise"):
        di_qkd_finite_key(10**6, 2.7, 0.02, noise=0.5)
