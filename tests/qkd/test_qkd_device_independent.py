"""qstack.qkd.device_independent: the Bell test at a stated ε and DI-QKD's finite-statistics rate.

* The Chernoff bounds solve ``n D(p̂ ‖ p) = ln(1/ε)`` (checked to 1e-12 against the relative
  entropy itself), lie on the right side of p̂, tighten with n, and are never looser than
  Hoeffding's additive bound (Pinsker's inequality).
* Coverage: for a true probability p, the lower bound exceeds p with probability ≤ ε — exactly,
  summing the binomial law over every outcome.
* The DI-QKD rate at the bounds is Pironio et al.'s 1 − h(Q) − h((1 + √((S/2)² − 1))/2) at
  (S_L, Q_U), below the rate at the point estimates, and 0 without a Bell violation.
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import binom

from qstack.qkd.device_independent import (
    LOCAL_WIN_PROBABILITY,
    bernoulli_relative_entropy,
    chernoff_lower_bound,
    chernoff_upper_bound,
    chsh_bell_test,
    di_qkd_finite_rate,
    hoeffding_lower_bound,
)
from qstack.qkd.entropy import TSIRELSON_BOUND, binary_entropy, di_qkd_rate


@pytest.mark.parametrize(("k", "n", "eps"), [(850, 1000, 1e-6), (50, 100, 0.05), (3, 10, 0.2), (990, 1000, 1e-10)])
def test_chernoff_lower_bound_solves_the_relative_entropy_equation(k, n, eps):
    """w_L < p̂ with n D(p̂ ‖ w_L) = ln(1/ε); the upper bound mirrors it; Hoeffding is looser."""
    p_hat = k / n
    low = chernoff_lower_bound(k, n, eps)
    assert 0 < low < p_hat
    assert n * bernoulli_relative_entropy(p_hat, low) == pytest.approx(math.log(1 / eps), rel=1e-9)
    up = chernoff_upper_bound(k, n, eps)
    assert p_hat < up < 1
    assert n * bernoulli_relative_entropy(p_hat, up) == pytest.approx(math.log(1 / eps), rel=1e-9)
    assert hoeffding_lower_bound(k, n, eps) <= low
    assert chernoff_lower_bound(10 * k, 10 * n, eps) > low  # more rounds, tighter bound


def test_zero_successes_and_bad_arguments():
    """No success: the lower bound is 0 and the upper one 1 − ε^(1/n) exactly; counts outside
    [0, n], n < 1 and ε outside (0, 1) are refused naming the argument."""
    assert chernoff_lower_bound(0, 50, 0.01) == 0.0
    assert chernoff_upper_bound(0, 50, 0.01) == pytest.approx(1 - 0.01 ** (1 / 50), abs=1e-12)
    with pytest.raises(ValueError, match="successes must be in"):
        chernoff_lower_bound(11, 10, 0.1)
    with pytest.raises(ValueError, match="trials must be >= 1"):
        chernoff_lower_bound(0, 0, 0.1)
    with pytest.raises(ValueError, match="epsilon must be in"):
        chernoff_lower_bound(1, 10, 1.0)
    with pytest.raises(TypeError, match="successes must be an int"):
        chernoff_lower_bound(1.5, 10, 0.1)


@pytest.mark.parametrize(("p", "n", "eps"), [(0.75, 400, 0.05), (0.85, 300, 1e-3), (0.5, 57, 0.2)])
def test_the_lower_bound_covers_the_true_probability_except_with_probability_epsilon(p, n, eps):
    """P(w_L(K) > p) for K ~ Binomial(n, p), summed exactly over k, is at most ε."""
    miss = sum(binom.pmf(k, n, p) for k in range(n + 1) if chernoff_lower_bound(k, n, eps) > p)
    assert miss <= eps


def test_bell_test_threshold_and_refusals():
    """S_L = 8 w_L − 4; passing needs S_L above the threshold; a threshold below the local bound
    2 (or at 2√2) is refused; no test rounds never pass."""
    t = chsh_bell_test(850, 1000, 1e-6)
    assert t.chsh_lower == pytest.approx(8 * t.win_lower - 4, abs=1e-12) and t.passed
    assert not chsh_bell_test(850, 1000, 1e-6, threshold=t.chsh_lower + 1e-9).passed
    assert not chsh_bell_test(750, 1000, 0.4).passed  # exactly the local win rate never passes
    assert LOCAL_WIN_PROBABILITY == 0.75
    with pytest.raises(ValueError, match=r"threshold must be in \[2, "):
        chsh_bell_test(850, 1000, 1e-6, threshold=1.9)
    with pytest.raises(ValueError, match="threshold must be in"):
        chsh_bell_test(850, 1000, 1e-6, threshold=TSIRELSON_BOUND)
    assert not chsh_bell_test(0, 0, 1e-3).passed


def test_finite_rate_is_pironio_at_the_confidence_bounds():
    """rate = 1 − h(Q_U) − h((1 + √((S_L/2)² − 1))/2) to 1e-12; below the rate at the point
    estimates; 0 at S_L ≤ 2 and without a QBER sample."""
    r = di_qkd_finite_rate(2.5, 4, 800, 1e-6)
    q_up = chernoff_upper_bound(4, 800, 1e-6)
    root = math.sqrt((2.5 / 2) ** 2 - 1)
    assert r.qber_upper == q_up and r.chsh_lower == 2.5
    assert r.rate == pytest.approx(1 - binary_entropy(q_up) - binary_entropy((1 + root) / 2), abs=1e-12)
    assert r.rate < di_qkd_rate(2.5, 4 / 800)
    assert di_qkd_finite_rate(2.0, 0, 800, 1e-6).rate == 0.0
    assert di_qkd_finite_rate(-3.0, 0, 800, 1e-6).rate == 0.0  # clipped, no error
    assert di_qkd_finite_rate(2.8, 0, 0, 1e-6).rate == 0.0
