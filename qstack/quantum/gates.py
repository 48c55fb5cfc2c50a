"""Quantum gates as qutip ``Qobj``: Paulis, Clifford gates, T, rotations, CNOT and CZ.

Every gate here is a ``Qobj`` with qubit dims, so users can combine them with qutip. The core
converts an operator to numpy once per call (``Qobj.full()`` costs ~0.4 µs); the constants
below also keep their numpy arrays for the kernels.

Rotation convention: ``R_a(θ) = exp(−i θ σ_a / 2)``. CNOT's first qubit is the control.

>>> import qutip
>>> (H * H - qutip.qeye(2)).norm() < 1e-12
True
"""

from __future__ import annotations

import numpy as np
import qutip

__all__ = ["I", "X", "Y", "Z", "H", "S", "T", "CNOT", "CZ", "SWAP", "rx", "ry", "rz", "PAULIS"]

I = qutip.qeye(2)  # noqa: E741 - the identity's conventional name
X = qutip.sigmax()
Y = qutip.sigmay()
Z = qutip.sigmaz()
H = qutip.Qobj(np.array([[1, 1], [1, -1]]) / np.sqrt(2), dims=[[2], [2]])
S = qutip.Qobj(np.diag([1, 1j]), dims=[[2], [2]])
T = qutip.Qobj(np.diag([1, np.exp(1j * np.pi / 4)]), dims=[[2], [2]])
CNOT = qutip.Qobj(
    np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]), dims=[[2, 2], [2, 2]]
)
CZ = qutip.Qobj(np.diag([1, 1, 1, -1]), dims=[[2, 2], [2, 2]])
SWAP = qutip.Qobj(
    np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]]), dims=[[2, 2], [2, 2]]
)
#: I, X, Y, Z as numpy arrays (index = Pauli index used for Pauli frames).
PAULIS: tuple[np.ndarray, ...] = tuple(p.full() for p in (I, X, Y, Z))


def _rotation(axis: qutip.Qobj, theta: float) -> qutip.Qobj:
    theta = float(theta)
    if not np.isfinite(theta):
        raise ValueError(f"rotation angle theta must be finite, got {theta}")
    return qutip.Qobj(
        np.cos(theta / 2) * np.eye(2) - 1j * np.sin(theta / 2) * axis.full(), dims=[[2], [2]]
    )


def rx(theta: float) -> qutip.Qobj:
    """Rotation ``exp(−iθX/2)`` about the x axis.

    >>> abs((rx(np.pi) - (-1j) * X).norm()) < 1e-12
    True
    """
    return _rotation(X, theta)


def ry(theta: float) -> qutip.Qobj:
    """Rotation ``exp(−iθY/2)`` about the y axis.

    >>> abs((ry(np.pi) - (-1j) * Y).norm()) < 1e-12
    True
    """
    return _rotation(Y, theta)


def rz(theta: float) -> qutip.Qobj:
    """Rotation ``exp(−iθZ/2)`` about the z axis.

    >>> abs((rz(np.pi) - (-1j) * Z).norm()) < 1e-12
    True
    """
    return _rotation(Z, theta)
