"""Quantum memory: positions holding qubits that decohere lazily and exactly.

A :class:`QuantumMemory` has a number of positions and a decoherence model — T1/T2
(amplitude damping and dephasing, see :func:`qstack.quantum.noise.t1t2`) or a depolarising
time — plus the gate and readout noise of the processor that operates on it.

Decoherence is *lazy*: each stored qubit remembers when it was last brought up to date; the
channel for exactly the elapsed time is applied when the qubit is next touched
(:meth:`QuantumMemory.peek`, :meth:`QuantumMemory.pop`, :meth:`QuantumMemory.sync`). Because
the channels form a semigroup (``E(t₁)∘E(t₂) = E(t₁+t₂)``), touching a qubit more often does not
change its state. No periodic events are needed.

>>> from qstack.quantum import create_qubits, bell_state, state_of, fidelity
>>> mem = QuantumMemory("alice", num_positions=2, t1=float("inf"), t2=1.0)
>>> a, b = create_qubits(2, bell_state("phi+"))
>>> pos = mem.store(a, now=0.0)
>>> q = mem.pop(pos, now=1.0)
>>> round(fidelity(state_of([q, b]), bell_state("phi+")), 12)   # (1 + e^{-1})/2
0.683939720586
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qstack.quantum import kernels
from qstack.quantum.core import Qubit, _group_of
from qstack.quantum.kernels import bell_pauli_channel
from qstack.quantum.noise import GateNoise
from qstack.quantum.operations import BellMeasurement
from qstack.registry import Registry

__all__ = ["QuantumMemory", "MemoryFullError", "MemoryNoise", "T1T2Noise", "DepolarizingNoise", "MEMORY_NOISE",
           "memory_noise_from"]


class MemoryNoise(ABC):
    """A memory noise model: the channel a stored qubit undergoes over time (a plug-in).

    Subclasses define :meth:`apply` (the exact channel for ``dt`` seconds on qubit ``pos`` of an
    ``n``-qubit density matrix; the channels must form a semigroup, ``E(t₁)∘E(t₂) = E(t₁+t₂)``,
    because decoherence is applied lazily) and :meth:`ptm_diagonal` (the diagonal ``(λx, λy, λz)``
    of the channel's Pauli transfer matrix after ``t``); a model missing either cannot be built.
    :meth:`coherence_time` defaults to the time at which ⟨X⟩ has fallen to 1/e. From these
    qubit-free quantities the stage derivation and the fidelity floors work for any model:
    :meth:`pauli_weights` is the Pauli twirl of the channel and :meth:`expected_fidelity` the
    fidelity of Φ⁺ after one half was stored for ``t`` — exact for channels whose transfer
    matrix has a diagonal unital block (Pauli channels, T1/T2, …).
    """

    name: str = "custom"

    @property
    def ideal(self) -> bool:
        """True when stored qubits never decay."""
        return False

    @abstractmethod
    def apply(self, dm: np.ndarray, pos: int, n: int, dt: float) -> np.ndarray:
        """The density matrix after qubit ``pos`` was stored for ``dt`` seconds."""

    @abstractmethod
    def ptm_diagonal(self, t: float) -> tuple[float, float, float]:
        """``(λx, λy, λz)``: how much of ⟨X⟩, ⟨Y⟩, ⟨Z⟩ survives ``t`` seconds of storage."""

    @property
    def keeps_bell_diagonal(self) -> bool:
        """True when :meth:`apply` is a Pauli channel — exactly its twirl
        :meth:`pauli_weights` — so storing a half of a Bell-diagonal pair keeps it
        Bell-diagonal and the exact Bell-diagonal engine may run (default False: a plug-in
        declares it by overriding this).

        >>> T1T2Noise(t2=1.0).keeps_bell_diagonal, T1T2Noise(t1=2.0, t2=1.0).keeps_bell_diagonal
        (True, False)
        """
        return False

    def coherence_time(self) -> float:
        """The time scale the stage criterion compares with the communication time (s): by
        default the time at which ``λx`` (the surviving ⟨X⟩) reaches 1/e — ``T2`` for T1/T2
        noise — found by bisection to 1e-12 relative; ``inf`` if it never decays that far.

        >>> class Dephasing(MemoryNoise):
        ...     def apply(self, dm, pos, n, dt): return dm
        ...     def ptm_diagonal(self, t): return (math.exp(-t / 0.25), math.exp(-t / 0.25), 1.0)
        >>> round(Dephasing().coherence_time(), 9)
        0.25
        """
        target = math.exp(-1.0)
        lo, hi = 0.0, 1e-9
        while self.ptm_diagonal(hi)[0] > target:
            lo, hi = hi, hi * 2.0
            if hi > 1e12:
                return math.inf
        while hi - lo > 1e-12 * hi:
            mid = 0.5 * (lo + hi)
            if self.ptm_diagonal(mid)[0] > target:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def coherence_source(self) -> str:
        """What sets :meth:`coherence_time`, for messages (a parameter name; default the model's name)."""
        return self.name

    def pauli_weights(self, t: float) -> tuple[float, float, float, float]:
        """``(p_I, p_X, p_Y, p_Z)`` of the Pauli-twirled channel after ``t``.

        >>> [round(p, 6) for p in T1T2Noise(t2=1.0).pauli_weights(1.0)]   # (1 ± e^{-1})/2 on I, Z
        [0.68394, 0.0, 0.0, 0.31606]
        """
        lx, ly, lz = self.ptm_diagonal(t)
        return ((1 + lx + ly + lz) / 4, (1 + lx - ly - lz) / 4, (1 - lx + ly - lz) / 4, (1 - lx - ly + lz) / 4)

    def expected_fidelity(self, t: float) -> float:
        """Fidelity of Φ⁺ after one half was stored ``t`` seconds (the twirl's ``p_I``)."""
        return self.pauli_weights(t)[0]

    def describe(self) -> str:
        """A short description for reports."""
        return self.name


#: memory noise models by name
MEMORY_NOISE: Registry[MemoryNoise] = Registry(
    "memory_noise", "memory noise model",
    lambda obj: None if callable(getattr(obj, "apply", None)) and callable(getattr(obj, "ptm_diagonal", None))
    else "a memory noise model needs apply() and ptm_diagonal() (subclass qstack.physical.memory.MemoryNoise)",
)


@MEMORY_NOISE.register("t1t2")
class T1T2Noise(MemoryNoise):
    """Amplitude damping (T1, relaxing ``|1⟩ → |0⟩``) with dephasing: coherences decay as
    ``e^{−t/T2}`` (``t2 <= 2·t1``). ``λx = λy = e^{−t/T2}``, ``λz = e^{−t/T1}``."""

    name = "t1t2"

    def __init__(self, t1: float = math.inf, t2: float = math.inf) -> None:
        for fname, v in (("t1", t1), ("t2", t2)):
            if not float(v) > 0:
                raise ValueError(f"{fname} must be > 0 s (inf for no decay), got {v}")
        if t2 > 2 * t1 * (1 + 1e-12):
            raise ValueError(f"t2 must be <= 2·t1, got t1={t1} s, t2={t2} s")
        self.t1, self.t2 = float(t1), float(t2)
        self.rate1, self.rate2 = 1.0 / self.t1, 1.0 / self.t2

    @property
    def ideal(self) -> bool:
        return math.isinf(self.t1) and math.isinf(self.t2)

    @property
    def keeps_bell_diagonal(self) -> bool:
        """Pure dephasing (``t1 = inf``) is a Pauli-Z channel; amplitude damping is not."""
        return math.isinf(self.t1)

    def apply(self, dm: np.ndarray, pos: int, n: int, dt: float) -> np.ndarray:
        gamma = -math.expm1(-dt * self.rate1)
        return kernels.apply_amplitude_phase_damping(dm, pos, n, gamma, math.exp(-dt * self.rate2))

    def ptm_diagonal(self, t: float) -> tuple[float, float, float]:
        c = math.exp(-t * self.rate2)
        return (c, c, math.exp(-t * self.rate1))

    def pauli_weights(self, t: float) -> tuple[float, float, float, float]:
        """:meth:`MemoryNoise.pauli_weights` with ``λx = λy`` written out (the same arithmetic, one
        call less: the Bell-diagonal engine asks for it on every memory access)."""
        c = math.exp(-t * self.rate2)
        z = math.exp(-t * self.rate1)
        return ((1 + c + c + z) / 4, (1 + c - c - z) / 4, (1 - c + c - z) / 4, (1 - c - c + z) / 4)

    def coherence_time(self) -> float:
        return self.t2

    def coherence_source(self) -> str:
        return "t2"

    def describe(self) -> str:
        return f"T1 = {self.t1:g} s, T2 = {self.t2:g} s"


@MEMORY_NOISE.register("depolarizing")
class DepolarizingNoise(MemoryNoise):
    """Depolarising memory: ``ρ → e^{−t/T}ρ + (1 − e^{−t/T})·I/2``; ``λx = λy = λz = e^{−t/T}``."""

    name = "depolarizing"

    def __init__(self, time: float) -> None:
        if not float(time) > 0:
            raise ValueError(f"depolarizing time must be > 0 s, got {time}")
        self.time = float(time)
        self.rate = 1.0 / self.time

    @property
    def keeps_bell_diagonal(self) -> bool:
        """Depolarising is a Pauli channel."""
        return True

    def apply(self, dm: np.ndarray, pos: int, n: int, dt: float) -> np.ndarray:
        return kernels.apply_depolarizing(dm, pos, n, -math.expm1(-dt * self.rate))

    def ptm_diagonal(self, t: float) -> tuple[float, float, float]:
        e = math.exp(-t * self.rate)
        return (e, e, e)

    def pauli_weights(self, t: float) -> tuple[float, float, float, float]:
        """:meth:`MemoryNoise.pauli_weights` with ``λx = λy = λz`` written out (same arithmetic)."""
        e = math.exp(-t * self.rate)
        return ((1 + e + e + e) / 4, (1 + e - e - e) / 4, (1 - e + e - e) / 4, (1 - e - e + e) / 4)

    def coherence_time(self) -> float:
        return self.time

    def coherence_source(self) -> str:
        return "depolarizing_time"

    def describe(self) -> str:
        return f"depolarising time {self.time:g} s"


def memory_noise_from(t1: float = math.inf, t2: float = math.inf, depolarizing_time: float | None = None,
                      spec: Any = None) -> MemoryNoise:
    """The memory noise model of a hardware profile: ``spec`` (a registry spec) if given, else
    a depolarising memory when ``depolarizing_time`` is set, else T1/T2.

    >>> memory_noise_from(t2=2.0).coherence_time(), memory_noise_from(depolarizing_time=0.5).name
    (2.0, 'depolarizing')
    """
    if spec is not None:
        return MEMORY_NOISE.create(spec)
    if depolarizing_time is not None:
        return DepolarizingNoise(depolarizing_time)
    return T1T2Noise(t1, t2)


class MemoryFullError(RuntimeError):
    """No free position is left in a quantum memory."""


@dataclass
class QuantumMemory:
    """A node's quantum memory (and processor noise) with ``num_positions`` positions.

    ``t1``/``t2`` in seconds (``inf`` = no decay; ``t2 ≤ 2·t1``), or ``depolarizing_time``
    instead, or any :class:`MemoryNoise` model as ``noise``; ``gate_noise`` is the processor's
    gate and readout noise and ``bell_measurement`` what its Bell-state measurement can herald
    (:class:`qstack.quantum.BellMeasurement`; default: every outcome, never lost).
    """

    name: str
    num_positions: int
    t1: float = math.inf
    t2: float = math.inf
    depolarizing_time: float | None = None
    gate_noise: GateNoise = field(default_factory=GateNoise)
    noise: MemoryNoise | None = None
    bell_measurement: BellMeasurement = field(default_factory=BellMeasurement)
    _qubits: list[Qubit | None] = field(init=False, repr=False)
    _since: list[float] = field(init=False, repr=False)
    _ideal: bool = field(init=False, repr=False)
    _bell: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.num_positions, int) or self.num_positions < 1:
            raise ValueError(f"num_positions must be an integer >= 1, got {self.num_positions!r}")
        if self.noise is None:
            if self.depolarizing_time is not None and (math.isfinite(self.t1) or math.isfinite(self.t2)):
                raise ValueError("give either t1/t2 or depolarizing_time, not both")
            self.noise = memory_noise_from(self.t1, self.t2, self.depolarizing_time)
        elif not isinstance(self.noise, MemoryNoise) and not callable(getattr(self.noise, "apply", None)):
            raise ValueError(f"noise must be a MemoryNoise model, got {self.noise!r}")
        self._qubits = [None] * self.num_positions
        self._since = [0.0] * self.num_positions
        self._ideal = self.ideal
        self._bell = bool(getattr(self.noise, "keeps_bell_diagonal", False))

    @property
    def ideal(self) -> bool:
        """True when stored qubits do not decay."""
        return bool(self.noise.ideal)  # type: ignore[union-attr]

    def position_of(self, qubit: Qubit) -> int | None:
        """The position holding ``qubit``, or None (an observer's lookup).

        >>> from qstack.quantum import create_qubits
        >>> mem = QuantumMemory("m", 3); (q,) = create_qubits(1); mem.store(q, 0.0, 2)
        2
        >>> mem.position_of(q)
        2
        """
        for i, q in enumerate(self._qubits):
            if q is qubit:
                return i
        return None

    def qubit_at(self, position: int) -> Qubit | None:
        """The qubit stored at ``position`` (None: empty), without advancing its decoherence
        (an observer's lookup).

        >>> from qstack.quantum import create_qubits
        >>> mem = QuantumMemory("m", 2); (q,) = create_qubits(1); mem.store(q, 0.0, 1)
        1
        >>> mem.qubit_at(1) is q, mem.qubit_at(0)
        (True, None)
        """
        self._check_position(position)
        return self._qubits[position]

    @property
    def free_positions(self) -> list[int]:
        """Indices of empty positions."""
        return [i for i, q in enumerate(self._qubits) if q is None]

    @property
    def occupied_positions(self) -> list[int]:
        """Indices of positions holding a qubit."""
        return [i for i, q in enumerate(self._qubits) if q is not None]

    def store(self, qubit: Qubit, now: float, position: int | None = None, since: float | None = None) -> int:
        """Put ``qubit`` into ``position`` (or the first free one) at time ``now``.

        ``since`` (≤ ``now``) backdates the start of storage — e.g. to the emission time of a
        heralded qubit that waited for its herald; like all decoherence it is applied when the
        qubit is next touched.
        """
        if (type(position) is int and 0 <= position < self.num_positions and since.__class__ is float
                and since <= now and qubit.__class__ is Qubit and qubit.group is not None
                and self._qubits[position] is None):
            self._qubits[position] = qubit  # the common case (a heralded qubit), checked in one go
            self._since[position] = since
            return position
        _group_of(qubit)
        if position is None:
            free = self.free_positions
            if not free:
                raise MemoryFullError(f"memory {self.name!r} is full ({self.num_positions} positions)")
            position = free[0]
        self._check_position(position)
        if self._qubits[position] is not None:
            raise MemoryFullError(f"position {position} of memory {self.name!r} is occupied")
        start = now if since is None else float(since)
        if start > now:
            raise ValueError(f"since must be <= now, got since={start}, now={now}")
        self._qubits[position] = qubit
        self._since[position] = start  # decoherence since ``start`` is applied when next touched
        return position

    def _check_position(self, position: int) -> None:
        if not isinstance(position, int) or not 0 <= position < self.num_positions:
            raise ValueError(
                f"position must be an integer in [0, {self.num_positions - 1}] "
                f"for memory {self.name!r}, got {position!r}"
            )

    def _advance(self, position: int, now: float) -> Qubit:
        q = self._qubits[position]
        if q is None:
            raise KeyError(f"position {position} of memory {self.name!r} is empty")
        dt = now - self._since[position]
        if dt < 0:
            raise ValueError(f"time went backwards for memory {self.name!r}: now={now} < {self._since[position]}")
        if dt > 0.0 and not self._ideal:
            g = q.group
            if g is None:
                g = _group_of(q)  # raises: the qubit is dead
            if g.bell is not None and self._bell:  # a Bell-diagonal pair: its Pauli twirl is the channel
                g.bell = bell_pauli_channel(g.bell, self.noise.pauli_weights(dt))  # type: ignore[union-attr]
            else:
                g.dm = self.noise.apply(g.dm, g.qubits.index(q), len(g.qubits), dt)  # type: ignore[union-attr]
        self._since[position] = now
        return q

    def peek(self, position: int, now: float) -> Qubit:
        """The qubit at ``position``, brought up to date at ``now``; it stays stored."""
        if not (type(position) is int and 0 <= position < self.num_positions):
            self._check_position(position)  # raises the clear error
        return self._advance(position, now)

    def pop(self, position: int, now: float) -> Qubit:
        """Remove and return the qubit at ``position``, brought up to date at ``now``."""
        if not (type(position) is int and 0 <= position < self.num_positions):
            self._check_position(position)  # raises the clear error
        q = self._qubits[position]
        g = q.group if q is not None else None
        if g is not None and g.bell is not None and self._bell:  # _advance for a Bell-diagonal pair, inlined
            dt = now - self._since[position]
            if dt > 0.0:
                if not self._ideal:
                    g.bell = bell_pauli_channel(g.bell, self.noise.pauli_weights(dt))  # type: ignore[union-attr]
            elif dt < 0.0:
                self._advance(position, now)  # raises the clear error
            self._qubits[position] = None
            return q
        q = self._advance(position, now)
        self._qubits[position] = None
        return q

    def sync(self, now: float) -> None:
        """Bring every stored qubit up to date at ``now`` (e.g. before reading states)."""
        for i, q in enumerate(self._qubits):
            if q is not None:
                self._advance(i, now)

    def release(self, position: int) -> Qubit:
        """Remove and return the qubit at ``position`` *without* bringing it up to date — for a
        qubit that is about to be discarded, where decoherence no longer matters."""
        self._check_position(position)
        q = self._qubits[position]
        if q is None:
            raise KeyError(f"position {position} of memory {self.name!r} is empty")
        self._qubits[position] = None
        return q

    def clear(self, position: int) -> None:
        """Empty ``position`` without touching its qubit (e.g. after it was measured)."""
        if not (type(position) is int and 0 <= position < self.num_positions):
            self._check_position(position)  # raises the clear error
        self._qubits[position] = None
