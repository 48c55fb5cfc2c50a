"""Stage 3: teleport arbitrary qubit states between non-neighbouring nodes.

The sender prepares each state ``R(θ, φ)|0⟩`` locally and teleports it (:meth:`RoleContext.send_qubit`);
the receiver gets the corrected qubit and the experimenter reads its fidelity to the state sent.
With a Werner resource of fidelity F every state arrives with fidelity ``(2F + 1)/3`` (the
Werner state is invariant under ``U ⊗ U*``, so the result does not depend on the state).

>>> from qstack.scenario import linear_chain, load_scenario
>>> scenario = load_scenario(linear_chain(3, seed=1, raw_fidelity=0.9, t2="inf"))
>>> r = run_app(Teleportation(states=[(0.0, 0.0)]), scenario, {"sender": "n0", "receiver": "n2"})
>>> round(r.results["receiver"][0], 6)    # (2F + 1)/3 with F = 0.8133…
0.875556
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from qstack.quantum import gates
from qstack.quantum._qutip import qutip as _qutip
from qstack.stages import Stage
from qstack.validation import check_range

from .runtime import Application, RoleContext, run_app

if TYPE_CHECKING:
    import qutip

__all__ = ["Teleportation", "state_ket"]


def state_ket(theta: float, phi: float) -> qutip.Qobj:
    """``cos(θ/2)|0⟩ + e^{iφ} sin(θ/2)|1⟩``.

    >>> float(abs(state_ket(np.pi, 0).full()[1, 0]))
    1.0
    """
    return _qutip().Qobj(np.array([[np.cos(theta / 2)], [np.exp(1j * phi) * np.sin(theta / 2)]]))


class Teleportation(Application):
    """Teleport each ``(θ, φ)`` of ``states`` from ``sender`` to ``receiver``; the receiver
    returns the fidelity of each received qubit to the state sent.

    ``states`` is a non-empty sequence of ``(θ, φ)`` pairs of finite angles (radians) and
    ``min_fidelity`` (what the sender asks of each end-to-end pair) lies in ``[0, 1]``; anything else
    is a ``TypeError`` or ``ValueError`` naming the parameter.

    >>> Teleportation(states=[(0.0, float("nan"))])
    Traceback (most recent call last):
    ...
    ValueError: states[0] φ must be finite, got nan
    """

    name = "teleportation"
    stage = Stage.QUANTUM_MEMORY
    roles = ("sender", "receiver")
    qubits = {"sender": 2, "receiver": 1}  # the sender holds the state and its half of the pair

    def __init__(self, states: Sequence[tuple[float, float]] = ((0.0, 0.0),), min_fidelity: float = 0.0):
        if isinstance(states, str | bytes) or not isinstance(states, Sequence):
            raise TypeError(f"states must be a sequence of (θ, φ) pairs, got {states!r}")
        if not states:
            raise ValueError("states must list at least one (θ, φ) pair to teleport, got none")
        pairs = []
        for i, pair in enumerate(states):
            if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise TypeError(f"states[{i}] must be a (θ, φ) pair of angles in radians, got {pair!r}")
            pairs.append((check_range(f"states[{i}] θ", pair[0]), check_range(f"states[{i}] φ", pair[1])))
        self.states = pairs
        self.min_fidelity = check_range("min_fidelity", min_fidelity, low=0.0, high=1.0)

    async def sender(self, ctx: RoleContext) -> list[int]:
        outcomes = []
        for theta, phi in self.states:
            q = ctx.qubit()
            ctx.apply(gates.ry(theta), q)
            ctx.apply(gates.rz(phi), q)
            outcomes.append(await ctx.send_qubit(q, "receiver", self.min_fidelity))
        return outcomes

    async def receiver(self, ctx: RoleContext) -> list[float]:
        fidelities = []
        for theta, phi in self.states:
            q = await ctx.recv_qubit("sender")
            rho = ctx.state(q)
            psi = state_ket(theta, phi).full().reshape(-1)
            fidelities.append(float(np.real(np.vdot(psi, rho.full() @ psi))))
            ctx.measure(q)  # consume it (frees the memory position)
        return fidelities


if __name__ == "__main__":  # pragma: no cover
    from qstack.scenario import linear_chain, load_scenario

    sc = load_scenario(linear_chain(3, seed=1))
    print(run_app(Teleportation(states=[(np.pi / 2, 0.0)]), sc, {"sender": "n0", "receiver": "n2"}).results)
