"""NV-centre network nodes: nuclear-spin memory, single-click links, sequential generation.

A node of the Delft network (Pompili et al., Science 372, 259 (2021); Hermans et al., Nature
605, 663 (2022)) holds one optically active **communication qubit** (the NV electron spin) and
a **memory qubit** (a ¹³C nuclear spin). Three models, each a plug-in of a public registry:

* ``"nv_nuclear"`` (:data:`qstack.physical.memory.MEMORY_NOISE`,
  :class:`NuclearSpinDephasing`): every entanglement attempt on the electron (its optical
  reset at a random time, through the hyperfine coupling) dephases the nuclear spin with a
  probability ``p`` per attempt, so after ``N`` attempts a stored coherence has shrunk by
  ``(1 − 2p)^N``. The published figure of merit is ``N_1/e``, the attempts after which the
  coherence is ``1/e``: ``(1 − 2p)^N = exp(−N/N_1/e)``, i.e. ``p = (1 − e^{−1/N_1/e})/2``
  (:func:`nuclear_dephasing_probability`). The nuclear spin's own dephasing (``t2``) adds to it.
* ``"nv_single_click"`` (:data:`qstack.physical.station.LINK_SCHEMES`, :class:`NVSingleClick`):
  the single-click scheme of :mod:`qstack.physical.heralding` (bright-state population ``α``,
  loss, dark counts, optical phase jitter) with the two NV imperfections that limit the
  heralded coherence (Humphreys et al., Nature 558, 268 (2018)): the photons' imperfect
  indistinguishability — two-photon visibility ``V`` shrinks the ``|01⟩⟨10|`` coherence by
  ``√V`` (the overlap of the two photon wave packets) — and double optical excitation — with
  probability ``p_2ph`` the emitter was excited twice, the first photon leaks which-path
  information and the coherence is lost: a factor ``1 − p_2ph``. Without dark counts and with
  ``η_A = η_B = η``, exactly (derived in :class:`NVHeraldingModel`)::

      p = 2αη − α²η²,      F = (1 − α)(1 + c) / (2 − αη),   c = √V (1 − p_2ph) e^{−σ²/2}

  so ``F ≈ (1 − α)(1 + c)/2`` and the rate ``p/τ ≈ 2αη/τ`` at small ``αη``.
* :class:`SequentialChain`: three nodes in a line whose middle node has one communication
  qubit. It first generates a link with one neighbour, moves its half into its memory, then
  generates with the other neighbour while the memory dephases with every attempt; after a
  ``timeout`` of attempts it gives up and starts again. From the two links it makes a GHZ
  state (parity measurement, Pompili 2021), an end-to-end pair (entanglement swap) or a
  teleporter for a qubit between the end nodes (Hermans 2022). Everything is computed
  exactly (density matrices, the attempt distribution summed) and can be sampled run by run.

>>> noise = NuclearSpinDephasing(n_1e=1800, attempt_duration=5.5e-6)
>>> round(noise.coherence_after_attempts(1800), 12) == round(math.exp(-1), 12)
True
>>> m = NVHeraldingModel(eta_a=1e-3, eta_b=1e-3, alpha=0.05, visibility=0.9, double_excitation=0.04)
>>> round(m.fidelity, 6), round(m.success_probability, 9)
(0.907622, 9.9997e-05)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from qstack.physical.heralding import HeraldingModel
from qstack.physical.memory import MEMORY_NOISE, MemoryNoise
from qstack.physical.station import LINK_SCHEMES, LinkHardware, depolarised
from qstack.physical.units import parse_quantity
from qstack.quantum import kernels
from qstack.quantum.states import BELL_KETS_NP

__all__ = [
    "NuclearSpinDephasing",
    "NVHeraldingModel",
    "NVSingleClick",
    "NodeOperations",
    "SequentialChain",
    "ChainSample",
    "nuclear_dephasing_probability",
    "n_1e_from_dephasing_probability",
    "nv_single_click_fidelity",
    "truncated_geometric_mean_power",
]


# --------------------------------------------------------------------------------------------
# Nuclear-spin memory: dephasing per entanglement attempt


def nuclear_dephasing_probability(n_1e: float) -> float:
    """Per-attempt dephasing probability ``p`` of a memory whose coherence falls to ``1/e``
    after ``n_1e`` attempts: ``(1 − 2p)^N = e^{−N/n_1e}`` gives ``p = (1 − e^{−1/n_1e})/2``.

    >>> round(nuclear_dephasing_probability(1.0), 12) == round((1 - math.exp(-1)) / 2, 12)
    True
    """
    n = float(n_1e)
    if not n > 0.0:
        raise ValueError(f"n_1e (attempts to 1/e coherence) must be > 0 (inf for no dephasing), got {n_1e}")
    if math.isinf(n):
        return 0.0
    return -math.expm1(-1.0 / n) / 2.0


def n_1e_from_dephasing_probability(p: float) -> float:
    """Inverse of :func:`nuclear_dephasing_probability`: ``N_1/e = −1/ln(1 − 2p)``.

    >>> round(n_1e_from_dephasing_probability(nuclear_dephasing_probability(1800.0)), 6)
    1800.0
    """
    p = float(p)
    if not 0.0 <= p < 0.5:
        raise ValueError(f"per-attempt dephasing probability must be in [0, 0.5), got {p}")
    return math.inf if p == 0.0 else -1.0 / math.log1p(-2.0 * p)


def _time(name: str, value: Any, allow_inf: bool = False) -> float:
    if allow_inf and (value == "inf" or (isinstance(value, float) and math.isinf(value) and value > 0)):
        return math.inf
    try:
        t = parse_quantity(value, "time")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a time > 0 s (a number in s or a string such as \"5.5 us\"): {exc}") from None
    if not t > 0.0 or (math.isinf(t) and not allow_inf):
        raise ValueError(f"{name} must be > 0 s{' (inf for none)' if allow_inf else ' and finite'}, got {value!r}")
    return t


@MEMORY_NOISE.register("nv_nuclear")
class NuclearSpinDephasing(MemoryNoise):
    """A ¹³C memory next to an NV electron that attempts entanglement while it stores a state.

    ``n_1e``: attempts after which a stored coherence is ``1/e`` (the published ``N_1/e``);
    ``attempt_duration``: the electron's attempt period (s, or a string such as ``"5.5 us"``),
    which turns attempts into time for the lazy, time-based memory of
    :class:`~qstack.physical.memory.QuantumMemory` (the electron attempts for the whole storage
    time, as at the middle node of the sequential protocol); ``t2``: the nuclear spin's own
    dephasing time (s, default ``inf``). A pure dephasing (Pauli-Z) channel:
    ``λx = λy = (1 − 2p)^{t/τ} e^{−t/T2}``, ``λz = 1``.

    In a scenario: ``memory_noise = { name = "nv_nuclear", n_1e = 1800, attempt_duration = "5.5 us" }``.

    >>> m = NuclearSpinDephasing(n_1e=1000, attempt_duration="10 us")
    >>> round(m.ptm_diagonal(10e-3)[0], 12) == round(math.exp(-1), 12), round(m.coherence_time(), 12)
    (True, 0.01)
    """

    name = "nv_nuclear"

    def __init__(self, n_1e: float, attempt_duration: float | str, t2: float | str = math.inf) -> None:
        self.p = nuclear_dephasing_probability(n_1e)
        self.n_1e = float(n_1e)
        self.attempt_duration = _time("attempt_duration", attempt_duration)
        self.t2 = _time("t2", t2, allow_inf=True)
        # coherence decay rate per second: attempts per second / N_1/e, plus 1/T2
        self._rate = 1.0 / (self.attempt_duration * self.n_1e) + 1.0 / self.t2

    @property
    def ideal(self) -> bool:
        return self._rate == 0.0

    @property
    def keeps_bell_diagonal(self) -> bool:
        """Pure dephasing is a Pauli channel."""
        return True

    def coherence_after_attempts(self, attempts: float, elapsed: float = 0.0) -> float:
        """``(1 − 2p)^attempts · e^{−elapsed/T2}``: what is left of ⟨X⟩ after ``attempts``
        entanglement attempts lasting ``elapsed`` seconds in all."""
        if attempts < 0 or elapsed < 0:
            raise ValueError(f"attempts and elapsed must be >= 0, got {attempts}, {elapsed}")
        per = 1.0 - 2.0 * self.p
        return (per ** attempts if attempts else 1.0) * math.exp(-elapsed / self.t2)

    def apply_attempts(self, dm: np.ndarray, pos: int, n: int, attempts: int, elapsed: float = 0.0) -> np.ndarray:
        """``dm`` after qubit ``pos`` sat through ``attempts`` attempts (``elapsed`` s): each
        attempt applies Z with probability ``p``; together Z with ``(1 − (1 − 2p)^N)/2``."""
        return kernels.apply_amplitude_phase_damping(dm, pos, n, 0.0, self.coherence_after_attempts(attempts, elapsed))

    def apply(self, dm: np.ndarray, pos: int, n: int, dt: float) -> np.ndarray:
        return kernels.apply_amplitude_phase_damping(dm, pos, n, 0.0, math.exp(-dt * self._rate))

    def ptm_diagonal(self, t: float) -> tuple[float, float, float]:
        c = math.exp(-t * self._rate)
        return (c, c, 1.0)

    def coherence_time(self) -> float:
        return math.inf if self._rate == 0.0 else 1.0 / self._rate

    def coherence_source(self) -> str:
        return "n_1e"

    def describe(self) -> str:
        return (f"nuclear spin, N_1/e = {self.n_1e:g} attempts of {self.attempt_duration:g} s"
                + ("" if math.isinf(self.t2) else f", T2 = {self.t2:g} s"))


# --------------------------------------------------------------------------------------------
# Single-click links between NV centres


def _fraction(name: str, x: float, low_open: bool = False, high_open: bool = False) -> float:
    x = float(x)
    lo_ok = x > 0.0 if low_open else x >= 0.0
    hi_ok = x < 1.0 if high_open else x <= 1.0
    if not (lo_ok and hi_ok):
        raise ValueError(f"{name} must be in {'(' if low_open else '['}0, 1{')' if high_open else ']'}, got {x}")
    return x


@lru_cache(maxsize=1024)
def _nv_outcomes(eta_a: float, eta_b: float, p_dark: float, alpha: float, phase_std: float,
                 factor: float) -> tuple[tuple[int, np.ndarray], tuple[int, np.ndarray]]:
    base = HeraldingModel("single_click", eta_a, eta_b, p_dark, alpha, phase_std).outcomes()
    out = []
    for bell, state in base:
        s = np.array(state, dtype=float)
        s[1, 2] *= factor
        s[2, 1] *= factor
        s.setflags(write=False)
        out.append((bell, s))
    return out[0], out[1]


@dataclass(frozen=True, slots=True)
class NVHeraldingModel:
    """A single-click link between two NV centres (a generation model of
    :mod:`qstack.physical.station`).

    The optics are :class:`~qstack.physical.heralding.HeraldingModel`'s (``eta_a``/``eta_b``
    detection probabilities per arm, ``p_dark`` per detector per attempt, ``alpha``,
    ``phase_std`` in rad, ``cycle_time`` in s per attempt); ``visibility`` (two-photon
    interference visibility ``V``) and ``double_excitation`` (``p_2ph``) multiply the heralded
    ``|01⟩⟨10|`` coherence by ``√V (1 − p_2ph)`` and leave every click probability unchanged.

    Derivation (``η_A = η_B = η``, no dark counts): given a click in detector c the unnormalised
    state has ``|01⟩⟨01|`` and ``|10⟩⟨10|`` weights ``α(1 − α)η/2``, coherence ``α(1 − α)η c/2``
    and ``|11⟩⟨11|`` weight ``α²η(1 − η/2)`` (the bunched pair leaves by one port); summed over
    both detectors ``p = 2αη − α²η²`` and ``F = α(1 − α)η(1 + c)/p = (1 − α)(1 + c)/(2 − αη)``.

    >>> m = NVHeraldingModel(eta_a=4e-4, eta_b=4e-4, alpha=0.05, visibility=0.9, cycle_time=5.5e-6)
    >>> round(m.rate, 3)   # ≈ 2αη/τ
    7.273
    """

    eta_a: float
    eta_b: float
    p_dark: float = 0.0
    alpha: float = 0.05
    phase_std: float = 0.0
    cycle_time: float = 0.0
    visibility: float = 1.0
    double_excitation: float = 0.0

    scheme = "nv_single_click"

    def __post_init__(self) -> None:
        HeraldingModel("single_click", self.eta_a, self.eta_b, self.p_dark, self.alpha, self.phase_std,
                       self.cycle_time)  # checks the optics and timing, naming the field
        _fraction("visibility", self.visibility)
        _fraction("double_excitation", self.double_excitation, high_open=True)

    @property
    def round_period(self) -> float:
        """0: one round per attempt."""
        return 0.0

    @property
    def coherence_factor(self) -> float:
        """``√V (1 − p_2ph)``: what the NV imperfections leave of the heralded coherence."""
        return math.sqrt(self.visibility) * (1.0 - self.double_excitation)

    def outcomes(self) -> tuple[tuple[int, np.ndarray], tuple[int, np.ndarray]]:
        """The two heralded outcomes as (Bell index, unnormalised 4×4 state): Ψ⁺ (detector c)
        and Ψ⁻ (d); traces are their probabilities per attempt."""
        return _nv_outcomes(self.eta_a, self.eta_b, self.p_dark, self.alpha, self.phase_std, self.coherence_factor)

    @property
    def outcome_probabilities(self) -> tuple[float, float]:
        """Per-attempt probabilities of the Ψ⁺ and Ψ⁻ heralds."""
        (_, a), (_, b) = self.outcomes()
        return float(np.trace(a)), float(np.trace(b))

    @property
    def success_probability(self) -> float:
        """Probability that one attempt heralds."""
        return sum(self.outcome_probabilities)

    @property
    def fidelity(self) -> float:
        """Mean fidelity of the heralded state to the Bell state its herald announces."""
        p = self.success_probability
        if p <= 0.0:
            return float("nan")
        good = sum(float(np.real(BELL_KETS_NP[k].conj() @ s @ BELL_KETS_NP[k])) for k, s in self.outcomes())
        return good / p

    @property
    def first_round_probability(self) -> float:
        raise ValueError("first_round_probability applies to scheme 'double_click'")

    @property
    def mean_attempt_time(self) -> float:
        """One attempt: ``cycle_time``."""
        return self.cycle_time

    @property
    def rate(self) -> float:
        """Heralded pairs per second, ``p / cycle_time``."""
        if self.cycle_time <= 0.0:
            raise ValueError("rate needs cycle_time > 0")
        return self.success_probability / self.cycle_time


def nv_single_click_fidelity(alpha: float, eta: float, visibility: float = 1.0, double_excitation: float = 0.0,
                             phase_std: float = 0.0) -> float:
    """Exact heralded fidelity without dark counts, symmetric arms:
    ``(1 − α)(1 + √V (1 − p_2ph) e^{−σ²/2}) / (2 − αη)``.

    >>> round(nv_single_click_fidelity(0.1, 1e-9), 9)   # V = 1, no double excitation: 1 − α
    0.9
    """
    c = math.sqrt(visibility) * (1.0 - double_excitation) * math.exp(-phase_std**2 / 2.0)
    return (1.0 - alpha) * (1.0 + c) / (2.0 - alpha * eta)


@LINK_SCHEMES.register("nv_single_click")
class NVSingleClick:
    """Single click between NV centres (:class:`NVHeraldingModel`): a link's hardware plus the
    photons' ``visibility`` and the ``double_excitation`` probability. The link's ``alpha`` is
    used if set; otherwise the largest ``α ≤ max_alpha`` that meets the requested fidelity.
    (A link's Bell-diagonal ``pauli`` noise, if set, is not applied by this scheme.)

    In a scenario: ``scheme = { name = "nv_single_click", visibility = 0.9, double_excitation = 0.04 }``.

    >>> hw = LinkHardware(eta_a=4e-4, eta_b=4e-4, cycle_time=5.5e-6, alpha=0.05)
    >>> round(NVSingleClick(visibility=0.9).model(hw, 0.5).fidelity, 6)
    0.925634
    """

    name = "nv_single_click"

    def __init__(self, visibility: float = 1.0, double_excitation: float = 0.0, max_alpha: float = 0.5) -> None:
        self.visibility = _fraction("visibility", visibility)
        self.double_excitation = _fraction("double_excitation", double_excitation, high_open=True)
        self.max_alpha = _fraction("max_alpha", max_alpha, low_open=True, high_open=True)

    def _build(self, hw: LinkHardware, alpha: float) -> NVHeraldingModel:
        return NVHeraldingModel(hw.eta_a, hw.eta_b, hw.p_dark, alpha, hw.phase_std, hw.cycle_time,
                                self.visibility, self.double_excitation)

    def model(self, hw: LinkHardware, min_fidelity: float) -> NVHeraldingModel | None:
        """The link's model, or None if no ``α`` reaches ``min_fidelity`` (after the emitters'
        raw-fidelity depolarisation ``hw.raw_w``)."""
        if hw.alpha is not None:
            m = self._build(hw, hw.alpha)
            return m if depolarised(m.fidelity, hw.raw_w) + 1e-12 >= min_fidelity else None
        from scipy.optimize import brentq, minimize_scalar

        def fid(a: float) -> float:
            f = self._build(hw, a).fidelity
            return -1.0 if math.isnan(f) else depolarised(f, hw.raw_w)

        lo, hi = 1e-9, self.max_alpha
        if self._build(hw, hi).success_probability <= 0.0:
            return None
        peak = lo
        if hw.p_dark > 0.0:  # dark counts: F → 0 as α → 0 too, so F peaks inside
            peak = float(minimize_scalar(lambda a: -fid(a), bounds=(lo, hi), method="bounded",
                                         options={"xatol": 1e-12}).x)
        if fid(peak) + 1e-12 < min_fidelity:
            return None
        if fid(hi) >= min_fidelity:
            return self._build(hw, hi)
        alpha = float(brentq(lambda a: fid(a) - min_fidelity, peak, hi, xtol=1e-14, rtol=1e-13))
        return self._build(hw, alpha)


# --------------------------------------------------------------------------------------------
# Sequential link generation at a middle node with one communication qubit


def truncated_geometric_mean_power(p: float, lam: float, timeout: int) -> float:
    """``E[λ^N | N ≤ T]`` for ``N ~ Geometric(p)`` (attempts up to the first success):
    ``pλ (1 − ((1 − p)λ)^T) / ((1 − (1 − p)λ)(1 − (1 − p)^T))`` — the mean coherence left
    in a memory that dephases by ``λ`` per attempt when the link it waits for heralds
    within ``T`` attempts.

    >>> round(truncated_geometric_mean_power(1.0, 0.5, 10), 12)   # always the first attempt
    0.5
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p must be in (0, 1], got {p}")
    if timeout < 1:
        raise ValueError(f"timeout must be >= 1 attempt, got {timeout}")
    q = (1.0 - p) * lam
    success = -math.expm1(timeout * math.log1p(-p)) if p < 1.0 else 1.0
    return p * lam * (1.0 - q**timeout) / ((1.0 - q) * success) if q != 1.0 else p * timeout / success


@dataclass(frozen=True)
class NodeOperations:
    """Local operations of an NV node, each with its error.

    ``readout_fidelity_0``/``_1``: probability that the electron's readout reports 0 (1) when
    it is in ``|0⟩`` (``|1⟩``); ``memory_readout_fidelity``: the same for the memory qubit
    (read through the electron; symmetric); ``gate_depolarizing``: two-qubit depolarising
    ``ρ → (1 − p)ρ + p I/4`` after each electron–memory gate; ``store_depolarizing``:
    depolarising of the memory qubit when a state is moved into it (initialisation and the
    swap gates together).

    >>> NodeOperations(readout_fidelity_0=0.95).readout_fidelity_1
    1.0
    """

    readout_fidelity_0: float = 1.0
    readout_fidelity_1: float = 1.0
    memory_readout_fidelity: float = 1.0
    gate_depolarizing: float = 0.0
    store_depolarizing: float = 0.0

    def __post_init__(self) -> None:
        for name in ("readout_fidelity_0", "readout_fidelity_1", "memory_readout_fidelity", "gate_depolarizing",
                     "store_depolarizing"):
            _fraction(name, getattr(self, name))

    def electron_readout(self) -> np.ndarray:
        """``R[reported, true]`` of the electron readout."""
        f0, f1 = self.readout_fidelity_0, self.readout_fidelity_1
        return np.array([[f0, 1.0 - f1], [1.0 - f0, f1]])

    def memory_readout(self) -> np.ndarray:
        """``R[reported, true]`` of the memory readout."""
        f = self.memory_readout_fidelity
        return np.array([[f, 1.0 - f], [1.0 - f, f]])


_H = np.array([[1.0, 1.0], [1.0, -1.0]]) / math.sqrt(2.0)
_CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=float)
_PAULI = {"I": np.eye(2), "X": np.array([[0.0, 1.0], [1.0, 0.0]]), "Z": np.diag([1.0, -1.0])}
_GHZ = np.zeros(8)
_GHZ[0] = _GHZ[7] = 1.0 / math.sqrt(2.0)
#: the six cardinal input states of the teleportation (±X, ±Y, ±Z eigenstates)
_CARDINAL = [np.array(v, dtype=complex) / np.linalg.norm(v) for v in
             ([1, 0], [0, 1], [1, 1], [1, -1], [1, 1j], [1, -1j])]


def _depolarise_pair(rho: np.ndarray, a: int, b: int, n: int, p: float) -> np.ndarray:
    """``ρ → (1 − p)ρ + p I/4 ⊗ Tr_{ab} ρ`` on qubits ``a`` and ``b``."""
    if p == 0.0:
        return rho
    keep = [q for q in range(n) if q not in (a, b)]
    reduced = kernels.partial_trace(rho, keep, n) if keep else np.array([[1.0 + 0j]])
    mixed = np.kron(reduced, np.eye(4) / 4.0)  # order: keep..., a, b
    order = keep + [a, b]
    # mixed's qubit i is qubit order[i] of the full state: put them back in place
    inverse = [order.index(q) for q in range(n)]
    mixed = kernels.permute_qubits(mixed, inverse)
    return (1.0 - p) * rho + p * mixed


def _measure(rho: np.ndarray, q: int, n: int) -> list[tuple[float, np.ndarray]]:
    """``[(P(m), normalised state of the other qubits)]`` for ``m = 0, 1`` of qubit ``q``."""
    out = []
    for m in (0, 1):
        s = kernels.project_and_remove(rho, [q], m, n)
        p = float(np.trace(s).real)
        out.append((p, s / p if p > 1e-300 else s))
    return out


def _bell_state(k: int) -> np.ndarray:
    v = BELL_KETS_NP[k]
    return np.outer(v, v.conj()).astype(complex)


@dataclass(frozen=True)
class ChainSample:
    """Monte Carlo runs of a :class:`SequentialChain` protocol: per delivered run its
    fidelity to the announced target and the time it took (s), in run order."""

    fidelities: np.ndarray
    times: np.ndarray

    @property
    def mean_fidelity(self) -> float:
        """Mean fidelity over the runs."""
        return float(self.fidelities.mean())

    @property
    def fidelity_standard_error(self) -> float:
        """Standard error of :attr:`mean_fidelity`."""
        return float(self.fidelities.std(ddof=1) / math.sqrt(len(self.fidelities)))

    @property
    def rate(self) -> float:
        """Deliveries per second: runs / total time."""
        return float(len(self.times) / self.times.sum())


@dataclass(frozen=True)
class SequentialChain:
    """Three NV nodes in a line, A – B – C, where B has one communication qubit and a memory.

    B generates link ``first`` with A (attempts until a herald; the model's
    ``success_probability`` and ``cycle_time``), moves its half into the memory
    (``bob.store_depolarizing``), then generates link ``second`` with C. Each of those attempts
    dephases the memory (``memory``: :class:`NuclearSpinDephasing` per attempt, or any
    :class:`~qstack.physical.memory.MemoryNoise` over the attempts' time) while A's qubit waits
    (``waiting_a``, a memory noise model or None). If ``second`` has not heralded after
    ``timeout`` attempts B gives up, and the protocol starts again from ``first``.

    The state when ``second`` heralds is the exact average over the number of attempts ``N``
    (``P(N = n | N ≤ T) ∝ p(1 − p)^{n−1}``) and over the heralds. From it:
    :meth:`ghz_fidelity` (B measures the parity of memory and electron: Pompili 2021),
    :meth:`swapped_state` / :meth:`swap_fidelity` (B's Bell-state measurement, A–C pair after
    Pauli correction) and :meth:`teleportation_fidelity` (C moves its half into its memory
    and teleports a qubit to A, averaged over the six cardinal states: Hermans 2022).
    :meth:`sample` draws the same protocols run by run.

    >>> link = NVHeraldingModel(eta_a=0.5, eta_b=0.5, alpha=1e-12, cycle_time=1e-5)   # perfect links
    >>> chain = SequentialChain(link, link, NuclearSpinDephasing(n_1e=10, attempt_duration=1e-5), timeout=5)
    >>> bool(abs(chain.ghz_fidelity() - (1 + chain.mean_memory_coherence()) / 2) < 1e-9)
    True
    """

    first: Any
    second: Any
    memory: MemoryNoise
    timeout: int
    bob: NodeOperations = field(default_factory=NodeOperations)
    charlie: NodeOperations = field(default_factory=NodeOperations)
    waiting_a: MemoryNoise | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.timeout, int) and self.timeout >= 1):
            raise ValueError(f"timeout must be an integer >= 1 attempt, got {self.timeout!r}")
        for name in ("first", "second"):
            m = getattr(self, name)
            if not 0.0 < m.success_probability <= 1.0:
                raise ValueError(f"link {name!r} never heralds (success probability {m.success_probability})")
            if not m.cycle_time > 0.0:
                raise ValueError(f"link {name!r} needs cycle_time > 0 s, got {m.cycle_time}")

    @classmethod
    def from_scenario(cls, scenario: Any, a: str, b: str, c: str, timeout: int,
                      bob: NodeOperations | None = None, charlie: NodeOperations | None = None) -> SequentialChain:
        """The chain ``a – b – c`` of a loaded scenario: each link's model from its scheme
        (:data:`~qstack.physical.station.LINK_SCHEMES`, e.g. ``"nv_single_click"``) and
        hardware (:meth:`qstack.scenario.Scenario.link_hardware`, with the link's ``alpha``),
        ``b``'s memory noise (e.g. ``"nv_nuclear"``) as the memory and ``a``'s as the waiting
        noise of its qubit. Raises ValueError naming a missing link or a scheme that cannot
        give a model."""
        graph = scenario.link_graph()
        models = []
        for x, y in ((a, b), (b, c)):
            link = graph.get(x, {}).get(y)
            if link is None:
                raise ValueError(f"the scenario has no link between {x!r} and {y!r}")
            hw, _, _ = scenario.link_hardware(link)
            model = LINK_SCHEMES.create(link.scheme).model(hw, 0.0)
            if model is None:
                raise ValueError(f"link {x!r}-{y!r}: scheme {link.scheme!r} gives no model for its hardware")
            models.append(model)
        memory = scenario.hardware_of(b).memory_model()
        waiting = scenario.hardware_of(a).memory_model()
        return cls(models[0], models[1], memory, timeout, bob or NodeOperations(), charlie or NodeOperations(),
                   None if waiting.ideal else waiting)

    # -- the attempts on the second link -----------------------------------------------------

    def attempt_distribution(self) -> np.ndarray:
        """``P(N = n | N ≤ timeout)`` for ``n = 1 … timeout`` (index ``n − 1``)."""
        p = self.second.success_probability
        n = np.arange(self.timeout)
        w = p * np.exp(n * math.log1p(-p)) if p < 1.0 else (n == 0).astype(float)
        return w / w.sum()

    @property
    def second_within_timeout(self) -> float:
        """Probability that the second link heralds within the timeout: ``1 − (1 − p)^T``."""
        p = self.second.success_probability
        return -math.expm1(self.timeout * math.log1p(-p)) if p < 1.0 else 1.0

    def _memory_channel(self, rho: np.ndarray, pos: int, n_qubits: int, attempts: int) -> np.ndarray:
        elapsed = attempts * self.second.cycle_time
        if isinstance(self.memory, NuclearSpinDephasing):
            return self.memory.apply_attempts(rho, pos, n_qubits, attempts, elapsed)
        return self.memory.apply(rho, pos, n_qubits, elapsed)

    def mean_memory_coherence(self) -> float:
        """``E[λx]`` of the memory over the second link's attempts (conditioned on a herald
        within the timeout) — :func:`truncated_geometric_mean_power` for per-attempt dephasing."""
        w = self.attempt_distribution()
        t = self.second.cycle_time
        if isinstance(self.memory, NuclearSpinDephasing):
            left = [self.memory.coherence_after_attempts(n, n * t) for n in range(1, self.timeout + 1)]
        else:
            left = [self.memory.ptm_diagonal(n * t)[0] for n in range(1, self.timeout + 1)]
        return float(np.dot(w, left))

    def stored_pair(self, k1: int) -> np.ndarray:
        """The A–memory state (A first) given herald ``k1`` of the first link, averaged over the
        second link's attempts: stored, dephased per attempt, A's qubit waiting."""
        (b0, s0), (b1, s1) = self.first.outcomes()
        s = s0 if b0 == k1 else s1
        rho = (np.asarray(s) / np.trace(s).real).astype(complex)
        rho = kernels.apply_depolarizing(rho, 1, 2, self.bob.store_depolarizing)
        avg = np.zeros((4, 4), dtype=complex)
        t = self.second.cycle_time
        for i, wi in enumerate(self.attempt_distribution()):
            if wi < 1e-18:
                continue
            r = self._memory_channel(rho, 1, 2, i + 1)
            if self.waiting_a is not None:
                r = self.waiting_a.apply(r, 0, 2, (i + 1) * t)
            avg += wi * r
        return avg

    def _heralds(self, model: Any) -> list[tuple[int, float, np.ndarray]]:
        (b0, s0), (b1, s1) = model.outcomes()
        p0, p1 = float(np.trace(s0).real), float(np.trace(s1).real)
        return [(b0, p0 / (p0 + p1), (np.asarray(s0) / p0).astype(complex)),
                (b1, p1 / (p0 + p1), (np.asarray(s1) / p1).astype(complex))]

    def _joint_states(self) -> list[tuple[int, int, float, np.ndarray]]:
        """``(k1, k2, P, ρ)`` with ρ the 4-qubit state (A, B memory, B electron, C)."""
        out = []
        for k1, w1, _ in self._heralds(self.first):
            pair1 = self.stored_pair(k1)
            for k2, w2, pair2 in self._heralds(self.second):
                out.append((k1, k2, w1 * w2, np.kron(pair1, pair2)))
        return out

    # -- GHZ state (parity measurement at B) ---------------------------------------------------

    def _parity(self, rho: np.ndarray, gate_p: float) -> list[tuple[float, np.ndarray]]:
        """CNOT memory → electron, then measure the electron: ``[(P(m), state of A, Bm, C)]``."""
        r = kernels.apply_unitary(rho, _CNOT, [1, 2], 4)
        r = _depolarise_pair(r, 1, 2, 4, gate_p)
        return _measure(r, 2, 4)

    def _ghz_targets(self, k1: int, k2: int) -> list[np.ndarray]:
        """The (pure) A, Bm, C states an ideal run announces for reported parity 0 and 1."""
        ideal = np.kron(_bell_state(k1), _bell_state(k2))
        return [s for _, s in self._parity(ideal, 0.0)]

    def ghz_fidelity(self) -> float:
        """Fidelity of the three-qubit state (A, B's memory, C) to the GHZ state the heralds and
        B's reported parity announce (equal to the fidelity to ``(|000⟩ + |111⟩)/√2`` after the
        Pauli corrections they call for)."""
        readout = self.bob.electron_readout()
        total = 0.0
        for k1, k2, w, rho in self._joint_states():
            targets = self._ghz_targets(k1, k2)
            for m, (pm, post) in enumerate(self._parity(rho, self.bob.gate_depolarizing)):
                for r in (0, 1):
                    total += w * pm * readout[r, m] * float(np.trace(targets[r] @ post).real)
        return total

    # -- entanglement swap at B and teleportation ----------------------------------------------

    def _bsm(self, rho: np.ndarray, gate_p: float) -> list[tuple[int, int, float, np.ndarray]]:
        """B's Bell-state measurement of memory (1) and electron (2): ``[(m_mem, m_el, P, ρ_AC)]``."""
        r = kernels.apply_unitary(rho, _CNOT, [1, 2], 4)
        r = _depolarise_pair(r, 1, 2, 4, gate_p)
        r = kernels.apply_unitary(r, _H, [1], 4)
        out = []
        for m1 in (0, 1):
            s1 = kernels.project_and_remove(r, [1], m1, 4)
            for m2 in (0, 1):
                s = kernels.project_and_remove(s1, [1], m2, 3)
                p = float(np.trace(s).real)
                out.append((m1, m2, p, s / p if p > 1e-300 else s))
        return out

    def swapped_state(self) -> np.ndarray:
        """The A–C pair after B's Bell-state measurement and the Pauli correction (on C) to Φ⁺
        that the heralds and B's reported outcomes call for."""
        mem_r, el_r = self.bob.memory_readout(), self.bob.electron_readout()
        out = np.zeros((4, 4), dtype=complex)
        for k1, k2, w, rho in self._joint_states():
            ideal = {(a, b): s for a, b, _, s in self._bsm(np.kron(_bell_state(k1), _bell_state(k2)), 0.0)}
            for m1, m2, pm, post in self._bsm(rho, self.bob.gate_depolarizing):
                for r1 in (0, 1):
                    for r2 in (0, 1):
                        pr = mem_r[r1, m1] * el_r[r2, m2]
                        if pr == 0.0:
                            continue
                        fix = _correction_to_phi_plus(ideal[(r1, r2)])
                        out += w * pm * pr * (fix @ post @ fix.conj().T)
        return out

    def swap_fidelity(self) -> float:
        """Fidelity of :meth:`swapped_state` to Φ⁺."""
        return float(np.real(BELL_KETS_NP[0] @ self.swapped_state() @ BELL_KETS_NP[0]))

    def teleportation_fidelity(self) -> float:
        """Average fidelity of a qubit teleported from C to A over the six cardinal states: C
        moves its half of the swapped pair into its memory (``charlie.store_depolarizing``),
        prepares the state on its electron, measures electron and memory in the Bell basis
        (``charlie`` gate and readout errors) and A applies the reported correction."""
        return teleport_average_fidelity(self.swapped_state(), self.charlie)

    # -- timing ----------------------------------------------------------------------------------

    def mean_time(self) -> float:
        """Mean time (s) from the start to the second link's herald, over tries that time out:
        ``τ₁/(p₁ q) + (1 − q)/q · T τ₂ + E[N | N ≤ T] τ₂`` with ``q`` the probability that the
        second link heralds within ``T``. (Attempt time only: no calibration or overhead.)"""
        p1, t1 = self.first.success_probability, self.first.cycle_time
        t2, q = self.second.cycle_time, self.second_within_timeout
        mean_n = float(np.dot(np.arange(1, self.timeout + 1), self.attempt_distribution()))
        return t1 / (p1 * q) + (1.0 - q) / q * self.timeout * t2 + mean_n * t2

    @property
    def rate(self) -> float:
        """Deliveries per second of attempt time, ``1 / mean_time``."""
        return 1.0 / self.mean_time()

    # -- Monte Carlo ----------------------------------------------------------------------------

    def sample(self, runs: int, rng: np.random.Generator, protocol: str = "ghz") -> ChainSample:
        """Draw ``runs`` deliveries of ``protocol`` (``"ghz"``, ``"swap"`` or ``"teleport"``)
        one by one: attempts of both links (restarting at each timeout), heralds, B's
        measurement outcomes and reported readouts; each run's fidelity is that of its own
        state to the target it announces. Same ``rng`` state, same result."""
        if protocol not in ("ghz", "swap", "teleport"):
            raise ValueError(f"protocol must be 'ghz', 'swap' or 'teleport', got {protocol!r}")
        if not (isinstance(runs, int) and runs >= 1):
            raise ValueError(f"runs must be an integer >= 1, got {runs!r}")
        p1, t1 = self.first.success_probability, self.first.cycle_time
        p2, t2 = self.second.success_probability, self.second.cycle_time
        h1, h2 = self._heralds(self.first), self._heralds(self.second)
        el_r, mem_r = self.bob.electron_readout(), self.bob.memory_readout()
        fids = np.empty(runs)
        times = np.empty(runs)
        for run in range(runs):
            elapsed = 0.0
            while True:
                elapsed += int(rng.geometric(p1)) * t1
                n2 = int(rng.geometric(p2))
                if n2 <= self.timeout:
                    elapsed += n2 * t2
                    break
                elapsed += self.timeout * t2
            times[run] = elapsed
            k1, _, s1 = h1[0] if rng.random() < h1[0][1] else h1[1]
            k2, _, s2 = h2[0] if rng.random() < h2[0][1] else h2[1]
            pair1 = kernels.apply_depolarizing(s1, 1, 2, self.bob.store_depolarizing)
            pair1 = self._memory_channel(pair1, 1, 2, n2)
            if self.waiting_a is not None:
                pair1 = self.waiting_a.apply(pair1, 0, 2, n2 * t2)
            rho = np.kron(pair1, s2)
            ideal = np.kron(_bell_state(k1), _bell_state(k2))
            if protocol == "ghz":
                outs = self._parity(rho, self.bob.gate_depolarizing)
                m = 0 if rng.random() < outs[0][0] else 1
                r = m if rng.random() < el_r[m, m] else 1 - m
                target = self._ghz_targets(k1, k2)[r]
                fids[run] = float(np.trace(target @ outs[m][1]).real)
                continue
            outs4 = self._bsm(rho, self.bob.gate_depolarizing)
            m1, m2, _, post = outs4[_draw(rng, [o[2] for o in outs4])]
            r1 = m1 if rng.random() < mem_r[m1, m1] else 1 - m1
            r2 = m2 if rng.random() < el_r[m2, m2] else 1 - m2
            target = {(a, b): s for a, b, _, s in self._bsm(ideal, 0.0)}[(r1, r2)]
            fix = _correction_to_phi_plus(target)
            pair = fix @ post @ fix.conj().T
            if protocol == "swap":
                fids[run] = float(np.real(BELL_KETS_NP[0] @ pair @ BELL_KETS_NP[0]))
            else:
                fids[run] = teleport_average_fidelity(pair, self.charlie, rng)
        return ChainSample(fids, times)


def _draw(rng: np.random.Generator, weights: Sequence[float]) -> int:
    """Index drawn with probabilities ``weights`` (normalised here), one uniform number."""
    c = np.cumsum(weights)
    return min(int(np.searchsorted(c, rng.random() * c[-1], side="right")), len(c) - 1)


def _correction_to_phi_plus(target: np.ndarray) -> np.ndarray:
    """The Pauli on the second qubit that maps the pure Bell state ``target`` to Φ⁺."""
    overlaps = [float(np.real(BELL_KETS_NP[k] @ target @ BELL_KETS_NP[k])) for k in range(4)]
    k = int(np.argmax(overlaps))
    if overlaps[k] < 1.0 - 1e-9:
        raise ValueError(f"announced state is not a Bell state (overlaps {overlaps})")
    # Φ⁺ ← Φ⁻ by Z, ← Ψ⁺ by X, ← Ψ⁻ by X·Z (Z first, then X)
    p = [np.eye(2), _PAULI["Z"], _PAULI["X"], _PAULI["X"] @ _PAULI["Z"]][k]
    return np.kron(np.eye(2), p)


def teleport_average_fidelity(pair: np.ndarray, ops: NodeOperations, rng: np.random.Generator | None = None,
                              states: Sequence[np.ndarray] = _CARDINAL) -> float:
    """Teleport each of ``states`` from the second qubit's node to the first with ``pair``
    (a two-qubit state near Φ⁺, receiver first), and average the fidelities: the sender moves
    its half into its memory (``ops.store_depolarizing``), measures the input (electron) and
    memory in the Bell basis (CNOT electron → memory with ``ops.gate_depolarizing``, H,
    readouts with ``ops``'s fidelities) and the receiver applies ``X^{m_mem} Z^{m_el}``. With
    ``rng`` one outcome and readout is drawn per state (a Monte Carlo run); without, all are
    summed. Perfect operations give ``(2F + 1)/3`` for a Bell-diagonal pair of fidelity ``F``.

    >>> round(float(teleport_average_fidelity(_bell_state(0), NodeOperations())), 12)
    1.0
    """
    pair = kernels.apply_depolarizing(np.asarray(pair, dtype=complex), 1, 2, ops.store_depolarizing)
    el_r, mem_r = ops.electron_readout(), ops.memory_readout()
    total = 0.0
    for psi in states:
        rho = np.kron(pair, np.outer(psi, psi.conj()))  # qubits: A, C memory, C electron
        r = kernels.apply_unitary(rho, _CNOT, [2, 1], 3)
        r = _depolarise_pair(r, 1, 2, 3, ops.gate_depolarizing)
        r = kernels.apply_unitary(r, _H, [2], 3)
        results = []
        for m_mem in (0, 1):
            s1 = kernels.project_and_remove(r, [1], m_mem, 3)
            for m_el in (0, 1):
                s = kernels.project_and_remove(s1, [1], m_el, 2)
                results.append((m_mem, m_el, float(np.trace(s).real), s))
        target = np.outer(psi, psi.conj())

        def fidelity_after(s: np.ndarray, r_mem: int, r_el: int, target: np.ndarray = target) -> float:
            u = np.linalg.matrix_power(_PAULI["X"], r_mem) @ np.linalg.matrix_power(_PAULI["Z"], r_el)
            return float(np.real(np.trace(target @ u @ s @ u.conj().T)))

        if rng is None:
            f = 0.0
            for m_mem, m_el, p, s in results:
                if p <= 0.0:
                    continue
                for r_mem in (0, 1):
                    for r_el in (0, 1):
                        pr = mem_r[r_mem, m_mem] * el_r[r_el, m_el]
                        f += pr * fidelity_after(s, r_mem, r_el)  # s is unnormalised: weight p included
            total += f
        else:
            m_mem, m_el, p, s = results[_draw(rng, [o[2] for o in results])]
            r_mem = m_mem if rng.random() < mem_r[m_mem, m_mem] else 1 - m_mem
            r_el = m_el if rng.random() < el_r[m_el, m_el] else 1 - m_el
            total += fidelity_after(s / p, r_mem, r_el)
    return total / len(states)
