"""Finite-statistics Bell test and key rate of device-independent QKD (CHSH).

*The test.* In a CHSH round the inputs ``x, y`` are uniform bits and the players win when
``a ⊕ b = x·y``; the winning probability is ``w = ½ + S/8`` (``S = 8w − 4``). Any local
(classical) strategy — deterministic or using shared randomness, with memory of earlier rounds —
wins each round with probability at most ¾ given everything before it, as long as the inputs
are drawn independently of the devices. After ``m`` test rounds with ``k`` wins the protocol
computes the one-sided lower confidence bound (:func:`chernoff_lower_bound`)

    w_L = min{ w ≤ k/m : m D(k/m ‖ w) ≤ ln(1/ε) },    D(p ‖ q) = p ln(p/q) + (1−p) ln((1−p)/(1−q)),

and passes only if ``S_L = 8 w_L − 4`` exceeds the threshold (≥ 2). Passing needs ``k/m > w₀``
and ``m D(k/m ‖ w₀) > ln(1/ε)`` with ``w₀ = ¾``; by the Chernoff bound in relative-entropy form
(Hoeffding, J. Am. Stat. Assoc. 58, 13 (1963), Thm. 1, which for win indicators whose
conditional means given the past are ≤ w₀ follows from the same exponential supermartingale),
``P(k/m ≥ t) ≤ exp(−m D(t ‖ w₀))``, so **a local strategy passes with probability at most ε**,
for every number of test rounds. It is tighter than the additive Hoeffding bound
``w_L = k/m − √(ln(1/ε)/(2m))`` (Pinsker's inequality ``D ≥ 2(p − q)²``), which
:func:`hoeffding_lower_bound` gives for comparison.

*The key rate.* The secret fraction of Acín et al., PRL 98, 230501 (2007) and Pironio et al.,
New J. Phys. 11, 045021 (2009), Eq. (12), against collective attacks,
``r = 1 − h(Q) − h((1 + √((S/2)² − 1))/2)`` (:func:`qstack.qkd.entropy.di_qkd_rate`), is
evaluated at the confidence bounds: ``S_L`` from the Bell test and the upper bound ``Q_U`` on the
error probability of the key rounds from the ``n_Q`` revealed key rounds
(:func:`chernoff_upper_bound` at ``ε_Q``). It is monotone in both, so the rate holds except
with probability ``ε + ε_Q`` (the collective-attack, i.i.d. setting of Pironio et al.). It is
*not* the finite-key bound against general attacks: that is the entropy accumulation theorem
(Arnon-Friedman, Dupuis, Fawzi, Renner & Vidick, Nat. Commun. 9, 459 (2018)), which also charges
privacy amplification and needs ~10⁶–10⁸ rounds for a positive key with today's devices.

>>> t = chsh_bell_test(wins=850, rounds=1000, epsilon=1e-6)
>>> round(t.win_rate, 3), round(t.win_lower, 4), t.passed
(0.85, 0.7845, True)
>>> chsh_bell_test(wins=760, rounds=1000, epsilon=1e-6).passed    # S = 2.08 observed: not enough
False
"""

from __future__ import annotations

import math
from typing import NamedTuple

from qstack.physical.units import check_range
from qstack.qkd.entropy import TSIRELSON_BOUND, di_qkd_rate

__all__ = [
    "LOCAL_WIN_PROBABILITY",
    "BellTest",
    "DIQKDRate",
    "bernoulli_relative_entropy",
    "chernoff_lower_bound",
    "chernoff_upper_bound",
    "chsh_bell_test",
    "di_qkd_finite_rate",
    "hoeffding_lower_bound",
]

LOCAL_WIN_PROBABILITY: float = 0.75
"""Largest CHSH winning probability of a local strategy with uniform inputs (S = 2)."""


def bernoulli_relative_entropy(p: float, q: float) -> float:
    """Return D(p ‖ q) = p ln(p/q) + (1 − p) ln((1 − p)/(1 − q)), in nats (0 ln 0 = 0).

    >>> bernoulli_relative_entropy(0.5, 0.5)
    0.0
    >>> round(bernoulli_relative_entropy(1.0, 0.75), 6) == round(math.log(4 / 3), 6)
    True
    """
    p = check_range("p", p, low=0.0, high=1.0)
    q = check_range("q", q, low=0.0, high=1.0)
    total = 0.0
    for a, b in ((p, q), (1.0 - p, 1.0 - q)):
        if a > 0.0:
            if b == 0.0:
                return math.inf
            total += a * math.log(a / b)
    return max(0.0, total)


def _check_counts(successes: int, trials: int, epsilon: float) -> tuple[int, int, float]:
    for name, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if trials < 1:
        raise ValueError(f"trials must be >= 1, got {trials}")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be in [0, trials = {trials}], got {successes}")
    eps = check_range("epsilon", epsilon, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    return successes, trials, eps


def chernoff_lower_bound(successes: int, trials: int, epsilon: float) -> float:
    """Return the smallest ``p ≤ p̂ = successes/trials`` with ``trials · D(p̂ ‖ p) ≤ ln(1/ε)``.

    The one-sided lower confidence bound at ``ε`` of a success probability: if every trial
    succeeds with probability at most ``p`` given the earlier trials, ``P(p̂ ≥ t) ≤ exp(−n D(t ‖ p))``
    (Chernoff–Hoeffding), so a true probability below the bound is reported with probability
    ≤ ε. Bisection to a relative 1e-15. ``epsilon`` in (0, 1).

    >>> round(chernoff_lower_bound(50, 100, 0.05), 4)
    0.3794
    >>> chernoff_lower_bound(0, 10, 0.1)
    0.0
    """
    k, n, eps = _check_counts(successes, trials, epsilon)
    p_hat, budget = k / n, math.log(1.0 / eps)
    if k == 0:
        return 0.0
    if n * bernoulli_relative_entropy(p_hat, 0.0) <= budget:
        return 0.0
    low, high = 0.0, p_hat  # D(p̂ ‖ p) decreases from low to high
    for _ in range(200):
        mid = 0.5 * (low + high)
        if n * bernoulli_relative_entropy(p_hat, mid) > budget:
            low = mid
        else:
            high = mid
        if high - low <= 1e-15 * high:  # relative: the bound may be ~1e-14 for a rare success
            break
    return high


def chernoff_upper_bound(successes: int, trials: int, epsilon: float) -> float:
    """Return the largest ``p ≥ p̂`` with ``trials · D(p̂ ‖ p) ≤ ln(1/ε)``: the upper bound at ε.

    The mirror of :func:`chernoff_lower_bound` (``1 −`` the lower bound of the failures).

    >>> round(chernoff_upper_bound(0, 500, 1e-6), 5)       # no errors seen in 500: Q_U = 1 − ε^(1/n)
    0.02725
    """
    k, n, eps = _check_counts(successes, trials, epsilon)
    return 1.0 - chernoff_lower_bound(n - k, n, eps)


def hoeffding_lower_bound(successes: int, trials: int, epsilon: float) -> float:
    """Return the additive Hoeffding bound ``max(0, p̂ − √(ln(1/ε)/(2n)))`` (looser than Chernoff).

    >>> round(hoeffding_lower_bound(850, 1000, 1e-6), 4)
    0.7669
    """
    k, n, eps = _check_counts(successes, trials, epsilon)
    return max(0.0, k / n - math.sqrt(math.log(1.0 / eps) / (2.0 * n)))


class BellTest(NamedTuple):
    """The CHSH test of a DI-QKD run: ``wins`` of ``rounds`` test rounds, the observed
    ``win_rate``, its lower bound ``win_lower`` at ``epsilon``, ``chsh_lower = 8 w_L − 4``, the
    ``threshold`` on it and whether the test ``passed`` (``chsh_lower > threshold``)."""

    wins: int
    rounds: int
    win_rate: float
    win_lower: float
    chsh_lower: float
    epsilon: float
    threshold: float
    passed: bool


def chsh_bell_test(wins: int, rounds: int, epsilon: float, threshold: float = 2.0) -> BellTest:
    """Decide the CHSH test from ``wins`` in ``rounds`` test rounds at confidence ``epsilon``.

    Passes when ``S_L = 8 w_L − 4 > threshold`` with ``w_L`` = :func:`chernoff_lower_bound`;
    ``threshold`` in [2, 2√2): 2 is the local bound, so a local strategy passes with
    probability ≤ ε (module docstring); a lower threshold is refused. No test rounds: fails.

    >>> chsh_bell_test(0, 0, 1e-3).passed
    False
    """
    thr = check_range("threshold", threshold, low=2.0, high=TSIRELSON_BOUND, high_inclusive=False)
    eps = check_range("epsilon", epsilon, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    if rounds == 0:
        return BellTest(wins, 0, math.nan, 0.0, -4.0, eps, thr, False)
    w_low = chernoff_lower_bound(wins, rounds, eps)
    s_low = 8.0 * w_low - 4.0
    return BellTest(wins, rounds, wins / rounds, w_low, s_low, eps, thr, s_low > thr)


class DIQKDRate(NamedTuple):
    """Finite-statistics DI-QKD secret fraction ``rate`` at ``chsh_lower`` and ``qber_upper``."""

    chsh_lower: float
    qber_upper: float
    rate: float


def di_qkd_finite_rate(chsh_lower: float, errors: int, sampled: int, epsilon_qber: float) -> DIQKDRate:
    """Return ``1 − h(Q_U) − h((1 + √((S_L/2)² − 1))/2)`` at the confidence bounds (module docstring).

    ``chsh_lower`` is ``S_L`` (values below 0 or above 2√2 are clipped: the rate is 0 below 2
    anyway), ``errors`` of ``sampled`` revealed key rounds give ``Q_U`` =
    :func:`chernoff_upper_bound` at ``epsilon_qber`` (no sample: ``Q_U = ½``, no key).

    >>> r = di_qkd_finite_rate(2.6, 3, 1000, 1e-6)
    >>> round(r.qber_upper, 4), round(r.rate, 4)
    (0.0227, 0.4253)
    """
    s = min(max(float(chsh_lower), 0.0), TSIRELSON_BOUND)
    q_up = 0.5 if sampled == 0 else min(0.5, chernoff_upper_bound(errors, sampled, epsilon_qber))
    return DIQKDRate(s, q_up, di_qkd_rate(s, q_up))
