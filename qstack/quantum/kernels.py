"""Numpy kernels of the state core: operators, channels and measurements on density matrices.

A density matrix of ``n`` qubits is a ``(2**n, 2**n)`` complex numpy array whose qubit ``0`` is
the most significant bit (qutip's ``tensor`` order). The kernels reshape it to a tensor with
``2n`` axes of size two — rows first, then columns — and contract only the axes an operation
touches, so a one-qubit channel on a Bell pair costs one small matrix product.

These functions do no validation and know nothing of qubit handles; :mod:`qstack.quantum.core`
calls them. They are linear in ``rho`` wherever the physics is linear, which lets
:mod:`qstack.quantum.operations` precompute whole protocols (a noisy swap) as one linear map.

BLAS threads: on matrices this small, multi-threaded BLAS only costs time (and was seen to
stall for milliseconds). :func:`single_threaded_blas` limits the threads for a block of work;
entering it costs ~10 µs, so wrap a whole simulation run, not a single call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np

__all__ = [
    "apply_unitary",
    "apply_superop",
    "apply_amplitude_phase_damping",
    "apply_depolarizing",
    "bell_from_dm",
    "bell_pauli_channel",
    "bell_to_dm",
    "kraus_to_superop",
    "measure_probabilities",
    "project_and_remove",
    "partial_trace",
    "permute_qubits",
    "single_threaded_blas",
]


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Limit BLAS to one thread inside the block (no-op if threadpoolctl is unavailable).

    >>> with single_threaded_blas():
    ...     pass
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def limit_blas_threads_globally() -> bool:
    """Limit BLAS to one thread for the whole process (done once when qstack is imported).

    qstack's matrices are tiny (4×4 to 64×64); multi-threaded BLAS only adds overhead there
    and was measured stalling for ~7 ms per call. Set ``QSTACK_KEEP_BLAS_THREADS=1`` to keep
    your BLAS threads. Returns whether the limit was applied.
    """
    if os.environ.get("QSTACK_KEEP_BLAS_THREADS") == "1":
        return False
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return False
    threadpool_limits(limits=1, user_api="blas")
    return True


BLAS_LIMITED = limit_blas_threads_globally()


def apply_unitary(rho: np.ndarray, u: np.ndarray, targets: Sequence[int], n: int) -> np.ndarray:
    """Return ``U ρ U†`` with the ``k``-qubit operator ``u`` acting on qubits ``targets``."""
    k = len(targets)
    if k == n and tuple(targets) == tuple(range(n)):
        return u @ rho @ u.conj().T
    t = rho.reshape((2,) * (2 * n))
    ut = u.reshape((2,) * (2 * k))
    rows = list(targets)
    # U on the row axes: contract U's inputs with rho's row axes, put U's outputs back in place.
    t = np.tensordot(ut, t, axes=(list(range(k, 2 * k)), rows))
    t = np.moveaxis(t, list(range(k)), rows)
    # U† on the column axes: (ρU†)_{.., j'} = Σ_m ρ_{.., m} conj(U_{j' m}).
    cols = [n + q for q in targets]
    t = np.tensordot(t, ut.conj(), axes=(cols, list(range(k, 2 * k))))
    t = np.moveaxis(t, list(range(2 * n - k, 2 * n)), cols)
    return t.reshape(2**n, 2**n)


def kraus_to_superop(kraus: Sequence[np.ndarray]) -> np.ndarray:
    """Superoperator ``S = Σ K ⊗ K*`` acting on a row-major ``vec(ρ)``."""
    return sum(np.kron(k, k.conj()) for k in kraus)


def apply_superop(rho: np.ndarray, s: np.ndarray, targets: Sequence[int], n: int) -> np.ndarray:
    """Apply the ``k``-qubit superoperator ``s`` (``4**k × 4**k``) to qubits ``targets``."""
    k = len(targets)
    if k == n and tuple(targets) == tuple(range(n)):
        return (s @ rho.reshape(-1)).reshape(2**n, 2**n)
    axes = list(targets) + [n + q for q in targets]
    t = rho.reshape((2,) * (2 * n))
    t = np.moveaxis(t, axes, list(range(2 * k)))
    shape = t.shape
    t = (s @ t.reshape(4**k, -1)).reshape(shape)
    t = np.moveaxis(t, list(range(2 * k)), axes)
    return t.reshape(2**n, 2**n)


@lru_cache(maxsize=256)
def _bit_slices(n: int, q: int) -> tuple[tuple, tuple, tuple, tuple]:
    """Index tuples selecting ``(r_q, c_q) = (0,0), (1,1), (0,1), (1,0)`` of a ``2n``-axis tensor."""
    out = []
    for r, c in ((0, 0), (1, 1), (0, 1), (1, 0)):
        idx: list[int | slice] = [slice(None)] * (2 * n)
        idx[q] = r
        idx[n + q] = c
        out.append(tuple(idx))
    return tuple(out)  # type: ignore[return-value]


def _pair_masks(q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For qubit ``q`` of a pair: entries whose row and column bits differ, and the flat indices
    of the ``(1,1)`` entries with their ``(0,0)`` partners."""
    bit = 1 << (1 - q)
    rows, cols = np.indices((4, 4))
    differ = (((rows & bit) > 0) != ((cols & bit) > 0)).astype(float)
    ones = np.flatnonzero(((rows & bit) > 0) & ((cols & bit) > 0))
    zeros = np.array([((r ^ bit) * 4 + (c ^ bit)) for r, c in (divmod(int(i), 4) for i in ones)])
    return differ, ones, zeros


_PAIR_MASKS = (_pair_masks(0), _pair_masks(1))
# The same, as plain index tuples: on 16 entries, element-wise Python beats numpy's per-call cost.
_PAIR_DIFFER = tuple(tuple(int(i) for i in np.flatnonzero(m[0].reshape(16))) for m in _PAIR_MASKS)
_PAIR_MOVES = tuple(tuple(zip((int(i) for i in m[1]), (int(i) for i in m[2]), strict=True)) for m in _PAIR_MASKS)


def apply_amplitude_phase_damping(rho: np.ndarray, q: int, n: int, gamma: float, coherence: float) -> np.ndarray:
    """Apply the T1/T2 channel to qubit ``q``: ``ρ00 += γρ11``, ``ρ11 *= 1−γ``, coherences ``*= c``.

    Equal to :func:`apply_superop` with :func:`qstack.quantum.noise.t1t2_superop` (tested),
    without moving axes: four slice updates on a tensor view.
    """
    if n == 2:  # a half of a pair: 16 entries, updated one by one (cheaper than numpy calls)
        f = rho.ravel().tolist()
        if coherence != 1.0:
            for i in _PAIR_DIFFER[q]:
                f[i] *= coherence
        if gamma:
            keep = 1.0 - gamma
            for one, zero in _PAIR_MOVES[q]:
                m = f[one]
                f[zero] += gamma * m
                f[one] = m * keep
        return np.array(f, dtype=complex).reshape(4, 4)
    out = rho.copy()
    t = out.reshape((2,) * (2 * n))
    s00, s11, s01, s10 = _bit_slices(n, q)
    if gamma:
        t[s00] += gamma * t[s11]
        t[s11] *= 1.0 - gamma
    if coherence != 1.0:
        t[s01] *= coherence
        t[s10] *= coherence
    return out


def apply_depolarizing(rho: np.ndarray, q: int, n: int, p: float) -> np.ndarray:
    """Apply ``ρ → (1−p)ρ + p·I/2 ⊗ Tr_q ρ`` to qubit ``q`` by slice updates."""
    out = rho * (1.0 - p)
    t = out.reshape((2,) * (2 * n))
    src = rho.reshape((2,) * (2 * n))
    s00, s11, _, _ = _bit_slices(n, q)
    half_trace = (p / 2.0) * (src[s00] + src[s11])
    t[s00] += half_trace
    t[s11] += half_trace
    return out


def measure_probabilities(rho: np.ndarray, targets: Sequence[int], n: int) -> np.ndarray:
    """Probabilities of the ``2**k`` computational outcomes of qubits ``targets``.

    Outcome ``m`` is the binary number of the measured bits, ``targets[0]`` most significant.
    """
    diag = np.real(np.diagonal(rho)).reshape((2,) * n)
    k = len(targets)
    rest = [q for q in range(n) if q not in targets]
    p = np.transpose(diag, list(targets) + rest).reshape(2**k, -1).sum(axis=1)
    return np.clip(p, 0.0, None)


def project_and_remove(rho: np.ndarray, targets: Sequence[int], outcome: int, n: int) -> np.ndarray:
    """Unnormalised state of the other qubits after measuring ``targets`` with ``outcome``.

    The measured qubits are traced out (they leave the group); divide by the outcome's
    probability to normalise.
    """
    k = len(targets)
    bits = [(outcome >> (k - 1 - i)) & 1 for i in range(k)]
    index: list[int | slice] = [slice(None)] * (2 * n)
    for q, b in zip(targets, bits, strict=True):
        index[q] = b
        index[n + q] = b
    t = rho.reshape((2,) * (2 * n))[tuple(index)]
    m = n - k
    return np.ascontiguousarray(t).reshape(2**m, 2**m)


def partial_trace(rho: np.ndarray, keep: Sequence[int], n: int) -> np.ndarray:
    """Reduced density matrix of qubits ``keep`` (in that order) of an ``n``-qubit state."""
    keep = list(keep)
    if keep == list(range(n)):
        return rho
    if n == 2 and len(keep) == 1:  # the common case: one half of a pair
        # index = 2·q0 + q1: keeping q0 sums over q1 (stride 2), keeping q1 sums the blocks
        return rho[::2, ::2] + rho[1::2, 1::2] if keep[0] == 0 else rho[:2, :2] + rho[2:, 2:]
    drop = [q for q in range(n) if q not in keep]
    t = rho.reshape((2,) * (2 * n))
    t = np.transpose(t, keep + drop + [n + q for q in keep] + [n + q for q in drop])
    kd, dd = 2 ** len(keep), 2 ** len(drop)
    t = t.reshape(kd, dd, kd, dd)
    return np.einsum("ajbj->ab", t)


@lru_cache(maxsize=256)
def _permutation_index(order: tuple[int, ...]) -> np.ndarray:
    n = len(order)
    idx = np.arange(2**n).reshape((2,) * n)
    return np.transpose(idx, order).reshape(-1)


def permute_qubits(rho: np.ndarray, order: Sequence[int]) -> np.ndarray:
    """Reorder qubits: new qubit ``i`` is old qubit ``order[i]``."""
    order = tuple(order)
    if order == tuple(range(len(order))):
        return rho
    p = _permutation_index(order)
    return rho[np.ix_(p, p)]


# --------------------------------------------------------------------- Bell-diagonal pairs
#
# A Bell-diagonal pair is ``ρ = Σ_k λ_k |β_k⟩⟨β_k|`` with β_0..3 = Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ (index = 2·x + z:
# the Pauli X^x Z^z on one half of Φ⁺ gives β_k). In the computational basis (00, 01, 10, 11)
# Φ± = (|00⟩ ± |11⟩)/√2 and Ψ± = (|01⟩ ± |10⟩)/√2, so ρ has (λ0 ± λ1)/2 on the 00/11 block and
# (λ2 ± λ3)/2 on the 01/10 block — the same for either qubit order (Ψ⁻ only changes sign).


def bell_to_dm(coeffs: Sequence[float]) -> np.ndarray:
    """The exact 4×4 density matrix of the Bell-diagonal pair with coefficients ``coeffs``.

    >>> bell_to_dm([1.0, 0.0, 0.0, 0.0]).real.tolist()[0]
    [0.5, 0.0, 0.0, 0.5]
    """
    c0, c1, c2, c3 = (float(c) for c in coeffs)
    a, b, e, f = 0.5 * (c0 + c1), 0.5 * (c0 - c1), 0.5 * (c2 + c3), 0.5 * (c2 - c3)
    return np.array([[a, 0, 0, b], [0, e, f, 0], [0, f, e, 0], [b, 0, 0, a]], dtype=complex)


def bell_from_dm(rho: np.ndarray) -> tuple[np.ndarray, float]:
    """``(λ, residual)``: the Bell coefficients ``λ_k = ⟨β_k|ρ|β_k⟩`` of a 4×4 ``rho`` and the
    largest entry of ``|ρ − Σ λ_k |β_k⟩⟨β_k||`` (0 for an exactly Bell-diagonal pair).

    >>> lam, res = bell_from_dm(bell_to_dm([0.7, 0.1, 0.1, 0.1])); lam.round(12).tolist(), res
    ([0.7, 0.1, 0.1, 0.1], 0.0)
    """
    r = np.asarray(rho)
    s03 = r[0, 3].real + r[3, 0].real
    s12 = r[1, 2].real + r[2, 1].real
    d03 = r[0, 0].real + r[3, 3].real
    d12 = r[1, 1].real + r[2, 2].real
    lam = np.array([0.5 * (d03 + s03), 0.5 * (d03 - s03), 0.5 * (d12 + s12), 0.5 * (d12 - s12)])
    residual = float(np.max(np.abs(r - bell_to_dm(lam))))
    return lam, residual


def bell_pauli_channel(coeffs: Sequence[float], weights: Sequence[float]) -> tuple[float, float, float, float]:
    """Bell coefficients after the Pauli channel ``weights = (p_I, p_X, p_Y, p_Z)`` acted on one
    half of the pair: ``λ'_k = p_I λ_k + p_Z λ_{k⊕1} + p_X λ_{k⊕2} + p_Y λ_{k⊕3}`` (either half:
    ``P ⊗ I`` and ``I ⊗ Pᵀ`` agree on Bell states up to a phase). Plain float arithmetic on a
    tuple (four numbers: numpy's per-call cost would be most of the work).

    >>> [round(c, 12) for c in bell_pauli_channel((1.0, 0.0, 0.0, 0.0), (0.9, 0.0, 0.0, 0.1))]
    [0.9, 0.1, 0.0, 0.0]
    """
    p_i, p_x, p_y, p_z = weights
    c0, c1, c2, c3 = coeffs if coeffs.__class__ is tuple else [float(c) for c in coeffs]
    return (
        p_i * c0 + p_z * c1 + p_x * c2 + p_y * c3,
        p_i * c1 + p_z * c0 + p_x * c3 + p_y * c2,
        p_i * c2 + p_z * c3 + p_x * c0 + p_y * c1,
        p_i * c3 + p_z * c2 + p_x * c1 + p_y * c0,
    )
