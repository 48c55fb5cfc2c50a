"""The network layer protocol of one node (after Kozlowski, Dahlberg & Wehner, CoNEXT 2020).

A virtual circuit (a *flow*) is set up along a route before any pair is made (PATH SETUP from
the head, acknowledged from the tail; each node then asks its link layer for pairs towards its
downstream neighbour). Repeaters swap link pairs as their **swap policy** selects
(:data:`qstack.network.policies.SWAPPING`): TRACK messages carry the accumulated Pauli frame from
head to tail (``signalling = "track"``), or swap records go to the far ends of each joined
segment (``"records"``, nested swapping). The **cut-off policy** discards pairs that waited too
long (EXPIRE to the other end of the segment), the **purification policy** purifies link pairs
or end-to-end pairs (BBPSSW, DEJMPS, pumping), and the **routing policy** picks the route.

Pauli frames: a pair in Bell state ``β_i`` (index 0–3 = Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ is the 2-bit Pauli label
``2x + z`` of ``β_i = (I ⊗ X^x Z^z) Φ⁺``) swapped with one in ``β_j`` by a Bell measurement with
outcome ``k`` leaves the outer pair in ``β_{i ⊕ j ⊕ k}``. So the frame of an end-to-end pair is
the XOR of its link heralds and swap outcomes, and nothing is corrected physically until the
application wants ``Φ⁺``.

The protocol belongs to its node: it reacts to link-layer indications, requests from the layer
above, classical messages and timers, and acts only through its runtime, its own link layer
and the static :class:`~qstack.network.topology.Topology`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from qstack.link.protocol import LinkLayer
from qstack.link.service import UNTIL_STOPPED, LinkCreate, LinkErr, LinkExpire, LinkOK
from qstack.network.policies import CUTOFF, PURIFICATION, ROUTING, SWAPPING
from qstack.network.service import FlowInfo, NetDeliver, NetExpire, NetFail, NetRequest
from qstack.network.topology import Topology, apply_memory
from qstack.proto.qstack.v1 import link_pb2, network_pb2
from qstack.quantum import theory
from qstack.quantum.core import discard, operate
from qstack.quantum.operations import CORRECTIONS, heralded_swap, partner, purification_half, swap_inner, twirl
from qstack.recorder import observable
from qstack.registry import spec_name
from qstack.runtime import Layer, ProtocolViolation, Runtime

__all__ = ["NetworkLayer", "Flow", "Pair", "SwapEvent", "PurificationEvent", "SwapView"]

PairKey = tuple[str, int]
#: the link layer carries a flow as a 32-bit purpose id: the flow id's low 32 bits (0: no purpose)
_PURPOSE_MASK = 0xFFFFFFFF
_TRACK = network_pb2.Track
_BASES = ("Z", "X", "Y")


@observable
class SwapEvent(NamedTuple):
    """Observation: ``node`` swapped link pairs ``up`` and ``down`` of ``flow_id`` (outcome 0–3,
    or −1 when the node's Bell measurement failed and both pairs were lost). Immutable (a named
    tuple, built at tuple speed: one per swap)."""

    time: float
    node: str
    flow_id: int
    up: PairKey
    down: PairKey
    outcome: int


@observable
@dataclass(frozen=True, slots=True)
class PurificationEvent:
    """Observation: a purification round of ``flow_id`` at ``node`` (``success`` once both
    ends' outcomes agreed), keeping ``keep`` and consuming ``sacrifice``."""

    time: float
    node: str
    flow_id: int
    keep: PairKey
    sacrifice: PairKey
    success: bool
    level: int
    protocol: str


class Pair:
    """The network layer's view of one stored qubit of a flow (a link pair, then a segment)."""

    __slots__ = ("link", "seq", "peer", "position", "qubit", "bell_index", "created", "request_id",
                 "far", "far_key", "frame", "coeffs", "level", "busy", "coordinator", "bit", "e2e_frame",
                 "expiry", "limit", "emitted", "decay")

    def __init__(self, ok: LinkOK) -> None:
        link, seq, self.peer, self.position, self.qubit, bell, _, self.created, self.request_id, _ = ok
        self.link = link
        self.seq = seq
        self.bell_index = bell
        self.far = -1  # route index of the node holding the other end of the segment
        self.far_key: PairKey = (link, seq)  # the key by which that node knows its qubit
        self.frame = bell  # the segment's Pauli frame (Bell index)
        self.coeffs: Any = None  # estimated Bell coefficients in the announced frame
        self.level = 0  # successful purification rounds so far
        self.busy = False
        self.coordinator = False
        self.bit = 0
        self.e2e_frame = 0
        self.expiry = math.inf
        self.limit = math.inf
        self.emitted = self.created  # this node's qubit's emission (created becomes the segment's oldest)
        self.decay: tuple[float, float, float] | None = None  # storage inside the segment (swap records)

    @property
    def key(self) -> PairKey:
        return (self.link, self.seq)

    def __repr__(self) -> str:
        return f"Pair({self.link}#{self.seq} far={self.far} frame={self.frame})"


@lru_cache(maxsize=256)
def _route_positions(route: tuple[str, ...]) -> dict[str, int]:
    """``node -> index`` of its first occurrence on ``route`` (what ``route.index`` returns)."""
    positions: dict[str, int] = {}
    for i, node in enumerate(route):
        positions.setdefault(node, i)
    return positions


@dataclass
class Flow:
    """Per-node state of one virtual circuit."""

    flow_id: int
    route: list[str]
    index: int
    min_fidelity: float
    link_min_fidelity: float
    num_pairs: int
    deadline: float
    priority: int = 0
    floor: float = 0.0
    measure_basis: str | None = None
    purpose: bytes = b""
    records: bool = False  # swap signalling: SwapRecords (True) or TRACK (False)
    targets: tuple[int, int] | None = None
    up: deque = field(default_factory=deque)  # unswapped pairs towards the head
    down: deque = field(default_factory=deque)  # unswapped pairs towards the tail
    #: swapped link pairs by this node's key: TRACK signalling, ``key -> (other key, outcome,
    #: frame, created, decay)`` until the TRACK passes; swap records, ``key -> (the far end's key
    #: of the other half, its route index, my key of the other half)`` to forward an Expire from
    #: a far end that did not know of the swap yet, kept one round trip (see :attr:`swap_log`)
    swapped: dict = field(default_factory=dict)
    #: swap records: ``(forget after, key, key)`` per swap, oldest first — an entry of
    #: :attr:`swapped` is dropped once both far ends have had the SwapRecord and any Expire they
    #: sent before it has arrived, so the table holds only the last round trip's swaps
    swap_log: deque = field(default_factory=deque)
    tracks: dict = field(default_factory=dict)  # key -> held Track
    ends: dict = field(default_factory=dict)  # head/tail: key -> Pair waiting for Track/Confirm
    timers: dict = field(default_factory=dict)  # key -> timer of a pooled pair's cut-off
    sweeps: dict = field(default_factory=lambda: {True: None, False: None})  # queue -> armed sweep timer
    delivered: int = 0
    active: bool = False
    pools: dict = field(default_factory=dict)  # pool name (link or "e2e") -> {key: Pair}
    e2e_limit: float = math.inf
    info: FlowInfo | None = None

    def __post_init__(self) -> None:
        # fixed for the flow's life: plain attributes (read on every pair)
        last = len(self.route) - 1
        self.is_head: bool = self.index == 0
        self.is_tail: bool = self.index == last
        self.up_node: str | None = self.route[self.index - 1] if self.index > 0 else None
        self.down_node: str | None = self.route[self.index + 1] if self.index < last else None
        self.view: SwapView | None = None
        #: node -> its (first) index on the route: membership and index tests in O(1) on long
        #: routes (shared by the flow's nodes, read only)
        self.positions: dict[str, int] = _route_positions(tuple(self.route))


class SwapView:
    """What a swap policy sees at a repeater: its pairs towards the head (``up``) and the tail
    (``down``) in arrival order, ``targets`` (nested schedules), ``tracked(pair)``,
    ``estimate(pair)`` (expected fidelity now) and ``discard(pair)``."""

    __slots__ = ("_net", "_flow", "up", "down", "targets", "has_tracks", "now")

    def __init__(self, net: NetworkLayer, flow: Flow) -> None:
        self._net, self._flow = net, flow
        self.up, self.down = flow.up, flow.down
        self.targets = flow.targets
        self.has_tracks = bool(flow.tracks)
        self.now = net.rt.now

    def tracked(self, pair: Pair) -> bool:
        """Whether the TRACK of ``pair``'s segment already arrived (it reaches the head)."""
        return (pair.link, pair.seq) in self._flow.tracks

    def estimate(self, pair: Pair) -> float:
        """Expected fidelity of ``pair``'s link pair now (heralded state and both memories)."""
        return self._net.link_estimate(pair, self.now - pair.created)

    def discard(self, pair: Pair) -> None:
        """Drop ``pair`` now and tell the other end of its segment (EXPIRE)."""
        for q in (self.up, self.down):
            if pair in q:
                q.remove(pair)
        self._net._expire_pair(self._flow, pair, "swap policy")  # noqa: SLF001 - the view's own layer


class NetworkLayer(Layer):
    """The network layer of one node (see the module docstring).

    ``policies`` maps ``routing``, ``swapping``, ``cutoff`` and ``purification`` to plug-in specs
    or objects (registry names, tables, objects); ``upper`` is the layer above
    (:class:`~qstack.network.service.NetworkUser`).
    """

    layer = "network"

    def __init__(self, runtime: Runtime, link: LinkLayer, topology: Topology, policies: dict[str, Any] | None = None,
                 upper: Any = None, role: str = "repeater") -> None:
        self.rt = runtime
        self.node = runtime.node
        self.link = link
        link.upper = self
        self.topology = topology
        self.upper = upper
        self.role = role
        p = dict(policies or {})
        self.routing = ROUTING.create(p.get("routing") or "shortest_path")
        self.swapping = SWAPPING.create(p.get("swapping") or "asap")
        self.cutoff = CUTOFF.create(p.get("cutoff") or "none")
        pur = p.get("purification")
        self.purification = PURIFICATION.create(pur) if pur is not None else None
        self.flows: dict[int, Flow] = {}
        self.rng = runtime.rng("network")
        bsm = getattr(runtime.memory, "bell_measurement", None)
        #: the node's Bell measurement when it can fail (None: every swap succeeds)
        self._bsm = None if bsm is None or bsm.deterministic else bsm
        self._flow_counter = 0
        self._limits: dict[Any, float] = {}
        #: link purpose id (a flow id's low 32 bits, what the link layer carries) -> the live flow
        #: here; at most one per id, so a link pair or ERR is credited to the flow that asked for it
        self._by_purpose: dict[int, Flow] = {}

    def handlers(self) -> dict[type, Any]:
        return {
            network_pb2.PathSetup: self._on_path_setup,
            network_pb2.PathSetupAck: self._on_path_setup_ack,
            network_pb2.PathTeardown: self._on_path_teardown,
            network_pb2.Track: self._on_track,
            network_pb2.SwapRecord: self._on_swap_record,
            network_pb2.EndToEndConfirm: self._on_confirm,
            link_pb2.Expire: self._on_expire,
            network_pb2.ExpireNotice: self._on_expire_notice,
            network_pb2.PurifyOutcome: self._on_purify_outcome,
        }

    # ------------------------------------------------------------------ service: requests from above

    def route(self, request: NetRequest) -> list[str]:
        """The route the routing policy picks for ``request``."""
        return list(self.routing.route(self.topology, request))

    def request(self, req: NetRequest) -> int:
        """Set up a flow for ``req`` from this node (the head); returns the flow id."""
        if req.source != self.node:
            raise ValueError(f"a request starts at its source: {req.source!r} is not {self.node!r}")
        route = self.route(req)
        if len(route) < 2 or route[0] != self.node or route[-1] != req.destination:
            raise ValueError(f"routing policy {getattr(self.routing, 'name', '?')!r} returned an invalid route {route}")
        if req.flow_id is not None:
            fid = req.flow_id
        else:
            # (counter << 20) | node index: the counter has 12 bits below bit 32, so every 4096th id
            # repeats a low-32-bit purpose id (at node index 0 the id 0, "no purpose"): skip the ids
            # whose purpose id is 0 or held by a live flow here
            me = sorted(self.topology.memories).index(self.node) & 0xFFFFF
            for _ in range(1 << 12):
                self._flow_counter += 1
                fid = (self._flow_counter << 20) | me
                if fid & _PURPOSE_MASK and fid & _PURPOSE_MASK not in self._by_purpose:
                    break
            else:
                raise ValueError(f"node {self.node!r} serves {len(self.flows)} flows: no free link purpose id")
        if fid in self.flows:
            raise ValueError(f"flow id {fid} is in use at {self.node!r}")
        clash = self._purpose_clash(fid)
        if clash is not None:
            raise ValueError(f"NetRequest.flow_id {fid} cannot be served at {self.node!r}: {clash}")
        links = len(route) - 1
        w = (4.0 * req.min_fidelity - 1.0) / 3.0 if req.min_fidelity > 0.25 else 0.0
        link_min = (3.0 * w ** (1.0 / links) + 1.0) / 4.0 if w > 0 else 0.0
        deadline = self.rt.now + req.deadline
        # Without purification a request's min_fidelity is a floor every delivered pair must meet
        # (judged at delivery by the links and the storage the TRACK or SwapRecords carry).
        floor = req.floor if self.purification is not None else max(req.floor, req.min_fidelity)
        flow = self._new_flow(fid, route, 0, req.min_fidelity, link_min, req.pairs, deadline, req.priority, floor,
                              req.basis if req.type == "measure" else None, req.purpose)
        self.flows[fid] = flow
        self._by_purpose[fid & _PURPOSE_MASK] = flow
        if floor > 0.0 and self._links_reach(route, link_min):  # (else the link layer refuses: UNSUPPORTED)
            best = self.topology.route_coefficients(route, link_min)[0]  # fresh pairs, no storage yet
            if best < floor - 1e-9:  # schemes meet a budget to rounding
                reason = (f"UNSUPPORTED: fidelity floor {floor:.6g} is out of reach on route {'-'.join(route)} "
                          f"(fresh pairs reach at most {best:.6g})")
                self.rt.call_later(0.0, self._fail, flow, reason)
                return fid
        late = self.topology.expired_at_delivery(route, flow.e2e_limit)
        if late is not None:  # e.g. a cut-off shorter than a link's herald delay: nothing could be delivered
            self.rt.call_later(0.0, self._fail, flow, f"UNSUPPORTED: {late}")
            return fid
        if deadline < math.inf:
            self.rt.call_at(deadline, self._deadline, fid)
        self.rt.send(flow.down_node, self._setup_message(flow))  # type: ignore[arg-type]
        return fid

    def _links_reach(self, route: list[str], link_min: float) -> bool:
        """Whether every link of ``route`` has a model for ``link_min`` (its scheme's answer)."""
        for a, b in zip(route, route[1:], strict=False):
            info = self.topology.link_between(a, b)
            if info.scheme is not None and info.scheme.model(info.hardware, link_min) is None:
                return False
        return True

    def stop(self, flow_id: int, reason: str = "stopped") -> None:
        """Tear flow ``flow_id`` down here and along its route."""
        self.teardown(flow_id, reason)

    def release(self, d: NetDeliver) -> None:
        """The upper layer is done with a delivered qubit: free its memory position."""
        self.link.release(d.link, d.position)

    # ------------------------------------------------------------------ link layer indications

    def accepts(self, peer: str, purpose_id: int) -> bool:
        flow = self._by_purpose.get(purpose_id)
        return flow is not None and peer in (flow.up_node, flow.down_node)

    def _purpose_clash(self, fid: int) -> str | None:
        """Why flow id ``fid`` cannot be served here (its link purpose id, the low 32 bits, is 0
        or a live flow's), or None. Looking a purpose id up as a full flow id first, as before,
        credited a flow's link pairs to another flow (or, for purpose 0, to none: released for
        ever, a run that never ends)."""
        purpose = fid & _PURPOSE_MASK
        if purpose == 0:
            return "its link purpose id (the low 32 bits) is 0, which means no purpose"
        other = self._by_purpose.get(purpose)
        if other is not None:
            return f"its link purpose id {purpose} (the low 32 bits) is that of flow {other.flow_id}"
        return None

    def link_err(self, err: LinkErr) -> None:
        self.rt.record(err)
        flow = self._by_purpose.get(err.purpose_id)
        if flow is not None:
            self._fail(flow, f"link {err.link}: {err.error_name}")

    def link_expire(self, expire: LinkExpire) -> None:
        self.rt.record(expire)

    def link_ok(self, ok: LinkOK) -> None:
        flow = self._by_purpose.get(ok.purpose_id)
        if flow is None:  # the flow was torn down meanwhile: free the position
            self.link.release(ok.link, ok.position)
            discard(ok.qubit)
            return
        pair = Pair(ok)
        upstream = ok.peer == flow.up_node
        pair.far = flow.index - 1 if upstream else flow.index + 1
        pur = self.purification
        if pur is not None and pur.scope == "link":
            pair.coeffs = self.link.coefficients(ok)
            self._pool_add(flow, ok.link, pair, coordinator=not upstream)
            return
        self._accept_pair(flow, pair, upstream)

    # ------------------------------------------------------------------ estimates

    def link_estimate(self, pair: Pair, age: float) -> float:
        """Expected fidelity of a link pair after ``age`` s in both ends' memories."""
        c = self.link.coefficients_of(pair.link, pair.request_id, pair.bell_index)
        c = [c[i ^ pair.bell_index] for i in range(4)]
        return self.topology.stored(c, self.node, pair.peer, age)[0]

    def _age_limit(self, pair: Pair) -> float:
        key = (pair.link, pair.request_id, pair.bell_index)
        limit = self._limits.get(key)
        if limit is None:
            per_link = getattr(self.cutoff, "link_age_limit", None)
            if per_link is not None:  # a cut-off that counts the link's attempt slots
                hw = self.topology.links[pair.link].hardware
                slot = getattr(hw, "round_period", 0.0) or hw.cycle_time
                limit = per_link(lambda age: self.link_estimate(pair, age), slot)
            else:
                limit = self.cutoff.age_limit(lambda age: self.link_estimate(pair, age))
            self._limits[key] = limit
        return limit

    # ------------------------------------------------------------------ path set-up

    def _new_flow(self, fid: int, route: list[str], index: int, min_fid: float, link_min: float, num: int,
                  deadline: float, priority: int, floor: float, basis: str | None, purpose: bytes) -> Flow:
        records = getattr(self.swapping, "signalling", "track") == "records"
        targets = None
        if records and hasattr(self.swapping, "targets"):
            targets = self.swapping.targets(len(route), index)
        flow = Flow(fid, route, index, min_fid, link_min, num, deadline, priority, floor, basis, purpose, records,
                    targets)
        flow.info = FlowInfo(fid, tuple(route), "keep" if basis is None else "measure", basis or "Z", purpose, num)
        flow.e2e_limit = self.cutoff.age_limit(lambda age: self.topology.estimated_fidelity(route, age))
        return flow

    def _setup_message(self, flow: Flow) -> Any:
        swapping, cutoff, purification = self._policy_specs()
        msg = network_pb2.PathSetup(
            flow_id=flow.flow_id, source=flow.route[0], destination=flow.route[-1], route=flow.route,
            min_fidelity=flow.min_fidelity, link_min_fidelity=flow.link_min_fidelity,
            num_pairs=flow.num_pairs, deadline=flow.deadline if math.isfinite(flow.deadline) else 0.0,
            swapping=swapping, cutoff=cutoff, purification=purification,
            type=link_pb2.CREATE_KEEP if flow.measure_basis is None else link_pb2.CREATE_MEASURE,
            basis=link_pb2.Basis.Value(flow.measure_basis or "Z"), fidelity_floor=flow.floor, purpose=flow.purpose,
            priority=flow.priority,
        )
        return msg

    def _policy_specs(self) -> tuple[str, Any, Any]:
        """``(swap policy name, CutoffSpec, PurificationSpec or None)`` as a PathSetup carries
        them: what every node on a route must agree on. A spec's fields are the policy's own
        parameters of those names (0 where it has none)."""
        cut = self.cutoff
        cutoff = network_pb2.CutoffSpec(policy=spec_name(cut))
        for name in ("time", "max_time"):
            value = getattr(cut, name, None)
            if _number(value) and 0.0 <= value < math.inf:
                setattr(cutoff, name, float(value))
        value = getattr(cut, "min_fidelity", None)
        if _number(value) and 0.0 <= value <= 1.0:
            cutoff.min_fidelity = float(value)
        slots = getattr(cut, "slots", None)
        if isinstance(slots, int) and not isinstance(slots, bool) and 0 <= slots < 1 << 32:
            cutoff.slots = slots
        pur = self.purification
        purification = None
        if pur is not None:
            purification = network_pb2.PurificationSpec(
                policy=spec_name(pur),
                scope=network_pb2.PURIFY_END_TO_END if pur.scope == "end_to_end" else network_pb2.PURIFY_LINK,
                target_fidelity=float(getattr(pur, "target_fidelity", 1.0)),
                max_rounds=int(getattr(pur, "max_rounds", 1)),
            )
        return spec_name(self.swapping), cutoff, purification

    def _on_path_setup(self, src: str, msg: Any) -> None:
        route = list(msg.route)
        if self.node not in route or route.index(self.node) == 0 or route[route.index(self.node) - 1] != src:
            raise ProtocolViolation("PathSetup from a node that is not my predecessor on the route")
        if msg.flow_id in self.flows:
            raise ProtocolViolation("PathSetup for a flow this node already serves")
        swapping, cutoff, purification = self._policy_specs()
        theirs = msg.purification if msg.HasField("purification") else None
        clash = self._purpose_clash(msg.flow_id)
        if clash is not None:  # refused, not served under another flow's link requests
            self.rt.send(src, network_pb2.PathSetupAck(flow_id=msg.flow_id, accepted=False,
                                                       reason=f"node {self.node} refuses flow {msg.flow_id}: {clash}"))
            return
        mismatch = None
        if msg.swapping != swapping:
            mismatch = f"swap policy {swapping!r}, the flow asks for {msg.swapping!r}"
        elif msg.HasField("cutoff") and msg.cutoff != cutoff:
            mismatch = f"cut-off policy {_cutoff_text(cutoff)}, the flow asks for {_cutoff_text(msg.cutoff)}"
        elif theirs != purification:
            mismatch = (f"purification {_purification_text(purification)}, the flow asks for "
                        f"{_purification_text(theirs)}")
        if mismatch is not None:
            self.rt.send(src, network_pb2.PathSetupAck(flow_id=msg.flow_id, accepted=False,
                                                       reason=f"node {self.node} runs {mismatch}"))
            return
        i = route.index(self.node)
        flow = self._new_flow(msg.flow_id, route, i, msg.min_fidelity, msg.link_min_fidelity, msg.num_pairs,
                              msg.deadline if msg.deadline > 0 else math.inf, msg.priority, msg.fidelity_floor,
                              link_pb2.Basis.Name(msg.basis) if msg.type == link_pb2.CREATE_MEASURE else None,
                              bytes(msg.purpose))
        self.flows[flow.flow_id] = flow
        self._by_purpose[flow.flow_id & _PURPOSE_MASK] = flow
        if flow.is_tail:
            flow.active = True
            if self.upper is not None:
                self.upper.flow_started(flow.info, "tail")
            self.rt.send(src, network_pb2.PathSetupAck(flow_id=flow.flow_id, accepted=True))
        else:
            self.rt.send(flow.down_node, msg)  # type: ignore[arg-type]

    def _on_path_setup_ack(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None or src != flow.down_node:
            raise ProtocolViolation("PathSetupAck for an unknown flow")
        if not msg.accepted:
            self._fail(flow, msg.reason)
            return
        flow.active = True
        # I am the upstream end of the link towards src: ask my link layer for pairs.
        self.link.create(LinkCreate(src, number=UNTIL_STOPPED, min_fidelity=flow.link_min_fidelity,
                                    purpose_id=flow.flow_id & _PURPOSE_MASK, priority=flow.priority))
        if flow.is_head:
            if self.upper is not None:
                self.upper.flow_started(flow.info, "head")
        else:
            self.rt.send(flow.up_node, msg)  # type: ignore[arg-type]

    def _deadline(self, flow_id: int) -> None:
        flow = self.flows.get(flow_id)
        if flow is not None and not (flow.num_pairs and flow.delivered >= flow.num_pairs):
            self._fail(flow, "deadline reached")

    def _fail(self, flow: Flow, reason: str) -> None:
        fail = NetFail(self.rt.now, self.node, flow.flow_id, reason)
        self.rt.record(fail)
        if self.upper is not None and (flow.is_head or flow.is_tail):
            self.upper.flow_failed(fail)
        self.teardown(flow.flow_id, reason, notify=False)

    def teardown(self, flow_id: int, reason: str, notify: bool = True) -> None:
        """Tear the flow down here and tell the neighbours on the route; an end node's upper
        layer hears ``flow_failed`` once, unless the flow completed (or ``notify`` is False: the
        caller told it already)."""
        flow = self.flows.pop(flow_id, None)
        if flow is None:
            return
        short = flow_id & _PURPOSE_MASK
        self._by_purpose.pop(short, None)
        for peer in (flow.up_node, flow.down_node):
            if peer is not None:
                self.link.stop(peer, short)
        for key, handle in list(flow.timers.items()):
            handle.cancel()
            flow.timers.pop(key, None)
        for t in flow.sweeps.values():
            if t is not None:
                t.cancel()
        for pair in list(flow.up) + list(flow.down) + list(flow.ends.values()):
            self._drop(pair)
        for pool in flow.pools.values():
            for pair in pool.values():
                self._drop(pair)
        flow.up.clear()
        flow.down.clear()
        flow.ends.clear()
        flow.pools.clear()
        msg = network_pb2.PathTeardown(flow_id=flow_id, reason=reason)
        for peer in (flow.up_node, flow.down_node):
            if peer is not None:
                self.rt.send(peer, msg)
        if notify and reason != "done" and self.upper is not None and (flow.is_head or flow.is_tail) \
                and not (flow.num_pairs and flow.delivered >= flow.num_pairs):
            self.upper.flow_failed(NetFail(self.rt.now, self.node, flow_id, reason))

    def _on_path_teardown(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None:
            return
        if src not in (flow.up_node, flow.down_node):
            raise ProtocolViolation("PathTeardown from a node that is not my neighbour on the flow")
        self.teardown(msg.flow_id, msg.reason)

    # ------------------------------------------------------------------ pairs and swaps

    def _drop(self, pair: Pair) -> None:
        """Discard a pair's local qubit and free its position."""
        if pair.qubit.alive:
            discard(pair.qubit)
        self.link.release(pair.link, pair.position)

    def _accept_pair(self, flow: Flow, pair: Pair, upstream: bool | None = None) -> None:
        """A (possibly purified) link pair joins the path: TRACK from the head, swaps at repeaters.
        ``upstream``: whether the pair's peer is the flow's up node (found here when not given)."""
        if upstream is None:
            upstream = pair.peer == flow.up_node
        if flow.is_head or flow.is_tail:
            key = (pair.link, pair.seq)
            flow.ends[key] = pair
            if flow.is_tail and len(flow.route) == 2 and flow.records:
                track = network_pb2.Track(flow_id=flow.flow_id, frame=pair.frame, created=pair.created)
                track.head_pair.link, track.head_pair.seq = key
                flow.ends.pop(key)
                self._deliver(flow, pair, track)  # a single link: nothing to swap
                return
            if flow.is_head and not flow.records:
                # submessage fields set in place: a third of the time of LinkPairId keyword arguments
                track = _TRACK(flow_id=flow.flow_id, frame=pair.frame, swaps=0, created=pair.created)
                head = track.head_pair
                head.link, head.seq = key
                via = track.via_pair
                via.link, via.seq = key
                self.rt.send(flow.down_node, track)  # type: ignore[arg-type]
            return
        side = flow.up if upstream else flow.down
        limit = self._limits.get((pair.link, pair.request_id, pair.bell_index))
        pair.limit = limit if limit is not None else self._age_limit(pair)
        pair.expiry = pair.created + pair.limit
        side.append(pair)
        if pair.expiry < math.inf:
            self._arm_sweep(flow, upstream)
        if flow.up and flow.down:  # (what _try_swap checks first: half of the pairs wait here)
            self._try_swap(flow)

    def _arm_sweep(self, flow: Flow, upstream: bool) -> None:
        side = flow.up if upstream else flow.down
        t = flow.sweeps[upstream]
        first = min(p.expiry for p in side) if side else math.inf
        if t is not None:
            if t.time <= first:
                return
            t.cancel()
            flow.sweeps[upstream] = None
        if first < math.inf:
            flow.sweeps[upstream] = _Armed(self.rt.call_at(max(first, self.rt.now), self._cutoff_sweep,
                                                           flow.flow_id, upstream), first)

    def _try_swap(self, flow: Flow) -> None:
        if not flow.up or not flow.down:
            return
        view = flow.view
        if view is None:
            view = flow.view = SwapView(self, flow)
        else:
            view.now = self.rt.now
            view.has_tracks = bool(flow.tracks)
        for up, down in self.swapping.select(view):
            if up not in flow.up or down not in flow.down:
                continue
            flow.up.remove(up)
            flow.down.remove(down)
            if flow.records:
                self._swap_records(flow, up, down)
            else:
                self._swap(flow, up, down)

    def _swap(self, flow: Flow, up: Pair, down: Pair) -> int | None:
        """Swap ``up`` and ``down``; the Bell outcome, or None when the Bell measurement failed
        (both pairs are then lost and their segments' far ends told, as for a cut-off)."""
        now = self.rt.now
        mem = self.rt.memory
        q_up = mem.pop(up.position, now)
        q_down = mem.pop(down.position, now)
        if self._bsm is None:
            k = swap_inner(q_up, q_down, self.rng, mem.gate_noise)
        else:
            k = heralded_swap(q_up, q_down, self.rng, mem.gate_noise, self._bsm)
        self.link.release(up.link, up.position)
        self.link.release(down.link, down.position)
        ku, kd = (up.link, up.seq), (down.link, down.seq)
        if SwapEvent in self.rt.observed:
            self.rt.record(SwapEvent(now, self.node, flow.flow_id, ku, kd, -1 if k is None else k))
        if k is None:
            self._segment_lost(flow, up, "swap failed")
            self._segment_lost(flow, down, "swap failed")
            return None
        if not flow.records:
            created = min(up.created, down.created)  # the TRACK carries the oldest emission on
            # with a fidelity floor, the TRACK also carries the storage of the swapped qubits
            decay = self._storage_decay(now - up.emitted, now - down.emitted) if flow.floor > 0.0 else None
            flow.swapped[ku] = (kd, k, down.frame, created, decay)
            flow.swapped[kd] = (ku, k, up.frame, created, decay)
            held = flow.tracks.pop(ku, None)
            if held is not None:
                self._forward_track(flow, held, ku)
        return k

    def _forward_track(self, flow: Flow, track: Any, ku: PairKey | None = None) -> None:
        if ku is None:  # the key of the TRACK's via pair (the caller may have read it already)
            via = track.via_pair
            ku = (via.link, via.seq)
        kd, k, dbell, created, decay = flow.swapped.pop(ku)
        flow.swapped.pop(kd, None)
        # The forwarded TRACK is the received one with the next hop's fields: a copy then field
        # updates builds it in a third of the time of the constructor with a submessage copy.
        out = _TRACK()
        out.CopyFrom(track)
        via = out.via_pair
        via.link, via.seq = kd
        out.frame ^= k ^ dbell
        out.swaps += 1
        if created < out.created:
            out.created = created
        if decay is not None:
            before = track.decay or (1.0, 1.0, 1.0)
            out.decay[:] = [before[0] * decay[0], before[1] * decay[1], before[2] * decay[2]]
        elif out.decay:
            del out.decay[:]
        self.rt.send(flow.down_node, out)  # type: ignore[arg-type]

    def _storage_decay(self, *ages: float) -> tuple[float, float, float]:
        """The PTM diagonal of this node's Pauli-twirled memory channel over qubits stored for
        ``ages`` seconds (products of each qubit's; Pauli channels on the halves of a Bell-diagonal
        chain commute with the swaps, so a pair's storage is one product)."""
        noise = self.topology.memories[self.node]
        x = y = z = 1.0
        for age in ages:
            lx, ly, lz = noise.ptm_diagonal(max(age, 0.0))
            x, y, z = x * lx, y * ly, z * lz
        return x, y, z

    def _delivery_estimate(self, flow: Flow, pair: Pair, track: Any, now: float) -> float:
        """The tail's estimate of a pair's fidelity for the floor: the links' states by the swap
        rule, the repeaters' storage the TRACK carried, the tail's own qubit since its emission
        and the head's since the oldest emission on the pair (an upper bound on its age). With
        swap records the repeaters' storage comes with the last SwapRecord instead."""
        lx, ly, lz = (pair.decay if flow.records else track.decay) or (1.0, 1.0, 1.0)
        tx, ty, tz = self._storage_decay(now - pair.emitted)
        head = self.topology.memories[flow.route[0]].ptm_diagonal(max(now - min(track.created, pair.created), 0.0))
        lx, ly, lz = lx * tx * head[0], ly * ty * head[1], lz * tz * head[2]
        weights = ((1 + lx + ly + lz) / 4, (1 + lx - ly - lz) / 4, (1 - lx + ly - lz) / 4, (1 - lx - ly + lz) / 4)
        return apply_memory(self.topology.route_coefficients(flow.route, flow.link_min_fidelity), weights)[0]

    def _on_track(self, src: str, track: Any) -> None:
        flow = self.flows.get(track.flow_id)
        if flow is None or src != flow.up_node:
            raise ProtocolViolation("Track from a node that is not my predecessor on the flow")
        via = track.via_pair
        key = (via.link, via.seq)
        if flow.is_tail:
            pair = flow.ends.pop(key, None)
            if pair is None:
                return  # expired meanwhile
            self._deliver(flow, pair, track)
            return
        if key in flow.swapped:
            self._forward_track(flow, track, key)
        elif any(p.seq == key[1] and p.link == key[0] for p in flow.up):
            flow.tracks[key] = track
        else:  # the pair expired here before the TRACK arrived: release the head's half
            self._expire_head(flow, track.head_pair, "segment expired")

    def _expire_head(self, flow: Flow, head_pair: Any, reason: str) -> None:
        self.rt.send(flow.route[0], network_pb2.ExpireNotice(flow_id=flow.flow_id, pair=head_pair, reason=reason))

    def _deliver(self, flow: Flow, pair: Pair, track: Any) -> None:
        head_key = (track.head_pair.link, track.head_pair.seq)
        now = self.rt.now
        age = now - min(track.created, pair.created)
        enough = flow.num_pairs and flow.delivered >= flow.num_pairs
        too_weak = flow.floor > 0.0 and self._delivery_estimate(flow, pair, track, now) < flow.floor - 1e-9
        if age > flow.e2e_limit or enough or too_weak:
            self._drop(pair)
            reason = "cut-off at delivery" if age > flow.e2e_limit else "request complete" if enough else "below floor"
            self.rt.record(NetExpire(now, self.node, flow.flow_id, (pair.link, pair.seq), reason))
            self._expire_head(flow, track.head_pair, reason)
            return
        pair.far_key = head_key
        pair.e2e_frame = track.frame
        pair.created = min(track.created, pair.created)
        confirm = network_pb2.EndToEndConfirm(flow_id=flow.flow_id, frame=track.frame, seq=flow.delivered + 1)
        confirm.head_pair.CopyFrom(track.head_pair)
        tail = confirm.tail_pair
        tail.link, tail.seq = pair.link, pair.seq
        self.rt.send(flow.route[0], confirm)
        pur = self.purification
        if pur is not None and pur.scope == "end_to_end":
            pair.coeffs = self.topology.route_coefficients(flow.route)
            self._pool_add(flow, "e2e", pair, coordinator=False)
            return
        self._final_delivery(flow, pair)

    def _final_delivery(self, flow: Flow, pair: Pair) -> None:
        """The tail hands an end-to-end pair to the layer above."""
        pur = self.purification
        frame = 0 if (pur is not None and pur.scope == "end_to_end") else pair.e2e_frame
        flow.delivered += 1
        d = NetDeliver(flow.info, "tail", self.rt.now, pair.qubit, pair.position, pair.link, frame,  # type: ignore[arg-type]
                       pair.created, (pair.link, pair.seq), pair.far_key, flow.delivered)
        self.rt.record(d)
        if self.upper is not None:
            self.upper.deliver(d)
        else:
            self.release(d)
            if pair.qubit.alive:
                discard(pair.qubit)

    def _on_confirm(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None:
            return
        if not flow.is_head:
            raise ProtocolViolation("EndToEndConfirm at a node that is not the head")
        pair = flow.ends.pop((msg.head_pair.link, msg.head_pair.seq), None)
        if pair is None:
            return
        pair.far_key = (msg.tail_pair.link, msg.tail_pair.seq)
        pur = self.purification
        if pur is not None and pur.scope == "end_to_end":
            pair.e2e_frame = pair.frame = msg.frame
            pair.coeffs = self.topology.route_coefficients(flow.route)
            self._pool_add(flow, "e2e", pair, coordinator=True)
            return
        self._head_delivery(flow, pair, msg.frame)

    def _head_delivery(self, flow: Flow, pair: Pair, frame: int) -> None:
        flow.delivered += 1
        d = NetDeliver(flow.info, "head", self.rt.now, pair.qubit, pair.position, pair.link, frame,  # type: ignore[arg-type]
                       pair.created, (pair.link, pair.seq), pair.far_key, flow.delivered)
        self.rt.record(d)
        # The flow's last pair: tear the path down (stop its link requests) BEFORE the layer above
        # can free this pair's position; freed first, the position re-signalled the still-served
        # request and the link made one more pair for the finished flow (with one position per
        # link end, one wasted pair per request: N one-pair requests cost 2N link pairs).
        self._head_done_check(flow)
        if self.upper is not None:
            self.upper.deliver(d)
        else:
            self._drop(pair)

    def _head_done_check(self, flow: Flow) -> None:
        """The head tears the path down once it has all the pairs the request asked for (the
        tail stops counting at the same number, so the last Confirm is never lost)."""
        if flow.num_pairs and flow.delivered >= flow.num_pairs:
            self.teardown(flow.flow_id, "done")

    # ------------------------------------------------------------------ swap records (nested)

    def _swap_records(self, flow: Flow, up: Pair, down: Pair) -> None:
        t = flow.targets
        lo, hi = t if t is not None else (up.far, down.far)
        up.far, down.far = lo, hi
        up_far, down_far = up.far_key, down.far_key
        frame = up.frame ^ down.frame
        created = min(up.created, down.created)
        decay = None
        if flow.floor > 0.0:  # the joined segment's storage: both halves' and this node's two qubits
            decay = self._storage_decay(self.rt.now - up.emitted, self.rt.now - down.emitted)
            for d in (up.decay, down.decay):
                if d is not None:
                    decay = (decay[0] * d[0], decay[1] * d[1], decay[2] * d[2])
        k = self._swap(flow, up, down)
        if k is None:  # failed: the far ends were told to drop their halves
            return
        frame ^= k
        for far, mine, theirs in ((up.far, up_far, down_far), (down.far, down_far, up_far)):
            rec = network_pb2.SwapRecord(flow_id=flow.flow_id, outcome=frame, created=created)
            left, right = rec.left, rec.right  # submessages set in place (cheaper than keyword copies)
            left.link, left.seq = mine
            right.link, right.seq = theirs
            if decay is not None:
                rec.decay.extend(decay)
            self.rt.send(flow.route[far], rec)
        # A far end that expires its half before my record reaches it sends the Expire here, by
        # my key of the pair (its far key until then): forward it to the other far end. After a
        # round trip to both far ends no such Expire can still come (channels are FIFO with a
        # fixed delay), so the entries are forgotten then — twice that, for slack in event times.
        ku, kd = up.key, down.key
        flow.swapped[ku] = (down_far, hi, kd)
        flow.swapped[kd] = (up_far, lo, ku)
        now = self.rt.now
        log = flow.swap_log
        while log and log[0][0] < now:
            _, a, b = log.popleft()
            flow.swapped.pop(a, None)
            flow.swapped.pop(b, None)
        delay = max(self._delay_to(flow.route[lo]), self._delay_to(flow.route[hi]))
        if delay < math.inf:
            log.append((now + 4.0 * delay, ku, kd))

    def _delay_to(self, node: str) -> float:
        """The runtime's bound on a message's delay to ``node`` (inf when it cannot tell)."""
        delay_to = getattr(self.rt, "delay_to", None)
        return delay_to(node) if delay_to is not None else math.inf

    def _on_swap_record(self, src: str, rec: Any) -> None:
        """Swap records: my pair ``left`` now reaches the node that knows its end as ``right``."""
        flow = self.flows.get(rec.flow_id)
        j = flow.positions.get(src) if flow is not None else None
        if flow is None or not flow.records or j is None:
            raise ProtocolViolation("SwapRecord outside a flow with swap records")
        key = (rec.left.link, rec.left.seq)
        if not hasattr(self.swapping, "targets"):
            raise ProtocolViolation("a swap policy with signalling = 'records' must define "
                                    "targets(route_length, index)")
        targets = self.swapping.targets(len(flow.route), j)
        if targets is None or flow.index not in targets:
            raise ProtocolViolation("SwapRecord from a node whose segment does not end here")
        far = targets[1] if flow.index == targets[0] else targets[0]
        pair = flow.ends.get(key)
        if pair is None:  # the first held pair of that key, towards the head first
            link, seq = key
            pair = next((p for p in flow.up if p.seq == seq and p.link == link), None) \
                or next((p for p in flow.down if p.seq == seq and p.link == link), None)
        if pair is None:
            return  # expired meanwhile; the Expire travels to the far end
        pair.far, pair.far_key, pair.frame = far, (rec.right.link, rec.right.seq), rec.outcome
        pair.decay = tuple(rec.decay) if rec.decay else None  # type: ignore[assignment]
        pair.created = min(pair.created, rec.created) if rec.created > 0 else pair.created
        if pair.limit < math.inf:
            pair.expiry = pair.created + pair.limit
        if flow.is_tail and far == 0:
            flow.ends.pop(key)
            track = network_pb2.Track(flow_id=flow.flow_id, frame=pair.frame, created=pair.created)
            track.head_pair.link, track.head_pair.seq = pair.far_key
            self._deliver(flow, pair, track)
        elif not (flow.is_head or flow.is_tail):
            self._try_swap(flow)

    # ------------------------------------------------------------------ purification

    def _pool_add(self, flow: Flow, pool: str, pair: Pair, coordinator: bool) -> None:
        """Put a pair into a purification pool (``pool`` = link name, or ``"e2e"``).

        The coordinator (the end nearer the head) first corrects the pair to Φ⁺ with a local
        Pauli on its qubit, so both ends treat its frame as 0 from now on.
        """
        if coordinator and pair.frame:
            q = self.rt.memory.peek(pair.position, self.rt.now)
            operate([q], CORRECTIONS[pair.frame])
        if pool != "e2e":  # link coefficients are absolute; end-to-end ones already relative
            pair.coeffs = [pair.coeffs[i ^ pair.bell_index] for i in range(4)]
        pair.frame = 0
        pair.level = 0
        pair.busy = False
        pair.coordinator = coordinator
        if self.purification.ready(pair):  # type: ignore[union-attr]
            self._pool_done(flow, pool, pair)
            return
        flow.pools.setdefault(pool, {})[(pair.link, pair.seq)] = pair
        if coordinator:
            limit = self._age_limit(pair) if pool != "e2e" else flow.e2e_limit
            if math.isfinite(limit):
                key = (pair.link, pair.seq)
                flow.timers[key] = self.rt.call_at(max(pair.created + limit, self.rt.now), self._pool_cutoff,
                                                   flow.flow_id, pool, key)
            self._try_purify(flow, pool)

    def _try_purify(self, flow: Flow, pool_name: str) -> None:
        pool = flow.pools.get(pool_name, {})
        idle = [p for p in pool.values() if not p.busy]
        if len(idle) < 2:
            return
        for keep, sacrifice in self.purification.select(idle):  # type: ignore[union-attr]
            if keep.busy or sacrifice.busy or keep is sacrifice:
                continue
            self._purify_start(flow, pool_name, keep, sacrifice)

    def _purify_start(self, flow: Flow, pool: str, keep: Pair, sacrifice: Pair) -> None:
        """Coordinator: do my half of a round and tell the other end."""
        keep.busy = sacrifice.busy = True
        now = self.rt.now
        mem = self.rt.memory
        protocol = self.purification.protocol  # type: ignore[union-attr]
        qk = mem.peek(keep.position, now)
        qs = mem.peek(sacrifice.position, now)
        if protocol == "bbpssw":  # the bilateral twirl, agreed in advance (shared randomness)
            twirl(qk, partner(qk))
            twirl(qs, partner(qs))
        bit = purification_half(qk, qs, "alice", protocol, self.rng, mem.gate_noise)
        mem.clear(sacrifice.position)
        self.rt.send(self._pool_peer(flow, pool, keep), network_pb2.PurifyOutcome(
            flow_id=flow.flow_id, keep=link_pb2.LinkPairId(link=keep.far_key[0], seq=keep.far_key[1]),
            sacrifice=link_pb2.LinkPairId(link=sacrifice.far_key[0], seq=sacrifice.far_key[1]),
            round=keep.level, outcome=bit, protocol=self.purification.name,  # type: ignore[union-attr]
        ))
        keep.bit = bit

    def _pool_peer(self, flow: Flow, pool: str, pair: Pair) -> str:
        if pool == "e2e":
            return flow.route[-1] if flow.is_head else flow.route[0]
        return pair.peer

    def _on_purify_outcome(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None or self.purification is None:
            raise ProtocolViolation("PurifyOutcome for a flow without purification")
        kk, ks = (msg.keep.link, msg.keep.seq), (msg.sacrifice.link, msg.sacrifice.seq)
        pool_name = "e2e" if self.purification.scope == "end_to_end" else kk[0]
        pool = flow.pools.get(pool_name, {})
        keep, sacrifice = pool.get(kk), pool.get(ks)
        if keep is None or sacrifice is None:
            return  # expired meanwhile: the Expire travels too
        now = self.rt.now
        mem = self.rt.memory
        protocol = self.purification.protocol
        if keep.coordinator:  # the reply to my round
            my_bit = keep.bit
        else:
            qk = mem.peek(keep.position, now)
            qs = mem.peek(sacrifice.position, now)
            my_bit = purification_half(qk, qs, "bob", protocol, self.rng, mem.gate_noise)
            mem.clear(sacrifice.position)
            self.rt.send(src, network_pb2.PurifyOutcome(
                flow_id=flow.flow_id, keep=link_pb2.LinkPairId(link=keep.far_key[0], seq=keep.far_key[1]),
                sacrifice=link_pb2.LinkPairId(link=sacrifice.far_key[0], seq=sacrifice.far_key[1]),
                round=msg.round, outcome=my_bit, protocol=msg.protocol,
            ))
        self._purify_finish(flow, pool_name, keep, sacrifice, my_bit == msg.outcome)

    def _purify_finish(self, flow: Flow, pool_name: str, keep: Pair, sacrifice: Pair, ok: bool) -> None:
        pool = flow.pools[pool_name]
        del pool[(sacrifice.link, sacrifice.seq)]
        self._cancel_timer(flow, (sacrifice.link, sacrifice.seq))
        self.link.release(sacrifice.link, sacrifice.position)
        pur = self.purification
        if keep.coordinator:
            self.rt.record(PurificationEvent(self.rt.now, self.node, flow.flow_id, keep.key, sacrifice.key, ok,
                                             keep.level + int(ok), pur.name))  # type: ignore[union-attr]
        if not ok:
            del pool[(keep.link, keep.seq)]
            self._cancel_timer(flow, (keep.link, keep.seq))
            self._drop(keep)
        else:
            protocol = pur.protocol  # type: ignore[union-attr]
            c1 = theory.twirled(keep.coeffs) if protocol == "bbpssw" else keep.coeffs
            c2 = theory.twirled(sacrifice.coeffs) if protocol == "bbpssw" else sacrifice.coeffs
            keep.coeffs = theory.dejmps_two(c1, c2)[0]
            keep.level += 1
            keep.created = min(keep.created, sacrifice.created)
            keep.busy = False
            if pur.ready(keep):  # type: ignore[union-attr]
                del pool[(keep.link, keep.seq)]
                self._cancel_timer(flow, (keep.link, keep.seq))
                self._pool_done(flow, pool_name, keep)
        if keep.coordinator:
            self._try_purify(flow, pool_name)

    def _pool_done(self, flow: Flow, pool_name: str, pair: Pair) -> None:
        if pool_name != "e2e":
            self._accept_pair(flow, pair)
        elif flow.is_tail:
            self._final_delivery(flow, pair)
        else:  # the head
            self._head_delivery(flow, pair, 0)

    def _cancel_timer(self, flow: Flow, key: PairKey) -> None:
        h = flow.timers.pop(key, None)
        if h is not None:
            h.cancel()

    def _pool_cutoff(self, flow_id: int, pool_name: str, key: PairKey) -> None:
        flow = self.flows.get(flow_id)
        if flow is None:
            return
        flow.timers.pop(key, None)
        pair = flow.pools.get(pool_name, {}).get(key)
        if pair is None or pair.busy:
            return
        del flow.pools[pool_name][key]
        self._drop(pair)
        self.rt.record(NetExpire(self.rt.now, self.node, flow.flow_id, key, "cut-off"))
        far = pair.far_key
        if pool_name == "e2e":
            self.rt.send(self._pool_peer(flow, pool_name, pair), network_pb2.ExpireNotice(
                flow_id=flow.flow_id, pair=link_pb2.LinkPairId(link=far[0], seq=far[1]), reason="cut-off"))
        else:
            self.rt.send(self._pool_peer(flow, pool_name, pair), link_pb2.Expire(
                pair=link_pb2.LinkPairId(link=far[0], seq=far[1]), reason="cut-off"))

    # ------------------------------------------------------------------ cut-offs and expiry

    def _cutoff_sweep(self, flow_id: int, upstream: bool) -> None:
        """Discard the queue's pairs past their cut-off; re-arm for the next."""
        flow = self.flows.get(flow_id)
        if flow is None:
            return
        flow.sweeps[upstream] = None
        side = flow.up if upstream else flow.down
        now = self.rt.now
        for p in [p for p in side if p.expiry <= now]:
            side.remove(p)
            self._expire_pair(flow, p, "cut-off")
        self._arm_sweep(flow, upstream)

    def _expire_pair(self, flow: Flow, pair: Pair, reason: str) -> None:
        """A repeater's pair reached the cut-off: discard it and tell the other end of its segment
        — the link neighbour (TRACK signalling) or the far node (swap records)."""
        self._segment_lost(flow, pair, reason, drop=True)

    def _segment_lost(self, flow: Flow, pair: Pair, reason: str, drop: bool = False) -> None:
        """``pair`` is gone here (cut-off, or consumed by a failed swap; ``drop``: discard its qubit
        and free its position first): release a TRACK held for it at the head, and tell the far
        end of its segment (link neighbour, or with swap records the far node) to drop its half."""
        key = (pair.link, pair.seq)
        held = flow.tracks.pop(key, None)
        if held is not None:
            self._expire_head(flow, held.head_pair, "segment expired")
        if drop:
            self._drop(pair)
        self.rt.record(NetExpire(self.rt.now, self.node, flow.flow_id, key, reason))
        far_key = pair.far_key if flow.records else key
        peer = flow.route[pair.far] if flow.records else pair.peer
        self.rt.send(peer, link_pb2.Expire(pair=link_pb2.LinkPairId(link=far_key[0], seq=far_key[1]), reason=reason))

    def _on_expire(self, src: str, msg: Any) -> None:
        key = (msg.pair.link, msg.pair.seq)
        for flow in self.flows.values():
            if src not in flow.positions:
                continue
            if self._expire_in(flow, key):
                return

    def _expire_in(self, flow: Flow, key: PairKey) -> bool:
        for pool in flow.pools.values():
            pair = pool.get(key)
            if pair is not None:
                if pair.busy:  # mid-round: the round's messages settle it
                    return True
                del pool[key]
                self._cancel_timer(flow, key)
                self._drop(pair)
                return True
        pair = flow.ends.pop(key, None)
        if pair is not None:
            self._drop(pair)
            return True
        for dq in (flow.up, flow.down):
            for p in dq:
                if (p.link, p.seq) == key:
                    dq.remove(p)
                    held = flow.tracks.pop(key, None)
                    if held is not None:
                        self._expire_head(flow, held.head_pair, "segment expired")
                    self._drop(p)
                    return True
        entry = flow.swapped.pop(key, None)
        if entry is None:
            return False
        if flow.records:
            other, far, mine = entry
            flow.swapped.pop(mine, None)
            peer = flow.route[far]
        else:
            other = entry[0]
            flow.swapped.pop(other, None)
            flow.tracks.pop(key, None)
            peer = self.topology.links[other[0]].a if self.topology.links[other[0]].b == self.node \
                else self.topology.links[other[0]].b
        self.rt.send(peer, link_pb2.Expire(pair=link_pb2.LinkPairId(link=other[0], seq=other[1]),
                                           reason="segment expired"))
        return True

    def _on_expire_notice(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None:
            return
        if src not in flow.positions:
            raise ProtocolViolation("ExpireNotice from a node off the flow's route")
        key = (msg.pair.link, msg.pair.seq)
        pool = flow.pools.get("e2e", {})
        if key in pool and not pool[key].busy:
            self._drop(pool.pop(key))
            return
        pair = flow.ends.pop(key, None)
        if pair is not None:
            self._drop(pair)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cutoff_text(spec: Any) -> str:
    """A CutoffSpec in words, e.g. ``'fixed' (0.01 s)``."""
    parts = []
    if spec.time:
        parts.append(f"{spec.time:g} s")
    if spec.slots:
        parts.append(f"{spec.slots} slots")
    if spec.min_fidelity:
        parts.append(f"F >= {spec.min_fidelity:g}")
    if spec.max_time:
        parts.append(f"at most {spec.max_time:g} s")
    return f"{spec.policy!r}" + (f" ({', '.join(parts)})" if parts else "")


def _purification_text(spec: Any) -> str:
    """A PurificationSpec (or None) in words, e.g. ``'dejmps' (link, target 0.95, 3 rounds)``."""
    if spec is None:
        return "'none'"
    scope = "end-to-end" if spec.scope == network_pb2.PURIFY_END_TO_END else "link"
    return f"{spec.policy!r} ({scope}, target {spec.target_fidelity:g}, at most {spec.max_rounds} rounds)"


class _Armed:
    """A sweep timer with the time it fires (to re-arm only when an earlier expiry arrives)."""

    __slots__ = ("handle", "time")

    def __init__(self, handle: Any, time: float) -> None:
        self.handle, self.time = handle, time

    def cancel(self) -> None:
        self.handle.cancel()
