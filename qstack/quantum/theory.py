"""Closed-form results the simulator is checked against, and that planners may use.

Each function states its source. Fidelities are ``⟨ψ|ρ|ψ⟩`` (see :mod:`qstack.quantum.states`).

Inputs are checked where they enter: fidelities and probabilities must be real numbers in
``[0, 1]``, Werner parameters in ``[−1/3, 1]``, times ``>= 0`` s, and Bell coefficients four finite
real numbers; a bool or non-number is a ``TypeError``, NaN or a value out of range a
``ValueError``, each naming the parameter.

>>> bbpssw(1.2)
Traceback (most recent call last):
...
ValueError: f must be in [0, 1], got 1.2
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qstack.validation import check_range

from .noise import _time

__all__ = [
    "werner_swap_fidelity",
    "noisy_swap_werner_parameter",
    "bbpssw",
    "dejmps",
    "teleportation_average_fidelity",
    "dejmps_two",
    "bell_diagonal_swap",
    "twirled",
    "dejmps_pumping",
    "bbpssw_pumping",
    "pumping_rounds",
    "pumping_fixed_point",
    "bbpssw_pumping_fixed_point",
    "dejmps_pumping_fixed_point",
    "stored_bell_pair_fidelity",
    "depolarizing_memory_werner_parameter",
]


def _unit(name: str, x: float) -> float:
    """A fidelity or probability: a real number in [0, 1]."""
    if type(x) is float and 0.0 <= x <= 1.0:  # the common case, without building a message
        return x
    return check_range(name, x, low=0.0, high=1.0)


def _werner(name: str, w: float) -> float:
    """A Werner parameter: a real number in [−1/3, 1] (rounding below −1/3 by 1e-12 allowed)."""
    if type(w) is float and -1.0 / 3.0 <= w <= 1.0:
        return w
    return check_range(name, w, low=-1.0 / 3.0 - 1e-12, high=1.0)


def _coefficients(name: str, c: Sequence[float]) -> np.ndarray:
    """Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻): four finite real numbers."""
    arr = np.asarray(c)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be 4 real Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got {c!r}")
    if arr.shape != (4,):
        raise ValueError(f"{name} must have 4 entries (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got shape {arr.shape}")
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries: {arr.tolist()}")
    return arr


def _w(f: float) -> float:
    return (4.0 * f - 1.0) / 3.0


def _f(w: float) -> float:
    return (3.0 * w + 1.0) / 4.0


def werner_swap_fidelity(*fidelities: float) -> float:
    """Fidelity after ideally swapping Werner pairs of the given fidelities: the Werner
    parameters ``w = (4F − 1)/3`` multiply.

    >>> round(werner_swap_fidelity(0.9, 0.9), 12)
    0.813333333333
    """
    w = 1.0
    for i, f in enumerate(fidelities):
        w *= _w(_unit(f"fidelities[{i}]", f))
    return _f(w)


def noisy_swap_werner_parameter(w1: float, w2: float, p2: float, eta: float) -> float:
    """Werner parameter after a swap with gate reliability ``p2`` and measurement reliability
    ``eta`` (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999)): ``w1·w2·p2·(4η² − 1)/3``.

    The output is Werner only after a twirl when ``η < 1``; its Φ⁺ fidelity is always given by
    ``(3w + 1)/4``.

    >>> noisy_swap_werner_parameter(1.0, 1.0, 1.0, 1.0)
    1.0
    """
    w1, w2 = _werner("w1", w1), _werner("w2", w2)
    p2, eta = _unit("p2", p2), _unit("eta", eta)
    return w1 * w2 * p2 * (4.0 * eta**2 - 1.0) / 3.0


def bbpssw(f: float) -> tuple[float, float]:
    """One BBPSSW round on two Werner pairs of fidelity ``F`` (Bennett et al., PRL 76, 722):
    returns ``(F', p_success)`` with ``p = F² + 2F(1−F)/3 + 5((1−F)/3)²`` and
    ``F' = (F² + ((1−F)/3)²)/p``.

    >>> [round(x, 6) for x in bbpssw(0.8)]
    [0.83815, 0.768889]
    """
    f = _unit("f", f)
    e = (1.0 - f) / 3.0
    p = f * f + 2.0 * f * e + 5.0 * e * e
    return (f * f + e * e) / p, p


def dejmps(coefficients: Sequence[float]) -> tuple[np.ndarray, float]:
    """One DEJMPS round on two copies of a Bell-diagonal state (Deutsch et al., PRL 77, 2818).

    ``coefficients`` in qstack's order (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻). In the paper's notation
    ``A = Φ⁺, B = Ψ⁻, C = Ψ⁺, D = Φ⁻``: ``N = (A+B)² + (C+D)²``,
    ``A' = (A²+B²)/N, B' = 2CD/N, C' = (C²+D²)/N, D' = 2AB/N``. Returns the new coefficients in
    qstack's order and the success probability ``N``.

    >>> c, p = dejmps([0.8, 0.2 / 3, 0.2 / 3, 0.2 / 3])
    >>> round(float(c[0]), 6), round(p, 6)
    (0.83815, 0.768889)
    """
    phi_p, phi_m, psi_p, psi_m = (float(x) for x in _coefficients("coefficients", coefficients))
    a, b, c, d = phi_p, psi_m, psi_p, phi_m
    n = (a + b) ** 2 + (c + d) ** 2
    a2, b2, c2, d2 = (a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n
    return np.array([a2, d2, c2, b2]), n


def dejmps_two(c1: Sequence[float], c2: Sequence[float]) -> tuple[np.ndarray, float]:
    """One DEJMPS round on two *different* Bell-diagonal pairs (``c1`` kept, ``c2`` measured),
    coefficients in qstack's order (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻); the pumping step of Dür & Briegel.
    With the paper's ``A = Φ⁺, B = Ψ⁻, C = Ψ⁺, D = Φ⁻``:
    ``N = (A₁+B₁)(A₂+B₂) + (C₁+D₁)(C₂+D₂)``, ``A' = (A₁A₂ + B₁B₂)/N``,
    ``B' = (C₁D₂ + D₁C₂)/N``, ``C' = (C₁C₂ + D₁D₂)/N``, ``D' = (A₁B₂ + B₁A₂)/N``.
    For two copies of one state it reduces to :func:`dejmps`; for Werner inputs the fidelity is
    BBPSSW's ``(F₁F₂ + e₁e₂)/(F₁F₂ + F₁e₂ + e₁F₂ + 5e₁e₂)``, ``e = (1−F)/3``.

    >>> c, p = dejmps_two([0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3], [0.8, 0.2 / 3, 0.2 / 3, 0.2 / 3])
    >>> round(float(c[0]), 6), round(p, 6)
    (0.883152, 0.817778)
    """
    a1, d1, c1_, b1 = (float(x) for x in _coefficients("c1", c1))
    a2, d2, c2_, b2 = (float(x) for x in _coefficients("c2", c2))
    n = (a1 + b1) * (a2 + b2) + (c1_ + d1) * (c2_ + d2)
    a = (a1 * a2 + b1 * b2) / n
    b = (c1_ * d2 + d1 * c2_) / n
    c = (c1_ * c2_ + d1 * d2) / n
    d = (a1 * b2 + b1 * a2) / n
    return np.array([a, d, c, b]), n


def bell_diagonal_swap(c1: Sequence[float], c2: Sequence[float]) -> np.ndarray:
    """Bell coefficients after an ideal swap of two Bell-diagonal pairs, in the frame the
    protocol announces: the Pauli labels add (XOR), so ``c[k] = Σ_{i ⊕ j = k} c1[i]·c2[j]``.
    For Werner pairs this is the product rule of :func:`werner_swap_fidelity`.

    >>> bell_diagonal_swap([0.9, 0.1, 0, 0], [0.8, 0.2, 0, 0]).round(6).tolist()
    [0.74, 0.26, 0.0, 0.0]
    """
    c1, c2 = _coefficients("c1", c1), _coefficients("c2", c2)
    out = np.zeros(4)
    for i in range(4):
        for j in range(4):
            out[i ^ j] += float(c1[i]) * float(c2[j])
    return out


def twirled(c: Sequence[float]) -> np.ndarray:
    """Bell coefficients after the Werner twirl: Φ⁺ kept, the rest spread evenly.

    >>> twirled([0.7, 0.3, 0, 0]).round(6).tolist()
    [0.7, 0.1, 0.1, 0.1]
    """
    f = float(_coefficients("c", c)[0])
    return np.array([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3])


# Entanglement pumping (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999); Dür & Briegel, Rep. Prog.
# Phys. 70, 1381 (2007)): one pair is purified again and again with fresh pairs ``c0``. Unlike
# recurrence (two equal pairs), the fidelity does not tend to one: it has a fixed point below one
# for fresh pairs of fidelity F0 < 1. The fixed-point equations below are derived from the
# one-step maps of this module (``dejmps_two``), and checked against iteration in the tests.

_PUMPING_PROTOCOLS = ("dejmps", "bbpssw")


def dejmps_pumping(c: Sequence[float], c0: Sequence[float]) -> tuple[np.ndarray, float]:
    """One DEJMPS pumping step: the kept pair ``c`` is purified with a fresh pair ``c0`` (Bell
    coefficients in qstack's order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻; no twirl, so the kept pair stays
    Bell-diagonal but not Werner). Returns the kept pair's new coefficients and the success
    probability: :func:`dejmps_two` ``(c, c0)`` (the map is symmetric in its two pairs).

    >>> c0 = [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]
    >>> c, p = dejmps_pumping(dejmps_pumping(c0, c0)[0], c0)
    >>> round(float(c[0]), 6), round(p, 6)
    (0.956522, 0.871743)
    """
    return dejmps_two(c, c0)


def bbpssw_pumping(f: float, f0: float) -> tuple[float, float]:
    """One BBPSSW pumping step on Werner fidelities (Bennett et al., PRL 76, 722 (1996), for two
    different pairs; pumping as reviewed by Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007)):
    both pairs are twirled to Werner form, then one BBPSSW round with the kept pair of fidelity
    ``f`` and a fresh one of ``f0``.
    With ``e = (1−F)/3``, ``e0 = (1−F0)/3``: ``p = F·F0 + F·e0 + e·F0 + 5e·e0`` and
    ``F' = (F·F0 + e·e0)/p``; returns ``(F', p)``. It is :func:`dejmps_two` on ``twirled``
    inputs, and :func:`bbpssw` when ``f == f0``.

    >>> [round(x, 6) for x in bbpssw_pumping(0.8, 0.8)] == [round(x, 6) for x in bbpssw(0.8)]
    True
    >>> [round(x, 6) for x in bbpssw_pumping(bbpssw(0.9)[0], 0.9)]
    [0.936875, 0.890807]
    """
    f, f0 = _unit("f", f), _unit("f0", f0)
    e, e0 = (1.0 - f) / 3.0, (1.0 - f0) / 3.0
    p = f * f0 + f * e0 + e * f0 + 5.0 * e * e0
    return (f * f0 + e * e0) / p, p


def _pumping_step(c: np.ndarray, c0: np.ndarray, protocol: str) -> np.ndarray:
    if protocol == "bbpssw":
        return dejmps_two(twirled(c), twirled(c0))[0]
    return dejmps_two(c, c0)[0]


def _check_protocol(protocol: str) -> None:
    if protocol not in _PUMPING_PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(_PUMPING_PROTOCOLS)}, got {protocol!r}")


def pumping_rounds(c0: Sequence[float], rounds: int, protocol: str = "dejmps") -> np.ndarray:
    """Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) of the kept pair after ``rounds`` successful pumping
    steps with fresh pairs ``c0``: ``c₀ = c0``, ``cₖ = P(cₖ₋₁, c0)`` — the first step joins two
    fresh pairs. ``P`` is :func:`dejmps_pumping` for ``protocol="dejmps"``; for ``"bbpssw"`` both
    pairs are twirled first (their Φ⁺ fidelity follows :func:`bbpssw_pumping`; the coefficients
    returned are those before the next twirl, as the network layer keeps them).

    >>> c0 = [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]
    >>> round(float(pumping_rounds(c0, 2, "dejmps")[0]), 6), round(float(pumping_rounds(c0, 2, "bbpssw")[0]), 6)
    (0.956522, 0.936875)
    """
    _check_protocol(protocol)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ValueError(f"rounds must be an int >= 0, got {rounds!r}")
    fresh = _coefficients("c0", c0)
    c = fresh.copy()
    for _ in range(rounds):
        c = _pumping_step(c, fresh, protocol)
    return c


def pumping_fixed_point(
    c0: Sequence[float], protocol: str = "dejmps", *, tol: float = 1e-14, max_steps: int = 100_000
) -> np.ndarray:
    """The fixed point of repeated pumping with fresh pairs ``c0``, found by iterating
    :func:`pumping_rounds`' map until no coefficient changes by more than ``tol`` (a
    ``RuntimeError`` after ``max_steps``). For Werner ``c0`` of fidelity F0 < 1 its fidelity is
    below one (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999); Dür & Briegel, Rep. Prog. Phys.
    70, 1381 (2007)) and equals the closed forms :func:`bbpssw_pumping_fixed_point` and
    :func:`dejmps_pumping_fixed_point`.

    >>> c0 = [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]
    >>> round(float(pumping_fixed_point(c0, "bbpssw")[0]), 9), round(bbpssw_pumping_fixed_point(0.9), 9)
    (0.943460157, 0.943460157)
    >>> round(float(pumping_fixed_point(c0, "dejmps")[0]), 9)
    0.960173122
    """
    _check_protocol(protocol)
    fresh = _coefficients("c0", c0)
    c = fresh.copy()
    for _ in range(max_steps):
        nxt = _pumping_step(c, fresh, protocol)
        if float(np.max(np.abs(nxt - c))) <= tol:
            return nxt
        c = nxt
    raise RuntimeError(f"pumping did not converge to {tol} in {max_steps} steps")


def _check_fresh_fidelity(f0: float) -> None:
    if isinstance(f0, bool) or not isinstance(f0, int | float | np.floating | np.integer):
        raise TypeError(f"fresh-pair fidelity f0 must be a real number in (0.5, 1], got {f0!r}")
    if not 0.5 < f0 <= 1.0:
        raise ValueError(f"fresh-pair fidelity f0 must be in (0.5, 1], got {f0}")


def bbpssw_pumping_fixed_point(f0: float) -> float:
    """Closed-form fixed point of BBPSSW pumping with fresh Werner pairs of fidelity ``F0`` in
    (1/2, 1] (the limit of Dür & Briegel, Rep. Prog. Phys. 70, 1381 (2007); Dür, Briegel, Cirac
    & Zoller, PRA 59, 169 (1999)). Setting ``F' = F`` in :func:`bbpssw_pumping` and clearing the
    denominator gives the quadratic ``q(F) = 2(4F0−1)F² − 6(2F0−1)F − (1−F0) = 0``, whose
    positive root is ``F* = [3(2F0−1) + √(9(2F0−1)² + 2(4F0−1)(1−F0))] / (2(4F0−1))`` (the other
    root is negative: the product of the roots is below zero). Since ``q(0) = −(1−F0) < 0`` and
    ``q(1) = 3(1−F0) > 0``, ``F* < 1`` for every ``F0 < 1``; since
    ``q(F0) = 8(F0−1)(F0−½)(F0−¼) < 0``, ``F* > F0``: pumping helps, but only up to ``F*``.

    >>> round(bbpssw_pumping_fixed_point(0.9), 9), round(bbpssw_pumping_fixed_point(0.8), 9)
    (0.943460157, 0.870404162)
    >>> bbpssw_pumping_fixed_point(1.0)
    1.0
    """
    _check_fresh_fidelity(f0)
    alpha, beta, gamma = 2.0 * (4.0 * f0 - 1.0), 6.0 * (2.0 * f0 - 1.0), 1.0 - f0
    disc = math.sqrt(beta * beta + 4.0 * alpha * gamma)
    return (beta + disc) / (2.0 * alpha)


def dejmps_pumping_fixed_point(f0: float) -> np.ndarray:
    """Fixed point (Bell coefficients Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) of DEJMPS pumping with fresh Werner pairs
    of fidelity ``F0`` in (1/2, 1], in closed form up to the root of a cubic; derived here from
    :func:`dejmps_two` (pumping after Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999); Dür &
    Briegel, Rep. Prog. Phys. 70, 1381 (2007)). With the paper's ``A = Φ⁺, B = Ψ⁻, C = Ψ⁺,
    D = Φ⁻`` and ``e = (1−F0)/3``, a fixed point has ``B = C = rA`` and ``D = sA`` where
    ``r > 0`` solves ``e²r³ + e(2F0 − e)r² + F0(F0 − 2e)r − e² = 0`` (exactly one positive root
    by Descartes' rule, as ``F0 > 2e``), ``s = r(F0 − e + er)/e``, and ``A = 1/(1 + 2r + s)``;
    the success probability there is ``N = F0 + er``. As the cubic is ``−e² < 0`` at ``r = 0``,
    ``r > 0`` and so ``A < 1`` for every ``F0 < 1``.

    >>> [round(float(x), 9) for x in dejmps_pumping_fixed_point(0.9)]
    [0.960173122, 0.036982252, 0.001422313, 0.001422313]
    >>> round(float(dejmps_pumping_fixed_point(0.8)[0]), 9)
    0.902339757
    """
    _check_fresh_fidelity(f0)
    e = (1.0 - f0) / 3.0
    if e == 0.0:
        return np.array([1.0, 0.0, 0.0, 0.0])
    cubic = np.array([e * e, e * (2.0 * f0 - e), f0 * (f0 - 2.0 * e), -e * e])
    r = max(float(x.real) for x in np.roots(cubic) if abs(x.imag) <= 1e-9 * max(1.0, abs(x.real)))
    slope = np.polyder(cubic)
    for _ in range(3):  # polish the root (np.roots is accurate to a few ulps of the largest root)
        r -= float(np.polyval(cubic, r)) / float(np.polyval(slope, r))
    s = r * (f0 - e + e * r) / e
    a = 1.0 / (1.0 + 2.0 * r + s)
    return np.array([a, s * a, r * a, r * a])


def teleportation_average_fidelity(f: float) -> float:
    """Average fidelity of teleporting a uniformly random pure qubit state over a Werner
    resource of fidelity ``F`` (Horodecki et al. 1999): ``(2F + 1)/3``.

    >>> teleportation_average_fidelity(1.0)
    1.0
    """
    return (2.0 * _unit("f", f) + 1.0) / 3.0


def stored_bell_pair_fidelity(
    t_a: float, t_b: float, t1_a: float, t2_a: float, t1_b: float | None = None, t2_b: float | None = None
) -> float:
    """Φ⁺ fidelity of a perfect Φ⁺ pair after its qubits sat ``t_a`` and ``t_b`` seconds in
    T1/T2 memories: ``[1 + γ_aγ_b + (1−γ_a)(1−γ_b) + 2 e^{−t_a/T2a} e^{−t_b/T2b}] / 4`` with
    ``γ = 1 − e^{−t/T1}``. With damping on both qubits it tends to 1/2 (both relax to ``|0⟩``,
    and ``|00⟩`` has overlap ½ with Φ⁺); with one stored qubit it tends to 1/4.

    >>> stored_bell_pair_fidelity(0, 0, 1.0, 1.0)
    1.0
    >>> round(stored_bell_pair_fidelity(1e9, 1e9, 1.0, 1.0), 12)
    0.5
    """
    t1_b = t1_a if t1_b is None else t1_b
    t2_b = t2_a if t2_b is None else t2_b
    t_a, t_b = _time("t_a", t_a, allow_inf=False), _time("t_b", t_b, allow_inf=False)
    for name, value in (("t1_a", t1_a), ("t2_a", t2_a), ("t1_b", t1_b), ("t2_b", t2_b)):
        if _time(name, value) == 0.0:
            raise ValueError(f"{name} must be > 0 s, got {value}")
    ga = -math.expm1(-t_a / t1_a) if math.isfinite(t1_a) else 0.0
    gb = -math.expm1(-t_b / t1_b) if math.isfinite(t1_b) else 0.0
    ca = math.exp(-t_a / t2_a) if math.isfinite(t2_a) else 1.0
    cb = math.exp(-t_b / t2_b) if math.isfinite(t2_b) else 1.0
    return (1.0 + ga * gb + (1.0 - ga) * (1.0 - gb) + 2.0 * ca * cb) / 4.0


def depolarizing_memory_werner_parameter(w0: float, t_a: float, t_b: float, t_depol: float) -> float:
    """Werner parameter of a pair whose qubits sat ``t_a``, ``t_b`` in depolarising memories of
    time ``T``: ``w0·e^{−(t_a + t_b)/T}`` — for equal times the pair's time constant is ``T/2``.

    >>> depolarizing_memory_werner_parameter(1.0, 0.0, 0.0, 1.0)
    1.0
    """
    w0 = _werner("w0", w0)
    t_a, t_b = _time("t_a", t_a, allow_inf=False), _time("t_b", t_b, allow_inf=False)
    if _time("t_depol", t_depol) == 0.0:
        raise ValueError(f"t_depol must be > 0 s, got {t_depol}")
    return w0 * math.exp(-(t_a + t_b) / t_depol)
