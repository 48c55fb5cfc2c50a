"""Transport contracts checked at run time: what the two ends of an EPR socket agree on.

An EPR socket pairs a ``create_*`` at one role with a ``recv_*`` at its peer: the same count,
both keep or both measure. A role declares the memory qubits it holds at once; the runtime
holds it to that, and to its node's memory. Kept halves come with what the end learns: the
pair's Bell state before correction, the end nodes' fidelity estimate, its creation time.
"""

from __future__ import annotations

import math

import pytest

from qstack.apps import Application, run_app
from qstack.quantum import bell_state, fidelity
from qstack.scenario import linear_chain, load_scenario
from qstack.sim import Timeout
from qstack.stages import Stage
from qstack.transport import EPRMismatch


def chain(n: int = 2, **kw):
    kw.setdefault("t2", "inf")
    return load_scenario(linear_chain(n, "2 km", seed=4, duration="1 s", **kw))


class _Pair(Application):
    """alice creates, bob receives, each by the given call; each returns its error, if any."""

    name = "pair-contract"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")

    def __init__(self, create, recv, qubits: int = 4):
        self.create, self.recv, self.qubits = create, recv, qubits

    async def _role(self, ctx, peer, call):
        try:
            got = await call(ctx.epr_socket(peer))
        except (EPRMismatch, ValueError, Timeout) as exc:
            return exc
        for q in got:
            if hasattr(q, "touch"):
                ctx.measure(q)
        return len(got)

    async def alice(self, ctx):
        return await self._role(ctx, "bob", self.create)

    async def bob(self, ctx):
        return await self._role(ctx, "alice", self.recv)


@pytest.mark.parametrize(("create", "recv", "words"), [
    (lambda s: s.create_keep(2), lambda s: s.recv_keep(3), ("recv_keep(3)", "create_keep(2)")),
    (lambda s: s.create_keep(1), lambda s: s.recv_measure(1), ("recv_measure(1)", "create_keep(1)")),
    (lambda s: s.create_measure(2), lambda s: s.recv_keep(2), ("recv_keep(2)", "create_measure(2)")),
])
def test_mismatched_create_and_recv_is_a_clear_error_at_both_ends(create, recv, words):
    """Count or keep/measure differing between the two ends is refused at both roles with the
    same message naming both calls — not a hang and not pairs silently dropped."""
    res = run_app(_Pair(create, recv), chain(), {"alice": "n0", "bob": "n1"}).results
    for role in ("alice", "bob"):
        assert isinstance(res[role], EPRMismatch), res
        assert all(w in str(res[role]) for w in words) and "EPR socket mismatch" in str(res[role])


def test_asking_for_more_pairs_than_the_role_declared_fails_before_any_pair_is_made():
    """A role that declared 2 memory qubits asks for 3 kept pairs: refused at once, naming the
    role, the count and the declaration (the peer, left waiting, times out)."""
    app = _Pair(lambda s: s.create_keep(3), lambda s: s.recv_keep(3, max_time=0.05), qubits=2)
    out = run_app(app, chain(), {"alice": "n0", "bob": "n1"})
    msg = str(out.results["alice"])
    assert isinstance(out.results["alice"], ValueError)
    assert "create_keep(3)" in msg and "'alice'" in msg and "qubits = 2" in msg
    assert isinstance(out.results["bob"], Timeout | ValueError)
    assert out.network.stations["n0-n1"].pairs_generated == 0


def test_a_role_needing_more_memory_than_its_node_has_is_refused_before_the_run():
    """qubits = 6 on end nodes with 4 memory positions: refused before anything runs, naming the
    node and its positions."""
    with pytest.raises(ValueError, match=r"holds 6 qubits at once but node 'n0' has 4 memory positions"):
        run_app(_Pair(lambda s: s.create_keep(6), lambda s: s.recv_keep(6), qubits=6), chain(memory_positions=4),
                {"alice": "n0", "bob": "n1"})


class _Hoarder(Application):
    """alice keeps her first half and asks for another: two held with one declared."""

    name = "hoarder"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")
    qubits = {"alice": 1, "bob": 2}

    async def alice(self, ctx):
        sock = ctx.epr_socket("bob")
        (first,) = await sock.create_keep(1)
        assert ctx.held == 1
        try:
            await sock.create_keep(1)
        except ValueError as exc:
            ctx.measure(first)
            return str(exc), ctx.held
        return "no error", ctx.held

    async def bob(self, ctx):
        (q,) = await ctx.epr_socket("alice").recv_keep(1)
        ctx.measure(q)
        return ctx.held


def test_qubits_are_declared_per_role_and_enforced_during_the_run():
    """``qubits = {"alice": 1, "bob": 2}``: alice holding one half and asking for another is
    refused during the run (1 held now, 2 would be held); measuring frees the count."""
    res = run_app(_Hoarder(), chain(), {"alice": "n0", "bob": "n1"}).results
    msg, held = res["alice"]
    assert "would hold 2 memory qubits at once (1 held now)" in msg and "qubits = 1" in msg
    assert held == 0 and res["bob"] == 0


class _Star(Application):
    """The centre waits on two sockets at once (ctx.gather); each leaf keeps its half."""

    name = "star"
    stage = Stage.QUANTUM_MEMORY
    roles = ("centre", "left", "right")
    qubits = {"centre": 2, "left": 1, "right": 1}

    async def centre(self, ctx):
        a, b = await ctx.gather(ctx.epr_socket("left").create_keep(1), ctx.epr_socket("right").create_keep(1))
        self.centre_qubits = (a[0], b[0])
        return [(a[0].info, ctx.now), (b[0].info, ctx.now)]

    async def left(self, ctx):
        (q,) = await ctx.epr_socket("centre").recv_keep(1)
        self.left_qubit = q
        return q.info

    async def right(self, ctx):
        (q,) = await ctx.epr_socket("centre").recv_keep(1)
        self.right_qubit = q
        return q.info


def test_gather_waits_on_two_sockets_at_once_and_kept_halves_carry_their_pair_info():
    """A chain n0–n1–n2 with the centre at n1 asking both leaves at once (ctx.gather): both pairs
    arrive, each in its own socket; each half's info
    has a creation time before delivery and the end nodes' fidelity estimate, which — ideal
    memories, one heralded link — is the link's heralded fidelity, and equals the Φ⁺ fidelity of
    the two halves the roles hold (the tail corrected the frame)."""
    d = linear_chain(3, "2 km", seed=5, duration="1 s", t2="inf", raw_fidelity=0.97)
    app = _Star()
    out = run_app(app, load_scenario(d), {"centre": "n1", "left": "n0", "right": "n2"})
    (info_l, t_l), (info_r, t_r) = out.results["centre"]
    for info, t in ((info_l, t_l), (info_r, t_r)):
        assert 0 <= info.created < t and 0 <= info.frame <= 3
    f_left = fidelity(_state(app, 0), bell_state("phi+"))
    f_right = fidelity(_state(app, 1), bell_state("phi+"))
    assert f_left == pytest.approx(info_l.fidelity_estimate, abs=1e-9)
    assert f_right == pytest.approx(info_r.fidelity_estimate, abs=1e-9)
    assert out.results["left"].fidelity_estimate == pytest.approx(info_l.fidelity_estimate, abs=1e-9)


def _state(app, i):
    from qstack.quantum.core import state_of

    far = (app.left_qubit, app.right_qubit)[i]
    return state_of([app.centre_qubits[i].touch(), far.touch()])


def test_max_time_bounds_a_wait_with_a_timeout():
    """recv_keep(max_time=τ) with nobody creating: Timeout at exactly τ."""

    class Lonely(Application):
        name = "lonely"
        stage = Stage.QUANTUM_MEMORY
        roles = ("alice", "bob")

        async def alice(self, ctx):
            return None

        async def bob(self, ctx):
            with pytest.raises(Timeout):
                await ctx.epr_socket("alice").recv_keep(1, max_time=0.003)
            return ctx.now

    assert run_app(Lonely(), chain(), {"alice": "n0", "bob": "n1"}).results["bob"] == pytest.approx(0.003, abs=0)


class _Local(Application):
    """alice prepares |+⟩ locally, waits, and reports ⟨X⟩; then asks for one qubit too many."""

    name = "local-qubits"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")
    qubits = {"alice": 1, "bob": 1}

    def __init__(self, wait: float):
        self.wait = wait

    async def alice(self, ctx):
        import numpy as np

        from qstack.quantum import gates

        q = ctx.qubit()
        ctx.apply(gates.H, q)
        pos = q.position
        await ctx.sleep(self.wait)
        x = float(np.real(np.trace(ctx.state(q).full() @ np.array([[0, 1], [1, 0]]))))
        try:
            ctx.qubit()
            extra = "no error"
        except ValueError as exc:
            extra = str(exc)
        ctx.measure(q, "X")
        return x, pos, extra, ctx.held, ctx.transport.memory.occupied_positions

    async def bob(self, ctx):
        return None


def test_local_qubits_take_processor_positions_and_dephase_like_stored_qubits():
    """ctx.qubit() stores the qubit in one of the node's processor positions (after the links'),
    so |+⟩ kept t = 2 ms in a T2 = 5 ms memory has ⟨X⟩ = e^{−t/T2} exactly; a second local qubit
    beyond the declared one is refused naming the role; measuring frees the position."""
    sc = chain(t2="5 ms")
    x, pos, extra, held, occupied = run_app(_Local(2e-3), sc, {"alice": "n0", "bob": "n1"}).results["alice"]
    assert x == pytest.approx(math.exp(-2e-3 / 5e-3), abs=1e-12)
    assert pos >= sc.link_memory_positions(sc.links[0])[0]  # after the link's positions
    assert "qubit() by role 'alice'" in extra and "would hold 2 memory qubits at once" in extra
    assert held == 0 and pos not in occupied
