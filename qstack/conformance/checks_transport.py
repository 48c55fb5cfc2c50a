"""Contracts of the transport layer: EPR sockets and teleportation over the network's pairs.

The target is a transport factory ``factory(runtime, network_layer, session, node_of) -> layer``
— :class:`qstack.transport.sockets.TransportLayer` or a class with its interface — plugged in
at every node with ``run_app(app, scenario, roles, transport=factory)``. The suite drives it
with small applications of its own, written only against the role context (``epr_socket``,
``send_qubit``/``recv_qubit``), and judges the states the roles end up with, measured from
their density matrices as an experimenter would.

* ``transport.teleportation_fidelity`` — teleporting each of the six Pauli eigenstates (a
  2-design, so their mean is the average over all input states) over a Werner resource of
  fidelity F gives ⟨ψ|ρ_out|ψ⟩ = (2F + 1)/3 for every one of them (Bennett et al., PRL 70,
  1895 (1993); Horodecki et al., PRA 60, 1888 (1999)): the Werner channel is depolarising.
* ``transport.mismatch_is_error`` — a ``recv_*`` that does not match its peer's ``create_*``
  (keep vs measure, or the number of pairs) fails at both roles with
  :class:`qstack.transport.EPRMismatch`, neither hanging nor handing out pairs.
* ``transport.floor_honoured`` — every pair ``create_keep(min_fidelity = floor)`` hands out has
  Φ⁺ fidelity ≥ floor when the receiver gets it, and a floor even fresh pairs cannot reach is
  refused at once with a ValueError, before any pair is made.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qstack.conformance.framework import TOLERANCE, CheckResult, Context, Target, check
from qstack.conformance.runs import chain

#: raw (Werner) fidelity of the teleportation resource's links
TELE_RAW = 0.9
#: the floor run: three nodes, 10 km links of raw fidelity 0.95, T2 = 20 ms memories
FLOOR, FLOOR_PAIRS, FLOOR_UNREACHABLE = 0.85, 12, 0.97
#: how long a role waits on a socket before it counts as hanging (simulated seconds)
SOCKET_WAIT = 0.5


def _pauli_eigenstates() -> list[tuple[str, Any]]:
    import qutip

    z0, z1 = qutip.basis(2, 0), qutip.basis(2, 1)
    s = 1 / math.sqrt(2)
    return [("|0⟩", z0), ("|1⟩", z1), ("|+⟩", s * (z0 + z1)), ("|−⟩", s * (z0 - z1)),
            ("|+i⟩", s * (z0 + 1j * z1)), ("|−i⟩", s * (z0 - 1j * z1))]


def _apps() -> Any:
    """The suite's own applications (built lazily: importing qstack.apps pulls in the runtime)."""
    from qstack.apps import Application
    from qstack.stages import Stage
    from qstack.transport import EPRMismatch

    class Teleport(Application):
        """The sender teleports each state in turn; the receiver reports ⟨ψ|ρ|ψ⟩ of what arrived."""

        name = "conformance-teleport"
        stage = Stage.QUANTUM_MEMORY
        roles = ("sender", "receiver")
        qubits = {"sender": 2, "receiver": 1}

        def __init__(self, states: list[tuple[str, Any]]) -> None:
            self.states = states

        async def sender(self, ctx: Any) -> int:
            for _, ket in self.states:
                q = ctx.qubit(ket)
                await ctx.send_qubit(q, "receiver")
            return len(self.states)

        async def receiver(self, ctx: Any) -> list[float]:
            out = []
            for _, ket in self.states:
                q = await ctx.recv_qubit("sender", timeout=SOCKET_WAIT)
                rho = ctx.state(q).full()
                v = ket.full().ravel()
                out.append(float(np.real(v.conj() @ rho @ v)))
                ctx.measure(q)
            return out

    class Pair(Application):
        """alice calls ``create``, bob ``recv``; each returns the exception it got, or what it got."""

        name = "conformance-socket-pair"
        stage = Stage.QUANTUM_MEMORY
        roles = ("alice", "bob")
        qubits = 4

        def __init__(self, create: Any, recv: Any) -> None:
            self.create, self.recv = create, recv

        async def _role(self, ctx: Any, peer: str, call: Any) -> Any:
            try:
                got = await call(ctx.epr_socket(peer))
            except Exception as exc:  # noqa: BLE001 - the outcome is what is judged
                return exc
            for q in got:
                if hasattr(q, "touch"):
                    ctx.measure(q)
            return got

        async def alice(self, ctx: Any) -> Any:
            return await self._role(ctx, "bob", self.create)

        async def bob(self, ctx: Any) -> Any:
            return await self._role(ctx, "alice", self.recv)

    class Floor(Application):
        """alice asks for pairs one at a time at a floor; bob reports each pair's Φ⁺ fidelity on
        receipt (the experimenter's observation of both halves)."""

        name = "conformance-floor"
        stage = Stage.QUANTUM_MEMORY
        roles = ("alice", "bob")
        qubits = 1

        def __init__(self, floor: float, pairs: int) -> None:
            self.floor, self.pairs = floor, pairs

        async def alice(self, ctx: Any) -> Any:
            sock = ctx.epr_socket("bob")
            for _ in range(self.pairs):
                try:
                    (q,) = await sock.create_keep(1, min_fidelity=self.floor, timeout=SOCKET_WAIT)
                except Exception as exc:  # noqa: BLE001
                    return exc
                ctx.measure(q)
            return None

        async def bob(self, ctx: Any) -> Any:
            from qstack.quantum.states import BELL_KETS_NP

            sock = ctx.epr_socket("alice")
            out = []
            for _ in range(self.pairs):
                try:
                    (q,) = await sock.recv_keep(1, timeout=SOCKET_WAIT)
                except Exception as exc:  # noqa: BLE001
                    return out, exc
                rho = ctx.session.network.pair_state(q.pair)
                out.append(float(np.real(BELL_KETS_NP[0].conj() @ rho @ BELL_KETS_NP[0])))
                ctx.measure(q)
            return out, None

    return Teleport, Pair, Floor, EPRMismatch


@check("transport.teleportation_fidelity", "transport", f"""A teleported state arrives with the fidelity
       theory allows for the resource: each of the six Pauli eigenstates (a 2-design, so their mean is
       the average over input states) teleported with send_qubit/recv_qubit over a Werner resource of
       fidelity F arrives with ⟨ψ|ρ|ψ⟩ = (2F + 1)/3, to 1e-9 — on one link (F = {TELE_RAW}) and over one
       swap (F = theory.werner_swap_fidelity({TELE_RAW}, {TELE_RAW})), ideal memories and gates, each
       state sent twice so that both heralded Bell states occur.""",
       source="Bennett et al., PRL 70, 1895 (1993); Horodecki et al., PRA 60, 1888 (1999)")
def _teleportation(target: Target, ctx: Context) -> CheckResult:
    from qstack.apps import run_app
    from qstack.quantum import theory

    Teleport, _, _, _ = _apps()
    states = _pauli_eigenstates() * 2
    worst, detail, n = 0.0, "", 0
    expected_first = None
    for nodes in (2, 3):
        f = theory.werner_swap_fidelity(*[TELE_RAW] * (nodes - 1))
        expected = (2 * f + 1) / 3
        expected_first = expected if expected_first is None else expected_first
        sc = chain(nodes, "2 km", seed=ctx.seed, duration=1.0, raw_fidelity=TELE_RAW)
        out = run_app(Teleport(states), sc, {"sender": "n0", "receiver": f"n{nodes - 1}"},
                      transport=target.factory())
        got = out.results["receiver"]
        for (label, _), fid in zip(states, got, strict=True):
            n += 1
            if abs(fid - expected) > worst:
                worst = abs(fid - expected)
                detail = f"{nodes - 1} link(s), F = {f:.9g}: {label} arrived at {fid:.9g}, theory {expected:.9g}"
        mean = float(np.mean(got))
        if abs(mean - expected) > worst:
            worst, detail = abs(mean - expected), f"{nodes - 1} link(s): mean {mean:.9g}, theory {expected:.9g}"
    shown = f" ({detail})" if worst > TOLERANCE else ""
    return CheckResult(worst <= TOLERANCE, worst, 0.0, tolerance=TOLERANCE,
                       detail=f"{n} teleported states; max |F − (2F_res+1)/3|{shown}")


#: (create call, recv call, their names): each must fail at both ends
MISMATCHES = (
    (lambda s: s.create_keep(2, timeout=SOCKET_WAIT), lambda s: s.recv_keep(3, timeout=SOCKET_WAIT),
     "create_keep(2) / recv_keep(3)"),
    (lambda s: s.create_keep(1, timeout=SOCKET_WAIT), lambda s: s.recv_measure(1, timeout=SOCKET_WAIT),
     "create_keep(1) / recv_measure(1)"),
    (lambda s: s.create_measure(2, timeout=SOCKET_WAIT), lambda s: s.recv_keep(2, timeout=SOCKET_WAIT),
     "create_measure(2) / recv_keep(2)"),
)


@check("transport.mismatch_is_error", "transport", f"""create/recv mismatches are errors: for
       create_keep(2)/recv_keep(3), create_keep(1)/recv_measure(1) and create_measure(2)/recv_keep(2)
       between the ends of a 2-node chain, both roles fail with qstack.transport.EPRMismatch — not a
       hang (each call waits at most {SOCKET_WAIT:g} s), not a Timeout, not pairs handed out.""")
def _mismatch(target: Target, ctx: Context) -> CheckResult:
    from qstack.apps import run_app

    _, Pair, _, EPRMismatch = _apps()
    problems = []
    for create, recv, label in MISMATCHES:
        sc = chain(2, "2 km", seed=ctx.seed, duration=2.0)
        res = run_app(Pair(create, recv), sc, {"alice": "n0", "bob": "n1"}, transport=target.factory(),
                      until=2.0).results
        for role in ("alice", "bob"):
            if not isinstance(res[role], EPRMismatch):
                got = type(res[role]).__name__ if isinstance(res[role], BaseException) else f"{len(res[role])} items"
                problems.append(f"{label}: {role} got {got}")
    return CheckResult(not problems, len(problems), 0, tolerance=0,
                       detail="; ".join(problems[:3]) or f"{len(MISMATCHES)} mismatches, EPRMismatch at both ends")


@check("transport.floor_honoured", "transport", f"""Floors are honoured: on a 3-node chain (10 km links,
       raw fidelity 0.95, T2 = 20 ms memories) each of {FLOOR_PAIRS} pairs made by
       create_keep(1, min_fidelity = {FLOOR}) has ⟨Φ⁺|ρ|Φ⁺⟩ ≥ {FLOOR} − 1e-9 when the receiver gets it
       (measured from both halves' state); and create_keep(1, min_fidelity = {FLOOR_UNREACHABLE}), above
       what even fresh pairs reach, is refused at once with a ValueError before any pair is made.""")
def _floor(target: Target, ctx: Context) -> CheckResult:
    from qstack.apps import run_app

    _, _, Floor, _ = _apps()
    sc = chain(3, "10 km", seed=ctx.seed, duration=5.0, raw_fidelity=0.95, t2="20 ms")
    out = run_app(Floor(FLOOR, FLOOR_PAIRS), sc, {"alice": "n0", "bob": "n2"}, transport=target.factory(),
                  until=5.0)
    fids, err = out.results["bob"]
    if isinstance(out.results["alice"], BaseException) or err is not None or len(fids) != FLOOR_PAIRS:
        return CheckResult(False, len(fids), FLOOR_PAIRS, tolerance=0,
                           detail=f"floor {FLOOR}: got {len(fids)} of {FLOOR_PAIRS} pairs "
                                  f"(alice: {out.results['alice']!r}, bob: {err!r})")
    low = min(fids)
    sc = chain(3, "10 km", seed=ctx.seed, duration=1.0, raw_fidelity=0.95, t2="20 ms")
    out2 = run_app(Floor(FLOOR_UNREACHABLE, 1), sc, {"alice": "n0", "bob": "n2"}, transport=target.factory(),
                   until=1.0)
    refused = out2.results["alice"]
    made = sum(s.pairs_generated for s in out2.network.stations.values())
    if not isinstance(refused, ValueError) or made:
        return CheckResult(False, low, FLOOR, tolerance=TOLERANCE,
                           detail=f"floor {FLOOR_UNREACHABLE} (unreachable): alice got {refused!r}, "
                                  f"{made} link pairs made")
    return CheckResult.at_least(low, FLOOR, detail=f"{FLOOR_PAIRS} pairs, lowest fidelity; floor "
                                f"{FLOOR_UNREACHABLE} refused: {str(refused)[:60]}")
