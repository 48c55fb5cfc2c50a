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
from dataclasses import dataclass, field

from qstack.quantum import kernels
from qstack.quantum.core import Qubit, _group_of
from qstack.quantum.noise import GateNoise

__all__ = ["QuantumMemory", "MemoryFullError"]


class MemoryFullError(RuntimeError):
    """No free position is left in a quantum memory."""


@dataclass
class QuantumMemory:
    """A node's quantum memory (and processor noise) with ``num_positions`` positions.

    ``t1``/``t2`` in seconds (``inf`` = no decay; ``t2 ≤ 2·t1``), or ``depolarizing_time``
    instead; ``gate_noise`` is the processor's gate and readout noise.
    """

    name: str
    num_positions: int
    t1: float = math.inf
    t2: float = math.inf
    depolarizing_time: float | None = None
    gate_noise: GateNoise = field(default_factory=GateNoise)
    _qubits: list[Qubit | None] = field(init=False, repr=False)
    _since: list[float] = field(init=False, repr=False)
    _ideal: bool = field(init=False, repr=False)
    _rate1: float = field(init=False, repr=False)
    _rate2: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.num_positions, int) or self.num_positions < 1:
            raise ValueError(f"num_positions must be an integer >= 1, got {self.num_positions!r}")
        for fname in ("t1", "t2"):
            v = float(getattr(self, fname))
            if not v > 0:
                raise ValueError(f"{fname} must be > 0 s (inf for no decay), got {v}")
        if self.t2 > 2 * self.t1 * (1 + 1e-12):
            raise ValueError(f"t2 must be <= 2·t1, got t1={self.t1} s, t2={self.t2} s")
        if self.depolarizing_time is not None:
            if not float(self.depolarizing_time) > 0:
                raise ValueError(f"depolarizing_time must be > 0 s, got {self.depolarizing_time}")
            if math.isfinite(self.t1) or math.isfinite(self.t2):
                raise ValueError("give either t1/t2 or depolarizing_time, not both")
        self._qubits = [None] * self.num_positions
        self._since = [0.0] * self.num_positions
        self._ideal = self.ideal
        if self.depolarizing_time is not None:
            self._rate1, self._rate2 = 1.0 / self.depolarizing_time, 0.0
        else:
            self._rate1, self._rate2 = 1.0 / self.t1, 1.0 / self.t2

    @property
    def ideal(self) -> bool:
        """True when stored qubits do not decay."""
        return self.depolarizing_time is None and math.isinf(self.t1) and math.isinf(self.t2)

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
            g = _group_of(q)
            n = len(g.qubits)
            pos = g.qubits.index(q)
            if self.depolarizing_time is not None:
                g.dm = kernels.apply_depolarizing(g.dm, pos, n, -math.expm1(-dt * self._rate1))
            else:
                # T1/T2 (see qstack.quantum.noise.t1t2): γ = 1 − e^{−t/T1}, coherences × e^{−t/T2}.
                gamma = -math.expm1(-dt * self._rate1)
                g.dm = kernels.apply_amplitude_phase_damping(g.dm, pos, n, gamma, math.exp(-dt * self._rate2))
        self._since[position] = now
        return q

    def peek(self, position: int, now: float) -> Qubit:
        """The qubit at ``position``, brought up to date at ``now``; it stays stored."""
        self._check_position(position)
        return self._advance(position, now)

    def pop(self, position: int, now: float) -> Qubit:
        """Remove and return the qubit at ``position``, brought up to date at ``now``."""
        self._check_position(position)
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
        self._check_position(position)
        self._qubits[position] = None
