"""Service contracts across requests: concurrent network flows, and link requests' time limits.

* ``swapping.concurrent_flows_isolated`` — two flows share a chain; the policy must keep their
  pairs apart and give each the fidelity of its own route.
* ``link_scheme.timeout_at_max_time`` — a link request that cannot be served within its
  ``max_time`` ends with the right error code at the right time: ``NO_TIME`` at once (before
  any attempt) when the pairs need far longer on average, ``TIMEOUT`` exactly ``max_time``
  after the request was agreed (one round trip after ``create``) when it runs out of time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from qstack.conformance.framework import TOLERANCE, CheckResult, Context, Target, check
from qstack.conformance.runs import Observed, chain, observe, pairing_problems

# ---------------------------------------------------------------------------------------------- concurrent flows

#: the concurrent-flow chain: n0 — n1 — n2 — n3, 5 km Werner links (F = 0.9), ideal memories; flows
#: n0 → n3 (three links) and n1 → n3 (two links) share n1 — n2 — n3
FLOWS_RAW, FLOWS_DURATION = 0.9, 0.05
FLOWS_REQUESTS = (("n0", "n3"), ("n1", "n3"))


def _flows_scenario(seed: int) -> Any:
    from qstack.scenario import linear_chain, load_scenario

    d = linear_chain(4, "5 km", seed=seed, duration=FLOWS_DURATION, t1="inf", t2="inf", raw_fidelity=FLOWS_RAW)
    for node in d["nodes"]:
        if node["name"] in {n for r in FLOWS_REQUESTS for n in r}:
            node["role"] = "end"
    d["requests"] = [{"source": s, "destination": t, "min_fidelity": 0.0} for s, t in FLOWS_REQUESTS]
    return load_scenario(d)


@check("swapping.concurrent_flows_isolated", "swapping", """Concurrent flows stay apart: with flows
       n0 → n3 and n1 → n3 at once on a 4-node chain (Werner links F = 0.9, ideal memories and gates)
       every delivery belongs to one of the two flows and runs along that flow's route, no pair id is
       delivered in two flows, each head delivery matches a tail delivery of its own flow, both flows
       deliver, and each flow's pairs have, in their announced frame, the fidelity
       theory.werner_swap_fidelity gives for its number of links (0.9 × 3 and 0.9 × 2), to 1e-9.""",
       source="Dür, Briegel, Cirac & Zoller, PRA 59, 169 (1999)")
def _concurrent_flows(target: Target, ctx: Context) -> CheckResult:
    from qstack.quantum import theory

    obs: Observed = observe(_flows_scenario(ctx.seed), policies={"swapping": target.spec})
    routes: dict[int, tuple[str, ...]] = {}
    for fid, flow in obs.net.flows.items():
        routes[fid] = tuple(flow.route)
    by_request: dict[tuple[str, str], int] = {}
    for fid, route in sorted(routes.items()):
        by_request.setdefault((route[0], route[-1]), fid)
    problems: list[str] = []
    missing = [f"{s}→{t}" for s, t in FLOWS_REQUESTS if (s, t) not in by_request]
    if missing:
        return CheckResult(False, len(missing), 0, tolerance=0, detail=f"no flow set up for {', '.join(missing)}")
    flow_ids = {by_request[r] for r in FLOWS_REQUESTS}
    owner: dict[tuple[str, tuple[str, int]], int] = {}
    for end, ds in (("tail", obs.tails), ("head", obs.heads)):
        for d in ds:
            if d.flow_id not in flow_ids:
                problems.append(f"{end} delivery of seq {d.seq} in unknown flow {d.flow_id}")
                continue
            if d.route != routes[d.flow_id]:
                problems.append(f"{end} delivery of flow {d.flow_id} along {'-'.join(d.route)}, its route is "
                                f"{'-'.join(routes[d.flow_id])}")
            prev = owner.setdefault((end, d.pair_id), d.flow_id)
            if prev != d.flow_id:
                problems.append(f"pair {d.pair_id} delivered at the {end} in flows {prev} and {d.flow_id}")
    problems += pairing_problems(obs)
    counts = {fid: sum(d.flow_id == fid for d in obs.tails) for fid in flow_ids}
    for (s, t), fid in ((r, by_request[r]) for r in FLOWS_REQUESTS):
        if counts[fid] == 0:
            problems.append(f"flow {s}→{t} delivered no pair")
    worst, worst_detail = 0.0, ""
    for fid in sorted(flow_ids):
        expected = theory.werner_swap_fidelity(*[FLOWS_RAW] * (len(routes[fid]) - 1))
        for d in obs.tails:
            if d.flow_id != fid or d.coeffs is None:
                continue
            err = abs(float(d.coeffs[d.frame]) - expected)
            if err > worst:
                worst = err
                worst_detail = (f"flow {'-'.join(routes[fid])} seq {d.seq}: F = {float(d.coeffs[d.frame]):.10g}, "
                                f"theory {expected:.10g}")
    if worst > TOLERANCE:
        problems.append(f"fidelity off theory by {worst:.3g} ({worst_detail})")
    summary = ", ".join(f"{'-'.join(routes[fid])}: {counts[fid]} pairs" for fid in sorted(flow_ids))
    return CheckResult(not problems, len(problems), 0, tolerance=0,
                       detail="; ".join(problems[:3]) or f"{summary}; max |F − theory| {worst:.2g}")


# ---------------------------------------------------------------------------------------------- link time limits

#: the time limit of the requests, and how many times more pairs than the link delivered within it
#: the infeasible request asks for
LINK_MAX_TIME, INFEASIBLE_FACTOR = 0.05, 100


@check("link_scheme.timeout_at_max_time", "link_scheme", f"""A link request that cannot be served in time
       ends with the right error at the right time (10 km link, the requesting end's upper layer
       listening): a request until stopped with max_time = {LINK_MAX_TIME:g} s, made at t₀, gets ERR
       TIMEOUT at t₀ + round trip + max_time (the peer's acceptance starts the clock), to 1e-9 s, and no
       other error; then a request for {INFEASIBLE_FACTOR}× (n + 10) pairs within the same max_time (n the
       pairs the first got) is refused with ERR NO_TIME at once — at its creation time, to 1e-9 s,
       before any attempt — and gets no pair.""")
def _timeout(target: Target, ctx: Context) -> CheckResult:
    from qstack.conformance.runs import _LinkCollector
    from qstack.link.service import UNTIL_STOPPED, LinkCreate
    from qstack.network.network import QuantumNetwork
    from qstack.proto import LinkError

    if "max_time" not in {f.name for f in dataclasses.fields(LinkCreate)}:
        return CheckResult.skipped("the link service's LinkCreate has no max_time")
    codes = set(LinkError.keys())
    if not {"TIMEOUT", "NO_TIME"} <= codes:
        return CheckResult.skipped(f"the link service has no TIMEOUT/NO_TIME error codes ({sorted(codes)})")
    sc = chain(2, "10 km", seed=ctx.seed, duration=1.0, link={"scheme": target.scenario_spec()}, raw_fidelity=1.0)
    spec = sc.links[0]
    _, da, db = sc.link_hardware(spec)
    rtt = 2.0 * (da + db)
    net = QuantumNetwork(sc)
    obs = Observed(net)
    for node in (spec.a, spec.b):
        net.link_layers[node].upper = _LinkCollector(node, net.link_layers[node], obs)
    first = net.link_layers[spec.a]

    def errors_of(rid: int) -> list[tuple[float, Any]]:
        return [(t, e) for t, e in zip(obs.link_error_times, obs.link_errors, strict=True)
                if e.node == spec.a and e.request_id == rid]

    # 1. runs out of time
    t0 = net.sim.now
    rid = first.create(LinkCreate(spec.b, number=UNTIL_STOPPED, min_fidelity=0.0, max_time=LINK_MAX_TIME,
                                  purpose_id=1))
    net.sim.run(until=t0 + rtt + LINK_MAX_TIME + 0.01)
    errs = errors_of(rid)
    n = sum(h.node == spec.a and h.request_id == rid for h in obs.heralds)
    expected = t0 + rtt + LINK_MAX_TIME
    if len(errs) != 1 or errs[0][1].error_name != "TIMEOUT":
        got = ", ".join(f"{e.error_name} at {t:.9g} s" for t, e in errs) or "no error"
        return CheckResult(False, None, expected, detail=f"request until stopped with max_time {LINK_MAX_TIME:g} s: "
                           f"expected one ERR TIMEOUT at {expected:.9g} s, got {got} ({n} pairs)")
    t_timeout = errs[0][0]
    if abs(t_timeout - expected) > TOLERANCE:
        return CheckResult.within(t_timeout, expected, detail=f"ERR TIMEOUT at {t_timeout:.9g} s, expected "
                                  f"t₀ + round trip {rtt:.6g} s + max_time; {n} pairs")
    # 2. cannot be served in time, known up front
    number = min(INFEASIBLE_FACTOR * (n + 10), UNTIL_STOPPED - 1)
    t1 = net.sim.now
    rid2 = first.create(LinkCreate(spec.b, number=number, min_fidelity=0.0, max_time=LINK_MAX_TIME, purpose_id=2))
    net.sim.run(until=t1 + rtt + LINK_MAX_TIME + 0.01)
    errs = errors_of(rid2)
    n2 = sum(h.node == spec.a and h.request_id == rid2 for h in obs.heralds)
    first.stop(spec.b, 2)
    if len(errs) != 1 or errs[0][1].error_name != "NO_TIME" or n2:
        got = ", ".join(f"{e.error_name} at {t:.9g} s" for t, e in errs) or "no error"
        return CheckResult(False, None, t1, detail=f"request for {number} pairs in {LINK_MAX_TIME:g} s (the link gave "
                           f"{n} in that time): expected ERR NO_TIME at {t1:.9g} s, got {got}, {n2} pairs")
    err = max(abs(t_timeout - expected), abs(errs[0][0] - t1))
    return CheckResult.within(err, 0.0, detail=f"TIMEOUT at {t_timeout:.9g} s ({n} pairs), NO_TIME at "
                              f"{errs[0][0]:.9g} s for {number} pairs; max |Δt|")

