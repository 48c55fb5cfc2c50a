"""Measurement-device-independent QKD with decoy states: the asymptotic key rate in closed form.

MDI-QKD (Lo, Curty & Qi, Phys. Rev. Lett. 108, 130503 (2012)): Alice and Bob each send a
phase-randomised weak coherent pulse, polarisation-encoded in the Z (H/V) or X (±45°) basis,
to an untrusted relay (Charlie) that performs a linear-optics Bell-state measurement (the
ψ± projections, four single-photon detectors) and announces the result. No detector can be
attacked: the relay may be the eavesdropper. With infinitely many decoy intensities the
single-photon-pair yield and error rate are known exactly, and the secret key per pulse pair is
(Lo, Curty & Qi, Eq. (1))

    R = Q11^Z [1 − h(e11^X)] − f Q^Z h(E^Z),     Q11^Z = μ_a μ_b e^{−μ_a − μ_b} Y11,

with ``h`` the binary entropy, ``f`` the error-correction inefficiency, ``Q^Z``/``E^Z`` the Z-basis
gain and QBER of the signal pulses. The channel model is that of Ma & Razavi, Phys. Rev. A 86,
062319 (2012) (their closed forms for the polarisation-encoded scheme), for transmittances
``η_a``, ``η_b`` from each sender to the relay *including* detector efficiency, a dark-count
(background) probability ``p_d`` per detector per pulse and misalignment ``e_d``:

* Z basis: ``Q^Z = Q_C + Q_E`` with ``μ' = η_a μ_a + η_b μ_b``, ``x = sqrt(η_a μ_a η_b μ_b)/2``,
  ``Q_C = 2(1−p_d)² e^{−μ'/2} [1 − (1−p_d) e^{−η_a μ_a/2}][1 − (1−p_d) e^{−η_b μ_b/2}]``,
  ``Q_E = 2 p_d (1−p_d)² e^{−μ'/2} [I0(2x) − (1−p_d) e^{−μ'/2}]``,
  ``E^Z Q^Z = e_d Q_C + (1 − e_d) Q_E``;
* X basis: ``y = (1−p_d) e^{−μ'/4}``, ``Q^X = 2y² [1 + 2y² − 4y I0(x) + I0(2x)]``,
  ``E^X Q^X = Q^X/2 − 2(1/2 − e_d) y² [I0(2x) − 1]``;
* single photons: ``Y11 = (1−p_d)² [η_a η_b/2 + (2η_a + 2η_b − 3η_a η_b) p_d
  + 4(1−η_a)(1−η_b) p_d²]``, ``e11^X Y11 = Y11/2 − (1/2 − e_d)(1−p_d)² η_a η_b/2``.

(``I0`` is the modified Bessel function of the first kind.) With ``e_d = 0`` every line follows
from the relay's optics: the gains and QBERs are the phase average of the four detectors' click
pattern for coherent inputs, and ``Y11``/``e11^X`` the two-photon (Hong–Ou–Mandel) count; ``e_d``
enters through Ma & Razavi's model (a fraction ``e_d`` of the events, correct or wrong, flips). Both the
derivations and an independent public coding of the same gains (the MATLAB functions
``Qzkakb.m``/``Qxkakb.m`` of github.com/Jungling-White/MDI-QKD) are checked in
``tests/qkd/test_mdi_twin_field.py``. Every difference that cancels at high
loss is evaluated without cancellation (``expm1``/``log1p``, ``I0 − 1`` by its series), so the
rate keeps full relative precision at 200 dB — where it is ``∝ η_a η_b``: MDI-QKD scales like
direct transmission, ``O(η)``, and never beats the PLOB bound (:mod:`qstack.qkd.twin_field` does).
With dark counts the rate reaches zero at a finite :func:`mdi_max_distance`.

>>> r = mdi_key_rate(50e3, mu=0.3, detector_efficiency=0.145, dark_count=3e-6, misalignment=0.015)
>>> 1e-6 < r < 1e-4
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq, minimize_scalar
from scipy.special import i0

from qstack.physical.units import check_range
from qstack.qkd.entropy import binary_entropy

__all__ = ["MDIStatistics", "mdi_key_rate", "mdi_max_distance", "mdi_optimal_rate", "mdi_rate", "mdi_statistics"]


def _i0m1(z: float) -> float:
    """``I0(z) − 1`` without cancellation for small ``z`` (series ``Σ_{k≥1} (z²/4)^k / (k!)²``)."""
    if z < 0.1:
        q = z * z / 4.0
        total, term, k = 0.0, 1.0, 0
        while True:
            k += 1
            term *= q / (k * k)
            total += term
            if term < 1e-18 * total:
                return total
    return float(i0(z)) - 1.0


def _one_minus_survival(p_d: float, exponent: float) -> float:
    """``1 − (1 − p_d) e^{−exponent}`` without cancellation."""
    return -math.expm1(math.log1p(-p_d) - exponent)


@dataclass(frozen=True)
class MDIStatistics:
    """What the relay's announcements and the decoy analysis give per pulse pair: Z-basis gain
    ``q_z`` and QBER ``e_z``, X-basis gain ``q_x`` and QBER ``e_x`` (signal intensities),
    single-photon-pair yield ``y11`` and X-basis error rate ``e11_x``, and ``q11_z`` =
    ``μ_a μ_b e^{−μ_a−μ_b} y11``."""

    q_z: float
    e_z: float
    q_x: float
    e_x: float
    y11: float
    e11_x: float
    q11_z: float


def mdi_statistics(eta_a: float, eta_b: float, mu_a: float, mu_b: float, *, dark_count: float = 0.0,
                   misalignment: float = 0.0) -> MDIStatistics:
    """Ma & Razavi's closed forms (module docstring) at transmittances ``eta_a``, ``eta_b`` (sender
    to relay, detector efficiency included), intensities ``mu_a``, ``mu_b``, dark-count
    probability per detector per pulse ``dark_count`` and misalignment ``misalignment``.

    >>> s = mdi_statistics(0.1, 0.1, 0.5, 0.5)   # no dark counts, no misalignment
    >>> s.e_z, s.e11_x, round(s.y11, 12)          # Y11 = η_a η_b / 2
    (0.0, 0.0, 0.005)
    """
    eta_a = check_range("eta_a", eta_a, low=0.0, high=1.0)
    eta_b = check_range("eta_b", eta_b, low=0.0, high=1.0)
    mu_a = check_range("mu_a", mu_a, low=0.0, low_inclusive=False)
    mu_b = check_range("mu_b", mu_b, low=0.0, low_inclusive=False)
    p_d = check_range("dark_count", dark_count, low=0.0, high=1.0, high_inclusive=False)
    e_d = check_range("misalignment", misalignment, low=0.0, high=0.5)
    mu_prime = eta_a * mu_a + eta_b * mu_b
    x = math.sqrt(eta_a * mu_a * eta_b * mu_b) / 2.0
    keep = (1.0 - p_d) ** 2
    q_c = 2.0 * keep * math.exp(-mu_prime / 2.0) * _one_minus_survival(p_d, eta_a * mu_a / 2.0) \
        * _one_minus_survival(p_d, eta_b * mu_b / 2.0)
    # I0(2x) − (1−p_d) e^{−μ'/2} = [I0(2x) − 1] + [1 − (1−p_d) e^{−μ'/2}]
    q_e = 2.0 * p_d * keep * math.exp(-mu_prime / 2.0) * (_i0m1(2.0 * x) + _one_minus_survival(p_d, mu_prime / 2.0))
    q_z = q_c + q_e
    e_z = (e_d * q_c + (1.0 - e_d) * q_e) / q_z if q_z > 0 else 0.5
    y = (1.0 - p_d) * math.exp(-mu_prime / 4.0)
    one_minus_y = _one_minus_survival(p_d, mu_prime / 4.0)
    # 1 + 2y² − 4y I0(x) + I0(2x) = 2(1 − y)² + [I0(2x) − 1] − 4y [I0(x) − 1]
    bracket = 2.0 * one_minus_y**2 + _i0m1(2.0 * x) - 4.0 * y * _i0m1(x)
    q_x = 2.0 * y * y * bracket
    ex_qx = q_x / 2.0 - 2.0 * (0.5 - e_d) * y * y * _i0m1(2.0 * x)
    e_x = ex_qx / q_x if q_x > 0 else 0.5
    y11 = keep * (eta_a * eta_b / 2.0 + (2.0 * eta_a + 2.0 * eta_b - 3.0 * eta_a * eta_b) * p_d
                  + 4.0 * (1.0 - eta_a) * (1.0 - eta_b) * p_d * p_d)
    e11_y11 = y11 / 2.0 - (0.5 - e_d) * keep * eta_a * eta_b / 2.0
    e11_x = e11_y11 / y11 if y11 > 0 else 0.5
    q11_z = mu_a * mu_b * math.exp(-mu_a - mu_b) * y11
    return MDIStatistics(q_z, e_z, q_x, e_x, y11, e11_x, q11_z)


def mdi_rate(eta_a: float, eta_b: float, mu_a: float, mu_b: float, *, dark_count: float = 0.0,
             misalignment: float = 0.0, f: float = 1.16, clip: bool = True) -> float:
    """The asymptotic MDI-QKD key rate ``Q11 [1 − h(e11^X)] − f Q^Z h(E^Z)`` in secret bits per
    pulse pair (the efficient-basis limit: almost every pulse in Z), at the transmittances of
    :func:`mdi_statistics`; ``clip=False`` returns the negative value past the maximal distance
    (used to find it).

    >>> round(mdi_rate(0.5, 0.5, 0.5, 0.5) / (0.5 * 0.5 * 0.5 * 0.5 * math.exp(-1) / 2), 6)   # = Q11 at e = 0
    1.0
    """
    f = check_range("f", f, low=1.0)
    s = mdi_statistics(eta_a, eta_b, mu_a, mu_b, dark_count=dark_count, misalignment=misalignment)
    raw = s.q11_z * (1.0 - float(binary_entropy(min(s.e11_x, 0.5)))) - f * s.q_z * float(
        binary_entropy(min(s.e_z, 0.5)))
    return max(raw, 0.0) if clip else raw


def _arms(distance: float, attenuation: float, detector_efficiency: float,
          relay_position: float) -> tuple[float, float]:
    distance = check_range("distance", distance, low=0.0, unit="m")
    attenuation = check_range("attenuation", attenuation, low=0.0, unit="dB/km")
    eta_d = check_range("detector_efficiency", detector_efficiency, low=0.0, high=1.0)
    at = check_range("relay_position", relay_position, low=0.0, high=1.0)
    loss_db = attenuation * distance / 1e3
    return eta_d * 10.0 ** (-loss_db * at / 10.0), eta_d * 10.0 ** (-loss_db * (1.0 - at) / 10.0)


def mdi_key_rate(distance: float, *, mu: float = 0.3, attenuation: float = 0.2, detector_efficiency: float = 1.0,
                 dark_count: float = 0.0, misalignment: float = 0.0, f: float = 1.16, relay_position: float = 0.5,
                 clip: bool = True) -> float:
    """MDI-QKD key rate (bits per pulse pair) over ``distance`` metres of fibre between Alice and
    Bob (``attenuation`` dB/km), the relay at ``relay_position`` of the way, both sending signal
    intensity ``mu``, detectors of efficiency ``detector_efficiency`` and ``dark_count`` per pulse.

    >>> mdi_key_rate(400e3, detector_efficiency=0.145, dark_count=3e-6, misalignment=0.015)
    0.0
    """
    eta_a, eta_b = _arms(distance, attenuation, detector_efficiency, relay_position)
    return mdi_rate(eta_a, eta_b, mu, mu, dark_count=dark_count, misalignment=misalignment, f=f, clip=clip)


def mdi_optimal_rate(distance: float, **kwargs: float) -> tuple[float, float]:
    """``(rate, mu)``: the key rate at the signal intensity that maximises it (bounded search over
    ``mu`` in (0, 1]); the other keywords as :func:`mdi_key_rate`."""
    if "mu" in kwargs:
        raise TypeError("mdi_optimal_rate chooses mu itself")
    res = minimize_scalar(lambda m: -mdi_key_rate(distance, mu=m, clip=False, **kwargs), bounds=(1e-4, 1.0),
                          method="bounded", options={"xatol": 1e-8})
    mu = float(res.x)
    return mdi_key_rate(distance, mu=mu, **kwargs), mu


def mdi_max_distance(*, mu: float = 0.3, **kwargs: float) -> float:
    """The distance (m) beyond which :func:`mdi_key_rate` at intensity ``mu`` is zero (dark counts
    and misalignment outweigh the single-photon pairs); ``inf`` when it never is (no dark
    counts). Raises ``ValueError`` if there is no key even at zero distance.

    >>> round(mdi_max_distance(detector_efficiency=0.145, dark_count=3e-6, misalignment=0.015) / 1e3)
    232
    """
    if mdi_key_rate(0.0, mu=mu, clip=False, **kwargs) <= 0.0:
        raise ValueError("no key at zero distance: misalignment or dark counts are too high for MDI-QKD")
    lo, hi = 0.0, 100e3
    while mdi_key_rate(hi, mu=mu, clip=False, **kwargs) > 0.0:
        lo, hi = hi, hi * 2.0
        if hi > 6.4e6:  # 6400 km (1280 dB at 0.2 dB/km) and still a key: it is positive at any distance
            return math.inf
    return float(brentq(lambda d: mdi_key_rate(d, mu=mu, clip=False, **kwargs), lo, hi, xtol=1e-6, rtol=1e-14))
