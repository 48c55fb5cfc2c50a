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

>>> r = sns_key_rate(300e3, mu=0.3, epsilon=0.05, detector_efficiency=0.6, dark_count=1e-8, misalignment=0.03)
>>> from qstack.qkd.entropy import plob_bound
>>> r > plob_bound(10 ** (-0.2 * 300 / 10))   # above the repeaterless bound at 300 km
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq, minimize

from qstack.physical.units import check_range
from qstack.qkd.entropy import binary_entropy, plob_bound
from qstack.qkd.mdi import _i0m1, _one_minus_survival

__all__ = ["SNSStatistics", "sns_crossover_distance", "sns_key_rate", "sns_max_distance", "sns_optimal_max_distance",
           "sns_optimal_rate", "sns_rate", "sns_statistics"]


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


def sns_statistics(eta_s: float, mu: float, epsilon: float, *, dark_count: float = 0.0,
                   misalignment: float = 0.0) -> SNSStatistics:
    """The closed forms of the module docstring at arm transmittance ``eta_s`` (detector
    efficiency included), sending intensity ``mu`` and probability ``epsilon``.

    >>> s = sns_statistics(0.01, 0.3, 0.2)
    >>> s.s_1, s.e1_ph                       # no dark counts: s_1 = η_s, e_1 = e_d = 0
    (0.01, 0.0)
    """
    eta = check_range("eta_s", eta_s, low=0.0, high=1.0)
    mu = check_range("mu", mu, low=0.0, low_inclusive=False)
    eps = check_range("epsilon", epsilon, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    p_d = check_range("dark_count", dark_count, low=0.0, high=1.0, high_inclusive=False)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    x = eta * mu
    neither = 2.0 * p_d * (1.0 - p_d)
    one = 2.0 * (1.0 - p_d) * math.exp(-x / 2.0) * _one_minus_survival(p_d, x / 2.0)
    # I0(x) − (1−p_d) e^{−x} = [I0(x) − 1] + [1 − (1−p_d) e^{−x}]
    both = 2.0 * (1.0 - p_d) * math.exp(-x) * (_i0m1(x) + _one_minus_survival(p_d, x))
    wrong = (1.0 - eps) ** 2 * neither + eps * eps * both
    s_z = wrong + 2.0 * eps * (1.0 - eps) * one
    s_1 = (1.0 - p_d) * (eta + 2.0 * p_d * (1.0 - eta))
    e1_s1 = (1.0 - p_d) * (eta * e_d + (1.0 - eta) * p_d)
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


def _sns_optimum(distance: float, kwargs: dict) -> tuple[float, float, float]:
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

    def loss(v):
        mu, eps = point(v)
        return -sns_key_rate(distance, mu=mu, epsilon=eps, clip=False, **kwargs) / scale

    best = None
    for start in ((math.log(0.4), math.log(0.1 / 0.9)), (math.log(0.1), math.log(0.3 / 0.7)),
                  (math.log(0.8), math.log(0.02 / 0.98))):
        res = minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-16, "maxiter": 2000})
        if best is None or res.fun < best.fun:
            best = res
    assert best is not None
    mu, eps = point(best.x)
    return sns_key_rate(distance, mu=mu, epsilon=eps, clip=False, **kwargs), mu, eps


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

    def best(d: float) -> float:
        return _sns_optimum(d, kwargs)[0]

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
