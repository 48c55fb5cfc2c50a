"""The optimal CHSH value of a general two-qubit state and the settings that reach it.

Horodecki, Horodecki & Horodecki, Phys. Lett. A 200, 340 (1995): write a two-qubit state as
``ρ = ¼ (𝟙⊗𝟙 + r·σ⊗𝟙 + 𝟙⊗s·σ + Σ_ij T_ij σ_i⊗σ_j)`` with the 3×3 correlation matrix
``T_ij = Tr(ρ σ_i⊗σ_j)`` (``i, j`` over ``x, y, z``). For spin observables ``a·σ`` (Alice) and
``b·σ`` (Bob) with unit Bloch vectors ``a``, ``b`` the correlator is ``⟨a·σ ⊗ b·σ⟩ = aᵀ T b``, and the
CHSH value of settings ``(a, a′; b, b′)`` is

    ``S = aᵀT b + aᵀT b′ + a′ᵀT b − a′ᵀT b′``

(the order of :mod:`qstack.apps.chsh`: ``S = E₀₀ + E₀₁ + E₁₀ − E₁₁`` with ``A₀ = a``, ``A₁ = a′``,
``B₀ = b``, ``B₁ = b′``). Its maximum over all settings is

    ``S_max = 2 √(m₁ + m₂)``,

``m₁ ≥ m₂`` the two largest eigenvalues of ``TᵀT``; the state violates the CHSH inequality
``S ≤ 2`` iff ``m₁ + m₂ > 1``. The optimum is reached with ``c₁, c₂`` the eigenvectors of
``TᵀT`` for ``m₁, m₂``: Bob measures ``b, b′ = cos θ c₁ ± sin θ c₂`` with ``tan θ = √(m₂/m₁)``,
Alice ``a = T(b + b′)/|T(b + b′)|`` and ``a′ = T(b − b′)/|T(b − b′)|``, which gives
``S = 2 cos θ √m₁ + 2 sin θ √m₂ = 2 √(m₁ + m₂)``.

Examples: Φ⁺ has ``T = diag(1, −1, 1)`` and ``S_max = 2√2`` (Tsirelson); a Werner pair of
Werner parameter ``w`` has ``T = w diag(1, −1, 1)`` and ``S_max = 2√2 |w|``; a product state has
``T = r sᵀ`` of rank one and ``S_max = 2 |r||s| ≤ 2``.

States are 4×4 density matrices (a qutip ``Qobj`` or a numpy array; a ``Qobj`` ket is taken as
``|ψ⟩⟨ψ|``), checked by :func:`qstack.quantum.states.validate_density_matrix` (Hermitian, trace
1, PSD, within 1e-9): an invalid one raises :class:`~qstack.quantum.states.InvalidStateError`,
a ``ValueError`` that says what is wrong.

>>> from qstack.quantum.states import bell_state, werner
>>> round(max_chsh_value(bell_state("phi+")), 12) == round(2 * math.sqrt(2), 12)
True
>>> round(max_chsh_value(werner(0.9)), 12)            # 2√2 (4F − 1)/3
2.451303508113
>>> settings = optimal_chsh_settings(werner(0.9))
>>> round(chsh_value(werner(0.9), settings), 12)
2.451303508113
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._qutip import is_qobj
from .states import InvalidStateError, validate_density_matrix

if TYPE_CHECKING:
    import qutip

__all__ = [
    "CHSHSettings",
    "chsh_correlator",
    "chsh_value",
    "correlation_matrix",
    "max_chsh_value",
    "optimal_chsh_settings",
    "two_qubit_density_matrix",
]

_PAULIS: tuple[np.ndarray, ...] = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
#: ``σ_i ⊗ σ_j`` for ``i, j`` in ``x, y, z``, shape (3, 3, 4, 4).
_PAULI_PAIRS: np.ndarray = np.array([[np.kron(p, q) for q in _PAULIS] for p in _PAULIS])
_UNIT_TOL = 1e-9
_ZERO_TOL = 1e-14


def two_qubit_density_matrix(state: qutip.Qobj | np.ndarray, name: str = "state") -> np.ndarray:
    """Return ``state`` as a validated 4×4 complex numpy density matrix.

    A ``Qobj`` ket becomes ``|ψ⟩⟨ψ|``. Raises :class:`~qstack.quantum.states.InvalidStateError`
    (a ``ValueError``) naming ``name`` when the shape is not 4×4 or the matrix is not Hermitian,
    of trace 1 and PSD (:func:`~qstack.quantum.states.validate_density_matrix`, tolerance 1e-9).

    >>> two_qubit_density_matrix(np.eye(4) / 4).shape
    (4, 4)
    >>> two_qubit_density_matrix(np.eye(2) / 2)
    Traceback (most recent call last):
    ...
    qstack.quantum.states.InvalidStateError: state must be a 4×4 two-qubit density matrix, got shape (2, 2)
    """
    if is_qobj(state):
        if state.isket:
            state = state.proj()
        m = state.full()
    else:
        m = np.asarray(state)
    if m.shape != (4, 4):
        raise InvalidStateError(f"{name} must be a 4×4 two-qubit density matrix, got shape {m.shape}")
    m = m.astype(complex)
    validate_density_matrix(m, name=name)
    return m


def correlation_matrix(state: qutip.Qobj | np.ndarray) -> np.ndarray:
    """Return the 3×3 real correlation matrix ``T_ij = Tr(ρ σ_i⊗σ_j)``, ``i, j`` over ``x, y, z``.

    Rows are Alice's Pauli, columns Bob's (Horodecki, Horodecki & Horodecki 1995).

    >>> from qstack.quantum.states import bell_state
    >>> correlation_matrix(bell_state("phi+")).round(12).tolist()
    [[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    rho = two_qubit_density_matrix(state)
    return np.real(np.einsum("ijab,ba->ij", _PAULI_PAIRS, rho))


def max_chsh_value(state: qutip.Qobj | np.ndarray) -> float:
    """Return the largest CHSH value ``S_max = 2 √(m₁ + m₂)`` of a two-qubit state.

    ``m₁ ≥ m₂`` are the two largest eigenvalues of ``TᵀT``, ``T`` the
    :func:`correlation_matrix` (Horodecki, Horodecki & Horodecki, PLA 200, 340 (1995)). The state
    violates ``S ≤ 2`` iff ``S_max > 2``; ``S_max ≤ 2√2`` (Tsirelson).

    >>> from qstack.quantum.states import product_state
    >>> round(max_chsh_value(product_state("0", "+")), 12)     # a pure product state: exactly 2
    2.0
    >>> round(max_chsh_value(np.eye(4) / 4), 12)
    0.0
    """
    t = correlation_matrix(state)
    m = np.clip(np.linalg.eigvalsh(t.T @ t), 0.0, None)
    return 2.0 * math.sqrt(float(m[2] + m[1]))


def _unit_vector(name: str, v: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.asarray(v, dtype=float)
    if arr.shape != (3,):
        raise ValueError(f"{name} must be a Bloch vector of 3 entries (x, y, z), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite entries: {arr.tolist()}")
    norm = float(np.linalg.norm(arr))
    if abs(norm - 1.0) > _UNIT_TOL:
        raise ValueError(f"{name} must be a unit vector (|v| = 1 within {_UNIT_TOL:g}), got |v| = {norm:.12g}")
    return arr


@dataclass(frozen=True)
class CHSHSettings:
    """CHSH settings as unit Bloch vectors ``(x, y, z)``: the observable of a vector ``v`` is ``v·σ``.

    ``a`` and ``a_prime`` are Alice's ``A₀``, ``A₁``; ``b`` and ``b_prime`` Bob's ``B₀``, ``B₁``.
    Each is checked to be a finite 3-vector of norm 1 (within 1e-9) and stored as a float array.
    :meth:`from_xz_angles` builds them from the X–Z-plane angles of :mod:`qstack.apps.chsh`.

    >>> s = CHSHSettings.from_xz_angles((0.0, np.pi / 2), (np.pi / 4, -np.pi / 4))
    >>> s.a.tolist(), s.a_prime.round(12).tolist()
    ([0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
    >>> CHSHSettings([0, 0, 2], [1, 0, 0], [1, 0, 0], [0, 0, 1])
    Traceback (most recent call last):
    ...
    ValueError: a must be a unit vector (|v| = 1 within 1e-09), got |v| = 2
    """

    a: np.ndarray
    a_prime: np.ndarray
    b: np.ndarray
    b_prime: np.ndarray

    def __post_init__(self) -> None:
        for name in ("a", "a_prime", "b", "b_prime"):
            object.__setattr__(self, name, _unit_vector(name, getattr(self, name)))

    @classmethod
    def from_xz_angles(cls, alice: Sequence[float], bob: Sequence[float]) -> CHSHSettings:
        """Settings from X–Z-plane angles: ``A(α) = cos α Z + sin α X``, Bloch vector ``(sin α, 0, cos α)``.

        ``alice = (α₀, α₁)`` and ``bob = (β₀, β₁)``, the convention of :func:`qstack.apps.chsh.xz_basis`.

        >>> CHSHSettings.from_xz_angles((0.0, 0.0), (0.0, np.pi)).b_prime.round(12).tolist()
        [0.0, 0.0, -1.0]
        """
        if len(alice) != 2 or len(bob) != 2:
            raise ValueError(f"alice and bob need two angles each, got {len(alice)} and {len(bob)}")
        vecs = [np.array([math.sin(x), 0.0, math.cos(x)]) for x in (*alice, *bob)]
        return cls(*vecs)


def chsh_correlator(state: qutip.Qobj | np.ndarray, a: Sequence[float] | np.ndarray,
                    b: Sequence[float] | np.ndarray) -> float:
    """Return ``⟨a·σ ⊗ b·σ⟩ = aᵀ T b`` for unit Bloch vectors ``a`` (Alice) and ``b`` (Bob).

    >>> from qstack.quantum.states import bell_state
    >>> round(chsh_correlator(bell_state("psi-"), [1, 0, 0], [1, 0, 0]), 12)
    -1.0
    """
    t = correlation_matrix(state)
    return float(_unit_vector("a", a) @ t @ _unit_vector("b", b))


def chsh_value(state: qutip.Qobj | np.ndarray, settings: CHSHSettings) -> float:
    """Return ``S = aᵀT b + aᵀT b′ + a′ᵀT b − a′ᵀT b′`` of ``state`` at ``settings``.

    ``S = E₀₀ + E₀₁ + E₁₀ − E₁₁`` with ``E_xy = ⟨A_x ⊗ B_y⟩``, as in :mod:`qstack.apps.chsh`.

    >>> from qstack.quantum.states import bell_state
    >>> tsirelson = CHSHSettings.from_xz_angles((0.0, np.pi / 2), (np.pi / 4, -np.pi / 4))
    >>> round(chsh_value(bell_state("phi+"), tsirelson), 12) == round(2 * math.sqrt(2), 12)
    True
    """
    if not isinstance(settings, CHSHSettings):
        raise TypeError(f"settings must be a CHSHSettings, got {type(settings).__name__}")
    t = correlation_matrix(state)
    s = settings
    return float(s.a @ t @ (s.b + s.b_prime) + s.a_prime @ t @ (s.b - s.b_prime))


def optimal_chsh_settings(state: qutip.Qobj | np.ndarray) -> CHSHSettings:
    """Return settings that reach :func:`max_chsh_value` (Horodecki, Horodecki & Horodecki 1995).

    With ``TᵀT = Σ m_k c_k c_kᵀ`` (``m₁ ≥ m₂ ≥ m₃``): ``b, b′ = cos θ c₁ ± sin θ c₂``,
    ``tan θ = √(m₂/m₁)``, ``a = T(b + b′)/|T(b + b′)|``, ``a′ = T(b − b′)/|T(b − b′)|``. Where
    ``T(b ± b′)`` vanishes (``m₂ = 0``, e.g. product states, or ``T = 0``) the corresponding term
    of ``S`` is 0 for every choice and Alice's vector is set to ``c₁`` (for ``a``) or to ``a``
    (for ``a′``). The eigenvectors' signs are numpy's, so the settings are one optimum of several.

    >>> from qstack.quantum.states import werner
    >>> s = optimal_chsh_settings(werner(1.0))
    >>> round(chsh_value(werner(1.0), s), 12) == round(2 * math.sqrt(2), 12)
    True
    """
    t = correlation_matrix(state)
    m, c = np.linalg.eigh(t.T @ t)
    m1, m2 = max(float(m[2]), 0.0), max(float(m[1]), 0.0)
    c1, c2 = c[:, 2], c[:, 1]
    theta = math.atan2(math.sqrt(m2), math.sqrt(m1))
    b = math.cos(theta) * c1 + math.sin(theta) * c2
    b_prime = math.cos(theta) * c1 - math.sin(theta) * c2
    u, v = t @ (b + b_prime), t @ (b - b_prime)
    nu, nv = float(np.linalg.norm(u)), float(np.linalg.norm(v))
    a = u / nu if nu > _ZERO_TOL else c1
    a_prime = v / nv if nv > _ZERO_TOL else a
    return CHSHSettings(a, a_prime, b, b_prime)
