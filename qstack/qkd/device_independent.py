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
*not* the finite-key bound against general attacks: that is :func:`di_qkd_finite_key` below.

*Finite key against general attacks* (:func:`di_qkd_finite_key`): the spot-checking protocol of
Arnon-Friedman, Dupuis, Fawzi, Renner & Vidick, Nat. Commun. 9, 459 (2018) (ADFRV) and
Arnon-Friedman, Renner & Vidick, SIAM J. Comput. 48, 181 (2019) (ARV). Each of ``n`` rounds is a
test round (``T = 1``) with probability ``γ``: uniform CHSH inputs, outcome ``C`` = win or lose;
otherwise a key round (``x = 0``, ``y = 2``, ``C = ⊥``). The protocol aborts unless there are at
most ``m_max`` test rounds and at least ``w_min = nγ ω_L`` wins. The key length assembled here:

    ℓ = n t − v √n − H_B − 3 log₂(1 / (1 − √(1 − (ε_s/4)²))) − leak_EC − 2 log₂(1/ε_PA)

* ``n t − v √n`` — the entropy accumulation theorem (Dupuis, Fawzi & Renner, Commun. Math.
  Phys. 379, 867 (2020), Thm. 4.4) on Alice's output and Bob's *test* output (``Ã_i B̃_i``, 2 × 3
  values, ``d = 6``) given the inputs and Eve, with the affine min-tradeoff function tangent to the
  single-round bound ``g(ω) = 1 − h((1 + √(16 ω(ω − 1) + 3))/2)`` (Pironio et al. 2009 in terms
  of the winning probability ``ω = ½ + S/8``; convex, so the tangent at any ``p_t`` lies below it):
  ``f(q) = g(p_t) + g′(p_t)(q(win)/γ − p_t)``, so ``t = f`` at ``ω_L`` and ``‖∇f‖∞ = g′(p_t)/γ``;
  ``v = 2 (log₂ 13 + ⌈g′(p_t)/γ⌉) √(1 − 2 log₂(ε_s/4 · ε_EA))`` (a run that passes with
  probability below ``ε_EA`` is secure trivially). ``p_t`` is optimised in ``(¾, ω_L]``.
* ``H_B`` — Bob's test outputs are removed by the chain rule for smooth entropies (Vitanov,
  Dupuis, Tomamichel & Renner, IEEE TIT 59, 2603 (2013); the ``3 log₂`` term). Given Alice's
  outputs and the inputs, ``B̃`` is fixed by the win/lose pattern, which on a passing run has at
  most ``k_max = m_max − w_min`` losses in at most ``m_max`` positions, so
  ``H_max(B̃ | Ã X Y T E) ≤ log₂ Σ_{k ≤ k_max} C(m_max, k) ≤ m_max h(k_max/m_max)``.
* ``leak_EC`` — one-way error correction of all ``n`` outputs: ``f_EC`` × the Shannon limit
  ``n[(1 − γ) h(Q) + γ h(ω)]`` (on test rounds Bob's guess errs with probability ``1 − ω`` at
  most on average) + the i.i.d. finite-size term ``4 log₂(2√2 + 1) √(n log₂(2/ε_EC′²))``
  (Tomamichel, Colbeck & Renner, IEEE TIT 55, 5840 (2009)) so that honest devices succeed with
  probability ≥ 1 − ε_EC′ + ``log₂(1/ε_EC)`` for the hash that checks it.
* ``2 log₂(1/ε_PA)`` — the leftover hash lemma.

``ω_L = ω − √(2 ω ln(1/ε_c)/(nγ))`` and ``m_max`` (the Chernoff upper tail of ``Bin(n, γ)`` at
``ε_c``) make honest devices of CHSH value ``S`` pass except with probability ≈ ``2 ε_c``. The
key is secret up to ``2 ε_s + ε_PA`` (or the run aborts with probability ≥ ``1 − ε_EA``) and
correct up to ``ε_EC``. As ``n → ∞`` at fixed ``γ`` the rate per round tends to
``g(ω) − f_EC[(1 − γ) h(Q) + γ h(ω)] − γ h(ω)`` with an ``O(1/√n)`` gap, and with ``γ → 0`` to the
asymptotic ``g(ω) − f_EC h(Q)`` (tests). This is the *original* EAT second-order term (``bound =
"eat"``): with it a run needs ~10⁷–10⁸ rounds at today's CHSH values.

*Improved second-order term* (``bound = "eat_improved"``): the EAT of Dupuis & Fawzi, IEEE TIT 65,
7596 (2019), replaces ``v √n`` by (:func:`improved_eat_correction`, α ∈ (1, 2) optimised on a grid)

    n (α − 1) (ln 2/2) V² + (g(ε) + α log₂(1/p_Ω))/(α − 1) + n (α − 1)² K_α,
    V = log₂(1 + 2d) + √(2 + Var(f)),   g(ε) = −log₂(1 − √(1 − ε²)),
    K_α = 2^{(α−1)(log₂ d + Max f − Min_Σ f)} ln³(2^{log₂ d + Max f − Min_Σ f} + e²) / (6 (2 − α)³ ln 2),

with ε = ε_s/4 and p_Ω ≥ ε_EA as above. The min-tradeoff function is the same tangent, extended off
the quantum set Σ as in Tan et al., Quantum 6, 880 (2022): ``f(win) = f(⊥) = g_t(1)``,
``f(lose) = g_t(1) − g′(p_t)/γ`` (``g_t`` the tangent line; on Σ, ``q(lose) = γ(1 − ω)``, so
``f = g_t(ω)``), hence ``Max f − Min_Σ f = g′(p_t)(1 − ω_min)`` with ``ω_min = sin²(π/8)`` and
``Var(f) ≤ g′(p_t)² ω_max/γ`` — the loss grows like ``√(n/γ)`` instead of ``√n/γ``. The constants
are as we recall Dupuis & Fawzi's Theorem and as a public implementation of Tan et al.'s bound
uses them (Steffinlongo et al., arXiv:2409.17075, App. C); the theorem's text itself was not
available to check. The Rényi-entropy EAT variants (Arqand et al.) are not implemented.

*Noisy preprocessing* (``noise = p``, Ho et al., PRL 124, 230502 (2020)): Alice flips each key-round
bit with probability p; the rate function becomes ``(1 − γ) g_p(ω) + γ g(ω)``
(:func:`noisy_entropy_rate`; key rounds flipped, test rounds raw; convex, so its tangents are valid
min-tradeoff functions) and the key-round leak ``(1 − γ) h(p + (1 − 2p) Q)``.

>>> t = chsh_bell_test(wins=850, rounds=1000, epsilon=1e-6)
>>> round(t.win_rate, 3), round(t.win_lower, 4), t.passed
(0.85, 0.7845, True)
>>> chsh_bell_test(wins=760, rounds=1000, epsilon=1e-6).passed    # S = 2.08 observed: not enough
False
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from qstack.physical.units import check_range
from qstack.qkd.entropy import TSIRELSON_BOUND, binary_entropy, di_qkd_rate

__all__ = [
    "LOCAL_WIN_PROBABILITY",
    "BellTest",
    "DIQKDFiniteKey",
    "DIQKDRate",
    "bernoulli_relative_entropy",
    "chernoff_lower_bound",
    "chernoff_upper_bound",
    "chsh_bell_test",
    "chsh_entropy_rate",
    "chsh_entropy_rate_derivative",
    "di_qkd_finite_key",
    "di_qkd_finite_rate",
    "di_qkd_min_rounds",
    "FINITE_KEY_BOUNDS",
    "MIN_WIN_PROBABILITY",
    "hoeffding_lower_bound",
    "improved_eat_correction",
    "noisy_entropy_rate",
    "noisy_entropy_rate_derivative",
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


MAX_WIN_PROBABILITY: float = (2.0 + math.sqrt(2.0)) / 4.0
"""Tsirelson's CHSH winning probability cos²(π/8) = ½ + 2√2/8."""


def chsh_entropy_rate(win_probability: float | np.ndarray) -> float | np.ndarray:
    """Single-round bound ``g(ω) = 1 − h((1 + √(16 ω(ω − 1) + 3))/2)`` on H(A|E), 0 for ω ≤ ¾.

    The bound of Pironio et al. (2009) written in the CHSH winning probability ``ω = ½ + S/8``
    (``(S/2)² − 1 = 16 ω(ω − 1) + 3``). Works on floats and arrays.

    >>> round(chsh_entropy_rate(MAX_WIN_PROBABILITY), 12)
    1.0
    >>> chsh_entropy_rate(0.75)
    0.0
    """
    w = np.asarray(win_probability, dtype=float)
    if np.any((w < 0.0) | (w > MAX_WIN_PROBABILITY * (1.0 + 1e-12))) or np.any(np.isnan(w)):
        raise ValueError(f"win_probability must be in [0, {MAX_WIN_PROBABILITY:.6f}], got {win_probability!r}")
    d = np.clip(16.0 * w * (w - 1.0) + 3.0, 0.0, 1.0)
    g = 1.0 - binary_entropy(np.clip((1.0 + np.sqrt(d)) / 2.0, 0.0, 1.0))
    g = np.where(w <= 0.75, 0.0, g)
    return float(g) if np.ndim(g) == 0 else g


def chsh_entropy_rate_derivative(win_probability: float | np.ndarray) -> float | np.ndarray:
    """``g′(ω) = log₂(u/(1 − u)) (8ω − 4)/√D`` with ``D = 16 ω(ω − 1) + 3``, ``u = (1 + √D)/2``,
    for ``¾ < ω < cos²(π/8)``; the limit ``4/ln 2`` at ω = ¾, +∞ at the Tsirelson point.

    >>> round(chsh_entropy_rate_derivative(0.75) * math.log(2), 12)
    4.0
    """
    w = np.asarray(win_probability, dtype=float)
    d = np.clip(16.0 * w * (w - 1.0) + 3.0, 0.0, 1.0)
    root = np.sqrt(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.log2((1.0 + root) / (1.0 - root)) * (8.0 * w - 4.0) / root
    slope = np.where(root < 1e-8, (8.0 * w - 4.0) * 2.0 / math.log(2.0), slope)  # atanh(x)/x → 1
    slope = np.where(root >= 1.0, np.inf, slope)
    return float(slope) if np.ndim(slope) == 0 else slope


def _half_log_ratio(r: np.ndarray) -> np.ndarray:
    """``½ log₂((1 + r)/(1 − r))`` (= atanh(r)/ln 2), finite for r in [0, 1)."""
    return np.arctanh(np.clip(r, 0.0, 1.0 - 1e-16)) / math.log(2.0)


def noisy_entropy_rate(win_probability: float | np.ndarray, noise: float = 0.0) -> float | np.ndarray:
    """The noisy-preprocessing bound of :func:`qstack.qkd.entropy.di_qkd_entropy_bound` in the CHSH
    winning probability ``ω = ½ + S/8``: ``g_p(ω) = 1 − h((1 + r₁)/2) + h((1 + r₂)/2)`` with
    ``r₁ = √((S/2)² − 1)``, ``r₂ = √(1 − p(1 − p)(8 − S²))``; ``h(p)`` for ω ≤ ¾ (no violation:
    only Alice's private flip is secret). ``noise`` p in [0, ½]; p = 0 is :func:`chsh_entropy_rate`.
    Works on floats and arrays.

    >>> round(noisy_entropy_rate(0.5 + 2.5 / 8, 0.1), 6)        # = di_qkd_entropy_bound(2.5, 0.1)
    0.703571
    """
    p = check_range("noise", noise, low=0.0, high=0.5)
    w = np.asarray(win_probability, dtype=float)
    if np.any((w < 0.0) | (w > MAX_WIN_PROBABILITY * (1.0 + 1e-12))) or np.any(np.isnan(w)):
        raise ValueError(f"win_probability must be in [0, {MAX_WIN_PROBABILITY:.6f}], got {win_probability!r}")
    s = np.clip(8.0 * w - 4.0, 2.0, TSIRELSON_BOUND)
    r1 = np.sqrt(np.clip(s * s / 4.0 - 1.0, 0.0, 1.0))
    r2 = np.sqrt(np.clip(1.0 - p * (1.0 - p) * (8.0 - s * s), 0.0, 1.0))
    g = 1.0 - binary_entropy(np.clip((1.0 + r1) / 2.0, 0.0, 1.0)) + binary_entropy(np.clip((1.0 + r2) / 2.0, 0.0, 1.0))
    g = np.clip(g, 0.0, 1.0)
    return float(g) if np.ndim(g) == 0 else g


def noisy_entropy_rate_derivative(win_probability: float | np.ndarray, noise: float = 0.0) -> float | np.ndarray:
    """``dg_p/dω = 8 dg_p/dS`` for ``¾ < ω < cos²(π/8)``:
    ``8 [atanh(r₁)/ln 2 · S/(4 r₁) − atanh(r₂)/ln 2 · p(1 − p) S / r₂]`` (``r₁, r₂`` as in
    :func:`noisy_entropy_rate`; atanh(r)/r → 1 at r → 0); p = 0 is :func:`chsh_entropy_rate_derivative`.

    >>> round(noisy_entropy_rate_derivative(0.8, 0.0) / chsh_entropy_rate_derivative(0.8), 12)
    1.0
    """
    p = check_range("noise", noise, low=0.0, high=0.5)
    w = np.asarray(win_probability, dtype=float)
    s = np.clip(8.0 * w - 4.0, 2.0, TSIRELSON_BOUND)
    r1 = np.sqrt(np.clip(s * s / 4.0 - 1.0, 0.0, 1.0))
    r2 = np.sqrt(np.clip(1.0 - p * (1.0 - p) * (8.0 - s * s), 0.0, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(r1 < 1e-8, 1.0 / math.log(2.0), _half_log_ratio(r1) / r1) * s / 4.0
        t2 = np.where(r2 < 1e-8, 1.0 / math.log(2.0), _half_log_ratio(r2) / r2) * p * (1.0 - p) * s
    slope = 8.0 * (t1 - t2)
    slope = np.where(r1 >= 1.0, np.inf, slope)
    return float(slope) if np.ndim(slope) == 0 else slope


class DIQKDFiniteKey(NamedTuple):
    """The finite-key length of the spot-checking DI-QKD protocol (module docstring), term by term.

    ``key_length`` (bits, may be negative: no key) ``= rounds·entropy_rate − eat_correction −
    bob_test_entropy − chain_rule − error_correction − privacy_amplification``; ``rate`` is
    ``max(key_length, 0)/rounds`` (bits per round); ``test_probability`` γ and ``tangent_point``
    ``p_t`` are the optimised (or given) choices; ``win_lower`` ω_L, ``max_tests`` m_max;
    ``noise`` the noisy-preprocessing flip probability p; ``bound`` ``"eat"`` (Dupuis, Fawzi &
    Renner 2020, Thm 4.4) or ``"eat_improved"`` (Dupuis & Fawzi 2019), and ``renyi_order`` the
    optimised α of the latter (NaN for ``"eat"``).
    """

    rounds: int
    chsh: float
    qber: float
    test_probability: float
    tangent_point: float
    win_lower: float
    max_tests: float
    entropy_rate: float
    eat_correction: float
    bob_test_entropy: float
    chain_rule: float
    error_correction: float
    privacy_amplification: float
    key_length: float
    rate: float
    noise: float = 0.0
    bound: str = "eat"
    renyi_order: float = math.nan


FINITE_KEY_BOUNDS: tuple[str, ...] = ("eat", "eat_improved")
"""The second-order terms :func:`di_qkd_finite_key` offers (module docstring)."""

MIN_WIN_PROBABILITY: float = (2.0 - math.sqrt(2.0)) / 4.0
"""The smallest quantum CHSH winning probability, sin²(π/8) (S = −2√2)."""

_D_OUT = 6  # values of (Ã_i, B̃_i) per round: 2 × 3
_RENYI_GRID = 1.0 + np.logspace(-10.0, math.log10(0.95), 300)  # α in (1, 2)


def _upper_tail(mean: float, log_inv_eps: float) -> float:
    """``μ(1 + x)`` with ``x²μ/(2 + x) = ln(1/ε)``: Chernoff, P(X ≥ μ(1 + x)) ≤ e^{−x²μ/(2+x)}."""
    x = (log_inv_eps + math.sqrt(log_inv_eps ** 2 + 8.0 * mean * log_inv_eps)) / (2.0 * mean)
    return mean * (1.0 + x)


def _round_rate(w: np.ndarray, gamma: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Rate function ``(1 − γ) g_p(ω) + γ g₀(ω)`` (key rounds flipped, test rounds raw) and its slope."""
    if noise == 0.0:
        return np.asarray(chsh_entropy_rate(w)), np.asarray(chsh_entropy_rate_derivative(w))
    rate = (1.0 - gamma) * np.asarray(noisy_entropy_rate(w, noise)) + gamma * np.asarray(chsh_entropy_rate(w))
    slope = ((1.0 - gamma) * np.asarray(noisy_entropy_rate_derivative(w, noise))
             + gamma * np.asarray(chsh_entropy_rate_derivative(w)))
    return rate, slope


def improved_eat_correction(n: int, slope: float | np.ndarray, gamma: float, alpha: float | np.ndarray,
                            smoothing: float, log2_inv_p_omega: float) -> float | np.ndarray:
    """The second-order loss of the EAT with improved second-order term (Dupuis & Fawzi, IEEE TIT
    65, 7596 (2019); module docstring), in bits, for the min-tradeoff function of slope ``slope``
    (``g′(p_t)``) at test probability ``gamma``, Rényi order ``alpha`` in (1, 2), smoothing ε and
    ``log₂(1/p_Ω)``:

        n (α − 1) (ln 2/2) V² + (g(ε) + α log₂(1/p_Ω))/(α − 1) + n (α − 1)² K_α

    with ``V = log₂(1 + 2d) + √(2 + g′² ω_max/γ)``, ``g(ε) = −log₂(1 − √(1 − ε²))``,
    ``K_α = 2^{(α−1)(log₂ d + Δ)} ln³(2^{log₂ d + Δ} + e²) / (6 (2 − α)³ ln 2)``,
    ``Δ = g′ (1 − ω_min)``, ``d = 6``. Works on arrays (broadcast).

    >>> round(float(improved_eat_correction(10**8, 4.0, 0.1, 1.001, 1e-6, 20.0)), 1)
    8359090.9
    """
    slope = np.asarray(slope, dtype=float)
    a = np.asarray(alpha, dtype=float)
    ln2 = math.log(2.0)
    var = slope * slope * MAX_WIN_PROBABILITY / gamma
    v = math.log2(1.0 + 2.0 * _D_OUT) + np.sqrt(2.0 + var)
    x = smoothing
    g_eps = math.log2((1.0 + math.sqrt(1.0 - x * x)) / (x * x))  # −log₂(1 − √(1 − ε²)), no cancellation
    spread = math.log2(_D_OUT) + slope * (1.0 - MIN_WIN_PROBABILITY)
    with np.errstate(over="ignore"):
        log_k = ((a - 1.0) * spread * ln2 + 3.0 * np.log(np.logaddexp(spread * ln2, 2.0))
                 - np.log(6.0 * (2.0 - a) ** 3 * ln2))
        k_alpha = np.exp(log_k)
        out = (n * (a - 1.0) * ln2 / 2.0 * v * v + (g_eps + a * log2_inv_p_omega) / (a - 1.0)
               + n * (a - 1.0) ** 2 * k_alpha)
    return float(out) if np.ndim(out) == 0 else out


def _finite_key_terms(n: int, chsh: float, qber: float, gamma: float, eps: dict[str, float], f_ec: float,
                      tangent_point: float | None, noise: float = 0.0, bound: str = "eat") -> DIQKDFiniteKey:
    omega = 0.5 + chsh / 8.0
    log_c = math.log(1.0 / eps["completeness"])
    w_low = omega - math.sqrt(2.0 * omega * log_c / (n * gamma))
    m_max = _upper_tail(n * gamma, log_c)
    k_max = m_max - n * gamma * max(w_low, 0.0)
    bob = m_max * float(binary_entropy(min(0.5, max(0.0, k_max / m_max))))
    x = eps["smoothing"] / 4.0
    chain = 3.0 * math.log2((1.0 + math.sqrt(1.0 - x * x)) / (x * x))  # 1/(1 − √(1 − x²)), no cancellation
    ec_prime = eps["error_correction_completeness"]
    key_error = noise + (1.0 - 2.0 * noise) * qber  # Bob's error on Alice's flipped key bits
    leak = (f_ec * n * ((1.0 - gamma) * float(binary_entropy(key_error)) + gamma * float(binary_entropy(omega)))
            + 4.0 * math.log2(2.0 * math.sqrt(2.0) + 1.0) * math.sqrt(n * math.log2(2.0 / ec_prime ** 2))
            + math.log2(1.0 / eps["error_correction"]))
    pa = 2.0 * math.log2(1.0 / eps["privacy_amplification"])
    fixed = bob + chain + leak + pa
    if w_low <= 0.75:
        return DIQKDFiniteKey(n, chsh, qber, gamma, math.nan, w_low, m_max, 0.0, 0.0, bob, chain, leak, pa,
                              -fixed, 0.0, noise, bound)
    top = min(w_low, MAX_WIN_PROBABILITY - 1e-9)
    if tangent_point is None:
        pts = 0.75 + (top - 0.75) * np.linspace(1e-6, 1.0, 400)
    else:
        pts = np.array([check_range("tangent_point", tangent_point, low=0.75, high=top, low_inclusive=False)])
    value, slope = _round_rate(pts, gamma, noise)
    t = value + slope * (w_low - pts)
    order = math.nan
    if bound == "eat":
        root = math.sqrt(1.0 - 2.0 * math.log2(x * eps["entropy_accumulation"]))
        correction = 2.0 * (math.log2(1.0 + 2.0 * _D_OUT) + np.ceil(slope / gamma)) * root * math.sqrt(n)
        length = n * t - correction
        k = int(np.argmax(length))
    else:
        grid = improved_eat_correction(n, slope[:, None], gamma, _RENYI_GRID[None, :], x,
                                       math.log2(1.0 / eps["entropy_accumulation"]))
        best_alpha = np.argmin(grid, axis=1)
        correction = grid[np.arange(len(pts)), best_alpha]
        length = n * t - correction
        k = int(np.argmax(length))
        order = float(_RENYI_GRID[best_alpha[k]])
    key = float(length[k]) - fixed
    return DIQKDFiniteKey(n, chsh, qber, gamma, float(pts[k]), w_low, m_max, float(t[k]), float(correction[k]),
                          bob, chain, leak, pa, key, max(key, 0.0) / n, noise, bound, order)


_DEFAULT_EPS = {"smoothing": 1e-6, "entropy_accumulation": 1e-6, "privacy_amplification": 1e-6,
                "error_correction": 1e-10, "error_correction_completeness": 1e-2, "completeness": 1e-2}


def di_qkd_finite_key(rounds: int, chsh: float, qber: float, *, test_probability: float | None = None,
                      tangent_point: float | None = None, error_correction_efficiency: float = 1.0,
                      epsilons: dict[str, float] | None = None, noise: float = 0.0,
                      bound: str = "eat") -> DIQKDFiniteKey:
    """Finite-key length against general attacks, by the entropy accumulation theorem (module docstring).

    ``rounds`` n ≥ 1; ``chsh`` the honest devices' CHSH value S in (2, 2√2] (the expected winning
    probability is ``½ + S/8``; S ≤ 2 gives no key); ``qber`` Q in [0, ½] of the key rounds;
    ``test_probability`` γ in (0, 1) or ``None`` to maximise the key over a log grid from 10⁻⁵ to
    0.9; ``tangent_point`` ``p_t`` or ``None`` to optimise it; ``error_correction_efficiency``
    f_EC ≥ 1. ``epsilons`` overrides any of ``smoothing`` (ε_s), ``entropy_accumulation`` (ε_EA),
    ``privacy_amplification`` (ε_PA), ``error_correction`` (ε_EC), ``error_correction_completeness``
    (ε_EC′) and ``completeness`` (ε_c), each in (0, 1); defaults 10⁻⁶, 10⁻⁶, 10⁻⁶, 10⁻¹⁰, 10⁻², 10⁻².
    ``noise`` p in [0, ½): noisy preprocessing of the key rounds (Ho et al. 2020); ``bound``
    ``"eat"`` (original second-order term) or ``"eat_improved"`` (Dupuis & Fawzi 2019, α optimised).

    >>> k = di_qkd_finite_key(10**10, 2.75, 0.01)
    >>> k.key_length > 0, round(k.rate, 4)
    (True, 0.6209)
    >>> di_qkd_finite_key(10**5, 2.75, 0.01).key_length < 0    # too few rounds for this bound
    True
    >>> di_qkd_finite_key(10**7, 2.75, 0.01, bound="eat_improved").rate > di_qkd_finite_key(10**7, 2.75, 0.01).rate
    True
    """
    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or rounds < 1:
        raise ValueError(f"rounds must be an int >= 1, got {rounds!r}")
    n = int(rounds)
    s = check_range("chsh", chsh, low=0.0, high=TSIRELSON_BOUND * (1.0 + 1e-12))
    s = min(s, TSIRELSON_BOUND)
    q = check_range("qber", qber, low=0.0, high=0.5)
    f_ec = check_range("error_correction_efficiency", error_correction_efficiency, low=1.0)
    p = check_range("noise", noise, low=0.0, high=0.5, high_inclusive=False)
    if bound not in FINITE_KEY_BOUNDS:
        raise ValueError(f"bound must be one of {', '.join(map(repr, FINITE_KEY_BOUNDS))}, got {bound!r}")
    eps = dict(_DEFAULT_EPS)
    for key, value in (epsilons or {}).items():
        if key not in eps:
            raise ValueError(f"epsilons has no field {key!r}; allowed: {', '.join(sorted(eps))}")
        eps[key] = check_range(f"epsilons[{key!r}]", value, low=0.0, high=1.0, low_inclusive=False,
                               high_inclusive=False)
    if test_probability is not None:
        gamma = check_range("test_probability", test_probability, low=0.0, high=1.0, low_inclusive=False,
                            high_inclusive=False)
        return _finite_key_terms(n, s, q, gamma, eps, f_ec, tangent_point, p, bound)
    best: DIQKDFiniteKey | None = None
    for gamma in np.logspace(-5.0, math.log10(0.9), 121):
        cand = _finite_key_terms(n, s, q, float(gamma), eps, f_ec, tangent_point, p, bound)
        if best is None or cand.key_length > best.key_length:
            best = cand
    assert best is not None
    return best


def di_qkd_min_rounds(chsh: float, qber: float, *, max_rounds: float = 1e16, **options: object) -> int | None:
    """Smallest number of rounds (to 1 %) for which :func:`di_qkd_finite_key` gives a positive key,
    or ``None`` if even ``max_rounds`` does not. ``options`` are passed on.

    >>> n = di_qkd_min_rounds(2.75, 0.01)
    >>> 10**6 < n < 10**9
    True
    """
    def positive(n: float) -> bool:
        return di_qkd_finite_key(int(n), chsh, qber, **options).key_length > 0  # type: ignore[arg-type]

    if not positive(max_rounds):
        return None
    lo, hi = 0.0, math.log10(max_rounds)
    while hi - lo > math.log10(1.01):
        mid = 0.5 * (lo + hi)
        if positive(10.0 ** mid):
            hi = mid
        else:
            lo = mid
    return int(math.ceil(10.0 ** hi))
