"""A request's ``min_fidelity`` is a floor every delivered pair meets.

Without purification the tail judges each end-to-end pair at delivery by the best estimate the
protocol can make: the links' expected Bell coefficients (for the model the link layer picked
for the flow's per-link budget) combined by the swap rule, then the Pauli-twirled storage of
every qubit the pair went through — the repeaters' swapped qubits (their PTM diagonals,
multiplied up in the TRACK or the SwapRecords), the tail's own qubit since its emission and the
head's since the pair's oldest emission (an upper bound on its age). Storage channels are Pauli
after the twirl and commute with swaps, so the product is one channel on the end pair. A pair
estimated below the floor is discarded (counted as "below floor") and the links make more; a
floor that fresh pairs cannot reach fails the flow at once with UNSUPPORTED and a reason.
"""

from __future__ import annotations

import pytest

from qstack.network import build_network
from qstack.network.runner import run_scenario
from qstack.physical.station import LINK_SCHEMES
from qstack.proto import MalformedMessage, SwapRecord, Track, decode, encode
from qstack.proto.qstack.v1 import link_pb2
from qstack.scenario import linear_chain, load_scenario


def _run(floor: float, swapping: str, **kw):
    d = linear_chain(9, link_length=10e3, seed=1, duration=0.2, min_fidelity=floor, swapping=swapping, **kw)
    net = build_network(load_scenario(d))
    net.sim.run(until=0.2)
    return net.flows[1]


@pytest.mark.parametrize("swapping", ["asap", "nested"])
@pytest.mark.parametrize("memory", [{}, {"t1": "inf", "t2": "inf", "depolarizing_time": "0.4 s"}],
                         ids=["t2-1.3s", "depolarizing-0.4s"])
def test_every_delivered_pair_meets_the_requested_min_fidelity(swapping, memory):
    """9-node chain, 10 km links, memories decaying (T2 = 1.3 s, or depolarising with τ = 0.4 s):
    with min_fidelity 0 some delivered pairs fall below F*; with min_fidelity = F* every delivered
    pair's fidelity (measured from its state) is at least F*, pairs are still delivered, and the
    tail discarded the ones it estimated below F*."""
    free = _run(0.0, swapping, **memory)
    fids = sorted(d.fidelity for d in free.deliveries)
    target = fids[len(fids) // 3]  # a floor a third of the unconstrained pairs miss
    assert fids[0] < target - 1e-4
    flow = _run(target, swapping, **memory)
    got = [d.fidelity for d in flow.deliveries]
    assert len(got) >= 10 and flow.failed is None
    assert min(got) >= target - 1e-12, (min(got), target)
    assert flow.discarded.get("below floor", 0) > 0


def test_a_floor_fresh_pairs_cannot_reach_fails_the_flow_at_once():
    """Raw fidelity 0.99 per link: 8 Werner links reach at most (1 + 3w⁸)/4 ≈ 0.9236 < 0.999
    (w = (4·0.99 − 1)/3), so the flow fails at t = 0 with UNSUPPORTED — here from the link layer,
    whose per-link budget w_link = w_target^(1/8) is out of reach — and nothing is delivered."""
    d = linear_chain(9, link_length=10e3, seed=1, duration=0.2, min_fidelity=0.999, raw_fidelity=0.99)
    r = run_scenario(load_scenario(d))
    (flow,) = r["flows"]
    assert r["delivered_pairs"] == 0 and "UNSUPPORTED" in flow["failed"]


@LINK_SCHEMES.register("floor_test_lax")
class _LaxScheme:
    """A user's scheme that ignores the requested fidelity: always the plain double-click model."""

    def model(self, hw, min_fidelity):
        return hw.base_model("double_click")


def test_links_that_ignore_their_budget_cannot_sneak_weak_pairs_past_the_floor():
    """A scheme that returns its one model whatever fidelity is asked (raw fidelity 0.95 per
    link): the link layer accepts the request, but the network layer sees that two such links
    swap to at most (1 + 3w²)/4 = 0.90333… < 0.95 and fails the flow at once, naming the floor,
    the route and that best value."""
    d = linear_chain(3, link_length=10e3, seed=1, duration=0.05, min_fidelity=0.95, t2="inf", raw_fidelity=0.95,
                     link={"scheme": "floor_test_lax"})
    r = run_scenario(load_scenario(d))
    (flow,) = r["flows"]
    assert r["delivered_pairs"] == 0
    assert flow["failed"] == ("UNSUPPORTED: fidelity floor 0.95 is out of reach on route n0-n1-n2 "
                              "(fresh pairs reach at most 0.903333)")


@pytest.mark.parametrize("cls", [Track, SwapRecord])
@pytest.mark.parametrize("decay", [[0.5, 0.5], [1.5, 1.0, 1.0], [float("nan"), 1.0, 1.0]])
def test_a_storage_decay_that_is_not_a_ptm_diagonal_is_refused(cls, decay):
    """The decay field is empty or three numbers in [-1, 1]; anything else is a protocol
    violation on receipt (and at the sender's encode)."""
    pid = {"head_pair": link_pb2.LinkPairId(link="a-b", seq=1), "via_pair": link_pb2.LinkPairId(link="b-c", seq=2)} \
        if cls is Track else {"left": link_pb2.LinkPairId(link="a-b", seq=1),
                              "right": link_pb2.LinkPairId(link="b-c", seq=2)}
    m = cls(flow_id=1, decay=decay, **pid)
    with pytest.raises(MalformedMessage, match=rf"{cls.__name__}.decay must be empty or 3 numbers in \[-1, 1\]"):
        encode(m)
    with pytest.raises(MalformedMessage):
        decode(encode(m, check=False))
