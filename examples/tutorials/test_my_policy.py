"""Tutorial: a sans-I/O unit test of your protocol code, with `qstack.testing`.

No simulation, no network: one repeater's ``NetworkLayer`` on a ``FakeRuntime`` (a clock the
test moves by hand, every message kept), over a ``FakeLinkLayer`` (the test heralds pairs; they
are real qubits). We check ``FreshFirst`` from ``swap_policy.py``: it swaps the youngest pairs,
and a pair older than ``max_age`` is discarded with an EXPIRE to its link neighbour instead.

Run: ``python -m pytest examples/tutorials/test_my_policy.py`` (with this folder on
``PYTHONPATH``, or from inside it).
"""

from __future__ import annotations

import swap_policy  # noqa: F401  (registers "fresh_first")

from qstack.network.protocol import NetworkLayer, SwapEvent
from qstack.proto.qstack.v1 import link_pb2, network_pb2
from qstack.testing import FakeLinkLayer, FakeRuntime, chain_topology


def repeater(max_age: float):
    rt = FakeRuntime("r", positions=4)
    link = FakeLinkLayer(rt, {"a": "a-r", "b": "r-b"})
    net = NetworkLayer(rt, link, chain_topology(["a", "r", "b"]),
                       {"swapping": {"name": "fresh_first", "max_age": max_age}})
    rt.stack.add(net)
    rt.deliver("a", network_pb2.PathSetup(flow_id=1, source="a", destination="b", route=["a", "r", "b"],
                                          swapping="fresh_first"))
    rt.deliver("b", network_pb2.PathSetupAck(flow_id=1, accepted=True))
    rt.take_sent()
    return rt, link


def test_the_youngest_pairs_are_swapped():
    rt, link = repeater(max_age=1.0)
    link.herald("a", purpose_id=1)          # seq 0 at t = 0
    rt.advance(0.1)
    link.herald("a", purpose_id=1)          # seq 1 at t = 0.1: younger
    link.herald("b", purpose_id=1)
    (swap,) = rt.events_of(SwapEvent)
    assert swap.up == ("a-r", 1) and swap.down == ("r-b", 0)


def test_a_pair_older_than_max_age_is_discarded_and_its_neighbour_told():
    rt, link = repeater(max_age=0.01)
    link.herald("a", purpose_id=1)
    rt.advance(0.02)
    link.herald("b", purpose_id=1)
    assert rt.events_of(SwapEvent) == []
    (expire,) = rt.take_sent(link_pb2.Expire)
    assert expire.peer == "a" and (expire.message.pair.link, expire.message.pair.seq) == ("a-r", 0)
    assert ("a-r", 0) in link.released
