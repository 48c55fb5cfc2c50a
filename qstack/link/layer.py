"""The link layer: heralded entanglement between neighbours as a service (Dahlberg et al., SIGCOMM 2019).

A :class:`Link` joins two nodes through a midpoint heralding station. Each end reserves
``positions`` memory positions for the link; position pair ``i`` (one position at each end)
attempts generation whenever both of its positions are free and some request is served.
Attempts are *sampled*: the number of attempts until success is geometric
(:func:`qstack.physical.heralding.attempts_until_success`), so a pair costs a handful of events
however lossy the link.

Service (after the paper's CREATE/OK/ERR interface):

* ``CREATE(remote, type K|M, number, min_fidelity, max_time, purpose_id, priority)`` is sent
  by the requesting end to its peer as a ``CreateRequest`` message; the peer answers
  ``CreateAck`` (the distributed queue: both ends agree before generating).
* The fidelity–rate trade-off: for single click the link picks the largest bright-state
  population ``α`` (highest rate) whose heralded fidelity meets ``min_fidelity``
  (:func:`qstack.physical.heralding.single_click_alpha_for_fidelity`), and answers
  ``UNSUPPORTED`` at once when no ``α`` can — likewise for double click when its fixed
  fidelity is too low.
* Every heralded pair is an ``OK`` to both ends' upper layers: pair id ``(link, seq)``, the
  local qubit (stored in memory at its position), the heralded Bell state, the goodness
  (the model's fidelity) and the creation time. Requests are served by priority (higher first),
  round robin among equal priorities; a request that reaches ``number`` pairs or ``max_time``
  ends (``ERR TIMEOUT`` when it timed out short of its number).

Timing: the station heralds when both photons have arrived, ``max(d_A, d_B)`` after emission,
and the herald reaches each end after that end's fibre delay. An attempt cycle is
``max(2·d_A, 2·d_B, 1/attempt_rate)`` (:meth:`HeraldingModel.for_link`). The qubits decohere in
memory from their emission time (lazily).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from qstack.physical.heralding import HeraldingModel, single_click_alpha_for_fidelity
from qstack.proto import encode
from qstack.proto.qstack.v1 import link_pb2
from qstack.quantum.core import Qubit, adopt_state

if TYPE_CHECKING:  # pragma: no cover
    from qstack.network.node import QuantumNode

__all__ = ["Link", "LinkRequest", "LinkPair", "LinkError"]

LinkError = link_pb2.LinkError


@dataclass(slots=True)
class LinkRequest:
    """A CREATE request agreed by both ends of a link."""

    request_id: int
    origin: str
    number: int
    min_fidelity: float
    priority: int
    purpose_id: int
    deadline: float
    model: HeraldingModel
    delivered: int = 0


@dataclass(slots=True)
class LinkPair:
    """One heralded pair as one end sees it (the link layer's OK)."""

    link: str
    seq: int
    qubit: Qubit
    position: int
    bell_index: int
    goodness: float
    created: float
    request_id: int
    purpose_id: int
    index: int = field(default=0)
    # Network-layer bookkeeping of the segment this qubit belongs to (nested swapping):
    far: int = -1  # route index of the node holding the other end
    far_key: tuple[str, int] | None = None  # the key by which that node knows its qubit
    frame: int = 0  # the segment's Pauli frame (Bell index)
    # Purification bookkeeping (network layer):
    coeffs: Any = None  # estimated Bell coefficients (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻) in the announced frame
    level: int = 0  # successful rounds so far
    busy: bool = False
    coordinator: bool = False
    bit: int = 0
    e2e_frame: int = 0


class Link:
    """A heralded link between ``node_a`` and ``node_b`` with ``positions`` position pairs.

    ``base_model`` carries the hardware (η per arm, dark counts, cycle time); requests refine
    it (``α`` for single click). ``raw_fidelity`` depolarises every heralded state so that a
    perfect pair would have that fidelity (emitter imperfections).
    """

    def __init__(
        self,
        name: str,
        node_a: QuantumNode,
        node_b: QuantumNode,
        station: Any,
        base_model: HeraldingModel,
        positions: int,
        delay_a: float,
        delay_b: float,
        rng: np.random.Generator,
        fixed_alpha: float | None = None,
        raw_fidelity: float = 1.0,
    ) -> None:
        self.name = name
        self.a, self.b = node_a, node_b
        self.station = station
        self.base_model = base_model
        self.positions = positions
        self.delay_a, self.delay_b = delay_a, delay_b
        self.rng = rng
        self.fixed_alpha = fixed_alpha
        if not 0.25 <= raw_fidelity <= 1.0:
            raise ValueError(f"raw_fidelity must be in [0.25, 1], got {raw_fidelity}")
        #: Werner parameter of the emitters' raw-fidelity depolarisation (1: none)
        self.raw_w = (4.0 * raw_fidelity - 1.0) / 3.0
        self.sim = node_a.sim
        self.pos_a = node_a.reserve_positions(name, positions)
        self.pos_b = node_b.reserve_positions(name, positions)
        self._free_a = [True] * positions
        self._free_b = [True] * positions
        self._busy = [False] * positions
        self._seq = 0
        self._pending: dict[int, tuple[Qubit, Qubit, float, int, LinkRequest, int]] = {}
        self.requests: list[LinkRequest] = []
        self._rr = 0
        self.pairs_generated = 0
        self.attempts = 0
        self._states: dict[HeraldingModel, Any] = {}

    # ---------------------------------------------------------------- requests

    def model_for(self, min_fidelity: float) -> HeraldingModel | None:
        """The heralding model that meets ``min_fidelity`` at the highest rate, or None."""
        m = self.base_model
        w = self.raw_w
        # The raw channel depolarises: F_out = w·F + (1 − w)/4, so the heralded state needs
        # F ≥ (F_min − (1 − w)/4)/w.
        heralded_min = (min_fidelity - (1 - w) / 4) / w
        if heralded_min > 1.0:
            return None
        if m.scheme == "single_click":
            alpha = self.fixed_alpha
            if alpha is None:
                alpha = single_click_alpha_for_fidelity(
                    max(heralded_min, 1e-6), m.eta_a, m.eta_b, m.p_dark, m.phase_std
                )
                if alpha is None:
                    return None
                alpha = min(alpha, 0.5)
            m = HeraldingModel("single_click", m.eta_a, m.eta_b, m.p_dark, alpha, m.phase_std, m.cycle_time)
        # (double click keeps its hardware model, including sequential-round timing)
        if w * m.fidelity + (1 - w) / 4 + 1e-12 < min_fidelity:
            return None
        return m

    def _depolarise(self, rho: np.ndarray) -> np.ndarray:
        """The emitters' raw-fidelity channel: ``ρ → wρ + (1 − w)I/4`` (SeQUeNCe's
        ``raw_fidelity``: a perfect pair comes out Werner with that fidelity)."""
        if self.raw_w == 1.0:
            return rho
        return self.raw_w * rho + (1.0 - self.raw_w) / 4.0 * np.eye(4)

    def bell_coefficients(self, bell_index: int) -> list[float]:
        """Expected Bell coefficients of a heralded pair announced as ``bell_index`` (from the
        request's model and the raw-fidelity channel), used by purification planning."""
        from qstack.quantum.states import BELL_KETS_NP

        req = self.requests[0] if self.requests else None
        model = req.model if req is not None else self.base_model
        for k, state in model.outcomes():
            if k == bell_index:
                rho = state / float(np.trace(state).real)
                rho = self._depolarise(rho)
                return [float(np.real(b.conj() @ rho @ b)) for b in BELL_KETS_NP]
        raise ValueError(f"bell_index {bell_index} is not a heralded outcome of link {self.name}")

    def other(self, node_name: str) -> QuantumNode:
        """The node at the other end from ``node_name``."""
        return self.b if node_name == self.a.name else self.a

    def add_request(self, req: LinkRequest) -> None:
        """Start serving an agreed request (called when the CreateAck arrives)."""
        self.requests.append(req)
        if req.deadline < math.inf:
            self.sim.call_at(req.deadline, self._expire_request, req)
        for i in range(self.positions):
            self._maybe_start(i)

    def remove_request(self, request_id: int) -> None:
        """Stop serving a request (path tear-down)."""
        self.requests = [r for r in self.requests if r.request_id != request_id]

    def _expire_request(self, req: LinkRequest) -> None:
        if req in self.requests:
            self.requests.remove(req)
            if req.delivered < req.number:
                node = self.a if req.origin == self.a.name else self.b
                node.link_error(self.name, req.request_id, link_pb2.TIMEOUT, "max_time reached")

    def _next_request(self) -> LinkRequest | None:
        reqs = self.requests
        if not reqs:
            return None
        if len(reqs) == 1:
            return reqs[0]
        top = max(r.priority for r in reqs)
        best = [r for r in reqs if r.priority == top]
        self._rr += 1
        return best[self._rr % len(best)]

    # ---------------------------------------------------------------- generation

    def release(self, node_name: str, index: int) -> None:
        """An end freed its position of pair ``index``; restart attempts when both are free."""
        if node_name == self.a.name:
            self._free_a[index] = True
        else:
            self._free_b[index] = True
        self._maybe_start(index)

    def _maybe_start(self, i: int) -> None:
        if self._busy[i] or not (self._free_a[i] and self._free_b[i]):
            return
        req = self._next_request()
        if req is None:
            return
        self._busy[i] = True
        self._free_a[i] = self._free_b[i] = False
        model = req.model
        p = model.success_probability
        rng = self.rng
        n = int(rng.geometric(p)) if p < 1.0 else 1
        self.attempts += n
        period = model.round_period
        if period:
            # Sequential Barrett–Kok rounds: a failed attempt lasts one round if round 1 did not
            # herald, two if it did (probability (P1 − p)/(1 − p) given failure); sampled at once.
            q = (model.first_round_probability - p) / (1.0 - p) if p < 1.0 else 0.0
            m = int(rng.binomial(n - 1, min(max(q, 0.0), 1.0))) if n > 1 else 0
            t_emit = self.sim.now + (n - 1 + m) * period  # round 1 of the successful attempt
            t_station = t_emit + period + max(self.delay_a, self.delay_b)
        else:
            t_emit = self.sim.now + (n - 1) * model.cycle_time
            t_station = t_emit + max(self.delay_a, self.delay_b)
        self.sim.call_at(t_station, self._herald, i, req, t_emit, n)

    def _heralded_states(self, model: HeraldingModel) -> tuple[float, tuple[int, np.ndarray], tuple[int, np.ndarray]]:
        """(P(first outcome | herald), and per outcome its Bell index and normalised state after
        the raw-fidelity channel), cached per model."""
        cached = self._states.get(model)
        if cached is None:
            p0, p1 = model.outcome_probabilities
            outs = []
            for (bell, state), p in zip(model.outcomes(), (p0, p1), strict=True):
                rho = (state / p).astype(complex)
                rho = self._depolarise(rho)
                rho.setflags(write=False)
                outs.append((bell, rho))
            cached = self._states[model] = (p0 / (p0 + p1), outs[0], outs[1])
        return cached

    def _herald(self, i: int, req: LinkRequest, t_emit: float, attempts: int) -> None:
        first, out0, out1 = self._heralded_states(req.model)
        bell, rho = out0 if self.rng.random() < first else out1
        qa, qb = adopt_state(rho.copy())
        seq = self._seq
        self._seq += 1
        self.pairs_generated += 1
        self._busy[i] = False
        self._pending[seq] = (qa, qb, t_emit, bell, req, i)
        herald = link_pb2.Herald(bell_index=bell, attempts=attempts, emission_time=t_emit)
        herald.pair.link = self.name
        herald.pair.seq = seq
        msg = encode(herald, check=False)  # the nodes validate every message they receive
        self.station.send(self.a.name, msg)
        self.station.send(self.b.name, msg)

    def take(self, node: QuantumNode, herald: Any) -> LinkPair | None:
        """The end ``node`` takes its qubit of the heralded pair into memory (on the Herald)."""
        seq = herald.pair.seq
        entry = self._pending.get(seq)
        if entry is None:
            return None
        qa, qb, t_emit, bell, req, i = entry
        at_a = node is self.a
        q = qa if at_a else qb
        pos = (self.pos_a if at_a else self.pos_b)[i]
        node.memory.store(q, self.sim.now, pos, since=t_emit)
        if at_a:
            self._pending[seq] = (None, qb, t_emit, bell, req, i)  # type: ignore[assignment]
        else:
            self._pending[seq] = (qa, None, t_emit, bell, req, i)  # type: ignore[assignment]
        if (qa is None) or (qb is None):
            del self._pending[seq]
            req.delivered += 1
            if req.delivered >= req.number and req in self.requests:
                self.requests.remove(req)
        return LinkPair(self.name, seq, q, pos, bell, req.model.fidelity, t_emit, req.request_id, req.purpose_id, i)
