"""Universal blind quantum computing on a linear cluster (client stage 1, server stage 3).

Broadbent, Fitzsimons & Kashefi, "Universal blind quantum computation", FOCS 2009
(arXiv:0807.4154), in the measurement-based model (Raussendorf & Briegel, PRL 86, 5188
(2001)). The computation is a linear cluster of ``m`` qubits, each measured in the X–Y plane
at an angle ``φ_i``, basis ``|±_φ⟩ = (|0⟩ ± e^{iφ}|1⟩)/√2`` (outcome 0 ↔ ``+``).

*What it computes.* Measuring qubit ``i`` of ``CZ(|ψ⟩|+⟩)`` at angle ``φ`` with outcome ``s``
leaves ``X^s J(−φ)|ψ⟩`` on the next qubit, ``J(α) = H·diag(1, e^{iα})``. Byproducts are
absorbed by adapting the angles: ``φ'_i = (−1)^{s_{i−1}} φ_i + s_{i−2} π`` (``s_0 = s_{−1} = 0``);
the last outcome ``s_m`` is the output, with
``P(s_m = 0) = |⟨+_{φ_m}| J(−φ_{m−1}) ⋯ J(−φ_1) |+⟩|²`` (:func:`direct_output_probability`, the
same computation done directly as a circuit).

*Blindness.* The client draws ``θ_i`` uniformly from ``{kπ/4}``, prepares ``|+_{θ_i}⟩`` and sends
it; the server entangles the qubits with CZ (which commutes with the ``θ`` rotations). For each
qubit the client draws ``r_i ∈ {0, 1}`` and sends ``δ_i = φ'_i + θ_i + r_i π``; the server measures
in ``|±_δ⟩`` and returns ``b_i``; the client decodes ``s_i = b_i ⊕ r_i``. Because ``θ_i`` is uniform
on the eight angles, ``δ_i`` is uniform on them whatever ``φ'_i`` (in the same set) is: the server
learns nothing about the angles (BFK09, Theorem 2) — checked statistically in the tests.

*Noise.* Over a Werner resource of fidelity ``F`` each teleported qubit is depolarised,
``ρ → wρ + (1 − w)𝟙/2`` with ``w = (4F − 1)/3``. On ``|+_θ⟩`` (depolarising commutes with the
``θ`` rotation, and X fixes ``|+⟩``) that is a Z error with probability ``q = (1 − w)/2``; Z
commutes with CZ and ``⟨±_φ|Z = ⟨±_{φ+π}|``, so a Z error on qubit ``i`` runs the computation
with ``φ_i + π``. The output probability is the average of :func:`direct_output_probability`
over independent flips (:func:`blind_output_probability`).

**Stages (Wehner, Elkouss & Hanson, Science 2018, Table 1).** The client only prepares single
qubits and sends them, and reads classical answers: stage 1 (prepare and measure); the server
stores and entangles them: stage 3. The roles declare exactly that (``role_stages``). A
photonic client would send its qubits directly; qstack delivers them by teleportation from
the client's node, so the client's half of each end-to-end pair sits in its memory from its
arrival until the Bell measurement — which the client does at once, in the same instant as it
prepares the qubit. :meth:`RoleContext.send_qubit` refuses roles below stage 3, so the client
here teleports through the transport's lower-level calls (:func:`send_prepared_qubit`); a
runtime call for stage-1 state sending would replace it.

>>> from qstack.apps import run_app
>>> from qstack.scenario import linear_chain, load_scenario
>>> sc = load_scenario(linear_chain(2, seed=1, t2="inf"))
>>> r = run_app(BlindComputation([math.pi / 2, math.pi / 2], runs=2), sc, {"client": "n0", "server": "n1"})
>>> r.results["client"]                     # P(0) = 1 for these angles
[0, 0]
>>> round(direct_output_probability([math.pi / 2, math.pi / 2]), 12)
1.0
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qstack.quantum import gates
from qstack.quantum._qutip import qutip as _qutip
from qstack.stages import Stage
from qstack.transport.sockets import AppQubit

from .runtime import Application, RoleContext

if TYPE_CHECKING:
    import qutip

__all__ = [
    "ANGLE_STEP",
    "BlindComputation",
    "ServerView",
    "blind_output_probability",
    "direct_output_probability",
    "send_prepared_qubit",
    "xy_basis",
]

ANGLE_STEP: float = math.pi / 4
"""The angles of the protocol are multiples of π/4 (the set BFK09 needs for universality)."""


def xy_basis(angle: float) -> list[qutip.Qobj]:
    """``[|+_δ⟩, |−_δ⟩]`` with ``|±_δ⟩ = (|0⟩ ± e^{iδ}|1⟩)/√2``.

    >>> xy_basis(0.0)[1].full().real.ravel().round(6).tolist()
    [0.707107, -0.707107]
    """
    e = np.exp(1j * angle)
    qobj = _qutip().Qobj
    return [qobj(np.array([[1], [e]]) / np.sqrt(2)), qobj(np.array([[1], [-e]]) / np.sqrt(2))]


def _j(alpha: float) -> np.ndarray:
    return np.array([[1, 1], [1, -1]]) / np.sqrt(2) @ np.diag([1, np.exp(1j * alpha)])


def direct_output_probability(phis: Sequence[float]) -> float:
    """``P(output 0) = |⟨+_{φ_m}| J(−φ_{m−1}) ⋯ J(−φ_1)|+⟩|²``: the computation done directly.

    >>> round(direct_output_probability([math.pi / 4, math.pi / 4]), 12)
    0.75
    """
    if len(phis) < 1:
        raise ValueError("a computation needs at least one angle")
    psi = np.array([1, 1]) / np.sqrt(2)
    for phi in phis[:-1]:
        psi = _j(-phi) @ psi
    plus = np.array([1, np.exp(1j * phis[-1])]) / np.sqrt(2)
    return float(abs(np.vdot(plus, psi)) ** 2)


def blind_output_probability(phis: Sequence[float], flip_probability: float = 0.0) -> float:
    """``P(output 0)`` when each input qubit suffers a Z error with ``flip_probability``
    (a Werner resource: ``(1 − w)/2``): the average of :func:`direct_output_probability` over
    ``φ_i → φ_i + π`` flips.

    >>> round(blind_output_probability([math.pi / 2, math.pi / 2], 0.1), 12)   # ((1 − q)² + q²)
    0.82
    """
    q = float(flip_probability)
    total = 0.0
    for flips in itertools.product((0, 1), repeat=len(phis)):
        weight = math.prod(q if z else 1 - q for z in flips)
        if weight:
            total += weight * direct_output_probability([p + z * math.pi for p, z in zip(phis, flips, strict=True)])
    return total


async def send_prepared_qubit(ctx: RoleContext, q: AppQubit, to_role: str, min_fidelity: float = 0.0) -> int:
    """Send the freshly prepared ``q`` to ``to_role`` as a stage-1 client does
    (:meth:`RoleContext.send_prepared`: nothing is stored at the client). Returns the Bell
    outcome sent; the receiver calls :meth:`RoleContext.recv_qubit`."""
    return await ctx.send_prepared(q, to_role, min_fidelity)


@dataclass(frozen=True)
class ServerView:
    """Everything the server sees in a run: the angles ``deltas`` (in units of π/4 when on the
    grid, else radians) and the outcomes ``outcomes`` it returned, one list per run."""

    deltas: list[list[float]]
    outcomes: list[list[int]]


class BlindComputation(Application):
    """Run a linear-cluster MBQC with angles ``phis`` blindly on a server, ``runs`` times.

    The client returns the list of decoded outputs ``s_m`` (one per run); the server returns a
    :class:`ServerView`. Angles on the π/4 grid are sent as multiples of π/4 (one byte); any
    other angle is sent as a float, and then blindness is not guaranteed.
    """

    name = "blind-computation"
    stage = Stage.QUANTUM_MEMORY
    role_stages = {"client": Stage.PREPARE_AND_MEASURE, "server": Stage.QUANTUM_MEMORY}
    roles = ("client", "server")

    def __init__(self, phis: Sequence[float] = (math.pi / 4, math.pi / 4), runs: int = 1, *,
                 min_fidelity: float = 0.0):
        if len(phis) < 1:
            raise ValueError("phis must hold at least one angle")
        if not (isinstance(runs, int) and runs >= 1):
            raise ValueError(f"runs must be an int >= 1, got {runs!r}")
        self.phis = [float(p) for p in phis]
        self.qubits = {"client": 1, "server": len(self.phis)}  # the server holds the whole cluster
        self.runs = runs
        self.min_fidelity = min_fidelity
        steps = [p / ANGLE_STEP for p in self.phis]
        self.on_grid = all(abs(s - round(s)) < 1e-12 for s in steps)

    def _encode(self, delta: float) -> bytes:
        if self.on_grid:
            return bytes([round(delta / ANGLE_STEP) % 8])
        return np.float64(delta % (2 * math.pi)).tobytes()

    def _decode(self, payload: bytes) -> float:
        if len(payload) == 1:
            return payload[0] * ANGLE_STEP
        return float(np.frombuffer(payload, dtype=np.float64)[0])

    async def client(self, ctx: RoleContext) -> list[int]:
        outputs = []
        m = len(self.phis)
        for _ in range(self.runs):
            thetas = [int(ctx.rng.integers(8)) * ANGLE_STEP for _ in range(m)]
            for theta in thetas:
                q = ctx.qubit()
                ctx.apply(gates.H, q)
                ctx.apply(gates.rz(theta), q)  # |+_θ⟩ up to a global phase
                await send_prepared_qubit(ctx, q, "server", self.min_fidelity)
            s: list[int] = []
            for i, (phi, theta) in enumerate(zip(self.phis, thetas, strict=True)):
                sx = s[i - 1] if i >= 1 else 0
                sz = s[i - 2] if i >= 2 else 0
                r = int(ctx.rng.integers(2))
                delta = (-1) ** sx * phi + sz * math.pi + theta + r * math.pi
                ctx.send("server", self._encode(delta))
                (b,) = await ctx.recv("server")
                s.append(b ^ r)
            outputs.append(s[-1])
        return outputs

    async def server(self, ctx: RoleContext) -> ServerView:
        deltas, outcomes = [], []
        for _ in range(self.runs):
            qubits = [await ctx.recv_qubit("client") for _ in self.phis]
            for a, b in itertools.pairwise(qubits):
                ctx.apply(gates.CZ, a, b)
            seen, outs = [], []
            for q in qubits:
                delta = self._decode(await ctx.recv("client"))
                b = ctx.measure(q, xy_basis(delta))
                ctx.send("client", bytes([b]))
                seen.append(delta / ANGLE_STEP if self.on_grid else delta)
                outs.append(b)
            deltas.append(seen)
            outcomes.append(outs)
        return ServerView(deltas, outcomes)
