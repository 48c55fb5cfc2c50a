"""Twin-field QKD, sending-or-not-sending variant: the asymptotic key rate in closed form.

Twin-field QKD (Lucamarini, Yuan, Dynes & Shields, Nature 557, 400 (2018)) lets Alice's and
Bob's weak coherent pulses interfere at an untrusted middle station, so that a *single* photon
that crossed *half* the channel heralds a key bit: the rate scales as ``sqrt(η)`` and beats the
repeaterless PLOB bound ``−log2(1 − η)`` (Pirandola et al., Nat. Commun. 8, 15043 (2017))
beyond some distance. The variant here is sending-or-not-sending (SNS) TF-QKD (Wang, Yu & Hu,
Phys. Rev. A 98, 062323 (2018)), whose asymptotic rate with infinitely many decoys is their
Eq. (4),

    R = 2ε(1−ε) μ e^{−μ} s_1 [1 − h(e_1^ph)] − f S_Z h(E_Z)

per pulse pair in the Z (signal) windows: each party *sends* a phase-randomised coherent pulse of
intensity ``μ`` with probability ``ε`` (Alice's bit 1, Bob's bit 0) or sends nothing; an
*effective* event is exactly one of the station's two detectors clicking. Untagged bits are those
where exactly one party sent exactly one photon; their yield ``s_1`` and phase-flip rate
``e_1^ph`` are fixed by the decoys (X windows). The channel: each arm has transmittance
``η_s = η_det · 10^{−α L/20}`` to the station (symmetric, detector efficiency included), a
dark-count probability ``p_d`` per detector per window, and ``e_d`` the probability that an
arriving single photon's interference sends it to the wrong detector (phase drift, polarisation,
mismatch of the X-window phase slices). Counting exactly-one-click events:

* ``s_1 = (1−p_d)[η_s + 2p_d(1−η_s)]``, ``e_1^ph s_1 = (1−p_d)[η_s e_d + (1−η_s) p_d]``;
* neither sends: ``2p_d(1−p_d)`` (an error: the bits are 0 and 1);
* one sends (``η_s μ`` arrives, split evenly): ``2(1−p_d) e^{−η_s μ/2} [1 − (1−p_d) e^{−η_s μ/2}]``;
* both send, independent phases (an error): the ports get ``η_s μ (1 ± cos θ)``, averaged over
  ``θ``: ``2(1−p_d) e^{−η_s μ} [I0(η_s μ) − (1−p_d) e^{−η_s μ}]``;

so ``S_Z = (1−ε)² 2p_d(1−p_d) + 2ε(1−ε)·(one sends) + ε²·(both send)`` and ``E_Z S_Z`` is the
first and last terms. With ``p_d = 0`` and ``η_s → 0``: ``R/η_s → 2ε(1−ε) μ e^{−μ} [1 − h(e_d)]
− 2ε μ f h(ε)`` — the rate is ``O(sqrt(η))`` for ``η = η_s²``. Differences that cancel at high loss
are computed without cancellation, as in :mod:`qstack.qkd.mdi`.

In the infinite-decoy limit ``e_1^ph`` is the X-window single-photon error rate that Wang, Yu & Hu
bound with decoys; ``e_d`` is their "single-photon interference misalignment error". With their
simulation devices (η_det 80 %, p_d = 1e-11, f = 1.1, 0.2 dB/km) the rate, optimised over ``μ``
and ``ε`` (:func:`sns_optimal_max_distance`), reaches 707, 628, 517 and 297 km at
``e_d`` = 15, 25, 35 and 45 % — their abstract: "exceeds a secure distance of 700, 600, 500, or
300 km" (the last 3 km, 1.1 %, short).

Actively odd-parity pairing (:func:`aopp_pairing`, :func:`sns_aopp_rate`; Xu et al., PRA 101,
042330 (2020)) and a finite-size 3-intensity decoy analysis with Chernoff bounds
(:func:`sns_finite_rate`) are at the end of the module.

>>> r = sns_key_rate(300e3, mu=0.3, epsilon=0.05, detector_efficiency=0.6, dark_count=1e-8, misalignment=0.03)
>>> from qstack.qkd.entropy import plob_bound
>>> r > plob_bound(10 ** (-0.2 * 300 / 10))   # above the repeaterless bound at 300 km
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from scipy.optimize import brentq, minimize

from qstack.physical.units import check_range
from qstack.qkd.entropy import binary_entropy, plob_bound
from qstack.qkd.mdi import _i0m1, _one_minus_survival

__all__ = ["AOPPResult", "SNSFiniteResult", "SNSStatistics", "aopp_pairing", "chernoff_bounds",
           "sns_aopp_key_rate", "sns_aopp_optimal_max_distance", "sns_aopp_optimal_rate", "sns_aopp_rate",
           "sns_aopp_statistics", "sns_crossover_distance", "sns_decoy_bounds", "sns_finite_optimal_rate",
           "sns_finite_rate", "sns_key_rate", "sns_max_distance", "sns_optimal_max_distance", "sns_optimal_rate",
           "sns_rate", "sns_statistics"]


@dataclass(frozen=True)
class SNSStatistics:
    """Per Z-window pulse pair: effective-event gain ``s_z`` and bit-flip rate ``e_z``; the
    untagged single-photon yield ``s_1``, phase-flip rate ``e1_ph`` and count ``n_1 = 2ε(1−ε) μ
    e^{−μ} s_1``."""

    s_z: float
    e_z: float
    s_1: float
    e1_ph: float
    n_1: float


def _checked_z_terms(eta_s: float, mu: float, epsilon: float, dark_count: float,
                     misalignment: float) -> tuple[float, float, float, tuple[float, float, float, float, float]]:
    """The inputs of an SNS window checked (errors name the field and its range), and its
    :func:`_z_terms`: ``(eta_s, mu, epsilon, (neither, one, both, s_1, e1 s_1))``."""
    eta = check_range("eta_s", eta_s, low=0.0, high=1.0)
    mu = check_range("mu", mu, low=0.0, low_inclusive=False)
    eps = check_range("epsilon", epsilon, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    p_d = check_range("dark_count", dark_count, low=0.0, high=1.0, high_inclusive=False)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    return eta, mu, eps, _z_terms(eta, mu, p_d, e_d)


def _z_terms(eta: float, mu: float, p_d: float, e_d: float) -> tuple[float, float, float, float, float]:
    """Exactly-one-click probabilities of a Z window when neither, one or both parties send
    (module docstring), and the single-photon yield ``s_1`` and error count ``e_1 s_1``."""
    x = eta * mu
    neither = 2.0 * p_d * (1.0 - p_d)
    one = 2.0 * (1.0 - p_d) * math.exp(-x / 2.0) * _one_minus_survival(p_d, x / 2.0)
    # I0(x) − (1−p_d) e^{−x} = [I0(x) − 1] + [1 − (1−p_d) e^{−x}]
    both = 2.0 * (1.0 - p_d) * math.exp(-x) * (_i0m1(x) + _one_minus_survival(p_d, x))
    s_1 = (1.0 - p_d) * (eta + 2.0 * p_d * (1.0 - eta))
    e1_s1 = (1.0 - p_d) * (eta * e_d + (1.0 - eta) * p_d)
    return neither, one, both, s_1, e1_s1


def sns_statistics(eta_s: float, mu: float, epsilon: float, *, dark_count: float = 0.0,
                   misalignment: float = 0.0) -> SNSStatistics:
    """The closed forms of the module docstring at arm transmittance ``eta_s`` (detector
    efficiency included), sending intensity ``mu`` and probability ``epsilon``.

    >>> s = sns_statistics(0.01, 0.3, 0.2)
    >>> s.s_1, s.e1_ph                       # no dark counts: s_1 = η_s, e_1 = e_d = 0
    (0.01, 0.0)
    """
    eta, mu, eps, (neither, one, both, s_1, e1_s1) = _checked_z_terms(eta_s, mu, epsilon, dark_count, misalignment)
    wrong = (1.0 - eps) ** 2 * neither + eps * eps * both
    s_z = wrong + 2.0 * eps * (1.0 - eps) * one
    return SNSStatistics(s_z=s_z, e_z=wrong / s_z if s_z > 0 else 0.5, s_1=s_1,
                         e1_ph=e1_s1 / s_1 if s_1 > 0 else 0.5, n_1=2.0 * eps * (1.0 - eps) * mu * math.exp(-mu) * s_1)


def sns_rate(eta_s: float, mu: float, epsilon: float, *, dark_count: float = 0.0, misalignment: float = 0.0,
             f: float = 1.1, clip: bool = True) -> float:
    """The asymptotic SNS-TF-QKD key rate ``n_1 [1 − h(e_1^ph)] − f S_Z h(E_Z)`` in secret bits
    per pulse pair (Z windows; the decoy windows' share is taken as negligible, the asymptotic
    limit). ``clip=False`` keeps the negative value past the maximal distance.

    >>> from qstack.qkd.entropy import binary_entropy
    >>> limit = 2 * 0.05 * 0.95 * 0.3 * math.exp(-0.3) - 1.1 * 2 * 0.05 * 0.3 * binary_entropy(0.05)
    >>> abs(sns_rate(1e-12, 0.3, 0.05) / 1e-12 / limit - 1) < 1e-9   # the η_s → 0 limit at p_d = e_d = 0
    True
    """
    f = check_range("f", f, low=1.0)
    s = sns_statistics(eta_s, mu, epsilon, dark_count=dark_count, misalignment=misalignment)
    raw = s.n_1 * (1.0 - float(binary_entropy(min(s.e1_ph, 0.5)))) - f * s.s_z * float(
        binary_entropy(min(s.e_z, 0.5)))
    return max(raw, 0.0) if clip else raw


def _arm(distance: float, attenuation: float, detector_efficiency: float) -> float:
    distance = check_range("distance", distance, low=0.0, unit="m")
    attenuation = check_range("attenuation", attenuation, low=0.0, unit="dB/km")
    eta_d = check_range("detector_efficiency", detector_efficiency, low=0.0, high=1.0)
    return eta_d * 10.0 ** (-attenuation * distance / 1e3 / 20.0)


def sns_key_rate(distance: float, *, mu: float = 0.3, epsilon: float = 0.05, attenuation: float = 0.2,
                 detector_efficiency: float = 1.0, dark_count: float = 0.0, misalignment: float = 0.0,
                 f: float = 1.1, clip: bool = True) -> float:
    """SNS-TF-QKD key rate (bits per pulse pair) over ``distance`` metres of fibre between Alice and
    Bob (``attenuation`` dB/km), the station in the middle.

    >>> sns_key_rate(0.0, mu=0.3, epsilon=0.05) > 0
    True
    """
    return sns_rate(_arm(distance, attenuation, detector_efficiency), mu, epsilon, dark_count=dark_count,
                    misalignment=misalignment, f=f, clip=clip)


def _sns_optimum(distance: float, kwargs: dict,
                 rate_fn: Callable[..., float] | None = None) -> tuple[float, float, float]:
    """``(raw rate, mu, epsilon)`` at the (μ, ε) maximising the *unclipped* :func:`sns_key_rate`:
    Nelder–Mead over ``log mu`` and ``logit epsilon`` from a few starting points."""
    if "mu" in kwargs or "epsilon" in kwargs:
        raise TypeError("the SNS optimisers choose mu and epsilon themselves")
    if "clip" in kwargs:
        raise TypeError("the SNS optimisers take no clip keyword")

    # the rate in units of the arm transmittance is O(1e-3) at any distance, so one absolute
    # tolerance fits all; mu is kept in [1e-3, 2] and epsilon in (1e-13, 1 − 1e-13)
    scale = _arm(distance, kwargs.get("attenuation", 0.2), kwargs.get("detector_efficiency", 1.0))
    scale = scale if scale > 0 else 1.0

    def point(v):
        return math.exp(min(max(v[0], -6.9), 0.7)), 1.0 / (1.0 + math.exp(-min(max(v[1], -30.0), 30.0)))

    fn = sns_key_rate if rate_fn is None else rate_fn

    def loss(v):
        mu, eps = point(v)
        return -fn(distance, mu=mu, epsilon=eps, clip=False, **kwargs) / scale

    best = None
    for start in ((math.log(0.4), math.log(0.1 / 0.9)), (math.log(0.1), math.log(0.3 / 0.7)),
                  (math.log(0.8), math.log(0.02 / 0.98))):
        res = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-16, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    mu, eps = point(best.x)
    return fn(distance, mu=mu, epsilon=eps, clip=False, **kwargs), mu, eps


def sns_optimal_rate(distance: float, **kwargs: float) -> tuple[float, float, float]:
    """``(rate, mu, epsilon)`` maximising :func:`sns_key_rate` at ``distance`` (Nelder–Mead over
    ``log mu`` and ``logit epsilon`` from a few starting points, ``mu`` in [1e-3, 2]); other
    keywords as there (``TypeError`` for ``mu``, ``epsilon`` or ``clip``)."""
    _, mu, eps = _sns_optimum(distance, kwargs)
    return sns_key_rate(distance, mu=mu, epsilon=eps, **kwargs), mu, eps


def sns_optimal_max_distance(**kwargs: float) -> float:
    """The distance (m) beyond which no choice of ``mu`` and ``epsilon`` gives a key: the root of
    the optimised, unclipped rate of :func:`sns_optimal_rate` (``inf`` if it stays positive to
    6400 km; ``ValueError`` if there is no key at zero distance). Other keywords as
    :func:`sns_key_rate`.

    With Wang, Yu & Hu's simulation devices (η_det 80 %, p_d = 1e-11, f = 1.1, 0.2 dB/km) and a
    single-photon interference error of 15 % the key reaches 707 km — their abstract's "exceeds
    700 km" (see ``tests/qkd/test_mdi_twin_field.py`` for all four of their error rates):

    >>> round(sns_optimal_max_distance(detector_efficiency=0.8, dark_count=1e-11, misalignment=0.15) / 1e3)
    707
    """

    return _optimal_root(kwargs, None)


def _optimal_root(kwargs: dict, rate_fn: Callable[..., float] | None) -> float:
    def best(d: float) -> float:
        return _sns_optimum(d, kwargs, rate_fn)[0]

    if best(0.0) <= 0.0:
        raise ValueError("no key at zero distance for any mu and epsilon: misalignment or dark counts are too high")
    lo, hi = 0.0, 100e3
    while best(hi) > 0.0:
        lo, hi = hi, hi * 2.0
        if hi > 6.4e6:
            return math.inf
    return float(brentq(best, lo, hi, xtol=1.0, rtol=1e-12))


def sns_max_distance(**kwargs: float) -> float:
    """The distance (m) beyond which :func:`sns_key_rate` is zero (``inf`` if it stays positive
    to 6400 km; ``ValueError`` if there is no key at zero distance)."""
    if sns_key_rate(0.0, clip=False, **kwargs) <= 0.0:
        raise ValueError("no key at zero distance: misalignment or dark counts are too high")
    lo, hi = 0.0, 100e3
    while sns_key_rate(hi, clip=False, **kwargs) > 0.0:
        lo, hi = hi, hi * 2.0
        if hi > 6.4e6:
            return math.inf
    return float(brentq(lambda d: sns_key_rate(d, clip=False, **kwargs), lo, hi, xtol=1e-6, rtol=1e-14))


def sns_crossover_distance(**kwargs: float) -> float:
    """The shortest distance (m) beyond which :func:`sns_key_rate` exceeds the PLOB bound of the
    Alice–Bob fibre, ``−log2(1 − 10^{−α L/10})`` (fibre loss only: detectors are part of the
    protocol, not of the channel). Scans in 1 km steps up to the maximal distance, then refines
    with Brent's method; ``ValueError`` if the rate never beats the bound.

    >>> round(sns_crossover_distance(mu=0.3, epsilon=0.05, detector_efficiency=0.6, dark_count=1e-8,
    ...                              misalignment=0.03) / 1e3)
    250
    """
    attenuation = kwargs.get("attenuation", 0.2)

    def margin(d: float) -> float:
        rate = sns_key_rate(d, clip=False, **kwargs)
        bound = plob_bound(10.0 ** (-attenuation * d / 1e3 / 10.0)) if d > 0 else math.inf
        return math.log(rate) - math.log(bound) if rate > 0 else -math.inf

    end = sns_max_distance(**kwargs)
    end = min(end, 6.4e6)
    d = 1e3
    while d < end:
        if margin(d) > 0:
            return float(brentq(margin, d - 1e3, d, xtol=1e-6, rtol=1e-14)) if d > 1e3 else d
        d += 1e3
    raise ValueError("the SNS-TF-QKD rate never beats the PLOB bound with these parameters")


# --------------------------------------------------------------------------------------------
# Actively odd-parity pairing (AOPP)
# --------------------------------------------------------------------------------------------


def _h(p: float) -> float:
    """Binary entropy of ``min(p, 1/2)`` (plain ``math``: the optimisers call it many times)."""
    p = min(max(p, 0.0), 0.5)
    if p <= 0.0:
        return 0.0
    return -p * math.log2(p) - (1.0 - p) * math.log2(1.0 - p)


@dataclass(frozen=True)
class AOPPResult:
    """What actively odd-parity pairing leaves of a block of Z-window bits (counts, or counts per
    pulse pair): ``pairs`` formed (one bit 0 with one bit 1 of Bob's), ``survived`` pairs (Alice's
    parity also odd; one bit kept from each), their bit-flip error rate ``e_z``, the number
    ``untagged`` of survived pairs made of two untagged bits and their phase-flip error rate
    ``e1_ph``."""

    pairs: float
    survived: float
    e_z: float
    untagged: float
    e1_ph: float


def aopp_pairing(n_0: float, n_1: float, e_0: float, e_1: float, u_0: float, u_1: float,
                 e1_ph: float) -> AOPPResult:
    """Actively odd-parity pairing of SNS Z-window bits (Xu, Yu, Jiang, Hu & Wang, arXiv:1904.06331,
    published as PRA 101, 042330 (2020); the counting as we recall it, re-derived here).

    Bob holds ``n_0`` bits 0 (he sent) with bit-flip error rate ``e_0`` (errors: both sent) and
    ``n_1`` bits 1 (he did not send) with error rate ``e_1`` (errors: neither sent, a dark count);
    ``u_0`` of his bits 0 and ``u_1`` of his bits 1 are untagged (the other party sent exactly
    one photon: never a bit flip), with phase-flip error rate ``e1_ph``. Bob pairs bits 0 with
    bits 1 at random, ``min(n_0, n_1)`` pairs, and announces the positions; Alice announces the
    parity of her two bits; a pair is kept, and its first bit used, when her parity is odd too,
    i.e. when both bits are right or both wrong:

        survived = pairs [(1−e_0)(1−e_1) + e_0 e_1],   E' = e_0 e_1 / [(1−e_0)(1−e_1) + e_0 e_1]
        untagged = pairs (u_0/n_0)(u_1/n_1),            e'_ph = e1_ph (1−e1_ph) · 2

    (two untagged bits always survive; the kept bit's phase flips when exactly one of the two
    did). With ``e_0 = e_1 = E``: ``E' = E²/[E² + (1−E)²]``.

    >>> r = aopp_pairing(100.0, 120.0, 0.1, 0.1, 50.0, 60.0, 0.03)
    >>> r.pairs, round(r.survived, 9), round(r.e_z, 9), round(r.untagged, 9)
    (100.0, 82.0, 0.012195122, 25.0)
    """
    for name, value in (("n_0", n_0), ("n_1", n_1)):
        check_range(name, value, low=0.0)
    for name, value in (("e_0", e_0), ("e_1", e_1), ("e1_ph", e1_ph)):
        check_range(name, value, low=0.0, high=1.0)
    check_range("u_0", u_0, low=0.0, high=max(n_0, 0.0))
    check_range("u_1", u_1, low=0.0, high=max(n_1, 0.0))
    pairs = min(n_0, n_1)
    if pairs <= 0.0:
        return AOPPResult(0.0, 0.0, 0.5, 0.0, 0.5)
    keep = (1.0 - e_0) * (1.0 - e_1) + e_0 * e_1
    survived = pairs * keep
    return AOPPResult(pairs=pairs, survived=survived, e_z=e_0 * e_1 / keep if keep > 0 else 0.5,
                      untagged=pairs * (u_0 / n_0) * (u_1 / n_1), e1_ph=2.0 * e1_ph * (1.0 - e1_ph))


def sns_aopp_statistics(eta_s: float, mu: float, epsilon: float, *, dark_count: float = 0.0,
                        misalignment: float = 0.0) -> AOPPResult:
    """:func:`aopp_pairing` of the Z-window bits per pulse pair, from the closed forms of the module
    docstring: Bob's bits 1 ``n_1 = (1−ε)² 2p_d(1−p_d) + ε(1−ε)·(one sends)`` (the first term
    wrong), his bits 0 ``n_0 = ε(1−ε)·(one sends) + ε²·(both send)`` (the last term wrong), each
    set holding ``ε(1−ε) μ e^{−μ} s_1`` untagged bits with phase-flip rate ``e_1^ph``.

    >>> r = sns_aopp_statistics(1e-6, 0.3, 0.2)      # no dark counts: Bob's bits 1 are never wrong
    >>> r.e_z, round(r.survived / r.pairs, 6)       # survival 1 − e_0 = (1−ε)/(1+ε) as η_s → 0
    (0.0, 0.666667)
    """
    eta, mu, eps, (neither, one, both, s_1, e1_s1) = _checked_z_terms(eta_s, mu, epsilon, dark_count, misalignment)
    err_1, err_0 = (1.0 - eps) ** 2 * neither, eps * eps * both
    n_1 = err_1 + eps * (1.0 - eps) * one
    n_0 = err_0 + eps * (1.0 - eps) * one
    untagged = eps * (1.0 - eps) * mu * math.exp(-mu) * s_1
    return aopp_pairing(n_0, n_1, err_0 / n_0 if n_0 > 0 else 0.5, err_1 / n_1 if n_1 > 0 else 0.5,
                        min(untagged, n_0), min(untagged, n_1), e1_s1 / s_1 if s_1 > 0 else 0.5)


def sns_aopp_rate(eta_s: float, mu: float, epsilon: float, *, dark_count: float = 0.0, misalignment: float = 0.0,
                  f: float = 1.1, clip: bool = True) -> float:
    """The asymptotic SNS-TF-QKD key rate with AOPP, ``n'_1 [1 − h(e'_ph)] − f n'_t h(E')`` in
    secret bits per Z-window pulse pair (Xu et al. 2020, as :func:`aopp_pairing`; infinitely many
    decoys, the decoy windows' share negligible). Without dark counts and as ``η_s → 0`` the rate
    is ``η_s ε(1−ε)² μ e^{−2μ}/(1+ε) · [1 − h(2e_d(1−e_d))]``: no error correction is needed at all
    (``E' = 0``), which is why AOPP tolerates a much larger sending probability ``ε``.

    >>> lim = 0.2 * 0.8**2 * 0.3 * math.exp(-0.6) / 1.2
    >>> abs(sns_aopp_rate(1e-12, 0.3, 0.2) / 1e-12 / lim - 1) < 1e-9
    True
    """
    f = check_range("f", f, low=1.0)
    r = sns_aopp_statistics(eta_s, mu, epsilon, dark_count=dark_count, misalignment=misalignment)
    raw = r.untagged * (1.0 - _h(r.e1_ph)) - f * r.survived * _h(r.e_z)
    return max(raw, 0.0) if clip else raw


def sns_aopp_key_rate(distance: float, *, mu: float = 0.3, epsilon: float = 0.2, attenuation: float = 0.2,
                      detector_efficiency: float = 1.0, dark_count: float = 0.0, misalignment: float = 0.0,
                      f: float = 1.1, clip: bool = True) -> float:
    """:func:`sns_aopp_rate` over ``distance`` metres of fibre, the station in the middle (keywords
    as :func:`sns_key_rate`).

    >>> sns_aopp_key_rate(500e3, detector_efficiency=0.6, dark_count=1e-9, misalignment=0.03) > 0
    True
    """
    return sns_aopp_rate(_arm(distance, attenuation, detector_efficiency), mu, epsilon, dark_count=dark_count,
                         misalignment=misalignment, f=f, clip=clip)


def sns_aopp_optimal_rate(distance: float, **kwargs: float) -> tuple[float, float, float]:
    """``(rate, mu, epsilon)`` maximising :func:`sns_aopp_key_rate` (the optimiser of
    :func:`sns_optimal_rate`)."""
    _, mu, eps = _sns_optimum(distance, kwargs, sns_aopp_key_rate)
    return sns_aopp_key_rate(distance, mu=mu, epsilon=eps, **kwargs), mu, eps


def sns_aopp_optimal_max_distance(**kwargs: float) -> float:
    """The distance (m) beyond which no ``mu``, ``epsilon`` gives an AOPP key (as
    :func:`sns_optimal_max_distance`)."""
    return _optimal_root(kwargs, sns_aopp_key_rate)


# --------------------------------------------------------------------------------------------
# Finite size: 3-intensity decoys with Chernoff bounds
# --------------------------------------------------------------------------------------------


def _chernoff_factor(count: float, log_fail: float, upper: bool) -> float:
    """``E/X`` of :func:`chernoff_bounds`. With ``u = ln(1+δ_1)`` the lower equation reads
    ``X[1 − e^{−u} − u] = ln(ξ/2)`` (``E^L = X e^{−u}``); with ``v = −ln(1−δ_2)`` the upper one
    ``X[1 + v − e^{v}] = ln(ξ/2)`` (``E^U = X e^{v}``): both sides decrease monotonically, and
    no power overflows however small ``X`` is."""
    t = -log_fail / count
    if upper:
        def g(v: float) -> float:
            return t - _exp_tail(v)
        hi = max(2.0, math.log(2.0 * t)) + 1.0
        return math.exp(float(brentq(g, 0.0, hi, xtol=1e-300, rtol=1e-15)))

    def g(u: float) -> float:
        return t - _exp_tail(-u)
    return math.exp(-float(brentq(g, 0.0, t + 2.0, xtol=1e-300, rtol=1e-15)))


def _exp_tail(z: float) -> float:
    """``e^z − 1 − z`` without cancellation (its series for small ``|z|``)."""
    if abs(z) >= 0.1:
        return math.expm1(z) - z
    total, term, k = 0.0, z, 1
    while True:
        k += 1
        term *= z / k
        total += term
        if abs(term) <= 1e-18 * abs(total):
            return total


def chernoff_bounds(count: float, failure: float = 1e-10) -> tuple[float, float]:
    """``(E^L, E^U)``: bounds on the expected value of an observed count ``count`` (a sum of
    independent trials) that each fail with probability at most ``failure/2``, from the
    multiplicative Chernoff bound as the SNS finite-size analyses use it (Yu et al., Sci. Rep. 9,
    3080 (2019); Jiang et al., Phys. Rev. Appl. 12, 024061 (2019), after Zhang et al., PRA 95,
    012333 (2017)): ``E^L = X/(1+δ_1)``, ``E^U = X/(1−δ_2)`` with

        [e^{δ_1} / (1+δ_1)^{1+δ_1}]^{X/(1+δ_1)} = ξ/2,    [e^{−δ_2} / (1−δ_2)^{1−δ_2}]^{X/(1−δ_2)} = ξ/2.

    For large ``X`` both are ``X ∓ sqrt(2 X ln(2/ξ))`` to leading order. ``count = 0`` gives
    ``(0, ln(2/ξ))``.

    >>> lo, hi = chernoff_bounds(1e6, 1e-10)
    >>> round((1e6 - lo) / math.sqrt(2e6 * math.log(2e10)), 2), round((hi - 1e6) / math.sqrt(2e6 * math.log(2e10)), 2)
    (1.0, 1.0)
    """
    x = check_range("count", count, low=0.0)
    xi = check_range("failure", failure, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    log_fail = math.log(xi / 2.0)
    if x == 0.0:
        return 0.0, -log_fail
    return x * _chernoff_factor(x, log_fail, upper=False), x * _chernoff_factor(x, log_fail, upper=True)


@dataclass(frozen=True)
class SNSFiniteResult:
    """A finite-size SNS key: ``rate`` (secret bits per pulse pair sent, all windows counted),
    ``key_bits`` (the final key length), the decoy bounds ``s1_lower`` and ``e1_upper``, the
    lower bound ``n1_lower`` on untagged Z-window bits, the Z-window counts ``n_t`` and QBER
    ``e_z`` — after AOPP (``aopp=True``) the survived bits and their QBER."""

    rate: float
    key_bits: float
    s1_lower: float
    e1_upper: float
    n1_lower: float
    n_t: float
    e_z: float


def sns_decoy_bounds(s_00: float, s_10: float, s_20: float, t_11: float, mu_1: float,
                     mu_2: float) -> tuple[float, float]:
    """``(s_1^L, e_1^U)``: the 3-intensity decoy bounds of SNS (Yu et al., Sci. Rep. 9, 3080 (2019);
    the vacuum + two-decoy bound of Ma et al., PRA 72, 012326 (2005), applied to windows where one
    party sends ``μ_1`` or ``μ_2`` and the other nothing), from the yields ``s_00`` (neither
    sends), ``s_10``/``s_20`` (one sends ``μ_1``/``μ_2``) and the error yield ``t_11`` of the
    phase-matched windows where both send ``μ_1`` (total intensity ``2μ_1``):

        s_1^L = [μ_2² e^{μ_1} s_10 − μ_1² e^{μ_2} s_20 − (μ_2² − μ_1²) s_00] / [μ_1 μ_2 (μ_2 − μ_1)],
        e_1^U = [t_11 − e^{−2μ_1} s_00 / 2] / [2 μ_1 e^{−2μ_1} s_1^L].

    >>> s1, e1 = sns_decoy_bounds(0.0, 0.05 * math.exp(-0.05), 0.1 * math.exp(-0.1), 0.0, 0.05, 0.1)
    >>> round(s1, 12), e1          # yields of a lossless click-on-every-photon channel: s_1 = 1
    (1.0, 0.0)
    """
    mu_1 = check_range("mu_1", mu_1, low=0.0, low_inclusive=False)
    mu_2 = check_range("mu_2", mu_2, low=mu_1, low_inclusive=False)
    s1 = (mu_2**2 * math.exp(mu_1) * s_10 - mu_1**2 * math.exp(mu_2) * s_20 - (mu_2**2 - mu_1**2) * s_00) \
        / (mu_1 * mu_2 * (mu_2 - mu_1))
    if s1 <= 0.0:
        return 0.0, 0.5
    return s1, _e1_upper(t_11, s_00, mu_1, s1)


def _e1_upper(t_11: float, s_00: float, mu_1: float, s1: float) -> float:
    e1 = (t_11 - math.exp(-2.0 * mu_1) * s_00 / 2.0) / (2.0 * mu_1 * math.exp(-2.0 * mu_1) * s1)
    return min(max(e1, 0.0), 0.5)


def sns_finite_rate(eta_s: float, n_pulses: float, *, mu_z: float = 0.4, epsilon: float = 0.05,
                    mu_1: float = 0.1, mu_2: float = 0.3, p_z: float = 0.8, p_0: float = 0.3,
                    p_1: float = 0.4, slice_fraction: float = 0.1, dark_count: float = 0.0,
                    misalignment: float = 0.0, f: float = 1.1, failure: float = 1e-10,
                    aopp: bool = False, clip: bool = True) -> SNSFiniteResult:
    """Finite-size SNS-TF-QKD with 3-intensity decoys and Chernoff bounds, at arm transmittance
    ``eta_s``, for ``n_pulses`` pulse pairs sent.

    Each party picks a Z window with probability ``p_z`` (sends ``mu_z`` with probability
    ``epsilon``) or an X window (sends nothing, ``mu_1`` or ``mu_2`` with probabilities ``p_0``,
    ``p_1``, ``1 − p_0 − p_1``); windows of different kinds are discarded. In the X windows where
    both sent ``mu_1``, a ``slice_fraction`` has phases matched closely enough to be used, and
    an arriving single photon goes to the wrong detector with probability ``misalignment`` (the
    two pulses act as one of intensity ``2 η_s μ_1``: error yield ``(1−p_d) e^{−2x(1−e_d)} [1 −
    (1−p_d) e^{−2x e_d}]``, ``x = η_s μ_1``; its single-photon term is ``e_1 s_1`` of the
    module docstring, so the bounds are tight as the decoys shrink).

    The observed counts are set to their expected values (as the papers' simulations do); each
    of the four X-window counts is turned into bounds on its expectation with
    :func:`chernoff_bounds` (failure ``failure`` each), and :func:`sns_decoy_bounds` gives
    ``s_1^L`` and ``e_1^U``. The untagged Z-window bits are ``n_1^L = N p_z² 2ε(1−ε) μ_z
    e^{−μ_z} s_1^L``, and the key (Jiang et al., Phys. Rev. Appl. 12, 024061 (2019), Eq. (5), as
    we recall it; ``ε_cor = ε_PA = ε̂ = failure``):

        N_f = n_1^L [1 − h(e_1^U)] − f n_t h(E_z) − log2(2/ε_cor) − 2 log2(1/(√2 ε_PA ε̂)).

    Simplification, stated: the phase-flip rate of the Z-window untagged bits is taken equal to
    its X-window bound ``e_1^U`` (no extra random-sampling term, no second Chernoff bound from
    expected to observed Z-window numbers), so the result is the decoy-estimation and
    privacy-amplification cost, not a full composable analysis. ``aopp=True`` feeds the same
    bounds to :func:`aopp_pairing` (Bob's bits as in :func:`sns_aopp_statistics`, each set
    holding ``n_1^L/2`` untagged bits) — a plug-in estimate: the published finite-size AOPP
    analyses (Jiang et al., New J. Phys. 22, 053048 (2020), the "zigzag" bound on the phase-flip
    rate after pairing; the composable one of Jiang et al. 2021) bound ``e'_ph`` differently.

    As ``n_pulses → ∞`` the rate tends to ``p_z²`` times the asymptotic 3-intensity rate (the
    same bounds at the exact yields), and that tends to :func:`sns_rate` as ``μ_1, μ_2 → 0``.

    >>> r = sns_finite_rate(1e-4, 1e12, dark_count=1e-9, misalignment=0.03)
    >>> 0 < r.rate < 0.8**2 * sns_rate(1e-4, 0.4, 0.05, dark_count=1e-9, misalignment=0.03)
    True
    """
    eta = check_range("eta_s", eta_s, low=0.0, high=1.0)
    n = check_range("n_pulses", n_pulses, low=0.0, low_inclusive=False)
    mu_z = check_range("mu_z", mu_z, low=0.0, low_inclusive=False)
    eps = check_range("epsilon", epsilon, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    mu_1 = check_range("mu_1", mu_1, low=0.0, low_inclusive=False)
    mu_2 = check_range("mu_2", mu_2, low=mu_1, low_inclusive=False)
    p_z = check_range("p_z", p_z, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    p_0 = check_range("p_0", p_0, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    p_1 = check_range("p_1", p_1, low=0.0, high=1.0 - p_0, low_inclusive=False, high_inclusive=False)
    r_slice = check_range("slice_fraction", slice_fraction, low=0.0, high=1.0, low_inclusive=False)
    p_d = check_range("dark_count", dark_count, low=0.0, high=1.0, high_inclusive=False)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    f = check_range("f", f, low=1.0)
    xi = check_range("failure", failure, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    p_2 = 1.0 - p_0 - p_1
    n_x = n * (1.0 - p_z) ** 2
    n_z = n * p_z * p_z
    neither = 2.0 * p_d * (1.0 - p_d)

    def one(mu: float) -> float:
        return _z_terms(eta, mu, p_d, e_d)[1]

    x = eta * mu_1
    t_11 = (1.0 - p_d) * math.exp(-2.0 * x * (1.0 - e_d)) * _one_minus_survival(p_d, 2.0 * x * e_d)
    windows = {"00": n_x * p_0 * p_0, "10": 2.0 * n_x * p_0 * p_1, "20": 2.0 * n_x * p_0 * p_2,
               "11": n_x * p_1 * p_1 * r_slice}
    counts = {"00": windows["00"] * neither, "10": windows["10"] * one(mu_1), "20": windows["20"] * one(mu_2),
              "11": windows["11"] * t_11}
    bounds = {k: chernoff_bounds(v, xi) for k, v in counts.items()}
    s1_l, e1_u = sns_decoy_bounds(bounds["00"][1] / windows["00"], bounds["10"][0] / windows["10"],
                                  bounds["20"][1] / windows["20"], bounds["11"][1] / windows["11"], mu_1, mu_2)
    if s1_l > 0.0:   # the e_1 bound subtracts the vacuum yield, so it takes that from below
        e1_u = _e1_upper(bounds["11"][1] / windows["11"], bounds["00"][0] / windows["00"], mu_1, s1_l)
    n1_l = n_z * 2.0 * eps * (1.0 - eps) * mu_z * math.exp(-mu_z) * s1_l
    if aopp:
        _, one_z, both, _, _ = _z_terms(eta, mu_z, p_d, e_d)
        err_1, err_0 = n_z * (1.0 - eps) ** 2 * neither, n_z * eps * eps * both
        n_b1, n_b0 = err_1 + n_z * eps * (1.0 - eps) * one_z, err_0 + n_z * eps * (1.0 - eps) * one_z
        res = aopp_pairing(n_b0, n_b1, err_0 / n_b0, err_1 / n_b1, min(n1_l / 2.0, n_b0), min(n1_l / 2.0, n_b1), e1_u)
        n_key, e_ph, n_t, e_z = res.untagged, res.e1_ph, res.survived, res.e_z
    else:
        s = sns_statistics(eta, mu_z, eps, dark_count=p_d, misalignment=e_d)
        n_key, e_ph, n_t, e_z = n1_l, e1_u, n_z * s.s_z, s.e_z
    key = n_key * (1.0 - _h(e_ph)) - f * n_t * _h(e_z) - math.log2(2.0 / xi) \
        - 2.0 * math.log2(1.0 / (math.sqrt(2.0) * xi * xi))
    key = max(key, 0.0) if clip else key
    return SNSFiniteResult(rate=key / n, key_bits=key, s1_lower=s1_l, e1_upper=e1_u, n1_lower=n_key, n_t=n_t, e_z=e_z)


_FINITE_CHOSEN = ("mu_z", "epsilon", "mu_1", "mu_2", "p_z", "p_0", "p_1")


def _finite_point(v) -> dict[str, float]:
    def logistic(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-min(max(z, -30.0), 30.0)))

    mu_1 = math.exp(min(max(v[2], -9.0), 0.0))
    w = [math.exp(min(max(z, -20.0), 20.0)) for z in (v[5], v[6], 0.0)]
    total = sum(w)
    return {"mu_z": math.exp(min(max(v[0], -6.9), 0.7)), "epsilon": logistic(v[1]), "mu_1": mu_1,
            "mu_2": mu_1 + math.exp(min(max(v[3], -9.0), 0.7)), "p_z": logistic(v[4]),
            "p_0": w[0] / total, "p_1": w[1] / total}


def sns_finite_optimal_rate(distance: float, n_pulses: float, *, attenuation: float = 0.2,
                            detector_efficiency: float = 1.0, **kwargs: float) -> tuple[float, dict[str, float]]:
    """``(rate, settings)``: :func:`sns_finite_rate` over ``distance`` metres of fibre (the station
    in the middle) maximised over ``mu_z``, ``epsilon``, ``mu_1``, ``mu_2``, ``p_z``, ``p_0`` and
    ``p_1`` (Nelder–Mead from three starting points; ``TypeError`` if any of them is given);
    other keywords (``dark_count``, ``misalignment``, ``f``, ``failure``, ``slice_fraction``,
    ``aopp``) as there."""
    for name in (*_FINITE_CHOSEN, "clip"):
        if name in kwargs:
            raise TypeError(f"sns_finite_optimal_rate chooses {', '.join(_FINITE_CHOSEN)} itself and takes no clip")
    eta = _arm(distance, attenuation, detector_efficiency)
    scale = eta if eta > 0 else 1.0

    def loss(v):
        return -sns_finite_rate(eta, n_pulses, clip=False, **_finite_point(v), **kwargs).rate / scale

    aopp = bool(kwargs.get("aopp", False))
    asym = {k: kwargs[k] for k in ("dark_count", "misalignment", "f") if k in kwargs}
    _, mu0, eps0 = _sns_optimum(distance, {"attenuation": attenuation, "detector_efficiency": detector_efficiency,
                                           **asym}, sns_aopp_key_rate if aopp else None)
    starts = [(math.log(mu0), math.log(eps0 / (1.0 - eps0)), math.log(0.08), math.log(0.3), math.log(0.7 / 0.3),
               0.0, 0.5),
              (math.log(0.4), math.log(0.25 / 0.75) if aopp else math.log(0.05 / 0.95), math.log(0.1),
               math.log(0.2), math.log(0.8 / 0.2), 0.0, 0.0),
              (math.log(0.2), math.log(0.1 / 0.9) if aopp else math.log(0.01 / 0.99), math.log(0.05),
               math.log(0.3), math.log(0.6 / 0.4), 0.5, 0.5),
              (math.log(0.5), math.log(0.3 / 0.7) if aopp else math.log(0.1 / 0.9), math.log(0.02),
               math.log(0.1), math.log(0.9 / 0.1), 1.0, 1.0)]
    best = None
    for start in starts:
        res = minimize(loss, start, method="Nelder-Mead",
                       options={"xatol": 1e-6, "fatol": 1e-14, "maxiter": 4000, "maxfev": 6000})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    settings = _finite_point(best.x)
    return sns_finite_rate(eta, n_pulses, **settings, **kwargs).rate, settings
