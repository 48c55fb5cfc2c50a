"""Link noise beyond Werner: Bell-diagonal link states, visibility per basis, CHSH and QBER.

A link's heralded pair (see :mod:`qstack.physical.heralding`) passes the emitters'
raw-fidelity channel ``ρ → wρ + (1 − w)I/4`` (Werner, ``raw_w``). That channel has one
parameter, so a link can match a measured QBER *or* a measured CHSH value, not both. This
module adds the general Pauli channel on the pair's second qubit,

    ρ → Σ_k p_k (I ⊗ P_k) ρ (I ⊗ P_k)†,   P_k = X^x Z^z for Bell index k = 2x + z,

(``p`` in Bell-index order: I, Z, X, XZ ∝ Y). It maps the Bell state β_j to β_{j⊕k}, so an ideal
Φ⁺ pair becomes the Bell-diagonal state with coefficients ``(p_0, p_1, p_2, p_3)`` over
(Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), and any heralded pair ``β_j`` gets ``λ_{j⊕k} = p_k`` in its announced frame.
It commutes with the Werner channel (a mixture of unitaries against ``I/4``), so the order of
the two does not matter, and it keeps Bell-diagonal states Bell-diagonal: the exact
Bell-diagonal engine (:mod:`qstack.quantum.bell_engine`) still applies to such links.

Two ways to give ``p`` (``[[links]] noise = "bell_diagonal"`` in a scenario):

* the four Bell coefficients of a perfect pair, :func:`pauli_weights_from_bell`;
* the visibilities per basis, :func:`pauli_weights_from_visibilities`: independent bit flips
  (probability ``(1 − V_Z)/2``) and phase flips (``(1 − V_X)/2``), so that
  ``QBER_Z = (1 − V_Z)/2`` and ``QBER_X = (1 − V_X)/2``.

Analytic figures of a Bell-diagonal state ``λ`` (Horodecki, Horodecki & Horodecki, Phys. Lett. A
200, 340 (1995) for CHSH): its correlation matrix ``T = diag(t_xx, t_yy, t_zz)`` with
``t_xx = λ0 − λ1 + λ2 − λ3``, ``t_yy = −λ0 + λ1 + λ2 − λ3``, ``t_zz = λ0 + λ1 − λ2 − λ3``
(:func:`correlations`); the QBER in the Z and X bases ``(1 − t_zz)/2 = λ2 + λ3`` and
``(1 − t_xx)/2 = λ1 + λ3`` (:func:`qber`); the largest CHSH value over all settings
``S_max = 2 √(τ1² + τ2²)`` with τ1 ≥ τ2 the two largest |t| (:func:`chsh_max`), and with the
textbook settings in the X–Z plane (A: Z, X; B: (Z ± X)/√2) ``S = √2 (t_zz + t_xx)``
(:func:`chsh_xz`). For ``V_Z = V_X = V`` both give ``2√2 V``.

>>> w = pauli_weights_from_visibilities(0.9, 0.8)
>>> [round(x, 6) for x in w]
[0.855, 0.095, 0.045, 0.005]
>>> [round(q, 6) for q in qber(w)], round(chsh_max(w), 6)
([0.05, 0.1], 2.408319)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "NoisyLinkModel",
    "apply_pauli",
    "chsh_max",
    "chsh_xz",
    "correlations",
    "noisy_single_click_alpha",
    "pauli_weights_from_bell",
    "pauli_weights_from_visibilities",
    "qber",
]

_X = np.array([[0.0, 1.0], [1.0, 0.0]])
_Z = np.array([[1.0, 0.0], [0.0, -1.0]])
#: I ⊗ X^x Z^z for Bell index k = 2x + z (real matrices: XZ = −iY)
_PAULIS_B = tuple(np.kron(np.eye(2), np.linalg.matrix_power(_X, k >> 1) @ np.linalg.matrix_power(_Z, k & 1))
                  for k in range(4))


def _weights(name: str, values: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        w = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be four numbers, got {values!r}") from None
    if len(w) != 4:
        raise ValueError(f"{name} must be four numbers (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got {len(w)}")
    if not all(math.isfinite(x) and x >= 0.0 for x in w):
        raise ValueError(f"{name} must be four numbers >= 0, got {list(w)}")
    total = sum(w)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"{name} must sum to 1 (a probability distribution), got sum {total:.12g}")
    return (w[0] / total, w[1] / total, w[2] / total, w[3] / total)


def pauli_weights_from_bell(coefficients: Sequence[float]) -> tuple[float, float, float, float]:
    """The Pauli-channel weights (Bell-index order I, Z, X, XZ) that turn a perfect Φ⁺ pair into
    the Bell-diagonal state ``coefficients`` (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻): the same four numbers, checked
    (each >= 0, sum 1 to 1e-9, renormalised).

    >>> pauli_weights_from_bell([0.94, 0.02, 0.03, 0.01])
    (0.94, 0.02, 0.03, 0.01)
    """
    return _weights("bell_coefficients", coefficients)


def pauli_weights_from_visibilities(v_z: float, v_x: float) -> tuple[float, float, float, float]:
    """Pauli weights of independent bit flips (``(1 − V_Z)/2``) and phase flips (``(1 − V_X)/2``)
    on one qubit: ``((1+V_Z)(1+V_X), (1+V_Z)(1−V_X), (1−V_Z)(1+V_X), (1−V_Z)(1−V_X)) / 4`` in
    Bell-index order (I, Z, X, XZ). The pair then has ``t_zz = V_Z``, ``t_xx = V_X`` and
    ``t_yy = −V_Z V_X``. Visibilities in [0, 1].

    >>> pauli_weights_from_visibilities(1.0, 1.0)
    (1.0, 0.0, 0.0, 0.0)
    """
    for name, v in (("visibility_z", v_z), ("visibility_x", v_x)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
    a, b = float(v_z), float(v_x)
    return ((1 + a) * (1 + b) / 4, (1 + a) * (1 - b) / 4, (1 - a) * (1 + b) / 4, (1 - a) * (1 - b) / 4)


def apply_pauli(rho: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """``Σ_k p_k (I ⊗ P_k) ρ (I ⊗ P_k)†`` for a 4×4 (unnormalised) two-qubit ``rho``; real input
    stays real.

    >>> from qstack.quantum.states import BELL_KETS_NP
    >>> phi = np.outer(BELL_KETS_NP[0], BELL_KETS_NP[0]).real
    >>> out = apply_pauli(phi, (0.7, 0.1, 0.15, 0.05))
    >>> [round(float((BELL_KETS_NP[k].conj() @ out @ BELL_KETS_NP[k]).real), 12) for k in range(4)]
    [0.7, 0.1, 0.15, 0.05]
    """
    rho = np.asarray(rho)
    out = np.zeros_like(rho)
    for p, pauli in zip(weights, _PAULIS_B, strict=True):
        if p:
            out = out + p * (pauli @ rho @ pauli.T)
    return out


def correlations(coefficients: Sequence[float]) -> tuple[float, float, float]:
    """``(t_xx, t_yy, t_zz)``, the diagonal correlation matrix ``⟨σ_i ⊗ σ_i⟩`` of the
    Bell-diagonal state ``coefficients`` (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻).

    >>> correlations([1, 0, 0, 0])
    (1.0, -1.0, 1.0)
    """
    l0, l1, l2, l3 = (float(c) for c in coefficients)
    return (l0 - l1 + l2 - l3, -l0 + l1 + l2 - l3, l0 + l1 - l2 - l3)


def qber(coefficients: Sequence[float]) -> tuple[float, float]:
    """``(QBER_Z, QBER_X)`` of a Bell-diagonal pair announced as Φ⁺: ``λ_Ψ⁺ + λ_Ψ⁻`` (Z outcomes
    differ) and ``λ_Φ⁻ + λ_Ψ⁻`` (X outcomes differ).

    >>> [round(q, 12) for q in qber([0.9, 0.05, 0.03, 0.02])]
    [0.05, 0.07]
    """
    _, l1, l2, l3 = (float(c) for c in coefficients)
    return (l2 + l3, l1 + l3)


def chsh_max(coefficients: Sequence[float]) -> float:
    """Largest CHSH value over all measurement settings (Horodecki criterion):
    ``2 √(τ1² + τ2²)`` with τ1, τ2 the two largest singular values of the correlation matrix,
    here the two largest of ``|t_xx|, |t_yy|, |t_zz|``.

    >>> round(chsh_max([1, 0, 0, 0]), 12)   # Tsirelson's bound 2√2
    2.828427124746
    """
    t = sorted((abs(x) for x in correlations(coefficients)), reverse=True)
    return 2.0 * math.sqrt(t[0] ** 2 + t[1] ** 2)


def chsh_xz(coefficients: Sequence[float]) -> float:
    """CHSH value with the textbook settings in the X–Z plane (A measures Z and X, B measures
    (Z + X)/√2 and (Z − X)/√2): ``√2 (t_zz + t_xx)``; equal to :func:`chsh_max` when
    ``|t_yy|`` is the smallest correlation and ``t_zz = t_xx``.

    >>> round(chsh_xz([0.9, 0.05, 0.03, 0.02]), 6)   # √2 (0.9 + 0.86)
    2.489016
    """
    t_xx, _, t_zz = correlations(coefficients)
    return math.sqrt(2.0) * (t_zz + t_xx)


class NoisyLinkModel:
    """A link generation model whose heralded states pass the Pauli channel ``weights``.

    Wraps any model (see :mod:`qstack.physical.station`): ``outcomes()`` and ``fidelity`` are
    those after the channel; success and outcome probabilities, timing and everything else are
    the wrapped model's (the channel is trace preserving).

    >>> from qstack.physical.heralding import HeraldingModel
    >>> m = NoisyLinkModel(HeraldingModel("double_click", 0.5, 0.5), (0.9, 0.04, 0.04, 0.02))
    >>> round(m.fidelity, 12), round(m.success_probability, 12)
    (0.9, 0.125)
    """

    __slots__ = ("base", "weights", "_outcomes", "_fidelity")

    def __init__(self, base: Any, weights: Sequence[float]) -> None:
        from qstack.quantum.states import BELL_KETS_NP

        self.base = base
        self.weights = _weights("weights", weights)
        outs = []
        good = total = 0.0
        for k, state in base.outcomes():
            s = apply_pauli(np.asarray(state), self.weights)
            s.setflags(write=False)
            outs.append((k, s))
            total += float(np.trace(s).real)
            good += float(np.real(BELL_KETS_NP[k].conj() @ s @ BELL_KETS_NP[k]))
        self._outcomes = outs
        self._fidelity = good / total if total > 0 else float("nan")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in NoisyLinkModel.__slots__:
            raise AttributeError(name)
        return getattr(self.base, name)

    def __repr__(self) -> str:
        return f"NoisyLinkModel({self.base!r}, weights={self.weights})"

    def outcomes(self) -> list[tuple[int, np.ndarray]]:
        """The heralded outcomes (Bell index, unnormalised 4×4 state) after the channel."""
        return list(self._outcomes)

    @property
    def fidelity(self) -> float:
        """Average fidelity of the heralded pair to its announced Bell state, after the channel."""
        return self._fidelity

    def generate(self, rng: np.random.Generator, max_attempts: int | None = None) -> Any:
        """Sample the attempts until success and the heralded state (after the channel), as
        :meth:`qstack.physical.heralding.HeraldingModel.generate`."""
        from qstack.physical.heralding import HeraldedPair, attempts_until_success

        probs = [float(np.trace(s).real) for _, s in self._outcomes]
        n = attempts_until_success(sum(probs), rng)
        if max_attempts is not None and n > max_attempts:
            return None
        i = 0 if rng.random() * sum(probs) < probs[0] else 1
        k, s = self._outcomes[i]
        return HeraldedPair(s / probs[i], k, n, self.base.cycle_time)


def noisy_single_click_alpha(target: float, hw: Any, max_alpha: float) -> float | None:
    """Largest bright-state population α ≤ ``max_alpha`` whose single-click pair, after the link
    noise ``hw.pauli`` and the raw-fidelity channel ``hw.raw_w``, has fidelity ≥ ``target``;
    None if no α reaches it. (The Werner-only search,
    :func:`qstack.physical.heralding.single_click_alpha_for_fidelity`, with the noisy fidelity.)

    >>> from qstack.physical.station import LinkHardware
    >>> hw = LinkHardware(0.5, 0.5, pauli=(0.95, 0.05, 0.0, 0.0))
    >>> round(noisy_single_click_alpha(0.85, hw, 0.5), 6)   # F = 0.95 (1 − α)/(1 − α/4)
    0.135593
    """
    from scipy.optimize import brentq, minimize_scalar

    from qstack.physical.heralding import HeraldingModel

    def fid(a: float) -> float:
        m = NoisyLinkModel(HeraldingModel("single_click", hw.eta_a, hw.eta_b, hw.p_dark, a, hw.phase_std), hw.pauli)
        return hw.raw_w * m.fidelity + (1.0 - hw.raw_w) / 4.0

    lo, hi = 1e-9, min(max_alpha, 1 - 1e-9)
    if HeraldingModel("single_click", hw.eta_a, hw.eta_b, hw.p_dark, hi, hw.phase_std).success_probability <= 0.0:
        return None
    peak = minimize_scalar(lambda a: -fid(a), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    a_peak = float(peak.x) if fid(float(peak.x)) > fid(lo) else lo
    if fid(a_peak) < target:
        return None
    if fid(hi) >= target:
        return hi
    return float(brentq(lambda a: fid(a) - target, a_peak, hi, xtol=1e-14, rtol=1e-13))
