"""A quantum network node and its network-layer protocol.

The network layer follows the quantum network protocol of Kozlowski, Dahlberg & Wehner
(CoNEXT 2020): a virtual circuit (a *flow*) is set up along a route before any pair is made;
repeaters swap link pairs as soon as they hold one towards each end (swap-ASAP) or at their
level of a nested (doubling) schedule; TRACK messages carry the accumulated Pauli frame from
the head end to the tail end; cut-off timers discard pairs that waited too long and EXPIRE
messages tell the other end(s) of the segment.

Pauli frames: a pair in Bell state ``β_i`` (index 0–3 = Φ⁺, Φ⁻, Ψ⁺, Ψ⁻ is the 2-bit Pauli label
``2x + z`` of ``β_i = (I ⊗ X^x Z^z) Φ⁺``) swapped with one in ``β_j`` by a Bell measurement with
outcome ``k`` leaves the outer pair in ``β_{i ⊕ j ⊕ k}`` (checked in the tests). So the frame of
an end-to-end pair is the XOR of its link heralds and swap outcomes, and nothing is corrected
physically until the application wants ``Φ⁺``.

Every message is a protobuf ``Envelope`` serialised to bytes on send and parsed on receipt;
bytes that do not parse or violate the protocol are counted and dropped
(:attr:`QuantumNode.rejected`), never crash the node.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qstack.physical.memory import QuantumMemory
from qstack.proto import MalformedMessage, decode, encode
from qstack.proto.qstack.v1 import link_pb2, network_pb2
from qstack.quantum import theory
from qstack.quantum.core import discard, discard_group, operate
from qstack.quantum.operations import CORRECTIONS, partner, purification_half, swap_inner, twirl
from qstack.sim import Node, Simulation

if TYPE_CHECKING:  # pragma: no cover
    from qstack.link.layer import Link, LinkPair
    from qstack.network.network import QuantumNetwork

__all__ = ["QuantumNode", "Flow", "Delivery"]

PairKey = tuple[str, int]
#: ``CreateRequest.number`` of a flow's link requests: serve until the path is torn down.
LINK_PAIRS_UNTIL_TEARDOWN = 2**32 - 1


@dataclass(slots=True)
class Delivery:
    """An end-to-end pair delivered to the tail's upper layer."""

    flow_id: int
    time: float
    frame: int
    fidelity: float
    age: float
    head_pair: PairKey
    tail_pair: PairKey
    outcomes: tuple[int, int] | None = None  # CREATE_MEASURE: (head, tail) outcomes
    bases: tuple[int, int] | None = None  # when each side drew its basis from a list: indices


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
    swapping: str
    cutoff: float
    priority: int = 0
    up: deque = field(default_factory=deque)  # unswapped pairs towards the head: LinkPair
    down: deque = field(default_factory=deque)  # unswapped pairs towards the tail
    swapped: dict = field(default_factory=dict)  # key -> (other key, outcome, other bell, other side)
    tracks: dict = field(default_factory=dict)  # key -> held Track
    ends: dict = field(default_factory=dict)  # head/tail: key -> LinkPair waiting for Track/Confirm
    timers: dict = field(default_factory=dict)  # key -> EventHandle of a pooled pair's cut-off
    sweeps: dict = field(default_factory=lambda: {True: False, False: False})  # queue -> timer armed
    delivered: int = 0
    active: bool = False
    request_ids: list = field(default_factory=list)
    purification: Any = None  # PurificationSpec or None
    measure_basis: str | None = None  # CREATE_MEASURE flows: both ends measure on delivery
    pools: dict = field(default_factory=dict)  # pool name (link or "e2e") -> {key: LinkPair}

    @property
    def is_head(self) -> bool:
        return self.index == 0

    @property
    def is_tail(self) -> bool:
        return self.index == len(self.route) - 1

    @property
    def up_node(self) -> str | None:
        return self.route[self.index - 1] if self.index > 0 else None

    @property
    def down_node(self) -> str | None:
        return self.route[self.index + 1] if not self.is_tail else None


class QuantumNode:
    """A node: classical endpoint, quantum memory, link ends and the network layer."""

    def __init__(self, network: QuantumNetwork, name: str, memory: QuantumMemory, role: str = "repeater"):
        self.network = network
        self.sim: Simulation = network.sim
        self.name = name
        self.role = role
        self.classical = Node(self.sim, name)
        self.classical.on_message(self._on_bytes)
        self.memory = memory
        self.links: dict[str, Link] = {}  # neighbour name -> link
        self.flows: dict[int, Flow] = {}
        self.rejected: dict[str, int] = {}
        self.rng = self.sim.rng(name, "network")
        self._next_position = 0
        self._request_ids = 0
        from qstack.proto import AppMessage, TeleportRecord

        # Keyed by message class: one hash of a type per message instead of a name lookup.
        self._dispatch: dict[type, Callable[[str, Any], None]] = {
            link_pb2.Herald: self._on_herald,
            link_pb2.CreateRequest: self._on_create_request,
            link_pb2.CreateAck: self._on_create_ack,
            link_pb2.CreateErr: self._on_create_err,
            network_pb2.PathSetup: self._on_path_setup,
            network_pb2.PathSetupAck: self._on_path_setup_ack,
            network_pb2.PathTeardown: self._on_path_teardown,
            network_pb2.Track: self._on_track,
            network_pb2.SwapRecord: self._on_swap_record,
            network_pb2.EndToEndConfirm: self._on_confirm,
            link_pb2.Expire: self._on_expire,
            network_pb2.ExpireNotice: self._on_expire_notice,
            network_pb2.PurifyOutcome: self._on_purify_outcome,
            AppMessage: self._on_app_message,
            TeleportRecord: self._on_app_message,
        }

    # ------------------------------------------------------------------ plumbing

    def reserve_positions(self, link: str, n: int) -> list[int]:
        """Reserve ``n`` memory positions for ``link``."""
        start = self._next_position
        if start + n > self.memory.num_positions:
            raise ValueError(f"node {self.name!r} has {self.memory.num_positions} memory positions, "
                             f"link {link!r} needs {n} more than the {start} already reserved")
        self._next_position += n
        return list(range(start, start + n))

    def send(self, peer: str, message: Any) -> None:
        """Serialise ``message`` and send it to ``peer`` (a channel is opened on demand with the
        classical path delay)."""
        if peer not in self.classical._channels:  # noqa: SLF001 - the node's own channel table
            self.network.open_channel(self.name, peer)
        self.classical.send(peer, encode(message, check=False))  # receivers validate

    def _reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def _on_bytes(self, src: str, payload: bytes) -> None:
        try:
            msg = decode(payload)
        except MalformedMessage as exc:
            self._reject(str(exc.reason))
            return
        handler = self._dispatch.get(type(msg))
        if handler is None:
            self._reject(f"unexpected {type(msg).__name__}")
            return
        try:
            handler(src, msg)
        except ProtocolViolation as exc:
            self._reject(str(exc))

    # ------------------------------------------------------------------ link layer

    def link_error(self, link: str, request_id: int, error: int, detail: str) -> None:
        """A link request ended with an error (e.g. TIMEOUT)."""
        self.network.record_link_error(self.name, link, request_id, error, detail)

    def _on_herald(self, src: str, herald: Any) -> None:
        link = self.network.links.get(herald.pair.link)
        if link is None or src != link.station.name:
            raise ProtocolViolation("herald for an unknown link")
        pair = link.take(self, herald)
        if pair is None:
            return
        flow = self.flows.get(pair.purpose_id)
        if flow is None:  # the flow was torn down meanwhile: free the position
            self._drop(link, pair)
            return
        self._on_link_pair(flow, link, pair)

    def _on_create_request(self, src: str, req: Any) -> None:
        link = self.links.get(src)
        flow = self.flows.get(req.purpose_id)
        if link is None or flow is None:
            self.send(src, link_pb2.CreateAck(request_id=req.request_id, accepted=False, error=link_pb2.REJECTED))
            return
        model = link.model_for(req.min_fidelity)
        if model is None:
            self.send(src, link_pb2.CreateAck(request_id=req.request_id, accepted=False, error=link_pb2.UNSUPPORTED))
            return
        self.send(src, link_pb2.CreateAck(request_id=req.request_id, accepted=True))

    def _on_create_ack(self, src: str, ack: Any) -> None:
        link = self.links.get(src)
        pending = self.network.pending_creates.pop((self.name, ack.request_id), None)
        if link is None or pending is None:
            raise ProtocolViolation("CreateAck for an unknown request")
        flow_id, min_fid = pending
        flow = self.flows.get(flow_id)
        if flow is None:
            return
        if not ack.accepted:
            self.network.flow_failed(flow_id, f"link {link.name}: {link_pb2.LinkError.Name(ack.error)}")
            return
        from qstack.link.layer import LinkRequest

        model = link.model_for(min_fid)
        if model is None:  # cannot happen after the peer accepted the same hardware
            self.network.flow_failed(flow_id, f"link {link.name}: UNSUPPORTED")
            return
        link.add_request(LinkRequest(ack.request_id, self.name, LINK_PAIRS_UNTIL_TEARDOWN, min_fid, flow.priority,
                                     flow_id, flow.deadline, model))
        flow.request_ids.append((link.name, ack.request_id))

    def _on_create_err(self, src: str, err: Any) -> None:
        self.network.record_link_error(self.name, src, err.request_id, err.error, err.detail)

    # ------------------------------------------------------------------ path set-up

    def start_flow(self, flow: Flow) -> None:
        """Head end: create the flow locally and signal PATH SETUP along the route."""
        self.flows[flow.flow_id] = flow
        self.send(flow.down_node, self._setup_message(flow))  # type: ignore[arg-type]

    def _setup_message(self, flow: Flow) -> Any:
        return network_pb2.PathSetup(
            flow_id=flow.flow_id, source=flow.route[0], destination=flow.route[-1], route=flow.route,
            min_fidelity=flow.min_fidelity, link_min_fidelity=flow.link_min_fidelity,
            num_pairs=flow.num_pairs, deadline=flow.deadline if math.isfinite(flow.deadline) else 0.0,
            swapping=flow.swapping, cutoff=flow.cutoff if math.isfinite(flow.cutoff) else 0.0,
            purification=_encode_purification(flow.purification),
            type=link_pb2.CREATE_KEEP if flow.measure_basis is None else link_pb2.CREATE_MEASURE,
            basis=link_pb2.Basis.Value(flow.measure_basis or "Z"),
        )

    def _on_path_setup(self, src: str, msg: Any) -> None:
        route = list(msg.route)
        if self.name not in route or route.index(self.name) == 0 or route[route.index(self.name) - 1] != src:
            raise ProtocolViolation("PathSetup from a node that is not my predecessor on the route")
        i = route.index(self.name)
        flow = Flow(
            msg.flow_id, route, i, msg.min_fidelity, msg.link_min_fidelity, msg.num_pairs,
            msg.deadline if msg.deadline > 0 else math.inf, msg.swapping,
            msg.cutoff if msg.cutoff > 0 else math.inf,
            purification=_decode_purification(msg.purification),
            measure_basis=link_pb2.Basis.Name(msg.basis) if msg.type == link_pb2.CREATE_MEASURE else None,
        )
        self.flows[flow.flow_id] = flow
        if flow.is_tail:
            flow.active = True
            self.send(src, network_pb2.PathSetupAck(flow_id=flow.flow_id, accepted=True))
        else:
            self.send(flow.down_node, msg)  # type: ignore[arg-type]

    def _on_path_setup_ack(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None or src != flow.down_node:
            raise ProtocolViolation("PathSetupAck for an unknown flow")
        if not msg.accepted:
            self.network.flow_failed(flow.flow_id, msg.reason)
            return
        flow.active = True
        # I am the upstream end of the link towards src: ask its link layer for pairs.
        self._request_ids += 1
        rid = self._request_ids
        self.network.pending_creates[(self.name, rid)] = (flow.flow_id, flow.link_min_fidelity)
        self.send(src, link_pb2.CreateRequest(
            request_id=rid, origin=self.name, remote_node=src, type=link_pb2.CREATE_KEEP,
            number=LINK_PAIRS_UNTIL_TEARDOWN,
            min_fidelity=flow.link_min_fidelity, max_time=0.0, purpose_id=flow.flow_id, priority=flow.priority,
        ))
        if not flow.is_head:
            self.send(flow.up_node, msg)  # type: ignore[arg-type]

    def teardown(self, flow_id: int, reason: str) -> None:
        """Tear the flow down here and tell the neighbours on the route."""
        flow = self.flows.pop(flow_id, None)
        if flow is None:
            return
        for link_name, rid in flow.request_ids:
            self.network.links[link_name].remove_request(rid)
        for key, handle in list(flow.timers.items()):
            handle.cancel()
            flow.timers.pop(key, None)
        for pair in list(flow.up) + list(flow.down) + list(flow.ends.values()):
            self._drop(self.network.links[pair.link], pair)
        flow.up.clear()
        flow.down.clear()
        flow.ends.clear()
        msg = network_pb2.PathTeardown(flow_id=flow_id, reason=reason)
        for peer in (flow.up_node, flow.down_node):
            if peer is not None:
                self.send(peer, msg)

    def _on_path_teardown(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None:
            return
        if src not in (flow.up_node, flow.down_node):
            raise ProtocolViolation("PathTeardown from a node that is not my neighbour on the flow")
        self.teardown(msg.flow_id, msg.reason)

    # ------------------------------------------------------------------ pairs and swaps

    def _drop(self, link: Link, pair: LinkPair) -> None:
        """Discard a pair's local qubit and free its position."""
        self.memory.clear(pair.position)
        if pair.qubit.alive:
            discard(pair.qubit)
        link.release(self.name, pair.index)

    def _release(self, link: Link, pair: LinkPair) -> None:
        self.memory.clear(pair.position)
        link.release(self.name, pair.index)

    def _on_link_pair(self, flow: Flow, link: Link, pair: LinkPair) -> None:
        key = (pair.link, pair.seq)
        upstream = link.other(self.name).name == flow.up_node
        pair.far = flow.index - 1 if upstream else flow.index + 1
        pair.far_key = key
        pair.frame = pair.bell_index
        pur = flow.purification
        if pur is not None and pur.scope == "link":
            pair.coeffs = link.bell_coefficients(pair.bell_index)
            self._pool_add(flow, link.name, pair, coordinator=not upstream)
            return
        self._accept_pair(flow, link, pair)

    def _accept_pair(self, flow: Flow, link: Link, pair: LinkPair) -> None:
        """A (possibly purified) link pair joins the path: TRACK from the head, swaps at repeaters."""
        key = (pair.link, pair.seq)
        upstream = link.other(self.name).name == flow.up_node
        if flow.is_head or flow.is_tail:
            flow.ends[key] = pair
            if flow.is_tail and flow.swapping == "nested" and len(flow.route) == 2:
                track = network_pb2.Track(flow_id=flow.flow_id, frame=pair.frame, created=pair.created)
                track.head_pair.link, track.head_pair.seq = key
                flow.ends.pop(key)
                self._deliver(flow, pair, track)  # a single link: nothing to swap
                return
            if flow.is_head:
                if flow.swapping != "nested":
                    self.send(flow.down_node, network_pb2.Track(  # type: ignore[arg-type]
                        flow_id=flow.flow_id, head_pair=link_pb2.LinkPairId(link=pair.link, seq=pair.seq),
                        via_pair=link_pb2.LinkPairId(link=pair.link, seq=pair.seq), frame=pair.frame,
                        swaps=0, created=pair.created,
                    ))
            return
        side = flow.up if upstream else flow.down
        side.append(pair)
        if math.isfinite(flow.cutoff) and not flow.sweeps[upstream]:
            # One cut-off timer per queue, for its oldest pair (pairs of one link arrive in
            # emission order), instead of one per pair.
            flow.sweeps[upstream] = True
            self.sim.call_at(side[0].created + flow.cutoff, self._cutoff_sweep, flow.flow_id, upstream)
        self._try_swap(flow)

    def _try_swap(self, flow: Flow) -> None:
        if flow.swapping == "nested":
            self._try_nested_swap(flow)
            return
        up_q, down_q, tracks = flow.up, flow.down, flow.tracks
        while up_q and down_q:
            # Oldest first — but a pair whose TRACK is already here (its segment reaches the
            # head) goes first, so end-to-end pairs do not queue behind orphan segments.
            up = None
            if tracks:
                for p in up_q:
                    if (p.link, p.seq) in tracks:
                        up = p
                        break
            if up is None:
                up = up_q.popleft()
            else:
                up_q.remove(up)
            self._swap(flow, up, down_q.popleft())

    def _swap(self, flow: Flow, up: LinkPair, down: LinkPair) -> int:
        now = self.sim.now
        q_up = self.memory.pop(up.position, now)
        q_down = self.memory.pop(down.position, now)
        k = swap_inner(q_up, q_down, self.rng, self.memory.gate_noise)
        links = self.network.links
        links[up.link].release(self.name, up.index)
        links[down.link].release(self.name, down.index)
        ku, kd = (up.link, up.seq), (down.link, down.seq)
        if flow.swapping != "nested":
            flow.swapped[ku] = (kd, k, down.frame, "down")
            flow.swapped[kd] = (ku, k, up.frame, "up")
            held = flow.tracks.pop(ku, None)
            if held is not None:
                self._forward_track(flow, held)
        return k

    def _forward_track(self, flow: Flow, track: Any) -> None:
        ku = (track.via_pair.link, track.via_pair.seq)
        kd, k, dbell, _side = flow.swapped.pop(ku)
        flow.swapped.pop(kd, None)
        self.send(flow.down_node, network_pb2.Track(  # type: ignore[arg-type]
            flow_id=flow.flow_id, head_pair=track.head_pair,
            via_pair=link_pb2.LinkPairId(link=kd[0], seq=kd[1]), frame=track.frame ^ k ^ dbell,
            swaps=track.swaps + 1, created=track.created,
        ))

    def _on_track(self, src: str, track: Any) -> None:
        flow = self.flows.get(track.flow_id)
        if flow is None or src != flow.up_node:
            raise ProtocolViolation("Track from a node that is not my predecessor on the flow")
        key = (track.via_pair.link, track.via_pair.seq)
        if flow.is_tail:
            pair = flow.ends.pop(key, None)
            if pair is None:
                return  # expired meanwhile
            self._deliver(flow, pair, track)
            return
        if key in flow.swapped:
            self._forward_track(flow, track)
        elif any(p.seq == key[1] and p.link == key[0] for p in flow.up):
            flow.tracks[key] = track
        else:  # the pair expired here before the TRACK arrived: release the head's half
            self._expire_head(flow, track)

    def _expire_head(self, flow: Flow, track: Any) -> None:
        self.send(flow.route[0], network_pb2.ExpireNotice(flow_id=flow.flow_id, pair=track.head_pair,
                                                          reason="segment expired"))

    def _deliver(self, flow: Flow, pair: LinkPair, track: Any) -> None:
        head_key = (track.head_pair.link, track.head_pair.seq)
        now = self.sim.now
        age = now - min(track.created, pair.created)
        enough = flow.num_pairs and flow.delivered >= flow.num_pairs
        too_weak = self.network.below_floor(flow, age)
        if age > flow.cutoff or enough or too_weak:
            self._drop(self.network.links[pair.link], pair)
            reason = "cut-off at delivery" if age > flow.cutoff else "request complete" if enough else "below floor"
            self.send(flow.route[0], network_pb2.ExpireNotice(flow_id=flow.flow_id, pair=track.head_pair,
                                                              reason=reason))
            return
        pair.far_key = head_key
        pair.e2e_frame = track.frame
        pair.created = min(track.created, pair.created)
        self.send(flow.route[0], network_pb2.EndToEndConfirm(
            flow_id=flow.flow_id, head_pair=track.head_pair,
            tail_pair=link_pb2.LinkPairId(link=pair.link, seq=pair.seq), frame=track.frame, seq=flow.delivered + 1,
        ))
        pur = flow.purification
        if pur is not None and pur.scope == "end_to_end":
            pair.coeffs = self.network.expected_coefficients(flow)
            self._pool_add(flow, "e2e", pair, coordinator=False)
            return
        self._final_delivery(flow, pair)

    def _final_delivery(self, flow: Flow, pair: LinkPair) -> None:
        """The tail hands an end-to-end pair to its application (observed, then consumed)."""
        age = self.sim.now - pair.created
        frame = 0 if (flow.purification is not None and flow.purification.scope == "end_to_end") else pair.e2e_frame
        delivery = self.network.deliver(flow, self, pair, pair.far_key, frame, age)
        if flow.measure_basis is not None:
            self.network.measure_delivered(flow, self, pair, delivery)
        consumer = self.network.consumers.get(flow.flow_id)
        if consumer is not None and consumer.tail_ready(self, flow, pair, delivery):
            if flow.measure_basis is not None:
                self._release(self.network.links[pair.link], pair)
        else:
            if flow.measure_basis is None and pair.qubit.alive and len(pair.qubit.group.qubits) == 2:  # type: ignore[union-attr]
                # The runner's sink consumes the delivered pair whole; the head keeps its memory
                # position until the EndToEndConfirm reaches it.
                discard_group(pair.qubit)
            self._release(self.network.links[pair.link], pair)
        flow.delivered += 1
        if flow.num_pairs and flow.delivered >= flow.num_pairs:
            self.network.flow_done(flow.flow_id)

    def _on_confirm(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None:
            return
        if not flow.is_head:
            raise ProtocolViolation("EndToEndConfirm at a node that is not the head")
        pair = flow.ends.pop((msg.head_pair.link, msg.head_pair.seq), None)
        if pair is None:
            return
        pur = flow.purification
        if pur is not None and pur.scope == "end_to_end":
            pair.far_key = (msg.tail_pair.link, msg.tail_pair.seq)
            pair.e2e_frame = pair.frame = msg.frame
            pair.coeffs = self.network.expected_coefficients(flow)
            self._pool_add(flow, "e2e", pair, coordinator=True)
            return
        flow.delivered += 1
        consumer = self.network.consumers.get(flow.flow_id)
        if consumer is None or not consumer.head_ready(self, flow, pair):
            # The application consumes its half at once (the runner's sink).
            self._drop(self.network.links[pair.link], pair)
        self._head_done_check(flow)

    def _head_done_check(self, flow: Flow) -> None:
        """The head tears the path down once it has all the pairs the request asked for (the
        tail stops counting at the same number, so the last Confirm is never lost)."""
        if flow.num_pairs and flow.delivered >= flow.num_pairs:
            self.teardown(flow.flow_id, "done")

    # ------------------------------------------------------------------ nested swapping

    def _try_nested_swap(self, flow: Flow) -> None:
        targets = nested_targets(len(flow.route), flow.index)
        if targets is None:
            return
        lo, hi = targets
        up = next((p for p in flow.up if p.far == lo), None)
        down = next((p for p in flow.down if p.far == hi), None)
        while up is not None and down is not None:
            flow.up.remove(up)
            flow.down.remove(down)
            up_far, down_far = up.far_key, down.far_key
            frame = up.frame ^ down.frame
            frame ^= self._swap(flow, up, down)
            for far, mine, theirs in ((lo, up_far, down_far), (hi, down_far, up_far)):
                self.send(flow.route[far], network_pb2.SwapRecord(
                    flow_id=flow.flow_id, left=link_pb2.LinkPairId(link=mine[0], seq=mine[1]),
                    right=link_pb2.LinkPairId(link=theirs[0], seq=theirs[1]), outcome=frame,
                ))
            flow.swapped[up_far] = (down_far, hi)
            flow.swapped[down_far] = (up_far, lo)
            up = next((p for p in flow.up if p.far == lo), None)
            down = next((p for p in flow.down if p.far == hi), None)

    def _on_swap_record(self, src: str, rec: Any) -> None:
        """Nested: my pair ``left`` now reaches the node that knows its end as ``right``."""
        flow = self.flows.get(rec.flow_id)
        if flow is None or flow.swapping != "nested" or src not in flow.route:
            raise ProtocolViolation("SwapRecord outside a nested flow")
        key = (rec.left.link, rec.left.seq)
        targets = nested_targets(len(flow.route), flow.route.index(src))
        if targets is None or flow.index not in targets:
            raise ProtocolViolation("SwapRecord from a node whose segment does not end here")
        far = targets[1] if flow.index == targets[0] else targets[0]
        pair = flow.ends.get(key) or next((p for p in (*flow.up, *flow.down) if (p.link, p.seq) == key), None)
        if pair is None:
            return  # expired meanwhile; the Expire travels to the far end
        pair.far, pair.far_key, pair.frame = far, (rec.right.link, rec.right.seq), rec.outcome
        if flow.is_tail and far == 0:
            flow.ends.pop(key)
            head = self.network.nodes[flow.route[0]].flows.get(flow.flow_id)
            head_pair = head.ends.get(pair.far_key) if head is not None else None  # observation only
            track = network_pb2.Track(flow_id=flow.flow_id, frame=pair.frame, created=pair.created)
            track.head_pair.link, track.head_pair.seq = pair.far_key
            if head_pair is not None:
                track.created = min(pair.created, head_pair.created)
            self._deliver(flow, pair, track)
        elif not (flow.is_head or flow.is_tail):
            self._try_swap(flow)

    def _on_app_message(self, src: str, msg: Any) -> None:
        """Transport and application messages go to their session's runtime."""
        session = self.network.sessions.get(msg.session)
        if session is None:
            raise ProtocolViolation(f"{type(msg).__name__} for an unknown application session")
        session.receive(self, src, msg)

    # ------------------------------------------------------------------ purification

    def _pool_add(self, flow: Flow, pool: str, pair: LinkPair, coordinator: bool) -> None:
        """Put a pair into a purification pool (``pool`` = link name, or ``"e2e"``).

        The coordinator (the end nearer the head) first corrects the pair to Φ⁺ with a local
        Pauli on its qubit, so both ends treat its frame as 0 from now on.
        """
        if coordinator and pair.frame:
            q = self.memory.peek(pair.position, self.sim.now)
            operate([q], CORRECTIONS[pair.frame])
        pair.frame = 0
        pair.level = 0
        pair.busy = False
        pair.coordinator = coordinator
        if pool != "e2e":  # link coefficients are absolute; end-to-end ones already relative
            pair.coeffs = _rotate_to_phi_plus(pair.coeffs, pair.bell_index)
        if self._ready(flow, pair):
            self._pool_done(flow, pool, pair)
            return
        flow.pools.setdefault(pool, {})[(pair.link, pair.seq)] = pair
        if coordinator:
            if math.isfinite(flow.cutoff):
                flow.timers[(pair.link, pair.seq)] = self.sim.call_at(
                    pair.created + flow.cutoff, self._pool_cutoff, flow.flow_id, pool, (pair.link, pair.seq))
            self._try_purify(flow, pool)

    def _ready(self, flow: Flow, pair: LinkPair) -> bool:
        pur = flow.purification
        return pair.coeffs[0] >= pur.target_fidelity or pair.level >= pur.max_rounds

    def _try_purify(self, flow: Flow, pool_name: str) -> None:
        pur = flow.purification
        pool = flow.pools.get(pool_name, {})
        idle = [p for p in pool.values() if not p.busy]
        if len(idle) < 2:
            return
        if pur.protocol == "pumping":
            fresh = [p for p in idle if p.level == 0]
            base = max(idle, key=lambda p: (p.level, -p.seq))
            if base.level == 0:
                if len(fresh) < 2:
                    return
                base = fresh[0]
            sacrifice = next((p for p in fresh if p is not base), None)
            if sacrifice is None:
                return
            self._purify_start(flow, pool_name, base, sacrifice)
            return
        by_level: dict[int, list[LinkPair]] = {}
        for p in idle:
            by_level.setdefault(p.level, []).append(p)
        for level in sorted(by_level, reverse=True):
            group = by_level[level]
            while len(group) >= 2:
                self._purify_start(flow, pool_name, group.pop(0), group.pop(0))

    def _purify_start(self, flow: Flow, pool: str, keep: LinkPair, sacrifice: LinkPair) -> None:
        """Coordinator: do my half of a round and tell the other end."""
        keep.busy = sacrifice.busy = True
        now = self.sim.now
        protocol = "bbpssw" if flow.purification.protocol == "bbpssw" else "dejmps"
        qk = self.memory.peek(keep.position, now)
        qs = self.memory.peek(sacrifice.position, now)
        if protocol == "bbpssw":  # the bilateral twirl, agreed in advance (shared randomness)
            twirl(qk, partner(qk))
            twirl(qs, partner(qs))
        bit = purification_half(qk, qs, "alice", protocol, self.rng, self.memory.gate_noise)
        self.memory.clear(sacrifice.position)
        self.send(self._pool_peer(flow, pool), network_pb2.PurifyOutcome(
            flow_id=flow.flow_id, keep=link_pb2.LinkPairId(link=keep.far_key[0], seq=keep.far_key[1]),
            sacrifice=link_pb2.LinkPairId(link=sacrifice.far_key[0], seq=sacrifice.far_key[1]),
            round=keep.level, outcome=bit, protocol=flow.purification.protocol,
        ))
        keep.bit = bit

    def _pool_peer(self, flow: Flow, pool: str) -> str:
        if pool == "e2e":
            return flow.route[-1] if flow.is_head else flow.route[0]
        return self.network.links[pool].other(self.name).name

    def _on_purify_outcome(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None or flow.purification is None:
            raise ProtocolViolation("PurifyOutcome for a flow without purification")
        kk, ks = (msg.keep.link, msg.keep.seq), (msg.sacrifice.link, msg.sacrifice.seq)
        pool_name = "e2e" if flow.purification.scope == "end_to_end" else kk[0]
        pool = flow.pools.get(pool_name, {})
        keep, sacrifice = pool.get(kk), pool.get(ks)
        if keep is None or sacrifice is None:
            return  # expired meanwhile: the Expire travels too
        now = self.sim.now
        protocol = "bbpssw" if flow.purification.protocol == "bbpssw" else "dejmps"
        if keep.coordinator:  # the reply to my round
            my_bit = keep.bit
        else:
            qk = self.memory.peek(keep.position, now)
            qs = self.memory.peek(sacrifice.position, now)
            my_bit = purification_half(qk, qs, "bob", protocol, self.rng, self.memory.gate_noise)
            self.memory.clear(sacrifice.position)
            self.send(src, network_pb2.PurifyOutcome(
                flow_id=flow.flow_id, keep=link_pb2.LinkPairId(link=keep.far_key[0], seq=keep.far_key[1]),
                sacrifice=link_pb2.LinkPairId(link=sacrifice.far_key[0], seq=sacrifice.far_key[1]),
                round=msg.round, outcome=my_bit, protocol=msg.protocol,
            ))
        self._purify_finish(flow, pool_name, keep, sacrifice, my_bit == msg.outcome)

    def _purify_finish(self, flow: Flow, pool_name: str, keep: LinkPair, sacrifice: LinkPair, ok: bool) -> None:
        pool = flow.pools[pool_name]
        links = self.network.links
        del pool[(sacrifice.link, sacrifice.seq)]
        self._cancel_timer(flow, (sacrifice.link, sacrifice.seq))
        links[sacrifice.link].release(self.name, sacrifice.index)
        if not ok:
            del pool[(keep.link, keep.seq)]
            self._cancel_timer(flow, (keep.link, keep.seq))
            self._drop(links[keep.link], keep)
        else:
            protocol = flow.purification.protocol
            c1 = theory.twirled(keep.coeffs) if protocol == "bbpssw" else keep.coeffs
            c2 = theory.twirled(sacrifice.coeffs) if protocol == "bbpssw" else sacrifice.coeffs
            keep.coeffs = theory.dejmps_two(c1, c2)[0]
            keep.level += 1
            keep.created = min(keep.created, sacrifice.created)
            keep.busy = False
            if self._ready(flow, keep):
                del pool[(keep.link, keep.seq)]
                self._cancel_timer(flow, (keep.link, keep.seq))
                self._pool_done(flow, pool_name, keep)
        if keep.coordinator:
            self._try_purify(flow, pool_name)

    def _pool_done(self, flow: Flow, pool_name: str, pair: LinkPair) -> None:
        if pool_name != "e2e":
            self._accept_pair(flow, self.network.links[pair.link], pair)
        elif flow.is_tail:
            self._final_delivery(flow, pair)
        else:  # the head: its half is consumed with the tail's delivery
            self._drop(self.network.links[pair.link], pair)
            flow.delivered += 1
            self._head_done_check(flow)

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
        self._drop(self.network.links[pair.link], pair)
        far = pair.far_key
        if pool_name == "e2e":
            self.send(self._pool_peer(flow, pool_name), network_pb2.ExpireNotice(
                flow_id=flow.flow_id, pair=link_pb2.LinkPairId(link=far[0], seq=far[1]), reason="cut-off"))
        else:
            self.send(self._pool_peer(flow, pool_name), link_pb2.Expire(
                pair=link_pb2.LinkPairId(link=far[0], seq=far[1]), reason="cut-off"))

    # ------------------------------------------------------------------ cut-offs and expiry

    def _cutoff_sweep(self, flow_id: int, upstream: bool) -> None:
        """Discard the queue's pairs older than the cut-off; re-arm for the next oldest."""
        flow = self.flows.get(flow_id)
        if flow is None:
            return
        side = flow.up if upstream else flow.down
        now = self.sim.now
        while side and side[0].created + flow.cutoff <= now:
            self._expire_pair(flow, side.popleft())
        if side:
            self.sim.call_at(side[0].created + flow.cutoff, self._cutoff_sweep, flow_id, upstream)
        else:
            flow.sweeps[upstream] = False

    def _expire_pair(self, flow: Flow, pair: LinkPair) -> None:
        """A repeater's pair reached the cut-off: discard it and tell the other end of its segment
        — the link neighbour (swap-ASAP: forwarded through its swaps) or the far node (nested)."""
        key = (pair.link, pair.seq)
        held = flow.tracks.pop(key, None)
        if held is not None:
            self._expire_head(flow, held)
        link = self.network.links[pair.link]
        self._drop(link, pair)
        far_key = pair.far_key if flow.swapping == "nested" else key
        peer = flow.route[pair.far] if flow.swapping == "nested" else link.other(self.name).name
        self.send(peer, link_pb2.Expire(pair=link_pb2.LinkPairId(link=far_key[0], seq=far_key[1]), reason="cut-off"))

    def _on_expire(self, src: str, msg: Any) -> None:
        key = (msg.pair.link, msg.pair.seq)
        for flow in self.flows.values():
            if src not in flow.route:
                continue
            if self._expire_in(flow, key):
                return

    def _expire_in(self, flow: Flow, key: PairKey) -> bool:
        links = self.network.links
        for pool in flow.pools.values():
            pair = pool.get(key)
            if pair is not None:
                if pair.busy:  # mid-round: the round's messages settle it
                    return True
                del pool[key]
                self._cancel_timer(flow, key)
                self._drop(links[pair.link], pair)
                return True
        pair = flow.ends.pop(key, None)
        if pair is not None:
            self._drop(links[pair.link], pair)
            return True
        for dq in (flow.up, flow.down):
            for p in dq:
                if (p.link, p.seq) == key:
                    dq.remove(p)
                    held = flow.tracks.pop(key, None)
                    if held is not None:
                        self._expire_head(flow, held)
                    self._drop(links[p.link], p)
                    return True
        entry = flow.swapped.pop(key, None)
        if entry is None:
            return False
        if flow.swapping == "nested":
            other, far = entry
            flow.swapped.pop(other, None)
            peer = flow.route[far]
        else:
            other = entry[0]
            flow.swapped.pop(other, None)
            flow.tracks.pop(key, None)
            peer = links[other[0]].other(self.name).name
        self.send(peer, link_pb2.Expire(pair=link_pb2.LinkPairId(link=other[0], seq=other[1]),
                                        reason="segment expired"))
        return True

    def _on_expire_notice(self, src: str, msg: Any) -> None:
        flow = self.flows.get(msg.flow_id)
        if flow is None:
            return
        if src not in flow.route:
            raise ProtocolViolation("ExpireNotice from a node off the flow's route")
        key = (msg.pair.link, msg.pair.seq)
        pool = flow.pools.get("e2e", {})
        if key in pool and not pool[key].busy:
            self._drop(self.network.links[pool[key].link], pool.pop(key))
            return
        pair = flow.ends.pop(key, None)
        if pair is not None:
            self._drop(self.network.links[pair.link], pair)


def _encode_purification(spec: Any) -> str:
    """The purification policy as PathSetup carries it: ``protocol/scope/target/max_rounds``."""
    if spec is None:
        return ""
    return f"{spec.protocol}/{spec.scope}/{spec.target_fidelity!r}/{spec.max_rounds}"


def _decode_purification(text: str) -> Any:
    if not text:
        return None
    from qstack.scenario import PurificationSpec

    try:
        protocol, scope, target, rounds = text.split("/")
        return PurificationSpec(protocol=protocol, target_fidelity=float(target), scope=scope,
                                max_rounds=int(rounds))
    except (ValueError, TypeError) as exc:
        raise ProtocolViolation(f"PathSetup.purification is malformed: {text!r}") from exc


def _rotate_to_phi_plus(coeffs: Any, frame: int) -> Any:
    """Bell coefficients seen in the frame where the announced Bell state ``frame`` is Φ⁺."""
    if coeffs is None:
        return None
    return [coeffs[i ^ frame] for i in range(4)]


def nested_targets(route_length: int, index: int) -> tuple[int, int] | None:
    """The segment ``(lo, hi)`` that the node at ``index`` joins in the nested (doubling)
    schedule: the route ``0..n−1`` is halved recursively and each split point joins the two
    halves of its segment; end nodes join nothing (None).

    >>> [nested_targets(5, i) for i in range(5)]
    [None, (0, 2), (0, 4), (2, 4), None]
    """
    lo, hi = 0, route_length - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if index == mid:
            return lo, hi
        lo, hi = (lo, mid) if index < mid else (mid, hi)
    return None


class ProtocolViolation(Exception):
    """A well-formed message that the protocol does not allow in the node's state."""

    __slots__ = ()
