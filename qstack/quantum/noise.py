"""Noise channels (Kraus maps) and the gate/readout noise of a device.

Channels (Nielsen & Chuang ch. 8; basis convention of :mod:`qstack.quantum.states`):

* ``depolarizing(p, k)``: ``ρ → (1−p)ρ + p·I/2^k ⊗ Tr_k ρ`` on ``k`` qubits;
* ``phase_flip(p)`` (= ``dephasing(p)``): ``ρ → (1−p)ρ + p ZρZ`` — coherences shrink by ``1−2p``;
* ``bit_flip(p)``: ``ρ → (1−p)ρ + p XρX``;
* ``amplitude_damping(γ)``: ``|1⟩ → |0⟩`` with probability ``γ``;
* ``t1t2(duration, T1, T2)``: amplitude damping ``γ = 1 − e^{−t/T1}`` then the pure dephasing
  that makes coherences decay as ``e^{−t/T2}`` in total; needs ``T2 ≤ 2·T1``;
* ``depolarizing_memory(duration, T)``: ``p = 1 − e^{−t/T}``;
* ``kraus(ops)``: any channel from ``Qobj`` Kraus operators (checked trace preserving).

A :class:`Channel` keeps its Kraus operators as numpy arrays and its superoperator, so applying
it to a qubit of a group is one matrix product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np

from qstack.registry import Registry
from qstack.validation import check_range

from ._qutip import is_qobj
from ._qutip import qutip as _qutip
from .kernels import kraus_to_superop

if TYPE_CHECKING:
    import qutip

__all__ = [
    "Channel",
    "GateNoise",
    "kraus",
    "depolarizing",
    "phase_flip",
    "dephasing",
    "bit_flip",
    "amplitude_damping",
    "t1t2",
    "depolarizing_memory",
    "depolarizing_superop",
    "t1t2_superop",
    "t1t2_factors",
    "twirl_werner",
]

_PAULI_NP = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)


class Channel:
    """A completely positive trace-preserving map on ``num_qubits`` qubits.

    >>> ch = depolarizing(0.3)
    >>> ch.num_qubits, len(ch.kraus_np)
    (1, 4)
    """

    __slots__ = ("kraus_np", "superop", "num_qubits", "name")

    def __init__(self, kraus_np: Sequence[np.ndarray], name: str = "channel", *, check: bool = True):
        ops = [np.asarray(k, dtype=complex) for k in kraus_np]
        if not ops:
            raise ValueError("a channel needs at least one Kraus operator")
        dim = ops[0].shape[0]
        if dim < 2 or dim & (dim - 1) or any(k.shape != (dim, dim) for k in ops):
            raise ValueError(
                f"Kraus operators must all be square of dimension 2**k, got shapes {[k.shape for k in ops]}"
            )
        if check:
            completeness = sum(k.conj().T @ k for k in ops)
            err = float(np.max(np.abs(completeness - np.eye(dim))))
            if not err <= 1e-9:  # NaN or inf entries fail too
                if not all(np.all(np.isfinite(k)) for k in ops):
                    raise ValueError(f"Kraus operators of {name} have non-finite entries (NaN or inf)")
                raise ValueError(
                    f"Kraus operators of {name} are not trace preserving: max |Σ K†K − I| = {err:.3g}"
                )
        self.kraus_np = tuple(ops)
        self.superop = kraus_to_superop(ops)
        self.num_qubits = int(round(math.log2(dim)))
        self.name = name

    @property
    def kraus_ops(self) -> list[qutip.Qobj]:
        """The Kraus operators as qutip ``Qobj`` with qubit dims."""
        dims = [[2] * self.num_qubits] * 2
        qobj = _qutip().Qobj
        return [qobj(k, dims=dims) for k in self.kraus_np]

    def apply_to(self, rho: qutip.Qobj) -> qutip.Qobj:
        """Apply the channel to a density matrix of exactly ``num_qubits`` qubits (qutip path).

        >>> from qstack.quantum.states import product_state
        >>> round(float(amplitude_damping(1.0).apply_to(product_state("1")).full()[0, 0].real), 12)
        1.0
        """
        return sum(k * rho * k.dag() for k in self.kraus_ops)

    def __repr__(self) -> str:
        return f"Channel({self.name}, qubits={self.num_qubits})"


def _prob(name: str, p: float) -> float:
    """``p`` as a float in [0, 1] (:func:`qstack.validation.check_range`: ``TypeError`` for a bool
    or non-number, ``ValueError`` for NaN or out of range)."""
    if type(p) is float and 0.0 <= p <= 1.0:  # the common case, without building a message
        return p
    return check_range(name, p, low=0.0, high=1.0)


def kraus(ops: Sequence[qutip.Qobj | np.ndarray], name: str = "kraus") -> Channel:
    """A channel from user-given Kraus operators (``Qobj`` or arrays); refuses non-CPTP sets.

    >>> import qutip
    >>> ch = kraus([qutip.sigmax()])
    >>> ch.num_qubits
    1
    """
    if is_qobj(ops) or isinstance(ops, np.ndarray) and ops.ndim == 2:
        raise TypeError("ops must be a sequence of Kraus operators, got a single operator (wrap it in a list)")
    arrays = []
    for i, k in enumerate(ops):
        a = k.full() if is_qobj(k) else np.asarray(k)
        if a.dtype == bool or not np.issubdtype(a.dtype, np.number):
            raise TypeError(f"ops[{i}] must be a qutip Qobj or a numeric array, got {type(k).__name__}")
        arrays.append(a)
    return Channel(arrays, name)


def depolarizing(p: float, num_qubits: int = 1) -> Channel:
    """``ρ → (1−p)ρ + p·I/2^k ⊗ Tr_k ρ`` on ``k = num_qubits`` qubits.

    >>> depolarizing(0.1, 2).num_qubits
    2
    """
    p = _prob("depolarizing probability p", p)
    if isinstance(num_qubits, bool) or num_qubits not in (1, 2):
        raise ValueError(f"num_qubits must be 1 or 2, got {num_qubits}")
    paulis: list[np.ndarray] = list(_PAULI_NP)
    if num_qubits == 2:
        paulis = [np.kron(a, b) for a in _PAULI_NP for b in _PAULI_NP]
    m = len(paulis)
    # I/d ⊗ Tr ρ = (1/m) Σ_P P ρ P over the m = 4^k Paulis.
    ops = [math.sqrt(1 - p + p / m) * paulis[0]] + [math.sqrt(p / m) * q for q in paulis[1:]]
    return Channel(ops, f"depolarizing(p={p:g}, k={num_qubits})", check=False)


def phase_flip(p: float) -> Channel:
    """``ρ → (1−p)ρ + p ZρZ``.

    >>> abs(float(phase_flip(0.5).superop.real[1, 1]))
    0.0
    """
    p = _prob("phase-flip probability p", p)
    return Channel([math.sqrt(1 - p) * _PAULI_NP[0], math.sqrt(p) * _PAULI_NP[3]], f"phase_flip({p:g})", check=False)


dephasing = phase_flip


def bit_flip(p: float) -> Channel:
    """``ρ → (1−p)ρ + p XρX``.

    >>> float(bit_flip(0.0).superop.real[0, 0])
    1.0
    """
    p = _prob("bit-flip probability p", p)
    return Channel([math.sqrt(1 - p) * _PAULI_NP[0], math.sqrt(p) * _PAULI_NP[1]], f"bit_flip({p:g})", check=False)


def amplitude_damping(gamma: float) -> Channel:
    """Relaxation ``|1⟩ → |0⟩`` with probability ``gamma``.

    >>> amplitude_damping(0.2).num_qubits
    1
    """
    g = _prob("damping probability gamma", gamma)
    k0 = np.array([[1, 0], [0, math.sqrt(1 - g)]], dtype=complex)
    k1 = np.array([[0, math.sqrt(g)], [0, 0]], dtype=complex)
    return Channel([k0, k1], f"amplitude_damping({g:g})", check=False)


def _time(name: str, value: float, allow_inf: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number >= 0 s, got {value!r}")
    value = float(value)
    if math.isnan(value) or value < 0 or (not allow_inf and math.isinf(value)):
        raise ValueError(f"{name} must be >= 0 s{'' if allow_inf else ' and finite'}, got {value}")
    return value


def t1t2_factors(duration: float, t1: float, t2: float) -> tuple[float, float]:
    """``(γ, λ)``: damping probability and extra coherence factor for a T1/T2 memory.

    Amplitude damping alone shrinks coherences by ``√(1−γ) = e^{−t/2T1}``; the pure dephasing
    factor ``λ = e^{−t/T2 + t/2T1}`` makes the total ``e^{−t/T2}``.

    >>> t1t2_factors(0.0, 1.0, 1.0)
    (0.0, 1.0)
    """
    t = _time("duration", duration, allow_inf=False)
    t1 = _time("T1", t1)
    t2 = _time("T2", t2)
    if t1 == 0 or t2 == 0:
        raise ValueError(f"T1 and T2 must be > 0 s, got T1={t1}, T2={t2}")
    if t2 > 2 * t1 * (1 + 1e-12):
        raise ValueError(f"T2 must be <= 2·T1 (physical bound), got T1={t1} s, T2={t2} s")
    gamma = -math.expm1(-t / t1) if math.isfinite(t1) else 0.0
    lam = math.exp(-t / t2 + (t / (2 * t1) if math.isfinite(t1) else 0.0)) if t > 0 else 1.0
    return gamma, min(lam, 1.0)


def t1t2(duration: float, t1: float, t2: float) -> Channel:
    """Memory decoherence for ``duration`` seconds with relaxation ``T1`` and coherence ``T2``.

    ``T1 = inf`` gives pure dephasing. Populations relax as ``e^{−t/T1}``, coherences decay as
    ``e^{−t/T2}``.

    >>> ch = t1t2(1.0, float("inf"), 2.0)
    >>> bool(abs(ch.superop[1, 1].real - np.exp(-0.5)) < 1e-12)
    True
    """
    gamma, lam = t1t2_factors(duration, t1, t2)
    # Combined Kraus set: amplitude damping followed by phase flip with 1 − 2q = λ.
    q = (1.0 - lam) / 2.0
    k0 = np.array([[1, 0], [0, math.sqrt(1 - gamma)]], dtype=complex)
    k1 = np.array([[0, math.sqrt(gamma)], [0, 0]], dtype=complex)
    z = _PAULI_NP[3]
    ops = [math.sqrt(1 - q) * k0, math.sqrt(1 - q) * k1, math.sqrt(q) * (z @ k0), math.sqrt(q) * (z @ k1)]
    return Channel(ops, f"t1t2(t={duration:g}, T1={t1:g}, T2={t2:g})", check=False)


def t1t2_superop(duration: float, t1: float, t2: float) -> np.ndarray:
    """The 4×4 superoperator of :func:`t1t2` built directly (no Kraus sums; hot path of memories).

    On ``vec(ρ) = (ρ00, ρ01, ρ10, ρ11)``: ``ρ00 += γρ11``, ``ρ11 *= 1−γ``, coherences ``*= e^{−t/T2}``.

    >>> bool(np.allclose(t1t2_superop(0.3, 1.0, 0.5), t1t2(0.3, 1.0, 0.5).superop, atol=1e-12))
    True
    """
    gamma, lam = t1t2_factors(duration, t1, t2)
    c = lam * math.sqrt(1.0 - gamma)
    return np.array(
        [[1, 0, 0, gamma], [0, c, 0, 0], [0, 0, c, 0], [0, 0, 0, 1 - gamma]], dtype=complex
    )


def depolarizing_superop(p: float) -> np.ndarray:
    """The 4×4 superoperator of one-qubit :func:`depolarizing` built directly.

    >>> bool(np.allclose(depolarizing_superop(0.3), depolarizing(0.3).superop, atol=1e-12))
    True
    """
    p = _prob("depolarizing probability p", p)
    h = p / 2.0
    return np.array(
        [[1 - h, 0, 0, h], [0, 1 - p, 0, 0], [0, 0, 1 - p, 0], [h, 0, 0, 1 - h]], dtype=complex
    )


def depolarizing_memory(duration: float, t_depol: float) -> Channel:
    """Depolarising memory: ``p = 1 − e^{−t/T}`` for ``duration`` ``t``.

    >>> float(depolarizing_memory(0.0, 1.0).superop.real[0, 0])
    1.0
    """
    t = _time("duration", duration, allow_inf=False)
    tq = _time("depolarising time T", t_depol)
    if tq == 0:
        raise ValueError(f"depolarising time T must be > 0 s, got {tq}")
    p = -math.expm1(-t / tq) if math.isfinite(tq) else 0.0
    return depolarizing(p)


def twirl_werner() -> Channel:
    """The bilateral twirl ``ρ → F|Φ⁺⟩⟨Φ⁺| + (1−F)/3 (I − |Φ⁺⟩⟨Φ⁺|)`` as a two-qubit channel.

    Average of ``U ⊗ U*`` over the bilateral rotations; keeps ``F = ⟨Φ⁺|ρ|Φ⁺⟩`` and makes the
    state Werner. Kraus form: project on ``Φ⁺`` and spread the rest evenly over the other three.

    >>> from qstack.quantum.states import bell_diagonal, bell_coefficients
    >>> bell_coefficients(twirl_werner().apply_to(bell_diagonal([0.7, 0.3, 0, 0]))).round(6).tolist()
    [0.7, 0.1, 0.1, 0.1]
    """
    from .states import BELL_KETS_NP

    b = BELL_KETS_NP
    ops = [np.outer(b[0], b[0].conj())]
    # For each of the three "error" Bell states j, move every error state i to j with weight 1/3.
    for j in range(1, 4):
        for i in range(1, 4):
            ops.append(np.sqrt(1 / 3) * np.outer(b[j], b[i].conj()))
    return Channel(ops, "twirl_werner")


@dataclass(frozen=True, slots=True)
class GateNoise:
    """Gate and readout noise of a device: depolarising after each gate, flipped readouts.

    ``single_qubit_depolarizing`` and ``two_qubit_depolarizing`` are the ``p`` of the
    depolarising channel applied after every one- and two-qubit gate (Dür et al.'s gate
    reliability is ``p₂ = 1 − two_qubit_depolarizing``); ``readout_error`` is the probability
    that a measured bit is reported flipped (measurement reliability ``η = 1 − readout_error``).

    This is the built-in gate noise model (``"depolarizing"`` in :data:`GATE_NOISE`). Your own
    model subclasses it as a frozen dataclass (hashable: swap maps are cached per model) and
    overrides :meth:`after_gate` — the channel after a 1- or 2-qubit gate, linear and
    state-independent — keeping ``readout_error`` for measurements.

    >>> GateNoise(two_qubit_depolarizing=0.02).is_ideal
    False
    """

    single_qubit_depolarizing: float = 0.0
    two_qubit_depolarizing: float = 0.0
    readout_error: float = 0.0

    def __post_init__(self) -> None:
        _prob("single_qubit_depolarizing", self.single_qubit_depolarizing)
        _prob("two_qubit_depolarizing", self.two_qubit_depolarizing)
        _prob("readout_error", self.readout_error)

    @property
    def is_ideal(self) -> bool:
        """True when every noise figure is zero (a subclass with other noise overrides it)."""
        return type(self) is GateNoise and not (
            self.single_qubit_depolarizing or self.two_qubit_depolarizing or self.readout_error)

    @property
    def keeps_bell_diagonal(self) -> bool:
        """True when the model's gates and readout keep Bell-diagonal pairs Bell-diagonal, so a
        run may use the exact Bell-diagonal engine: the built-in depolarising model (a Pauli
        channel after each gate, classical readout flips). A subclass with its own
        :meth:`after_gate` is taken not to (False) unless it overrides this to declare a Pauli
        channel; the engine also checks its swap maps and refuses non-Bell-diagonal outputs.

        >>> GateNoise(two_qubit_depolarizing=0.02, readout_error=0.01).keeps_bell_diagonal
        True
        """
        return type(self).after_gate is GateNoise.after_gate

    def error_probabilities(self) -> dict[str, float]:
        """The model's error figures as the stage criteria read them: ``single_qubit_depolarizing``
        and ``two_qubit_depolarizing`` (the depolarising ``p`` with the same entanglement fidelity
        as the gate noise) and ``readout_error``.

        The built-in model returns its fields. A subclass with its own :meth:`after_gate` is
        measured: its channel acts on one half of maximally entangled pairs, and entanglement
        fidelity ``F_e`` maps to ``p = (1 − F_e) / (1 − 1/d²)`` (``d = 2`` or ``4``), which the
        depolarising channel ``(1 − p)ρ + p·I/d`` has. Dephasing every touched qubit with
        probability ``q`` gives ``F_e = 1 − q`` on one qubit, so ``p = 4q/3``.

        >>> GateNoise(two_qubit_depolarizing=0.02).error_probabilities()["two_qubit_depolarizing"]
        0.02
        """
        if type(self).after_gate is GateNoise.after_gate:
            return {"single_qubit_depolarizing": self.single_qubit_depolarizing,
                    "two_qubit_depolarizing": self.two_qubit_depolarizing, "readout_error": self.readout_error}
        out = {}
        for k, name in ((1, "single_qubit_depolarizing"), (2, "two_qubit_depolarizing")):
            # k qubits (0..k-1), each maximally entangled with a reference qubit (k..2k-1)
            pair = np.zeros(4)
            pair[0] = pair[3] = 1 / math.sqrt(2)
            psi = pair if k == 1 else np.einsum("ac,bd->abcd", pair.reshape(2, 2), pair.reshape(2, 2)).reshape(16)
            rho = np.outer(psi, psi).astype(complex)
            fe = float(np.real(psi @ self.after_gate(rho, list(range(k)), 2 * k) @ psi))
            d2 = 4**k
            out[name] = min(max((1.0 - fe) / (1.0 - 1.0 / d2), 0.0), 1.0)
        out["readout_error"] = self.readout_error
        return out

    def after_gate(self, dm: np.ndarray, positions: Sequence[int], n: int) -> np.ndarray:
        """The ``n``-qubit density matrix after a gate on ``positions`` (1 or 2 qubits) has acted:
        here the depolarising channel of the gate's size.

        >>> rho = np.diag([1.0, 0.0]).astype(complex)
        >>> out = GateNoise(single_qubit_depolarizing=0.2).after_gate(rho, [0], 1)
        >>> [round(float(x), 12) for x in out.real.diagonal()]
        [0.9, 0.1]
        """
        k = len(positions)
        p = self.single_qubit_depolarizing if k == 1 else self.two_qubit_depolarizing if k == 2 else 0.0
        if not p:
            return dm
        from .kernels import apply_superop

        return apply_superop(dm, depolarizing(p, k).superop, list(positions), n)


IDEAL = GateNoise()

#: gate noise models by name (``[hardware.X] gate_model = { name = …, … }``)
GATE_NOISE: Registry[GateNoise] = Registry(
    "gate_noise", "gate noise model",
    lambda obj: None if isinstance(obj, GateNoise) else "a gate noise model subclasses qstack.quantum.noise.GateNoise",
)
GATE_NOISE.add("depolarizing", GateNoise)
