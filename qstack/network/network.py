"""A quantum network built from a scenario: nodes, memories, heralded links, routing, flows.

The topology is a networkx graph whose edges carry the link objects and an expected cost
(the mean time per heralded pair, ``cycle / p``) used by the default routing policy. Routing
policies live in a registry (:func:`register_routing_policy`), like aioquic's congestion
controls. Classical messages between any two nodes travel with the delay of the shortest
fibre path between them (a classical network beside the quantum one); channels are opened on
first use and their messages and bytes are counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from qstack.link.layer import Link, LinkPair
from qstack.physical.detectors import Detector
from qstack.physical.fibre import Fibre
from qstack.physical.heralding import HeraldingModel
from qstack.physical.memory import QuantumMemory
from qstack.quantum.core import reduced_dm
from qstack.quantum.noise import GateNoise
from qstack.quantum.states import fidelity_from_werner_parameter, werner_parameter
from qstack.sim import Node, Simulation, connect

from .node import Delivery, Flow, QuantumNode

_BELL_SUPPORT = ((0, 3), (0, 3), (1, 2), (1, 2))
_BELL_SIGN = (1.0, -1.0, 1.0, -1.0)

__all__ = ["QuantumNetwork", "ROUTING_POLICIES", "register_routing_policy", "FlowResult"]

RoutingPolicy = Callable[[nx.Graph, str, str], list[str]]
ROUTING_POLICIES: dict[str, RoutingPolicy] = {}


def register_routing_policy(name: str) -> Callable[[RoutingPolicy], RoutingPolicy]:
    """Register a routing policy ``fn(graph, source, destination) -> route`` under ``name``.

    >>> @register_routing_policy("fewest_hops")
    ... def fewest_hops(graph, src, dst):
    ...     return nx.shortest_path(graph, src, dst)
    >>> "fewest_hops" in ROUTING_POLICIES
    True
    """

    def deco(fn: RoutingPolicy) -> RoutingPolicy:
        ROUTING_POLICIES[name] = fn
        return fn

    return deco


@register_routing_policy("shortest_path")
def shortest_expected_time(graph: nx.Graph, source: str, destination: str) -> list[str]:
    """Shortest path by expected link cost (mean time per heralded pair), ties by hop count."""
    return nx.shortest_path(graph, source, destination, weight="cost")


@dataclass
class FlowResult:
    """What one end-to-end request achieved."""

    flow_id: int
    source: str
    destination: str
    route: list[str]
    start: float
    requested: int
    deliveries: list[Delivery]
    done_at: float | None = None
    failed: str | None = None
    basis: str | None = None  # CREATE_MEASURE flows


class QuantumNetwork:
    """Nodes and links of a scenario on one :class:`~qstack.sim.Simulation`."""

    def __init__(self, scenario: Any):
        self.scenario = scenario
        self.sim = Simulation(seed=scenario.simulation.seed)
        self.graph = nx.Graph()
        self.nodes: dict[str, QuantumNode] = {}
        self.links: dict[str, Link] = {}
        self.flows: dict[int, FlowResult] = {}
        self.pending_creates: dict[tuple[str, int], tuple[int, float]] = {}
        self.link_errors: list[tuple[str, str, int, str, str]] = []
        self.stations: dict[str, Node] = {}
        self._channels: set[tuple[str, str]] = set()
        self._classical = nx.Graph()
        self._next_flow = 1
        self.on_delivery: Callable[[FlowResult, Delivery], Any] | None = None
        #: flow id -> transport that takes the flow's delivered pairs (else the runner's sink)
        self.consumers: dict[int, Any] = {}
        #: application session id -> its runtime (receives AppMessage / TeleportRecord)
        self.sessions: dict[int, Any] = {}
        self._build()

    # ------------------------------------------------------------------ building

    def _build(self) -> None:
        sc = self.scenario
        self._hardware = {h.name: h for h in sc.hardware}
        self._node_profile = {n.name: n.hardware for n in sc.nodes}
        hw = self._hardware
        positions: dict[str, int] = {n.name: 0 for n in sc.nodes}
        for link in sc.links:
            k = link.memory_positions or hw[self._profile(link.a)].memory_positions
            positions[link.a] += k
            positions[link.b] += k
        for spec in sc.nodes:
            h = hw[self._profile(spec.name)]
            memory = QuantumMemory(
                spec.name, max(positions[spec.name], 1), t1=h.t1, t2=h.t2, depolarizing_time=h.depolarizing_time,
                gate_noise=GateNoise(h.single_qubit_depolarizing, h.two_qubit_depolarizing, h.readout_error),
            )
            self.nodes[spec.name] = QuantumNode(self, spec.name, memory, spec.role)
            self.graph.add_node(spec.name)
            self._classical.add_node(spec.name)
        for i, spec in enumerate(sc.links):
            self._build_link(i, spec)

    def _profile(self, node: str) -> str:
        return self._node_profile[node]

    def _build_link(self, i: int, spec: Any) -> None:
        a, b = self.nodes[spec.a], self.nodes[spec.b]
        ha, hb = self._hardware[self._profile(spec.a)], self._hardware[self._profile(spec.b)]
        name = f"{spec.a}-{spec.b}"
        fa = Fibre(spec.length * spec.station_position, spec.attenuation, spec.refractive_index)
        fb = Fibre(spec.length * (1 - spec.station_position), spec.attenuation, spec.refractive_index)
        per_km = spec.classical_delay_per_km
        da = fa.delay if per_km is None else per_km * fa.length / 1e3
        db = fb.delay if per_km is None else per_km * fb.length / 1e3
        detector = Detector(
            spec.detector_efficiency if spec.detector_efficiency is not None else ha.detector_efficiency,
            spec.dark_count_probability if spec.dark_count_probability is not None else ha.dark_count_probability,
        )
        period = max(1.0 / ha.attempt_rate, 1.0 / hb.attempt_rate)
        model = HeraldingModel(
            spec.scheme,
            eta_a=ha.emission_efficiency * fa.transmissivity * detector.efficiency,
            eta_b=hb.emission_efficiency * fb.transmissivity * detector.efficiency,
            p_dark=detector.dark_count_probability,
            alpha=spec.alpha if spec.alpha is not None else 0.5,
            phase_std=spec.phase_std,
            cycle_time=max(2 * da, 2 * db, period),
            round_period=period + 2 * max(da, db) if spec.rounds == "sequential" else 0.0,
        )
        station = Node(self.sim, f"station:{name}")
        connect(station, a.classical, da)
        connect(station, b.classical, db)
        self.stations[name] = station
        link = Link(name, a, b, station, model, spec.memory_positions or ha.memory_positions, da, db,
                    self.sim.rng(name, "heralding"), spec.alpha, min(ha.raw_fidelity, hb.raw_fidelity))
        self.links[name] = link
        a.links[b.name] = link
        b.links[a.name] = link
        p = model.success_probability
        self.graph.add_edge(spec.a, spec.b, link=link, cost=model.mean_attempt_time / p if p > 0 else math.inf)
        self._classical.add_edge(spec.a, spec.b, delay=da + db)
        connect(a.classical, b.classical, da + db)
        self._channels.add((spec.a, spec.b))
        self._channels.add((spec.b, spec.a))

    def open_channel(self, a: str, b: str) -> None:
        """Open classical channels between ``a`` and ``b`` with the shortest fibre-path delay."""
        if (a, b) in self._channels:
            return
        delay = nx.shortest_path_length(self._classical, a, b, weight="delay")
        connect(self.nodes[a].classical, self.nodes[b].classical, delay)
        self._channels.add((a, b))
        self._channels.add((b, a))

    # ------------------------------------------------------------------ requests

    def route(self, source: str, destination: str) -> list[str]:
        """The route chosen by the scenario's routing policy."""
        policy = ROUTING_POLICIES[self.scenario.policies.routing]
        return policy(self.graph, source, destination)

    def request(self, spec: Any) -> FlowResult:
        """Set up a flow for an end-to-end request now (PATH SETUP from the source)."""
        route = self.route(spec.source, spec.destination)
        fid = self._next_flow
        self._next_flow += 1
        links = len(route) - 1
        w = werner_parameter(spec.min_fidelity) if spec.min_fidelity > 0.25 else 0.0
        link_min = fidelity_from_werner_parameter(w ** (1.0 / links)) if w > 0 else 0.0
        pol = self.scenario.policies
        deadline = self.sim.now + spec.deadline if spec.deadline is not None else math.inf
        flow = Flow(fid, route, 0, spec.min_fidelity, link_min, spec.pairs or 0, deadline, pol.swapping,
                    pol.cutoff if pol.cutoff is not None else math.inf, spec.priority,
                    purification=pol.purification,
                    measure_basis=(spec.basis or "Z") if spec.type == "measure" else None)
        result = FlowResult(fid, spec.source, spec.destination, route, self.sim.now, spec.pairs or 0, [],
                            basis=flow.measure_basis)
        self.flows[fid] = result
        if deadline < math.inf:
            self.sim.call_at(deadline, self._deadline, fid)
        self.nodes[spec.source].start_flow(flow)
        return result

    def _deadline(self, flow_id: int) -> None:
        r = self.flows[flow_id]
        if r.done_at is None and r.failed is None:
            self.flow_failed(flow_id, "deadline reached")

    def flow_done(self, flow_id: int) -> None:
        """The tail delivered the requested number of pairs (the head tears the path down when
        its last EndToEndConfirm arrives)."""
        r = self.flows[flow_id]
        if r.done_at is None:
            r.done_at = self.sim.now

    def flow_failed(self, flow_id: int, reason: str) -> None:
        """A flow cannot be served (unsupported fidelity, deadline): tear it down."""
        r = self.flows[flow_id]
        if r.failed is None and r.done_at is None:
            r.failed = reason
            for name in r.route:
                if flow_id in self.nodes[name].flows:
                    self.nodes[name].teardown(flow_id, reason)
                    break

    def measure_delivered(self, flow: Flow, tail: QuantumNode, pair: LinkPair, delivery: Delivery) -> None:
        """CREATE_MEASURE flows: both ends measure their qubits of the just-delivered pair in the
        flow's basis (with their readout noise); the outcomes join the Delivery."""
        from qstack.quantum.core import measure

        head = self.nodes[flow.route[0]]
        head_flow = head.flows.get(flow.flow_id)
        key = delivery.head_pair
        head_pair = head_flow.ends.get(key) if head_flow is not None else None
        if head_pair is None or not head_pair.qubit.alive or not pair.qubit.alive:
            return
        # Measure-directly pairs: each end measures its qubit as soon as it is heralded (no
        # memory needed — stage 2), so no storage decoherence applies; measuring at delivery is
        # equivalent because later network operations (swaps, corrections elsewhere) act on
        # other qubits. The frame correction below idealises the end devices learning the
        # heralded Bell state before they measure (as the heralded-atom experiments do).
        hq, tq = head_pair.qubit, pair.qubit
        consumer = self.consumers.get(flow.flow_id)
        bases = consumer.measurement_bases(flow.flow_id) if consumer is not None else None
        if bases is None:
            basis = flow.measure_basis
            m_head = measure(hq, basis, head.rng, head.memory.gate_noise)
            m_tail = measure(tq, basis, tail.rng, tail.memory.gate_noise)
            delivery.outcomes = (m_head, m_tail)
            return
        # Each side measures in a basis of its own list, drawn by its own device; the tail
        # first applies the announced frame's correction so the outcomes follow Φ⁺.
        from qstack.quantum.core import operate
        from qstack.quantum.operations import CORRECTIONS

        if delivery.frame:
            operate([tq], CORRECTIONS[delivery.frame])
        head_bases, tail_bases = bases
        i = int(head.rng.integers(len(head_bases))) if len(head_bases) > 1 else 0
        j = int(tail.rng.integers(len(tail_bases))) if len(tail_bases) > 1 else 0
        m_head = measure(hq, basis_kets(head_bases[i]), head.rng, head.memory.gate_noise)
        m_tail = measure(tq, basis_kets(tail_bases[j]), tail.rng, tail.memory.gate_noise)
        delivery.outcomes = (m_head, m_tail)
        delivery.bases = (i, j)

    def estimated_fidelity(self, route: list[str], age: float) -> float:
        """What the end nodes can estimate of a pair's fidelity from what they know: the links'
        heralded states combined by the swap rule (``expected_coefficients``), then their own
        memories' dephasing for the pair's ``age``. For Werner parameter ``w`` and coherence
        factors ``c_a, c_b`` this is exactly ``1/4 + w(1 + 2 c_a c_b)/4`` (depolarising
        memories: ``1/4 + 3w e^{−t/T_a − t/T_b}/4``); storage at repeaters is not counted."""
        f0 = self._route_coefficients(route)[0]
        w = (4.0 * f0 - 1.0) / 3.0
        head, tail = self.nodes[route[0]].memory, self.nodes[route[-1]].memory
        if head.depolarizing_time is not None or tail.depolarizing_time is not None:
            decay = math.exp(-age * (head._rate1 + tail._rate1))  # noqa: SLF001 - the memories' own rates
            return 0.25 + 0.75 * w * decay
        c = math.exp(-age * (1.0 / head.t2 + 1.0 / tail.t2))
        return 0.25 + w * (1.0 + 2.0 * c) / 4.0

    def below_floor(self, flow: Flow, age: float) -> bool:
        """A transport flow with a fidelity floor refuses pairs whose estimate fell below it
        (the flow then goes on and delivers another: retry)."""
        consumer = self.consumers.get(flow.flow_id)
        floor = consumer.fidelity_floor(flow.flow_id) if consumer is not None else 0.0
        return floor > 0.0 and self.estimated_fidelity(flow.route, age) < floor

    def expected_coefficients(self, flow: Flow) -> list[float]:
        """Expected Bell coefficients of an end-to-end pair of ``flow`` (in its announced frame):
        the links' heralded states combined by the swap rule, ignoring memory decoherence."""
        return self._route_coefficients(flow.route)

    def _route_coefficients(self, route: list[str]) -> list[float]:
        from qstack.quantum import theory

        c = None
        for a, b in zip(route, route[1:], strict=False):
            link = self.nodes[a].links[b]
            bell = link.base_model.outcomes()[0][0]
            lc = link.bell_coefficients(bell)
            lc = [lc[i ^ bell] for i in range(4)]
            c = lc if c is None else list(theory.bell_diagonal_swap(c, lc))
        return c  # type: ignore[return-value]

    def record_link_error(self, node: str, link: str, request_id: int, error: int, detail: str) -> None:
        """Keep a link-layer ERR for the summary."""
        self.link_errors.append((node, link, request_id, str(error), detail))

    # ------------------------------------------------------------------ delivery (observation)

    def deliver(self, flow: Flow, tail: QuantumNode, pair: LinkPair, head_key: tuple[str, int], frame: int,
                age: float) -> Delivery:
        """The tail delivers an end-to-end pair; measure its fidelity from the state."""
        now = self.sim.now
        head = self.nodes[flow.route[0]]
        head_flow = head.flows.get(flow.flow_id)
        head_pair = None
        if head_flow is not None:
            head_pair = head_flow.ends.get(head_key) or head_flow.pools.get("e2e", {}).get(head_key)
        fid = float("nan")
        if head_pair is not None and head_pair.qubit.alive and pair.qubit.alive:
            # A side that measures its qubit as soon as it is heralded (measure-directly flows;
            # a stage-1 sender) stores nothing, so its memory's decoherence does not apply.
            at_once = flow.measure_basis is not None
            consumer = self.consumers.get(flow.flow_id)
            head_at_once = at_once or (consumer is not None and consumer.creator_measures_at_once(flow.flow_id))
            hq = head_pair.qubit if head_at_once else head.memory.peek(head_pair.position, now)
            tq = pair.qubit if at_once else tail.memory.peek(pair.position, now)
            rho = reduced_dm([hq, tq])
            # ⟨β|ρ|β⟩ for a Bell state: ½(ρ_ii + ρ_jj ± 2 Re ρ_ij) with (i, j) = (0, 3) for Φ±,
            # (1, 2) for Ψ±, + for Φ⁺/Ψ⁺ — four element reads instead of two matrix products.
            i, j = _BELL_SUPPORT[frame]
            fid = 0.5 * (rho[i, i].real + rho[j, j].real + _BELL_SIGN[frame] * 2.0 * rho[i, j].real)
        d = Delivery(flow.flow_id, now, frame, fid, age, head_key, (pair.link, pair.seq))
        result = self.flows[flow.flow_id]
        result.deliveries.append(d)
        if self.on_delivery is not None:
            self.on_delivery(result, d)
        return d


def basis_kets(basis: str | float) -> str | list:
    """A measurement basis: ``"Z"``, ``"X"``, ``"Y"``, or an angle θ (radians) in the X–Z plane,
    ``{cos(θ/2)|0⟩ + sin(θ/2)|1⟩, −sin(θ/2)|0⟩ + cos(θ/2)|1⟩}`` (θ = 0 is Z, θ = π/2 is X); on
    Φ⁺ the outcomes of angles θa, θb agree with probability ``(1 + cos(θa − θb))/2``.

    >>> basis_kets("X"), [k.shape for k in basis_kets(0.0)]
    ('X', [(2,), (2,)])
    """
    if isinstance(basis, str):
        if basis not in ("Z", "X", "Y"):
            raise ValueError(f"basis must be 'Z', 'X', 'Y' or an angle in radians, got {basis!r}")
        return basis
    theta = float(basis)
    if not math.isfinite(theta):
        raise ValueError(f"basis angle must be finite, got {basis!r}")
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return [np.array([c, s], dtype=complex), np.array([-s, c], dtype=complex)]


def expected_parity(frame: int, basis: str) -> int:
    """Parity ``m_head ⊕ m_tail`` of ideal outcomes on the Bell state ``frame`` measured in
    ``basis`` on both sides: ``⟨ZZ⟩ = (−1)^x``, ``⟨XX⟩ = (−1)^z``, ``⟨YY⟩ = −(−1)^{x+z}`` for the
    Pauli label ``frame = 2x + z``.

    >>> [expected_parity(f, "Z") for f in range(4)], [expected_parity(f, "Y") for f in range(4)]
    ([0, 0, 1, 1], [1, 0, 0, 1])
    """
    x, z = frame >> 1, frame & 1
    return {"Z": x, "X": z, "Y": 1 ^ x ^ z}[basis]
