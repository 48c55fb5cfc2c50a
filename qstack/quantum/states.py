"""Standard states of quantum networking, fidelity, and validation of user-given states.

Conventions (see REFERENCES.md):

* ``|0⟩ = qutip.basis(2, 0)`` is the ground state; amplitude damping relaxes ``|1⟩ → |0⟩``.
* Bell basis order is ``Φ⁺, Φ⁻, Ψ⁺, Ψ⁻`` (index 0–3) with
  ``|Φ^±⟩ = (|00⟩ ± |11⟩)/√2`` and ``|Ψ^±⟩ = (|01⟩ ± |10⟩)/√2``.
* A Werner state of fidelity ``F`` is ``F|Φ⁺⟩⟨Φ⁺| + (1−F)/3 (I − |Φ⁺⟩⟨Φ⁺|)``; its Werner
  parameter is ``w = (4F − 1)/3`` so that ``ρ = w|Φ⁺⟩⟨Φ⁺| + (1 − w) I/4``.
* Fidelity to a pure target is ``⟨ψ|ρ|ψ⟩``. This is the *square* of what ``qutip.fidelity``
  returns (qutip uses the root fidelity ``Tr√(√ρ σ √ρ)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import TYPE_CHECKING

import numpy as np

from qstack.validation import check_range

from ._qutip import is_qobj
from ._qutip import qutip as _qutip

if TYPE_CHECKING:
    import qutip

__all__ = [
    "BELL_NAMES",
    "InvalidStateError",
    "bell_state",
    "bell_diagonal",
    "bell_coefficients",
    "werner",
    "werner_parameter",
    "fidelity_from_werner_parameter",
    "product_state",
    "fidelity",
    "validate_density_matrix",
    "to_density_matrix",
]

BELL_NAMES: tuple[str, ...] = ("phi+", "phi-", "psi+", "psi-")
_S = 1.0 / np.sqrt(2.0)
#: Bell kets as numpy vectors, rows in the order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻.
BELL_KETS_NP: np.ndarray = np.array(
    [[_S, 0, 0, _S], [_S, 0, 0, -_S], [0, _S, _S, 0], [0, _S, -_S, 0]], dtype=complex
)
_ALIASES = {
    "phi+": 0, "phi_plus": 0, "Φ+": 0,
    "phi-": 1, "phi_minus": 1, "Φ-": 1,
    "psi+": 2, "psi_plus": 2, "Ψ+": 2,
    "psi-": 3, "psi_minus": 3, "Ψ-": 3,
}


class InvalidStateError(ValueError):
    """A state handed in is not a density matrix (not Hermitian, trace ≠ 1, or not PSD)."""


def _bell_index(which: int | str) -> int:
    if isinstance(which, str):
        try:
            return _ALIASES[which.strip().lower() if which.isascii() else which]
        except KeyError:
            raise ValueError(f"Bell state name must be one of {BELL_NAMES}, got {which!r}") from None
    if isinstance(which, bool) or not isinstance(which, Integral):
        raise TypeError(f"Bell state which must be an index 0..3 or a name in {BELL_NAMES}, got {which!r}")
    if not 0 <= int(which) <= 3:
        raise ValueError(f"Bell state index which must be in 0..3 (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got {which}")
    return int(which)


def bell_state(which: int | str = "phi+") -> qutip.Qobj:
    """The Bell ket ``which`` (index 0–3 or name ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"``).

    >>> ket = bell_state("psi-")
    >>> round(float(abs(ket.full()[1, 0]) ** 2), 3)
    0.5
    """
    return _qutip().Qobj(BELL_KETS_NP[_bell_index(which)].reshape(4, 1), dims=[[2, 2], [1, 1]])


def _check_probability(name: str, value: float) -> float:
    """``value`` as a float in [0, 1]; ``TypeError`` for a bool or non-number, ``ValueError`` for
    NaN or out of range, the message naming ``name``."""
    if type(value) is float and 0.0 <= value <= 1.0:  # the common case, without building a message
        return value
    return check_range(name, value, low=0.0, high=1.0)


def bell_diagonal(coefficients: Sequence[float]) -> qutip.Qobj:
    """Bell-diagonal state ``Σ λ_i |β_i⟩⟨β_i|`` with coefficients in the order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻.

    >>> rho = bell_diagonal([0.7, 0.1, 0.1, 0.1])
    >>> round(fidelity(rho, bell_state("phi+")), 12)
    0.7
    """
    raw = np.asarray(coefficients)
    if raw.dtype == bool or not (np.issubdtype(raw.dtype, np.integer) or np.issubdtype(raw.dtype, np.floating)):
        raise TypeError(f"coefficients must be 4 real numbers (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got {coefficients!r}")
    lam = raw.astype(float)
    if lam.shape != (4,):
        raise ValueError(f"coefficients must have 4 entries (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got shape {lam.shape}")
    for i, x in enumerate(lam):
        _check_probability(f"coefficients[{i}] ({BELL_NAMES[i]})", x)
    if abs(lam.sum() - 1.0) > 1e-9:
        raise ValueError(f"coefficients must sum to 1, got sum {lam.sum():.12g}")
    rho = (BELL_KETS_NP.T * lam) @ BELL_KETS_NP.conj()
    return _qutip().Qobj(rho, dims=[[2, 2], [2, 2]])


def bell_coefficients(rho: qutip.Qobj | np.ndarray) -> np.ndarray:
    """Diagonal of a two-qubit state in the Bell basis (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻).

    >>> bell_coefficients(werner(0.85)).round(4).tolist()
    [0.85, 0.05, 0.05, 0.05]
    """
    m = rho.full() if is_qobj(rho) else np.asarray(rho)
    return np.real(np.einsum("ij,jk,ik->i", BELL_KETS_NP.conj(), m, BELL_KETS_NP))


def werner(fidelity: float, which: int | str = "phi+") -> qutip.Qobj:
    """Werner state ``F|β⟩⟨β| + (1−F)/3 (I − |β⟩⟨β|)`` around the Bell state ``which``.

    >>> round(float(werner(0.9).tr()), 12)
    1.0
    """
    f = _check_probability("fidelity", fidelity)
    lam = np.full(4, (1.0 - f) / 3.0)
    lam[_bell_index(which)] = f
    return bell_diagonal(lam)


def werner_parameter(fidelity: float) -> float:
    """Werner parameter ``w = (4F − 1)/3`` of a Werner state of fidelity ``F``.

    >>> werner_parameter(1.0), werner_parameter(0.25)
    (1.0, 0.0)
    >>> werner_parameter(1.5)
    Traceback (most recent call last):
    ...
    ValueError: fidelity must be in [0, 1], got 1.5
    """
    return (4.0 * _check_probability("fidelity", fidelity) - 1.0) / 3.0


def fidelity_from_werner_parameter(w: float) -> float:
    """Inverse of :func:`werner_parameter`: ``F = (3w + 1)/4``.

    ``w`` must lie in ``[−1/3, 1]``, the range of ``(4F − 1)/3`` for ``F`` in ``[0, 1]``.

    >>> fidelity_from_werner_parameter(0.6)
    0.7
    >>> fidelity_from_werner_parameter(2)
    Traceback (most recent call last):
    ...
    ValueError: Werner parameter w must be in [-0.333333, 1], got 2.0
    """
    w = check_range("Werner parameter w", w, low=-1.0 / 3.0 - 1e-12, high=1.0)
    return max((3.0 * w + 1.0) / 4.0, 0.0)


def product_state(*states: qutip.Qobj | str) -> qutip.Qobj:
    """Tensor product of single-qubit states given as Qobj kets/density matrices or labels.

    Labels: ``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``, ``"-i"``. A ``Qobj`` part is checked as
    :func:`validate_density_matrix` checks states (a ket must be normalised).

    >>> rho = product_state("0", "+")
    >>> rho.shape
    (4, 4)
    """
    qt = _qutip()
    labels = {
        "0": qt.basis(2, 0),
        "1": qt.basis(2, 1),
        "+": (qt.basis(2, 0) + qt.basis(2, 1)).unit(),
        "-": (qt.basis(2, 0) - qt.basis(2, 1)).unit(),
        "+i": (qt.basis(2, 0) + 1j * qt.basis(2, 1)).unit(),
        "-i": (qt.basis(2, 0) - 1j * qt.basis(2, 1)).unit(),
    }
    if not states:
        raise ValueError("product_state needs at least one state")
    parts = []
    for i, s in enumerate(states):
        if isinstance(s, str):
            if s not in labels:
                raise ValueError(f"state label states[{i}] must be one of {sorted(labels)}, got {s!r}")
            parts.append(to_density_matrix(labels[s]))
            continue
        if not is_qobj(s):
            raise TypeError(f"states[{i}] must be a qutip Qobj or a label, got {type(s).__name__}")
        part = to_density_matrix(s)
        validate_density_matrix(part.full(), name=f"states[{i}]")
        parts.append(part)
    return qt.tensor(*parts)


def to_density_matrix(state: qutip.Qobj | np.ndarray) -> qutip.Qobj:
    """A ket becomes ``|ψ⟩⟨ψ|``; a density matrix is returned as a Qobj unchanged.

    >>> import qutip
    >>> to_density_matrix(qutip.basis(2, 1)).full().real.tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    if not is_qobj(state):
        if not isinstance(state, np.ndarray):
            raise TypeError(f"state must be a qutip Qobj or a numpy array, got {type(state).__name__}")
        arr = state.reshape(-1, 1) if state.ndim == 1 else state
        dim = arr.shape[0] if arr.ndim == 2 else 0
        if arr.ndim != 2 or dim < 2 or dim & (dim - 1) or arr.shape[1] not in (1, dim):
            raise InvalidStateError(
                f"state must be a ket (2**n entries) or a 2**n × 2**n matrix, got shape {state.shape}")
        n = dim.bit_length() - 1
        state = _qutip().Qobj(arr, dims=[[2] * n, [1] * n] if arr.shape[1] == 1 else [[2] * n, [2] * n])
    if state.isket:
        return state.proj()
    if state.isoper:
        return state
    raise InvalidStateError(f"state must be a ket or a density matrix, got a {state.type}")


def validate_density_matrix(rho: np.ndarray, tol: float = 1e-9, name: str = "state") -> None:
    """Raise :class:`InvalidStateError` unless ``rho`` is Hermitian, of trace 1 and PSD.

    The message says which property fails and by how much.

    >>> validate_density_matrix(np.eye(2) / 2)
    >>> validate_density_matrix(np.eye(2))
    Traceback (most recent call last):
    ...
    qstack.quantum.states.InvalidStateError: state has trace 2 (must be 1 within 1e-09; off by 1)
    """
    rho = np.asarray(rho)
    if rho.dtype == bool or not np.issubdtype(rho.dtype, np.number):
        raise TypeError(f"{name} must be a numeric matrix, got dtype {rho.dtype}")
    if rho.ndim != 2 or rho.shape[0] != rho.shape[1]:
        raise InvalidStateError(f"{name} must be a square matrix, got shape {rho.shape}")
    dim = rho.shape[0]
    if dim < 2 or dim & (dim - 1):
        raise InvalidStateError(f"{name} must have dimension 2**n for n qubits, got {dim}")
    if not np.all(np.isfinite(rho)):
        raise InvalidStateError(f"{name} has non-finite entries")
    herm = float(np.max(np.abs(rho - rho.conj().T)))
    if herm > tol:
        raise InvalidStateError(
            f"{name} is not Hermitian: max |ρ − ρ†| = {herm:.3g} (allowed {tol:g})"
        )
    tr = complex(np.trace(rho))
    if abs(tr - 1.0) > tol:
        raise InvalidStateError(
            f"{name} has trace {tr.real:.12g} (must be 1 within {tol:g}; off by {abs(tr - 1.0):.3g})"
        )
    lowest = float(np.linalg.eigvalsh((rho + rho.conj().T) / 2)[0])
    if lowest < -tol:
        raise InvalidStateError(
            f"{name} is not positive semidefinite: smallest eigenvalue {lowest:.3g} (allowed ≥ −{tol:g})"
        )


def fidelity(rho: qutip.Qobj | np.ndarray, target: qutip.Qobj | np.ndarray) -> float:
    """Fidelity ``⟨ψ|ρ|ψ⟩`` of ``rho`` to the pure ``target`` ket.

    This is the square of ``qutip.fidelity(rho, target)``, which returns the root fidelity.

    ``rho`` (a density matrix, or a ket taken as ``|ψ⟩⟨ψ|``) is checked as
    :func:`validate_density_matrix` checks states, and ``target`` must be a normalised ket of
    the same dimension: :class:`InvalidStateError` names the argument that fails.

    >>> round(fidelity(werner(0.8), bell_state("phi+")), 12)
    0.8
    >>> fidelity(np.eye(4), bell_state("phi+"))
    Traceback (most recent call last):
    ...
    qstack.quantum.states.InvalidStateError: rho has trace 4 (must be 1 within 1e-09; off by 3)
    """
    m = rho.full() if is_qobj(rho) else np.asarray(rho)
    psi = _normalised_ket(target.full() if is_qobj(target) else np.asarray(target), "target")
    if m.ndim == 1 or (m.ndim == 2 and m.shape[1] == 1):
        ket = _normalised_ket(m, "rho")
        if ket.shape != psi.shape:
            raise InvalidStateError(f"target has dimension {psi.shape[0]}, rho has {ket.shape[0]}")
        return float(abs(np.vdot(psi, ket)) ** 2)
    validate_density_matrix(m, name="rho")
    if psi.shape[0] != m.shape[0]:
        raise InvalidStateError(f"target has dimension {psi.shape[0]}, rho has {m.shape[0]}")
    return float(np.real(np.vdot(psi, m @ psi)))


def _normalised_ket(v: np.ndarray, name: str, tol: float = 1e-9) -> np.ndarray:
    """``v`` flattened, if it is a finite ket of ``2**n`` entries with norm 1 (within ``tol``)."""
    if v.dtype == bool or not np.issubdtype(v.dtype, np.number):
        raise TypeError(f"{name} must be a numeric ket, got dtype {v.dtype}")
    if v.ndim not in (1, 2) or (v.ndim == 2 and v.shape[1] != 1):
        raise InvalidStateError(f"{name} must be a ket (a vector or a column), got shape {v.shape}")
    v = v.reshape(-1)
    dim = v.shape[0]
    if dim < 2 or dim & (dim - 1):
        raise InvalidStateError(f"{name} must have dimension 2**n for n qubits, got {dim}")
    if not np.all(np.isfinite(v)):
        raise InvalidStateError(f"{name} has non-finite entries")
    norm2 = float(np.real(np.vdot(v, v)))
    if abs(norm2 - 1.0) > tol:
        raise InvalidStateError(f"{name} has norm² {norm2:.12g} (must be 1 within {tol:g})")
    return v
