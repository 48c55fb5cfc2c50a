"""Stages 4–5: distributed quantum computing — a nonlocal CNOT and a distributed algorithm.

**Nonlocal CNOT** by gate teleportation (Eisert, Jacobs, Papadopoulos & Plenio, "Optimal local
implementation of nonlocal quantum gates", PRA 62, 052317 (2000)): one ebit and one classical
bit each way. The control's node holds ``c`` and half ``a`` of a Φ⁺ pair, the target's node
``t`` and the other half ``b``:

1. control: ``CNOT(c → a)``, measure ``a`` in Z → ``m₁``, send it;
2. target: ``X^{m₁}`` on ``b`` (now ``b`` copies ``c`` in the Z basis), ``CNOT(b → t)``,
   measure ``b`` in X → ``m₂``, send it;
3. control: ``Z^{m₂}`` on ``c``.

The result is ``CNOT(c → t)`` on any input, entangled inputs included (|+⟩|0⟩ → Φ⁺ between
the nodes). With a Werner pair of fidelity ``F`` the pair is Φ⁺ with a Pauli error on ``b``
(none with probability ``F``, each of X, Y, Z with ``e = (1 − F)/3``): an X on ``b`` reaches
``t`` through the CNOT (X on ``t``), a Z on ``b`` flips ``m₂`` (Z on ``c``), Y does both. So the
output is ``F φ + e(X_t φ X_t + Z_c φ Z_c + Z_cX_t φ X_tZ_c)`` for ``φ = CNOT|ψ⟩⟨ψ|CNOT``, and its
fidelity ``F + e(⟨X_t⟩² + ⟨Z_c⟩² + ⟨Z_cX_t⟩²)`` (expectations in ``CNOT|ψ⟩``;
:func:`nonlocal_cnot_fidelity`): ``(2F + 1)/3`` on computational inputs, ``F`` for |+⟩|0⟩.

**Distributed Deutsch–Jozsa** (Deutsch & Jozsa, Proc. R. Soc. A 439, 553 (1992)) over three
nodes: ``alice`` and ``bob`` each hold one input qubit, ``charlie`` the output qubit. The
oracle of ``f(x₁, x₂)`` is split across the nodes — ``"x1"``, ``"x2"``, ``"xor"`` (balanced:
nonlocal CNOTs from the inputs' nodes to charlie's qubit) or ``"constant0"``, ``"constant1"``
(nothing, or X at charlie). Inputs ``|+⟩``, output ``|−⟩``; after the oracle the inputs carry
``(−1)^{f(x)}`` and H then Z-measurement gives ``y = (a₁, a₂)`` for ``f = a·x ⊕ c``: all zeros iff
``f`` is constant. Each node measures its own qubit; charlie collects the bits and decides.
With Werner pairs an X error on charlie's half only multiplies ``|−⟩`` by −1, while a Z or Y
error flips the control's bit: every nonlocal CNOT flips its input's bit with probability
``q = 2(1 − F)/3``, so ``P(y = a) = (1 − q)^{#CNOTs}`` and "xor" is misjudged constant with
probability ``q²``, "x1" and "x2" with ``q`` (:func:`deutsch_jozsa_success`).

**Stages (Wehner, Elkouss & Hanson, Science 2018, Table 1) — honestly.** Stage 4 means
fault-tolerant operations on a few *logical* qubits, stage 5 quantum computers beyond
classical simulation. qstack does not encode logical qubits: it models each stage by a noise
model and a qubit count (:func:`qstack.stages.network_stage`: stage 4 needs ≥ 17 physical
qubits per logical qubit and every gate and readout error ≤ 10⁻³; stage 5 ≥ 850 qubits and
errors ≤ 10⁻⁴). The gates here are physical gates with the node's hardware noise standing in
for the logical error rate of that stage. The nonlocal CNOT declares stage 4 (a logical
two-qubit gate across nodes, the building block of distributed fault-tolerant computing);
the distributed algorithm declares stage 5 (distributed quantum computing, the paper's
stage-6 example). A three-qubit Deutsch–Jozsa is of course classically easy: it stands for
the pattern, not for the scale.

>>> from qstack.apps import run_app
>>> from qstack.scenario import linear_chain, load_scenario
>>> sc = load_scenario(linear_chain(2, seed=1, t2="inf", memory_positions=20))
>>> r = run_app(NonlocalCNOT(control="+", target="0"), sc, {"control": "n0", "target": "n1"})
>>> round(pair_fidelity(r.results["control"], r.results["target"], bell_ket()), 9)
1.0
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from qstack.quantum import gates
from qstack.quantum._qutip import qutip as _qutip
from qstack.quantum.core import state_of
from qstack.quantum.states import fidelity
from qstack.stages import Stage
from qstack.transport.sockets import AppQubit

from .runtime import Application, RoleContext

if TYPE_CHECKING:
    import qutip

__all__ = [
    "ORACLES",
    "DeutschJozsaResult",
    "DistributedDeutschJozsa",
    "NonlocalCNOT",
    "bell_ket",
    "deutsch_jozsa_success",
    "input_ket",
    "nonlocal_cnot_control",
    "nonlocal_cnot_fidelity",
    "nonlocal_cnot_target",
    "pair_fidelity",
]

_KETS = {
    "0": np.array([1, 0]), "1": np.array([0, 1]),
    "+": np.array([1, 1]) / np.sqrt(2), "-": np.array([1, -1]) / np.sqrt(2),
    "+i": np.array([1, 1j]) / np.sqrt(2), "-i": np.array([1, -1j]) / np.sqrt(2),
}


def input_ket(label: str | Sequence[complex]) -> qutip.Qobj:
    """A one-qubit ket: ``"0"``, ``"1"``, ``"+"``, ``"-"``, ``"+i"``, ``"-i"`` or two amplitudes
    (normalised here).

    >>> input_ket("+").full().real.ravel().round(6).tolist()
    [0.707107, 0.707107]
    """
    if isinstance(label, str):
        if label not in _KETS:
            raise ValueError(f"unknown state {label!r}; use one of {sorted(_KETS)} or two amplitudes")
        v = _KETS[label].astype(complex)
    else:
        v = np.asarray(label, dtype=complex).reshape(-1)
        if v.shape != (2,) or not np.linalg.norm(v) > 0:
            raise ValueError(f"a one-qubit state needs two amplitudes, not all zero; got {label!r}")
        v = v / np.linalg.norm(v)
    return _qutip().Qobj(v.reshape(2, 1))


def bell_ket() -> qutip.Qobj:
    """Φ⁺ = (|00⟩ + |11⟩)/√2 as a two-qubit ket."""
    return _qutip().Qobj(np.array([[1], [0], [0], [1]]) / np.sqrt(2), dims=[[2, 2], [1, 1]])


def pair_fidelity(a: AppQubit, b: AppQubit, target: qutip.Qobj) -> float:
    """Fidelity of the joint state of ``a`` and ``b`` to the two-qubit ket ``target`` — an
    observation by the experimenter."""
    return fidelity(state_of([a.touch(), b.touch()]), target)


def nonlocal_cnot_fidelity(fidelity_: float, control: qutip.Qobj, target: qutip.Qobj) -> float:
    """Fidelity of the nonlocal CNOT's output to ``CNOT|control, target⟩`` with a Werner pair of
    fidelity ``F``: ``F + e(⟨X_t⟩² + ⟨Z_c⟩² + ⟨Z_cX_t⟩²)``, ``e = (1 − F)/3`` (module docstring).

    >>> round(nonlocal_cnot_fidelity(0.85, input_ket("1"), input_ket("0")), 12)   # (2F + 1)/3
    0.9
    >>> round(nonlocal_cnot_fidelity(0.85, input_ket("+"), input_ket("0")), 12)   # F
    0.85
    """
    phi = (gates.CNOT * _qutip().tensor(control, target)).full().reshape(-1)
    e = (1.0 - fidelity_) / 3.0
    total = fidelity_
    for op in (np.kron(np.eye(2), gates.X.full()), np.kron(gates.Z.full(), np.eye(2)),
               np.kron(gates.Z.full(), gates.X.full())):
        total += e * abs(np.vdot(phi, op @ phi)) ** 2
    return float(total)


async def nonlocal_cnot_control(ctx: RoleContext, c: AppQubit, target_role: str, min_fidelity: float = 0.0) -> None:
    """The control side of the Eisert et al. nonlocal CNOT on local qubit ``c`` (it creates the
    pair with ``target_role``, which runs :func:`nonlocal_cnot_target`)."""
    (a,) = await ctx.epr_socket(target_role).create_keep(1, min_fidelity)
    ctx.apply(gates.CNOT, c, a)
    ctx.send(target_role, bytes([ctx.measure(a, "Z")]))
    (m2,) = await ctx.recv(target_role)
    if m2:
        ctx.apply(gates.Z, c)


async def nonlocal_cnot_target(ctx: RoleContext, t: AppQubit, control_role: str) -> None:
    """The target side of the nonlocal CNOT on local qubit ``t``."""
    (b,) = await ctx.epr_socket(control_role).recv_keep(1)
    (m1,) = await ctx.recv(control_role)
    if m1:
        ctx.apply(gates.X, b)
    ctx.apply(gates.CNOT, b, t)
    ctx.send(control_role, bytes([ctx.measure(b, "X")]))


class NonlocalCNOT(Application):
    """CNOT from ``control``'s qubit to ``target``'s qubit on another node (stage 4).

    Each role prepares its qubit in the given state (``"0"``, ``"1"``, ``"+"``, ``"-"``,
    ``"+i"``, ``"-i"`` or two amplitudes), runs its half of the protocol and returns the qubit,
    unmeasured, for :func:`pair_fidelity`.
    """

    name = "nonlocal-cnot"
    stage = Stage.FEW_QUBIT_FAULT_TOLERANT
    roles = ("control", "target")
    qubits = {"control": 2, "target": 2}  # each: its data qubit and its half of the pair

    def summary(self, results: Mapping[str, Any]) -> dict[str, Any]:
        """Fidelity of the two qubits to ``CNOT|control, target⟩``."""
        from qstack.quantum.gates import CNOT

        expected = CNOT * _qutip().tensor(self.control_ket, self.target_ket)
        return {"fidelity": pair_fidelity(results["control"], results["target"], expected)}

    def __init__(self, control: str | Sequence[complex] = "+", target: str | Sequence[complex] = "0", *,
                 min_fidelity: float = 0.0):
        self.control_ket, self.target_ket = input_ket(control), input_ket(target)
        self.min_fidelity = min_fidelity

    async def control(self, ctx: RoleContext) -> AppQubit:
        c = ctx.qubit(self.control_ket)
        await nonlocal_cnot_control(ctx, c, "target", self.min_fidelity)
        return c

    async def target(self, ctx: RoleContext) -> AppQubit:
        t = ctx.qubit(self.target_ket)
        await nonlocal_cnot_target(ctx, t, "control")
        return t


ORACLES: dict[str, tuple[bool, bool, bool]] = {
    "constant0": (False, False, False),
    "constant1": (False, False, True),
    "x1": (True, False, False),
    "x2": (False, True, False),
    "xor": (True, True, False),
}
"""Oracle name → (CNOT from alice's input, CNOT from bob's input, X on charlie's qubit)."""


def deutsch_jozsa_success(oracle: str, fidelity_: float) -> tuple[float, float]:
    """``(P(y = a), P(verdict correct))`` of :class:`DistributedDeutschJozsa` with Werner pairs
    of fidelity ``F``: each nonlocal CNOT flips its input's bit with ``q = 2(1 − F)/3``.

    >>> deutsch_jozsa_success("xor", 1.0), deutsch_jozsa_success("constant1", 0.5)
    ((1.0, 1.0), (1.0, 1.0))
    """
    a1, a2, _ = ORACLES[oracle]
    q = 2.0 * (1.0 - fidelity_) / 3.0
    k = int(a1) + int(a2)
    exact = (1.0 - q) ** k
    verdict = 1.0 - q**k if k else 1.0
    return exact, verdict


@dataclass(frozen=True)
class DeutschJozsaResult:
    """Charlie's result: the measured ``bits`` ``(y₁, y₂)`` and the ``verdict``
    (``"constant"`` iff both are 0)."""

    bits: tuple[int, int]
    verdict: str


class DistributedDeutschJozsa(Application):
    """Two-bit Deutsch–Jozsa with the oracle split across ``alice``, ``bob`` and ``charlie``.

    ``runs`` independent runs. Charlie returns a list of :class:`DeutschJozsaResult`; alice and
    bob return their bits. With ``observe=True`` nobody measures: each role returns its qubits
    of the last run instead (after the final Hadamards), for an exact check of the outcome
    probabilities from the state.
    """

    name = "distributed-deutsch-jozsa"
    stage = Stage.QUANTUM_COMPUTING
    roles = ("alice", "bob", "charlie")
    qubits = 2  # a data qubit and a half of a pair

    def __init__(self, oracle: str = "xor", runs: int = 1, *, observe: bool = False, min_fidelity: float = 0.0):
        if oracle not in ORACLES:
            raise ValueError(f"oracle must be one of {sorted(ORACLES)}, got {oracle!r}")
        if not (isinstance(runs, int) and runs >= 1):
            raise ValueError(f"runs must be an int >= 1, got {runs!r}")
        self.oracle, self.runs, self.observe, self.min_fidelity = oracle, runs, observe, min_fidelity

    async def _input(self, ctx: RoleContext, uses_cnot: bool) -> list[int] | AppQubit:
        bits: list[int] = []
        q = None
        for _ in range(self.runs):
            q = ctx.qubit()
            ctx.apply(gates.H, q)
            if uses_cnot:
                await nonlocal_cnot_control(ctx, q, "charlie", self.min_fidelity)
            ctx.apply(gates.H, q)
            if self.observe:
                continue
            bits.append(ctx.measure(q, "Z"))
            ctx.send("charlie", bytes(bits[-1:]))
        return q if self.observe else bits  # type: ignore[return-value]

    async def alice(self, ctx: RoleContext) -> list[int] | AppQubit:
        return await self._input(ctx, ORACLES[self.oracle][0])

    async def bob(self, ctx: RoleContext) -> list[int] | AppQubit:
        return await self._input(ctx, ORACLES[self.oracle][1])

    async def charlie(self, ctx: RoleContext) -> list[DeutschJozsaResult] | AppQubit:
        from_alice, from_bob, flip = ORACLES[self.oracle]
        results = []
        q = None
        for _ in range(self.runs):
            q = ctx.qubit()
            ctx.apply(gates.X, q)
            ctx.apply(gates.H, q)  # |−⟩
            if from_alice:
                await nonlocal_cnot_target(ctx, q, "alice")
            if from_bob:
                await nonlocal_cnot_target(ctx, q, "bob")
            if flip:
                ctx.apply(gates.X, q)
            if self.observe:
                continue
            ctx.measure(q, "Z")  # the output qubit is not needed: free it
            (y1,) = await ctx.recv("alice")
            (y2,) = await ctx.recv("bob")
            results.append(DeutschJozsaResult((y1, y2), "constant" if y1 == y2 == 0 else "balanced"))
        return q if self.observe else results  # type: ignore[return-value]
