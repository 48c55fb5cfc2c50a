"""Flows end cleanly: many small back-to-back requests, link purpose ids, and tear-down.

The link layer knows a flow only by its 32-bit purpose id, the flow id's low 32 bits. Flow ids a
head allocates are ``(counter << 20) | node index``, so the counter wraps in those 32 bits every
4096 flows: the 4096th flow of the node with index 0 had purpose id 0, which ``link_ok`` took for
"no flow" — every link pair was released as if its flow had been torn down, the position was
re-signalled for the still-served request, and the run never ended (the DI-QKD app with one
request per round hung at its 4096th round). Two live flows with the same low 32 bits shared
each other's link requests.

Separately, the head freed the position of its flow's last pair (the layer above measures a
measured pair inside ``deliver``) before tearing the flow down, so the link started one more
pair for the finished flow: with one memory position per link end, N one-pair requests cost 2N
link pairs and twice the time.

Every test has a wall-clock alarm (SIGALRM), so a run that never ends fails instead of hanging.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from qstack.apps.runtime import Application, RoleContext, run_app
from qstack.network.network import QuantumNetwork
from qstack.network.service import NetDeliver, NetFail, NetRequest
from qstack.scenario import linear_chain, load_scenario

#: sequential requests that take a head's flow counter past 4096 (its 12 bits below bit 32)
PAST_WRAP = 4100


@contextmanager
def _alarm(seconds: int) -> Iterator[None]:
    """Fail (TimeoutError) if the block runs longer than ``seconds`` of wall-clock time."""
    if not hasattr(signal, "SIGALRM"):
        pytest.skip("needs SIGALRM to bound a run that may never end")

    def _timeout(signum: int, frame: object) -> None:
        raise TimeoutError(f"the run did not end within {seconds} s of wall-clock time")

    old = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class OnePairRequests(Application):
    """``alice`` asks ``rounds`` times for one measured pair (Z), ``bob`` receives each: one
    flow per round, each set up after the previous one delivered."""

    name = "one-pair-requests"
    roles = ("alice", "bob")
    qubits = 1

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds

    async def alice(self, ctx: RoleContext) -> int:
        sock = ctx.epr_socket("bob")
        return sum([len(await sock.create_measure(1)) for _ in range(self.rounds)])

    async def bob(self, ctx: RoleContext) -> int:
        sock = ctx.epr_socket("alice")
        return sum([len(await sock.recv_measure(1)) for _ in range(self.rounds)])


def _two_nodes(positions: int = 1) -> object:
    """n0 — n1, 1 km, ``positions`` memory positions per link end (n0 has node index 0)."""
    return load_scenario(linear_chain(2, link_length=1e3, pairs=1, duration=None, memory_positions=positions))


def _link_requests(net: QuantumNetwork) -> dict[str, list[tuple[int, int]]]:
    """Every request each node's link layer still serves: ``node -> [(request id, purpose id)]``."""
    return {node: [(r.request_id, r.purpose_id) for end in layer.ends.values() for r in end.requests]
            for node, layer in net.link_layers.items()}


def test_past_4096_sequential_one_pair_requests_every_flow_is_served_and_the_run_ends() -> None:
    """4100 back-to-back one-pair requests through EPR sockets (the head n0 has node index 0, so
    its 4096th flow id has low 32 bits 0): every round gets its pair, the simulation runs out of
    events by itself (no link keeps generating), and afterwards neither node holds a flow and
    neither end of the link serves a request."""
    with _alarm(60):
        # until: a simulated-time bound far above the ~12 s the rounds need (one pair ~2.9 ms)
        res = run_app(OnePairRequests(PAST_WRAP), _two_nodes(), {"alice": "n0", "bob": "n1"}, until=600.0)
    net = res.network
    assert res.results == {"alice": PAST_WRAP, "bob": PAST_WRAP}
    assert net.sim.next_event_time is None, "the run did not end by itself: a link still generates pairs"
    assert {n: list(layer.flows) for n, layer in net.network_layers.items()} == {"n0": [], "n1": []}
    assert _link_requests(net) == {"n0": [], "n1": []}


def test_one_pair_requests_with_one_position_make_exactly_one_link_pair_each() -> None:
    """With one memory position per link end, a one-pair request's link pair is the only one the
    link makes for it: the head tears the finished flow down before the layer above frees the
    position, so 50 sequential requests make exactly 50 link pairs (not 100: a second pair per
    request, started for the finished flow on the freed position)."""
    rounds = 50
    with _alarm(30):
        res = run_app(OnePairRequests(rounds), _two_nodes(), {"alice": "n0", "bob": "n1"}, until=60.0)
    net = res.network
    assert res.results == {"alice": rounds, "bob": rounds}
    assert sum(s.pairs_generated for s in net.stations.values()) == rounds
    assert _link_requests(net) == {"n0": [], "n1": []}


def test_a_flow_id_whose_link_purpose_id_is_zero_is_refused_naming_the_field() -> None:
    """``NetRequest.flow_id = 2**32`` would reach the link layer as purpose id 0 ("no purpose"),
    whose pairs no flow claims (the run never ended): the head refuses it at once with a
    ValueError naming ``NetRequest.flow_id`` and the low 32 bits."""
    net = QuantumNetwork(_two_nodes())
    with pytest.raises(ValueError, match=r"NetRequest\.flow_id 4294967296 .*low 32 bits"):
        net.network_layers["n0"].request(NetRequest("n0", "n1", pairs=1, flow_id=1 << 32))


def test_a_second_live_flow_with_the_same_low_32_bits_is_refused_and_the_first_is_served() -> None:
    """Flow ids 5 and 2**32 + 5 share link purpose id 5: the head refuses the second while the
    first is live (ValueError naming it), and the first gets its 3 pairs with no failure; the run
    ends with no link request left at either end."""
    net = QuantumNetwork(_two_nodes(positions=4))
    fails: list[NetFail] = []
    net.recorder.subscribe(NetFail, fails.append)
    head = net.network_layers["n0"]
    head.request(NetRequest("n0", "n1", pairs=3, flow_id=5))
    with pytest.raises(ValueError, match=r"NetRequest\.flow_id 4294967301 .*link purpose id 5 .*flow 5"):
        head.request(NetRequest("n0", "n1", pairs=3, flow_id=5 + (1 << 32)))
    with _alarm(30):
        net.sim.run(until=10.0)
    assert net.sim.next_event_time is None
    assert fails == []
    assert _link_requests(net) == {"n0": [], "n1": []}


def test_crossing_flows_sharing_a_link_purpose_id_are_refused_with_the_reason() -> None:
    """n0 → n2 (flow 5) and n2 → n0 (flow 2**32 + 5) set up at the same time share link purpose id
    5 on both links: a node that already serves one refuses the other's PATH SETUP, so no pair is
    credited to the wrong flow; each flow fails with a reason naming the clash, nothing is
    delivered, and the run ends with no flow and no link request left."""
    net = QuantumNetwork(load_scenario(linear_chain(3, link_length=1e3, pairs=1, duration=None)))
    fails: list[NetFail] = []
    delivered: list[NetDeliver] = []
    net.recorder.subscribe(NetFail, fails.append)
    net.recorder.subscribe(NetDeliver, delivered.append)
    net.sim.call_at(0.0, net.network_layers["n0"].request, NetRequest("n0", "n2", pairs=3, flow_id=5))
    net.sim.call_at(0.0, net.network_layers["n2"].request, NetRequest("n2", "n0", pairs=3, flow_id=5 + (1 << 32)))
    with _alarm(30):
        net.sim.run(until=10.0)
    assert net.sim.next_event_time is None
    assert sorted(f.flow_id for f in fails) == [5, 5 + (1 << 32)]
    assert all("link purpose id 5" in f.reason for f in fails), [f.reason for f in fails]
    assert delivered == []
    assert {n: list(layer.flows) for n, layer in net.network_layers.items()} == {"n0": [], "n1": [], "n2": []}
    assert _link_requests(net) == {"n0": [], "n1": [], "n2": []}
