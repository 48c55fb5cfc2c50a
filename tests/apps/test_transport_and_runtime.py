"""The transport layer and the application runtime, checked against theory.

* Teleportation over a Werner resource of fidelity F delivers every state with fidelity
  ``(2F + 1)/3`` (Werner states are ``U ⊗ U*``-invariant), so the six Pauli eigenstates — and
  their average, the average fidelity of Horodecki et al. — all give that number.
* EPR sockets hand kept pairs to both roles in Φ⁺ (the tail applies the announced frame's
  Pauli correction): the pair's Φ⁺ fidelity equals the network's end-to-end Werner fidelity.
* Measured pairs (create_measure/recv_measure) come back with outcomes corrected to Φ⁺'s
  correlations: equal in Z and X, opposite in Y, each wrong with probability 2(1 − F)/3.
* Stages: a role needing a higher stage than the network reaches is refused before anything
  runs; an application that declared stage 2 and tries to keep a qubit is stopped at run time.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.apps import Application, run_app
from qstack.apps.teleportation import Teleportation
from qstack.quantum import bell_state, fidelity, theory
from qstack.scenario import linear_chain, load_scenario
from qstack.stages import Stage, StageError

F_RAW = 0.9
PAULI_EIGENSTATES = [(0.0, 0.0), (math.pi, 0.0), (math.pi / 2, 0.0), (math.pi / 2, math.pi),
                     (math.pi / 2, math.pi / 2), (math.pi / 2, -math.pi / 2)]


def _chain(n: int = 3, **kw):
    return load_scenario(linear_chain(n, seed=3, raw_fidelity=F_RAW, t2="inf", **kw))


def test_teleportation_fidelity_is_two_f_plus_one_over_three_for_every_state():
    """Six Pauli eigenstates teleported over a 2-link chain (Werner links of F = 0.9, ideal
    memories and gates): each arrives with fidelity (2F_e2e + 1)/3, F_e2e = werner_swap(0.9, 0.9)."""
    r = run_app(Teleportation(states=PAULI_EIGENSTATES), _chain(), {"sender": "n0", "receiver": "n2"})
    expected = theory.teleportation_average_fidelity(theory.werner_swap_fidelity(F_RAW, F_RAW))
    assert r.results["receiver"] == pytest.approx([expected] * 6, abs=1e-9)
    assert len(r.results["sender"]) == 6 and set(r.results["sender"]) <= {0, 1, 2, 3}


class _KeepPair(Application):
    name = "keep-pair"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")

    async def alice(self, ctx):
        (q,) = await ctx.epr_socket("bob").create_keep(1)
        await ctx.recv("bob")  # bob has his half too
        return q

    async def bob(self, ctx):
        (q,) = await ctx.epr_socket("alice").recv_keep(1)
        ctx.send("alice", b"got it")
        return q


def test_kept_pairs_arrive_as_phi_plus_with_the_end_to_end_fidelity():
    """create_keep/recv_keep over a 3-node chain: the two halves form Φ⁺ with fidelity
    werner_swap(F, F) — the tail corrected the announced Bell state."""
    r = run_app(_KeepPair(), _chain(), {"alice": "n0", "bob": "n2"})
    qa, qb = r.results["alice"], r.results["bob"]
    from qstack.quantum import state_of

    f = fidelity(state_of([qa.qubit, qb.qubit]), bell_state("phi+"))
    assert f == pytest.approx(theory.werner_swap_fidelity(F_RAW, F_RAW), abs=1e-9)


class _MeasurePairs(Application):
    name = "measure-pairs"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    def __init__(self, n: int, basis: str):
        self.n, self.basis = n, basis

    async def alice(self, ctx):
        return await ctx.epr_socket("bob").create_measure(self.n, self.basis)

    async def bob(self, ctx):
        return await ctx.epr_socket("alice").recv_measure(self.n)


@pytest.mark.parametrize("basis, parity", [("Z", 0), ("X", 0), ("Y", 1)])
def test_measured_pairs_show_phi_plus_correlations(basis, parity):
    """300 measured pairs: outcomes follow Φ⁺ (⟨ZZ⟩ = ⟨XX⟩ = 1, ⟨YY⟩ = −1) except with
    probability 2(1 − F)/3; Monte Carlo within 4 standard errors."""
    n = 300
    r = run_app(_MeasurePairs(n, basis), _chain(), {"alice": "n0", "bob": "n2"})
    a, b = np.array(r.results["alice"]), np.array(r.results["bob"])
    errors = np.mean((a ^ b) != parity)
    q = 2 * (1 - theory.werner_swap_fidelity(F_RAW, F_RAW)) / 3
    assert abs(errors - q) < 4 * math.sqrt(q * (1 - q) / n)
    assert 0.3 < a.mean() < 0.7  # each side alone is a fair coin


class _StageTwoKeeps(Application):
    name = "sneaky"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    async def alice(self, ctx):
        return await ctx.epr_socket("bob").create_keep(1)

    async def bob(self, ctx):
        return await ctx.epr_socket("alice").recv_keep(1)


def test_a_stage_two_application_cannot_keep_a_qubit():
    """An app that declared stage 2 (entanglement distribution: measure at once) and calls
    create_keep is stopped with a StageError naming the storage it would need."""
    with pytest.raises(StageError, match="keeps a qubit"):
        run_app(_StageTwoKeeps(), _chain(), {"alice": "n0", "bob": "n2"})


def test_an_application_above_the_network_stage_is_refused_before_running():
    """Teleportation needs stage 3; end nodes whose memories last 1 ns (far below k × the
    round trip) put the network at stage 2 — refused before any event runs, naming the stage
    needed and what is missing."""
    d = linear_chain(3, seed=1)
    d["hardware"]["poor"] = {**d["hardware"]["default"], "t2": "1 ns", "t1": "1 s"}
    for node in d["nodes"]:
        if node["role"] == "end":
            node["hardware"] = "poor"
    with pytest.raises(StageError) as info:
        run_app(Teleportation(), load_scenario(d), {"sender": "n0", "receiver": "n2"})
    text = str(info.value)
    assert "teleportation" in text and "stage 3" in text and "stage 2" in text


def test_every_role_must_be_assigned():
    """run_app refuses an assignment that misses a role, naming it."""
    with pytest.raises(ValueError, match="receiver"):
        run_app(Teleportation(), _chain(), {"sender": "n0"})


class _RandomBases(Application):
    name = "random-bases"
    stage = Stage.ENTANGLEMENT_DISTRIBUTION
    roles = ("alice", "bob")

    def __init__(self, n: int):
        self.n = n

    async def alice(self, ctx):
        return await ctx.epr_socket("bob").create_measure(
            self.n, bases=(0.0, math.pi / 2), remote_bases=(math.pi / 4, -math.pi / 4))

    async def bob(self, ctx):
        return await ctx.epr_socket("alice").recv_measure(self.n)


def test_measured_pairs_in_random_angle_bases_reach_the_werner_chsh_value():
    """A stage-2 app (nothing stored): each side's device draws its basis from its own list —
    Alice {0, π/2}, Bob {π/4, −π/4} in the X–Z plane. On a Werner pair with parameter w the
    correlator is ⟨A_θ B_φ⟩ = w·cos(θ − φ), so S = E00 + E01 + E10 − E11 = 2√2·w
    (= 2√2(4F − 1)/3). Monte Carlo over 2,000 pairs: within 4 standard errors (each
    correlator's SE is √((1 − E²)/n))."""
    n = 2000
    r = run_app(_RandomBases(n), _chain(), {"alice": "n0", "bob": "n2"})
    a, b = r.results["alice"], r.results["bob"]
    assert len(a) == len(b) == n
    sums = np.zeros((2, 2))
    counts = np.zeros((2, 2))
    for (ma, i), (mb, j) in zip(a, b, strict=True):
        sums[i, j] += 1 - 2 * (ma ^ mb)
        counts[i, j] += 1
    e = sums / counts
    s = e[0, 0] + e[0, 1] + e[1, 0] - e[1, 1]
    w = (4 * theory.werner_swap_fidelity(F_RAW, F_RAW) - 1) / 3
    se = math.sqrt(sum((1 - (w * math.cos(math.pi / 4)) ** 2) / counts[i, j] for i in range(2) for j in range(2)))
    assert abs(s - 2 * math.sqrt(2) * w) < 4 * se
    assert counts.min() > n / 4 - 4 * math.sqrt(n * 3 / 16)  # each basis pair drawn ~n/4 times


class _Greedy(_KeepPair):
    name = "greedy"
    qubits = 25


def test_an_application_needing_more_qubits_than_a_node_has_is_refused():
    """An application declares the memory qubits a role holds at once; an end node with 10
    memory positions cannot run a role needing 25 — refused before the run, naming both."""
    with pytest.raises(ValueError, match="25 qubits.*10 memory positions"):
        run_app(_Greedy(), _chain(), {"alice": "n0", "bob": "n2"})


class _KeepMany(Application):
    name = "keep-many"
    stage = Stage.QUANTUM_MEMORY
    roles = ("alice", "bob")

    def __init__(self, n: int, floor: float):
        self.n, self.floor = n, floor

    async def alice(self, ctx):
        sock = ctx.epr_socket("bob")
        for _ in range(self.n):
            (q,) = await sock.create_keep(1, min_fidelity=self.floor)
            ctx.measure(q)
        return True

    async def bob(self, ctx):
        sock = ctx.epr_socket("alice")
        for _ in range(self.n):
            (q,) = await sock.recv_keep(1)
            ctx.measure(q)
        return True


def _floor_chain():
    d = linear_chain(3, seed=8, raw_fidelity=0.95, t2="inf", memory_positions=2)
    d["hardware"]["end"] = {**d["hardware"]["default"], "t2": "5 ms"}
    for node in d["nodes"]:
        if node["role"] == "end":
            node["hardware"] = "end"
    return load_scenario(d)


def test_a_fidelity_floor_drops_decayed_pairs_and_retries():
    """A kept pair's fidelity as the end nodes estimate it — Werner links combined by the swap
    rule, then dephasing of both end qubits over the pair's age, 1/4 + w(1 + 2c_a c_b)/4 — must
    reach the floor; pairs below it are dropped and the flow makes another. The estimate counts
    each end qubit's storage from the older link pair's emission, so it never exceeds the truth:
    every pair the applications received has a fidelity (read from the state) at the floor or
    above, and some pairs were dropped on the way."""
    floor = 0.86  # fresh pairs: werner_swap(0.95, 0.95) = 0.9033; older ones decay below
    free = run_app(_KeepMany(30, 0.0), _floor_chain(), {"alice": "n0", "bob": "n2"})
    r = run_app(_KeepMany(30, floor), _floor_chain(), {"alice": "n0", "bob": "n2"})

    def received(result):
        return [d.fidelity for f in result.network.flows.values() for d in f.deliveries]

    assert min(received(free)) < floor  # without the floor, decayed pairs do reach the apps
    assert len(received(r)) == 30 and min(received(r)) >= floor - 1e-12
    generated = [x.network.stations["n0-n1"].pairs_generated for x in (free, r)]
    assert generated[1] > 2 * generated[0]  # the dropped pairs were made again


def test_an_unreachable_fidelity_floor_is_refused_at_once():
    """A floor above what even a fresh pair reaches (here 0.95 > 0.9033) is refused with a
    ValueError naming the route and the expected fidelity, instead of waiting forever."""
    with pytest.raises(ValueError, match="cannot be met.*0.9033"):
        run_app(_KeepMany(1, 0.95), _floor_chain(), {"alice": "n0", "bob": "n2"})


def test_progress_reports_do_not_change_an_application_run(monkeypatch):
    """run_app with a progress callback runs in slices of events (here 500): it is called with the
    simulated time and the pairs delivered so far, and the results, the simulated time and the
    message counts equal those of the run without it."""
    import qstack.apps.runtime as runtime

    monkeypatch.setattr(runtime, "_SLICE", 500)
    calls = []
    runs = []
    for progress in (False, lambda now, pairs: calls.append((now, pairs))):
        r = run_app(Teleportation(states=PAULI_EIGENSTATES * 20), _chain(), {"sender": "n0", "receiver": "n2"},
                    progress=progress)
        runs.append((r.results, r.simulated_time, r.messages))
    assert runs[0] == runs[1]
    assert len(calls) > 5 and calls[-1][0] == runs[0][1] and calls[-1][1] >= 120
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
