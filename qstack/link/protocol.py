"""The link layer protocol of one node (after Dahlberg et al., SIGCOMM 2019).

One :class:`LinkLayer` per node serves all the node's links. For each link it owns this end:
the memory positions reserved for the link, the agreed requests (the distributed queue), and
its half of the midpoint heralding protocol with the link's station (shared physics, see
:class:`qstack.physical.station.HeraldingStation`).

* ``create(LinkCreate)`` sends a ``CreateRequest`` to the peer's link layer, which answers
  ``CreateAck``: accepted, ``REJECTED`` when its upper layer does not know the purpose,
  ``UNSUPPORTED`` when the link's scheme cannot reach the fidelity, ``NO_RESOURCES`` when the
  link end has no positions or a full queue, ``NO_TIME`` when the pairs need longer than
  ``max_time`` on average. The requesting end checks the same before sending (an ERR after
  ``create`` returns, with no round trip); either way before any attempt. Both ends then
  serve the request; the link's first end (in the scenario's order)
  chooses which request each position pair serves — higher priority first, round robin among
  equals — and the station echoes the choice in its ``Herald``.
* Every heralded pair is a :class:`~qstack.link.service.LinkOK` to the upper layer at each end;
  the upper layer owns the position until it calls ``release``. A request ends after
  ``number`` pairs, on ``stop``, or at ``max_time`` (``ERR TIMEOUT`` to the requesting end when
  it is short of its number). ``stop`` at one end sends the peer a ``CreateErr`` so it drops
  the request too (the requesting end's upper layer hears ``ERR REJECTED``).
* Attempt timing: a position pair attempts whenever both its positions are free and a request is
  served; attempts are sampled, so a pair costs a few events however lossy the link.

The protocol touches only its own node: its runtime (time, timers, messages, memory) and the
station's physical interface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qstack.link.service import UNTIL_STOPPED, LinkCreate, LinkErr, LinkExpire, LinkOK, LinkUser
from qstack.physical.station import LINK_SCHEMES, LinkHardware
from qstack.proto.qstack.v1 import link_pb2
from qstack.runtime import Layer, ProtocolViolation, Runtime

__all__ = ["LinkLayer", "LinkEnd", "bell_coefficients", "DEAD_LINK_PROBABILITY"]

_new_tuple = tuple.__new__

#: a link whose success probability per attempt is below this is dead: over the longest run the
#: loader allows (``qstack.scenario.MAX_SIMULATED_CYCLES`` = 1e9 attempt cycles) it heralds a pair
#: with probability under 1e-6, so a request on it is UNSUPPORTED at once instead of a run that
#: ends with nothing and no reason (or, with no duration, never ends)
DEAD_LINK_PROBABILITY = 1e-15


def bell_coefficients(model: Any, raw_w: float, bell_index: int) -> list[float]:
    """Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) of a pair heralded by ``model`` as ``bell_index``,
    after the raw-fidelity channel with Werner parameter ``raw_w``.

    >>> from qstack.physical.heralding import HeraldingModel
    >>> m = HeraldingModel("double_click", 0.5, 0.5)
    >>> [round(c, 6) for c in bell_coefficients(m, 0.9, m.outcomes()[0][0])][:2]
    [0.025, 0.025]
    """
    from qstack.quantum.states import BELL_KETS_NP

    for k, state in model.outcomes():
        if k == bell_index:
            rho = np.asarray(state) / float(np.trace(state).real)
            if raw_w != 1.0:
                rho = raw_w * rho + (1.0 - raw_w) / 4.0 * np.eye(4)
            return [float(np.real(b.conj() @ rho @ b)) for b in BELL_KETS_NP]
    raise ValueError(f"bell_index {bell_index} is not a heralded outcome of this model")


@dataclass(slots=True)
class _Request:
    request_id: int
    origin: str
    number: int
    min_fidelity: float
    priority: int
    purpose_id: int
    deadline: float
    model: Any
    delivered: int = 0
    timer: Any = None
    goodness: float = 0.0  # the model's heralded fidelity, read once


class LinkEnd:
    """This node's end of one link: positions, requests, the station and the scheme."""

    __slots__ = ("name", "peer", "side", "station", "station_node", "positions", "free", "signalled", "requests",
                 "rr", "hardware", "scheme", "by_request", "index_of", "coeff_cache", "_models")

    def __init__(self, name: str, peer: str, side: int, station: Any, positions: list[int],
                 hardware: LinkHardware, scheme: Any) -> None:
        self.name = name
        self.peer = peer
        self.side = side
        self.station = station
        self.station_node = station.rt.node  # heralds must come from it
        self.positions = positions
        self.index_of = {p: i for i, p in enumerate(positions)}
        self.free = [True] * len(positions)
        self.signalled = [False] * len(positions)
        self.requests: list[_Request] = []
        self.by_request: dict[int, _Request] = {}
        self.rr = 0
        self.hardware = hardware
        self.scheme = scheme
        self._models: dict[float, Any] = {}
        self.coeff_cache: dict[tuple[int, int], tuple[float, ...]] = {}

    def model_for(self, min_fidelity: float) -> Any:
        """The scheme's generation model for ``min_fidelity`` (None: unreachable), cached."""
        try:
            return self._models[min_fidelity]
        except KeyError:
            m = self._models[min_fidelity] = self.scheme.model(self.hardware, min_fidelity)
            return m

    def unsupported_reason(self, model: Any) -> str:
        """Why a request for which the scheme gave ``model`` (None, or one with success
        probability 0) is UNSUPPORTED: a fidelity out of reach, or a dead link — one whose
        scheme heralds nothing even with no fidelity demand (e.g. no light reaches the station:
        emission efficiency 0, or a fibre loss that underflows the transmissivity)."""
        base = self.model_for(0.0)
        if base is not None and base.success_probability >= DEAD_LINK_PROBABILITY and model is None:
            return "unreachable fidelity"
        hw = self.hardware
        p = 0.0 if model is None else model.success_probability
        what = "0" if p == 0.0 else f"{p:.3g} (< {DEAD_LINK_PROBABILITY:g}: under one pair in 10^6 maximal runs)"
        return (f"success probability {what}: link {self.name} never heralds a pair (eta_a = {hw.eta_a:.3g}, "
                f"eta_b = {hw.eta_b:.3g}, p_dark = {hw.p_dark:.3g})")


class LinkLayer(Layer):
    """The link layer of one node (see the module docstring)."""

    layer = "link"

    def __init__(self, runtime: Runtime, upper: LinkUser | None = None, max_queue: int = 64) -> None:
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be an int >= 1 (requests per link), got {max_queue!r}")
        self.rt = runtime
        self.upper = upper
        #: requests a link end serves at once (its distributed queue); more are NO_RESOURCES
        self.max_queue = max_queue
        self.ends: dict[str, LinkEnd] = {}  # by peer node
        self.by_link: dict[str, LinkEnd] = {}  # by link name
        self._next_id = 0
        self._pending: dict[int, tuple[LinkEnd, LinkCreate]] = {}

    def handlers(self) -> dict[type, Any]:
        return {
            link_pb2.Herald: self._on_herald,
            link_pb2.CreateRequest: self._on_create_request,
            link_pb2.CreateAck: self._on_create_ack,
            link_pb2.CreateErr: self._on_create_err,
        }

    # ------------------------------------------------------------------ set-up

    def attach(self, name: str, peer: str, side: int, station: Any, positions: list[int], hardware: LinkHardware,
               scheme: Any = "double_click") -> LinkEnd:
        """Add this node's end of link ``name`` to ``peer`` (``side`` 0 is the link's first end);
        ``scheme`` is a link scheme object or a name in :data:`LINK_SCHEMES`."""
        if peer in self.ends:
            raise ValueError(f"node {self.rt.node!r} already has a link to {peer!r}")
        scheme = LINK_SCHEMES.create(scheme) if not hasattr(scheme, "model") else scheme
        end = LinkEnd(name, peer, side, station, list(positions), hardware, scheme)
        self.ends[peer] = end
        self.by_link[name] = end
        return end

    def model_for(self, peer: str, min_fidelity: float) -> Any:
        """The generation model the link to ``peer`` would use for ``min_fidelity`` (or None)."""
        return self.ends[peer].model_for(min_fidelity)

    def coefficients(self, ok: LinkOK) -> list[float]:
        """Expected Bell coefficients of a delivered pair (its request's model, raw fidelity)."""
        return list(self.coefficients_of(ok.link, ok.request_id, ok.bell_index))

    def coefficients_of(self, link: str, request_id: int, bell_index: int) -> tuple[float, ...]:
        """Expected Bell coefficients of a pair of ``link`` heralded as ``bell_index`` for
        request ``request_id`` (cached)."""
        end = self.by_link[link]
        key = (request_id, bell_index)
        hit = end.coeff_cache.get(key)
        if hit is None:
            req = end.by_request.get(request_id)
            model = req.model if req is not None else end.model_for(0.0)
            hit = end.coeff_cache[key] = tuple(bell_coefficients(model, end.hardware.raw_w, bell_index))
        return hit

    # ------------------------------------------------------------------ service: requests from above

    def create(self, request: LinkCreate) -> int:
        """CREATE: ask the link to ``request.remote`` for pairs; returns the request id.
        Errors come back as :class:`LinkErr` through ``upper.link_err``."""
        end = self.ends.get(request.remote)
        if end is None:
            raise ValueError(f"node {self.rt.node!r} has no link to {request.remote!r}")
        self._next_id += 1
        rid = self._next_id
        model = end.model_for(request.min_fidelity)
        if model is None or not model.success_probability >= DEAD_LINK_PROBABILITY:
            problem: tuple[int, str] | None = (link_pb2.UNSUPPORTED, end.unsupported_reason(model))
        else:
            problem = self._infeasible(end, model, request.number, request.max_time)
        if problem is not None:  # known here: no round trip; told to the caller after it returns
            self.rt.call_later(0.0, self._error, end, rid, request.purpose_id, *problem)
            return rid
        self._pending[rid] = (end, request)
        self.rt.send(end.peer, link_pb2.CreateRequest(
            request_id=rid, origin=self.rt.node, remote_node=end.peer,
            type=link_pb2.CREATE_KEEP if request.type == "K" else link_pb2.CREATE_MEASURE,
            number=request.number, min_fidelity=request.min_fidelity,
            max_time=request.max_time if math.isfinite(request.max_time) else 0.0,
            purpose_id=request.purpose_id, priority=request.priority,
        ))
        return rid

    def stop(self, peer: str, purpose_id: int) -> None:
        """Stop serving every request of ``purpose_id`` on the link to ``peer`` (this end)."""
        end = self.ends.get(peer)
        if end is None:
            return
        gone = [r for r in end.requests if r.purpose_id == purpose_id]
        if not gone:
            return
        for r in gone:
            self._remove(end, r)
            # the peer drops it too (its position pairs would otherwise attempt for nobody)
            self.rt.send(end.peer, link_pb2.CreateErr(request_id=r.request_id, error=link_pb2.REJECTED,
                                                      detail=f"stopped at {self.rt.node}", origin=r.origin))
        self._refresh(end)

    def release(self, link: str, position: int) -> None:
        """The upper layer frees ``position`` of ``link`` (its qubit was consumed or discarded)."""
        end = self.by_link[link]
        i = end.index_of[position]
        self.rt.memory.clear(position)
        reqs = end.requests
        if reqs:  # _signal, written out (every released position goes here)
            end.signalled[i] = True
            end.free[i] = False
            if end.side == 0:
                req = reqs[0] if len(reqs) == 1 else self._next_request(end)
                end.station.ready(0, i, req.request_id, req.model)  # type: ignore[union-attr]
            else:
                end.station.ready(1, i)
        else:
            end.free[i] = True

    # ------------------------------------------------------------------ requests between the ends

    def _activate(self, end: LinkEnd, req: _Request) -> None:
        req.goodness = float(req.model.fidelity)
        end.requests.append(req)
        end.by_request[req.request_id] = req
        if req.deadline < math.inf:
            req.timer = self.rt.call_at(req.deadline, self._expire_request, end, req)
        for i in range(len(end.positions)):
            if end.free[i]:
                self._signal(end, i)

    def _remove(self, end: LinkEnd, req: _Request) -> None:
        if req in end.requests:
            end.requests.remove(req)
        if req.timer is not None:
            req.timer.cancel()
            req.timer = None

    def _on_create_request(self, src: str, msg: Any) -> None:
        end = self.ends.get(src)
        if end is None or msg.remote_node != self.rt.node or msg.origin != src:
            raise ProtocolViolation("CreateRequest from a node that is not a link neighbour")
        upper = self.upper
        if upper is None or not upper.accepts(src, msg.purpose_id):
            self.rt.send(src, link_pb2.CreateAck(request_id=msg.request_id, accepted=False, error=link_pb2.REJECTED))
            return
        model = end.model_for(msg.min_fidelity)
        problem = (link_pb2.UNSUPPORTED, "") if model is None else \
            self._infeasible(end, model, msg.number or UNTIL_STOPPED, msg.max_time if msg.max_time > 0 else math.inf)
        if problem is not None:
            self.rt.send(src, link_pb2.CreateAck(request_id=msg.request_id, accepted=False, error=problem[0]))
            return
        self.rt.send(src, link_pb2.CreateAck(request_id=msg.request_id, accepted=True))
        deadline = self.rt.now + msg.max_time if msg.max_time > 0 else math.inf
        self._activate(end, _Request(msg.request_id, src, msg.number or UNTIL_STOPPED, msg.min_fidelity,
                                     msg.priority, msg.purpose_id, deadline, model))

    def _infeasible(self, end: LinkEnd, model: Any, number: int, max_time: float) -> tuple[int, str] | None:
        """``(NO_RESOURCES | NO_TIME, detail)`` when a request cannot be served, else None:
        the link end has no positions or a full queue (:attr:`max_queue`), or ``number`` pairs
        need longer than ``max_time`` on average with every position pair attempting —
        ``number · T / (k · p)`` for ``k`` position pairs, attempts of mean length ``T`` and
        success probability ``p``."""
        k = len(end.positions)
        if k == 0:
            return link_pb2.NO_RESOURCES, f"link {end.name} has no memory positions at {self.rt.node}"
        if len(end.requests) >= self.max_queue:
            return link_pb2.NO_RESOURCES, f"link {end.name} already serves {len(end.requests)} requests (max_queue)"
        if number != UNTIL_STOPPED and math.isfinite(max_time):
            p = model.success_probability
            t = getattr(model, "mean_attempt_time", model.cycle_time)
            need = number * t / (k * p) if p > 0 else math.inf
            if need > max_time:
                return link_pb2.NO_TIME, (f"{number} pairs take {need:.3g} s on average on link {end.name} ({k} "
                                          f"position pairs, p = {p:.3g} per {t:.3g} s), max_time is {max_time:g} s")
        return None

    def _on_create_ack(self, src: str, ack: Any) -> None:
        pending = self._pending.pop(ack.request_id, None)
        if pending is None or pending[0].peer != src:
            raise ProtocolViolation("CreateAck for an unknown request")
        end, request = pending
        if not ack.accepted:
            self._error(end, ack.request_id, request.purpose_id, ack.error, "refused by the peer")
            return
        model = end.model_for(request.min_fidelity)
        if model is None:  # the peer accepted what this end's model cannot reach
            self._error(end, ack.request_id, request.purpose_id, link_pb2.UNSUPPORTED, "unreachable fidelity")
            return
        deadline = self.rt.now + request.max_time
        self._activate(end, _Request(ack.request_id, self.rt.node, request.number, request.min_fidelity,
                                     request.priority, request.purpose_id, deadline, model))

    def _on_create_err(self, src: str, err: Any) -> None:
        """The peer ended a request it served with this end: drop it here too; the requesting
        end's upper layer hears a :class:`LinkErr`. A request already gone here is ignored."""
        end = self.ends.get(src)
        if end is None:
            raise ProtocolViolation("CreateErr from a node that is not a link neighbour")
        origin = err.origin or src
        if origin not in (src, self.rt.node):
            raise ProtocolViolation("CreateErr for a request of a node not on this link")
        req = next((r for r in end.requests if r.request_id == err.request_id and r.origin == origin), None)
        if req is None:
            return
        self._remove(end, req)
        self._refresh(end)
        if origin == self.rt.node:
            self._error(end, req.request_id, req.purpose_id, err.error, err.detail)

    def _error(self, end: LinkEnd, request_id: int, purpose_id: int, error: int, detail: str) -> None:
        if self.upper is not None:
            self.upper.link_err(LinkErr(end.peer, end.name, request_id, purpose_id, error, detail, self.rt.node))

    def _expire_request(self, end: LinkEnd, req: _Request) -> None:
        req.timer = None
        if req in end.requests:
            self._remove(end, req)
            self._refresh(end)
            if req.origin == self.rt.node and req.delivered < req.number:
                self._error(end, req.request_id, req.purpose_id, link_pb2.TIMEOUT, "max_time reached")

    # ------------------------------------------------------------------ the midpoint heralding protocol

    def _next_request(self, end: LinkEnd) -> _Request | None:
        reqs = end.requests
        if not reqs:
            return None
        if len(reqs) == 1:
            return reqs[0]
        top = max(r.priority for r in reqs)
        best = [r for r in reqs if r.priority == top]
        end.rr += 1
        return best[end.rr % len(best)]

    def _signal(self, end: LinkEnd, i: int) -> None:
        """Position pair ``i`` is free here: emit for a request (the first end chooses it)."""
        if not end.requests:
            return
        end.signalled[i] = True
        end.free[i] = False
        if end.side == 0:
            req = self._next_request(end)
            end.station.ready(0, i, req.request_id, req.model)  # type: ignore[union-attr]
        else:
            end.station.ready(1, i)

    def _refresh(self, end: LinkEnd) -> None:
        """The requests changed: withdraw idle emitters, or (first end) re-choose their request."""
        for i in range(len(end.positions)):
            if end.signalled[i]:
                if not end.requests:
                    end.station.withdraw(end.side, i)
                    end.signalled[i] = False
                    end.free[i] = True
                elif end.side == 0:
                    req = self._next_request(end)
                    end.station.ready(0, i, req.request_id, req.model)  # type: ignore[union-attr]

    def _on_herald(self, src: str, herald: Any) -> None:
        pid = herald.pair
        seq = pid.seq
        end = self.by_link.get(pid.link)
        if end is None or src != end.station_node:
            raise ProtocolViolation("herald for an unknown link")
        taken = end.station.take(end.side, seq)
        if taken is None:
            return
        qubit, i = taken
        signalled = end.signalled
        if not signalled[i] and not end.free[i]:
            # the upper layer still holds a pair on this position pair: no attempt of this end's
            # can have heralded here (a stale or injected herald); the station's qubit is lost
            from qstack.quantum.core import discard

            discard(qubit)
            raise ProtocolViolation("herald for a position pair whose memory holds a pair")
        signalled[i] = False
        end.free[i] = False  # held now (also when this end had withdrawn it before the herald came)
        rt = self.rt
        position = end.positions[i]
        t_emit = herald.emission_time
        rt.memory.store(qubit, rt.now, position, t_emit)
        req = end.by_request.get(herald.request_id)
        if req is None or req.delivered >= req.number:
            # not a request this end knows, or one already served in full (attempts were under
            # way on other position pairs when its last pair came): the pair is lost here — both
            # ends see the heralds in the same order, so both drop the same pairs
            from qstack.quantum.core import discard

            rt.memory.clear(position)
            discard(qubit)
            end.free[i] = True
            self._signal(end, i)
            if self.upper is not None:
                self.upper.link_expire(LinkExpire(end.name, seq, 0, "no such request at this end" if req is None
                                                  else "request already served"))
            return
        delivered = req.delivered = req.delivered + 1
        if delivered >= req.number and req in end.requests:
            self._remove(end, req)
            self._refresh(end)
        # LinkOK(...) through tuple.__new__: the named tuple's own __new__ is a Python function
        ok = _new_tuple(LinkOK, (end.name, seq, end.peer, position, qubit, herald.bell_index, req.goodness, t_emit,
                                 req.request_id, req.purpose_id))
        if LinkOK in rt.observed:
            rt.record(ok)
        upper = self.upper
        if upper is not None:
            upper.link_ok(ok)
