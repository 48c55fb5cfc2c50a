"""Finite-key secret key length for BB84, and the decoy-state key rate of a weak coherent source.

Finite key (M. Tomamichel, C. C. W. Lim, N. Gisin & R. Renner, "Tight finite-key analysis
for quantum cryptography", Nat. Commun. 3, 634 (2012), Eq. (2)). With ``n`` raw key bits,
``k`` parameter-estimation bits showing error rate ``Q`` (the tolerated ``Q_tol``), ``leak_EC``
bits disclosed by error correction and preparation quality ``q`` (1 for BB84 with qubits),
an ``eps_sec``-secret and ``eps_cor``-correct key of length

    l = floor( n (q - h(Q + mu)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)) ),
    mu = sqrt( (n + k)/(n k) * (k + 1)/k * ln(2 / eps_sec) ),

can be extracted. ``mu`` bounds, via Serfling's inequality, how far the error rate of the key
bits may exceed that of the sample. This is the form of the published article. The preprint
text we could check (arXiv:1103.4130, Eq. (2) and Supplementary Eq. (S4)) writes the last term
as log2(2/(eps_sec eps_cor)) and ``ln(4/eps_sec)`` inside ``mu``; the two differ by
log2(1/eps_sec) bits (~33 bits at 1e-10) and ~1.5 % in ``mu``, and we keep the published form,
which charges the extra log2(1/eps_sec).
We use ``h(min(Q + mu, 1/2))`` (no key is possible beyond 1/2 anyway).
Taking ``Q`` to be the observed sample error rate (as :func:`qstack.qkd.pipeline.distil_key`
does) is the usual variable-length reading of the fixed-``Q_tol`` protocol.

Decoy states (H.-K. Lo, X. Ma & K. Chen, PRL 94, 230504 (2005); X. Ma, B. Qi, Y. Zhao &
H.-K. Lo, "Practical decoy state for quantum key distribution", PRA 72, 012326 (2005)).
A weak coherent source of mean photon number ``mu`` emits ``i`` photons with Poisson
probability; with GLLP (Gottesman, Lo, Lütkenhaus & Preskill, Quantum Inf. Comput. 4, 325
(2004)) only single-photon pulses give key:

    R >= q { -Q_mu f h(E_mu) + Q_1 [1 - h(e_1)] },    Q_1 = Y_1 mu e^-mu,

``q`` the sifting factor (1/2 for BB84 with symmetric bases) and ``f`` the error-correction
efficiency. With one weak decoy ``nu < mu`` and the vacuum (dark-count yield ``Y_0``), Ma et
al. (Eqs. (34) and (37) of PRA 72, 012326) bound the single-photon yield and error rate:

    Y_1 >= Y_1^L = mu / (mu nu - nu^2) * ( Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y_0 ),
    e_1 <= e_1^U = (E_nu Q_nu e^nu - e_0 Y_0) / (Y_1^L nu),      e_0 = 1/2.

Channel model for simulation (Ma et al. Sec. II): transmissivity ``eta`` (channel and
detector), dark-count yield ``Y_0``, misalignment ``e_d``; the i-photon yield is
``Y_i = Y_0 + eta_i`` with ``eta_i = 1 - (1 - eta)^i`` (Ma et al. drop the ``-Y_0 eta_i``
cross term, which is ~1e-6 of ``Y_i``; we keep their approximation so that the formulas below
are exact for the model), hence

    Q_mu = Y_0 + 1 - e^(-eta mu),      E_mu Q_mu = e_0 Y_0 + e_d (1 - e^(-eta mu)),
    Y_1 = Y_0 + eta,                   e_1 = (e_0 Y_0 + e_d eta) / Y_1.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from qstack.physical.units import check_range
from qstack.qkd.entropy import binary_entropy

__all__ = [
    "DecoyBounds",
    "decoy_single_photon_bounds",
    "decoy_state_rate",
    "finite_key_length",
    "finite_key_statistical_deviation",
    "gllp_rate",
    "ideal_decoy_rate",
    "model_single_photon",
    "weak_coherent_statistics",
]

E0: float = 0.5
"""Error rate of a dark count (a random bit)."""


def finite_key_statistical_deviation(n: int, k: int, eps_sec: float) -> float:
    """Return mu = sqrt((n + k)/(n k) * (k + 1)/k * ln(2/eps_sec)) (Tomamichel et al. 2012).

    ``n`` key bits and ``k`` sample bits (both >= 1), ``eps_sec`` in (0, 1).

    >>> round(finite_key_statistical_deviation(90_000, 10_000, 1e-10), 5)
    0.05134
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    eps = check_range("eps_sec", eps_sec, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    return math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2.0 / eps))


def finite_key_length(
    n: int,
    k: int,
    qber: float,
    leak_ec: float,
    eps_sec: float,
    eps_cor: float,
    *,
    preparation_quality: float = 1.0,
) -> int:
    """Return the eps-secure BB84 key length of Tomamichel et al. (2012), Eq. (2); 0 if none.

    ``n`` raw key bits, ``k`` parameter-estimation bits with error rate ``qber`` in [0, 0.5],
    ``leak_ec`` >= 0 bits disclosed by error correction, ``eps_sec`` and ``eps_cor`` in (0, 1),
    ``preparation_quality`` q in (0, 1].

    >>> finite_key_length(90_000, 10_000, 0.02, 1.15 * 90_000 * 0.1414, 1e-10, 1e-12)
    41876
    >>> finite_key_length(1000, 100, 0.02, 200, 1e-10, 1e-12)
    0
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    q_err = check_range("qber", qber, low=0.0, high=0.5)
    leak = check_range("leak_ec", leak_ec, low=0.0)
    eps_s = check_range("eps_sec", eps_sec, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    eps_c = check_range("eps_cor", eps_cor, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    quality = check_range("preparation_quality", preparation_quality, low=0.0, high=1.0, low_inclusive=False)
    mu = finite_key_statistical_deviation(n, k, eps_s)
    length = n * (quality - binary_entropy(min(q_err + mu, 0.5))) - leak - math.log2(2.0 / (eps_s**2 * eps_c))
    return max(0, math.floor(length))


def weak_coherent_statistics(
    mu: float, transmissivity: float, dark_count_yield: float, misalignment: float
) -> tuple[float, float]:
    """Return the gain and QBER (Q_mu, E_mu) of a weak coherent source (Ma et al. 2005).

    ``Q_mu = Y0 + 1 - exp(-eta mu)`` and ``E_mu = (Y0/2 + e_d (1 - exp(-eta mu))) / Q_mu``;
    ``mu`` >= 0, ``transmissivity`` eta and ``dark_count_yield`` Y0 in [0, 1], ``misalignment``
    e_d in [0, 0.5].

    >>> gain, qber = weak_coherent_statistics(0.5, 0.1, 0.0, 0.01)
    >>> round(gain, 6), round(qber, 6)
    (0.048771, 0.01)
    """
    m = check_range("mu", mu, low=0.0)
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    y0 = check_range("dark_count_yield", dark_count_yield, low=0.0, high=1.0)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    detected = -math.expm1(-eta * m)
    gain = y0 + detected
    if gain == 0.0:
        return 0.0, 0.0
    return gain, (E0 * y0 + e_d * detected) / gain


def model_single_photon(transmissivity: float, dark_count_yield: float, misalignment: float) -> tuple[float, float]:
    """Return the true single-photon yield and error rate (Y1, e1) of the channel model.

    ``Y1 = Y0 + eta`` and ``e1 = (Y0/2 + e_d eta) / Y1`` (Ma et al. 2005, Y_i = Y0 + eta_i).

    >>> model_single_photon(0.1, 0.0, 0.02)
    (0.1, 0.02)
    """
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    y0 = check_range("dark_count_yield", dark_count_yield, low=0.0, high=1.0)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    y1 = y0 + eta
    if y1 == 0.0:
        return 0.0, E0
    return y1, (E0 * y0 + e_d * eta) / y1


class DecoyBounds(NamedTuple):
    """The vacuum + weak decoy bounds: Y1 >= ``y1_lower`` and e1 <= ``e1_upper`` (at most 1/2)."""

    y1_lower: float
    e1_upper: float


def _check_gain_qber(name_q: str, gain: float, name_e: str, qber: float) -> tuple[float, float]:
    return (
        check_range(name_q, gain, low=0.0, high=1.0),
        check_range(name_e, qber, low=0.0, high=1.0),
    )


def decoy_single_photon_bounds(
    mu: float, nu: float, Q_mu: float, E_mu: float, Q_nu: float, E_nu: float, Y0: float
) -> DecoyBounds:
    """Return (Y1^L, e1^U), the vacuum + weak decoy bounds of Ma et al., PRA 72, 012326 (2005).

    ``0 < nu < mu``: decoy and signal intensities; ``Q_*``/``E_*`` their measured gains and
    QBERs; ``Y0`` the vacuum yield. ``e1^U`` is capped at 1/2; if ``Y1^L <= 0`` the bounds are
    (0, 1/2) (no single-photon key can be certified). ``E_mu`` is checked but not needed.

    >>> mu, nu, eta, y0, e_d = 0.5, 0.1, 0.01, 1e-5, 0.02
    >>> Q_mu, E_mu = weak_coherent_statistics(mu, eta, y0, e_d)
    >>> Q_nu, E_nu = weak_coherent_statistics(nu, eta, y0, e_d)
    >>> y1_lower, e1_upper = decoy_single_photon_bounds(mu, nu, Q_mu, E_mu, Q_nu, E_nu, y0)
    >>> y1_true, e1_true = model_single_photon(eta, y0, e_d)
    >>> y1_lower <= y1_true, e1_upper >= e1_true
    (True, True)
    """
    m = check_range("mu", mu, low=0.0, low_inclusive=False)
    v = check_range("nu", nu, low=0.0, high=m, low_inclusive=False, high_inclusive=False)
    q_mu, _ = _check_gain_qber("Q_mu", Q_mu, "E_mu", E_mu)
    q_nu, e_nu = _check_gain_qber("Q_nu", Q_nu, "E_nu", E_nu)
    y0 = check_range("Y0", Y0, low=0.0, high=1.0)
    y1_lower = (
        m
        / (m * v - v * v)
        * (q_nu * math.exp(v) - q_mu * math.exp(m) * v * v / (m * m) - (m * m - v * v) / (m * m) * y0)
    )
    if y1_lower <= 0.0:
        return DecoyBounds(0.0, E0)
    e1_upper = (e_nu * q_nu * math.exp(v) - E0 * y0) / (y1_lower * v)
    return DecoyBounds(y1_lower, min(max(e1_upper, 0.0), E0))


def gllp_rate(Q_mu: float, E_mu: float, Q1: float, e1: float, f_ec: float, q: float = 0.5) -> float:
    """Return the GLLP key rate q {-Q_mu f h(E_mu) + Q1 [1 - h(e1)]}, clipped at 0, per pulse.

    ``Q_mu`` and ``Q1`` (single-photon gain) in [0, 1], ``E_mu`` and ``e1`` in [0, 0.5] (e1
    above 1/2 certifies nothing and is capped), ``f_ec`` >= 1, ``q`` in (0, 1].

    >>> round(gllp_rate(0.01, 0.02, 0.003, 0.02, 1.16), 7)
    0.0004675
    """
    q_mu = check_range("Q_mu", Q_mu, low=0.0, high=1.0)
    e_mu = check_range("E_mu", E_mu, low=0.0, high=0.5)
    q1 = check_range("Q1", Q1, low=0.0, high=1.0)
    e_1 = check_range("e1", e1, low=0.0, high=1.0)
    f = check_range("f_ec", f_ec, low=1.0)
    sift = check_range("q", q, low=0.0, high=1.0, low_inclusive=False)
    rate = sift * (-q_mu * f * binary_entropy(e_mu) + q1 * (1.0 - binary_entropy(min(e_1, 0.5))))
    return max(0.0, rate)


def decoy_state_rate(
    mu: float,
    nu: float,
    Q_mu: float,
    E_mu: float,
    Q_nu: float,
    E_nu: float,
    Y0: float,
    f_ec: float,
    q: float = 0.5,
) -> float:
    """Return the vacuum + weak decoy-state key rate per pulse (Lo, Ma & Chen 2005; Ma et al. 2005).

    The GLLP rate of :func:`gllp_rate` with ``Q1 = Y1^L mu e^-mu`` and ``e1 = e1^U`` from
    :func:`decoy_single_photon_bounds`. Arguments as there; ``E_mu`` in [0, 0.5].

    >>> mu, nu, eta, y0, e_d = 0.48, 0.05, 0.045 * 10 ** (-0.021 * 50), 1.7e-6, 0.033
    >>> Q_mu, E_mu = weak_coherent_statistics(mu, eta, y0, e_d)
    >>> Q_nu, E_nu = weak_coherent_statistics(nu, eta, y0, e_d)
    >>> f"{decoy_state_rate(mu, nu, Q_mu, E_mu, Q_nu, E_nu, y0, 1.22):.3e}"
    '2.096e-04'
    """
    y1_lower, e1_upper = decoy_single_photon_bounds(mu, nu, Q_mu, E_mu, Q_nu, E_nu, Y0)
    q1 = min(1.0, y1_lower * mu * math.exp(-mu))
    return gllp_rate(Q_mu, E_mu, q1, e1_upper, f_ec, q)


def ideal_decoy_rate(
    mu: float, transmissivity: float, dark_count_yield: float, misalignment: float, f_ec: float, q: float = 0.5
) -> float:
    """Return the GLLP rate with the model's true Y1 and e1: the infinite-decoy limit.

    Lo, Ma & Chen (2005): with infinitely many decoys Y1 and e1 are known exactly; this is
    the rate :func:`decoy_state_rate` approaches as the weak decoy nu -> 0.

    >>> mu, eta, y0, e_d = 0.48, 0.045 * 10 ** (-0.021 * 50), 1.7e-6, 0.033
    >>> f"{ideal_decoy_rate(mu, eta, y0, e_d, 1.22):.3e}"
    '2.226e-04'
    """
    gain, qber = weak_coherent_statistics(mu, transmissivity, dark_count_yield, misalignment)
    y1, e1 = model_single_photon(transmissivity, dark_count_yield, misalignment)
    return gllp_rate(gain, min(qber, 0.5), y1 * mu * math.exp(-mu), e1, f_ec, q)
