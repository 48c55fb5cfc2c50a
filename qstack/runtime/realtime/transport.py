"""Authenticated, ordered, exactly-once classical messages over TCP between qstack processes.

Every TCP connection carries length-prefixed frames::

    frame = length (4 bytes, big-endian: the bytes after it) ‖ kind (1 byte) ‖ body

**The handshake** is a challenge–response in three frames; each side proves it holds the pair's
pre-shared key over a fresh random nonce of the *other* side, so a recorded handshake never
verifies again (ISO/IEC 9798-4 three-pass mutual authentication, with HMAC-SHA256):

1. ``HELLO`` (kind 1), dialer → acceptor: ``name length (1) ‖ name ‖ nonce_d (16) ‖ incarnation_d (8)``.
2. ``WELCOME`` (kind 4), acceptor → dialer: ``name length (1) ‖ name ‖ nonce_a (16) ‖ incarnation_a (8)
   ‖ received_a (8) ‖ tag_a (16)``.
3. ``CONFIRM`` (kind 5), dialer → acceptor: ``received_d (8) ‖ tag_d (16)``.

``tag_a`` and ``tag_d`` are HMAC-SHA256 (truncated to 128 bits) under the pair's key of a label
naming the step, both names (sender first), both nonces, both incarnations (a random number per
process start) and the sender's ``received`` (how many DATA frames of the other direction it
accepted). Nothing is acted on before the other side's tag over one's own nonce verified: the
dialer acts on a WELCOME, the acceptor on a CONFIRM. A replayed HELLO only draws a WELCOME (with
a new nonce) that the replayer cannot answer; a replayed WELCOME or CONFIRM carries a stale nonce
and is refused (``bad hello``) — it can neither make a peer resend frames nor reset the pair.

* ``DATA`` (kind 2): a :class:`~qstack.runtime.auth.FrameAuth` frame (sequence number, payload,
  tag) whose payload is a protobuf ``qstack.v1.Datagram``. Each direction's frame key is derived
  from the pair's key, both names and **both incarnations**, so a frame recorded under an
  earlier incarnation of either side (whose sequence numbers restarted at 0) never verifies.
* ``ACK`` (kind 3): ``received (8) ‖ tag (16)`` — cumulative: every DATA frame before
  ``received`` arrived; tagged under the acknowledging direction's frame key (replaying an older
  ACK acknowledges nothing new).

**Ordered and exactly-once per peer.** A :class:`PeerLink` keeps each sealed frame until the peer
acknowledges it. After a reconnect both sides say in the handshake how many frames they received;
each resends exactly the unacknowledged frames after that, in order, with their original sequence
numbers, and the receiver's :class:`FrameAuth` accepts only the next sequence number — so a frame
is delivered once even when it is sent twice. Messages queued before the first handshake with a
peer wait unsealed (their key needs the peer's incarnation). A peer whose incarnation changed
(it restarted and lost its state) starts both directions afresh; the frames it never
acknowledged are counted in :attr:`PeerLink.lost`, never silently dropped, and
``on_restart(peer, lost)`` tells the endpoint's owner (the state service discards the restarted
node's qubits).

**Refused, counted, never acted on** (:attr:`Endpoint.rejected`, by reason): a frame longer than
``max_frame`` (``oversized``, and the connection is dropped before its body is read), an unknown
kind or a handshake frame that does not parse (``garbage``, connection dropped), a handshake with
a bad tag, a stale nonce or an unexpected name (``bad hello``), and DATA frames that fail
authentication (``forged``, ``replayed``, ``reordered``, ``truncated``), forged ACKs
(``forged ack``) and payloads that are not a ``Datagram`` (``undecodable``). The transport
provides integrity and authenticity, not secrecy.
"""

from __future__ import annotations

import hmac
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import trio

from qstack.proto.qstack.v1 import realtime_pb2
from qstack.runtime.auth import SEQ_BYTES, TAG_BYTES, AuthError, FrameAuth, PairKeys

__all__ = ["Endpoint", "PeerLink", "HELLO", "DATA", "ACK", "WELCOME", "CONFIRM", "DEFAULT_MAX_FRAME",
           "NONCE_BYTES", "encode_frame", "handshake_tag", "stream_key"]

HELLO, DATA, ACK, WELCOME, CONFIRM = 1, 2, 3, 4, 5
#: the largest frame accepted by default (bytes after the length prefix)
DEFAULT_MAX_FRAME = 1 << 20
#: bytes of a handshake nonce (128 bits from the OS random source)
NONCE_BYTES = 16
_LEN = 4
_INC = 8
_WELCOME_LABEL = b"qstack-welcome/2"
_CONFIRM_LABEL = b"qstack-confirm/2"
_STREAM_LABEL = b"qstack-stream/2"
_ACK_LABEL = b"qstack-ack/2"


def encode_frame(kind: int, body: bytes) -> bytes:
    """``length ‖ kind ‖ body`` (the length counts kind and body).

    >>> encode_frame(ACK, b"xy")
    b'\\x00\\x00\\x00\\x03\\x03xy'
    """
    return (len(body) + 1).to_bytes(_LEN, "big") + bytes([kind]) + body


def _fields(*parts: bytes) -> bytes:
    """Length-prefixed concatenation: unambiguous for any names."""
    return b"".join(len(p).to_bytes(2, "big") + p for p in parts)


def _mac(key: bytes, *parts: bytes) -> bytes:
    return hmac.digest(key, _fields(*parts), "sha256")[:TAG_BYTES]


def handshake_tag(key: bytes, step: int, sender: str, receiver: str, nonce_d: bytes, nonce_a: bytes,
                  incarnation_d: int, incarnation_a: int, received: int) -> bytes:
    """The tag of a ``WELCOME`` (``step`` = WELCOME, sent by the acceptor) or ``CONFIRM`` (sent by
    the dialer): both names, both nonces (dialer's first), both incarnations and ``received``."""
    label = _WELCOME_LABEL if step == WELCOME else _CONFIRM_LABEL
    return _mac(key, label, sender.encode(), receiver.encode(), nonce_d, nonce_a,
                incarnation_d.to_bytes(_INC, "big"), incarnation_a.to_bytes(_INC, "big"),
                received.to_bytes(SEQ_BYTES, "big"))


def stream_key(key: bytes, src: str, dst: str, incarnation_src: int, incarnation_dst: int) -> bytes:
    """The DATA/ACK key of direction ``src`` → ``dst`` between these incarnations (256 bits)."""
    return hmac.digest(key, _fields(_STREAM_LABEL, src.encode(), dst.encode(), incarnation_src.to_bytes(_INC, "big"),
                                    incarnation_dst.to_bytes(_INC, "big")), "sha256")


class _Closed(Exception):
    """The connection must be dropped (after counting why)."""


@dataclass
class _Conn:
    stream: trio.abc.Stream
    written: int = 0  # frames of the unacked queue written on this connection


class PeerLink:
    """The pair's state for one peer: both directions' :class:`FrameAuth` (made at the first
    handshake, keyed by both incarnations), the unacknowledged frames, and the counters (``lost``:
    frames the peer never acknowledged before it restarted; ``restarts``: how often it did)."""

    def __init__(self, endpoint: Endpoint, peer: str, key: bytes) -> None:
        self.endpoint = endpoint
        self.peer = peer
        self.key = key
        self.incarnation: int | None = None  # the peer's, once a handshake proved it
        self.tx: FrameAuth | None = None
        self.rx: FrameAuth | None = None
        self.pending: deque[bytes] = deque()  # payloads queued before the first handshake
        self.unacked: deque[tuple[int, bytes]] = deque()
        self.ack_due = False
        self.lost = 0
        self.delivered = 0
        self.sent = 0
        self.reconnects = 0
        self.restarts = 0
        self._conn: _Conn | None = None
        self._data = trio.Event()

    def _start(self, incarnation: int) -> None:
        """Both directions afresh for the peer's ``incarnation`` (queued payloads sealed now)."""
        me, peer, mine = self.endpoint.name, self.peer, self.endpoint.incarnation
        self.incarnation = incarnation
        self.tx = FrameAuth(stream_key(self.key, me, peer, mine, incarnation), me, peer)
        self.rx = FrameAuth(stream_key(self.key, peer, me, incarnation, mine), peer, me)
        self.unacked = deque()
        self.ack_due = False
        while self.pending:
            self._seal(self.pending.popleft())

    def _seal(self, payload: bytes) -> None:
        assert self.tx is not None
        frame = self.tx.seal(payload)
        self.unacked.append((self.tx.next_send - 1, encode_frame(DATA, frame)))

    def received_for(self, incarnation: int) -> int:
        """How many frames of the peer's ``incarnation`` this side accepted (0 for a new one)."""
        if self.rx is None or incarnation != self.incarnation:
            return 0
        return self.rx.next_receive

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def send(self, payload: bytes) -> None:
        """Seal ``payload`` and queue it (sent now if connected, else after the next connect)."""
        if self.tx is None:
            self.pending.append(payload)
        else:
            self._seal(payload)
        self.sent += 1
        self._data.set()

    def _conn_written_drop(self, received: int) -> None:
        conn = self._conn
        while self.unacked and self.unacked[0][0] < received:
            self.unacked.popleft()
            if conn is not None and conn.written > 0:
                conn.written -= 1

    def _ack_tag(self, sender: str, received: bytes) -> bytes:
        """The ACK tag of ``sender`` (this side or the peer) for ``received``."""
        assert self.incarnation is not None
        me, mine = self.endpoint.name, self.endpoint.incarnation
        if sender == me:
            key = stream_key(self.key, me, self.peer, mine, self.incarnation)
            return _mac(key, _ACK_LABEL, me.encode(), self.peer.encode(), received)
        key = stream_key(self.key, self.peer, me, self.incarnation, mine)
        return _mac(key, _ACK_LABEL, self.peer.encode(), me.encode(), received)

    def __repr__(self) -> str:
        return (f"<PeerLink {self.endpoint.name}->{self.peer} sent={self.sent} delivered={self.delivered} "
                f"unacked={len(self.unacked) + len(self.pending)} lost={self.lost}>")


class Endpoint:
    """One process's authenticated transport to its peers (see the module docstring).

    ``name`` is this process's identity; ``keys`` the pre-shared keys; ``addresses`` maps the
    peers this endpoint dials to ``(host, port)``; other peers dial it (``listen`` on ``port``).
    ``deliver(src_peer, datagram)`` is awaited for each accepted ``Datagram`` (e.g. a kernel's
    bounded :meth:`~qstack.runtime.realtime.kernel.RealtimeKernel.inject`: back-pressure); a
    handshake not completed within ``handshake_timeout`` seconds is dropped (``handshake timeout``);
    ``on_restart(peer, lost_frames)`` is awaited when a peer comes back with a new incarnation.
    """

    def __init__(self, name: str, keys: PairKeys, deliver: Callable[[str, Any], Awaitable[None]], *,
                 addresses: Mapping[str, tuple[str, int]] | None = None, accept: set[str] | None = None,
                 max_frame: int = DEFAULT_MAX_FRAME, retry: float = 0.05, handshake_timeout: float = 5.0,
                 on_restart: Callable[[str, int], Awaitable[None]] | None = None) -> None:
        if isinstance(max_frame, bool) or not isinstance(max_frame, int) or max_frame < 64:
            raise ValueError(f"Endpoint(): max_frame must be an int >= 64 bytes, got {max_frame!r}")
        self.name = name
        self.keys = keys
        self.deliver = deliver
        self.on_restart = on_restart
        self.addresses = dict(addresses or {})
        self.accept = set(accept or ())
        self.max_frame = max_frame
        self.retry = retry
        self.handshake_timeout = handshake_timeout
        self.incarnation = secrets.randbits(63)
        self.peers: dict[str, PeerLink] = {}
        self.rejected: dict[str, int] = {}
        self.port: int | None = None
        for peer in (*self.addresses, *self.accept):
            self.peer(peer)

    def peer(self, name: str) -> PeerLink:
        """The :class:`PeerLink` of ``name`` (made on first use; KeyError without a pre-shared key)."""
        link = self.peers.get(name)
        if link is None:
            link = self.peers[name] = PeerLink(self, name, self.keys.key(self.name, name))
        return link

    def send(self, peer: str, datagram: Any) -> None:
        """Queue a ``Datagram`` (or its bytes) for ``peer``."""
        payload = datagram if isinstance(datagram, bytes) else datagram.SerializeToString()
        self.peer(peer).send(payload)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    # ------------------------------------------------------------------ running

    async def serve(self, port: int = 0, host: str = "127.0.0.1", *,
                    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on ``host:port`` (0: any free port, see :attr:`port`) and dial the peers in
        ``addresses``, reconnecting forever; ``task_status.started(port)``."""
        async with trio.open_nursery() as nursery:
            listeners = await trio.open_tcp_listeners(port, host=host)
            self.port = listeners[0].socket.getsockname()[1]
            nursery.start_soon(trio.serve_listeners, self._accepted, listeners)
            for peer in self.addresses:
                nursery.start_soon(self._dial_forever, peer)
            task_status.started(self.port)

    async def _dial_forever(self, peer: str) -> None:
        host, port = self.addresses[peer]
        while True:
            try:
                stream = await trio.open_tcp_stream(host, port)
            except OSError:
                await trio.sleep(self.retry)
                continue
            await self._run_connection(stream, expect=peer)
            await trio.sleep(self.retry)

    async def _accepted(self, stream: trio.SocketStream) -> None:
        await self._run_connection(stream, expect=None)

    async def _handshake(self, stream: trio.abc.Stream, reader: _Reader,
                         expect: str | None) -> tuple[PeerLink, int, int]:
        """Run the three-frame handshake; the peer's link and its proven incarnation and ``received``
        (resumed by the caller). Raises :class:`_Closed` on anything that does not verify."""
        me, mine = self.name, self.incarnation
        if expect is not None:  # dialer
            link = self.peer(expect)
            nonce_d = secrets.token_bytes(NONCE_BYTES)
            await stream.send_all(encode_frame(HELLO, _named(me) + nonce_d + mine.to_bytes(_INC, "big")))
            kind, body = await reader.frame()
            if kind != WELCOME:
                raise _Closed("garbage")
            peer, rest = _parse_named(body, NONCE_BYTES + _INC + SEQ_BYTES + TAG_BYTES)
            if peer != expect:
                raise _Closed("bad hello")
            nonce_a, inc_a = rest[:NONCE_BYTES], int.from_bytes(rest[NONCE_BYTES:NONCE_BYTES + _INC], "big")
            received_a = int.from_bytes(rest[NONCE_BYTES + _INC:-TAG_BYTES], "big")
            want = handshake_tag(link.key, WELCOME, peer, me, nonce_d, nonce_a, mine, inc_a, received_a)
            if not hmac.compare_digest(want, rest[-TAG_BYTES:]):
                raise _Closed("bad hello")
            received_d = link.received_for(inc_a)
            tag = handshake_tag(link.key, CONFIRM, me, peer, nonce_d, nonce_a, mine, inc_a, received_d)
            await stream.send_all(encode_frame(CONFIRM, received_d.to_bytes(SEQ_BYTES, "big") + tag))
            return link, inc_a, received_a
        kind, body = await reader.frame()  # acceptor
        if kind != HELLO:
            raise _Closed("garbage")
        peer, rest = _parse_named(body, NONCE_BYTES + _INC)
        if peer == me or peer not in self.accept:
            raise _Closed("bad hello")
        link = self.peer(peer)
        nonce_d, inc_d = rest[:NONCE_BYTES], int.from_bytes(rest[NONCE_BYTES:], "big")
        nonce_a = secrets.token_bytes(NONCE_BYTES)
        received_a = link.received_for(inc_d)
        tag = handshake_tag(link.key, WELCOME, me, peer, nonce_d, nonce_a, inc_d, mine, received_a)
        await stream.send_all(encode_frame(WELCOME, _named(me) + nonce_a + mine.to_bytes(_INC, "big")
                                           + received_a.to_bytes(SEQ_BYTES, "big") + tag))
        kind, body = await reader.frame()
        if kind != CONFIRM:
            raise _Closed("garbage")
        if len(body) != SEQ_BYTES + TAG_BYTES:
            raise _Closed("garbage")
        received_d = int.from_bytes(body[:SEQ_BYTES], "big")
        want = handshake_tag(link.key, CONFIRM, peer, me, nonce_d, nonce_a, inc_d, mine, received_d)
        if not hmac.compare_digest(want, body[SEQ_BYTES:]):
            raise _Closed("bad hello")
        return link, inc_d, received_d

    async def _run_connection(self, stream: trio.abc.Stream, expect: str | None) -> None:
        reader = _Reader(stream, self.max_frame)
        link: PeerLink | None = None
        try:
            proven = None
            with trio.move_on_after(self.handshake_timeout):
                proven = await self._handshake(stream, reader, expect)
            if proven is None:  # a silent or stalled peer does not hold a task for ever
                raise _Closed("handshake timeout")
            link, incarnation, received = proven
            if link._conn is not None:  # a newer (proven) connection replaces the old one
                await link._conn.stream.aclose()
            lost = self._resume(link, incarnation, received)
            conn = link._conn = _Conn(stream)
            if lost is not None and self.on_restart is not None:
                await self.on_restart(link.peer, lost)
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._writer, link, conn)
                await self._reader(link, reader)
                nursery.cancel_scope.cancel()
        except* _Closed as group:  # refused input: counted, the connection dropped
            for why in group.exceptions:
                self.reject(str(why))
        except* (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            pass  # the connection broke: the dialer reconnects, unacknowledged frames are resent
        finally:
            if link is not None and link._conn is not None and link._conn.stream is stream:
                link._conn = None
            with trio.CancelScope(shield=True):
                await stream.aclose()

    def _resume(self, link: PeerLink, incarnation: int, received: int) -> int | None:
        """Resume after a proven handshake; the frames lost if the peer restarted, else None."""
        lost = None
        if link.incarnation != incarnation:
            if link.incarnation is not None:  # the peer restarted: what it never acknowledged is lost
                lost = len(link.unacked)
                link.lost += lost
                link.restarts += 1
            link._start(incarnation)
            received = 0
        else:
            link.reconnects += 1
        assert link.tx is not None
        link._conn_written_drop(min(received, link.tx.next_send))
        link._data.set()
        return lost

    async def _writer(self, link: PeerLink, conn: _Conn) -> None:
        while True:
            if link.ack_due:
                link.ack_due = False
                assert link.rx is not None
                received = link.rx.next_receive.to_bytes(SEQ_BYTES, "big")
                await conn.stream.send_all(encode_frame(ACK, received + link._ack_tag(self.name, received)))
            if conn.written < len(link.unacked):
                batch = [frame for _, frame in list(link.unacked)[conn.written:]]
                conn.written += len(batch)
                await conn.stream.send_all(b"".join(batch))
                continue
            if not link.ack_due:
                link._data = trio.Event()
                await link._data.wait()

    async def _reader(self, link: PeerLink, reader: _Reader) -> None:
        assert link.rx is not None and link.tx is not None
        while True:
            kind, body = await reader.frame()
            if kind == DATA:
                try:
                    payload = link.rx.open(body)
                except AuthError as exc:
                    self.reject(exc.reason.value)
                    continue
                link.ack_due = True
                link._data.set()
                try:
                    datagram = realtime_pb2.Datagram.FromString(payload)
                except Exception:  # noqa: BLE001 - any parse failure is the same refusal
                    self.reject("undecodable")
                    continue
                link.delivered += 1
                await self.deliver(link.peer, datagram)
            elif kind == ACK:
                if len(body) != SEQ_BYTES + TAG_BYTES or not hmac.compare_digest(
                        link._ack_tag(link.peer, body[:SEQ_BYTES]), body[SEQ_BYTES:]):
                    self.reject("forged ack")
                    continue
                link._conn_written_drop(min(int.from_bytes(body[:SEQ_BYTES], "big"), link.tx.next_send))
            else:
                raise _Closed("garbage")

    def stats(self) -> dict[str, Any]:
        """Counters: rejected frames by reason, and per peer sent/delivered/unacked/lost/reconnects/restarts."""
        return {"rejected": dict(self.rejected),
                "peers": {p: {"sent": link.sent, "delivered": link.delivered,
                              "unacked": len(link.unacked) + len(link.pending), "lost": link.lost,
                              "reconnects": link.reconnects, "restarts": link.restarts}
                          for p, link in self.peers.items()}}


def _named(name: str) -> bytes:
    raw = name.encode()
    if not 0 < len(raw) < 256:
        raise ValueError(f"Endpoint: a name must have 1 to 255 UTF-8 bytes, got {name!r}")
    return bytes([len(raw)]) + raw


def _parse_named(body: bytes, rest: int) -> tuple[str, bytes]:
    """``name length ‖ name ‖ rest bytes`` → (name, the rest); garbage if the sizes do not fit."""
    if len(body) < 1 or len(body) != 1 + body[0] + rest:
        raise _Closed("garbage")
    try:
        name = body[1:1 + body[0]].decode()
    except UnicodeDecodeError:
        raise _Closed("garbage") from None
    return name, body[1 + body[0]:]


class _Reader:
    """Length-prefixed frames from a stream; an oversized length drops the connection unread."""

    def __init__(self, stream: trio.abc.Stream, max_frame: int) -> None:
        self.stream = stream
        self.max_frame = max_frame
        self.buf = bytearray()

    async def _fill(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = await self.stream.receive_some(65536)
            if not chunk:
                raise trio.ClosedResourceError("peer closed")
            self.buf += chunk

    async def frame(self) -> tuple[int, bytes]:
        await self._fill(_LEN)
        length = int.from_bytes(self.buf[:_LEN], "big")
        if length > self.max_frame:
            raise _Closed("oversized")
        if length < 1:
            raise _Closed("garbage")
        await self._fill(_LEN + length)
        kind = self.buf[_LEN]
        body = bytes(self.buf[_LEN + 1:_LEN + length])
        del self.buf[:_LEN + length]
        return kind, body
