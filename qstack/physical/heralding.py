"""Heralded entanglement generation between two nodes through a midpoint station.

One physical model serves both standard schemes. Each node holds a qubit whose ``|1⟩``
("bright") state emits one photon; the photon reaches the station's 50:50 beam splitter with
transmissivity ``η_A`` (resp. ``η_B``: emission/collection × fibre × detector efficiency), and
two threshold detectors ``c`` and ``d`` with dark-count probability ``p_dc`` each watch the
outputs. Photon loss is amplitude damping of the photon mode; the two photons of ``|11⟩``
bunch (Hong–Ou–Mandel) and always leave through the same port.

Conditioning on "only ``c`` clicked" is then a quantum instrument on the two qubits whose Kraus
operators are all diagonal in the computational basis, so it acts as an elementwise product
``ρ → M_c ∘ ρ`` with (``|ab⟩`` = qubit A, qubit B; ``v = √η_A |10⟩ ± √η_B |01⟩``, + for ``c``)::

    M_c = (1 − p_dc) [ p_dc |00⟩⟨00| + ½ v v† + p_dc (1 − η_A) |10⟩⟨10| + p_dc (1 − η_B) |01⟩⟨01|
                       + (η_Aη_B/2 + (1−η_A)η_B/2 + (1−η_B)η_A/2 + p_dc(1−η_A)(1−η_B)) |11⟩⟨11| ]

(derived here; checked in the tests against a Fock-space simulation of the optics).

* **Single click** (Cabrillo et al., PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268
  (2018)): both qubits start in ``√(1−α)|0⟩ + √α|1⟩``; one click heralds ``Ψ⁺`` (detector c) or
  ``Ψ⁻`` (d). Without dark counts and with ``η_A = η_B = η`` exactly
  ``p = 2αη − α²η²`` and ``F = (1 − α)/(1 − αη/2)``; the familiar ``p ≈ 2αη`` and ``F ≈ 1 − α``
  hold only at small ``αη``. An optical phase jitter of standard deviation ``σ`` shrinks the
  coherence by ``e^{−σ²/2}``.
* **Double click** (Barrett & Kok, PRA 71, 060310 (2005)): both qubits start in ``|+⟩``; a
  click in each of two rounds with a π pulse (X on both qubits) between them heralds ``Ψ⁺``
  (same detector twice) or ``Ψ⁻`` (different detectors). Without dark counts
  ``p = η_Aη_B/2`` and ``F = 1``. ``phase_std`` is taken as independent in the two rounds
  (fast phase noise, ``F = (1 + e^{−σ²})/2``); a phase constant over both rounds cancels.

Timing: the station sits between the nodes; a photon travels ``L_A`` to it and the herald
travels ``L_A`` back, so node A learns the result ``2L_A/c_fibre`` after emission; an attempt
cycle lasts ``max(2L_A, 2L_B)/c_fibre`` (``L/c`` for a symmetric link of total length ``L``), or
the memory's attempt period if that is longer. Independent attempts are *sampled*: the number
of attempts until success is geometric, drawn once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .detectors import Detector
from .fibre import Fibre

__all__ = [
    "SCHEMES",
    "HeraldingModel",
    "HeraldedPair",
    "click_instrument",
    "single_click_success_probability",
    "single_click_fidelity",
    "single_click_alpha_for_fidelity",
    "attempts_until_success",
]

SCHEMES = ("single_click", "double_click")
_PSI_PLUS, _PSI_MINUS = 2, 3


def _unit(name: str, x: float) -> float:
    x = float(x)
    if not (0.0 <= x <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {x}")
    return x


@lru_cache(maxsize=1024)
def click_instrument(eta_a: float, eta_b: float, p_dark: float, phase_std: float = 0.0) -> np.ndarray:
    """Elementwise factors ``M[o]`` (``o = 0``: only detector c clicked, ``1``: only d) so that
    the unnormalised post-herald state of the two qubits is ``M[o] * ρ``.

    >>> m = click_instrument(1.0, 1.0, 0.0)
    >>> float(m[0][1, 2].real), float(m[1][1, 2].real)   # ⟨01|·|10⟩ coherence: + for c, − for d
    (0.5, -0.5)
    """
    ea, eb, pd = _unit("eta_a", eta_a), _unit("eta_b", eta_b), _unit("p_dark", p_dark)
    if pd >= 1.0:
        raise ValueError(f"p_dark must be < 1, got {pd}")
    sigma = float(phase_std)
    # e^{-σ²/2}: below 1e-300 past σ ≈ 37, so a fully dephased link (any larger σ, where σ² would
    # overflow a double) has no coherence left
    coherence = math.exp(-sigma * sigma / 2.0) if sigma < 40.0 else 0.0
    out = np.zeros((2, 4, 4), dtype=float)
    both = ea * eb / 2 + (1 - ea) * eb / 2 + (1 - eb) * ea / 2 + pd * (1 - ea) * (1 - eb)
    for o, sign in ((0, 1.0), (1, -1.0)):
        m = out[o]
        m[0, 0] = pd
        m[2, 2] = ea / 2 + pd * (1 - ea)
        m[1, 1] = eb / 2 + pd * (1 - eb)
        m[2, 1] = m[1, 2] = sign * coherence * math.sqrt(ea * eb) / 2
        m[3, 3] = both
        m *= 1 - pd
    out.setflags(write=False)
    return out


_X2 = np.array([[0, 1], [1, 0]], dtype=float)
_XX_PERM = np.array([3, 2, 1, 0])  # X⊗X maps |ab⟩ to |(1−a)(1−b)⟩


def _emitter_state(alpha: float) -> np.ndarray:
    psi = np.array([math.sqrt(1 - alpha), math.sqrt(alpha)])
    ket = np.kron(psi, psi)
    return np.outer(ket, ket)


@dataclass(frozen=True, slots=True)
class HeraldedPair:
    """One heralded pair: the qubits' 4×4 state (A first), the heralded Bell state index
    (2 = Ψ⁺, 3 = Ψ⁻), the number of attempts it took and the attempt cycle time."""

    state: np.ndarray
    bell_index: int
    attempts: int
    cycle_time: float

    @property
    def time(self) -> float:
        """Time from the first attempt to the emission of the successful one (seconds)."""
        return (self.attempts - 1) * self.cycle_time


@dataclass(frozen=True, slots=True)
class HeraldingModel:
    """A heralded link: scheme, per-arm transmissivities, dark counts and timing.

    ``eta_a``/``eta_b`` are the full probabilities that an emitted photon is detected
    (emission × fibre × detector). ``alpha`` is the bright-state population for the
    single-click scheme (ignored by double click). ``cycle_time`` is the attempt period.

    >>> m = HeraldingModel("single_click", eta_a=0.1, eta_b=0.1, alpha=0.05, cycle_time=1e-4)
    >>> round(m.success_probability, 6), round(m.fidelity, 6)
    (0.009975, 0.952381)
    """

    scheme: str
    eta_a: float
    eta_b: float
    p_dark: float = 0.0
    alpha: float = 0.5
    phase_std: float = 0.0
    cycle_time: float = 0.0
    round_period: float = 0.0

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        _unit("eta_a", self.eta_a)
        _unit("eta_b", self.eta_b)
        if not (0.0 <= self.p_dark < 1.0):
            raise ValueError(f"p_dark must be in [0, 1), got {self.p_dark}")
        if self.scheme == "single_click" and not (0.0 < self.alpha < 1.0):
            raise ValueError(f"alpha (bright-state population) must be in (0, 1), got {self.alpha}")
        if not (self.phase_std >= 0.0 and math.isfinite(self.phase_std)):
            raise ValueError(f"phase_std must be >= 0 rad, got {self.phase_std}")
        if not (self.cycle_time >= 0.0 and math.isfinite(self.cycle_time)):
            raise ValueError(f"cycle_time must be >= 0 s, got {self.cycle_time}")
        if not (self.round_period >= 0.0 and math.isfinite(self.round_period)):
            raise ValueError(f"round_period must be >= 0 s, got {self.round_period}")
        if self.round_period and self.scheme != "double_click":
            raise ValueError("round_period (sequential rounds) only applies to scheme 'double_click'")

    @classmethod
    def for_link(
        cls,
        scheme: str,
        fibre_a: Fibre,
        fibre_b: Fibre,
        detector: Detector,
        emission_efficiency: float = 1.0,
        alpha: float = 0.5,
        attempt_period: float = 0.0,
        phase_std: float = 0.0,
    ) -> HeraldingModel:
        """Build the model from hardware: each arm's ``η = emission × fibre × detector``, the
        detectors' dark-count probability, and the cycle ``max(2·delay_A, 2·delay_B, period)``.

        >>> from qstack.physical.fibre import Fibre
        >>> from qstack.physical.detectors import Detector
        >>> m = HeraldingModel.for_link("double_click", Fibre(5e3), Fibre(5e3), Detector(0.8))
        >>> round(m.eta_a, 6), round(m.cycle_time * 1e6, 3)   # 0.8 · 10^-0.1; 10 km / (c/1.44)
        (0.635463, 48.033)
        """
        e = _unit("emission_efficiency", emission_efficiency)
        if not (attempt_period >= 0.0 and math.isfinite(attempt_period)):
            raise ValueError(f"attempt_period must be >= 0 s, got {attempt_period}")
        return cls(
            scheme,
            eta_a=e * fibre_a.transmissivity * detector.efficiency,
            eta_b=e * fibre_b.transmissivity * detector.efficiency,
            p_dark=detector.dark_count_probability,
            alpha=alpha,
            phase_std=phase_std,
            cycle_time=max(2 * fibre_a.delay, 2 * fibre_b.delay, attempt_period),
        )

    def outcomes(self) -> list[tuple[int, np.ndarray]]:
        """The heralded outcomes as (Bell index, unnormalised 4×4 state); traces are their
        probabilities per attempt."""
        return _outcomes(self.scheme, self.eta_a, self.eta_b, self.p_dark, self.alpha, self.phase_std)

    @property
    def success_probability(self) -> float:
        """Probability that one attempt heralds a pair."""
        return _statistics(self.scheme, self.eta_a, self.eta_b, self.p_dark, self.alpha, self.phase_std)[0]

    @property
    def fidelity(self) -> float:
        """Average fidelity of the heralded pair to the Bell state its herald announces."""
        return _statistics(self.scheme, self.eta_a, self.eta_b, self.p_dark, self.alpha, self.phase_std)[1]

    @property
    def outcome_probabilities(self) -> tuple[float, float]:
        """Per-attempt probabilities of the two heralded outcomes (Ψ⁺, Ψ⁻)."""
        return _statistics(self.scheme, self.eta_a, self.eta_b, self.p_dark, self.alpha, self.phase_std)[2]

    @property
    def first_round_probability(self) -> float:
        """Double click: probability that round 1 alone heralds (exactly one detector clicks
        for qubits in ``|+⟩|+⟩``). With sequential rounds a failed round 1 ends the attempt."""
        if self.scheme != "double_click":
            raise ValueError("first_round_probability applies to scheme 'double_click'")
        return _first_round_probability(self.eta_a, self.eta_b, self.p_dark, self.phase_std)

    @property
    def mean_attempt_time(self) -> float:
        """Mean duration of one attempt: ``cycle_time``, or with sequential rounds
        ``round_period · (1 + P(round 1 heralds))``."""
        if self.round_period:
            return self.round_period * (1.0 + self.first_round_probability)
        return self.cycle_time

    @property
    def rate(self) -> float:
        """Mean heralded pairs per second, ``p / mean attempt time``."""
        t = self.mean_attempt_time
        if t == 0:
            raise ValueError("rate needs cycle_time > 0 (or round_period > 0)")
        return self.success_probability / t

    def generate(self, rng: np.random.Generator, max_attempts: int | None = None) -> HeraldedPair | None:
        """Sample the attempts until success and the heralded state.

        Returns ``None`` if more than ``max_attempts`` would be needed.

        >>> m = HeraldingModel("double_click", eta_a=0.5, eta_b=0.5, cycle_time=1e-5)
        >>> pair = m.generate(np.random.default_rng(2))
        >>> pair.bell_index in (2, 3), pair.attempts >= 1
        (True, True)
        """
        outs = self.outcomes()
        probs = [float(np.trace(s).real) for _, s in outs]
        p = sum(probs)
        n = attempts_until_success(p, rng)
        if max_attempts is not None and n > max_attempts:
            return None
        u = rng.random() * p
        i = 0 if u < probs[0] else 1
        k, s = outs[i]
        return HeraldedPair(s / probs[i], k, n, self.cycle_time)


@lru_cache(maxsize=1024)
def _outcomes(
    scheme: str, eta_a: float, eta_b: float, p_dark: float, alpha: float, phase_std: float
) -> list[tuple[int, np.ndarray]]:
    m = click_instrument(eta_a, eta_b, p_dark, phase_std)
    if scheme == "single_click":
        rho = _emitter_state(alpha)
        plus, minus = m[0] * rho, m[1] * rho
        plus.setflags(write=False)
        minus.setflags(write=False)
        return [(_PSI_PLUS, plus), (_PSI_MINUS, minus)]
    rho = _emitter_state(0.5)
    # Same detector in both rounds → Ψ⁺, different → Ψ⁻ (checked against the optics in tests).
    s_same = np.zeros((4, 4))
    s_diff = np.zeros((4, 4))
    for o1 in (0, 1):
        r1 = m[o1] * rho
        r1 = r1[np.ix_(_XX_PERM, _XX_PERM)]  # π pulse on both qubits
        for o2 in (0, 1):
            r2 = m[o2] * r1
            if o1 == o2:
                s_same += r2
            else:
                s_diff += r2
    for arr in (s_same, s_diff):
        arr.setflags(write=False)
    return [(_PSI_PLUS, s_same), (_PSI_MINUS, s_diff)]


@lru_cache(maxsize=1024)
def _first_round_probability(eta_a: float, eta_b: float, p_dark: float, phase_std: float) -> float:
    m = click_instrument(eta_a, eta_b, p_dark, phase_std)
    rho = _emitter_state(0.5)
    return float(np.trace(m[0] * rho) + np.trace(m[1] * rho))


@lru_cache(maxsize=1024)
def _statistics(
    scheme: str, eta_a: float, eta_b: float, p_dark: float, alpha: float, phase_std: float
) -> tuple[float, float, tuple[float, float]]:
    """(success probability, mean fidelity, per-outcome probabilities) of a model, cached."""
    from qstack.quantum.states import BELL_KETS_NP

    outs = _outcomes(scheme, eta_a, eta_b, p_dark, alpha, phase_std)
    probs = tuple(float(np.trace(s).real) for _, s in outs)
    p = sum(probs)
    good = sum(float(np.real(BELL_KETS_NP[k].conj() @ s @ BELL_KETS_NP[k])) for k, s in outs)
    return p, (good / p if p > 0 else float("nan")), probs  # type: ignore[return-value]


def attempts_until_success(p: float, rng: np.random.Generator) -> int:
    """Number of independent attempts up to and including the first success: geometric with
    mean ``1/p``, drawn once instead of looping.

    >>> attempts_until_success(1.0, np.random.default_rng(0))
    1
    """
    if not (0.0 < p <= 1.0):
        raise ValueError(f"success probability p must be in (0, 1], got {p}")
    return int(rng.geometric(p))


def single_click_success_probability(alpha: float, eta: float) -> float:
    """Exact single-click success probability without dark counts, symmetric arms:
    ``2αη − α²η²`` (the ``α²η²`` term is the bunched two-photon event).

    >>> single_click_success_probability(0.1, 0.5)
    0.0975
    """
    return 2 * alpha * eta - (alpha * eta) ** 2


def single_click_fidelity(alpha: float, eta: float) -> float:
    """Exact single-click fidelity without dark counts, symmetric arms: ``(1−α)/(1−αη/2)``.

    >>> round(single_click_fidelity(0.1, 1e-6), 6)
    0.9
    """
    return (1 - alpha) / (1 - alpha * eta / 2)


def single_click_alpha_for_fidelity(
    fidelity: float, eta_a: float, eta_b: float, p_dark: float = 0.0, phase_std: float = 0.0
) -> float | None:
    """Largest bright-state population ``α`` (hence highest rate) whose heralded fidelity is at
    least ``fidelity``; ``None`` if no ``α`` reaches it (the hardware cannot, e.g. nothing
    ever heralds: both arms' ``η = 0`` and no dark counts).

    >>> round(single_click_alpha_for_fidelity(0.9, 0.5, 0.5), 6)
    0.129032
    """
    from scipy.optimize import brentq, minimize_scalar  # here, not at import: ~0.4 s of start-up

    def fid(a: float) -> float:
        return HeraldingModel("single_click", eta_a, eta_b, p_dark, a, phase_std).fidelity

    lo, hi = 1e-9, 1 - 1e-9
    if HeraldingModel("single_click", eta_a, eta_b, p_dark, hi, phase_std).success_probability <= 0.0:
        return None  # no photon and no dark count ever reaches the detectors: nothing heralds
    # Without dark counts F(α) falls monotonically from its value at α → 0. With dark counts
    # F → 0 as α → 0 too (the |00⟩ heralds are dark counts), so F peaks at some α*: the answer
    # is the largest α ≥ α* with F ≥ target.
    peak = minimize_scalar(lambda a: -fid(a), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
    a_peak = float(peak.x) if p_dark > 0 else lo
    if fid(a_peak) < fidelity:
        return None
    if fid(hi) >= fidelity:
        return hi
    lo = a_peak
    return float(brentq(lambda a: fid(a) - fidelity, lo, hi, xtol=1e-14, rtol=1e-13))
