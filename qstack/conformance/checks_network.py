"""Contracts of the network layer's plug-ins: swap policies, cut-offs, purification, routing.

Every check runs scenarios through the public API with the implementation under test as the
flow's policy (``build_network(scenario, policies={kind: spec})``) and judges what a recorder
subscription saw (:mod:`qstack.conformance.runs`).
"""

from __future__ import annotations

import math
from collections import Counter
from types import SimpleNamespace
from typing import Any

import numpy as np

from qstack.conformance.framework import N_SE, TOLERANCE, CheckResult, Context, Target, check
from qstack.conformance.runs import Observed, all_occupied, chain, finite, mesh, observe, pairing_problems

# ---------------------------------------------------------------------------------------------- swapping

#: the swap checks' chain: four nodes, three 5 km links of Werner pairs (raw fidelity 0.9),
#: ideal memories and gates (double click without dark counts heralds Ψ± exactly)
SWAP_NODES, SWAP_RAW, SWAP_DURATION = 4, 0.9, 0.05


def _swap_run(target: Target, ctx: Context, seed: int | None = None) -> Observed:
    seed = ctx.seed if seed is None else seed

    def make() -> Observed:
        sc = chain(SWAP_NODES, "5 km", seed=seed, duration=SWAP_DURATION, raw_fidelity=SWAP_RAW)
        return observe(sc, policies={"swapping": target.spec})

    return ctx.memo(("swap", seed), make)


def _swap_expected() -> float:
    from qstack.quantum import theory

    return theory.werner_swap_fidelity(*[SWAP_RAW] * (SWAP_NODES - 1))


@check("swapping.announced_bell_state", "swapping", """Every delivered pair is in the Bell state its
       Pauli frame announces, with the fidelity of ideal swaps of Werner pairs: on a 4-node chain of
       Werner links (F = 0.9, ideal memories and gates) ⟨β_frame|ρ|β_frame⟩ =
       theory.werner_swap_fidelity(0.9, 0.9, 0.9) for every pair, to 1e-9.""",
       source="Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999)")
def _announced(target: Target, ctx: Context) -> CheckResult:
    obs = _swap_run(target, ctx)
    expected = _swap_expected()
    measured = [d for d in obs.tails if d.coeffs is not None]
    if not measured:
        return CheckResult(False, 0, expected, tolerance=TOLERANCE, detail="no pair delivered")
    worst = max(measured, key=lambda d: abs(d.coeffs[d.frame] - expected))
    bad = [d for d in measured if abs(d.coeffs[d.frame] - expected) > TOLERANCE]
    detail = f"{len(measured)} pairs"
    if bad:
        b = bad[0]
        detail = (f"{len(bad)}/{len(measured)} pairs not in their announced state; first: seq {b.seq} frame "
                  f"{b.frame}, Bell weights {np.round(b.coeffs, 6).tolist()}")
    return CheckResult(not bad, float(worst.coeffs[worst.frame]), expected, tolerance=TOLERANCE, detail=detail)


@check("swapping.unique_delivery", "swapping", """No pair is delivered twice: pair ids are unique at
       the tail and at the head, and each head delivery names a pair the tail delivered (the same
       pair id at both ends).""")
def _unique(target: Target, ctx: Context) -> CheckResult:
    obs = _swap_run(target, ctx)
    problems = pairing_problems(obs)
    for end, ds in (("tail", obs.tails), ("head", obs.heads)):
        seqs = [k for k, n in Counter((d.flow_id, d.seq) for d in ds).items() if n > 1]
        problems += [f"{end} seq {k} twice" for k in seqs]
    return CheckResult(not problems, len(problems), 0, tolerance=0,
                       detail="; ".join(problems[:3]) or f"{len(obs.tails)} tail, {len(obs.heads)} head deliveries")


@check("swapping.liveness", "swapping", """Deliveries occur: at least 5 end-to-end pairs in 50 ms on the
       4-node chain (swap-ASAP delivers about 120).""")
def _liveness(target: Target, ctx: Context) -> CheckResult:
    obs = _swap_run(target, ctx)
    return CheckResult.at_least(len(obs.tails), 5, tolerance=0, detail=f"{len(obs.heads)} at the head")


@check("swapping.no_leaked_positions", "swapping", """No memory position is leaked: a request for 10
       pairs on the 4-node chain, run to completion (then stopped at its head and left 50 ms to
       settle), leaves every position of every node free.""")
def _no_leak(target: Target, ctx: Context) -> CheckResult:
    sc = chain(SWAP_NODES, "5 km", seed=ctx.seed, duration=0.5, pairs=10, raw_fidelity=SWAP_RAW)
    obs = observe(sc, policies={"swapping": target.spec}, stop=True)
    occ = all_occupied(obs.net)
    n = sum(len(v) for v in occ.values())
    detail = ", ".join(f"{k}: {v}" for k, v in occ.items()) or f"{len(obs.tails)} pairs delivered, all positions free"
    return CheckResult(n == 0, n, 0, tolerance=0, detail=("occupied " + detail) if n else detail)


@check("swapping.deterministic", "swapping", """Same seed, same records: two runs with one seed give
       identical delivery records (time, pair ids, frame, Bell weights to 1e-12); another seed gives
       different ones.""")
def _deterministic(target: Target, ctx: Context) -> CheckResult:
    a = _swap_run(target, ctx).records()
    sc = chain(SWAP_NODES, "5 km", seed=ctx.seed, duration=SWAP_DURATION, raw_fidelity=SWAP_RAW)
    b = observe(sc, policies={"swapping": target.spec}).records()
    c = _swap_run(target, ctx, seed=ctx.seed + 1).records()
    differ = sum(x != y for x, y in zip(a, b, strict=False)) + abs(len(a) - len(b))
    if differ:
        return CheckResult(False, differ, 0, tolerance=0, detail=f"{differ} records differ between same-seed runs")
    if a and a == c:
        return CheckResult(False, 0, 1, detail="a different seed gave identical records")
    return CheckResult(True, 0, 0, tolerance=0, detail=f"{len(a)} records equal; seed {ctx.seed + 1} differs")


# ---------------------------------------------------------------------------------------------- cut-off

#: the cut-off checks' chain: three nodes, 10 km links, raw fidelity 0.95, T2 = 20 ms memories
CUT_NODES, CUT_DURATION, CUT_T2 = 3, 0.2, "20 ms"


def _cut_run(target: Target, ctx: Context) -> Observed:
    def make() -> Observed:
        sc = chain(CUT_NODES, "10 km", seed=ctx.seed, duration=CUT_DURATION, raw_fidelity=0.95, t2=CUT_T2)
        return observe(sc, policies={"cutoff": target.spec})

    return ctx.memo("cut", make)


def _announced_time(policy: Any) -> float | None:
    """The fixed time a cut-off announces (what PathSetup carries: its ``time``), or None."""
    return finite(getattr(policy, "time", None))


def _bound(limit: float, announced: float | None) -> float:
    return limit if announced is None else min(limit, announced)


@check("cutoff.no_stale_link_pairs", "cutoff", """No link pair older than the policy's limit is swapped:
       at every swap each consumed link pair's age (swap time − emission) is at most its limit — the
       announced fixed time, or the policy's link_age_limit/age_limit on the link's fidelity
       estimate — to 1e-9 s (3-node chain, T2 = 20 ms memories).""")
def _stale_links(target: Target, ctx: Context) -> CheckResult:
    obs = _cut_run(target, ctx)
    net = obs.net
    policy = target.create()
    announced = _announced_time(policy)
    oks = {(h.node, (h.link, h.seq)): h for h in obs.heralds}
    worst, worst_detail, n = -math.inf, "", 0
    cache: dict[Any, float] = {}
    for ev in obs.swaps:
        for key in (ev.up, ev.down):
            h = oks.get((ev.node, key))
            if h is None:
                continue
            ck = (ev.node, h.link, h.request_id, h.bell_index)
            limit = cache.get(ck)
            if limit is None:
                layer = net.network_layers[ev.node]
                like = SimpleNamespace(link=h.link, request_id=h.request_id, bell_index=h.bell_index, peer=h.peer)

                def est(age: float, layer: Any = layer, like: Any = like) -> float:
                    return layer.link_estimate(like, age)

                if callable(getattr(policy, "link_age_limit", None)):
                    hw = net.topology.links[h.link].hardware
                    limit = policy.link_age_limit(est, getattr(hw, "round_period", 0.0) or hw.cycle_time)
                else:
                    limit = policy.age_limit(est)
                limit = cache[ck] = _bound(float(limit), announced)
            age = ev.time - h.created
            n += 1
            if age - limit > worst:
                worst, worst_detail = age - limit, f"{key} at {ev.node}: age {age:.6g} s, limit {limit:.6g} s"
    if n == 0:
        return CheckResult(False, detail="no swap happened")
    return CheckResult.at_most(worst, 0.0, detail=f"{n} link pairs swapped; worst: {worst_detail}")


@check("cutoff.no_stale_delivery", "cutoff", """No delivered pair is older than the policy's limit:
       time − created of every delivered pair is at most the announced fixed time, or age_limit on the
       route's fidelity estimate, to 1e-9 s.""")
def _stale_delivery(target: Target, ctx: Context) -> CheckResult:
    obs = _cut_run(target, ctx)
    net = obs.net
    policy = target.create()
    announced = _announced_time(policy)
    if not obs.tails:
        return CheckResult(False, 0, 1, detail="no pair delivered")
    worst, detail = -math.inf, ""
    limits: dict[tuple[str, ...], float] = {}
    for d in obs.tails:
        limit = limits.get(d.route)
        if limit is None:
            limit = limits[d.route] = _bound(float(policy.age_limit(
                lambda age, r=d.route: net.topology.estimated_fidelity(list(r), age))), announced)
        age = d.time - d.created
        if age - limit > worst:
            worst, detail = age - limit, f"seq {d.seq}: age {age:.6g} s, limit {limit:.6g} s"
    return CheckResult.at_most(worst, 0.0, detail=f"{len(obs.tails)} pairs; worst: {detail}")


@check("cutoff.announced_time", "cutoff", """A cut-off that announces a fixed time (its ``time``, sent in
       PathSetup for every node to agree on) limits pairs to it: age_limit(estimate) ≤ time for
       decaying and for perfect estimates.""")
def _announced_limit(target: Target, ctx: Context) -> CheckResult:
    policy = target.create()
    announced = _announced_time(policy)
    if announced is None:
        return CheckResult.skipped("the policy announces no fixed time")
    worst = -math.inf
    for est in (lambda age: 1.0, lambda age: 0.25 + 0.75 * math.exp(-age / 1e-3),
                lambda age: 0.25 + 0.75 * math.exp(-age / 10.0)):
        worst = max(worst, float(policy.age_limit(est)))
    return CheckResult.at_most(worst, announced, detail="largest age_limit over three estimates")


@check("cutoff.liveness", "cutoff", """Deliveries occur under the cut-off (at least one pair in 0.2 s on
       the 3-node chain).""")
def _cut_liveness(target: Target, ctx: Context) -> CheckResult:
    obs = _cut_run(target, ctx)
    cut = sum(e.reason.startswith("cut-off") for e in obs.expires)
    return CheckResult.at_least(len(obs.tails), 1, tolerance=0, detail=f"{cut} pairs cut off")


# ---------------------------------------------------------------------------------------------- purification

PUR_DURATION = 0.05
#: purification names whose circuit twirls to Werner form first (the rest do not)
TWIRLING = frozenset({"bbpssw", "bbpssw_pumping"})
NOT_TWIRLING = frozenset({"dejmps", "dejmps_pumping", "pumping"})


def _pur_run(target: Target, ctx: Context) -> Observed:
    def make() -> Observed:
        sc = chain(2, "2 km", seed=ctx.seed, duration=PUR_DURATION, raw_fidelity=0.9)
        return observe(sc, policies={"purification": target.spec}, measure_heralds=True)

    return ctx.memo("pur", make)


def _twirls(announced: str, policy: Any) -> bool:
    if announced in TWIRLING:
        return True
    if announced in NOT_TWIRLING:
        return False
    return getattr(policy, "protocol", "dejmps") == "bbpssw"


def _replay(obs: Observed, policy: Any) -> tuple[dict[Any, np.ndarray], list[tuple[bool, float]]]:
    """The coefficients each pair should have, from the heralded inputs and the rounds recorded,
    by the map of the announced scheme; and (success, expected success probability) per round."""
    from qstack.quantum import theory

    coeffs: dict[Any, np.ndarray] = {}
    for h in obs.heralds:
        if h.coeffs is not None and (h.link, h.seq) not in coeffs:
            coeffs[(h.link, h.seq)] = np.array([h.coeffs[i ^ h.bell_index] for i in range(4)])
    rounds = []
    for ev in obs.purifications:
        c1, c2 = coeffs.get(ev.keep), coeffs.get(ev.sacrifice)
        if c1 is None or c2 is None:
            continue
        if _twirls(ev.protocol, policy):
            c1, c2 = theory.twirled(c1), theory.twirled(c2)
        out, p = theory.dejmps_two(c1, c2)
        rounds.append((bool(ev.success), float(p)))
        if ev.success:
            coeffs[ev.keep] = np.asarray(out)
    return coeffs, rounds


@check("purification.output_coefficients", "purification", """Delivered pairs have the Bell coefficients
       the announced scheme's map gives for the inputs the implementation received: each round recorded
       (PurificationEvent) is replayed on the heralded states' coefficients with theory.dejmps_two —
       after theory.twirled for BBPSSW-type schemes — and every delivered pair's four Bell weights (in
       its announced frame) equal the replay, to 1e-9 (2-node chain, Werner links F = 0.9, ideal
       memories and gates).""", source="Bennett et al., PRL 76, 722 (1996); Deutsch et al., PRL 77, 2818 (1996)")
def _pur_coeffs(target: Target, ctx: Context) -> CheckResult:
    obs = _pur_run(target, ctx)
    coeffs, rounds = _replay(obs, target.create())
    worst, detail, n = 0.0, "", 0
    for d in obs.tails:
        exp = coeffs.get(d.pair_id)
        if exp is None or d.coeffs is None:
            continue
        got = np.array([d.coeffs[i ^ d.frame] for i in range(4)])
        n += 1
        err = float(np.max(np.abs(got - exp)))
        if err > worst:
            worst = err
            detail = f"; seq {d.seq}: measured {np.round(got, 9).tolist()}, map {np.round(exp, 9).tolist()}"
    if n == 0:
        return CheckResult(False, detail="no pair delivered")
    shown = detail if worst > TOLERANCE else ""
    return CheckResult(worst <= TOLERANCE, worst, 0.0, tolerance=TOLERANCE,
                       detail=f"{n} pairs, {len(rounds)} rounds; max |Δ coefficient|{shown}")


@check("purification.success_probability", "purification", """Rounds succeed as often as the scheme's map
       says: the number of successful rounds is within 4 standard errors of Σ p_i, p_i the success
       probability of round i's inputs (fixed seed).""", kind="statistical")
def _pur_success(target: Target, ctx: Context) -> CheckResult:
    obs = _pur_run(target, ctx)
    _, rounds = _replay(obs, target.create())
    if not rounds:
        return CheckResult.skipped("no purification round happened")
    succ = sum(s for s, _ in rounds)
    mean = sum(p for _, p in rounds)
    se = math.sqrt(sum(p * (1 - p) for _, p in rounds))
    return CheckResult.statistical(succ, mean, se, N_SE, detail=f"{len(rounds)} rounds")


@check("purification.liveness", "purification", """Purified pairs are delivered (at least 5 in 50 ms on the
       2-node chain).""")
def _pur_live(target: Target, ctx: Context) -> CheckResult:
    obs = _pur_run(target, ctx)
    return CheckResult.at_least(len(obs.tails), 5, tolerance=0, detail=f"{len(obs.purifications)} rounds")


# ---------------------------------------------------------------------------------------------- routing

def _mesh_net(target: Target, ctx: Context) -> Observed:
    def make() -> Observed:
        return observe(mesh(seed=ctx.seed, duration=0.05, raw_fidelity=0.95), policies={"routing": target.spec})

    return ctx.memo("mesh", make)


@check("routing.valid_paths", "routing", """Every route is a path of the topology from the source to the
       destination: for every ordered pair of nodes of a 6-node mesh the route starts at the source, ends
       at the destination, visits no node twice and joins only linked neighbours.""")
def _valid_routes(target: Target, ctx: Context) -> CheckResult:
    from qstack.network import build_network
    from qstack.network.service import NetRequest

    topo = build_network(mesh(seed=ctx.seed, duration=0.01)).topology
    policy = target.create()
    graph = topo.graph
    bad, total = [], 0
    for s in graph.nodes:
        for t in graph.nodes:
            if s == t:
                continue
            total += 1
            route = list(policy.route(topo, NetRequest(s, t)))
            ok = (len(route) >= 2 and route[0] == s and route[-1] == t and len(set(route)) == len(route)
                  and all(graph.has_edge(a, b) for a, b in zip(route, route[1:], strict=False)))
            if not ok:
                bad.append(f"{s}→{t}: {route}")
    return CheckResult(not bad, len(bad), 0, tolerance=0, detail="; ".join(bad[:3]) or f"{total} routes valid")


@check("routing.delivers", "routing", """A flow routed by the policy delivers pairs (at least 5 in 50 ms
       from a to d on the mesh), along the route the policy chose.""")
def _routing_delivers(target: Target, ctx: Context) -> CheckResult:
    obs = _mesh_net(target, ctx)
    routes = {d.route for d in obs.tails}
    return CheckResult.at_least(len(obs.tails), 5, tolerance=0,
                                detail=f"routes used: {sorted('-'.join(r) for r in routes)}")
