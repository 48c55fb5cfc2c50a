"""Protocol-level operations on qubits: entanglement swapping, purification, teleportation.

* Entanglement swapping (Żukowski et al. 1993; noise model of Dür, Briegel, Cirac & Zoller,
  PRA 59, 169 (1999)): a Bell-state measurement on the inner qubits ``b, c`` of pairs
  ``(a, b)`` and ``(c, d)`` leaves ``(a, d)`` entangled; the Pauli correction for the outcome
  (``I, Z, X, ZX`` for Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) brings it to Φ⁺.
* Purification: BBPSSW (Bennett et al., PRL 76, 722 (1996)) twirls both input pairs to Werner
  form, then bilateral CNOT and a Z measurement of the sacrificed pair; DEJMPS (Deutsch et al.,
  PRL 77, 2818 (1996)) rotates Alice's qubits by ``Rx(π/2)`` and Bob's by ``Rx(−π/2)`` instead of
  twirling. Success when both sides' outcomes agree.
* Teleportation (Bennett et al. 1993): a Bell-state measurement of the source and the local
  half of a Φ⁺ pair, then the Pauli correction on the remote half.

Fast path: when both pairs of a swap are 2-qubit groups, the noisy circuit — gates, gate noise,
measurement and corrections — is a set of precomputed linear maps from ``ρ_ab ⊗ ρ_cd`` to each
true outcome's state with each reported outcome's correction, built *from the same kernels as
the circuit path* and checked against plain qutip in the tests; ~10 µs instead of ~150 µs. Both
paths sample the same way, from the same random draws: the true outcome, then each reported bit's
readout flip, so a swap gives the same outcome and state whichever path runs (tested outcome by
outcome). :func:`swap_map_for` gives the readout-averaged maps per *reported* outcome (the
ensemble a reader of the outcome alone sees), for theory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from numbers import Integral, Real
from typing import Any

import numpy as np

from . import kernels
from .core import (
    _BITS_TO_BELL,
    _CNOT,
    _H,
    Qubit,
    _check_distinct,
    _check_rng_and_noise,
    _flip_bits,
    _group_of,
    _sample,
    apply_channel,
    bell_state_measurement,
    discard,
    measure,
    operate,
)
from .gates import _rotation_matrix
from .noise import GateNoise, twirl_werner

__all__ = [
    "BellMeasurement",
    "CORRECTIONS",
    "LINEAR_OPTICS_BSM",
    "PURIFICATION_PROTOCOLS",
    "entanglement_swap",
    "heralded_swap",
    "partner",
    "purification_half",
    "purify",
    "swap_inner",
    "swap_map_for",
    "teleport",
    "twirl",
]

_X = np.array([[0, 1], [1, 0]], dtype=complex)
_Z = np.array([[1, 0], [0, -1]], dtype=complex)
#: Pauli correction on the far qubit for Bell outcome Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ (brings the pair to Φ⁺).
CORRECTIONS: tuple[np.ndarray, ...] = (np.eye(2, dtype=complex), _Z, _X, _Z @ _X)
PURIFICATION_PROTOCOLS = ("bbpssw", "dejmps")
_IDEAL = GateNoise()


def _true_branches(rho: np.ndarray, noise: GateNoise) -> list[np.ndarray]:
    """The four unnormalised states of ``(a, d)`` per *true* bit outcome ``m = 2·m1 + m2`` of the
    Bell-state measurement circuit on a 4-qubit ``rho`` (gate noise applied, no readout)."""
    n = 4
    rho = kernels.apply_unitary(rho, _CNOT, [1, 2], n)
    rho = noise.after_gate(rho, [1, 2], n)
    rho = kernels.apply_unitary(rho, _H, [1], n)
    rho = noise.after_gate(rho, [1], n)
    return [kernels.project_and_remove(rho, [1, 2], m, n) for m in range(4)]


def _swap_branches(rho: np.ndarray, noise: GateNoise, correct: bool = True) -> np.ndarray:
    """All four observed-outcome branches of a swap on a 4-qubit ``rho`` (order a, b, c, d).

    Returns ``out[k]``: the unnormalised state of ``(a, d)`` — Pauli-corrected if ``correct`` —
    when the reported Bell outcome is ``k`` (its trace is the probability of reporting ``k``).
    Linear in ``rho``.
    """
    true = _true_branches(rho, noise)
    e = noise.readout_error
    out = np.zeros((4, 4, 4), dtype=complex)
    for m_obs in range(4):
        acc = np.zeros((4, 4), dtype=complex)
        for m_true in range(4):
            flips = bin(m_obs ^ m_true).count("1")
            w = (e**flips) * ((1 - e) ** (2 - flips))
            if w:
                acc += w * true[m_true]
        k = _BITS_TO_BELL[m_obs]
        out[k] = kernels.apply_unitary(acc, CORRECTIONS[k], [1], 2) if correct else acc
    return out



def _as_linear_map(fn: Any, rows: int) -> np.ndarray:
    """The matrix (``rows`` × 256) of a map ``fn`` that is linear in ``ρ_ab ⊗ ρ_cd``, read on
    ``v = (ρ_ab ⊗ ρ_cd)[i,j,k,l]`` flattened: column ``c`` is ``fn`` of the unit input ``c``,
    given as the 16×16 four-qubit ρ (order a, b, c, d), with its output flattened."""
    m = np.zeros((rows, 256), dtype=complex)
    unit = np.zeros((4, 4, 4, 4), dtype=complex)
    flat = unit.reshape(-1)
    for col in range(256):
        flat[:] = 0
        flat[col] = 1
        m[:, col] = np.asarray(fn(unit.transpose(0, 2, 1, 3).reshape(16, 16))).reshape(-1)
    return m


@lru_cache(maxsize=32)
def _swap_map(noise: GateNoise, correct: bool = True) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The swap as linear maps on ``v = (ρ_ab ⊗ ρ_cd)[i,j,k,l]`` flattened to 256 entries.

    Returns ``(P, (M_0, .., M_3))``: ``P @ v`` (4×256) gives the four reported-outcome
    probabilities, ``M_k @ v`` (16×256) outcome ``k``'s corrected, unnormalised 4×4 state of
    ``(a, d)`` (row-major; Pauli-corrected if ``correct``). Sampling first and computing one
    branch is ~2× cheaper than computing all four.
    """
    m = _as_linear_map(lambda rho16: _swap_branches(rho16, noise, correct), 64)
    branches = tuple(np.ascontiguousarray(m[16 * k : 16 * k + 16]) for k in range(4))
    probs = np.ascontiguousarray(m.reshape(4, 16, 256)[:, ::5, :].sum(axis=1))  # traces
    return probs, branches


@lru_cache(maxsize=32)
def _sampled_swap_map(noise: GateNoise, correct: bool) -> tuple[np.ndarray, tuple[tuple[np.ndarray, ...], ...]]:
    """The swap with sampled outcomes, as linear maps on ``v`` (see :func:`_swap_map`).

    Returns ``(P, B)``: ``P @ v`` (4×256) are the probabilities of the true bit outcomes
    ``m = 2·m1 + m2``, in the order :func:`qstack.quantum.core.measure` samples them, and
    ``B[m][k] @ v`` (16×256) the unnormalised state of ``(a, d)`` after true outcome ``m``, with the
    Pauli correction of the *reported* Bell outcome ``k`` when ``correct`` (a readout error makes
    them differ). This is what hardware does, and what the circuit path does.
    """
    true = _as_linear_map(lambda rho16: np.array(_true_branches(rho16, noise)), 64).reshape(4, 16, 256)
    probs = np.ascontiguousarray(true[:, ::5, :].sum(axis=1))  # traces
    blocks = []
    for m in range(4):
        row = []
        for k in range(4):
            if not correct:
                row.append(np.ascontiguousarray(true[m]))
                continue
            # ρ → C ρ C† on qubit d of every column, as a 16×16 map on the row-major 4×4 state
            c = np.kron(np.eye(2), CORRECTIONS[k])
            row.append(np.ascontiguousarray(np.kron(c, c.conj()) @ true[m]))
        blocks.append(tuple(row))
    return probs, tuple(blocks)


@lru_cache(maxsize=32)
def _bell_swap_map(noise: GateNoise, correct: bool) -> tuple[np.ndarray, tuple[tuple[np.ndarray, ...], ...]] | None:
    """The sampled swap of two Bell-diagonal pairs as maps on the 16 products ``λ_i μ_j``
    (``v[4i + j]``; ``λ`` of ``(a, b)``, ``μ`` of ``(c, d)``), or None when ``noise`` does not
    keep pairs Bell-diagonal.

    Returns ``(P, T)``: ``P @ v`` (4) are the probabilities of the true bit outcomes ``m`` and
    ``T[m][k] @ v`` (4) the unnormalised Bell coefficients of ``(a, d)`` after true outcome ``m``
    and reported Bell outcome ``k`` — read off the density-matrix maps of
    :func:`_sampled_swap_map` on the 16 Bell-state products, so both engines run the same
    circuit. A map whose output is not Bell-diagonal (to 1e-12) means the noise leaves the
    family: None, and the swap runs on density matrices.
    """
    if not noise.keeps_bell_diagonal:
        return None
    p_map, blocks = _sampled_swap_map(noise, correct)
    basis = [kernels.bell_to_dm(np.eye(4)[i]) for i in range(4)]
    probs = np.zeros((4, 16))
    maps = np.zeros((4, 4, 4, 16))
    for i in range(4):
        for j in range(4):
            v = (basis[i].reshape(16, 1) * basis[j].reshape(16)).reshape(256)
            probs[:, 4 * i + j] = np.dot(p_map, v).real
            for m in range(4):
                for k in range(4):
                    lam, residual = kernels.bell_from_dm(np.dot(blocks[m][k], v).reshape(4, 4))
                    if residual > 1e-12:
                        return None
                    maps[m, k, :, 4 * i + j] = lam
    return probs, tuple(tuple(np.ascontiguousarray(maps[m, k]) for k in range(4)) for m in range(4))


def _linear_form(row: np.ndarray, names: list[str]) -> str:
    """Python source of ``Σ_j row[j]·names[j]`` over the nonzero entries, terms of equal
    coefficient summed first (an ideal swap's maps have one coefficient, ¼, throughout), each
    coefficient written by ``repr``, which round-trips the float exactly."""
    groups: dict[float, list[str]] = {}
    for j, c in enumerate(row.tolist()):
        if c != 0.0:
            groups.setdefault(c, []).append(names[j])
    terms = []
    for c, group in groups.items():
        total = " + ".join(group)
        terms.append(total if c == 1.0 else f"{c!r} * {total}" if len(group) == 1 else f"{c!r} * ({total})")
    return " + ".join(terms) if terms else "0.0"


def _compile_bell_swap(p_map: np.ndarray, blocks: tuple[tuple[np.ndarray, ...], ...]) -> tuple[Any, tuple]:
    """The maps of :func:`_bell_swap_map` as straight-line Python (no numpy calls on four numbers).

    Returns ``(probs, lams)``: ``probs(λ, μ)`` gives ``(v, [P_0..P_3])`` — the 16 products
    ``v[4i + j] = λ_i μ_j`` and the true-outcome probabilities ``P @ v`` — and
    ``lams[m][k](v, s)`` the Bell coefficients ``s · (T[m][k] @ v)`` as a tuple. Only nonzero
    map entries appear (an ideal swap's maps are sparse: 16 terms in ``P``, 4 per branch), so
    the sums are the matrix products in index order, equal to ``np.dot`` to rounding.
    """
    names = [f"v{j}" for j in range(16)]
    used = sorted({j for j in range(16) if np.any(p_map[:, j] != 0.0)
                   or any(np.any(t[:, j] != 0.0) for row in blocks for t in row)})
    lines = ["def probs(l, u):", "    l0, l1, l2, l3 = l", "    u0, u1, u2, u3 = u"]
    lines += [f"    v{j} = l{j // 4} * u{j % 4}" for j in used]
    vec = ", ".join(names[j] if j in used else "0.0" for j in range(16))
    forms = [_linear_form(p_map[m], names) for m in range(4)]
    if len(set(forms)) == 1:  # e.g. every outcome equally likely (an ideal swap of Bell-diagonal pairs)
        lines += [f"    p = {forms[0]}", f"    return ({vec}), [p, p, p, p]"]
    else:
        lines.append(f"    return ({vec}), [{', '.join(forms)}]")
    fns = []
    for m in range(4):
        for k in range(4):
            t = blocks[m][k]
            body = ", ".join(f"s * ({_linear_form(t[r], names)})" for r in range(4))
            fns.append(f"def lam_{m}_{k}(v, s):\n    {', '.join(names)} = v\n    return ({body})")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines) + "\n\n" + "\n\n".join(fns), "<qstack bell swap>", "exec"), namespace)  # noqa: S102
    lams = tuple(tuple(namespace[f"lam_{m}_{k}"] for k in range(4)) for m in range(4))
    return namespace["probs"], lams


#: compiled Bell-swap kernels by ``(id(noise), correct)``: ``(noise, kernel or None)`` — looked
#: up by identity (a node's gate noise is one object; hashing a frozen dataclass per swap costs more)
_BELL_KERNELS: dict[tuple[int, bool], tuple[GateNoise, Any]] = {}
#: the compiled kernel of each (cached) map, by the map's identity: compiled once per process
_COMPILED: dict[int, tuple[Any, Any]] = {}


def _bell_swap_kernel(noise: GateNoise, correct: bool) -> Any:
    """:func:`_compile_bell_swap` of :func:`_bell_swap_map` for ``noise`` (None: it leaves the family)."""
    key = (id(noise), correct)
    hit = _BELL_KERNELS.get(key)
    if hit is not None and hit[0] is noise:
        return hit[1]
    maps = _bell_swap_map(noise, correct)  # cached by value: equal noise models share the maps
    kernel = None
    if maps is not None:
        compiled = _COMPILED.get(id(maps))
        if compiled is None or compiled[0] is not maps:
            if len(_COMPILED) > 64:
                _COMPILED.clear()
            compiled = _COMPILED[id(maps)] = (maps, _compile_bell_swap(*maps))
        kernel = compiled[1]
    if len(_BELL_KERNELS) > 256:
        _BELL_KERNELS.clear()
    _BELL_KERNELS[key] = (noise, kernel)
    return kernel


def _bell_swap(a: Qubit, b: Qubit, c: Qubit, d: Qubit, rng: np.random.Generator, noise: GateNoise | None,
               correct: bool) -> int | None:
    """The swap on the Bell coefficients of ``(a, b)`` and ``(c, d)`` (both Bell-diagonal
    pair groups): the same random draws as the density-matrix fast path (the true outcome, then
    each reported bit's readout flip) and the same states to rounding. None if ``noise`` leaves
    the family (nothing done: the caller takes the density-matrix path)."""
    kernel = _bell_swap_kernel(noise if noise is not None else _IDEAL, correct)
    if kernel is None:
        return None
    probs_of, lams = kernel
    g = a.group
    bell = g.bell  # type: ignore[union-attr]
    other = c.group.bell  # type: ignore[union-attr]
    v, probs = probs_of(bell if bell.__class__ is tuple else tuple(bell),
                        other if other.__class__ is tuple else tuple(other))
    m = _sample(probs, rng)
    k = _BITS_TO_BELL[_flip_bits(m, 2, noise.readout_error, rng) if noise is not None else m]
    g.bell = lams[m][k](v, 1.0 / probs[m])  # type: ignore[union-attr]
    g.qubits = [a, d]  # type: ignore[union-attr]
    d.group = g
    b._kill("measured")
    c._kill("measured")
    return k


#: the noiseless swap's maps by ``correct``, filled on first use (building one costs ~25 ms, so
#: not at import: a run that never swaps, or only with ``correct=False``, never builds the others)
_IDEAL_SWAP_MAPS: dict[bool, tuple[np.ndarray, tuple[tuple[np.ndarray, ...], ...]]] = {}


def _pair_dm(x: Qubit, y: Qubit) -> np.ndarray | None:
    """The 4×4 state of ``(x, y)`` if exactly they form a 2-qubit group, else None."""
    g = x.group
    if g is None or y.group is not g or len(g.qubits) != 2:
        return None
    q0, q1 = g.qubits
    if q0 is x and q1 is y:
        return g.dm
    if q0 is y and q1 is x:
        return kernels.permute_qubits(g.dm, (1, 0))
    return None


def entanglement_swap(
    a: Qubit,
    b: Qubit,
    c: Qubit,
    d: Qubit,
    rng: np.random.Generator,
    noise: GateNoise | None = None,
    correct: bool = True,
) -> int:
    """Swap pairs ``(a, b)`` and ``(c, d)`` into ``(a, d)`` by a Bell-state measurement on ``b, c``.

    Returns the reported Bell outcome (0 Φ⁺, 1 Φ⁻, 2 Ψ⁺, 3 Ψ⁻). With ``correct=True`` the Pauli
    correction is applied to ``d`` so an ideal swap of Φ⁺ pairs leaves ``(a, d)`` in Φ⁺;
    with ``correct=False`` the caller tracks the Pauli frame. ``b`` and ``c`` are consumed.

    >>> from qstack.quantum import create_qubits, state_of, fidelity, werner, bell_state
    >>> a, b = create_qubits(2, werner(0.9)); c, d = create_qubits(2, werner(0.9))
    >>> _ = entanglement_swap(a, b, c, d, np.random.default_rng(7))
    >>> round(fidelity(state_of([a, d]), bell_state("phi+")), 12)  # w = 0.8667² → F = 0.8133
    0.813333333333
    """
    _check_rng_and_noise(rng, noise)
    ga, gc = a.group, c.group
    if (ga is not None and gc is not None and ga.bell is not None and gc.bell is not None and ga is not gc
            and b.group is ga and d.group is gc and a is not b and c is not d):
        k = _bell_swap(a, b, c, d, rng, noise, correct)
        if k is not None:
            return k
    ab = _pair_dm(a, b)
    cd = _pair_dm(c, d)
    if ab is not None and cd is not None and a.group is not c.group:
        # Fast path: one matrix-vector product gives all four corrected branches and their
        # probabilities; the checks above already imply the four qubits are distinct.
        # Sampled outcomes, as on the circuit path and in hardware: the true bits m (same draw
        # as measure()), then each reported bit flipped with the readout error (same draws).
        if noise is None:
            maps = _IDEAL_SWAP_MAPS.get(correct)
            if maps is None:
                maps = _IDEAL_SWAP_MAPS[correct] = _sampled_swap_map(_IDEAL, correct)
            p_map, blocks = maps
        else:
            p_map, blocks = _sampled_swap_map(noise, correct)
        v = ab.reshape(16, 1) * cd.reshape(16)  # the 16×16 outer product, read as 256 entries below
        v.shape = (256,)
        probs = np.dot(p_map, v).real.tolist()
        m = _sample(probs, rng)
        k = _BITS_TO_BELL[_flip_bits(m, 2, noise.readout_error, rng) if noise is not None else m]
        g = a.group
        dm = np.dot(blocks[m][k], v)
        dm *= 1.0 / probs[m]
        dm.shape = (4, 4)
        g.dm = dm  # type: ignore[union-attr]
        g.qubits = [a, d]  # type: ignore[union-attr]
        d.group = g
        b._kill("measured")
        c._kill("measured")
        return k
    _check_distinct([a, b, c, d])
    k = bell_state_measurement(b, c, rng, noise)
    if correct and k:
        operate([d], CORRECTIONS[k])
    return k


def partner(q: Qubit) -> Qubit | None:
    """The other qubit of ``q``'s group when the group is a pair, else None.

    >>> from qstack.quantum import create_qubits, bell_state
    >>> a, b = create_qubits(2, bell_state("phi+"))
    >>> partner(a) is b
    True
    """
    g = q.group
    if g is None or len(g.qubits) != 2:
        return None
    q0, q1 = g.qubits
    return q1 if q0 is q else q0


def swap_inner(
    b: Qubit, c: Qubit, rng: np.random.Generator, noise: GateNoise | None = None, correct: bool = False
) -> int:
    """Entanglement swap by a Bell-state measurement on ``b`` and ``c`` only (what a repeater
    holds); the far qubits are whatever ``b`` and ``c`` are entangled with. Uses the fast path
    when both are halves of pairs. Returns the Bell outcome; with ``correct=False`` (default,
    Pauli frame tracked by the protocol) the far pair is left in Bell state
    ``i ⊕ j ⊕ k`` for input Bell states ``i``, ``j`` (indices as 2-bit Pauli labels).

    >>> from qstack.quantum import create_qubits, bell_state, bell_coefficients, state_of
    >>> a, b = create_qubits(2, bell_state(2)); c, d = create_qubits(2, bell_state(1))
    >>> k = swap_inner(b, c, np.random.default_rng(0))
    >>> int(np.argmax(bell_coefficients(state_of([a, d])))) == 2 ^ 1 ^ k
    True
    """
    gb, gc = b.group, c.group
    if (gb is not None and gc is not None and gb is not gc and gb.bell is not None and gc.bell is not None
            and isinstance(rng, np.random.Generator) and (noise is None or isinstance(noise, GateNoise))):
        # two Bell-diagonal pairs (the Bell engine's every swap): straight to the coefficients
        # (a Bell-form group is always a pair: anything that adds or removes qubits builds the dm)
        q0, q1 = gb.qubits
        r0, r1 = gc.qubits
        k = _bell_swap(q1 if q0 is b else q0, b, c, r1 if r0 is c else r0, rng, noise, correct)
        if k is not None:
            return k
    a, d = partner(b), partner(c)
    if a is not None and d is not None and a is not c:
        return entanglement_swap(a, b, c, d, rng, noise, correct)
    k = bell_state_measurement(b, c, rng, noise)
    if correct and k and d is not None:
        operate([d], CORRECTIONS[k])
    return k


_BELL_NAMES = ("Φ⁺", "Φ⁻", "Ψ⁺", "Ψ⁻")


@dataclass(frozen=True, slots=True)
class BellMeasurement:
    """What a node's Bell-state measurement can herald: ``success_probability`` in (0, 1] (a
    state-independent loss, e.g. photons lost before the detectors: Shchukin, Rozpędek & Wehner,
    PRA 100, 032322 (2019) call it the swap success probability *a*) and ``outcomes``, the Bell
    indices (0 Φ⁺, 1 Φ⁻, 2 Ψ⁺, 3 Ψ⁻) it can tell apart; any other reported outcome is a failure.

    A linear-optics BSM with single photons distinguishes only Ψ± (Lütkenhaus, Calsamiglia &
    Suominen, PRA 59, 3295 (1999)): :data:`LINEAR_OPTICS_BSM`, which succeeds with probability
    exactly ½ on pairs whose inner qubits are maximally mixed (e.g. Werner pairs).

    >>> BellMeasurement(0.9).success_probability, LINEAR_OPTICS_BSM.outcomes
    (0.9, (2, 3))
    >>> BellMeasurement(1.5)
    Traceback (most recent call last):
      ...
    ValueError: BellMeasurement.success_probability must be in (0, 1], got 1.5
    """

    success_probability: float = 1.0
    outcomes: tuple[int, ...] = (0, 1, 2, 3)

    def __post_init__(self) -> None:
        a = self.success_probability
        if isinstance(a, bool) or not isinstance(a, Real):
            raise TypeError(f"BellMeasurement.success_probability must be a real number in (0, 1], got {a!r}")
        if not (math.isfinite(a) and 0.0 < a <= 1.0):
            raise ValueError(f"BellMeasurement.success_probability must be in (0, 1], got {a!r}")
        if isinstance(self.outcomes, str | bytes) or not isinstance(self.outcomes, Iterable):
            raise TypeError(f"BellMeasurement.outcomes must be a sequence of Bell indices, got {self.outcomes!r}")
        outs = tuple(self.outcomes)
        if not outs or len(set(outs)) != len(outs) or any(
                isinstance(k, bool) or not isinstance(k, Integral) or k not in (0, 1, 2, 3) for k in outs):
            raise ValueError(f"BellMeasurement.outcomes must be distinct Bell indices in 0..3 (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), "
                             f"got {self.outcomes!r}")
        object.__setattr__(self, "outcomes", tuple(sorted(int(k) for k in outs)))

    @property
    def deterministic(self) -> bool:
        """True when every swap succeeds (all four outcomes, no loss)."""
        return self.success_probability == 1.0 and len(self.outcomes) == 4

    def describe(self) -> str:
        """A one-line summary.

        >>> BellMeasurement(0.5, (2, 3)).describe(), BellMeasurement().describe()
        ('Ψ⁺/Ψ⁻ only, success 0.5', 'all Bell states')
        """
        if len(self.outcomes) == 4:
            which = "all Bell states"
        else:
            which = "/".join(_BELL_NAMES[k] for k in self.outcomes) + " only"
        return which if self.success_probability == 1.0 else f"{which}, success {self.success_probability:g}"


#: a linear-optics Bell measurement: Ψ⁺ and Ψ⁻ only, no extra loss
LINEAR_OPTICS_BSM = BellMeasurement(1.0, (2, 3))


def heralded_swap(
    b: Qubit, c: Qubit, rng: np.random.Generator, noise: GateNoise | None = None,
    bsm: BellMeasurement | None = None, correct: bool = False,
) -> int | None:
    """:func:`swap_inner` with a Bell measurement that can fail: the reported Bell outcome, or
    None when ``bsm`` cannot distinguish it or the loss (probability ``1 − a``) strikes. ``b``
    and ``c`` are consumed either way; on failure the far qubits are left in whatever the
    measurement made of them (a protocol discards them). The loss is drawn after the measurement
    and only when ``a < 1``, so with a perfect ``bsm`` the random stream is that of
    :func:`swap_inner`.

    >>> from qstack.quantum import create_qubits, werner
    >>> rng = np.random.default_rng(3)
    >>> results = []
    >>> for _ in range(1000):
    ...     a, b = create_qubits(2, werner(0.9)); c, d = create_qubits(2, werner(0.9))
    ...     results.append(heralded_swap(b, c, rng, bsm=LINEAR_OPTICS_BSM))
    >>> sorted({r for r in results if r is not None}), abs(sum(r is None for r in results) / 1000 - 0.5) < 0.07
    ([2, 3], True)
    """
    if bsm is not None and not isinstance(bsm, BellMeasurement):
        raise TypeError(f"bsm must be a BellMeasurement or None, got {type(bsm).__name__}")
    k = swap_inner(b, c, rng, noise, correct)
    if bsm is None or bsm.deterministic:
        return k
    if k not in bsm.outcomes:
        return None
    if bsm.success_probability < 1.0 and rng.random() >= bsm.success_probability:
        return None
    return k


def twirl(a: Qubit, b: Qubit) -> None:
    """Bring the pair ``(a, b)`` to Werner form with the same Φ⁺ fidelity (exact average twirl).

    >>> from qstack.quantum import create_qubits, bell_diagonal
    >>> a, b = create_qubits(2, bell_diagonal([0.8, 0.2, 0, 0])); twirl(a, b)
    """
    g = a.group
    if g is not None and g.bell is not None and b.group is g and a is not b:
        lam = g.bell  # the twirl keeps λ_Φ⁺ and shares the rest equally: exact on the Bell form
        rest = (float(lam[1]) + float(lam[2]) + float(lam[3])) / 3.0
        g.bell = (float(lam[0]), rest, rest, rest)
        return
    apply_channel([a, b], _TWIRL)


_TWIRL = twirl_werner()


def purify(
    keep: tuple[Qubit, Qubit],
    sacrifice: tuple[Qubit, Qubit],
    rng: np.random.Generator,
    protocol: str = "dejmps",
    noise: GateNoise | None = None,
) -> bool:
    """One round of BBPSSW or DEJMPS on two pairs shared by Alice (first) and Bob (second).

    The ``sacrifice`` pair is measured; on success (equal outcomes) ``keep`` holds the purified
    pair and ``True`` is returned; on failure ``keep`` is discarded too and ``False`` returned.
    ``noise`` adds gate depolarising and readout errors to every local operation.

    >>> from qstack.quantum import create_qubits, werner
    >>> p1 = tuple(create_qubits(2, werner(0.9))); p2 = tuple(create_qubits(2, werner(0.9)))
    >>> purify(p1, p2, np.random.default_rng(3), "bbpssw") in (True, False)
    True
    """
    if protocol not in PURIFICATION_PROTOCOLS:
        raise ValueError(f"protocol must be one of {PURIFICATION_PROTOCOLS}, got {protocol!r}")
    _check_rng_and_noise(rng, noise)
    if len(keep) != 2 or len(sacrifice) != 2:
        raise ValueError(f"keep and sacrifice must be pairs (Alice's qubit, Bob's qubit), got {len(keep)} and "
                         f"{len(sacrifice)} qubits")
    a1, b1 = keep
    a2, b2 = sacrifice
    _check_distinct([a1, b1, a2, b2])
    for q in (a1, b1, a2, b2):
        _group_of(q)
    if protocol == "bbpssw":
        twirl(a1, b1)
        twirl(a2, b2)
    ma = purification_half(a1, a2, "alice", protocol, rng, noise)
    mb = purification_half(b1, b2, "bob", protocol, rng, noise)
    if ma == mb:
        return True
    discard(a1)
    discard(b1)
    return False


_RX_PLUS, _RX_MINUS = _rotation_matrix("X", np.pi / 2), _rotation_matrix("X", -np.pi / 2)


def purification_half(
    keep: Qubit,
    sacrifice: Qubit,
    role: str,
    protocol: str,
    rng: np.random.Generator,
    noise: GateNoise | None = None,
) -> int:
    """One side's local operations of a BBPSSW/DEJMPS round; returns its measured bit.

    ``keep`` and ``sacrifice`` are this side's halves of the two pairs (both pairs in the Φ⁺
    frame). DEJMPS first rotates by ``Rx(+π/2)`` on Alice's side and ``Rx(−π/2)`` on Bob's;
    then ``CNOT(keep → sacrifice)`` and a Z measurement of ``sacrifice`` (consumed). The round
    succeeds when both sides' bits agree. BBPSSW's twirl is bilateral: apply :func:`twirl` to
    both pairs before the halves.

    >>> from qstack.quantum import create_qubits, bell_state
    >>> k, s = create_qubits(2, bell_state(0)), create_qubits(2, bell_state(0))
    >>> rng = np.random.default_rng(1)
    >>> purification_half(k[0], s[0], "alice", "dejmps", rng) == purification_half(k[1], s[1], "bob", "dejmps", rng)
    True
    """
    if role not in ("alice", "bob"):
        raise ValueError(f"role must be 'alice' or 'bob', got {role!r}")
    if protocol == "dejmps":
        u = _RX_PLUS if role == "alice" else _RX_MINUS
        operate([keep], u, noise)
        operate([sacrifice], u, noise)
    elif protocol != "bbpssw":
        raise ValueError(f"protocol must be one of {PURIFICATION_PROTOCOLS}, got {protocol!r}")
    operate([keep, sacrifice], _CNOT, noise)
    return measure(sacrifice, "Z", rng, noise)


def teleport(
    source: Qubit,
    local: Qubit,
    remote: Qubit,
    rng: np.random.Generator,
    noise: GateNoise | None = None,
) -> int:
    """Teleport ``source``'s state onto ``remote`` using the pair ``(local, remote)``.

    A Bell-state measurement of ``(source, local)`` and the Pauli correction on ``remote``
    (``I, Z, X, ZX`` for Φ⁺, Φ⁻, Ψ⁺, Ψ⁻). Returns the Bell outcome; the two measured qubits are
    consumed. With a Werner resource of fidelity ``F`` the average fidelity is ``(2F + 1)/3``.

    >>> from qstack.quantum import create_qubits, bell_state, state_of, gates
    >>> s, = create_qubits(1); operate([s], gates.X)
    >>> l, r = create_qubits(2, bell_state("phi+"))
    >>> _ = teleport(s, l, r, np.random.default_rng(0))
    >>> state_of([r]).full().real.round(12).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    _check_rng_and_noise(rng, noise)
    _check_distinct([source, local, remote])
    k = bell_state_measurement(source, local, rng, noise)
    if k:
        operate([remote], CORRECTIONS[k])
    return k



def swap_map_for(noise: GateNoise | None = None, correct: bool = True) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The fast path's swap maps ``(P, (M_0..M_3))`` for ``noise`` (see ``_swap_map``)."""
    return _swap_map(noise or _IDEAL, correct)
