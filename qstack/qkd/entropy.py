"""Entropies, asymptotic key rates and repeaterless capacity bounds for QKD.

What this file computes, and where each formula comes from:

* binary entropy ``h(p) = -p log2 p - (1-p) log2(1-p)`` (Shannon);
* the BB84 asymptotic secret fraction ``r = 1 - 2 h(Q)`` with equal bit and phase error rate
  ``Q`` (Shor & Preskill, PRL 85, 441 (2000)); the entanglement-based BBM92 protocol
  (Bennett, Brassard & Mermin, PRL 68, 557 (1992)) has the same rate, being the
  entanglement-based form of BB84 in the same security proof;
* the CHSH value of a Werner pair of fidelity ``F``: ``S = 2 sqrt(2) (4F - 1) / 3``
  (the Tsirelson value 2 sqrt(2) scaled by the Werner parameter ``p = (4F - 1)/3``);
* the device-independent QKD rate against collective attacks
  ``r = 1 - h(Q) - h((1 + sqrt((S/2)^2 - 1)) / 2)`` (Acín et al., PRL 98, 230501 (2007);
  Pironio et al., New J. Phys. 11, 045021 (2009));
* the repeaterless bounds for a pure-loss channel of transmissivity ``eta``: PLOB
  ``-log2(1 - eta)`` (Pirandola, Laurenza, Ottaviani & Banchi, Nat. Commun. 8, 15043 (2017))
  and TGW ``log2((1 + eta)/(1 - eta))`` (Takeoka, Guha & Wilde, Nat. Commun. 5, 5235 (2014)).

Rates are secret bits per sifted bit (BB84, DI-QKD) or per channel use (PLOB, TGW). Every
function clips a negative rate to zero: no key is the physical meaning of a negative bound.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq

from qstack.physical.units import check_range, check_range_array

__all__ = [
    "TSIRELSON_BOUND",
    "bb84_asymptotic_rate",
    "bb84_qber_threshold",
    "bbm92_asymptotic_rate",
    "binary_entropy",
    "chsh_value_werner",
    "di_qkd_rate",
    "h",
    "plob_bound",
    "tgw_bound",
]

TSIRELSON_BOUND: float = 2.0 * math.sqrt(2.0)
"""Largest quantum CHSH value, 2 sqrt(2) (Tsirelson 1980)."""


@overload
def binary_entropy(p: float) -> float: ...


@overload
def binary_entropy(p: NDArray[np.float64]) -> NDArray[np.float64]: ...


def binary_entropy(p: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
    """Return the binary (Shannon) entropy h(p) = -p log2 p - (1-p) log2(1-p), in bits.

    ``p`` is a probability in [0, 1] (a float or an array); h(0) = h(1) = 0 by continuity.
    ``h`` is the same function under its short name.

    >>> binary_entropy(0.5)
    1.0
    >>> round(binary_entropy(0.11), 4)
    0.4999
    >>> binary_entropy(np.array([0.0, 0.5])).tolist()
    [0.0, 1.0]
    >>> binary_entropy(1.5)
    Traceback (most recent call last):
    ...
    ValueError: p must be in [0, 1], got 1.5
    """
    values, scalar = check_range_array("p", p, low=0.0, high=1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -values * np.log2(values) - (1.0 - values) * np.log2(1.0 - values)
    result = np.where((values == 0.0) | (values == 1.0), 0.0, terms)
    if scalar:
        return float(result)
    return result


h = binary_entropy


def bb84_asymptotic_rate(qber: float) -> float:
    """Return the BB84 asymptotic secret fraction max(0, 1 - 2 h(Q)) (Shor & Preskill 2000).

    ``qber`` is the quantum bit error rate, in [0, 0.5], assumed equal in both bases.

    >>> bb84_asymptotic_rate(0.0)
    1.0
    >>> round(bb84_asymptotic_rate(0.05), 6)
    0.427206
    >>> bb84_asymptotic_rate(0.2)
    0.0
    """
    q = check_range("qber", qber, low=0.0, high=0.5)
    return max(0.0, 1.0 - 2.0 * binary_entropy(q))


def bbm92_asymptotic_rate(qber: float) -> float:
    """Return the BBM92 asymptotic secret fraction, the same max(0, 1 - 2 h(Q)) as BB84.

    BBM92 (Bennett, Brassard & Mermin 1992) is the entanglement-based version of BB84; the
    Shor–Preskill proof covers both, so this is :func:`bb84_asymptotic_rate` under a name.

    >>> bbm92_asymptotic_rate(0.05) == bb84_asymptotic_rate(0.05)
    True
    """
    return bb84_asymptotic_rate(qber)


def bb84_qber_threshold() -> float:
    """Return the QBER at which 1 - 2 h(Q) = 0, i.e. h(Q) = 1/2: Q ~ 0.110028 (Shor–Preskill).

    >>> round(bb84_qber_threshold(), 6)
    0.110028
    """
    return float(brentq(lambda q: binary_entropy(q) - 0.5, 1e-6, 0.5 - 1e-9, xtol=1e-15))


def chsh_value_werner(fidelity: float) -> float:
    """Return the CHSH value S = 2 sqrt(2) (4F - 1)/3 of a Werner pair of fidelity F.

    A Werner state ``p |Phi+><Phi+| + (1-p) I/4`` with ``p = (4F - 1)/3`` reaches
    ``p`` times the Tsirelson value at the settings optimal for ``|Phi+>``. ``fidelity`` is in
    [0, 1]; below F = 1/4 the value is negative (flip one observable to get |S|).
    A Werner pair violates the CHSH inequality |S| <= 2 only for F > (3/sqrt(2) + 1)/4 ~ 0.78.

    >>> chsh_value_werner(1.0) == TSIRELSON_BOUND
    True
    >>> chsh_value_werner(0.25)
    0.0
    """
    f = check_range("fidelity", fidelity, low=0.0, high=1.0)
    return TSIRELSON_BOUND * (4.0 * f - 1.0) / 3.0


def di_qkd_rate(chsh: float, qber: float) -> float:
    """Return the device-independent QKD rate 1 - h(Q) - h((1 + sqrt((S/2)^2 - 1))/2).

    Acín et al., PRL 98, 230501 (2007) and Pironio et al., NJP 11, 045021 (2009): the key
    rate against collective attacks given the CHSH value ``chsh`` (S, in [0, 2 sqrt(2)]) and
    the bit error rate ``qber`` (Q, in [0, 0.5]). Zero when S <= 2 (no Bell violation, no
    device-independent security) or when the bound is negative.

    >>> di_qkd_rate(TSIRELSON_BOUND, 0.0)
    1.0
    >>> di_qkd_rate(2.0, 0.0)
    0.0
    >>> round(di_qkd_rate(chsh_value_werner(0.98), 2 * (1 - 0.98) / 3), 4)   # Werner: Q = 2(1-F)/3
    0.7185
    """
    s = check_range("chsh", chsh, low=0.0, high=TSIRELSON_BOUND * (1.0 + 1e-12))
    q = check_range("qber", qber, low=0.0, high=0.5)
    if s <= 2.0:
        return 0.0
    root = math.sqrt(min(1.0, (s / 2.0) ** 2 - 1.0))
    rate = 1.0 - binary_entropy(q) - binary_entropy((1.0 + root) / 2.0)
    return max(0.0, rate)


def plob_bound(transmissivity: float) -> float:
    """Return the PLOB repeaterless bound -log2(1 - eta), in secret bits per channel use.

    Pirandola et al., Nat. Commun. 8, 15043 (2017): the two-way assisted secret-key capacity
    of a pure-loss channel of transmissivity ``eta`` in [0, 1]; ~1.44 eta at low eta, and
    infinite at eta = 1.

    >>> plob_bound(0.5)
    1.0
    >>> round(plob_bound(1e-3) / 1e-3, 4)   # 1/ln 2 at low transmissivity
    1.4434
    """
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    if eta == 1.0:
        return math.inf
    return -math.log2(1.0 - eta)


def tgw_bound(transmissivity: float) -> float:
    """Return the TGW bound log2((1 + eta)/(1 - eta)), in secret bits per channel use.

    Takeoka, Guha & Wilde, Nat. Commun. 5, 5235 (2014): the squashed-entanglement bound for
    a pure-loss channel, ~2.89 eta at low eta, i.e. twice the PLOB bound there.

    >>> round(tgw_bound(0.5), 6)
    1.584963
    >>> round(tgw_bound(1e-4) / plob_bound(1e-4), 3)
    2.0
    """
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    if eta == 1.0:
        return math.inf
    return math.log2((1.0 + eta) / (1.0 - eta))
