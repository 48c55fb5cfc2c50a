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

import numpy as np
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
    if not 0 <= int(which) <= 3:
        raise ValueError(f"Bell state index must be in 0..3 (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got {which}")
    return int(which)


def bell_state(which: int | str = "phi+") -> qutip.Qobj:
    """The Bell ket ``which`` (index 0–3 or name ``"phi+"``, ``"phi-"``, ``"psi+"``, ``"psi-"``).

    >>> ket = bell_state("psi-")
    >>> round(float(abs(ket.full()[1, 0]) ** 2), 3)
    0.5
    """
    return qutip.Qobj(BELL_KETS_NP[_bell_index(which)].reshape(4, 1), dims=[[2, 2], [1, 1]])


def _check_probability(name: str, value: float) -> float:
    value = float(value)
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def bell_diagonal(coefficients: Sequence[float]) -> qutip.Qobj:
    """Bell-diagonal state ``Σ λ_i |β_i⟩⟨β_i|`` with coefficients in the order Φ⁺, Φ⁻, Ψ⁺, Ψ⁻.

    >>> rho = bell_diagonal([0.7, 0.1, 0.1, 0.1])
    >>> round(fidelity(rho, bell_state("phi+")), 12)
    0.7
    """
    lam = np.asarray(coefficients, dtype=float)
    if lam.shape != (4,):
        raise ValueError(f"coefficients must have 4 entries (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻), got shape {lam.shape}")
    for i, x in enumerate(lam):
        _check_probability(f"coefficients[{i}] ({BELL_NAMES[i]})", x)
    if abs(lam.sum() - 1.0) > 1e-9:
        raise ValueError(f"coefficients must sum to 1, got sum {lam.sum():.12g}")
    rho = (BELL_KETS_NP.T * lam) @ BELL_KETS_NP.conj()
    return qutip.Qobj(rho, dims=[[2, 2], [2, 2]])


def bell_coefficients(rho: qutip.Qobj | np.ndarray) -> np.ndarray:
    """Diagonal of a two-qubit state in the Bell basis (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻).

    >>> bell_coefficients(werner(0.85)).round(4).tolist()
    [0.85, 0.05, 0.05, 0.05]
    """
    m = rho.full() if isinstance(rho, qutip.Qobj) else np.asarray(rho)
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
    """
    return (4.0 * _check_probability("fidelity", fidelity) - 1.0) / 3.0


def fidelity_from_werner_parameter(w: float) -> float:
    """Inverse of :func:`werner_parameter`: ``F = (3w + 1)/4``.

    >>> fidelity_from_werner_parameter(0.6)
    0.7
    """
    return (3.0 * float(w) + 1.0) / 4.0


def product_state(*states: qutip.Qobj | str) -> qutip.Qobj:
    """Tensor product of single-qubit states given as Qobj kets/density matrices or labels.

    Labels: ``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``, ``"-i"``.

    >>> rho = product_state("0", "+")
    >>> rho.shape
    (4, 4)
    """
    labels = {
        "0": qutip.basis(2, 0),
        "1": qutip.basis(2, 1),
        "+": (qutip.basis(2, 0) + qutip.basis(2, 1)).unit(),
        "-": (qutip.basis(2, 0) - qutip.basis(2, 1)).unit(),
        "+i": (qutip.basis(2, 0) + 1j * qutip.basis(2, 1)).unit(),
        "-i": (qutip.basis(2, 0) - 1j * qutip.basis(2, 1)).unit(),
    }
    if not states:
        raise ValueError("product_state needs at least one state")
    parts = []
    for s in states:
        if isinstance(s, str):
            if s not in labels:
                raise ValueError(f"state label must be one of {sorted(labels)}, got {s!r}")
            s = labels[s]
        parts.append(to_density_matrix(s))
    return qutip.tensor(*parts)


def to_density_matrix(state: qutip.Qobj | np.ndarray) -> qutip.Qobj:
    """A ket becomes ``|ψ⟩⟨ψ|``; a density matrix is returned as a Qobj unchanged.

    >>> to_density_matrix(qutip.basis(2, 1)).full().real.tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    if isinstance(state, np.ndarray):
        arr = state.reshape(-1, 1) if state.ndim == 1 else state
        n = int(round(np.log2(arr.shape[0])))
        state = qutip.Qobj(arr, dims=[[2] * n, [1] * n] if arr.shape[1] == 1 else [[2] * n, [2] * n])
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

    >>> round(fidelity(werner(0.8), bell_state("phi+")), 12)
    0.8
    """
    m = rho.full() if isinstance(rho, qutip.Qobj) else np.asarray(rho)
    psi = target.full() if isinstance(target, qutip.Qobj) else np.asarray(target)
    psi = psi.reshape(-1)
    if m.ndim == 1 or (m.ndim == 2 and m.shape[1] == 1):
        amp = np.vdot(psi, m.reshape(-1))
        return float(abs(amp) ** 2)
    if psi.shape[0] != m.shape[0]:
        raise ValueError(f"target has dimension {psi.shape[0]}, state has {m.shape[0]}")
    return float(np.real(np.vdot(psi, m @ psi)))
