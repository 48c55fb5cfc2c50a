"""Closed-form results the simulator is checked against, and that planners may use.

Each function states its source. Fidelities are ``⟨ψ|ρ|ψ⟩`` (see :mod:`qstack.quantum.states`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "werner_swap_fidelity",
    "noisy_swap_werner_parameter",
    "bbpssw",
    "dejmps",
    "teleportation_average_fidelity",
    "dejmps_two",
    "bell_diagonal_swap",
    "twirled",
    "stored_bell_pair_fidelity",
    "depolarizing_memory_werner_parameter",
]


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
    for f in fidelities:
        w *= _w(f)
    return _f(w)


def noisy_swap_werner_parameter(w1: float, w2: float, p2: float, eta: float) -> float:
    """Werner parameter after a swap with gate reliability ``p2`` and measurement reliability
    ``eta`` (Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999)): ``w1·w2·p2·(4η² − 1)/3``.

    The output is Werner only after a twirl when ``η < 1``; its Φ⁺ fidelity is always given by
    ``(3w + 1)/4``.

    >>> noisy_swap_werner_parameter(1.0, 1.0, 1.0, 1.0)
    1.0
    """
    return w1 * w2 * p2 * (4.0 * eta**2 - 1.0) / 3.0


def bbpssw(f: float) -> tuple[float, float]:
    """One BBPSSW round on two Werner pairs of fidelity ``F`` (Bennett et al., PRL 76, 722):
    returns ``(F', p_success)`` with ``p = F² + 2F(1−F)/3 + 5((1−F)/3)²`` and
    ``F' = (F² + ((1−F)/3)²)/p``.

    >>> [round(x, 6) for x in bbpssw(0.8)]
    [0.83815, 0.768889]
    """
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
    phi_p, phi_m, psi_p, psi_m = (float(x) for x in coefficients)
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
    a1, d1, c1_, b1 = (float(x) for x in c1)
    a2, d2, c2_, b2 = (float(x) for x in c2)
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
    f = float(c[0])
    return np.array([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3])


def teleportation_average_fidelity(f: float) -> float:
    """Average fidelity of teleporting a uniformly random pure qubit state over a Werner
    resource of fidelity ``F`` (Horodecki et al. 1999): ``(2F + 1)/3``.

    >>> teleportation_average_fidelity(1.0)
    1.0
    """
    return (2.0 * f + 1.0) / 3.0


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
    return w0 * math.exp(-(t_a + t_b) / t_depol)
