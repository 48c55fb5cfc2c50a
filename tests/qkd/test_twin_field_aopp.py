"""SNS-TF-QKD with actively odd-parity pairing (AOPP) and with finite-size decoy estimation.

AOPP (Xu, Yu, Jiang, Hu & Wang, arXiv:1904.06331 / PRA 101, 042330 (2020)): the counting formulas
of ``aopp_pairing`` against a Monte Carlo of the pairing procedure itself (Bob pairs his bits 0
with his bits 1, Alice's parity decides), the symmetric limit E' = E²/[E² + (1−E)²], the channel
inputs reducing to the no-AOPP gain and QBER, the closed-form long-distance limit, and the reach
gained over plain SNS. Finite size: the Chernoff bounds against exact Poisson tails and their
Gaussian leading order, the 3-intensity decoy bounds (valid, and tight as the decoys vanish), the
finite-size rate against an independent evaluation at one point, its monotone approach to the
asymptotic 3-intensity rate, and that rate's approach to the infinite-decoy one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import poisson

from qstack.qkd.entropy import binary_entropy
from qstack.qkd.twin_field import (
    aopp_pairing,
    chernoff_bounds,
    sns_aopp_key_rate,
    sns_aopp_optimal_max_distance,
    sns_aopp_optimal_rate,
    sns_aopp_rate,
    sns_aopp_statistics,
    sns_decoy_bounds,
    sns_finite_optimal_rate,
    sns_finite_rate,
    sns_optimal_rate,
    sns_rate,
    sns_statistics,
)


def h(p: float) -> float:
    return float(binary_entropy(p))


# ------------------------------------------------------------------------------------------ AOPP


def test_aopp_error_rate_after_pairing_is_e_squared_over_e_squared_plus_one_minus_e_squared():
    """A pair survives when Alice's two bits are both right or both wrong; the kept bit is wrong in
    the second case: E' = e_0 e_1 / [(1−e_0)(1−e_1) + e_0 e_1], and E²/[E² + (1−E)²] for equal
    rates — 10 % becomes 1.22 %, 30 % becomes 15.5 %; 50 % stays 50 %."""
    for e in (0.01, 0.1, 0.3, 0.5):
        r = aopp_pairing(1e6, 1e6, e, e, 0.0, 0.0, 0.0)
        assert r.e_z == pytest.approx(e * e / (e * e + (1 - e) ** 2), rel=1e-12, abs=0.0)
        assert r.survived == pytest.approx(1e6 * (e * e + (1 - e) ** 2), rel=1e-12, abs=0.0)
    r = aopp_pairing(3e5, 2e5, 0.2, 0.05, 1e5, 1.5e5, 0.04)
    keep = 0.8 * 0.95 + 0.2 * 0.05
    assert (r.pairs, r.survived, r.e_z) == pytest.approx((2e5, 2e5 * keep, 0.01 / keep), rel=1e-12, abs=0.0)
    assert r.untagged == pytest.approx(2e5 * (1e5 / 3e5) * (1.5e5 / 2e5), rel=1e-12, abs=0.0)
    assert r.e1_ph == pytest.approx(2 * 0.04 * 0.96, rel=1e-12, abs=0.0)


def test_aopp_counts_match_a_monte_carlo_of_the_pairing_procedure():
    """Bob holds 60 000 bits 0 (error rate 12 %, 40 % untagged) and 50 000 bits 1 (error 2 %, 45 %
    untagged); untagged bits are never wrong and flip phase independently with 5 %. He pairs a
    random bit 0 with a random bit 1 until the 1s run out; Alice keeps a pair when her parity is
    odd, i.e. when her bits are both right or both wrong. Survivors, their error rate, untagged
    pairs and the kept bits' phase-flip rate (XOR of the two) agree with aopp_pairing within 4
    standard errors (seed 2023; binomial errors)."""
    rng = np.random.default_rng(2023)
    n_0, n_1, e_0, e_1, f_u0, f_u1, e_ph = 60_000, 50_000, 0.12, 0.02, 0.40, 0.45, 0.05

    def bits(n: int, e: float, f_u: float):
        untagged = rng.random(n) < f_u
        wrong = ~untagged & (rng.random(n) < e / (1 - f_u))   # overall error rate e, none untagged
        return untagged, wrong

    u0, w0 = bits(n_0, e_0, f_u0)
    u1, w1 = bits(n_1, e_1, f_u1)
    pick = rng.permutation(n_0)[:n_1]                          # a random bit 0 for every bit 1
    u0, w0 = u0[pick], w0[pick]
    survive = w0 == w1
    both_untagged = u0 & u1
    phase = (rng.random(n_1) < e_ph) ^ (rng.random(n_1) < e_ph)
    expected = aopp_pairing(n_0, n_1, e_0, e_1, f_u0 * n_0, f_u1 * n_1, e_ph)
    assert expected.pairs == n_1
    for got, want, trials in ((survive.sum(), expected.survived, n_1),
                              ((w0 & survive).sum() / survive.sum(), expected.e_z, survive.sum()),
                              (both_untagged.sum(), expected.untagged, n_1),
                              (phase[both_untagged].mean(), expected.e1_ph, both_untagged.sum())):
        p = want / trials if want > 1 else want
        se = math.sqrt(p * (1 - p) / trials) * (trials if want > 1 else 1)
        assert abs(got - want) < 4 * se
    assert survive[both_untagged].all()                        # two untagged bits always survive


def test_aopp_inputs_reduce_to_the_plain_sns_gain_and_qber():
    """Bob's bits 0 and 1 together are all Z-window effective events: n_0 + n_1 = S_Z and the
    weighted error (e_0 n_0 + e_1 n_1)/S_Z = E_Z of sns_statistics, and the untagged bits of the
    two sets add up to n_1 = 2ε(1−ε) μ e^{−μ} s_1 (the no-AOPP quantities), to 1e-12."""
    eta, mu, eps, pd, ed = 0.006, 0.3, 0.2, 1e-8, 0.03
    s = sns_statistics(eta, mu, eps, dark_count=pd, misalignment=ed)
    r = sns_aopp_statistics(eta, mu, eps, dark_count=pd, misalignment=ed)
    keep = r.survived / r.pairs
    # recover e_0, e_1 from survival and E' (two equations), then n_0 from S_Z
    e_prod = r.e_z * keep
    e_sum = 1 + e_prod * 2 - keep          # (1−e0)(1−e1) + e0 e1 = 1 − (e0 + e1) + 2 e0 e1
    e_small = (e_sum - math.sqrt(e_sum**2 - 4 * e_prod)) / 2
    e_large = e_sum - e_small
    n_1 = r.pairs                            # Bob's bits 1 are the fewer: min(n_0, n_1)
    n_0 = s.s_z - n_1
    assert n_0 > n_1
    errors = {e_small * n_1 + e_large * n_0, e_large * n_1 + e_small * n_0}
    assert min(abs(x / s.s_z - s.e_z) for x in errors) < 1e-12 * s.e_z
    assert r.untagged == pytest.approx(n_1 * (s.n_1 / 2 / n_1) * (s.n_1 / 2 / n_0), rel=1e-12, abs=0.0)
    assert r.e1_ph == pytest.approx(2 * s.e1_ph * (1 - s.e1_ph), rel=1e-12, abs=0.0)


def test_aopp_rate_long_distance_limit_needs_no_error_correction():
    """p_d = 0, η_s → 0: Bob's bits 1 are never wrong, so E' = 0 exactly; survival (1−ε)/(1+ε);
    R/η_s → ε(1−ε)² μ e^{−2μ}/(1+ε) [1 − h(2e_d(1−e_d))] to 1e-9 at η_s = 1e-12, and the rate scales
    as sqrt(η) of the Alice–Bob fibre (R(1200 km)/R(1000 km) = 1e-2)."""
    mu, eps, ed = 0.3, 0.25, 0.03
    limit = eps * (1 - eps) ** 2 * mu * math.exp(-2 * mu) / (1 + eps) * (1 - h(2 * ed * (1 - ed)))
    assert sns_aopp_rate(1e-12, mu, eps, misalignment=ed) / 1e-12 == pytest.approx(limit, rel=1e-9, abs=0.0)
    r = sns_aopp_statistics(1e-12, mu, eps, misalignment=ed)
    assert r.e_z == 0.0 and r.survived / r.pairs == pytest.approx((1 - eps) / (1 + eps), rel=1e-9, abs=0.0)
    ratio = sns_aopp_key_rate(1200e3, mu=mu, epsilon=eps, misalignment=ed) \
        / sns_aopp_key_rate(1000e3, mu=mu, epsilon=eps, misalignment=ed)
    assert ratio == pytest.approx(1e-2, rel=1e-9, abs=0.0)


def test_aopp_extends_the_reach_of_sns_with_wang_yu_hus_devices():
    """η_det 80 %, p_d = 1e-11, f = 1.1, e_d = 15 % (Wang, Yu & Hu's simulation devices): plain SNS
    reaches 707.5 km (tests/qkd/test_mdi_twin_field.py), with AOPP 785.2 km — 78 km further (Xu et
    al.'s abstract, checked: "improves the secure distance by 70 kilometers to more than 100
    kilometers" over prior art, with their own settings, not read here). AOPP's optimum sends far
    more often (ε ≈ 0.25 against 0.02) and its rate at 700 km is higher."""
    devices = {"detector_efficiency": 0.8, "dark_count": 1e-11, "f": 1.1, "misalignment": 0.15}
    reach = sns_aopp_optimal_max_distance(**devices)
    assert round(reach / 1e3, 1) == 785.2
    aopp, _, eps_aopp = sns_aopp_optimal_rate(700e3, **devices)
    plain, _, eps_plain = sns_optimal_rate(700e3, **devices)
    assert aopp > plain > 0 and eps_aopp > 0.2 > 0.03 > eps_plain
    assert sns_aopp_optimal_rate(reach + 5e3, **devices)[0] == 0.0


def test_aopp_bad_inputs_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="e_0"):
        aopp_pairing(10, 10, 1.5, 0.1, 1, 1, 0.1)
    with pytest.raises(ValueError, match="u_1"):
        aopp_pairing(10, 10, 0.1, 0.1, 1, 11, 0.1)
    with pytest.raises(ValueError, match="epsilon"):
        sns_aopp_rate(0.1, 0.3, 0.0)
    with pytest.raises(TypeError, match="mu and epsilon themselves"):
        sns_aopp_optimal_rate(1e3, mu=0.3)


# ----------------------------------------------------------------------------------- finite size


def _chernoff_by_delta(x: float, xi: float) -> tuple[float, float]:
    """The defining equations in δ, solved directly (the library solves them in log variables)."""
    target = math.log(xi / 2)
    d1 = brentq(lambda d: x / (1 + d) * (d - (1 + d) * math.log1p(d)) - target, 1e-15, 1e3, xtol=1e-15, rtol=1e-14)
    d2 = brentq(lambda d: x / (1 - d) * (-d - (1 - d) * math.log1p(-d)) - target, 1e-15, 1 - 1e-12,
                xtol=1e-15, rtol=1e-14)
    return x / (1 + d1), x / (1 - d2)


def test_chernoff_bounds_solve_their_equations_and_cover_poisson_counts():
    """E^L = X/(1+δ_1), E^U = X/(1−δ_2) with [e^δ/(1+δ)^{1+δ}]^{X/(1+δ)} = ξ/2 etc. (solved here
    in δ directly: agreement 1e-9); for Poisson counts of mean m = 5, 50, 2000 the probability
    that the true mean falls outside either bound, summed exactly over the Poisson distribution,
    is at most ξ/2 on each side (ξ = 1e-3); and for large X both bounds are X ∓ sqrt(2X ln(2/ξ)) to
    leading order (1e12 counts: 1e-3)."""
    xi = 1e-3
    for x in (3.0, 40.0, 1e4, 1e9):
        assert chernoff_bounds(x, xi) == pytest.approx(_chernoff_by_delta(x, xi), rel=1e-9, abs=0.0)
    for m in (5.0, 50.0, 2000.0):
        ks = np.arange(0, int(m + 40 * math.sqrt(m) + 60))
        lower = np.array([chernoff_bounds(float(k), xi)[0] for k in ks])
        upper = np.array([chernoff_bounds(float(k), xi)[1] for k in ks])
        pmf = poisson.pmf(ks, m)
        assert pmf[lower > m].sum() <= xi / 2 and pmf[upper < m].sum() <= xi / 2
        assert pmf[lower > m].sum() > 0 or m < 10          # the bound is not vacuous
    lo, hi = chernoff_bounds(1e12, 1e-10)
    width = math.sqrt(2e12 * math.log(2e10))
    assert (1e12 - lo) / width == pytest.approx(1.0, rel=1e-3, abs=0.0)
    assert (hi - 1e12) / width == pytest.approx(1.0, rel=1e-3, abs=0.0)


def _exact_yields(eta: float, pd: float, ed: float, mu_1: float, mu_2: float):
    def one(mu: float) -> float:
        x = eta * mu
        return 2 * (1 - pd) * math.exp(-x / 2) * (1 - (1 - pd) * math.exp(-x / 2))

    x = eta * mu_1
    t11 = (1 - pd) * math.exp(-2 * x * (1 - ed)) * (1 - (1 - pd) * math.exp(-2 * x * ed))
    return 2 * pd * (1 - pd), one(mu_1), one(mu_2), t11


def test_decoy_bounds_hold_and_are_tight_as_the_decoys_vanish():
    """At the exact yields of the channel (η_s = 1e-3, p_d = 1e-7, e_d = 3 %) the 3-intensity bounds
    are valid — s_1^L ≤ s_1 and e_1^U ≥ e_1 — at μ_1 = 0.1, μ_2 = 0.4, and tend to s_1, e_1 as the
    decoys shrink (μ_1 = 1e-4, μ_2 = 2e-4: within 1e-3)."""
    eta, pd, ed = 1e-3, 1e-7, 0.03
    true = sns_statistics(eta, 0.4, 0.1, dark_count=pd, misalignment=ed)
    for mu_1, mu_2, tol in ((0.1, 0.4, None), (1e-4, 2e-4, 1e-3)):
        s1, e1 = sns_decoy_bounds(*_exact_yields(eta, pd, ed, mu_1, mu_2), mu_1, mu_2)
        assert s1 <= true.s_1 and e1 >= true.e1_ph
        if tol:
            assert s1 == pytest.approx(true.s_1, rel=tol, abs=0.0)
            assert e1 == pytest.approx(true.e1_ph, rel=tol, abs=0.0)


POINT = {"mu_z": 0.4, "epsilon": 0.05, "mu_1": 0.1, "mu_2": 0.3, "p_z": 0.8, "p_0": 0.3, "p_1": 0.4,
         "slice_fraction": 0.1, "dark_count": 1e-9, "misalignment": 0.03, "f": 1.1, "failure": 1e-10}


def test_finite_rate_at_one_point_matches_an_independent_evaluation():
    """η_s = 1e-4 (≈ 400 km of 0.2 dB/km fibre at 80 % detectors: 10^{−4} per arm), N = 1e12 pulse
    pairs, the POINT settings. Recomputed here: X-window counts N(1−p_z)² p_j p_k × yields (the μ_1
    pair windows × slice fraction × error yield), each bounded by Chernoff solved in δ, the
    3-intensity s_1^L and e_1^U, n_1^L = N p_z² 2ε(1−ε) μ_z e^{−μ_z} s_1^L, and N_f = n_1^L[1 −
    h(e_1^U)] − f n_t h(E_z) − log2(2/ξ) − 2 log2(1/(√2 ξ²)): agreement 1e-9; the rate is 2.4544e-7
    per pulse pair (computed, pinned), 0.49 of p_z² times the infinite-decoy asymptotic rate."""
    eta, n = 1e-4, 1e12
    c = POINT
    s00, s10, s20, t11 = _exact_yields(eta, c["dark_count"], c["misalignment"], c["mu_1"], c["mu_2"])
    nx, nz, p2 = n * (1 - c["p_z"]) ** 2, n * c["p_z"] ** 2, 1 - c["p_0"] - c["p_1"]
    w = {"00": nx * c["p_0"] ** 2, "10": 2 * nx * c["p_0"] * c["p_1"], "20": 2 * nx * c["p_0"] * p2,
         "11": nx * c["p_1"] ** 2 * c["slice_fraction"]}
    b = {k: _chernoff_by_delta(w[k] * y, c["failure"]) for k, y in (("00", s00), ("10", s10), ("20", s20),
                                                                    ("11", t11))}
    m1, m2 = c["mu_1"], c["mu_2"]
    s1 = (m2**2 * math.exp(m1) * b["10"][0] / w["10"] - m1**2 * math.exp(m2) * b["20"][1] / w["20"]
          - (m2**2 - m1**2) * b["00"][1] / w["00"]) / (m1 * m2 * (m2 - m1))
    e1 = (b["11"][1] / w["11"] - math.exp(-2 * m1) * b["00"][0] / w["00"] / 2) / (2 * m1 * math.exp(-2 * m1) * s1)
    z = sns_statistics(eta, c["mu_z"], c["epsilon"], dark_count=c["dark_count"], misalignment=c["misalignment"])
    n1 = nz * 2 * c["epsilon"] * (1 - c["epsilon"]) * c["mu_z"] * math.exp(-c["mu_z"]) * s1
    key = n1 * (1 - h(e1)) - c["f"] * nz * z.s_z * h(z.e_z) - math.log2(2 / 1e-10) \
        - 2 * math.log2(1 / (math.sqrt(2) * 1e-20))
    r = sns_finite_rate(eta, n, **POINT)
    assert (r.s1_lower, r.e1_upper, r.n1_lower, r.key_bits) == pytest.approx((s1, e1, n1, key), rel=1e-9, abs=0.0)
    assert r.rate == pytest.approx(2.4544e-7, rel=1e-4, abs=0.0)
    asym = sns_rate(eta, 0.4, 0.05, dark_count=1e-9, misalignment=0.03)
    assert r.rate / (0.64 * asym) == pytest.approx(0.49, abs=0.01)


def test_finite_rate_rises_with_n_to_the_asymptotic_three_intensity_rate():
    """The rate rises monotonically with the number of pulses (1e10 … 1e24) and approaches p_z²
    times the 3-intensity asymptotic rate (the same bounds at the exact yields, no log terms), the
    gap shrinking like N^{−1/2}: 1e-6 relative at N = 1e30. That rate is below the infinite-decoy
    sns_rate (3 decoys only) and tends to it as μ_1, μ_2 → 0 (1e-3 at 1e-4, 2e-4). With AOPP the
    same holds against the AOPP formulas fed with the exact-yield bounds."""
    eta = 1e-4
    for aopp in (False, True):
        rates = [sns_finite_rate(eta, n, aopp=aopp, **POINT).rate for n in 10.0 ** np.arange(10, 25, 2)]
        assert all(b > a for a, b in zip(rates, rates[1:], strict=False))
        s00, s10, s20, t11 = _exact_yields(eta, 1e-9, 0.03, 0.1, 0.3)
        s1, e1 = sns_decoy_bounds(s00, s10, s20, t11, 0.1, 0.3)
        if aopp:
            r = sns_aopp_statistics(eta, 0.4, 0.05, dark_count=1e-9, misalignment=0.03)
            scale = s1 / sns_statistics(eta, 0.4, 0.05, dark_count=1e-9, misalignment=0.03).s_1
            asym = r.untagged * scale**2 * (1 - h(2 * e1 * (1 - e1))) - 1.1 * r.survived * h(r.e_z)
        else:
            z = sns_statistics(eta, 0.4, 0.05, dark_count=1e-9, misalignment=0.03)
            asym = 2 * 0.05 * 0.95 * 0.4 * math.exp(-0.4) * s1 * (1 - h(e1)) - 1.1 * z.s_z * h(z.e_z)
        big = sns_finite_rate(eta, 1e30, aopp=aopp, **POINT).rate
        assert big / (0.64 * asym) == pytest.approx(1.0, rel=1e-6, abs=0.0)
        gaps = [0.64 * asym - sns_finite_rate(eta, n, aopp=aopp, **POINT).rate for n in (1e16, 1e18)]
        assert gaps[0] / gaps[1] == pytest.approx(10.0, rel=0.05, abs=0.0)
    plain = sns_rate(eta, 0.4, 0.05, dark_count=1e-9, misalignment=0.03)
    s1, e1 = sns_decoy_bounds(*_exact_yields(eta, 1e-9, 0.03, 1e-4, 2e-4), 1e-4, 2e-4)
    z = sns_statistics(eta, 0.4, 0.05, dark_count=1e-9, misalignment=0.03)
    tight = 2 * 0.05 * 0.95 * 0.4 * math.exp(-0.4) * s1 * (1 - h(e1)) - 1.1 * z.s_z * h(z.e_z)
    assert tight <= plain and tight == pytest.approx(plain, rel=1e-3, abs=0.0)


def test_finite_optimum_is_below_the_asymptotic_optimum_and_rises_with_n():
    """Optimised over intensities and probabilities at 300 km (0.2 dB/km, 60 % detectors, p_d =
    1e-9, e_d = 3 %): 0 < R(1e11) < R(1e13) < the infinite-decoy asymptotic optimum."""
    kw = {"detector_efficiency": 0.6, "dark_count": 1e-9, "misalignment": 0.03}
    r11, _ = sns_finite_optimal_rate(300e3, 1e11, **kw)
    r13, settings = sns_finite_optimal_rate(300e3, 1e13, **kw)
    asym, _, _ = sns_optimal_rate(300e3, **kw)
    assert 0 < r11 < r13 < asym
    assert settings["mu_1"] < settings["mu_2"] and 0 < settings["p_z"] < 1


def test_finite_bad_inputs_are_refused_naming_the_field():
    with pytest.raises(ValueError, match="n_pulses"):
        sns_finite_rate(1e-3, 0.0)
    with pytest.raises(ValueError, match="mu_2"):
        sns_finite_rate(1e-3, 1e10, mu_1=0.3, mu_2=0.2)
    with pytest.raises(ValueError, match="p_1"):
        sns_finite_rate(1e-3, 1e10, p_0=0.6, p_1=0.5)
    with pytest.raises(ValueError, match="failure"):
        chernoff_bounds(10.0, 0.0)
    with pytest.raises(TypeError, match="chooses"):
        sns_finite_optimal_rate(1e3, 1e10, mu_z=0.3)
