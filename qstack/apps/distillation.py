"""Stage 3: end-to-end entanglement distillation run by the applications themselves (DEJMPS).

Deutsch, Ekert, Jozsa, Macchiavello, Popescu & Sanpera, "Quantum privacy amplification and
the security of quantum cryptography over noisy channels", PRL 77, 2818 (1996). Two end roles
hold ``2^k`` end-to-end pairs (delivered as Φ⁺ by the transport) and run ``k`` recurrence
rounds with their own local gates and classical messages; nothing in the network purifies.

One round on pairs ``(a₁, b₁)`` (kept) and ``(a₂, b₂)`` (sacrificed): Alice applies
``Rx(π/2)`` to ``a₁, a₂``, Bob ``Rx(−π/2)`` to ``b₁, b₂``; each applies ``CNOT(1 → 2)`` and
measures qubit 2 in Z; they exchange the bits and keep pair 1 when the bits agree. On two
copies of a Bell-diagonal state with coefficients ``(A, B, C, D) = (Φ⁺, Ψ⁻, Ψ⁺, Φ⁻)`` it
succeeds with probability ``N = (A + B)² + (C + D)²`` and leaves
``A' = (A² + B²)/N``, ``B' = 2CD/N``, ``C' = (C² + D²)/N``, ``D' = 2AB/N``
(:func:`qstack.quantum.theory.dejmps`). End-to-end pairs over ``L`` Werner links of fidelity
``F`` with ideal swaps are Werner with fidelity ``werner_swap_fidelity(F, …, F)``, i.e.
coefficients ``(F, e, e, e)``, ``e = (1 − F)/3`` (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ order);
:func:`expected_distillation` iterates the map: ``k`` rounds succeed with probability
``∏_j N_j^{2^{k−j}}`` (every purification of round ``j`` must succeed).

An attempt that fails in any purification is abandoned (its remaining qubits are measured
to free their memory) and the next attempt starts with fresh pairs.

Stage 3 (quantum memory) in Wehner, Elkouss & Hanson, Science 2018, Table 1: the pairs are
stored while the classical bits travel, and the roles apply local two-qubit gates.

>>> from qstack.apps import run_app
>>> from qstack.scenario import linear_chain, load_scenario
>>> sc = load_scenario(linear_chain(3, seed=1, raw_fidelity=0.9, t2="inf"))
>>> r = run_app(Distillation(rounds=1, attempts=4), sc, {"alice": "n0", "bob": "n2"})
>>> f, p = expected_distillation(theory.werner_swap_fidelity(0.9, 0.9), rounds=1)
>>> round(f, 9), round(pair_fidelity(r.results["alice"].pair, r.results["bob"].pair), 9)
(0.850781704, 0.850781704)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from qstack.quantum import gates, theory
from qstack.quantum.core import state_of
from qstack.quantum.states import bell_state, fidelity
from qstack.stages import Stage
from qstack.transport.sockets import AppQubit

from .runtime import Application, RoleContext

__all__ = ["Distillation", "DistillationResult", "expected_distillation", "pair_fidelity"]


def expected_distillation(fidelity_: float, rounds: int = 1) -> tuple[float, float]:
    """``(F_out, P_success)`` of ``rounds`` DEJMPS recurrence rounds on Werner pairs of
    ``fidelity_`` (:func:`qstack.quantum.theory.dejmps` iterated).

    >>> [round(x, 6) for x in expected_distillation(0.8, 1)]
    [0.83815, 0.768889]
    """
    e = (1.0 - fidelity_) / 3.0
    c = np.array([fidelity_, e, e, e])
    p = 1.0
    for j in range(1, rounds + 1):
        c, n = theory.dejmps(c)
        p *= n ** (2 ** (rounds - j))
    return float(c[0]), p


def pair_fidelity(a: AppQubit, b: AppQubit) -> float:
    """Φ⁺ fidelity of the pair ``(a, b)`` — an observation by the experimenter."""
    return fidelity(state_of([a.touch(), b.touch()]), bell_state("phi+"))


@dataclass
class DistillationResult:
    """One role's result: ``successes`` (one flag per attempt) and ``pair``, this side's
    qubit of the last distilled pair (left unmeasured; ``None`` if no attempt succeeded)."""

    successes: list[bool]
    pair: AppQubit | None

    @property
    def success_rate(self) -> float:
        """Fraction of successful attempts."""
        return sum(self.successes) / len(self.successes)


class Distillation(Application):
    """``attempts`` DEJMPS distillation attempts of ``rounds`` rounds each between ``alice``
    (who requests the pairs) and ``bob``; both return a :class:`DistillationResult`.

    Each attempt takes ``2**rounds`` pairs at once, so the end nodes need that many memory
    positions on their links (one more to keep the previous output).
    """

    name = "distillation"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")

    def summary(self, results: Mapping[str, Any]) -> dict[str, Any]:
        """The Φ⁺ fidelity of the last distilled pair and the success rate."""
        a, b = results["alice"], results["bob"]
        fid = pair_fidelity(a.pair, b.pair) if a.pair is not None and b.pair is not None else None
        return {"fidelity": fid, "success_rate": a.success_rate}

    def __init__(self, rounds: int = 1, attempts: int = 1, *, min_fidelity: float = 0.0):
        if not (isinstance(rounds, int) and rounds >= 1):
            raise ValueError(f"rounds must be an int >= 1, got {rounds!r}")
        if not (isinstance(attempts, int) and attempts >= 1):
            raise ValueError(f"attempts must be an int >= 1, got {attempts!r}")
        self.rounds, self.attempts, self.min_fidelity = rounds, attempts, min_fidelity
        # each side holds the 2^rounds pairs of an attempt, and the last output while it makes more
        self.qubits = 2**rounds + (1 if attempts > 1 else 0)

    async def _run(self, ctx: RoleContext, peer: str, creator: bool) -> DistillationResult:
        sock = ctx.epr_socket(peer)
        rotation = gates.rx(math.pi / 2 if creator else -math.pi / 2)
        successes: list[bool] = []
        last: AppQubit | None = None
        n = 2**self.rounds
        for _ in range(self.attempts):
            pairs = await (sock.create_keep(n, self.min_fidelity) if creator else sock.recv_keep(n))
            ok = True
            for _ in range(self.rounds):
                kept, sacrificed = pairs[0::2], pairs[1::2]
                mine = []
                for q1, q2 in zip(kept, sacrificed, strict=True):
                    ctx.apply(rotation, q1)
                    ctx.apply(rotation, q2)
                    ctx.apply(gates.CNOT, q1, q2)
                    mine.append(ctx.measure(q2, "Z"))
                ctx.send(peer, bytes(mine))
                theirs = list(await ctx.recv(peer))
                ok = mine == theirs
                pairs = kept
                if not ok:
                    break
            successes.append(ok)
            if ok:
                if last is not None:
                    ctx.measure(last)  # a newer output replaces it: free the memory
                last = pairs[0]
            else:
                for q in pairs:
                    ctx.measure(q)
        return DistillationResult(successes, last)

    async def alice(self, ctx: RoleContext) -> DistillationResult:
        return await self._run(ctx, "bob", True)

    async def bob(self, ctx: RoleContext) -> DistillationResult:
        return await self._run(ctx, "alice", False)
