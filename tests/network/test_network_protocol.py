"""Protocol behaviour of the link and network layers: determinism, cut-offs, several flows,
the single-click fidelity–rate trade-off, robustness to bad input and traffic accounting
(Dahlberg et al., SIGCOMM 2019; Kozlowski, Dahlberg & Wehner, CoNEXT 2020)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from qstack_network_helpers import chain, chain_dict, run

from qstack.link.service import LinkOK
from qstack.network import build_network, run_scenario
from qstack.physical.heralding import HeraldingModel
from qstack.proto import encode
from qstack.proto.qstack.v1 import link_pb2, network_pb2
from qstack.quantum.states import fidelity_from_werner_parameter, werner_parameter
from qstack.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
WALL_CLOCK = {"wall_seconds", "build_seconds", "pairs_per_wall_second"}


def _deliveries(net):
    return [
        (d.flow_id, d.time, d.frame, d.fidelity, d.age, d.head_pair, d.tail_pair)
        for r in net.flows.values()
        for d in r.deliveries
    ]


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("swapping", ["asap", "nested"])
def test_same_seed_same_run_bit_for_bit(swapping):
    """All randomness (attempt counts, herald outcomes, Bell measurements) comes from the
    scenario seed: the same scenario and seed give identical summaries (except wall-clock
    figures) and identical delivery lists (time, frame, fidelity compared with ==); another
    seed gives a different run."""

    def scenario(seed):
        return load_scenario(
            chain_dict(4, seed=seed, swapping=swapping, raw_fidelity=0.95, t2="20 ms", cutoff="5 ms", duration=0.03)
        )

    a, b, other = (run_scenario(scenario(s)) for s in (7, 7, 8))
    strip = lambda r: {k: v for k, v in r.items() if k not in WALL_CLOCK}  # noqa: E731
    assert a["delivered_pairs"] > 10
    assert strip(a) == strip(b)
    assert strip(a) != strip(other)
    nets = []
    for seed in (7, 7, 8):
        net = build_network(scenario(seed))
        net.sim.run(until=0.03)
        nets.append(_deliveries(net))
    assert nets[0] == nets[1]
    assert nets[0] != nets[2]
    assert len(nets[0]) == a["delivered_pairs"]


# --------------------------------------------------------------------------- cut-offs


@pytest.mark.parametrize(
    "swapping",
    [
        "asap",
        "nested",
    ],
)
def test_cutoff_discards_old_pairs_and_generation_goes_on(swapping):
    """5-node chain, K = 2, cut-off 3 ms (about one mean generation time per link): no pair is
    delivered older than the cut-off; many link pairs are discarded (far more generated than
    the 4 per delivery used); every discarded pair frees its positions, so no pair held
    anywhere is older than the cut-off plus the signalling time, and deliveries go on in every
    quarter of the run."""
    cutoff, duration, k = 3e-3, 0.4, 2
    net = chain(5, seed=1, swapping=swapping, memory_positions=k, t2="inf", cutoff=cutoff, duration=duration)
    flow = run(net)
    ages = np.array([d.age for d in flow.deliveries])
    assert len(ages) > 10
    assert ages.max() <= cutoff
    generated = sum(link.pairs_generated for link in net.links.values())
    assert generated > 1.5 * 4 * len(ages)
    for node in net.nodes.values():
        assert len(node.memory.occupied_positions) <= k * len(
            [lk for lk in net.links.values() if node.name in (lk.a.name, lk.b.name)]
        )
    now = net.sim.now
    hop = net.links["n0-n1"].delay_a + net.links["n0-n1"].delay_b  # D
    signalling = 2 * 2 * 4 * hop  # two end-to-end round trips over the 4 hops
    held = [
        now - p.created
        for node in net.nodes.values()
        for f in node.flows.values()
        for p in (*f.up, *f.down, *f.ends.values())
    ]
    assert max(held, default=0.0) <= cutoff + signalling
    per_quarter = np.histogram([d.time for d in flow.deliveries], bins=4, range=(0, duration))[0]
    assert per_quarter.min() > 0, per_quarter


def test_cutoff_at_a_single_link_never_lets_old_pairs_through():
    """N = 2 with a cut-off shorter than a pair's age at delivery (2d + D = 0.4 ms): every
    pair is discarded by the tail at delivery and the head is told (ExpireNotice), so nothing
    is delivered, link generation keeps going and no position leaks."""
    net = chain(2, seed=4, memory_positions=2, t2="inf", cutoff=3e-4, duration=0.05)
    flow = run(net)
    assert flow.deliveries == []
    assert net.links["n0-n1"].pairs_generated > 20
    assert all(len(n.memory.occupied_positions) <= 2 for n in net.nodes.values())


# --------------------------------------------------------------------------- several flows


def test_two_flows_share_the_trunk_and_a_finished_flow_is_torn_down():
    """examples/mesh_two_flows.toml: alice→bob (50 pairs, priority 1) and carol→dave (as many
    as possible) both route over r1–r2. Both deliver; the finite flow ends with exactly 50
    deliveries, is marked done and removed from every node and link (path tear-down), while
    the other keeps delivering after it; the trunk's heralded pairs go to both flows, at
    least one per delivery of each."""
    sc = load_scenario(EXAMPLES / "mesh_two_flows.toml")
    net = build_network(sc)
    trunk = net.links["r1-r2"]
    per_flow: dict[int, int] = {}

    def heralded(ok: LinkOK) -> None:
        if ok.link == trunk.name and ok.peer == trunk.b.name:  # r1's view of each trunk pair
            per_flow[ok.purpose_id] = per_flow.get(ok.purpose_id, 0) + 1

    net.recorder.subscribe(LinkOK, heralded)
    net.sim.run(until=sc.simulation.duration)
    f1, f2 = net.flows[1], net.flows[2]
    assert f1.route == ["alice", "r1", "r2", "bob"] and f2.route == ["carol", "r1", "r2", "dave"]
    assert len(f1.deliveries) == 50 and f1.requested == 50
    assert f1.done_at is not None and f1.failed is None
    assert f1.deliveries[-1].time == pytest.approx(f1.done_at, abs=0)
    assert f2.failed is None and f2.done_at is None
    assert len(f2.deliveries) > 50
    assert any(d.time > f1.done_at for d in f2.deliveries)
    assert all(1 not in node.flows for node in net.nodes.values())
    assert all(r.purpose_id != 1 for link in net.links.values() for r in link.requests)
    assert per_flow.get(1, 0) >= 50 and per_flow.get(2, 0) >= len(f2.deliveries)
    fids = [d.fidelity for d in f1.deliveries]
    assert min(fids) > 0.8 - 0.01  # links made for the 0.8 budget, minus a little memory decay


# --------------------------------------------------------------------------- fidelity–rate trade-off


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("target", [0.8, 0.9])
def test_single_click_links_meet_the_per_link_werner_budget(n, target):
    """Single click without a fixed α: the network splits the end-to-end fidelity target over
    the L = N−1 links as Werner parameters, w_link = w_target^(1/L), and each link picks the
    largest α (highest rate) whose heralded fidelity meets that budget — so the heralded
    fidelity equals the budget (to 1e-9) and a higher target costs rate. On a single link
    with ideal memories every delivered pair has exactly the heralded fidelity."""
    net = chain(n, seed=3, t2="inf", min_fidelity=target, duration=0.02, link={"scheme": "single_click"})
    flow = run(net)
    assert flow.failed is None
    budget = fidelity_from_werner_parameter(werner_parameter(target) ** (1 / (n - 1)))
    for link in net.links.values():
        (req,) = link.requests
        assert req.model.fidelity >= budget - 1e-12
        assert req.model.fidelity == pytest.approx(budget, abs=1e-9)
        lower = HeraldingModel("single_click", req.model.eta_a, req.model.eta_b, alpha=req.model.alpha * 1.01)
        assert lower.fidelity < budget  # a larger α (more rate) would miss the budget
    assert len(flow.deliveries) > 5
    if n == 2:
        np.testing.assert_allclose([d.fidelity for d in flow.deliveries], target, atol=1e-9)


def test_single_click_higher_fidelity_costs_rate():
    """The trade-off: on the same link a request for F = 0.9 gets a smaller α, hence a smaller
    success probability p ≈ 2αη, than a request for F = 0.8."""
    ps = []
    for target in (0.8, 0.9):
        net = chain(2, seed=3, t2="inf", min_fidelity=target, duration=0.005, link={"scheme": "single_click"})
        run(net)
        ps.append(net.links["n0-n1"].requests[0].model.success_probability)
    assert ps[1] < 0.75 * ps[0]


@pytest.mark.parametrize(
    "hardware, link",
    [
        ({"dark_count_probability": 0.01}, {"scheme": "single_click"}),
        ({}, {"scheme": "single_click", "phase_std": 0.3}),
        ({"dark_count_probability": 0.05}, {}),  # double click: fixed fidelity < 1 with dark counts
    ],
)
def test_unreachable_fidelity_is_refused_with_unsupported(hardware, link):
    """Dark counts or phase noise cap the heralded fidelity below 1 for every α; a request for
    min_fidelity 0.999 cannot be met: the link answers UNSUPPORTED at once, the flow fails
    with that reason and nothing is generated or delivered."""
    sc = load_scenario(chain_dict(2, seed=1, t2="inf", min_fidelity=0.999, duration=0.01, link=link, **hardware))
    net = build_network(sc)
    flow = run(net)
    assert flow.failed is not None and "UNSUPPORTED" in flow.failed
    assert flow.deliveries == []
    assert net.links["n0-n1"].pairs_generated == 0
    summary = run_scenario(sc)
    assert "UNSUPPORTED" in summary["flows"][0]["failed"] and summary["delivered_pairs"] == 0


def test_single_click_with_raw_fidelity_picks_a_smaller_alpha():
    """raw_fidelity F_r < 1 depolarises each heralded pair: ρ → w_r·ρ + (1−w_r)·I/4. A link
    budget F = 0.8 with F_r = 0.95 is reachable (heralded fidelity ≥ (F − (1−w_r)/4)/w_r ≈ 0.84
    is available at small α), so the flow must be served, not refused."""
    net = chain(
        2, seed=1, t2="inf", raw_fidelity=0.95, min_fidelity=0.8, duration=0.02, link={"scheme": "single_click"}
    )
    flow = run(net)
    assert flow.failed is None
    assert len(flow.deliveries) > 5
    assert min(d.fidelity for d in flow.deliveries) >= 0.8 - 1e-9


# --------------------------------------------------------------------------- robustness


def _bad_inputs():
    lp = link_pb2.LinkPairId
    return [
        ("n1", "n0", b"\xff\x00garbage"),
        ("n1", "n0", b""),
        (
            "n2",
            "n0",
            encode(
                network_pb2.Track(
                    flow_id=1, head_pair=lp(link="n0-n1", seq=0), via_pair=lp(link="n0-n1", seq=0), frame=0, created=0.0
                )
            ),
        ),
        ("n1", "n0", encode(link_pb2.CreateAck(request_id=999, accepted=True))),
        (
            "n1",
            "n2",
            encode(link_pb2.Herald(pair=lp(link="n0-n1", seq=5), bell_index=2, attempts=1, emission_time=0.0)),
        ),
        (
            "n1",
            "n0",
            encode(
                network_pb2.EndToEndConfirm(
                    flow_id=1, head_pair=lp(link="n0-n1", seq=0), tail_pair=lp(link="n1-n2", seq=0), frame=0, seq=1
                )
            ),
        ),
        ("n1", "n0", encode(network_pb2.PathSetupAck(flow_id=1, accepted=True))),
        (
            "n2",
            "n1",
            encode(
                network_pb2.SwapRecord(
                    flow_id=1, left=lp(link="n1-n2", seq=0), right=lp(link="n0-n1", seq=0), outcome=0
                )
            ),
        ),
        (
            "n2",
            "n1",
            encode(
                network_pb2.Track(
                    flow_id=1,
                    head_pair=lp(link="n0-n1", seq=0),  # frame 9: no Bell state
                    via_pair=lp(link="n1-n2", seq=0),
                    frame=9,
                    created=0.0,
                ),
                check=False,
            ),
        ),
    ]


def test_bad_bytes_and_wrong_messages_are_rejected_and_change_nothing():
    """Bytes that do not parse, and well-formed messages the protocol does not allow here (a
    TRACK from a node that is not the predecessor, a CreateAck for an unknown request, a Herald
    not from the link's station, a Confirm at a repeater, a PathSetupAck from upstream, a
    SwapRecord in a swap-ASAP flow), are counted in ``node.rejected`` and dropped; none touches
    a random stream, so the run delivers exactly the same pairs as without them."""

    def net():
        return chain(3, seed=4, t2="inf", raw_fidelity=0.95, duration=0.05)

    base = net()
    run(base)
    hit = net()
    hit.sim.run(until=0.01)
    bad = _bad_inputs()
    for dst, src, payload in bad:
        hit.nodes[dst].classical._deliver(src, payload)
    run(hit)
    assert sum(sum(n.rejected.values()) for n in hit.nodes.values()) == len(bad)
    assert sum(hit.nodes["n1"].rejected.values()) == 6 and sum(hit.nodes["n2"].rejected.values()) == 3
    assert len(base.flows[1].deliveries) > 20
    assert _deliveries(hit) == _deliveries(base)
    summary = run_scenario(load_scenario(chain_dict(3, seed=4, duration=0.01)))
    assert all(v["rejected"] == 0 for v in summary["messages"].values())


def test_unparseable_inputs_are_tallied_under_one_reason():
    """The codec refuses bytes with a :class:`~qstack.proto.Rejection` reason meant for a
    counter to tally: two unparseable inputs of different lengths are the same kind of
    rejection and must land on one ``rejected`` key with count 2."""
    net = chain(2, seed=1, duration=0.001)
    node = net.nodes["n1"]
    node.classical._deliver("n0", b"\xff\x00garbage")
    node.classical._deliver("n0", b"\xff\x00more garbage")
    assert sum(node.rejected.values()) == 2
    assert list(node.rejected.values()) == [2], node.rejected


def test_teardown_from_a_node_off_the_route_is_rejected():
    """In the two-flow mesh, r3 is r1's neighbour but not on carol→dave's route: a
    PathTeardown for that flow from r3 is a protocol violation; it must be counted in
    ``r1.rejected`` and the flow must go on delivering."""
    sc = load_scenario(EXAMPLES / "mesh_two_flows.toml")
    net = build_network(sc)
    net.sim.run(until=0.05)
    before = len(net.flows[2].deliveries)
    net.nodes["r1"].classical._deliver("r3", encode(network_pb2.PathTeardown(flow_id=2, reason="forged")))
    net.sim.run(until=sc.simulation.duration)
    assert sum(net.nodes["r1"].rejected.values()) == 1
    assert 2 in net.nodes["r1"].flows
    assert len(net.flows[2].deliveries) > before + 20


# --------------------------------------------------------------------------- traffic accounting


def test_messages_and_bytes_add_up():
    """Every classical message is serialised bytes on a channel: the summary's totals equal
    the sums over nodes and heralding stations, and — run to completion (a finite request,
    no duration) so that nothing is left in flight — everything sent was received, message
    for message and byte for byte; every node received something."""
    sc = load_scenario(chain_dict(3, seed=2, t2="inf", pairs=30, duration=None))
    summary = run_scenario(sc)
    assert summary["delivered_pairs"] == 30 and summary["flows"][0]["completion_time"] is not None
    msgs = summary["messages"]
    net = build_network(sc)
    net.sim.run()
    stations = net.stations.values()
    sent = sum(v["messages_sent"] for v in msgs.values()) + sum(s.stats.messages_sent for s in stations)
    sent_bytes = sum(v["bytes_sent"] for v in msgs.values()) + sum(s.stats.bytes_sent for s in stations)
    assert summary["messages_total"] == sent > 0
    assert summary["bytes_total"] == sent_bytes > summary["messages_total"]
    received = sum(v["messages_received"] for v in msgs.values()) + sum(s.stats.messages_received for s in stations)
    received_bytes = sum(v["bytes_received"] for v in msgs.values()) + sum(s.stats.bytes_received for s in stations)
    assert (received, received_bytes) == (sent, sent_bytes)
    assert all(v["messages_received"] >= 1 for v in msgs.values())
    # Each delivery needs at least: a herald to each end of both links, a TRACK per hop, a Confirm.
    assert summary["messages_total"] >= 30 * (2 * 2 + 2 + 1)
    assert math.isfinite(summary["bytes_total"])
