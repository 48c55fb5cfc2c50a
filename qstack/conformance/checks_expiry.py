"""EXPIRE reaches every holder: when a pair is discarded somewhere, the other end lets go of it.

A pair of a flow is two qubits at two nodes. When one node discards its qubit — a cut-off, a
swap policy's ``view.discard``, a delivery refused at the tail — the other half is worthless,
and the node holding it must learn so (``Expire`` / ``ExpireNotice``, hop by hop or directly)
and free its memory position. The observer judges this from the qubits alone: at every
``NetExpire`` it looks for qubits still held in a memory whose partner (the other qubit of
their pair, :func:`qstack.quantum.operations.partner`) was, at the previous observation, held
at the expiring node and is now gone without having been delivered. Each such holder must have
freed that qubit's position by the time a message from the expiring node can reach it — the
shortest classical delay between the two nodes — to 1e-9 s.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from qstack.conformance.framework import TOLERANCE, CheckResult, Context, Target, check
from qstack.conformance.runs import chain

#: the swap-policy run: four nodes, 5 km links (Werner F = 0.9), T2 = 50 ms memories, and a fixed
#: cut-off of EXPIRE_CUTOFF seconds so that pairs expire at the repeaters
EXPIRE_NODES, EXPIRE_DURATION, EXPIRE_CUTOFF = 4, 0.05, 3e-4
#: the cut-off-policy run: three nodes, 10 km links (F = 0.95), T2 = 20 ms memories (as the other
#: cut-off checks)
EXPIRE_CUT_NODES, EXPIRE_CUT_DURATION = 3, 0.2


class _Ledger:
    """Who holds which qubit, and who its partner is, as of the last observation; and each held
    qubit whose partner vanished (an *orphan*), with the time its position must be free by."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.where: dict[int, tuple[str, int, Any]] = {}  # id(qubit) -> (node, position, qubit)
        self.partner: dict[int, Any] = {}  # id(qubit) -> partner qubit
        self.heralded: dict[tuple[str, Any], Any] = {}  # (node, link pair key) -> qubit (LinkOK)
        #: qubits used up legitimately: handed to the layer above (NetDeliver) or measured in a swap
        #: or a purification round — their partners are the layer's business, not an expiry's
        self.consumed: set[int] = set()
        self.orphans: list[tuple[float, str, str, int, Any]] = []  # (deadline, vanished at, holder, position, q)
        self.seen_orphan: set[int] = set()
        self.checked: list[tuple[int, bool]] = []  # (orphan index, still held at its deadline)
        graph = nx.Graph()
        for spec in net.scenario.links:
            _, da, db = net.scenario.link_hardware(spec)
            graph.add_edge(spec.a, spec.b, delay=da + db)
        self.delay = dict(nx.all_pairs_dijkstra_path_length(graph, weight="delay"))

    def held(self) -> list[tuple[str, int, Any]]:
        return [(node, pos, mem.qubit_at(pos)) for node, mem in self.net.memories.items()
                for pos in mem.occupied_positions]

    # ---- observations (recorder subscriptions)

    def herald(self, ok: Any) -> None:
        info = self.net.topology.links[ok.link]
        node = info.b if ok.peer == info.a else info.a
        self.heralded[(node, (ok.link, ok.seq))] = ok.qubit
        self.observe()

    def swap(self, ev: Any) -> None:
        for key in (ev.up, ev.down):
            q = self.heralded.get((ev.node, key))
            if q is not None:
                self.consumed.add(id(q))
        self.observe()

    def purification(self, ev: Any) -> None:
        q = self.heralded.get((ev.node, ev.sacrifice))
        if q is not None:
            self.consumed.add(id(q))
        self.observe()

    def delivered(self, d: Any) -> None:
        self.consumed.add(id(d.qubit))
        self.observe()

    def observe(self, *_: Any) -> None:
        """Find the new orphans (their deadline counts from now: the NetExpire itself when there
        is one, else the first observation after the discard), then take a new snapshot."""
        from qstack.quantum.operations import partner

        now = self.net.sim.now
        held = self.held()
        for node, pos, q in held:
            if id(q) in self.seen_orphan or id(q) in self.consumed or (q.alive and partner(q) is not None):
                continue
            was = self.partner.get(id(q))
            if was is None or was.alive or id(was) in self.consumed:
                continue
            where = self.where.get(id(was))
            if where is None:
                continue
            self.seen_orphan.add(id(q))
            deadline = now + self.delay[where[0]][node]
            self.orphans.append((deadline, where[0], node, pos, q))
            self.net.sim.call_at(deadline + TOLERANCE, self._due, len(self.orphans) - 1)
        self.where, self.partner = {}, {}
        for node, pos, q in held:
            self.where[id(q)] = (node, pos, q)
            p = partner(q) if q.alive else None
            if p is not None:
                self.partner[id(q)] = p

    def _due(self, index: int) -> None:
        _, _, holder, pos, q = self.orphans[index]
        mem = self.net.memories[holder]
        self.checked.append((index, mem.qubit_at(pos) is q and id(q) not in self.consumed))


def _observe_expiries(scenario: Any, policies: dict[str, Any], settle: float = 0.05) -> tuple[_Ledger, int]:
    from qstack.link.service import LinkOK
    from qstack.network import build_network
    from qstack.network.protocol import PurificationEvent, SwapEvent
    from qstack.network.service import NetDeliver, NetExpire

    net = build_network(scenario, policies=policies)
    ledger = _Ledger(net)
    expiries: list[Any] = []
    rec = net.recorder
    rec.subscribe(LinkOK, ledger.herald)
    rec.subscribe(SwapEvent, ledger.swap)
    rec.subscribe(PurificationEvent, ledger.purification)
    rec.subscribe(NetDeliver, ledger.delivered)
    rec.subscribe(NetExpire, lambda e: (expiries.append(e), ledger.observe()))
    end = scenario.simulation.duration
    net.sim.run(until=end)
    for fid, flow in list(net.flows.items()):
        net.network_layers[flow.source].stop(fid)
    net.sim.run(until=end + settle)
    return ledger, len(expiries)


def _verdict(ledger: _Ledger, n_expiries: int, what: str) -> CheckResult:
    if n_expiries == 0:
        return CheckResult.skipped(f"no pair expired ({what})")
    late = [ledger.orphans[i] for i, still in ledger.checked if still]
    pending = len(ledger.orphans) - len(ledger.checked)
    detail = f"{n_expiries} expiries, {len(ledger.orphans)} remote halves, all freed in time"
    if late:
        deadline, source, holder, pos, _ = late[0]
        detail = (f"{len(late)}/{len(ledger.orphans)} remote halves not freed in time; first: pair expired at "
                  f"{source}, {holder} still held position {pos} at {deadline:.9g} s (+1e-9 s)")
    return CheckResult(not late and not pending, len(late) + pending, 0, tolerance=0, detail=detail)


@check("swapping.expire_reaches_holders", "swapping", f"""EXPIRE reaches every holder: on a 4-node chain
       (Werner links F = 0.9, T2 = 50 ms memories) with a fixed cut-off of {EXPIRE_CUTOFF * 1e3:g} ms
       and the policy under test, whenever a node discards its qubit of a pair (cut-off, view.discard,
       refused delivery) every node holding the other qubit of that pair frees its memory position
       within the shortest classical delay between the two nodes, to 1e-9 s (observed from the qubits:
       a held qubit whose partner vanished at the expiring node without being delivered).""")
def _expire_swapping(target: Target, ctx: Context) -> CheckResult:
    sc = chain(EXPIRE_NODES, "5 km", seed=ctx.seed, duration=EXPIRE_DURATION, raw_fidelity=0.9, t2="50 ms")
    ledger, n = _observe_expiries(sc, {"swapping": target.spec,
                                       "cutoff": {"name": "fixed", "time": EXPIRE_CUTOFF}})
    return _verdict(ledger, n, "with a fixed cut-off")


@check("cutoff.expire_reaches_holders", "cutoff", """EXPIRE reaches every holder: on the cut-off checks'
       3-node chain (10 km links, raw fidelity 0.95, T2 = 20 ms), whenever the policy makes a node
       discard its qubit of a pair, every node holding the other qubit frees its position within the
       shortest classical delay between the two nodes, to 1e-9 s. Skipped when the policy cuts off
       nothing.""")
def _expire_cutoff(target: Target, ctx: Context) -> CheckResult:
    sc = chain(EXPIRE_CUT_NODES, "10 km", seed=ctx.seed, duration=EXPIRE_CUT_DURATION, raw_fidelity=0.95,
               t2="20 ms")
    ledger, n = _observe_expiries(sc, {"cutoff": target.spec})
    return _verdict(ledger, n, "the policy cut off nothing")
