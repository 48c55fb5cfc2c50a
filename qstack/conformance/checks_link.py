"""Contracts of the link layer protocol itself (``link_protocol``): how it serves requests.

The target is a link layer factory ``factory(runtime) -> layer`` — :class:`qstack.link.protocol.LinkLayer`
or a class with its service interface (``create``, ``stop``, ``release``, ``attach``,
``handlers``) — plugged in at every node with ``QuantumNetwork(scenario, link_layer=factory)``.
Both ends' upper layer is a collector (:class:`qstack.conformance.runs._LinkCollector`) that
measures every OK pair and frees it at once, so what is judged is only what the link service
indicates (``LinkOK``, ``LinkErr``).

* ``link_protocol.priorities_honoured`` — the link's first end chooses which request each position
  pair serves (Dahlberg et al., SIGCOMM 2019, §4: the distributed queue with priorities); once a
  higher-priority request is agreed, every position pair that finishes a pair serves it next.
* ``link_protocol.requests_served_exactly`` — a request for ``N`` pairs gets exactly ``N`` OKs at
  each end, with the same pair ids, Bell states and purpose at both, and leaves every position free.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from qstack.conformance.framework import CheckResult, Context, Target, check
from qstack.conformance.runs import Observed, _LinkCollector, all_occupied, chain

#: the priority run: a 10 km link (raw fidelity 1), a low-priority request until stopped from t = 0
#: and, from PRIO_HIGH_AT, a high-priority request for PRIO_HIGH_PAIRS pairs, both by the first end
PRIO_LOW, PRIO_HIGH = 0, 5
PRIO_HIGH_AT, PRIO_HIGH_PAIRS, PRIO_DURATION = 0.02, 40, 0.3
#: the exact-count run: one request for SERVED_PAIRS pairs
SERVED_PAIRS, SERVED_DURATION = 12, 0.3


def _link_net(target: Target, seed: int) -> tuple[Any, Any, Observed]:
    from qstack.network.network import QuantumNetwork

    sc = chain(2, "10 km", seed=seed, duration=1.0, raw_fidelity=1.0)
    net = QuantumNetwork(sc, link_layer=target.factory())
    obs = Observed(net)
    spec = sc.links[0]
    for node in (spec.a, spec.b):
        net.link_layers[node].upper = _LinkCollector(node, net.link_layers[node], obs)
    return net, spec, obs


class _Positions:
    """The first end's OKs in order, with the memory position each pair was stored in."""

    def __init__(self) -> None:
        self.oks: list[tuple[float, int, int, int]] = []  # (time, position, request id, purpose)

    def __call__(self, ok: Any, now: float) -> None:
        self.oks.append((now, ok.position, ok.request_id, ok.purpose_id))


@check("link_protocol.priorities_honoured", "link_protocol", f"""Higher priority is served first: on a
       10 km link the first end asks for pairs until stopped at priority {PRIO_LOW} from t = 0 and, at
       t = {PRIO_HIGH_AT:g} s, for {PRIO_HIGH_PAIRS} pairs at priority {PRIO_HIGH}. From the moment the
       high-priority request is agreed until its last pair, every position pair that finishes a pair
       (the collector frees it at once) makes its next pair for the high-priority request — a
       low-priority pair then is a violation, unless the high-priority request completed before that
       pair was heralded (the attempts under way are not pre-empted). The high-priority request gets
       all its pairs.""", source="Dahlberg et al., SIGCOMM 2019 (link layer distributed queue)")
def _priorities(target: Target, ctx: Context) -> CheckResult:
    from qstack.link.service import UNTIL_STOPPED, LinkCreate

    net, spec, obs = _link_net(target, ctx.seed)
    first = net.link_layers[spec.a]
    collector = first.upper
    seen = _Positions()
    original = collector.link_ok

    def link_ok(ok: Any) -> None:
        seen(ok, net.sim.now)
        original(ok)

    collector.link_ok = link_ok
    low_id: list[int] = []
    high_id: list[int] = []
    net.sim.call_at(0.0, lambda: low_id.append(first.create(LinkCreate(
        spec.b, number=UNTIL_STOPPED, min_fidelity=0.0, purpose_id=1, priority=PRIO_LOW))))
    net.sim.call_at(PRIO_HIGH_AT, lambda: high_id.append(first.create(LinkCreate(
        spec.b, number=PRIO_HIGH_PAIRS, min_fidelity=0.0, purpose_id=2, priority=PRIO_HIGH))))
    net.sim.run(until=PRIO_DURATION)
    first.stop(spec.b, 1)
    net.sim.run(until=PRIO_DURATION + 0.05)
    errors = [e for e in obs.link_errors if e.purpose_id == 2]
    if errors:
        return CheckResult(False, detail=f"the high-priority request failed: {errors[0].error_name}")
    high = [o for o in seen.oks if o[3] == 2]
    if len(high) != PRIO_HIGH_PAIRS:
        return CheckResult(False, len(high), PRIO_HIGH_PAIRS, tolerance=0,
                           detail=f"the high-priority request got {len(high)} of {PRIO_HIGH_PAIRS} pairs "
                                  f"in {PRIO_DURATION - PRIO_HIGH_AT:g} s")
    _, da, db = net.scenario.link_hardware(spec)
    agreed = PRIO_HIGH_AT + 2.0 * (da + db)  # the peer's CreateAck reaches the first end
    done = high[-1][0]
    violations, n = [], 0
    by_position: dict[int, list[tuple[float, int, int, int]]] = {}
    for o in seen.oks:
        by_position.setdefault(o[1], []).append(o)
    for pos, oks in by_position.items():
        for prev, nxt in zip(oks, oks[1:], strict=False):
            if not agreed <= prev[0] < done:
                continue
            n += 1
            if nxt[3] != 2 and nxt[0] <= done:
                violations.append(f"position {pos}: freed at {prev[0]:.6g} s, its next pair (at {nxt[0]:.6g} s) "
                                  f"served priority {PRIO_LOW} while priority {PRIO_HIGH} waited")
    low_during = sum(1 for o in seen.oks if o[3] == 1 and agreed <= o[0] <= done)
    if n == 0:
        return CheckResult(False, detail="no position pair finished a pair while the high-priority request was open")
    return CheckResult(not violations, len(violations), 0, tolerance=0,
                       detail="; ".join(violations[:2]) or
                       f"{n} position-pair hand-overs while priority {PRIO_HIGH} was open, all to it; "
                       f"{low_during} low-priority pairs finished attempts begun before; high done at {done:.6g} s")


@check("link_protocol.requests_served_exactly", "link_protocol", f"""A request is served exactly: a
       request for {SERVED_PAIRS} pairs on a 10 km link gets exactly {SERVED_PAIRS} LinkOKs at each end,
       each pair id indicated once at each end with the same Bell state, purpose and creation time, no
       error, and after it every memory position at both ends is free.""")
def _served(target: Target, ctx: Context) -> CheckResult:
    from qstack.link.service import LinkCreate

    net, spec, obs = _link_net(target, ctx.seed)
    first = net.link_layers[spec.a]
    net.sim.call_at(0.0, lambda: first.create(LinkCreate(spec.b, number=SERVED_PAIRS, min_fidelity=0.0,
                                                         purpose_id=3)))
    net.sim.run(until=SERVED_DURATION)
    problems = [f"ERR {e.error_name} at {e.node}" for e in obs.link_errors]
    per_end = Counter(h.node for h in obs.heralds)
    for node in (spec.a, spec.b):
        if per_end[node] != SERVED_PAIRS:
            problems.append(f"{node} got {per_end[node]} OKs, asked for {SERVED_PAIRS}")
    by_id: dict[Any, list[Any]] = {}
    for h in obs.heralds:
        by_id.setdefault((h.link, h.seq), []).append(h)
    for key, hs in by_id.items():
        if sorted(h.node for h in hs) != sorted((spec.a, spec.b)):
            problems.append(f"pair {key} indicated at {sorted(h.node for h in hs)}")
        elif len({(h.bell_index, h.purpose_id, h.created) for h in hs}) != 1:
            problems.append(f"pair {key}: the ends disagree on Bell state, purpose or creation time")
    occ = all_occupied(net)
    if occ:
        problems.append("occupied " + ", ".join(f"{k}: {v}" for k, v in occ.items()))
    return CheckResult(not problems, len(problems), 0, tolerance=0,
                       detail="; ".join(problems[:3]) or f"{SERVED_PAIRS} pairs at each end, all positions free")
