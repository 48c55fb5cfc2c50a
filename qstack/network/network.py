"""A quantum network built from a scenario, on the simulation runtime.

:class:`QuantumNetwork` wires one protocol stack per node — :class:`~qstack.link.protocol.LinkLayer`,
:class:`~qstack.network.protocol.NetworkLayer` and an upper layer (an application's transport,
or :class:`PairSink` for a scenario's own requests) — each on its own
:class:`~qstack.runtime.sim.SimRuntime`, plus one heralding station per link (shared physics),
the static :class:`~qstack.network.topology.Topology`, and a :class:`~qstack.recorder.Recorder`.
Policies come from the scenario's ``[policies]`` and may be overridden by name or object
(``policies={"swapping": MyPolicy()}``); hardware models from its profiles.

Observation lives here, not in protocol code: a subscriber to delivered pairs measures each
pair's fidelity from the density matrix (bringing the head's stored qubit up to date first),
and the :class:`FlowResult` of each request collects its deliveries.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from qstack.link.protocol import LinkLayer
from qstack.link.service import LinkErr
from qstack.network.policies import ROUTING, register_routing_function
from qstack.network.protocol import NetworkLayer
from qstack.network.service import NetDeliver, NetExpire, NetFail, NetRequest
from qstack.network.statistics import RunningStats
from qstack.network.topology import LinkInfo, Topology
from qstack.physical.memory import QuantumMemory
from qstack.physical.station import LINK_SCHEMES, HeraldingStation
from qstack.quantum.core import measure, reduced_dm
from qstack.quantum.operations import partner
from qstack.recorder import PairRecords, Recorder
from qstack.runtime.auth import KEY_BYTES, PairKeys
from qstack.runtime.sim import SimRuntime, authenticated_pairs, station_name
from qstack.sim import Simulation, connect
from qstack.transport.sockets import basis_kets, expected_parity, purpose_head_at_once

__all__ = ["QuantumNetwork", "ROUTING_POLICIES", "register_routing_policy", "FlowResult", "Delivery", "PairSink",
           "basis_kets", "expected_parity", "fidelity_to_bell"]

_BELL_SUPPORT = ((0, 3), (0, 3), (1, 2), (1, 2))
_BELL_SIGN = (1.0, -1.0, 1.0, -1.0)

#: the routing registry (:data:`qstack.network.policies.ROUTING`)
ROUTING_POLICIES = ROUTING
#: register a routing function ``fn(graph, source, destination[, request])``
register_routing_policy = register_routing_function


@dataclass(slots=True)
class Delivery:
    """An end-to-end pair delivered to the tail (observed)."""

    flow_id: int
    time: float
    frame: int
    fidelity: float
    age: float
    head_pair: tuple[str, int]
    tail_pair: tuple[str, int]
    outcomes: tuple[int, int] | None = None  # measured flows: (head, tail) outcomes
    bases: tuple[int, int] | None = None  # when each side drew its basis from a list: indices


@dataclass
class FlowResult:
    """What one end-to-end request achieved.

    The figures are kept as running statistics, in constant memory however many pairs the flow
    delivers: :attr:`delivered`, :attr:`fidelity` and :attr:`age` (exact
    :class:`~qstack.network.statistics.RunningStats`), :attr:`first_delivery`, and for measured
    flows :attr:`measured` and :attr:`errors` (outcome parities other than the Bell state's).
    :attr:`deliveries` holds one :class:`Delivery` per pair only when the network keeps them
    (``QuantumNetwork(keep_deliveries=True)``, the default there; :func:`~qstack.network.run_scenario`
    and ``qstack run`` do not), and is empty otherwise.
    """

    flow_id: int
    source: str
    destination: str
    route: list[str]
    start: float
    requested: int
    deliveries: list[Delivery]
    done_at: float | None = None
    failed: str | None = None
    basis: str | None = None  # measured flows
    #: pairs discarded on the way, by reason ("below floor", "cut-off", "swap failed", …)
    discarded: dict[str, int] = field(default_factory=dict)
    #: pairs delivered to the tail
    delivered: int = 0
    #: fidelities of the delivered pairs (NaN ones counted in ``nan_count``)
    fidelity: RunningStats = field(default_factory=RunningStats)
    #: ages of the delivered pairs at delivery (from the emission of their oldest link pair)
    age: RunningStats = field(default_factory=RunningStats)
    #: time of the first delivery (None before it)
    first_delivery: float | None = None
    #: measured flows: pairs whose two outcomes are both known, and those whose parity was wrong
    measured: int = 0
    errors: int = 0
    #: the last delivered pair: (tail pair id, fidelity)
    last: tuple[tuple[str, int], float] | None = None


def fidelity_to_bell(rho: np.ndarray, frame: int) -> float:
    """``⟨β|ρ|β⟩`` for the Bell state ``frame``: ½(ρ_ii + ρ_jj ± 2 Re ρ_ij) with (i, j) = (0, 3)
    for Φ±, (1, 2) for Ψ±, + for Φ⁺/Ψ⁺ — four element reads instead of two matrix products.

    >>> fidelity_to_bell(np.diag([0.5, 0, 0, 0.5]).astype(complex), 0)
    0.5
    """
    i, j = _BELL_SUPPORT[frame]
    return float(0.5 * (rho[i, i].real + rho[j, j].real + _BELL_SIGN[frame] * 2.0 * rho[i, j].real))


class PairSink:
    """The upper layer of a node for a scenario's own requests: it consumes delivered pairs at
    once — kept pairs are discarded, measured pairs measured in the flow's basis (readout noise
    of the node) — and records outcomes for the summary.

    ``outcomes`` is shared by the nodes: ``(flow id, head pair) -> [head outcome, tail outcome,
    tail's frame]``, holding a pair until both ends have measured it; then ``joined(flow id,
    head pair, slot)`` is called (when given) and takes it out, so the table holds only the
    pairs in flight."""

    layer = "sink"

    def __init__(self, runtime: Any, network: NetworkLayer, outcomes: dict,
                 joined: Callable[[int, tuple[str, int], list], Any] | None = None) -> None:
        self.rt = runtime
        self.network = network
        self.outcomes = outcomes
        self.joined = joined

    def handlers(self) -> dict:
        return {}

    def flow_started(self, flow: Any, end: str) -> None:
        pass

    def flow_failed(self, f: NetFail) -> None:
        pass

    def deliver(self, d: NetDeliver) -> None:
        if d.flow.type == "measure":
            # measure-directly pairs: no storage, so no memory decoherence applies
            m = measure(d.qubit, d.flow.basis, self.network.rng, self.rt.memory.gate_noise)
            head_key = d.pair_id if d.end == "head" else d.peer_pair
            key = (d.flow.flow_id, head_key)
            slot = self.outcomes.get(key)
            if slot is None:
                slot = self.outcomes[key] = [None, None, None]
            if d.end == "head":
                slot[0] = m
            else:
                slot[1], slot[2] = m, d.frame
            if self.joined is not None and None not in slot:
                self.joined(d.flow.flow_id, head_key, slot)
        elif d.qubit.alive:
            from qstack.quantum.core import discard

            discard(d.qubit)
        self.network.release(d)


def _scenario_keys(scenario: Any) -> PairKeys:
    """The scenario's ``[security] keys`` file, or fresh OS-random keys for every pair of endpoints."""
    path = getattr(getattr(scenario, "security", None), "keys", None)
    if path is not None:
        return PairKeys.from_file(path)
    pairs = authenticated_pairs([n.name for n in scenario.nodes], [(link.a, link.b) for link in scenario.links])
    return PairKeys.from_mapping({pair: secrets.token_bytes(KEY_BYTES) for pair in pairs}, source="os-random")


class QuantumNetwork:
    """Nodes, links and protocol stacks of a scenario on one :class:`~qstack.sim.Simulation`.

    ``policies`` overrides the scenario's policies by kind (``routing``, ``swapping``,
    ``cutoff``, ``purification``) with registry specs or objects; ``upper`` is a factory
    ``upper(runtime, network_layer) -> layer`` for the layer above the network layer at every
    node (default :class:`PairSink`); ``recorder`` a :class:`~qstack.recorder.Recorder` to use;
    ``local_positions`` adds, per node, memory positions after the links' for the
    application's local qubits; ``link_layer`` a factory ``link_layer(runtime) -> layer`` for
    the link protocol at every node (default :class:`~qstack.link.protocol.LinkLayer`; the
    conformance suite plugs other link protocols in here).

    Every classical channel (node to node, station to link end) is authenticated with its pair's
    pre-shared key (:meth:`qstack.sim.ClassicalChannel.secure`): ``keys`` (a
    :class:`~qstack.runtime.auth.PairKeys`), else the scenario's ``[security] keys`` file, else
    fresh keys from the OS random source for every pair of :func:`~qstack.runtime.sim.authenticated_pairs`
    (never from the seed).

    Each flow's figures are running statistics (:class:`FlowResult`), in constant memory;
    ``keep_deliveries`` (default True: an experimenter's network keeps what it delivered) also
    keeps one :class:`Delivery` per pair in ``flows[i].deliveries`` — about half a kilobyte a
    pair, so a run of 10⁸ pairs passes ``keep_deliveries=False`` (what
    :func:`~qstack.network.run_scenario` and ``qstack run`` do).
    """

    def __init__(self, scenario: Any, policies: Mapping[str, Any] | None = None,
                 upper: Callable[[Any, NetworkLayer], Any] | None = None, recorder: Recorder | None = None,
                 local_positions: Mapping[str, int] | None = None,
                 link_layer: Callable[[Any], LinkLayer] | None = None, keys: PairKeys | None = None, *,
                 keep_deliveries: bool = True):
        if not isinstance(keep_deliveries, bool):
            raise TypeError(f"QuantumNetwork(): keep_deliveries must be a bool, got {keep_deliveries!r}")
        #: whether each flow keeps one :class:`Delivery` per pair (else only running statistics)
        self.keep_deliveries = keep_deliveries
        self.scenario = scenario
        self.keys: PairKeys = keys if keys is not None else _scenario_keys(scenario)
        """The pre-shared key of each pair of endpoints (the operator's, not a protocol's)."""
        self.sim = Simulation(seed=scenario.simulation.seed)
        self.recorder = recorder if recorder is not None else Recorder()
        self.flows: dict[int, FlowResult] = {}
        self.link_errors: list[tuple[str, str, int, str, str]] = []
        self.runtimes: dict[str, SimRuntime] = {}
        self.memories: dict[str, QuantumMemory] = {}
        self.stacks: dict[str, Any] = {}
        self.link_layers: dict[str, LinkLayer] = {}
        self.links: dict[str, LinkView] = {}
        self.network_layers: dict[str, NetworkLayer] = {}
        self.stations: dict[str, HeraldingStation] = {}
        #: measured pairs waiting for the other end's outcome (see :class:`PairSink`)
        self.outcomes: dict = {}
        self._awaiting_outcomes: dict[tuple[int, tuple[str, int]], Delivery] = {}  # kept deliveries only
        self._channels: set[tuple[str, str]] = set()
        self._classical = nx.Graph()
        pol = scenario.policies
        chosen = {"routing": pol.routing, "swapping": pol.swapping,
                  "purification": _purification_spec(pol.purification), "cutoff": _cutoff_spec(pol.cutoff)}
        chosen.update(policies or {})
        self.policies = chosen
        #: per node, the memory positions after the links' for local (processor) qubits
        self.local_positions: dict[str, list[int]] = {}
        self._local_counts = dict(local_positions or {})
        self._link_layer = link_layer or LinkLayer
        self._build(upper)
        self.recorder.subscribe(NetDeliver, self._observe_delivery)
        self.recorder.subscribe(NetFail, self._observe_failure)
        self.recorder.subscribe(NetExpire, self._observe_expiry)
        self.recorder.subscribe(LinkErr, self._observe_link_error)

    # ------------------------------------------------------------------ building

    def _build(self, upper: Callable[[Any, NetworkLayer], Any] | None) -> None:
        sc = self.scenario
        hw = {h.name: h for h in sc.hardware}
        profile = {n.name: n.hardware for n in sc.nodes}
        positions: dict[str, int] = {n.name: 0 for n in sc.nodes}
        for link in sc.links:
            k = link.memory_positions or hw[profile[link.a]].memory_positions
            positions[link.a] += k
            positions[link.b] += k
        for spec in sc.nodes:
            h = hw[profile[spec.name]]
            local = int(self._local_counts.get(spec.name, 0))
            self.local_positions[spec.name] = list(range(positions[spec.name], positions[spec.name] + local))
            self.memories[spec.name] = QuantumMemory(
                spec.name, max(positions[spec.name] + local, 1), noise=h.memory_model(),
                gate_noise=h.gate_noise, bell_measurement=h.bell_measurement,
            )
            rt = SimRuntime(self.sim, spec.name, self.memories[spec.name], self.recorder, self.open_channel,
                            wire=sc.simulation.wire)
            self.runtimes[spec.name] = rt
            self.link_layers[spec.name] = self._link_layer(rt)
            self._classical.add_node(spec.name)
        next_position = {n.name: 0 for n in sc.nodes}
        infos = []
        for spec in sc.links:
            infos.append(self._build_link(spec, hw[profile[spec.a]], hw[profile[spec.b]], next_position))
        self.engine = self._choose_engine()
        self.topology = Topology(infos, {n: m.noise for n, m in self.memories.items()},
                                 {n.name: n.role for n in sc.nodes})
        for spec in sc.nodes:
            rt = self.runtimes[spec.name]
            net = NetworkLayer(rt, self.link_layers[spec.name], self.topology, self.policies, role=spec.role)
            self.network_layers[spec.name] = net
            net.upper = (upper or self._sink)(rt, net)
            rt.stack.add(self.link_layers[spec.name])
            rt.stack.add(net)
            if hasattr(net.upper, "handlers"):
                rt.stack.add(net.upper)
            self.stacks[spec.name] = rt.stack

    def _choose_engine(self) -> str:
        """The state engine of the run (``[simulation] engine``, see
        :mod:`qstack.quantum.bell_engine`); with Bell coefficients the stations hand out
        Bell-diagonal pairs in that form."""
        from qstack.quantum.bell_engine import family_breakers, resolve_engine

        requested = getattr(self.scenario.simulation, "engine", "auto")
        breakers: list[str] = []
        if requested != "density_matrix":
            states = {}
            for name, view in self.links.items():
                base = view.base_model
                if base is not None and base.success_probability > 0.0:
                    _, (_, s0), (_, s1) = view.station.heralded_states(base)
                    states[name] = (s0, s1)
            breakers = family_breakers({n: m.noise for n, m in self.memories.items()},
                                       {n: m.gate_noise for n, m in self.memories.items()}, states)
        engine = resolve_engine(requested, breakers)
        for station in self.stations.values():
            station.bell_engine = engine == "bell_diagonal"
        return engine

    def _sink(self, rt: Any, net: NetworkLayer) -> PairSink:
        return PairSink(rt, net, self.outcomes, self._join_outcomes)

    def _build_link(self, spec: Any, ha: Any, hb: Any, next_position: dict[str, int]) -> LinkInfo:
        name = f"{spec.a}-{spec.b}"
        hardware, da, db = self.scenario.link_hardware(spec)
        scheme = LINK_SCHEMES.create(spec.scheme)
        station_rt = SimRuntime(self.sim, station_name(spec.a, spec.b), None, wire=self.scenario.simulation.wire)
        for end_name, d in ((spec.a, da), (spec.b, db)):
            self._secure(connect(station_rt.classical, self.runtimes[end_name].classical, d))
        station = HeraldingStation(name, station_rt, (spec.a, spec.b), (da, db),
                                   self.sim.rng(name, "heralding"), hardware.raw_w, clock=spec.attempt_clock)
        self.stations[name] = station
        k = spec.memory_positions or ha.memory_positions
        for side, (end, peer) in enumerate(((spec.a, spec.b), (spec.b, spec.a))):
            start = next_position[end]
            next_position[end] += k
            self.link_layers[end].attach(name, peer, side, station, list(range(start, start + k)), hardware, scheme)
        base = scheme.model(hardware, 0.0)
        self.links[name] = LinkView(station, self.link_layers[spec.a].by_link[name], base)
        self._classical.add_edge(spec.a, spec.b, delay=da + db)
        self._secure(connect(self.runtimes[spec.a].classical, self.runtimes[spec.b].classical, da + db))
        self._channels.add((spec.a, spec.b))
        self._channels.add((spec.b, spec.a))
        herald_delay = getattr(base, "round_period", 0.0) + da + db  # see LinkInfo.herald_delay
        return LinkInfo.from_model(name, spec.a, spec.b, hardware, scheme, base, herald_delay)

    def _secure(self, channels: tuple[Any, Any]) -> None:
        """Key both directions of a new channel pair with their endpoints' pre-shared key."""
        forward, backward = channels
        key = self.keys.key(forward.src.name, forward.dst.name)
        forward.secure(key)
        backward.secure(key)

    def open_channel(self, a: str, b: str) -> None:
        """Open classical channels between ``a`` and ``b`` with the shortest fibre-path delay."""
        if (a, b) in self._channels:
            return
        delay = nx.shortest_path_length(self._classical, a, b, weight="delay")
        self._secure(connect(self.runtimes[a].classical, self.runtimes[b].classical, delay))
        self._channels.add((a, b))
        self._channels.add((b, a))

    # ------------------------------------------------------------------ requests

    @property
    def graph(self) -> nx.Graph:
        """The topology's graph (links with their expected cost)."""
        return self.topology.graph

    @property
    def nodes(self) -> dict[str, NodeView]:
        """An experimenter's view of each node (classical endpoint, memory, flows, rejects)."""
        return {n: NodeView(self.runtimes[n], self.network_layers[n]) for n in self.runtimes}

    def route(self, source: str, destination: str) -> list[str]:
        """The route the source's routing policy picks."""
        return self.network_layers[source].route(NetRequest(source, destination))

    def request(self, spec: Any) -> FlowResult:
        """Start an end-to-end request (a scenario ``[[requests]]`` entry) now, from its source."""
        fid = len(self.flows) + 1
        req = NetRequest(spec.source, spec.destination, pairs=spec.pairs or 0, min_fidelity=spec.min_fidelity,
                         deadline=spec.deadline if spec.deadline is not None else math.inf, priority=spec.priority,
                         type=spec.type, basis=spec.basis or "Z", flow_id=fid)
        result = FlowResult(fid, spec.source, spec.destination, [], self.sim.now, spec.pairs or 0, [],
                            basis=(spec.basis or "Z") if spec.type == "measure" else None)
        self.flows[fid] = result
        self.network_layers[spec.source].request(req)
        result.route = list(self.network_layers[spec.source].flows[fid].route)
        return result

    def estimated_fidelity(self, route: list[str], age: float) -> float:
        """The end nodes' estimate of a pair's fidelity (see :class:`Topology`)."""
        return self.topology.estimated_fidelity(route, age)

    # ------------------------------------------------------------------ observation

    def pair_state(self, d: NetDeliver) -> np.ndarray:
        """The two-qubit density matrix of a just-delivered pair (both halves brought up to date)."""
        hq = partner(d.qubit)
        head_mem = self.memories[d.flow.route[0]]
        pos = head_mem.position_of(hq)
        if pos is not None:
            hq = head_mem.peek(pos, self.sim.now)
        return reduced_dm([hq, self.memories[d.flow.route[-1]].peek(d.position, self.sim.now)])

    def pair_fidelity(self, d: NetDeliver, head_at_once: bool = False, tail_at_once: bool = False) -> float:
        """Fidelity of a just-delivered pair to its announced Bell state, from the density matrix.
        A side that measures as its qubit is heralded (stores nothing) is taken as it is; a
        stored side is first brought up to date with its memory's decoherence."""
        tq = d.qubit
        if not tq.alive:
            return math.nan
        hq = partner(tq)
        if hq is None:
            return math.nan
        now = self.sim.now
        head_mem = self.memories[d.flow.route[0]]
        if not head_at_once:
            pos = head_mem.position_of(hq)
            if pos is not None:
                hq = head_mem.peek(pos, now)
        if not tail_at_once:
            tq = self.memories[d.flow.route[-1]].peek(d.position, now)
        return fidelity_to_bell(reduced_dm([hq, tq]), d.frame)

    def _observe_delivery(self, d: NetDeliver) -> None:
        result = self.flows.get(d.flow.flow_id)
        if d.end != "tail":
            return
        at_once = d.flow.type == "measure"
        fid = self.pair_fidelity(d, head_at_once=at_once or purpose_head_at_once(d.flow.purpose), tail_at_once=at_once)
        self.last_fidelity = fid
        if result is None:
            result = self.flows[d.flow.flow_id] = FlowResult(d.flow.flow_id, d.flow.route[0], d.flow.route[-1],
                                                             list(d.flow.route), 0.0, d.flow.pairs, [])
        age = d.time - d.created
        result.delivered += 1
        result.fidelity.add(fid)
        result.age.add(age)
        result.last = (d.pair_id, fid)
        if result.first_delivery is None:
            result.first_delivery = d.time
        if self.keep_deliveries:
            delivery = Delivery(d.flow.flow_id, d.time, d.frame, fid, age, d.peer_pair, d.pair_id)
            result.deliveries.append(delivery)
            if result.basis is not None:
                self._awaiting_outcomes[(d.flow.flow_id, d.peer_pair)] = delivery
        if result.requested and result.delivered >= result.requested and result.done_at is None:
            result.done_at = d.time

    def pair_records(self) -> PairRecords:
        """Per-pair rows of this run (:class:`qstack.recorder.PairRecords`) with each pair's
        fidelity as the observer measured it at delivery; attach before running.

        >>> from qstack.network import build_network
        >>> from qstack.scenario import linear_chain, load_scenario
        >>> net = build_network(load_scenario(linear_chain(3, seed=1, duration="5 ms")))
        >>> rec = net.pair_records(); net.sim.run(until=0.005)
        >>> len(rec.rows) == len(net.flows[1].deliveries) > 0
        True
        """
        def fidelity_of(d: NetDeliver) -> float:
            r = self.flows.get(d.flow.flow_id)
            last = r.last if r is not None else None
            return last[1] if last is not None and last[0] == d.pair_id else math.nan

        return PairRecords(fidelity_of).attach(self.recorder)

    def _observe_expiry(self, e: NetExpire) -> None:
        r = self.flows.get(e.flow_id)
        if r is not None:
            r.discarded[e.reason] = r.discarded.get(e.reason, 0) + 1

    def _observe_failure(self, f: NetFail) -> None:
        r = self.flows.get(f.flow_id)
        if r is not None and r.failed is None and r.done_at is None:
            r.failed = f.reason

    def _observe_link_error(self, e: LinkErr) -> None:
        self.link_errors.append((e.node, e.link, e.request_id, str(e.error), e.detail))

    def _join_outcomes(self, flow_id: int, head_pair: tuple[str, int], slot: list) -> None:
        """Both ends measured the pair ``head_pair`` of ``flow_id``: count it (and whether its
        outcome parity is the one its Bell state gives), set it on its kept :class:`Delivery`,
        and forget it."""
        self.outcomes.pop((flow_id, head_pair), None)
        delivery = self._awaiting_outcomes.pop((flow_id, head_pair), None)
        r = self.flows.get(flow_id)
        if r is None or r.basis is None:
            return
        head, tail, frame = slot
        r.measured += 1
        if (head ^ tail) != expected_parity(frame, r.basis or "Z"):
            r.errors += 1
        if delivery is not None:
            delivery.outcomes = (head, tail)

    def finish_outcomes(self) -> None:
        """Join the measured pairs whose two outcomes are in :attr:`outcomes` but not yet counted
        (those an upper layer other than :class:`PairSink` wrote there; PairSink's are joined as
        the second end measures)."""
        for (flow_id, head_pair), slot in list(self.outcomes.items()):
            if None not in slot:
                self._join_outcomes(flow_id, head_pair, slot)


class NodeView:
    """What an experimenter sees of a node: ``classical`` (its endpoint), ``memory``,
    ``rejected`` (refused inputs by reason), ``flows`` (its network layer's flows)."""

    def __init__(self, rt: SimRuntime, net: NetworkLayer) -> None:
        self.name = rt.node
        self.classical = rt.classical
        self.memory = rt.memory
        self.rejected = rt.stack.rejected
        self.flows = net.flows
        self.network = net


class LinkView:
    """What an experimenter sees of a link: its station's counters and delays, the first
    end's requests, and ``base_model``: its generation scheme's model with no fidelity demand
    (None when the scheme cannot entangle the link)."""

    def __init__(self, station: HeraldingStation, end: Any, base_model: Any) -> None:
        self.station = station
        self.end = end
        self.delay_a, self.delay_b = station.delays
        from types import SimpleNamespace

        self.a, self.b = SimpleNamespace(name=station.ends[0]), SimpleNamespace(name=station.ends[1])
        self.name = station.name
        self.base_model = base_model

    @property
    def pairs_generated(self) -> int:
        return self.station.pairs_generated

    @property
    def attempts(self) -> int:
        return self.station.attempts

    @property
    def requests(self) -> list:
        return self.end.requests


def _cutoff_spec(cutoff: Any) -> Any:
    if cutoff is None:
        return "none"
    if isinstance(cutoff, (int, float)):
        return {"name": "fixed", "time": float(cutoff)}
    return cutoff


def _purification_spec(spec: Any) -> Any:
    if spec is None or not hasattr(spec, "protocol"):
        return spec
    proto = spec.protocol
    params = {"target_fidelity": spec.target_fidelity, "scope": spec.scope, "max_rounds": spec.max_rounds}
    if isinstance(proto, Mapping):
        return {**dict(proto), **params}
    return {"name": proto, **params}
