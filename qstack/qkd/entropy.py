"""Entropies, asymptotic key rates and repeaterless capacity bounds for QKD.

What this file computes, and where each formula comes from:

* binary entropy ``h(p) = -p log2 p - (1-p) log2(1-p)`` (Shannon);
* the BB84 asymptotic secret fraction ``r = 1 - 2 h(Q)`` with equal bit and phase error rate
  ``Q`` (Shor & Preskill, PRL 85, 441 (2000)); the entanglement-based BBM92 protocol
  (Bennett, Brassard & Mermin, PRL 68, 557 (1992)) has the same rate, being the
  entanglement-based form of BB84 in the same security proof;
* with different error rates in the two bases, the efficient (biased-basis) BB84 of Lo, Chau &
  Ardehali, J. Cryptology 18, 133 (2005): ``r = 1 - h(Q_X) - h(Q_Z)`` per sifted bit (the
  bit errors of one basis are the phase errors of the other), reached per *sent* signal in the
  limit where both sides choose the key basis with probability ``p_Z -> 1``; at finite bias
  ``p_Z`` the rate per signal is ``(p_Z^2 + (1-p_Z)^2) (1 - h(Q_X) - h(Q_Z))`` (LCA's refined
  analysis, both sifted bases make key), or ``p_Z^2 (1 - h(Q_X) - h(Q_Z))`` when only Z-basis
  bits make key and X is used to estimate the phase error (e.g. Tomamichel, Lim, Gisin &
  Renner, Nat. Commun. 3, 634 (2012), asymptotically); BBM92 has the same rates;
* the X and Z error rates of a two-qubit state against Phi+ correlations:
  ``Q_Z = (1 - T_zz)/2``, ``Q_X = (1 - T_xx)/2`` with ``T_ij = Tr(rho sigma_i (x) sigma_j)``;
  for a Bell-diagonal state (Phi+, Phi-, Psi+, Psi-) ``Q_Z = c_Psi+ + c_Psi-``,
  ``Q_X = c_Phi- + c_Psi-``;
* the CHSH value of a Werner pair of fidelity ``F``: ``S = 2 sqrt(2) (4F - 1) / 3``
  (the Tsirelson value 2 sqrt(2) scaled by the Werner parameter ``p = (4F - 1)/3``);
* the device-independent QKD rate against collective attacks
  ``r = 1 - h(Q) - h((1 + sqrt((S/2)^2 - 1)) / 2)`` (Acín et al., PRL 98, 230501 (2007);
  Pironio et al., New J. Phys. 11, 045021 (2009));
* DI-QKD with **noisy preprocessing** (Ho, Sekatski, Tan, Renner, Bancal & Sangouard, PRL 124,
  230502 (2020)): Alice flips each raw key bit with probability ``p``; the entropy of the flipped
  bit is ``H(Â|E) >= 1 - h((1 + sqrt((S/2)^2 - 1))/2) + h((1 + sqrt(1 - p(1-p)(8 - S^2)))/2)``
  (:func:`di_qkd_entropy_bound`; convex in S for every p, checked on a grid in the tests, so no
  convex hull is needed) and Bob's error rate becomes ``p + (1 - 2p) Q``
  (:func:`di_qkd_noisy_preprocessing_rate`, :func:`optimal_noisy_preprocessing`). For
  depolarised pairs the QBER threshold rises from 7.15 % (p = 0) to 8.08 % (p -> 1/2), computed
  here from the formula (tests);
* the **biased key basis** (spot-checking, Arnon-Friedman et al., Nat. Commun. 9, 459 (2018)):
  each round is a test round with probability ``gamma`` (uniform CHSH inputs) and otherwise a
  key round (``x = 0``, ``y = 2``), so the asymptotic rate per round is ``(1 - gamma) r``
  against ``r / 6`` for the uniform-setting protocol of Acín et al. (``x`` in {0, 1}, ``y`` in
  {0, 1, 2} uniform; :func:`di_qkd_rate_per_round`).

The random-key-basis protocol (Schwonnek et al., Nat. Commun. 12, 2880 (2021)) is **not**
implemented: its entropy bound is the result of a numerical optimisation over qubit strategies
that we could not reproduce and check here.
* the repeaterless bounds for a pure-loss channel of transmissivity ``eta``: PLOB
  ``-log2(1 - eta)`` (Pirandola, Laurenza, Ottaviani & Banchi, Nat. Commun. 8, 15043 (2017))
  and TGW ``log2((1 + eta)/(1 - eta))`` (Takeoka, Guha & Wilde, Nat. Commun. 5, 5235 (2014)).

Rates are secret bits per sifted bit (BB84, DI-QKD) or per channel use (PLOB, TGW). Every
function clips a negative rate to zero: no key is the physical meaning of a negative bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple, overload

import numpy as np
from numpy.typing import NDArray

from qstack.physical.units import check_range, check_range_array
from qstack.quantum.bell import correlation_matrix
from qstack.quantum.states import BELL_NAMES

if TYPE_CHECKING:
    import qutip

__all__ = [
    "TSIRELSON_BOUND",
    "XZQBER",
    "bb84_asymmetric_rate",
    "bb84_asymptotic_rate",
    "bb84_qber_threshold",
    "bbm92_asymmetric_rate",
    "bbm92_asymptotic_rate",
    "bell_diagonal_qbers",
    "binary_entropy",
    "chsh_value_werner",
    "di_qkd_entropy_bound",
    "di_qkd_noisy_preprocessing_rate",
    "di_qkd_rate",
    "di_qkd_rate_per_round",
    "efficient_bb84_rate",
    "h",
    "optimal_noisy_preprocessing",
    "plob_bound",
    "state_qbers",
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


class XZQBER(NamedTuple):
    """The error rates of the two BB84 bases: ``qber_x`` (X outcomes differ), ``qber_z`` (Z outcomes differ).

    A tuple in the argument order of :func:`bb84_asymmetric_rate`, so ``bb84_asymmetric_rate(*q)`` works.

    >>> XZQBER(0.1, 0.0).qber_x
    0.1
    """

    qber_x: float
    qber_z: float


def _qber(name: str, value: float) -> float:
    # h(Q) = h(1 - Q): a QBER above 1/2 is a relabelling of Bob's outcomes, so [0, 1] is allowed.
    return check_range(name, value, low=0.0, high=1.0)


def bb84_asymmetric_rate(qber_x: float, qber_z: float) -> float:
    """Return the BB84 asymptotic secret fraction max(0, 1 - h(Q_X) - h(Q_Z)) for unequal error rates.

    Lo, Chau & Ardehali, J. Cryptology 18, 133 (2005), efficient BB84 with the error rates of
    each basis estimated separately: a sifted key bit of basis Z has bit error rate ``Q_Z`` and
    phase error rate ``Q_X`` (and the other way round for basis X), so each sifted bit gives
    ``1 - h(Q_Z) - h(Q_X)`` secret bits (Shor–Preskill, with bit and phase errors apart). This is
    also the rate per sent signal in the limit where the key basis is chosen with probability
    -> 1 (see :func:`efficient_bb84_rate`). ``qber_x`` and ``qber_z`` are in [0, 1] (``h`` is
    symmetric about 1/2: Q > 1/2 is Bob's bits flipped); a negative bound is clipped to 0 (no key).
    With ``Q_X = Q_Z = Q`` it is :func:`bb84_asymptotic_rate`.

    >>> bb84_asymmetric_rate(0.0, 0.0)
    1.0
    >>> round(bb84_asymmetric_rate(0.1, 0.0), 6)      # dephasing: errors only in X
    0.531004
    >>> bb84_asymmetric_rate(0.05, 0.05) == bb84_asymptotic_rate(0.05)
    True
    >>> bb84_asymmetric_rate(0.3, 0.2)
    0.0
    >>> bb84_asymmetric_rate(1.2, 0.0)
    Traceback (most recent call last):
    ...
    ValueError: qber_x must be in [0, 1], got 1.2
    """
    qx, qz = _qber("qber_x", qber_x), _qber("qber_z", qber_z)
    return max(0.0, 1.0 - binary_entropy(qx) - binary_entropy(qz))


def bbm92_asymmetric_rate(qber_x: float, qber_z: float) -> float:
    """Return the BBM92 asymptotic secret fraction max(0, 1 - h(Q_X) - h(Q_Z)), as for BB84.

    BBM92 is the entanglement-based form of BB84 (Bennett, Brassard & Mermin 1992) and has the
    same rate with separately estimated error rates (Lo, Chau & Ardehali 2005): this is
    :func:`bb84_asymmetric_rate` under a name. ``Q_X``, ``Q_Z`` of a pair: :func:`state_qbers`.

    >>> bbm92_asymmetric_rate(0.1, 0.02) == bb84_asymmetric_rate(0.1, 0.02)
    True
    """
    return bb84_asymmetric_rate(qber_x, qber_z)


def efficient_bb84_rate(qber_x: float, qber_z: float, p_z: float, *,
                        key_bases: Literal["both", "z"] = "both") -> float:
    """Return the asymptotic secret bits per *sent signal* of BB84 with basis Z chosen with probability ``p_z``.

    Alice and Bob each choose basis Z with probability ``p_z`` (X with ``1 - p_z``), so a signal
    is sifted in Z with probability ``p_z^2`` and in X with ``(1 - p_z)^2``. Two conventions:

    * ``key_bases="both"`` (default; Lo, Chau & Ardehali, J. Cryptology 18, 133 (2005), refined
      error analysis): both sifted bases make key, each with its own bit error rate and the
      other basis's as phase error rate: ``r = (p_z^2 + (1 - p_z)^2) (1 - h(Q_X) - h(Q_Z))``;
      ``p_z = 1/2`` is standard BB84 (sifting factor 1/2), ``p_z -> 1`` reaches the
      :func:`bb84_asymmetric_rate` per signal;
    * ``key_bases="z"``: only Z-basis bits make key, the X basis only estimates the phase error
      (the convention of, e.g., Tomamichel, Lim, Gisin & Renner, Nat. Commun. 3, 634 (2012), in
      its asymptotic limit): ``r = p_z^2 (1 - h(Q_X) - h(Q_Z))``.

    ``p_z`` is in [0, 1] (``p_z = 1`` is the limit: with no X signals ``Q_X`` could not be
    measured); the QBERs are in [0, 1]; a negative rate is clipped to 0. The same holds for BBM92.

    >>> round(efficient_bb84_rate(0.05, 0.05, 0.5), 12) == round(bb84_asymptotic_rate(0.05) / 2, 12)
    True
    >>> round(efficient_bb84_rate(0.02, 0.01, 0.9), 6)
    0.637768
    >>> round(efficient_bb84_rate(0.02, 0.01, 0.9, key_bases="z"), 6)
    0.629991
    >>> efficient_bb84_rate(0.0, 0.0, 1.5)
    Traceback (most recent call last):
    ...
    ValueError: p_z must be in [0, 1], got 1.5
    """
    p = check_range("p_z", p_z, low=0.0, high=1.0)
    per_sifted_bit = bb84_asymmetric_rate(qber_x, qber_z)
    if key_bases == "both":
        return (p * p + (1.0 - p) ** 2) * per_sifted_bit
    if key_bases == "z":
        return p * p * per_sifted_bit
    raise ValueError(f"key_bases must be 'both' or 'z', got {key_bases!r}")


def state_qbers(state: qutip.Qobj | np.ndarray) -> XZQBER:
    """Return the X and Z error rates of a two-qubit state measured for Phi+ correlations.

    ``Q_Z = P(Z outcomes differ) = (1 - <Z(x)Z>)/2`` and ``Q_X = P(X outcomes differ) =
    (1 - <X(x)X>)/2``: both are 0 for ``|Phi+> = (|00> + |11>)/sqrt(2)``. ``state`` is a 4x4
    density matrix (qutip ``Qobj`` or numpy array), checked as in
    :func:`qstack.quantum.bell.two_qubit_density_matrix` (an invalid state raises ``ValueError``).

    >>> from qstack.quantum.states import werner
    >>> [round(q, 12) for q in state_qbers(werner(0.85))]    # Werner: Q = 2(1 - F)/3 in both bases
    [0.1, 0.1]
    """
    t = correlation_matrix(state)
    return XZQBER(float((1.0 - t[0, 0]) / 2.0), float((1.0 - t[2, 2]) / 2.0))


def bell_diagonal_qbers(coefficients: Sequence[float]) -> XZQBER:
    """Return ``(Q_X, Q_Z)`` of a Bell-diagonal state with coefficients in qstack's order Phi+, Phi-, Psi+, Psi-.

    ``Q_Z = c_Psi+ + c_Psi-`` (Z outcomes anticorrelated) and ``Q_X = c_Phi- + c_Psi-`` (X outcomes
    anticorrelated), the Bell-diagonal case of :func:`state_qbers`. The coefficients must be 4
    probabilities summing to 1 (within 1e-9), else ``ValueError``.

    >>> bell_diagonal_qbers([0.9, 0.1, 0.0, 0.0])                 # dephased Phi+: X errors only
    XZQBER(qber_x=0.1, qber_z=0.0)
    """
    c = np.asarray(coefficients, dtype=float)
    if c.shape != (4,):
        raise ValueError(f"coefficients must have 4 entries (Phi+, Phi-, Psi+, Psi-), got shape {c.shape}")
    for i, x in enumerate(c):
        check_range(f"coefficients[{i}] ({BELL_NAMES[i]})", float(x), low=0.0, high=1.0)
    if abs(float(c.sum()) - 1.0) > 1e-9:
        raise ValueError(f"coefficients must sum to 1, got sum {float(c.sum()):.12g}")
    return XZQBER(float(c[1] + c[3]), float(c[2] + c[3]))


_BB84_QBER_THRESHOLD: float = 0.11002786443835955
"""What :func:`bb84_qber_threshold` returns, as a literal so that the modules whose defaults are
this threshold (:mod:`qstack.qkd.pipeline`, :mod:`qstack.apps.bb84`) need not import
``scipy.optimize`` (~0.4 s) to set them; ``tests/qkd/test_qkd_entropy.py`` checks it is the root
bit for bit."""


def bb84_qber_threshold() -> float:
    """Return the QBER at which 1 - 2 h(Q) = 0, i.e. h(Q) = 1/2: Q ~ 0.110028 (Shor–Preskill).

    >>> round(bb84_qber_threshold(), 6)
    0.110028
    """
    from scipy.optimize import brentq  # ~0.4 s to import: only here, on first use

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


def di_qkd_entropy_bound(chsh: float, noise: float = 0.0) -> float:
    """Lower bound on H(Â|E) of Alice's (noisily preprocessed) key bit from the CHSH value S.

    ``1 - h((1 + sqrt((S/2)^2 - 1))/2) + h((1 + sqrt(1 - p(1-p)(8 - S^2)))/2)`` with ``p`` =
    ``noise``, the probability that Alice flips her raw bit (Ho et al., PRL 124, 230502 (2020));
    at ``p = 0`` the second term vanishes and this is the bound of Pironio et al. (2009). ``chsh``
    in [0, 2 sqrt(2)], ``noise`` in [0, 1/2]. At ``S <= 2`` the bound is ``h(p)``: Eve may know
    the raw bit, but not Alice's private flip.

    >>> di_qkd_entropy_bound(TSIRELSON_BOUND)
    1.0
    >>> round(di_qkd_entropy_bound(2.5), 6), round(di_qkd_entropy_bound(2.5, 0.1), 6)
    (0.456436, 0.703571)
    >>> di_qkd_entropy_bound(2.0, 0.5)
    1.0
    """
    s = check_range("chsh", chsh, low=0.0, high=TSIRELSON_BOUND * (1.0 + 1e-12))
    p = check_range("noise", noise, low=0.0, high=0.5)
    s = min(max(s, 2.0), TSIRELSON_BOUND)
    root = math.sqrt(min(1.0, max(0.0, (s / 2.0) ** 2 - 1.0)))
    inner = 1.0 - p * (1.0 - p) * max(0.0, 8.0 - s * s)
    bound = 1.0 - binary_entropy((1.0 + root) / 2.0) + binary_entropy((1.0 + math.sqrt(max(0.0, inner))) / 2.0)
    return min(1.0, max(0.0, bound))


def di_qkd_noisy_preprocessing_rate(chsh: float, qber: float, noise: float) -> float:
    """DI-QKD rate with noisy preprocessing: ``H(Â|E) - h(p + (1 - 2p) Q)``, clipped at 0.

    Ho et al., PRL 124, 230502 (2020): Alice flips each key bit with probability ``p`` =
    ``noise`` (in [0, 1/2]); Bob's bits then differ from hers with probability
    ``p + (1 - 2p) Q``. At ``p = 0`` this is :func:`di_qkd_rate`. Per key bit.

    >>> di_qkd_noisy_preprocessing_rate(2.6, 0.05, 0.0) == di_qkd_rate(2.6, 0.05)
    True
    >>> round(di_qkd_rate(2.45, 0.075), 4), round(di_qkd_noisy_preprocessing_rate(2.45, 0.075, 0.1), 4)
    (0.0154, 0.0396)
    """
    q = check_range("qber", qber, low=0.0, high=0.5)
    p = check_range("noise", noise, low=0.0, high=0.5)
    if check_range("chsh", chsh, low=0.0, high=TSIRELSON_BOUND * (1.0 + 1e-12)) <= 2.0:
        return 0.0
    return max(0.0, di_qkd_entropy_bound(chsh, p) - binary_entropy(p + (1.0 - 2.0 * p) * q))


def optimal_noisy_preprocessing(chsh: float, qber: float) -> tuple[float, float]:
    """Return ``(p*, rate)``: the flip probability in [0, 1/2) that maximises
    :func:`di_qkd_noisy_preprocessing_rate`, and that rate (grid of 2001 points refined by
    golden-section search; deterministic).

    >>> p, r = optimal_noisy_preprocessing(2.45, 0.075)
    >>> round(p, 3), round(r, 4)
    (0.058, 0.0427)
    """
    grid = np.linspace(0.0, 0.4999, 2001)
    rates = [di_qkd_noisy_preprocessing_rate(chsh, qber, float(p)) for p in grid]
    k = int(np.argmax(rates))
    lo, hi = float(grid[max(k - 1, 0)]), float(grid[min(k + 1, len(grid) - 1)])
    inv = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):
        a, b = hi - inv * (hi - lo), lo + inv * (hi - lo)
        if di_qkd_noisy_preprocessing_rate(chsh, qber, a) >= di_qkd_noisy_preprocessing_rate(chsh, qber, b):
            hi = b
        else:
            lo = a
    p = 0.5 * (lo + hi)
    best = di_qkd_noisy_preprocessing_rate(chsh, qber, p)
    if best < rates[k]:
        p, best = float(grid[k]), rates[k]
    return p, best


def di_qkd_rate_per_round(chsh: float, qber: float, *, test_probability: float | None = None,
                          noise: float = 0.0) -> float:
    """Asymptotic DI-QKD secret bits per round (per measured pair).

    ``test_probability=None``: the uniform-setting protocol of Acín et al. (2007) — Alice's
    ``x`` in {0, 1} and Bob's ``y`` in {0, 1, 2} uniform, key only from ``(x, y) = (0, 2)``:
    ``r / 6``. With ``test_probability = gamma`` in (0, 1]: the biased (spot-checking) protocol,
    key rounds with probability ``1 - gamma``: ``(1 - gamma) r``. ``r`` is
    :func:`di_qkd_noisy_preprocessing_rate` (``noise = 0``: :func:`di_qkd_rate`).

    >>> round(di_qkd_rate_per_round(TSIRELSON_BOUND, 0.0), 6)
    0.166667
    >>> di_qkd_rate_per_round(TSIRELSON_BOUND, 0.0, test_probability=0.01)
    0.99
    """
    rate = di_qkd_noisy_preprocessing_rate(chsh, qber, noise)
    if test_probability is None:
        return rate / 6.0
    gamma = check_range("test_probability", test_probability, low=0.0, high=1.0, low_inclusive=False)
    return (1.0 - gamma) * rate


def plob_bound(transmissivity: float) -> float:
    """Return the PLOB repeaterless bound -log2(1 - eta), in secret bits per channel use.

    Pirandola et al., Nat. Commun. 8, 15043 (2017): the two-way assisted secret-key capacity
    of a pure-loss channel of transmissivity ``eta`` in [0, 1]; ~1.44 eta at low eta, and
    infinite at eta = 1.

    >>> plob_bound(0.5)
    1.0
    >>> round(plob_bound(1e-3) / 1e-3, 4)   # 1/ln 2 at low transmissivity
    1.4434
    >>> plob_bound(1e-20) * math.log(2) / 1e-20   # log1p keeps full precision at 200 dB
    1.0
    """
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    if eta == 1.0:
        return math.inf
    return -math.log1p(-eta) / math.log(2.0)


def tgw_bound(transmissivity: float) -> float:
    """Return the TGW bound log2((1 + eta)/(1 - eta)), in secret bits per channel use.

    Takeoka, Guha & Wilde, Nat. Commun. 5, 5235 (2014): the squashed-entanglement bound for
    a pure-loss channel, ~2.89 eta at low eta, i.e. twice the PLOB bound there.

    >>> round(tgw_bound(0.5), 6)
    1.584963
    >>> round(tgw_bound(1e-4) / plob_bound(1e-4), 3)
    2.0
    >>> tgw_bound(1e-20) * math.log(2) / 2e-20    # log1p keeps full precision at 200 dB
    1.0
    """
    eta = check_range("transmissivity", transmissivity, low=0.0, high=1.0)
    if eta == 1.0:
        return math.inf
    return (math.log1p(eta) - math.log1p(-eta)) / math.log(2.0)
