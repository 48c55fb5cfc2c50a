"""The transport layer: EPR sockets and qubit delivery by teleportation.

In the vocabulary of NetQASM/SquidASM (``EPRSocket.create_keep``, ``recv_keep``,
``create_measure``, ``recv_measure``): an application role asks for end-to-end pairs with a
peer role; the transport sets up a flow through the network layer (path set-up, link
generation, swaps, TRACK) and hands each end its qubit when the pair is delivered — the tail
when the TRACK arrives, the head when the EndToEndConfirm does. The tail applies the Pauli
correction of the announced Bell state, so every kept pair is delivered as Φ⁺; measured pairs
are reported as outcomes already corrected to Φ⁺'s correlations.

A delivered qubit stays in its memory position (decohering lazily) until the application
measures or discards it; then the position is freed and the link may generate again.

Teleportation (Bennett et al., PRL 70, 1895 (1993)): :meth:`Transport.send_qubit` makes a pair
with the receiver, does a Bell-state measurement of the qubit and its half (with the node's
gate and readout noise), and sends the outcome as a ``TeleportRecord``; the receiver applies
``CORRECTIONS[outcome]``. With a Werner resource of fidelity F the average fidelity is
``(2F + 1)/3``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qstack.link.layer import LinkPair
from qstack.network.network import basis_kets, expected_parity
from qstack.quantum.core import Qubit, discard, operate
from qstack.quantum.operations import CORRECTIONS
from qstack.sim import Mailbox

if TYPE_CHECKING:  # pragma: no cover
    from qstack.network.network import QuantumNetwork
    from qstack.network.node import Delivery, Flow, QuantumNode

__all__ = ["AppQubit", "Transport", "EPRSocket"]


class AppQubit:
    """A qubit an application holds: local, or a delivered half of a pair in a memory position.

    Before every operation the transport brings it up to date with the memory's decoherence
    (:meth:`touch`); measuring or discarding it frees its memory position.
    """

    __slots__ = ("node", "qubit", "pair")

    def __init__(self, node: QuantumNode, qubit: Qubit, pair: LinkPair | None = None):
        self.node = node
        self.qubit = qubit
        self.pair = pair

    def touch(self) -> Qubit:
        """The underlying qubit with its memory decoherence applied up to now."""
        if self.pair is not None:
            return self.node.memory.peek(self.pair.position, self.node.sim.now)
        return self.qubit

    def release(self) -> None:
        """Free the memory position (after the qubit was measured or discarded)."""
        pair = self.pair
        if pair is not None:
            self.node.memory.clear(pair.position)
            self.node.network.links[pair.link].release(self.node.name, pair.index)
            self.pair = None

    def __repr__(self) -> str:
        where = f"position {self.pair.position}" if self.pair is not None else "local"
        return f"AppQubit({self.node.name}, {where}, {'alive' if self.qubit.alive else self.qubit.fate})"


@dataclass
class _Request:
    creator: str  # role
    receiver: str  # role
    number: int
    min_fidelity: float
    basis: str | None  # None: keep
    bases: tuple[tuple, tuple] | None = None  # per-side basis lists (creator, receiver)
    creator_at_once: bool = False  # the creator Bell-measures its half as it is heralded


class Transport:
    """End-to-end services for the roles of one application session on a network."""

    def __init__(self, network: QuantumNetwork, session: int, nodes_of_roles: dict[str, str]):
        self.network = network
        self.sim = network.sim
        self.session = session
        self.node_of = dict(nodes_of_roles)
        self.role_of = {n: r for r, n in nodes_of_roles.items()}
        # (creator role, receiver role, side) -> Mailbox of AppQubit or outcome
        self._boxes: dict[tuple[str, str, str], Mailbox] = {}
        self._flows: dict[int, _Request] = {}
        self._head_outcomes: dict[tuple[int, tuple[str, int]], int] = {}
        self._teleports: dict[tuple[str, str], Mailbox] = defaultdict(lambda: Mailbox(self.sim))
        self._transfer_ids: dict[tuple[str, str], int] = defaultdict(int)

    def box(self, creator: str, receiver: str, side: str) -> Mailbox:
        """The mailbox where ``side`` (``"creator"``/``"receiver"``) gets its pairs."""
        key = (creator, receiver, side)
        if key not in self._boxes:
            self._boxes[key] = Mailbox(self.sim, name=f"epr {creator}->{receiver} {side}")
        return self._boxes[key]

    # ------------------------------------------------------------------ requests

    def request_pairs(self, creator: str, receiver: str, number: int, min_fidelity: float,
                      basis: str | None, bases: tuple[tuple, tuple] | None = None,
                      creator_at_once: bool = False) -> None:
        """Set up a flow from ``creator``'s node to ``receiver``'s for ``number`` pairs."""
        from qstack.scenario import RequestSpec

        if min_fidelity > 0.0 and basis is None:
            route = self.network.route(self.node_of[creator], self.node_of[receiver])
            fresh = self.network.estimated_fidelity(route, 0.0)
            if fresh < min_fidelity:
                raise ValueError(
                    f"min_fidelity {min_fidelity:g} cannot be met between {creator!r} and {receiver!r}: "
                    f"pairs on route {'–'.join(route)} are expected at fidelity {fresh:.4f} when fresh"
                )
        spec = RequestSpec(
            source=self.node_of[creator], destination=self.node_of[receiver], pairs=number,
            min_fidelity=min_fidelity, type="keep" if basis is None else "measure", basis=basis,
        )
        result = self.network.request(spec)
        self._flows[result.flow_id] = _Request(creator, receiver, number, min_fidelity, basis, bases,
                                               creator_at_once)
        self.network.consumers[result.flow_id] = self

    def fidelity_floor(self, flow_id: int) -> float:
        """The kept pairs' fidelity floor of a flow (0: none). Pairs estimated below it at
        delivery are dropped and the flow delivers another (retry)."""
        req = self._flows.get(flow_id)
        return req.min_fidelity if req is not None and req.basis is None else 0.0

    def creator_measures_at_once(self, flow_id: int) -> bool:
        """Whether the creator uses its half the moment it is heralded (stores nothing)."""
        req = self._flows.get(flow_id)
        return req is not None and req.creator_at_once

    def measurement_bases(self, flow_id: int) -> tuple[tuple, tuple] | None:
        """Per-side basis lists of a measured flow (creator's, receiver's), or None."""
        req = self._flows.get(flow_id)
        return None if req is None else req.bases

    # ------------------------------------------------------------------ network callbacks

    def tail_ready(self, node: QuantumNode, flow: Flow, pair: LinkPair, delivery: Delivery) -> bool:
        """The receiver's end of a pair was delivered; return True when the transport took it."""
        req = self._flows.get(flow.flow_id)
        if req is None:
            return False
        box = self.box(req.creator, req.receiver, "receiver")
        if req.basis is None:
            q = node.memory.peek(pair.position, self.sim.now)
            if delivery.frame:
                operate([q], CORRECTIONS[delivery.frame])  # the tail makes the pair Φ⁺
            box.put(AppQubit(node, q, pair))
        elif req.bases is not None:  # outcomes already follow Φ⁺ (the tail corrected the frame)
            m_head, m_tail = delivery.outcomes or (0, 0)
            i, j = delivery.bases or (0, 0)
            self._head_outcomes[(flow.flow_id, delivery.head_pair)] = (m_head, i)
            box.put((m_tail, j))
        else:
            m_head, m_tail = delivery.outcomes or (0, 0)
            flip = expected_parity(delivery.frame, req.basis) ^ expected_parity(0, req.basis)
            self._head_outcomes[(flow.flow_id, delivery.head_pair)] = m_head
            box.put(m_tail ^ flip)
        return True

    def head_ready(self, node: QuantumNode, flow: Flow, pair: LinkPair) -> bool:
        """The creator's end learned of its pair (EndToEndConfirm); return True when taken."""
        req = self._flows.get(flow.flow_id)
        if req is None:
            return False
        box = self.box(req.creator, req.receiver, "creator")
        if req.basis is None:
            box.put(AppQubit(node, pair.qubit, pair))
        else:
            key = (flow.flow_id, (pair.link, pair.seq))
            box.put(self._head_outcomes.pop(key, 0))
            node._drop(node.network.links[pair.link], pair)  # noqa: SLF001 - measured: free it
        return True

    # ------------------------------------------------------------------ teleportation

    def record_teleport(self, from_role: str, to_role: str, outcome: int) -> None:
        """A TeleportRecord arrived for ``to_role``."""
        self._teleports[(from_role, to_role)].put(outcome)

    def next_transfer_id(self, from_role: str, to_role: str) -> int:
        self._transfer_ids[(from_role, to_role)] += 1
        return self._transfer_ids[(from_role, to_role)]

    def teleports(self, from_role: str, to_role: str) -> Mailbox:
        return self._teleports[(from_role, to_role)]


class EPRSocket:
    """An EPR socket between this role and ``peer`` (NetQASM's vocabulary).

    ``create_*`` is called by one side (the creator) and ``recv_*`` by the other with the
    same ``number``; each returns ``number`` pairs' halves (kept qubits, or measurement
    outcomes corrected to Φ⁺'s correlations).
    """

    def __init__(self, ctx: Any, peer: str):
        self.ctx = ctx
        self.peer = peer

    async def create_keep(self, number: int = 1, min_fidelity: float = 0.0, timeout: float | None = None) -> list:
        """Create ``number`` pairs with ``peer`` and keep this side's qubits (needs stage 3).

        ``min_fidelity`` is a floor: the links get a fidelity budget, a pair whose estimated
        fidelity (links and the end memories' decay over its age) is below the floor at
        delivery is dropped and another made, and a floor that even fresh pairs cannot reach
        is refused at once with a ValueError."""
        self.ctx._require_keep("create_keep")
        return await self._create(number, min_fidelity, None, timeout)

    async def recv_keep(self, number: int = 1, timeout: float | None = None) -> list:
        """Receive ``number`` pairs created by ``peer``; keep this side's qubits (stage 3)."""
        self.ctx._require_keep("recv_keep")
        return await self._recv(number, timeout)

    async def create_measure(self, number: int = 1, basis: str = "Z", min_fidelity: float = 0.0,
                             timeout: float | None = None, *, bases: Sequence | None = None,
                             remote_bases: Sequence | None = None) -> list:
        """Create ``number`` pairs with ``peer``, both sides measuring at once (stage 2: nothing
        is stored). With ``basis`` both measure in ``"Z"``, ``"X"`` or ``"Y"`` and get outcomes
        corrected to Φ⁺'s correlations. With ``bases``/``remote_bases`` (NetQASM's
        ``random_basis_local``/``random_basis_remote``) each side's device draws its basis
        uniformly from its own list — ``"Z"``, ``"X"``, ``"Y"`` or angles in the X–Z plane —
        and each side gets ``(outcome, basis index)`` pairs."""
        both = None
        if bases is not None or remote_bases is not None:
            local = tuple(bases or ("Z",))
            remote = tuple(remote_bases or ("Z",))
            for b in local + remote:
                basis_kets(b)  # validates
            both = (local, remote)
        return await self._create(number, min_fidelity, basis, timeout, both)

    async def recv_measure(self, number: int = 1, timeout: float | None = None) -> list:
        """Receive the outcomes of ``number`` measured pairs created by ``peer`` (with the
        bases the creator asked this side to draw from, ``(outcome, basis index)`` pairs)."""
        return await self._recv(number, timeout)

    async def _create(self, number: int, min_fidelity: float, basis: str | None, timeout: float | None,
                      bases: tuple[tuple, tuple] | None = None, at_once: bool = False) -> list:
        if not (isinstance(number, int) and number >= 1):
            raise ValueError(f"number must be an int >= 1, got {number!r}")
        if basis is not None and basis not in ("Z", "X", "Y"):
            raise ValueError(f"basis must be 'Z', 'X' or 'Y', got {basis!r}")
        if not 0.0 <= min_fidelity <= 1.0:
            raise ValueError(f"min_fidelity must be in [0, 1], got {min_fidelity}")
        transport = self.ctx.transport
        transport.request_pairs(self.ctx.role, self.peer, number, min_fidelity, basis, bases, at_once)
        return await _take(transport.box(self.ctx.role, self.peer, "creator"), number, timeout, self.ctx.sim)

    async def _recv(self, number: int, timeout: float | None) -> list:
        if not (isinstance(number, int) and number >= 1):
            raise ValueError(f"number must be an int >= 1, got {number!r}")
        transport = self.ctx.transport
        return await _take(transport.box(self.peer, self.ctx.role, "receiver"), number, timeout, self.ctx.sim)


async def _take(box: Mailbox, number: int, timeout: float | None, sim: Any) -> list:
    out = []
    deadline = math.inf if timeout is None else sim.now + timeout
    for _ in range(number):
        left = None if timeout is None else max(deadline - sim.now, 0.0)
        out.append(await box.get(timeout=left))
    return out


def discard_app_qubit(q: AppQubit) -> None:
    """Discard an application qubit and free its memory position."""
    if q.qubit.alive:
        discard(q.qubit)
    q.release()
