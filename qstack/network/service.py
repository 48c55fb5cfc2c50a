"""The network layer's service interface (after Kozlowski, Dahlberg & Wehner, CoNEXT 2020).

The layer above asks :meth:`qstack.network.protocol.NetworkLayer.request` for end-to-end pairs
with a :class:`NetRequest`; it gets back, at each end, :class:`NetDeliver` for every pair (the
tail when the TRACK or last swap record arrives, the head when the tail's confirmation does) and
:class:`NetFail` when the flow cannot be served. :class:`NetExpire` is what a node records when
a pair of a flow is discarded (cut-off, floor, request complete). An upper layer implements
:class:`NetworkUser`.

>>> NetRequest("alice", "bob", pairs=10, min_fidelity=0.8).type
'keep'
>>> NetRequest("alice", "alice")
Traceback (most recent call last):
...
ValueError: NetRequest.destination must differ from source ('alice')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from qstack.recorder import observable

__all__ = ["NetRequest", "NetDeliver", "NetExpire", "NetFail", "NetworkUser", "FlowInfo"]

_UINT32 = 2**32 - 1


@dataclass(frozen=True, slots=True)
class NetRequest:
    """An end-to-end request: ``pairs`` (0: until stopped) between ``source`` and
    ``destination``, ``min_fidelity`` (sets the links' fidelity budget and, unless the flow
    purifies, is a floor: a pair estimated below it at delivery — links, the repeaters' and the
    ends' storage — is dropped and made again; a floor fresh pairs cannot reach fails the flow at
    once), ``floor`` (an explicit floor, also for purifying flows), ``deadline`` (s from now),
    ``priority``, ``type`` ``"keep"`` or ``"measure"`` (with ``basis``), an optional
    ``flow_id`` and an opaque ``purpose`` handed to the upper layer at both ends."""

    source: str
    destination: str
    pairs: int = 0
    min_fidelity: float = 0.0
    floor: float = 0.0
    deadline: float = math.inf
    priority: int = 0
    type: str = "keep"
    basis: str = "Z"
    flow_id: int | None = None
    purpose: bytes = b""

    def __post_init__(self) -> None:
        if self.destination == self.source:
            raise ValueError(f"NetRequest.destination must differ from source ({self.source!r})")
        if not isinstance(self.pairs, int) or not 0 <= self.pairs <= _UINT32:
            raise ValueError(f"NetRequest.pairs must be an int in [0, {_UINT32}] (0: until stopped), "
                             f"got {self.pairs!r}")
        for name in ("min_fidelity", "floor"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"NetRequest.{name} must be in [0, 1], got {v}")
        if not self.deadline > 0:
            raise ValueError(f"NetRequest.deadline must be > 0 s (inf for none), got {self.deadline}")
        if not isinstance(self.priority, int) or not -(2**31) <= self.priority < 2**31:
            raise ValueError(f"NetRequest.priority must be an int32, got {self.priority!r}")
        if self.type not in ("keep", "measure"):
            raise ValueError(f"NetRequest.type must be 'keep' or 'measure', got {self.type!r}")
        if self.basis not in ("Z", "X", "Y"):
            raise ValueError(f"NetRequest.basis must be 'Z', 'X' or 'Y', got {self.basis!r}")
        if self.flow_id is not None and not (isinstance(self.flow_id, int) and 0 < self.flow_id < 2**63):
            raise ValueError(f"NetRequest.flow_id must be a positive int64, got {self.flow_id!r}")


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """A flow as its end nodes see it: id, route, request type, purpose."""

    flow_id: int
    route: tuple[str, ...]
    type: str
    basis: str
    purpose: bytes
    pairs: int


@observable
class NetDeliver(NamedTuple):
    """An end-to-end pair delivered to this end (``end`` is ``"head"`` or ``"tail"``).

    ``qubit`` is stored at ``position`` of this node's memory (``link`` is its link); the pair is
    in Bell state ``frame`` (0–3: Φ⁺, Φ⁻, Ψ⁺, Ψ⁻); ``created`` is the emission time of the older
    of its two end link pairs (so ``time − created`` is how long the end nodes' qubits have been
    stored; a repeater's link pair in the middle may be older); ``pair_id``/``peer_pair`` are the
    two ends' link pair ids; ``seq`` counts the flow's deliveries from 1. Immutable (a named
    tuple)."""

    flow: FlowInfo
    end: str
    time: float
    qubit: Any
    position: int
    link: str
    frame: int
    created: float
    pair_id: tuple[str, int]
    peer_pair: tuple[str, int]
    seq: int = 0


@observable
@dataclass(frozen=True, slots=True)
class NetExpire:
    """A pair of flow ``flow_id`` was discarded at ``node`` (``reason``: cut-off, floor, …)."""

    time: float
    node: str
    flow_id: int
    pair_id: tuple[str, int]
    reason: str


@observable
@dataclass(frozen=True, slots=True)
class NetFail:
    """Flow ``flow_id`` cannot be served (``reason`` names the link or rule)."""

    time: float
    node: str
    flow_id: int
    reason: str
    extra: dict = field(default_factory=dict)


class NetworkUser(Protocol):
    """What the network layer calls on the layer above it, at the flow's end nodes."""

    def flow_started(self, flow: FlowInfo, end: str) -> None:
        """A flow with this node as its ``"head"`` or ``"tail"`` was set up."""

    def deliver(self, d: NetDeliver) -> None:
        """An end-to-end pair is this layer's; free it with ``NetworkLayer.release(d)``."""

    def flow_failed(self, f: NetFail) -> None:
        """The flow was torn down before it completed."""
