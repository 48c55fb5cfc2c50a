"""The link layer's service interface, in the words of Dahlberg et al. (SIGCOMM 2019).

Requests from the layer above go to :class:`~qstack.link.protocol.LinkLayer`
(``create``, ``stop``, ``release``); indications come back to the upper layer as these typed,
validated, immutable events:

* :class:`LinkCreate` — the CREATE request itself (remote node, type K/M, number, minimum
  fidelity, maximum time, purpose id, priority);
* :class:`LinkOK` — one heralded pair at this end (pair id, local qubit and its memory position,
  the heralded Bell state, goodness, creation time, request and purpose);
* :class:`LinkErr` — a request ended in error (``UNSUPPORTED``, ``REJECTED``, ``TIMEOUT``, …);
* :class:`LinkExpire` — a heralded pair was lost before it could be handed over.

An upper layer implements :class:`LinkUser`.

>>> LinkCreate("bob", number=3, min_fidelity=0.9, purpose_id=7).number
3
>>> LinkCreate("bob", min_fidelity=1.2)
Traceback (most recent call last):
...
ValueError: LinkCreate.min_fidelity must be in [0, 1], got 1.2
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from qstack.proto.qstack.v1 import link_pb2
from qstack.recorder import observable

__all__ = ["LinkCreate", "LinkOK", "LinkErr", "LinkExpire", "LinkUser", "LinkError", "UNTIL_STOPPED"]

LinkError = link_pb2.LinkError
#: ``number`` of a request served until it is stopped (the largest uint32)
UNTIL_STOPPED = 2**32 - 1


@dataclass(frozen=True, slots=True)
class LinkCreate:
    """CREATE(remote, type, number, min_fidelity, max_time, purpose_id, priority).

    ``type`` is ``"K"`` (create and keep) or ``"M"`` (create and measure); ``max_time`` in
    seconds (``inf``: no limit); ``number`` up to :data:`UNTIL_STOPPED`."""

    remote: str
    number: int = 1
    min_fidelity: float = 0.0
    max_time: float = math.inf
    purpose_id: int = 0
    priority: int = 0
    type: str = "K"

    def __post_init__(self) -> None:
        if not isinstance(self.remote, str) or not self.remote:
            raise ValueError(f"LinkCreate.remote must be a node name, got {self.remote!r}")
        if not isinstance(self.number, int) or not 1 <= self.number <= UNTIL_STOPPED:
            raise ValueError(f"LinkCreate.number must be an int in [1, {UNTIL_STOPPED}], got {self.number!r}")
        if not 0.0 <= self.min_fidelity <= 1.0:
            raise ValueError(f"LinkCreate.min_fidelity must be in [0, 1], got {self.min_fidelity}")
        if not self.max_time > 0:
            raise ValueError(f"LinkCreate.max_time must be > 0 s (inf for none), got {self.max_time}")
        if not isinstance(self.purpose_id, int) or not 0 <= self.purpose_id < 2**32:
            raise ValueError(f"LinkCreate.purpose_id must be an int in [0, 2^32), got {self.purpose_id!r}")
        if not isinstance(self.priority, int) or not -(2**31) <= self.priority < 2**31:
            raise ValueError(f"LinkCreate.priority must be an int32, got {self.priority!r}")
        if self.type not in ("K", "M"):
            raise ValueError(f"LinkCreate.type must be 'K' (keep) or 'M' (measure), got {self.type!r}")


@observable
class LinkOK(NamedTuple):
    """OK: a heralded pair, as this end sees it. ``qubit`` is stored at ``position`` of this
    node's memory (decohering since ``created``, the emission time). Immutable (a named tuple:
    one is made per heralded pair at each end, so it is built at tuple speed)."""

    link: str
    seq: int
    peer: str
    position: int
    qubit: Any
    bell_index: int
    goodness: float
    created: float
    request_id: int
    purpose_id: int

    @property
    def pair_id(self) -> tuple[str, int]:
        """``(link, seq)``: the pair's id, the same at both ends."""
        return (self.link, self.seq)


@observable
@dataclass(frozen=True, slots=True)
class LinkErr:
    """ERR: request ``request_id`` with ``peer`` failed with ``error`` (a :data:`LinkError`)."""

    peer: str
    link: str
    request_id: int
    purpose_id: int
    error: int
    detail: str = ""
    node: str = ""

    @property
    def error_name(self) -> str:
        """The error code's name, e.g. ``"TIMEOUT"``."""
        return LinkError.Name(self.error)


@observable
@dataclass(frozen=True, slots=True)
class LinkExpire:
    """EXPIRE: pair ``(link, seq)`` was lost at this end before it was handed over."""

    link: str
    seq: int
    purpose_id: int
    reason: str


class LinkUser(Protocol):
    """What the link layer calls on the layer above it."""

    def accepts(self, peer: str, purpose_id: int) -> bool:
        """Whether a CREATE from ``peer`` for ``purpose_id`` is welcome here."""

    def link_ok(self, ok: LinkOK) -> None:
        """A pair was heralded; this layer now owns ``ok.position`` until it releases it."""

    def link_err(self, err: LinkErr) -> None:
        """A request failed."""

    def link_expire(self, expire: LinkExpire) -> None:
        """A pair was lost before it was handed over."""
