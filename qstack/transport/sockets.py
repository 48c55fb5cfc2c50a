"""The transport layer: EPR sockets and qubit delivery by teleportation, one per node.

In the vocabulary of NetQASM/SquidASM (``EPRSocket.create_keep``, ``recv_keep``,
``create_measure``, ``recv_measure``): an application role asks for end-to-end pairs with a
peer role; its node's :class:`TransportLayer` asks the network layer for a flow whose
``purpose`` (an ``EprPurpose`` message: session, roles, keep or measure, bases) travels with the
path set-up, so the peer's transport knows which socket each delivered pair belongs to. The tail
(receiver) applies the Pauli correction of the announced Bell state, so every kept pair is
delivered as Φ⁺; measured pairs are reported as outcomes already corrected to Φ⁺'s correlations.
Each side measures its own qubit; nothing reaches across nodes but messages.

Contracts checked at run time: a receiver whose ``recv_keep``/``recv_measure`` does not match
the creator's ``create_*`` (keep vs measure, or the number of pairs) fails at both ends with a
:class:`EPRMismatch` naming both calls (the receiver stops the flow; the creator learns it from
the tear-down).

A delivered qubit stays in its memory position (decohering lazily) until the application
measures or discards it; then the position is freed and the link may generate again.

Teleportation (Bennett et al., PRL 70, 1895 (1993)): the sender Bell-measures the qubit and its
half of a pair and sends the outcome as a ``TeleportRecord``; the receiver applies
``CORRECTIONS[outcome]``. With a Werner resource of fidelity F the average fidelity is
``(2F + 1)/3``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qstack.network.service import FlowInfo, NetDeliver, NetFail, NetRequest
from qstack.proto.qstack.v1 import app_pb2
from qstack.quantum.core import Qubit, discard, measure, operate
from qstack.quantum.operations import CORRECTIONS
from qstack.runtime import Layer, ProtocolViolation

__all__ = ["AppQubit", "TransportLayer", "EPRSocket", "EPRMismatch", "PairInfo", "purpose_head_at_once",
           "discard_app_qubit", "basis_kets", "expected_parity"]


class EPRMismatch(RuntimeError):
    """The two sides of an EPR socket asked for different things (keep vs measure, count)."""


@dataclass(frozen=True, slots=True)
class PairInfo:
    """What a kept pair's end learns with it: its Bell state before correction (``frame``),
    the end nodes' fidelity estimate now, and the emission time of the older of its two end
    link pairs (:attr:`qstack.network.service.NetDeliver.created`)."""

    frame: int
    fidelity_estimate: float
    created: float


def basis_kets(basis: str | float) -> Any:
    """See :func:`qstack.network.network.basis_kets` (a basis name or an X–Z angle)."""
    import math as _m

    import numpy as np

    if isinstance(basis, str):
        if basis not in ("Z", "X", "Y"):
            raise ValueError(f"basis must be 'Z', 'X', 'Y' or an angle in radians, got {basis!r}")
        return basis
    theta = float(basis)
    if not _m.isfinite(theta):
        raise ValueError(f"basis angle must be finite, got {basis!r}")
    c, s = _m.cos(theta / 2), _m.sin(theta / 2)
    return [np.array([c, s], dtype=complex), np.array([-s, c], dtype=complex)]


def expected_parity(frame: int, basis: str) -> int:
    """Parity of ideal outcomes on Bell state ``frame`` measured in ``basis`` on both sides.

    >>> [expected_parity(f, "Z") for f in range(4)]
    [0, 0, 1, 1]
    """
    x, z = frame >> 1, frame & 1
    return {"Z": x, "X": z, "Y": 1 ^ x ^ z}[basis]


def _basis_text(b: str | float) -> str:
    return b if isinstance(b, str) else repr(float(b))


def _basis_value(text: str) -> str | float:
    return text if text in ("Z", "X", "Y") else float(text)


def purpose_head_at_once(purpose: bytes) -> bool:
    """Whether a flow's creator uses its half as it is heralded (an observer's question)."""
    if not purpose:
        return False
    p = app_pb2.EprPurpose()
    try:
        p.ParseFromString(purpose)
    except Exception:  # noqa: BLE001 - not a transport purpose
        return False
    return p.creator_at_once


class AppQubit:
    """A qubit an application holds: local, or a delivered half of a pair in a memory position.

    Before every operation the transport brings it up to date with the memory's decoherence
    (:meth:`touch`); measuring or discarding it frees its memory position.
    """

    __slots__ = ("node", "qubit", "pair", "position", "info", "owner")

    def __init__(self, node: TransportLayer, qubit: Qubit, pair: NetDeliver | None = None,
                 position: int | None = None, info: PairInfo | None = None):
        self.node = node
        self.qubit = qubit
        self.pair = pair
        self.position = pair.position if pair is not None else position
        self.info = info
        self.owner: Any = None  # the role context counting it (kept pair halves)

    def touch(self) -> Qubit:
        """The underlying qubit with its memory decoherence applied up to now."""
        if self.position is not None:
            return self.node.memory.peek(self.position, self.node.rt.now)
        return self.qubit

    def release(self) -> None:
        """Free the memory position (after the qubit was measured or discarded)."""
        if self.owner is not None:
            self.owner.held -= 1
            self.owner = None
        if self.pair is not None:
            self.node.network.release(self.pair)
            self.pair = None
        elif self.position is not None:
            self.node.free_local(self.position)
        self.position = None

    def __repr__(self) -> str:
        where = f"position {self.position}" if self.position is not None else "local"
        return f"AppQubit({self.node.name}, {where}, {'alive' if self.qubit.alive else self.qubit.fate})"


class TransportLayer(Layer):
    """The transport layer of one node for one application session (``node_of``: role → node)."""

    layer = "transport"

    def __init__(self, runtime: Any, network: Any, session: int, node_of: dict[str, str]) -> None:
        self.rt = runtime
        self.name = runtime.node
        self.memory = runtime.memory
        self.network = network
        self.session = session
        self.node_of = dict(node_of)
        self.rng = network.rng
        self._boxes: dict[tuple[str, str, str], Any] = {}
        self._purposes: dict[int, Any] = {}
        self._expect: dict[tuple[str, str], tuple[bool, int]] = {}
        self._teleports: dict[tuple[str, str], Any] = {}
        self._transfer_ids: dict[tuple[str, str], int] = {}
        self._inboxes: dict[tuple[str, str], Any] = {}
        self._local_free: list[int] | None = None
        self._local_all: list[int] = []

    def handlers(self) -> dict[type, Any]:
        return {app_pb2.AppMessage: self._on_app_message, app_pb2.TeleportRecord: self._on_teleport}

    # ------------------------------------------------------------------ mailboxes

    def box(self, creator: str, receiver: str, side: str) -> Any:
        """The mailbox where ``side`` (``"creator"``/``"receiver"``) gets its pairs."""
        key = (creator, receiver, side)
        if key not in self._boxes:
            self._boxes[key] = self.rt.mailbox(f"epr {creator}->{receiver} {side}")
        return self._boxes[key]

    def inbox(self, to_role: str, from_role: str) -> Any:
        key = (to_role, from_role)
        if key not in self._inboxes:
            self._inboxes[key] = self.rt.mailbox(f"{from_role}->{to_role}")
        return self._inboxes[key]

    def teleports(self, from_role: str, to_role: str) -> Any:
        key = (from_role, to_role)
        if key not in self._teleports:
            self._teleports[key] = self.rt.mailbox(f"teleport {from_role}->{to_role}")
        return self._teleports[key]

    def next_transfer_id(self, from_role: str, to_role: str) -> int:
        key = (from_role, to_role)
        self._transfer_ids[key] = self._transfer_ids.get(key, 0) + 1
        return self._transfer_ids[key]

    @property
    def local_positions(self) -> list[int]:
        """The memory positions set aside for the application's local qubits at this node."""
        if self._local_free is None:  # the node's positions that no link end of its link layer owns
            used = {p for end in self.network.link.ends.values() for p in end.positions}
            self._local_all = [p for p in range(self.memory.num_positions) if p not in used]
            self._local_free = list(self._local_all)
        return self._local_all

    def alloc_local(self, qubit: Qubit) -> int | None:
        """Store a fresh local qubit in a free processor position (None: none free)."""
        self.local_positions  # noqa: B018 - initialises the free list
        if not self._local_free:
            return None
        position = self._local_free.pop(0)
        self.memory.store(qubit, self.rt.now, position)
        return position

    def free_local(self, position: int) -> None:
        self.memory.clear(position)
        if self._local_free is not None and position in self._local_all and position not in self._local_free:
            self._local_free.append(position)
            self._local_free.sort()

    # ------------------------------------------------------------------ requests

    def request_pairs(self, creator: str, receiver: str, number: int, min_fidelity: float, basis: str | None,
                      bases: tuple[tuple, tuple] | None = None, creator_at_once: bool = False) -> int:
        """Ask the network for ``number`` pairs from ``creator``'s node (here) to ``receiver``'s."""
        dest = self.node_of[receiver]
        req0 = NetRequest(self.name, dest)
        route = self.network.route(req0)
        if min_fidelity > 0.0 and basis is None:
            fresh = self.network.topology.estimated_fidelity(route, 0.0)
            if fresh < min_fidelity:
                raise ValueError(
                    f"min_fidelity {min_fidelity:g} cannot be met between {creator!r} and {receiver!r}: "
                    f"pairs on route {'–'.join(route)} are expected at fidelity {fresh:.4f} when fresh")
        purpose = app_pb2.EprPurpose(session=self.session, creator_role=creator, receiver_role=receiver,
                                     measure=basis is not None, basis=basis or "", creator_at_once=creator_at_once,
                                     number=number)
        if bases is not None:
            purpose.creator_bases.extend(_basis_text(b) for b in bases[0])
            purpose.receiver_bases.extend(_basis_text(b) for b in bases[1])
        req = NetRequest(self.name, dest, pairs=number, min_fidelity=min_fidelity,
                         floor=min_fidelity if basis is None else 0.0,
                         type="keep" if basis is None else "measure", basis=basis or "Z",
                         purpose=purpose.SerializeToString())
        fid = self.network.request(req)
        self._purposes[fid] = purpose
        return fid

    def expect(self, creator: str, receiver: str, measure: bool, number: int) -> None:
        """The receiver role called ``recv_*``: remember it to check against the creator's call."""
        self._expect[(creator, receiver)] = (measure, number)

    # ------------------------------------------------------------------ network indications

    def _purpose(self, flow: FlowInfo) -> Any:
        p = self._purposes.get(flow.flow_id)
        if p is None and flow.purpose:
            p = app_pb2.EprPurpose()
            try:
                p.ParseFromString(flow.purpose)
            except Exception as exc:  # noqa: BLE001
                raise ProtocolViolation("flow purpose is not an EprPurpose") from exc
            if p.session != self.session:
                return None
            self._purposes[flow.flow_id] = p
        return p

    def flow_started(self, flow: FlowInfo, end: str) -> None:
        if end != "tail":
            return
        p = self._purpose(flow)
        if p is None:
            return
        want = self._expect.get((p.creator_role, p.receiver_role))
        if want is not None and (want[0] != p.measure or want[1] != p.number):
            mine = f"{'recv_measure' if want[0] else 'recv_keep'}({want[1]})"
            theirs = f"{'create_measure' if p.measure else 'create_keep'}({p.number})"
            reason = (f"EPR socket mismatch: role {p.receiver_role!r} called {mine} but role {p.creator_role!r} "
                      f"called {theirs}")
            self.box(p.creator_role, p.receiver_role, "receiver").put(EPRMismatch(reason))
            self.network.stop(flow.flow_id, reason)

    def flow_failed(self, f: NetFail) -> None:
        p = self._purposes.get(f.flow_id)
        if p is None:
            return
        side = "creator" if self.node_of.get(p.creator_role) == self.name else "receiver"
        exc = EPRMismatch(f.reason) if f.reason.startswith("EPR socket mismatch") else \
            RuntimeError(f"EPR pairs {p.creator_role}->{p.receiver_role} failed: {f.reason}")
        self.box(p.creator_role, p.receiver_role, side).put(exc)

    def deliver(self, d: NetDeliver) -> None:
        p = self._purpose(d.flow)
        if p is None:  # not this session's: consume it
            if d.qubit.alive:
                discard(d.qubit)
            self.network.release(d)
            return
        noise = self.memory.gate_noise
        if d.end == "tail":
            box = self.box(p.creator_role, p.receiver_role, "receiver")
            if not p.measure:
                q = self.memory.peek(d.position, self.rt.now)
                if d.frame:
                    operate([q], CORRECTIONS[d.frame])  # the tail makes the pair Φ⁺
                est = self.network.topology.estimated_fidelity(d.flow.route, self.rt.now - d.created)
                box.put(AppQubit(self, q, d, info=PairInfo(d.frame, est, d.created)))
                return
            if p.receiver_bases:  # each side draws its basis; the tail corrects the frame first
                if d.frame:
                    operate([d.qubit], CORRECTIONS[d.frame])
                bl = [_basis_value(b) for b in p.receiver_bases]
                j = int(self.rng.integers(len(bl))) if len(bl) > 1 else 0
                m = measure(d.qubit, basis_kets(bl[j]), self.rng, noise)
                box.put((m, j))
            else:
                m = measure(d.qubit, p.basis, self.rng, noise)
                box.put(m ^ expected_parity(d.frame, p.basis) ^ expected_parity(0, p.basis))
            self.network.release(d)
            return
        box = self.box(p.creator_role, p.receiver_role, "creator")
        if not p.measure:
            est = self.network.topology.estimated_fidelity(d.flow.route, self.rt.now - d.created)
            box.put(AppQubit(self, d.qubit, d, info=PairInfo(d.frame, est, d.created)))
            return
        if p.creator_bases:
            bl = [_basis_value(b) for b in p.creator_bases]
            i = int(self.rng.integers(len(bl))) if len(bl) > 1 else 0
            m = measure(d.qubit, basis_kets(bl[i]), self.rng, noise) if d.qubit.alive else 0
            box.put((m, i))
        else:
            box.put(measure(d.qubit, p.basis, self.rng, noise) if d.qubit.alive else 0)
        self.network.release(d)

    # ------------------------------------------------------------------ classical messages

    def _on_app_message(self, src: str, msg: Any) -> None:
        if msg.session != self.session or self.node_of.get(msg.to_role) != self.name:
            raise ProtocolViolation("AppMessage for an unknown application session or role")
        if self.node_of.get(msg.from_role) != src:  # a role speaks only from the node it runs on
            raise ProtocolViolation("AppMessage from a node the claimed role does not run on")
        self.inbox(msg.to_role, msg.from_role).put(msg.payload)

    def _on_teleport(self, src: str, msg: Any) -> None:
        if msg.session != self.session or self.node_of.get(msg.to_role) != self.name:
            raise ProtocolViolation("TeleportRecord for an unknown application session or role")
        if self.node_of.get(msg.from_role) != src:
            raise ProtocolViolation("TeleportRecord from a node the claimed role does not run on")
        self.teleports(msg.from_role, msg.to_role).put(msg.outcome)


class EPRSocket:
    """An EPR socket between this role and ``peer`` (NetQASM's vocabulary).

    ``create_*`` is called by one side (the creator) and ``recv_*`` by the other with the
    same ``number``; each returns ``number`` pairs' halves (kept qubits, or measurement
    outcomes corrected to Φ⁺'s correlations).
    """

    def __init__(self, ctx: Any, peer: str):
        self.ctx = ctx
        self.peer = peer

    async def create_keep(self, number: int = 1, min_fidelity: float = 0.0, timeout: float | None = None, *,
                          max_time: float | None = None) -> list:
        """Create ``number`` pairs with ``peer`` and keep this side's qubits (needs stage 3).

        ``min_fidelity`` is a floor: the links get a fidelity budget, a pair whose estimated
        fidelity (links and the end memories' decay over its age) is below the floor at
        delivery is dropped and another made, and a floor that even fresh pairs cannot reach
        is refused at once with a ValueError. Each qubit's ``info`` is a :class:`PairInfo`.
        ``max_time`` (an alias of ``timeout``) bounds the wait in seconds."""
        self.ctx._require_keep("create_keep")
        return await self._create(number, min_fidelity, None, timeout if max_time is None else max_time)

    async def recv_keep(self, number: int = 1, timeout: float | None = None, *, max_time: float | None = None) -> list:
        """Receive ``number`` pairs created by ``peer``; keep this side's qubits (stage 3)."""
        self.ctx._require_keep("recv_keep")
        return await self._recv(number, timeout if max_time is None else max_time, measure=False)

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
        return await self._recv(number, timeout, measure=True)

    async def _create(self, number: int, min_fidelity: float, basis: str | None, timeout: float | None,
                      bases: tuple[tuple, tuple] | None = None, at_once: bool = False) -> list:
        if not (isinstance(number, int) and 1 <= number < 2**32):
            raise ValueError(f"number must be an int in [1, 2^32), got {number!r}")
        if basis is not None and basis not in ("Z", "X", "Y"):
            raise ValueError(f"basis must be 'Z', 'X' or 'Y', got {basis!r}")
        if not 0.0 <= min_fidelity <= 1.0:
            raise ValueError(f"min_fidelity must be in [0, 1], got {min_fidelity}")
        transport = self.ctx.transport
        if basis is None and not at_once:
            self.ctx._check_positions(number, "create_keep")
        transport.request_pairs(self.ctx.role, self.peer, number, min_fidelity, basis, bases, at_once)
        return await _take(transport.box(self.ctx.role, self.peer, "creator"), number, timeout, self.ctx,
                           hold=not at_once)

    async def _recv(self, number: int, timeout: float | None, measure: bool) -> list:
        if not (isinstance(number, int) and number >= 1):
            raise ValueError(f"number must be an int >= 1, got {number!r}")
        transport = self.ctx.transport
        if not measure:
            self.ctx._check_positions(number, "recv_keep")
        transport.expect(self.peer, self.ctx.role, measure, number)
        return await _take(transport.box(self.peer, self.ctx.role, "receiver"), number, timeout, self.ctx)


async def _take(box: Any, number: int, timeout: float | None, ctx: Any, hold: bool = True) -> list:
    out = []
    deadline = math.inf if timeout is None else ctx.now + timeout
    for _ in range(number):
        left = None if timeout is None else max(deadline - ctx.now, 0.0)
        item = await box.get(timeout=left)
        if isinstance(item, BaseException):
            raise item
        if hold and isinstance(item, AppQubit):
            ctx._hold(item)  # noqa: SLF001 - the socket's own role context
        out.append(item)
    return out


def discard_app_qubit(q: AppQubit) -> None:
    """Discard an application qubit and free its memory position."""
    if q.qubit.alive:
        discard(q.qubit)
    q.release()
