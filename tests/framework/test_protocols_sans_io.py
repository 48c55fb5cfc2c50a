"""Layer protocols driven sans-I/O with :mod:`qstack.testing`: feed an event at a time, assert the effects.

Each test builds one node's protocol (or a few on a :class:`~qstack.testing.VirtualNetwork`),
feeds it classical messages and link indications by hand, moves the virtual clock, and checks
what it sent, what it recorded and — since the pairs are real qubits — the quantum state it
left behind, against the theory of entanglement swapping, Werner-state decay and heralding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qstack.link.protocol import LinkLayer
from qstack.link.service import UNTIL_STOPPED, LinkCreate, LinkErr, LinkOK
from qstack.network.protocol import NetworkLayer, Pair, SwapEvent
from qstack.network.service import NetDeliver, NetExpire, NetRequest
from qstack.physical.memory import DepolarizingNoise
from qstack.physical.station import LINK_SCHEMES, HeraldingStation, LinkHardware
from qstack.proto.qstack.v1 import link_pb2, network_pb2
from qstack.quantum.core import reduced_dm
from qstack.quantum.states import BELL_KETS_NP
from qstack.testing import FakeLinkLayer, FakeRuntime, VirtualNetwork, chain_topology, herald_pair


def bell_fidelity(qa, qb, k: int) -> float:
    """⟨β_k|ρ_ab|β_k⟩ of two qubits (β_0..3 = Φ⁺, Φ⁻, Ψ⁺, Ψ⁻)."""
    return float((BELL_KETS_NP[k].conj() @ reduced_dm([qa, qb]) @ BELL_KETS_NP[k]).real)


def werner_coefficients(f: float) -> tuple[float, float, float, float]:
    return (f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3)


class Collector:
    """An upper layer that keeps every indication (link or network) it gets."""

    def __init__(self, accept: bool = True) -> None:
        self.accept = accept
        self.oks: list[LinkOK] = []
        self.errs: list[LinkErr] = []
        self.delivered: list[NetDeliver] = []
        self.started: list[tuple[int, str]] = []
        self.failed: list = []

    def accepts(self, peer: str, purpose_id: int) -> bool:
        return self.accept

    def link_ok(self, ok: LinkOK) -> None:
        self.oks.append(ok)

    def link_err(self, err: LinkErr) -> None:
        self.errs.append(err)

    def link_expire(self, expire) -> None:
        pass

    def flow_started(self, flow, end: str) -> None:
        self.started.append((flow.flow_id, end))

    def flow_failed(self, f) -> None:
        self.failed.append(f)

    def deliver(self, d: NetDeliver) -> None:
        self.delivered.append(d)


def repeater(swapping="asap", cutoff="none", coefficients=(1.0, 0.0, 0.0, 0.0), memory=None):
    """Repeater r between a and b, with its flow 7 already set up (PATH SETUP forwarded, ACK back)."""
    rt = FakeRuntime("r", positions=4, noise=memory)
    link = FakeLinkLayer(rt, {"a": "a-r", "b": "r-b"}, coefficients)
    net = NetworkLayer(rt, link, chain_topology(["a", "r", "b"], coefficients, memory),
                       {"swapping": swapping, "cutoff": cutoff})
    rt.stack.add(net)
    name = getattr(net.swapping, "name", "asap")
    rt.deliver("a", network_pb2.PathSetup(flow_id=7, source="a", destination="b", route=["a", "r", "b"],
                                          swapping=name))
    rt.deliver("b", network_pb2.PathSetupAck(flow_id=7, accepted=True))
    rt.take_sent()
    return rt, link, net


# --------------------------------------------------------------------------- network layer, one repeater


def test_path_setup_is_forwarded_downstream_and_the_ack_upstream_with_a_link_request():
    """PATH SETUP (Kozlowski et al. 2020) travels head → tail; the ACK travels back, and each
    node that receives it asks its link layer for pairs towards the node the ACK came from."""
    rt = FakeRuntime("r")
    link = FakeLinkLayer(rt, {"a": "a-r", "b": "r-b"})
    net = NetworkLayer(rt, link, chain_topology(["a", "r", "b"]))
    rt.stack.add(net)
    setup = network_pb2.PathSetup(flow_id=7, source="a", destination="b", route=["a", "r", "b"], swapping="asap",
                                  link_min_fidelity=0.8)
    rt.deliver("a", setup)
    (fwd,) = rt.take_sent()
    assert fwd.peer == "b" and fwd.message == setup
    assert link.creates == []  # nothing is made before the path is acknowledged
    rt.deliver("b", network_pb2.PathSetupAck(flow_id=7, accepted=True))
    (ack,) = rt.take_sent()
    assert ack.peer == "a" and ack.message.accepted
    (create,) = link.creates
    assert create.remote == "b" and create.purpose_id == 7 and create.min_fidelity == pytest.approx(0.8)


@pytest.mark.parametrize("i", range(4))
@pytest.mark.parametrize("j", range(4))
def test_swapping_bell_pairs_i_and_j_with_outcome_k_leaves_the_far_ends_in_bell_state_i_xor_j_xor_k(i, j):
    """Entanglement swapping: a Bell measurement with outcome k on the inner halves of β_i (a–r)
    and β_j (r–b) leaves a–b in β_{i⊕j⊕k} exactly (ideal gates). The repeater forwards the head's
    TRACK with frame i ⊕ j ⊕ k, so the tail knows the state without any global view; both memory
    positions are released."""
    rt, link, net = repeater()
    _, qa = link.herald("a", purpose_id=7, bell_index=i)
    _, qb = link.herald("b", purpose_id=7, bell_index=j)
    (swap,) = rt.events_of(SwapEvent)
    k = swap.outcome
    assert bell_fidelity(qa, qb, i ^ j ^ k) == pytest.approx(1.0, abs=1e-12)
    assert sorted(link.released) == [("a-r", 0), ("r-b", 1)]
    assert rt.memory.occupied_positions == []
    track = network_pb2.Track(flow_id=7, frame=i, swaps=0, created=0.0)
    track.head_pair.link, track.head_pair.seq = "a-r", 0
    track.via_pair.link, track.via_pair.seq = "a-r", 0
    rt.deliver("a", track)
    (fwd,) = rt.take_sent()
    assert fwd.peer == "b" and fwd.message.frame == i ^ j ^ k and fwd.message.swaps == 1
    assert (fwd.message.via_pair.link, fwd.message.via_pair.seq) == ("r-b", 0)


def test_swapping_two_werner_pairs_gives_the_werner_product_fidelity():
    """Swapping Werner pairs of parameters w₁, w₂ gives a Werner pair of parameter w₁w₂:
    F = (1 + 3 w₁ w₂)/4 with w = (4F − 1)/3 (here F = 0.9 on both links: F_out = 0.8133…)."""
    f = 0.9
    rt, link, net = repeater(coefficients=werner_coefficients(f))
    _, qa = link.herald("a", purpose_id=7)
    _, qb = link.herald("b", purpose_id=7)
    (swap,) = rt.events_of(SwapEvent)
    w = (4 * f - 1) / 3
    assert bell_fidelity(qa, qb, swap.outcome) == pytest.approx((1 + 3 * w * w) / 4, abs=1e-12)


@pytest.mark.parametrize(("age", "swapped"), [(0.030, True), (0.045, False)])
def test_threshold_policy_swaps_only_pairs_whose_decayed_fidelity_meets_its_floor(age, swapped):
    """Depolarising memories of time T at both ends of a link shrink a Werner pair's parameter as
    w(t) = w₀ e^{−2t/T}, so F(t) = (1 + 3 w₀ e^{−2t/T})/4. With F₀ = 0.95, T = 1 s and a floor of
    0.9 the threshold policy's limit is t* = (T/2) ln(3w₀/2.6) = 0.0371 s: an older pair is
    discarded (EXPIRE to its neighbour), a younger one is swapped."""
    f0, t_mem, floor = 0.95, 1.0, 0.9
    mem = DepolarizingNoise(t_mem)
    rt, link, net = repeater({"name": "threshold", "min_fidelity": floor}, coefficients=werner_coefficients(f0),
                             memory=mem)
    ok_a, _ = link.herald("a", purpose_id=7)
    w0 = (4 * f0 - 1) / 3
    t_star = t_mem / 2 * math.log(3 * w0 / (4 * floor - 1))
    assert t_star == pytest.approx(0.03705, abs=1e-5)
    for t in (0.0, 0.02, age):  # the layer's estimate is the analytic decay
        assert net.link_estimate(Pair(ok_a), t) == pytest.approx((1 + 3 * w0 * math.exp(-2 * t / t_mem)) / 4,
                                                                 abs=1e-12)
    rt.advance(age)
    link.herald("b", purpose_id=7)
    assert bool(rt.events_of(SwapEvent)) is swapped
    expired = rt.take_sent(link_pb2.Expire)
    if swapped:
        assert expired == []
    else:
        assert [(e.peer, e.message.pair.link, e.message.pair.seq) for e in expired] == [("a", "a-r", 0)]
        assert ("a-r", 0) in link.released and [e.reason for e in rt.events_of(NetExpire)] == ["swap policy"]


def test_fixed_cutoff_discards_a_waiting_pair_at_its_age_limit_and_tells_the_neighbour():
    """A fixed cut-off τ: a pair still unswapped τ after its creation is discarded at exactly
    t = τ — the position is freed and the other end of the link told (EXPIRE) — not earlier."""
    tau = 0.01
    rt, link, net = repeater(cutoff={"name": "fixed", "time": tau})
    link.herald("a", purpose_id=7)
    rt.advance(tau * 0.999)
    assert rt.take_sent() == [] and rt.memory.occupied_positions == [0]
    rt.advance(tau * 0.002)
    (expire,) = rt.take_sent()
    assert expire.peer == "a" and expire.message.pair.seq == 0 and expire.time == pytest.approx(tau, abs=0)
    assert rt.memory.occupied_positions == [] and ("a-r", 0) in link.released
    (ev,) = rt.events_of(NetExpire)
    assert ev.reason == "cut-off" and ev.time == pytest.approx(tau, abs=0)


def test_garbage_bytes_and_out_of_place_messages_are_counted_not_raised():
    """Bad input never crashes a node: undecodable bytes, a message type no layer takes and a
    TRACK from a node that is not the flow's predecessor are each refused and counted by reason."""
    rt, link, net = repeater()
    rt.deliver("a", b"\xff\xfe not a protobuf")
    rt.deliver("a", link_pb2.CreateAck(request_id=1, accepted=True))  # no link layer handler here
    track = network_pb2.Track(flow_id=7, frame=0)
    track.head_pair.link, track.head_pair.seq = "a-r", 0
    track.via_pair.link, track.via_pair.seq = "a-r", 0
    rt.deliver("b", track)
    assert rt.take_sent() == []
    reasons = " | ".join(rt.stack.rejected)
    assert sum(rt.stack.rejected.values()) == 3
    assert "unparseable" in reasons and "unexpected CreateAck" in reasons and "not my predecessor" in reasons


# --------------------------------------------------------------------------- network layers on a virtual clock


def test_three_network_layers_on_a_virtual_network_deliver_one_pair_in_the_announced_bell_state():
    """Head a, repeater r, tail b, each a NetworkLayer over a FakeLinkLayer, wired by a
    VirtualNetwork with 1 ms per message: the path is set up (2 × 2 hops of 1 ms), the test
    heralds one pair per link, r swaps, the TRACK reaches b, b delivers and confirms to a, which
    delivers on the CONFIRM — and the two delivered qubits are in exactly the Bell state both ends announce."""
    vn = VirtualNetwork({"a": 2, "r": 2, "b": 2}, latency=1e-3)
    topo = chain_topology(["a", "r", "b"])
    links = {"a": {"r": "a-r"}, "r": {"a": "a-r", "b": "r-b"}, "b": {"r": "r-b"}}
    fl, nets, ups = {}, {}, {}
    for n in "arb":
        fl[n] = FakeLinkLayer(vn[n], links[n])
        nets[n] = NetworkLayer(vn[n], fl[n], topo, {"swapping": "asap"})
        ups[n] = nets[n].upper = Collector()
        vn[n].stack.add(nets[n])
    fid = nets["a"].request(NetRequest("a", "b", pairs=1))
    vn.run()
    assert vn.now == pytest.approx(4e-3) and ups["a"].started == [(fid, "head")] and ups["b"].started == [(fid, "tail")]
    short = fid & 0xFFFFFFFF
    herald_pair(fl["r"], fl["b"], purpose_id=short, bell_index=2)
    herald_pair(fl["a"], fl["r"], purpose_id=short, bell_index=1)
    vn.run()
    (tail,), (head,) = ups["b"].delivered, ups["a"].delivered
    assert tail.frame == head.frame and tail.pair_id == head.peer_pair and head.pair_id == tail.peer_pair
    assert bell_fidelity(head.qubit, tail.qubit, tail.frame) == pytest.approx(1.0, abs=1e-12)
    assert head.time - tail.time == pytest.approx(1e-3)  # the confirm goes from b to a as one 1 ms message


def test_a_virtual_network_is_deterministic_per_seed_and_an_interceptor_can_drop_messages():
    """Same seed, same outcomes (bit for bit); a different seed differs. Dropping every PATH SETUP
    ACK leaves the head without a path: nothing is requested from any link layer."""

    def outcomes(seed: int) -> list[int]:
        rt = FakeRuntime("r", positions=2, seed=seed)
        link = FakeLinkLayer(rt, {"a": "a-r", "b": "r-b"})
        rt.stack.add(net := NetworkLayer(rt, link, chain_topology(["a", "r", "b"])))
        out = []
        for n in range(24):
            rt.deliver("a", network_pb2.PathSetup(flow_id=n + 1, source="a", destination="b", route=["a", "r", "b"],
                                                  swapping="asap"))
            rt.deliver("b", network_pb2.PathSetupAck(flow_id=n + 1, accepted=True))
            link.herald("a", purpose_id=n + 1)
            link.herald("b", purpose_id=n + 1)
            out.append(rt.events_of(SwapEvent)[-1].outcome)
        assert len(net.flows) == 24
        return out

    assert outcomes(5) == outcomes(5) and outcomes(5) != outcomes(6)
    vn = VirtualNetwork(["a", "r", "b"], latency=1e-3,
                        intercept=lambda src, dst, msg: not isinstance(msg, network_pb2.PathSetupAck))
    topo = chain_topology(["a", "r", "b"])
    links = {"a": {"r": "a-r"}, "r": {"a": "a-r", "b": "r-b"}, "b": {"r": "r-b"}}
    fakes = {n: FakeLinkLayer(vn[n], links[n]) for n in "arb"}
    nets = {n: NetworkLayer(vn[n], fakes[n], topo) for n in "arb"}
    for n in "arb":
        vn[n].stack.add(nets[n])
    nets["a"].request(NetRequest("a", "b", pairs=1))
    vn.run()
    assert all(f.creates == [] for f in fakes.values())
    assert [type(m).__name__ for _, _, _, m in vn.dropped] == ["PathSetupAck"]


# --------------------------------------------------------------------------- link layer with a real station


def _link(vn: VirtualNetwork, scheme: str, positions: int, hw: LinkHardware, accept: bool = True):
    station = HeraldingStation("a-b", vn.add("station"), ("a", "b"), (1e-4, 1e-4), vn.clock.sim.rng("station"),
                               hw.raw_w)
    layers, users = {}, {}
    for side, (n, peer) in enumerate((("a", "b"), ("b", "a"))):
        users[n] = Collector(accept=accept or n == "a")
        layers[n] = LinkLayer(vn[n], users[n])
        layers[n].attach("a-b", peer, side, station, list(range(positions)), hw, scheme)
        vn[n].stack.add(layers[n])
    return station, layers, users


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_link_layer_hands_both_ends_the_same_heralded_pair_with_the_single_click_fidelity(alpha):
    """Single-click heralding with bright-state population α and arm efficiencies η: the
    heralded state has fidelity (1 − α)/(1 − αη/2) with the announced Bell state (Ψ±, by which
    detector clicked). Two LinkLayers and a station on a virtual network: CREATE(3) → three
    LinkOKs at each end with the same pair ids and Bell index, whose joint state has exactly the
    model's fidelity; the first OK cannot come before one fibre round trip (2 × 100 µs)."""
    eta = 0.3
    hw = LinkHardware(eta_a=eta, eta_b=eta, cycle_time=2e-4, alpha=alpha)
    vn = VirtualNetwork({"a": 3, "b": 3}, latency=2e-4, seed=3)
    station, layers, users = _link(vn, "single_click", 3, hw)
    layers["a"].create(LinkCreate("b", number=3, purpose_id=9))
    vn.run()
    oka, okb = users["a"].oks, users["b"].oks
    assert len(oka) == len(okb) == 3 and [o.pair_id for o in oka] == [o.pair_id for o in okb]
    model = LINK_SCHEMES.create("single_click").model(hw, 0.0)
    assert model.fidelity == pytest.approx((1 - alpha) / (1 - alpha * eta / 2), abs=1e-12)
    for x, y in zip(oka, okb, strict=True):
        assert x.bell_index == y.bell_index in (2, 3) and x.purpose_id == 9
        qa = vn["a"].memory.peek(x.position, vn.now)
        qb = vn["b"].memory.peek(y.position, vn.now)
        assert bell_fidelity(qa, qb, x.bell_index) == pytest.approx(model.fidelity, abs=1e-9)
    assert vn["a"].events_of(LinkOK) == oka  # each OK is also an observation for the recorder
    assert station.pairs_generated == 3
    first_ok_time = min(s.time for s in vn["station"].sent)
    assert first_ok_time >= 2e-4 + 1e-4  # CREATE→ACK at 200 µs, then emission + 100 µs to the station


def test_a_create_for_a_purpose_the_peer_refuses_is_an_err_rejected_with_no_attempts():
    """CREATE (Dahlberg et al. 2019) needs both ends: the peer's upper layer does not know the
    purpose, so it answers REJECTED; the requester gets LinkErr(REJECTED) and no attempt is made."""
    hw = LinkHardware(eta_a=0.5, eta_b=0.5, cycle_time=1e-4)
    vn = VirtualNetwork({"a": 1, "b": 1}, latency=1e-4)
    station, layers, users = _link(vn, "double_click", 1, hw, accept=False)
    layers["a"].create(LinkCreate("b", number=1, purpose_id=4))
    vn.run()
    (err,) = users["a"].errs
    assert err.error_name == "REJECTED" and err.purpose_id == 4
    assert station.attempts == 0 and users["a"].oks == users["b"].oks == []
    assert np.isclose(vn.now, 2e-4)


def test_a_create_that_needs_longer_than_max_time_on_average_is_no_time_at_once():
    """Barrett–Kok with η = 0.5 per arm heralds with p = η²/2 = 1/8 per 100 µs attempt, so ten
    pairs on one position pair take 10 × 100 µs / (1/8) = 8 ms on average: max_time 7.9 ms is
    ERR NO_TIME before any message or attempt; 8.1 ms is accepted and served."""
    hw = LinkHardware(eta_a=0.5, eta_b=0.5, cycle_time=1e-4)
    vn = VirtualNetwork({"a": 1, "b": 1}, latency=1e-4)
    station, layers, users = _link(vn, "double_click", 1, hw)
    layers["a"].create(LinkCreate("b", number=10, max_time=7.9e-3, purpose_id=2))
    assert vn["a"].sent == [] and users["a"].errs == []  # told after create returns
    vn.run()
    (err,) = users["a"].errs
    assert err.error_name == "NO_TIME" and "take 0.008 s" in err.detail and station.attempts == 0
    layers["a"].create(LinkCreate("b", number=10, max_time=8.1e-3, purpose_id=2))
    vn.run()  # accepted; the one position stays held by the upper layer, so it times out after one pair
    assert [e.error_name for e in users["a"].errs] == ["NO_TIME", "TIMEOUT"]
    assert len(users["a"].oks) == 1 and station.attempts > 0


def test_a_full_request_queue_at_the_peer_is_no_resources():
    """Each link end serves at most ``max_queue`` requests: with one, the peer answers a second
    concurrent CREATE with NO_RESOURCES while the first keeps being served."""
    hw = LinkHardware(eta_a=0.5, eta_b=0.5, cycle_time=1e-4)
    vn = VirtualNetwork({"a": 2, "b": 2}, latency=1e-4)
    station = HeraldingStation("a-b", vn.add("station"), ("a", "b"), (1e-4, 1e-4), vn.clock.sim.rng("station"))
    users = {n: Collector() for n in "ab"}
    layers = {n: LinkLayer(vn[n], users[n], max_queue=1) for n in "ab"}
    for side, (n, peer) in enumerate((("a", "b"), ("b", "a"))):
        layers[n].attach("a-b", peer, side, station, [0, 1], hw, "double_click")
        vn[n].stack.add(layers[n])
    layers["a"].create(LinkCreate("b", number=2, purpose_id=1))
    layers["a"].create(LinkCreate("b", number=2, purpose_id=3))
    vn.run()
    (err,) = users["a"].errs
    assert err.error_name == "NO_RESOURCES" and err.purpose_id == 3
    assert [ok.purpose_id for ok in users["a"].oks] == [1, 1]
    with pytest.raises(ValueError, match="max_queue"):
        LinkLayer(vn["a"], max_queue=0)


def test_stop_at_the_responding_end_ends_the_request_at_both_ends():
    """A request lives in both ends' queues. When the responder's upper layer stops it, the
    responder sends CreateErr(origin, request id) and the requester drops it too — its upper
    layer hears ERR REJECTED ("stopped at b") — so no position pair attempts for a request one
    end no longer serves."""
    hw = LinkHardware(eta_a=0.5, eta_b=0.5, cycle_time=1e-4)
    vn = VirtualNetwork({"a": 1, "b": 1}, latency=1e-4)
    _, layers, users = _link(vn, "double_click", 1, hw)
    layers["a"].create(LinkCreate("b", number=UNTIL_STOPPED, purpose_id=6))
    vn.advance(1e-3)
    assert len(layers["a"].ends["b"].requests) == len(layers["b"].ends["a"].requests) == 1
    layers["b"].stop("a", 6)
    vn.run()
    (err,) = users["a"].errs
    assert (err.error_name, err.purpose_id, err.detail) == ("REJECTED", 6, "stopped at b")
    assert layers["a"].ends["b"].requests == [] and layers["b"].ends["a"].requests == []
