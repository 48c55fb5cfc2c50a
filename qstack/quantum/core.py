"""Qubit handles over groups of shared density matrices.

A :class:`Qubit` is a handle into a :class:`Group`: the smallest set of qubits that share a
density matrix. A gate on qubits of two groups merges them; measuring or discarding a qubit
traces it out, so groups stay small (a Bell pair is 4×4, a swap is briefly 16×16).

Groups store their density matrix as a numpy array (the hot paths work on it directly);
users see and hand in ``qutip.Qobj`` (:func:`state_of`, :func:`assign_state`). A qubit that was
measured, discarded or consumed cannot be used again: touching it raises
:class:`QubitDeadError` saying how it died.

Measurement outcomes are drawn from the ``numpy.random.Generator`` passed in — in a simulation,
the node's own stream — so runs are reproducible.

>>> import numpy as np
>>> from qstack.quantum import create_qubits, operate, measure, gates
>>> a, b = create_qubits(2)
>>> operate([a], gates.H); operate([a, b], gates.CNOT)
>>> rng = np.random.default_rng(1)
>>> measure(a, "Z", rng) == measure(b, "Z", rng)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

from . import kernels
from ._qutip import is_qobj
from ._qutip import qutip as _qutip
from .noise import Channel, GateNoise
from .states import InvalidStateError, to_density_matrix, validate_density_matrix

if TYPE_CHECKING:
    import qutip
    from qutip.core.dimensions import Dimensions

__all__ = [
    "Qubit",
    "Group",
    "QubitDeadError",
    "create_qubits",
    "adopt_state",
    "adopt_bell",
    "adopt_pair",
    "bell_form",
    "assign_state",
    "state_of",
    "operate",
    "apply_channel",
    "measure",
    "bell_state_measurement",
    "reset",
    "discard",
    "discard_group",
]

_ZERO = np.array([[1, 0], [0, 0]], dtype=complex)
_H = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
_SDG = np.diag([1, -1j]).astype(complex)
_CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
#: Basis-change unitaries that map the named basis onto the computational one.
_BASIS_CHANGE = {"Z": None, "X": _H, "Y": _H @ _SDG}


class QubitDeadError(RuntimeError):
    """A qubit handle was used after it was measured, discarded or consumed."""


class Group:
    """Qubits sharing one density matrix ``dm`` (numpy, qubit order = ``qubits``).

    A two-qubit group may instead hold its state as ``bell``, the four Bell coefficients
    ``(λ_Φ⁺, λ_Φ⁻, λ_Ψ⁺, λ_Ψ⁻)`` of a Bell-diagonal pair, a tuple of floats (on four numbers
    plain Python arithmetic beats numpy's per-call cost; the exact Bell-diagonal engine, see
    :mod:`qstack.quantum.bell_engine`): reading ``dm`` then builds the exact 4×4 density matrix
    once and the group carries on as a density matrix (lazy materialisation); assigning ``dm``
    drops the Bell form. ``bell`` is ``None`` for a density-matrix group.
    """

    __slots__ = ("_dm", "bell", "qubits")

    def __init__(self, dm: np.ndarray | None, qubits: list[Qubit], bell: Sequence[float] | None = None):
        self._dm = dm
        self.bell = bell
        self.qubits = qubits

    @property
    def dm(self) -> np.ndarray:
        """The group's density matrix (built from the Bell coefficients on first use)."""
        d = self._dm
        if d is None:
            d = self._dm = kernels.bell_to_dm(self.bell)  # type: ignore[arg-type]
            self.bell = None
        return d

    @dm.setter
    def dm(self, value: np.ndarray) -> None:
        self._dm = value
        self.bell = None

    def __repr__(self) -> str:
        return f"Group({[q.name for q in self.qubits]})"


class Qubit:
    """A handle to one qubit; starts in ``|0⟩`` in a group of its own.

    >>> q = Qubit("alice-0")
    >>> state_of([q]).full().real.tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    """

    __slots__ = ("group", "_name", "fate")

    def __init__(self, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"qubit name must be a str or None, got {type(name).__name__}")
        self._name = name
        self.fate: str | None = None
        self.group: Group | None = Group(_ZERO.copy(), [self])

    @property
    def name(self) -> str:
        """The qubit's name (``q<id>`` unless one was given)."""
        return self._name if self._name is not None else f"q{id(self):x}"

    @property
    def alive(self) -> bool:
        """False once the qubit was measured, discarded or consumed."""
        return self.fate is None

    def _kill(self, fate: str) -> None:
        self.fate = fate
        self.group = None

    def __repr__(self) -> str:
        return f"Qubit({self.name!r}{'' if self.fate is None else ', ' + self.fate})"


def _group_of(q: Qubit) -> Group:
    g = q.group
    if g is None:
        if not isinstance(q, Qubit):
            raise TypeError(f"expected a Qubit, got {type(q).__name__}")
        raise QubitDeadError(f"qubit {q.name!r} was {q.fate} and cannot be used again")
    return g


def _check_rng_and_noise(rng: object, noise: object) -> None:
    """Refuse a missing ``rng`` (``ValueError``) or one without a ``random()`` method like
    ``numpy.random.Generator``'s (``TypeError``), and a ``noise`` that is neither ``None`` nor a
    :class:`GateNoise` (``TypeError``)."""
    if not isinstance(rng, np.random.Generator):
        if rng is None:
            raise ValueError("rng is required: pass the node's numpy Generator for reproducible outcomes")
        if not callable(getattr(rng, "random", None)):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if noise is not None and not isinstance(noise, GateNoise):
        raise TypeError(f"noise must be a GateNoise or None, got {type(noise).__name__}")


def _check_distinct(qubits: Sequence[Qubit]) -> None:
    if len({id(q) for q in qubits}) != len(qubits):
        raise ValueError(f"qubits must be distinct, got {[q.name for q in qubits]}")


def _outer(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Kronecker product of two square matrices (≈5× faster than ``np.kron`` at 4×4)."""
    da, db = a.shape[0], b.shape[0]
    return np.multiply.outer(a, b).transpose(0, 2, 1, 3).reshape(da * db, da * db)


def merge(qubits: Sequence[Qubit]) -> tuple[Group, list[int]]:
    """Put ``qubits`` into one group; return it and the qubits' positions in it."""
    groups: list[Group] = []
    for q in qubits:
        g = _group_of(q)
        if not any(g is h for h in groups):
            groups.append(g)
    g0 = groups[0]
    for g in groups[1:]:
        g0.dm = _outer(g0.dm, g.dm)
        g0.qubits.extend(g.qubits)
        for q in g.qubits:
            q.group = g0
    index = g0.qubits.index
    return g0, [index(q) for q in qubits]


def _remove(group: Group, positions: list[int], outcome: int, fate: str) -> float:
    """Trace out ``positions`` after projecting them on ``outcome``; return its probability."""
    n = len(group.qubits)
    sub = kernels.project_and_remove(group.dm, positions, outcome, n)
    p = float(np.real(np.trace(sub)))
    for pos in positions:
        group.qubits[pos]._kill(fate)
    group.qubits = [q for i, q in enumerate(group.qubits) if i not in positions]
    if group.qubits:
        group.dm = sub / p if p > 0 else sub
    return p


def _as_array(op: qutip.Qobj | np.ndarray) -> np.ndarray:
    return op.full() if is_qobj(op) else np.asarray(op, dtype=complex)


def create_qubits(
    n: int = 1, state: qutip.Qobj | np.ndarray | None = None, names: Sequence[str] | None = None
) -> list[Qubit]:
    """``n`` fresh qubits, each in ``|0⟩``, or sharing ``state`` (validated) if given.

    >>> from qstack.quantum.states import werner
    >>> a, b = create_qubits(2, werner(0.9), names=["a", "b"])
    >>> a.group is b.group
    True
    """
    if isinstance(n, bool) or not isinstance(n, Integral):
        raise TypeError(f"n (the number of qubits) must be an int >= 1, got {n!r}")
    if n < 1:
        raise ValueError(f"n (the number of qubits) must be >= 1, got {n}")
    if names is not None and len(names) != n:
        raise ValueError(f"names must have n={n} entries, got {len(names)}")
    qubits = [Qubit(None if names is None else names[i]) for i in range(n)]
    if state is not None:
        assign_state(qubits, state)
    return qubits


def adopt_state(dm: np.ndarray, names: Sequence[str] | None = None) -> list[Qubit]:
    """New qubits sharing ``dm`` *without validation* — for states qstack computed itself
    (heralded pairs), where validation would cost more than the physics. Users call
    :func:`create_qubits`, which validates.

    >>> a, b = adopt_state(np.eye(4, dtype=complex) / 4)
    >>> a.group is b.group
    True
    """
    n = int(dm.shape[0]).bit_length() - 1
    qubits = [Qubit.__new__(Qubit) for _ in range(n)]
    group = Group(dm, qubits)
    for i, q in enumerate(qubits):
        q._name = None if names is None else names[i]
        q.fate = None
        q.group = group
    return qubits


def adopt_bell(coeffs: Sequence[float], names: Sequence[str] | None = None) -> list[Qubit]:
    """Two new qubits sharing the Bell-diagonal state with coefficients ``coeffs``
    (``λ_Φ⁺, λ_Φ⁻, λ_Ψ⁺, λ_Ψ⁻``, four floats, *not validated*; kept as a tuple), held as those four numbers
    (the Bell-diagonal engine) until an operation outside the family needs the density matrix.

    >>> a, b = adopt_bell(np.array([0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3]))
    >>> a.group.bell is not None, round(float(state_of([a, b]).full()[0, 3].real), 12)
    (True, 0.433333333333)
    """
    qubits = [Qubit.__new__(Qubit), Qubit.__new__(Qubit)]
    group = Group(None, list(qubits), tuple(float(c) for c in coeffs))
    for i, q in enumerate(qubits):
        q._name = None if names is None else names[i]
        q.fate = None
        q.group = group
    return qubits


#: exactly Bell-diagonal within this (largest entry off the Bell form): rounding only
BELL_TOLERANCE = 1e-13
_BELL_FORMS: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}


def bell_form(rho: np.ndarray) -> np.ndarray | None:
    """The Bell coefficients of the 4×4 ``rho`` if it is Bell-diagonal (to
    :data:`BELL_TOLERANCE`), else None; remembered for read-only arrays (a link's cached
    heralded states), so a run checks each state once.

    >>> from qstack.quantum.states import werner
    >>> bell_form(werner(0.85).full()).round(4).tolist(), bell_form(np.diag([1, 0, 0, 0]).astype(complex))
    ([0.85, 0.05, 0.05, 0.05], None)
    """
    if rho.shape != (4, 4):
        return None
    hit = _BELL_FORMS.get(id(rho))
    if hit is not None and hit[0] is rho:
        return hit[1]
    lam, residual = kernels.bell_from_dm(rho)
    out = lam if residual <= BELL_TOLERANCE else None
    if not rho.flags.writeable:
        if len(_BELL_FORMS) > 4096:
            _BELL_FORMS.clear()
        _BELL_FORMS[id(rho)] = (rho, out)
    return out


def adopt_pair(rho: np.ndarray, bell: bool = True) -> list[Qubit]:
    """Two new qubits sharing the 4×4 ``rho`` (not validated, as :func:`adopt_state`): in the
    Bell-diagonal representation when ``bell`` and ``rho`` is Bell-diagonal, else as a copy of
    the density matrix. Either way every result of the run is the same (to rounding).

    >>> from qstack.quantum.states import werner
    >>> a, b = adopt_pair(werner(0.9).full()); a.group.bell is not None
    True
    """
    if bell:
        hit = _BELL_TUPLES.get(id(rho))
        if hit is not None and hit[0] is rho:
            lam = hit[1]
        else:
            arr = bell_form(rho)
            lam = None if arr is None else tuple(float(x) for x in arr)
            if not rho.flags.writeable:  # a link's cached heralded state: remember its Bell form
                if len(_BELL_TUPLES) > 4096:
                    _BELL_TUPLES.clear()
                _BELL_TUPLES[id(rho)] = (rho, lam)
        if lam is not None:  # adopt_bell, inlined (one per heralded pair); a tuple needs no copy
            qa, qb = Qubit.__new__(Qubit), Qubit.__new__(Qubit)
            group = Group(None, [qa, qb], lam)
            qa._name = qb._name = qa.fate = qb.fate = None
            qa.group = qb.group = group
            return [qa, qb]
    return adopt_state(rho.copy())


#: the Bell form of read-only 4×4 states as a tuple of floats (None: not Bell-diagonal), by id
_BELL_TUPLES: dict[int, tuple[np.ndarray, tuple[float, ...] | None]] = {}


def assign_state(qubits: Sequence[Qubit], state: qutip.Qobj | np.ndarray) -> None:
    """Replace the state of ``qubits`` with ``state`` (a ket or density matrix, validated).

    The qubits are first traced out of the groups they were in (other qubits there keep their
    reduced state); nothing changes if ``state`` is refused.

    >>> q, = create_qubits(1)
    >>> assign_state([q], np.eye(2))
    Traceback (most recent call last):
    ...
    qstack.quantum.states.InvalidStateError: state has trace 2 (must be 1 within 1e-09; off by 1)
    """
    _check_distinct(qubits)
    for q in qubits:
        _group_of(q)
    if is_qobj(state):
        rho = to_density_matrix(state).full()
    else:
        rho = np.asarray(state)
        if rho.dtype == bool or not np.issubdtype(rho.dtype, np.number):
            raise TypeError(f"state must be a qutip Qobj or a numeric array, got {type(state).__name__} "
                            f"of dtype {rho.dtype}")
        rho = rho.astype(complex, copy=False)
    if rho.ndim == 1 or (rho.ndim == 2 and rho.shape[1] == 1):
        v = rho.reshape(-1)
        rho = np.outer(v, v.conj())
        if not abs(np.trace(rho) - 1) <= 1e-9:  # NaN fails too
            raise InvalidStateError(f"state ket has norm² {np.trace(rho).real:.12g} (must be 1)")
    if rho.shape != (2 ** len(qubits), 2 ** len(qubits)):
        raise InvalidStateError(
            f"state has shape {rho.shape}, expected {(2 ** len(qubits),) * 2} for {len(qubits)} qubits"
        )
    validate_density_matrix(rho)
    for q in qubits:
        _detach(q)
    group = Group(np.array(rho, dtype=complex), list(qubits))
    for q in qubits:
        q.group = group


def _detach(q: Qubit) -> None:
    """Trace ``q`` out of its group, leaving it alone in a fresh group (state unspecified)."""
    g = _group_of(q)
    if len(g.qubits) == 1:
        return
    n = len(g.qubits)
    pos = g.qubits.index(q)
    keep = [i for i in range(n) if i != pos]
    g.dm = kernels.partial_trace(g.dm, keep, n)
    g.qubits.pop(pos)
    q.group = Group(_ZERO.copy(), [q])


@lru_cache(maxsize=64)
def _dims(n: int) -> Dimensions:
    from qutip.core.dimensions import Dimensions

    return Dimensions([[2] * n, [2] * n])


def reduced_dm(qubits: Sequence[Qubit]) -> np.ndarray:
    """Reduced density matrix of ``qubits`` in the given order, as numpy (no copy guarantees)."""
    g = qubits[0].group
    if g is not None and len(qubits) == len(g.qubits) == 2:
        q0, q1 = g.qubits
        if g.bell is not None and ((q0 is qubits[0] and q1 is qubits[1]) or (q1 is qubits[0] and q0 is qubits[1])):
            return kernels.bell_to_dm(g.bell)  # a look, not an operation: the group stays Bell-diagonal
        if q0 is qubits[0] and q1 is qubits[1]:
            return g.dm
        if q1 is qubits[0] and q0 is qubits[1]:
            return kernels.permute_qubits(g.dm, (1, 0))
    _check_distinct(qubits)
    groups: list[Group] = []
    for q in qubits:
        g = _group_of(q)
        if not any(g is h for h in groups):
            groups.append(g)
    parts = []
    order: list[Qubit] = []
    for g in groups:
        mine = [q for q in g.qubits if any(q is x for x in qubits)]
        n = len(g.qubits)
        parts.append(kernels.partial_trace(g.dm, [g.qubits.index(q) for q in mine], n))
        order.extend(mine)
    rho = parts[0]
    for p in parts[1:]:
        rho = _outer(rho, p)
    perm = [next(i for i, o in enumerate(order) if o is q) for q in qubits]
    return kernels.permute_qubits(rho, perm)


def state_of(qubits: Sequence[Qubit]) -> qutip.Qobj:
    """The reduced density matrix of ``qubits`` (in that order) as a ``Qobj``.

    >>> a, b = create_qubits(2)
    >>> state_of([a, b]).dims
    [[2, 2], [2, 2]]
    """
    rho = reduced_dm(qubits)
    return _qutip().Qobj(np.array(rho), dims=_dims(len(qubits)), copy=False)


def _depolarize_after_gate(group: Group, positions: list[int], noise: GateNoise | None) -> None:
    if noise is None or len(positions) > 2:
        return
    group.dm = noise.after_gate(group.dm, positions, len(group.qubits))


def operate(qubits: Sequence[Qubit], op: qutip.Qobj | np.ndarray, noise: GateNoise | None = None) -> None:
    """Apply the unitary ``op`` to ``qubits`` (first qubit = most significant), then gate noise.

    >>> from qstack.quantum import gates
    >>> q, = create_qubits(1)
    >>> operate([q], gates.X)
    >>> state_of([q]).full().real.tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    _check_distinct(qubits)
    u = _as_array(op)
    k = len(qubits)
    if u.shape != (2**k, 2**k):
        raise ValueError(f"operator op has shape {u.shape}, expected {(2**k, 2**k)} for {k} qubits")
    if not np.max(np.abs(u.conj().T @ u - np.eye(2**k))) <= 1e-9:  # NaN or inf entries fail too
        if not np.all(np.isfinite(u)):
            raise ValueError("operator op has non-finite entries (NaN or inf)")
        raise ValueError("operator op is not unitary (max |U†U − I| > 1e-9); use apply_channel for non-unitary maps")
    if noise is not None and not isinstance(noise, GateNoise):
        raise TypeError(f"noise must be a GateNoise or None, got {type(noise).__name__}")
    if k > 2 and noise is not None and not noise.is_ideal and (
            type(noise) is not GateNoise or noise.single_qubit_depolarizing or noise.two_qubit_depolarizing):
        raise ValueError(f"gate noise is defined for 1- and 2-qubit gates, got a {k}-qubit gate")
    group, pos = merge(qubits)
    group.dm = kernels.apply_unitary(group.dm, u, pos, len(group.qubits))
    _depolarize_after_gate(group, pos, noise)


def apply_channel(qubits: Sequence[Qubit], channel: Channel) -> None:
    """Apply a noise channel (:mod:`qstack.quantum.noise`) to ``qubits``.

    >>> from qstack.quantum.noise import amplitude_damping
    >>> q, = create_qubits(1)
    >>> apply_channel([q], amplitude_damping(0.5))
    """
    _check_distinct(qubits)
    if not isinstance(channel, Channel):
        raise TypeError(f"channel must be a qstack.quantum.noise.Channel, got {type(channel).__name__}")
    if channel.num_qubits != len(qubits):
        raise ValueError(f"{channel.name} acts on {channel.num_qubits} qubit(s), got {len(qubits)}")
    group, pos = merge(qubits)
    group.dm = kernels.apply_superop(group.dm, channel.superop, pos, len(group.qubits))


def _basis_unitary(basis: str | Sequence[qutip.Qobj], k: int) -> np.ndarray | None:
    if isinstance(basis, str):
        key = basis.upper()
        if key not in _BASIS_CHANGE:
            raise ValueError(f"basis must be 'Z', 'X', 'Y' or a list of orthonormal kets, got {basis!r}")
        change = _BASIS_CHANGE[key]
        if change is None or k == 1:
            return change
        u = change
        for _ in range(k - 1):
            u = np.kron(u, change)
        return u
    kets = [_as_array(b).reshape(-1) for b in basis]
    if len(kets) != 2**k or any(v.shape != (2**k,) for v in kets):
        raise ValueError(f"a basis for {k} qubit(s) needs {2**k} kets of dimension {2**k}")
    u = np.array([v.conj() for v in kets])
    if not np.max(np.abs(u @ u.conj().T - np.eye(2**k))) <= 1e-9:  # NaN or inf entries fail too
        if not np.all(np.isfinite(u)):
            raise ValueError("basis kets have non-finite entries (NaN or inf)")
        raise ValueError("basis kets must be orthonormal (max |⟨b_i|b_j⟩ − δ_ij| > 1e-9)")
    return u


def _sample(probabilities: Sequence[float], rng: np.random.Generator) -> int:
    """Draw an outcome index with the given (unnormalised) probabilities.

    Probabilities below ``1e-12`` of the total are rounding noise and never drawn, so an
    impossible branch is never divided by its tiny trace.
    """
    probs = probabilities if isinstance(probabilities, list) else [float(p) for p in probabilities]
    total = sum(probs)
    floor = 1e-12 * total
    u = rng.random() * total
    last = 0
    for m, p in enumerate(probs):
        if p <= floor:
            continue
        last = m
        if u < p:
            return m
        u -= p
    return last


def _flip_bits(outcome: int, k: int, error: float, rng: np.random.Generator) -> int:
    if error:
        for i in range(k):
            if rng.random() < error:
                outcome ^= 1 << i
    return outcome


def measure(
    qubits: Qubit | Sequence[Qubit],
    basis: str | Sequence[qutip.Qobj] = "Z",
    rng: np.random.Generator | None = None,
    noise: GateNoise | None = None,
) -> int:
    """Projectively measure ``qubits`` in ``basis`` and trace them out; return the outcome.

    ``basis`` is ``"Z"``, ``"X"``, ``"Y"`` (per qubit) or a list of ``2**k`` orthonormal kets;
    outcome ``m`` is the index of the ket (for Z/X/Y: the bits, first qubit most significant;
    0 ↔ ``|0⟩``, ``|+⟩``, ``|+i⟩``). ``noise.readout_error`` flips each reported bit.
    The measured qubits cannot be used again.

    >>> q, = create_qubits(1)
    >>> measure(q, "Z", np.random.default_rng(0))
    0
    """
    _check_rng_and_noise(rng, noise)
    qs = [qubits] if isinstance(qubits, Qubit) else list(qubits)
    _check_distinct(qs)
    k = len(qs)
    u = _basis_unitary(basis, k)
    group, pos = merge(qs)
    n = len(group.qubits)
    if u is not None:
        group.dm = kernels.apply_unitary(group.dm, u, pos, n)
    probs = kernels.measure_probabilities(group.dm, pos, n)
    outcome = _sample(probs, rng)
    _remove(group, pos, outcome, "measured")
    return _flip_bits(outcome, k, noise.readout_error if noise else 0.0, rng)


def bell_state_measurement(
    q1: Qubit, q2: Qubit, rng: np.random.Generator, noise: GateNoise | None = None
) -> int:
    """Bell-state measurement by the circuit CNOT(q1→q2), H(q1), Z-measure both.

    Returns the Bell index (0 Φ⁺, 1 Φ⁻, 2 Ψ⁺, 3 Ψ⁻) of the reported bits; gate noise follows
    each gate and ``readout_error`` flips each of the two bits. Both qubits are consumed.

    >>> from qstack.quantum.states import bell_state
    >>> a, b = create_qubits(2, bell_state("psi-"))
    >>> bell_state_measurement(a, b, np.random.default_rng(0))
    3
    """
    _check_distinct([q1, q2])
    operate([q1, q2], _CNOT, noise)
    operate([q1], _H, noise)
    m = measure([q1, q2], "Z", rng, noise)  # bits (m1, m2) → m = 2·m1 + m2
    return _BITS_TO_BELL[m]


#: After CNOT·H: Φ⁺→|00⟩, Φ⁻→|10⟩, Ψ⁺→|01⟩, Ψ⁻→|11⟩; index by 2·m1 + m2.
_BITS_TO_BELL = (0, 2, 1, 3)


def reset(qubit: Qubit) -> None:
    """Trace ``qubit`` out of its group and prepare it in ``|0⟩``.

    >>> q, = create_qubits(1)
    >>> reset(q)
    """
    _detach(qubit)
    _group_of(qubit).dm = _ZERO.copy()


def discard_group(qubit: Qubit) -> None:
    """Discard ``qubit`` and every qubit sharing its group at once — no partial trace needed
    (e.g. an application consuming both halves of a delivered pair).

    >>> a, b = create_qubits(2)
    >>> operate([a, b], np.eye(4)); discard_group(a); a.alive, b.alive
    (False, False)
    """
    for q in _group_of(qubit).qubits:
        q._kill("discarded")


def discard(qubit: Qubit) -> None:
    """Trace ``qubit`` out of its group; the handle cannot be used again.

    >>> q, = create_qubits(1)
    >>> discard(q); q.alive
    False
    """
    g = _group_of(qubit)
    n = len(g.qubits)
    if n > 1:  # trace it out of its group (what _detach does, without a fresh group for a dead qubit)
        pos = g.qubits.index(qubit)
        lam = g.bell
        if lam is not None:  # half of a Bell-diagonal pair: the other half is left in (Σλ/2)·I,
            # entry for entry what partial_trace of bell_to_dm gives, without building the 4×4
            c0, c1, c2, c3 = (float(c) for c in lam)
            t = 0.5 * (c0 + c1) + 0.5 * (c2 + c3)
            g.dm = np.array([[t, 0.0], [0.0, t]], dtype=complex)
        else:
            g.dm = kernels.partial_trace(g.dm, [i for i in range(n) if i != pos], n)
        g.qubits.pop(pos)
    qubit._kill("discarded")
