"""A flow's route index table (``Flow.positions``): the O(1) membership and index tests that
replaced ``route.index`` / ``node in route`` scans on every SwapRecord and Expire (linear in the
route length, so quadratic on long chains). They must answer exactly what the scans answered."""

from __future__ import annotations

import math
from pathlib import Path

from qstack.network import build_network
from qstack.network.protocol import Flow
from qstack.proto import encode
from qstack.proto.qstack.v1 import link_pb2, network_pb2
from qstack.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _flow(route: list[str], index: int = 0) -> Flow:
    return Flow(1, route, index, 0.0, 0.0, 1, math.inf)


def test_positions_are_route_index_including_the_first_of_a_repeated_node():
    """``positions[node]`` is ``route.index(node)`` for every node on the route (for a node
    listed twice, its first occurrence, as ``list.index`` gives), and a node off the route has
    no entry (``node in route`` is False)."""
    route = [f"n{i}" for i in range(1000)]
    flow = _flow(route, 500)
    assert flow.positions == {node: route.index(node) for node in route}
    odd = ["a", "b", "a", "c"]
    assert _flow(odd).positions == {"a": 0, "b": 1, "c": 3}
    assert "z" not in _flow(odd).positions


def test_swap_record_from_a_neighbour_off_the_route_is_rejected():
    """With nested swapping (SwapRecord signalling) in the two-flow mesh, r3 is r1's neighbour
    but not on carol→dave's route: a SwapRecord for that flow from r3 is a protocol violation,
    counted in ``r1.rejected``; the flow goes on delivering."""
    sc = load_scenario(EXAMPLES / "mesh_two_flows.toml")
    net = build_network(sc, policies={"swapping": "nested"})
    net.sim.run(until=0.05)
    before = len(net.flows[2].deliveries)
    lp = link_pb2.LinkPairId
    rec = network_pb2.SwapRecord(flow_id=2, left=lp(link="carol-r1", seq=0), right=lp(link="r1-r2", seq=0),
                                 outcome=0)
    net.nodes["r1"].classical._deliver("r3", encode(rec))
    net.sim.run(until=sc.simulation.duration)
    assert net.nodes["r1"].rejected == {"SwapRecord outside a flow with swap records": 1}
    assert len(net.flows[2].deliveries) > before + 20
