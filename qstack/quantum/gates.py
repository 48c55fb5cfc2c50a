"""Quantum gates as qutip ``Qobj``: Paulis, Clifford gates, T, rotations, CNOT and CZ.

Every gate here is a ``Qobj`` with qubit dims, so users can combine them with qutip. The core
converts an operator to numpy once per call (``Qobj.full()`` costs ~0.4 µs); the kernels use the
numpy matrices (:data:`PAULIS`). The ``Qobj`` constants are built on first access, so importing
this module does not import qutip (~0.3 s of start-up).

Rotation convention: ``R_a(θ) = exp(−i θ σ_a / 2)``. CNOT's first qubit is the control.

>>> import qutip
>>> from qstack.quantum.gates import H
>>> (H * H - qutip.qeye(2)).norm() < 1e-12
True
"""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING

import numpy as np

from ._qutip import qutip as _qutip

if TYPE_CHECKING:
    import qutip

__all__ = ["I", "X", "Y", "Z", "H", "S", "T", "CNOT", "CZ", "SWAP", "rx", "ry", "rz", "PAULIS"]

#: The gates' matrices; the ``Qobj`` constants are built from them on first access (module
#: ``__getattr__``), so importing this module does not import qutip.
_MATRICES: dict[str, np.ndarray] = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, complex(0, -1)], [complex(0, 1), 0]], dtype=complex),  # no −0.0 real parts
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
    "H": np.array([[1, 1], [1, -1]]) / np.sqrt(2),
    "S": np.diag([1, 1j]),
    "T": np.diag([1, np.exp(1j * np.pi / 4)]),
    "CNOT": np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]),
    "CZ": np.diag([1, 1, 1, -1]),
    "SWAP": np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
}
#: I, X, Y, Z as numpy arrays (index = Pauli index used for Pauli frames).
PAULIS: tuple[np.ndarray, ...] = tuple(_MATRICES[name].copy() for name in ("I", "X", "Y", "Z"))

if TYPE_CHECKING:
    I: qutip.Qobj  # noqa: E741 - the identity's conventional name
    X: qutip.Qobj
    Y: qutip.Qobj
    Z: qutip.Qobj
    H: qutip.Qobj
    S: qutip.Qobj
    T: qutip.Qobj
    CNOT: qutip.Qobj
    CZ: qutip.Qobj
    SWAP: qutip.Qobj


def __getattr__(name: str) -> qutip.Qobj:
    """Build the gate constant ``name`` as a ``Qobj`` once, then keep it as a module attribute."""
    matrix = _MATRICES.get(name)
    if matrix is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    qt = _qutip()
    builder = {"I": lambda: qt.qeye(2), "X": qt.sigmax, "Y": qt.sigmay, "Z": qt.sigmaz}.get(name)
    k = matrix.shape[0].bit_length() - 1
    gate = builder() if builder is not None else qt.Qobj(matrix, dims=[[2] * k, [2] * k])
    globals()[name] = gate
    return gate


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MATRICES))


def _rotation(axis: str, theta: float) -> qutip.Qobj:
    if isinstance(theta, bool) or not isinstance(theta, Real):
        raise TypeError(f"rotation angle theta must be a real number (radians), got {theta!r}")
    theta = float(theta)
    if not np.isfinite(theta):
        raise ValueError(f"rotation angle theta must be finite, got {theta}")
    return _qutip().Qobj(_rotation_matrix(axis, theta), dims=[[2], [2]])


def _rotation_matrix(axis: str, theta: float) -> np.ndarray:
    """``exp(−iθσ/2)`` about Pauli ``axis`` (``"X"``, ``"Y"``, ``"Z"``) as a numpy array."""
    return np.cos(theta / 2) * np.eye(2) - 1j * np.sin(theta / 2) * _MATRICES[axis]


def rx(theta: float) -> qutip.Qobj:
    """Rotation ``exp(−iθX/2)`` about the x axis.

    >>> from qstack.quantum.gates import X
    >>> abs((rx(np.pi) - (-1j) * X).norm()) < 1e-12
    True
    """
    return _rotation("X", theta)


def ry(theta: float) -> qutip.Qobj:
    """Rotation ``exp(−iθY/2)`` about the y axis.

    >>> from qstack.quantum.gates import Y
    >>> abs((ry(np.pi) - (-1j) * Y).norm()) < 1e-12
    True
    """
    return _rotation("Y", theta)


def rz(theta: float) -> qutip.Qobj:
    """Rotation ``exp(−iθZ/2)`` about the z axis.

    >>> from qstack.quantum.gates import Z
    >>> abs((rz(np.pi) - (-1j) * Z).norm()) < 1e-12
    True
    """
    return _rotation("Z", theta)
