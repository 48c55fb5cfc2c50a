"""Simulated network nodes and the classical channels between them.

A ``Node`` owns named outgoing ``ClassicalChannel``\\ s to its peers, an inbox
(``Mailbox``) and its random streams. ``node.send(peer, payload)`` delivers the bytes
after the channel's fixed delay, in FIFO order per channel, either to a handler set with
``on_message`` or into the inbox read by ``await node.receive()``. Payloads are ``bytes``
(higher layers serialise protobuf messages), so message sizes are real and counted.

**Authenticated channels.** :meth:`ClassicalChannel.secure` gives a channel its pair's
pre-shared key (:mod:`qstack.runtime.auth`): every payload then travels in a frame with a sequence
number and an HMAC-SHA256 tag, sealed by the sender and opened by the receiver, and a frame that
fails (forged, replayed, reordered, truncated) is dropped and counted in the receiver's
:attr:`Node.refused` (and handed to its :meth:`Node.on_refused` handler) instead of delivered.
Objects a runtime carries (:meth:`~ClassicalChannel.carry`) are delivered by the simulator itself, so no
third party can put one on the wire: they keep the sequence numbers in step and count the frame's
bytes, without computing a tag. What an adversary on the wire sends is :meth:`ClassicalChannel.inject`:
raw bytes that always go through the receiver's authentication — and, on a channel without a
key, straight to the receiver, as on an unauthenticated network.

>>> sim = Simulation(seed=0)
>>> a, b = Node(sim, "a"), Node(sim, "b")
>>> ab, _ = connect(a, b, 0.1)
>>> ab.secure(bytes(32))
>>> _ = b.on_message(lambda src, data: print("delivered", data))
>>> a.send("b", b"hi"); ab.inject(bytes(8) + b"forged!" + bytes(16)); sim.run()
delivered b'hi'
>>> b.refused, ab.bytes_sent   # 2 payload bytes + 8 (sequence number) + 16 (tag)
({'auth_forged': 1}, 26)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from heapq import heappush
from typing import Any

import numpy as np

from qstack.sim.kernel import Mailbox, Simulation, _duration

__all__ = ["ClassicalChannel", "Node", "NodeStats", "connect"]

MessageHandler = Callable[[str, bytes], Any]


@dataclass(slots=True)
class NodeStats:
    """Classical traffic counters of one node.

    >>> NodeStats()
    NodeStats(messages_sent=0, bytes_sent=0, messages_received=0, bytes_received=0)
    """

    messages_sent: int = 0
    bytes_sent: int = 0
    messages_received: int = 0
    bytes_received: int = 0


class Node:
    """A network node: named peers, classical messaging and per-component random streams.

    >>> sim = Simulation(seed=3)
    >>> alice, bob = Node(sim, "alice"), Node(sim, "bob")
    >>> _ = connect(alice, bob, delay=0.5)
    >>> _ = bob.on_message(lambda src, data: print(sim.now, src, data))
    >>> alice.send("bob", b"hi")
    >>> sim.run()
    0.5 alice b'hi'
    >>> alice.stats.bytes_sent, bob.stats.messages_received
    (2, 1)
    """

    __slots__ = ("sim", "name", "stats", "inbox", "refused", "_channels", "_handler", "_object_handler",
                 "_refused_handler")

    def __init__(self, sim: Simulation, name: str) -> None:
        if not isinstance(sim, Simulation):
            raise TypeError(f"sim must be a qstack.sim.Simulation, got {type(sim).__name__}")
        if not isinstance(name, str) or not name:
            raise ValueError(f"node name must be a non-empty str, got {name!r}")
        if name in sim.nodes:
            raise ValueError(f"this simulation already has a node named {name!r}")
        self.sim: Simulation = sim
        """The simulation the node lives in."""
        self.name: str = name
        """Unique node name within its simulation."""
        self.stats: NodeStats = NodeStats()
        """Messages and bytes sent and received by this node."""
        self.inbox: Mailbox = Mailbox(sim, f"{name}.inbox")
        """Where messages land as ``(src, payload)`` when no handler is set."""
        self.refused: dict[str, int] = {}
        """Frames refused by this node's end of an authenticated channel, by reason
        (``"auth_forged"``, ``"auth_replayed"``, ``"auth_reordered"``, ``"auth_truncated"``)."""
        self._channels: dict[str, ClassicalChannel] = {}
        self._handler: MessageHandler | None = None
        self._object_handler: Callable[[str, Any], Any] | None = None
        self._refused_handler: Callable[[str], Any] | None = None
        sim.nodes[name] = self

    @property
    def peers(self) -> tuple[str, ...]:
        """Names of the nodes this node has an outgoing channel to, in creation order.

        >>> sim = Simulation(seed=0)
        >>> a, b, c = Node(sim, "a"), Node(sim, "b"), Node(sim, "c")
        >>> _ = connect(a, c, 0.1); _ = connect(a, b, 0.1)
        >>> a.peers
        ('c', 'b')
        """
        return tuple(self._channels)

    def channel(self, peer: str) -> ClassicalChannel:
        """The outgoing channel to ``peer`` (KeyError naming the known peers otherwise).

        >>> sim = Simulation(seed=0)
        >>> a, b = Node(sim, "a"), Node(sim, "b")
        >>> _ = connect(a, b, 0.25)
        >>> a.channel("b").delay
        0.25
        """
        try:
            return self._channels[peer]
        except KeyError:
            known = ", ".join(repr(p) for p in self._channels) or "none"
            raise KeyError(f"node {self.name!r} has no channel to {peer!r}; known peers: {known}") from None

    def send(self, peer: str, payload: bytes) -> None:
        """Send ``payload`` (bytes) to ``peer``; it arrives after the channel delay.

        >>> sim = Simulation(seed=0)
        >>> a = Node(sim, "a")
        >>> a.send("z", b"?")
        Traceback (most recent call last):
        ...
        KeyError: "node 'a' has no channel to 'z'; known peers: none"
        """
        self.channel(peer).send(payload)

    def on_message(self, handler: MessageHandler | None) -> MessageHandler | None:
        """Deliver incoming messages to ``handler(src, payload)`` instead of the inbox.

        Pass None to go back to the inbox. Returns ``handler`` so it works as a decorator.

        >>> sim = Simulation(seed=0)
        >>> a, b = Node(sim, "a"), Node(sim, "b")
        >>> _ = connect(a, b, 1.0)
        >>> @b.on_message
        ... def handle(src, payload):
        ...     print(src, payload.decode())
        >>> a.send("b", b"hello"); sim.run()
        a hello
        """
        if handler is not None and not callable(handler):
            raise TypeError(f"handler must be callable or None, got {handler!r}")
        self._handler = handler
        return handler

    def on_object(self, handler: Callable[[str, Any], Any] | None) -> Callable[[str, Any], Any] | None:
        """Deliver what peers :meth:`ClassicalChannel.carry` (objects, not bytes) to ``handler``.

        A runtime that passes validated messages instead of their bytes sets this; without it a
        carried object goes where bytes go (the :meth:`on_message` handler or the inbox).

        >>> sim = Simulation(seed=0)
        >>> a, b = Node(sim, "a"), Node(sim, "b")
        >>> ab, _ = connect(a, b, 1.0)
        >>> _ = b.on_object(lambda src, obj: print(src, obj))
        >>> ab.carry({"hello": 1}, size=7); sim.run()
        a {'hello': 1}
        >>> ab.bytes_sent, b.stats.bytes_received
        (7, 7)
        """
        if handler is not None and not callable(handler):
            raise TypeError(f"handler must be callable or None, got {handler!r}")
        self._object_handler = handler
        return handler

    def on_refused(self, handler: Callable[[str], Any] | None) -> Callable[[str], Any] | None:
        """Also tell ``handler(reason)`` of every frame authentication refuses (after counting it
        in :attr:`refused`); a runtime passes its rejection counter. Returns ``handler``."""
        if handler is not None and not callable(handler):
            raise TypeError(f"handler must be callable or None, got {handler!r}")
        self._refused_handler = handler
        return handler

    def receive(self, timeout: float | None = None) -> Awaitable[tuple[str, bytes]]:
        """Await the next ``(src, payload)`` from the inbox; ``Timeout`` after ``timeout`` s.

        >>> sim = Simulation(seed=0)
        >>> a, b = Node(sim, "a"), Node(sim, "b")
        >>> _ = connect(a, b, 2.0)
        >>> async def listen():
        ...     return await b.receive(timeout=5.0), sim.now
        >>> p = sim.spawn(listen()); a.send("b", b"x"); sim.run(); p.result()
        (('a', b'x'), 2.0)
        """
        return self.inbox.get(timeout)

    def rng(self, component: str) -> np.random.Generator:
        """This node's random stream for ``component`` (``sim.rng(node.name, component)``).

        >>> sim = Simulation(seed=0)
        >>> a = Node(sim, "a")
        >>> a.rng("memory") is sim.rng("a", "memory")
        True
        """
        return self.sim.rng(self.name, component)

    def _deliver(self, src: str, payload: bytes) -> None:
        stats = self.stats
        stats.messages_received += 1
        stats.bytes_received += len(payload)
        handler = self._handler
        if handler is not None:
            handler(src, payload)
        else:
            self.inbox.put((src, payload))

    def _deliver_frame(self, src: str, payload: bytes, size: int) -> None:
        """An authenticated frame's payload: counted as the ``size`` bytes of its frame."""
        stats = self.stats
        stats.messages_received += 1
        stats.bytes_received += size
        handler = self._handler
        if handler is not None:
            handler(src, payload)
        else:
            self.inbox.put((src, payload))

    def _refuse(self, reason: str) -> None:
        """A frame failed authentication: count it; it is not delivered."""
        self.refused[reason] = self.refused.get(reason, 0) + 1
        handler = self._refused_handler
        if handler is not None:
            handler(reason)

    def _deliver_object(self, src: str, obj: Any, size: int) -> None:
        stats = self.stats
        stats.messages_received += 1
        stats.bytes_received += size
        handler = self._object_handler or self._handler
        if handler is not None:
            handler(src, obj)
        else:
            self.inbox.put((src, obj))

    def __repr__(self) -> str:
        return f"<Node {self.name!r} peers={list(self._channels)}>"


class ClassicalChannel:
    """A one-way classical channel from ``src`` to ``dst`` with a fixed delay (seconds).

    Messages are delivered in FIFO order at exactly send time + delay. Counts messages
    and bytes sent.

    >>> sim = Simulation(seed=0)
    >>> a, b = Node(sim, "a"), Node(sim, "b")
    >>> ch = ClassicalChannel(sim, a, b, delay=1e-3)
    >>> ch.send(b"abc"); ch.send(b"de")
    >>> ch.messages_sent, ch.bytes_sent, ch.name
    (2, 5, 'a->b')
    """

    __slots__ = ("_sim", "src", "dst", "delay", "name", "messages_sent", "bytes_sent", "sealer", "opener",
                 "overhead", "_taps")

    def __init__(self, sim: Simulation, src: Node, dst: Node, delay: float, name: str | None = None) -> None:
        if src.sim is not sim or dst.sim is not sim:
            raise ValueError("both nodes of a channel must belong to the channel's simulation")
        if src is dst:
            raise ValueError(f"a channel needs two different nodes, got {src.name!r} twice")
        if dst.name in src._channels:
            raise ValueError(f"node {src.name!r} already has a channel to {dst.name!r}")
        self._sim = sim
        self.src: Node = src
        """Sending node."""
        self.dst: Node = dst
        """Receiving node."""
        self.delay: float = _duration(delay, "ClassicalChannel(): delay")
        """Propagation delay in seconds."""
        self.name: str = f"{src.name}->{dst.name}" if name is None else name
        """Channel name."""
        self.messages_sent: int = 0
        """Messages sent on this channel."""
        self.bytes_sent: int = 0
        """Bytes sent on this channel (payloads, and frame headers and tags once secured)."""
        self.sealer: Any = None
        """The sender's :class:`~qstack.runtime.auth.FrameAuth` once secured (:meth:`secure`; else None)."""
        self.opener: Any = None
        """The receiver's :class:`~qstack.runtime.auth.FrameAuth` once secured (:meth:`secure`; else None)."""
        self.overhead: int = 0
        """Bytes a frame adds to its payload (sequence number and tag; 0 when not secured)."""
        self._taps: list[Callable[[bytes], Any]] = []
        src._channels[dst.name] = self

    def secure(self, key: bytes) -> None:
        """Authenticate every message on this channel from now on with the pair's pre-shared
        ``key`` (:class:`qstack.runtime.auth.FrameAuth`: HMAC-SHA256, sequence numbers). Only
        before the first message: a channel is keyed once."""
        if self.sealer is not None or self.messages_sent:
            raise ValueError(f"channel {self.name!r}: a channel is secured once, before its first message")
        from qstack.runtime.auth import SEQ_BYTES, TAG_BYTES, FrameAuth

        self.sealer = FrameAuth(key, self.src.name, self.dst.name)
        self.opener = FrameAuth(key, self.src.name, self.dst.name)
        self.overhead = SEQ_BYTES + TAG_BYTES

    def tap(self, listener: Callable[[bytes], Any]) -> None:
        """A wire tap: ``listener(frame)`` sees every frame this channel's sender transmits as
        bytes (what an eavesdropper records, e.g. to replay it later with :meth:`inject`).
        Carried objects are not bytes and are not tapped."""
        if not callable(listener):
            raise TypeError(f"listener must be callable, got {listener!r}")
        self._taps.append(listener)

    def inject(self, frame: bytes, delay: float | None = None) -> None:
        """Put ``frame`` on the wire as a third party: it reaches ``dst`` as from ``src`` after
        ``delay`` seconds (default the channel's delay), is not counted as sent by ``src``, and
        goes through ``dst``'s authentication when the channel is secured (a frame without the
        pair's key is refused as forged, a recorded one as replayed).

        >>> sim = Simulation(seed=0)
        >>> a, b = Node(sim, "a"), Node(sim, "b")
        >>> ab = ClassicalChannel(sim, a, b, 0.5)
        >>> _ = b.on_message(lambda src, data: print(sim.now, src, data))
        >>> ab.inject(b"not from a"); sim.run()    # an unauthenticated channel believes anyone
        0.5 a b'not from a'
        """
        if not isinstance(frame, bytes | bytearray):
            raise TypeError(f"frame must be bytes, got {type(frame).__name__}")
        frame = bytes(frame)
        when = self.delay if delay is None else _duration(delay, "inject(): delay")
        sim = self._sim
        if self.opener is None:
            sim._push(sim.now + when, self.dst._deliver, (self.src.name, frame))
        else:
            sim._push(sim.now + when, self._arrive_frame, (frame,))

    def send(self, payload: bytes) -> None:
        """Send ``payload`` (must be ``bytes``) to ``dst``.

        >>> sim = Simulation(seed=0)
        >>> a, b = Node(sim, "a"), Node(sim, "b")
        >>> ClassicalChannel(sim, a, b, 0.0).send("text")
        Traceback (most recent call last):
        ...
        TypeError: payload must be bytes (serialise messages first), got str
        """
        if not isinstance(payload, bytes):
            raise TypeError(f"payload must be bytes (serialise messages first), got {type(payload).__name__}")
        self.transmit(payload)

    def transmit(self, payload: bytes) -> None:
        """:meth:`send` for a caller that already holds ``bytes`` (no type check): count the
        message, then deliver it ``delay`` seconds from now (sealed in a frame once secured)."""
        sealer = self.sealer
        if sealer is None:
            self._post(len(payload), self.dst._deliver, (self.src.name, payload))
            return
        frame = sealer.seal(payload)
        for listener in self._taps:
            listener(frame)
        self._post(len(frame), self._arrive_frame, (frame,))

    def carry(self, obj: Any, size: int) -> None:
        """Deliver an object instead of bytes, counted as ``size`` bytes (see :meth:`Node.on_object`).

        The receiver gets ``obj`` itself, so the sender must not change it afterwards. On a
        secured channel the object takes the next sequence number and is counted with the frame's
        header and tag (no tag is computed: only the simulator delivers objects).
        """
        # Every simulated message takes this path: _post and Simulation._push written out (one
        # frame instead of three; the same counters, the same event in the same queue).
        sealer = self.sealer
        if sealer is None:
            deliver: Callable[..., Any] = self.dst._deliver_object
            args: tuple[Any, ...] = (self.src.name, obj, size)
        else:
            sealer.next_send += 1
            size += self.overhead
            deliver = self._arrive_object
            args = (obj, size)
        self.messages_sent += 1
        self.bytes_sent += size
        stats = self.src.stats
        stats.messages_sent += 1
        stats.bytes_sent += size
        sim = self._sim
        now = sim.now
        t = now + self.delay
        if t == now:
            sim._ready.append((t, 0, next(sim._seq), deliver, args, None))
        else:
            heappush(sim._heap, (t, 0, next(sim._seq), deliver, args, None))

    def _arrive_frame(self, frame: bytes) -> None:
        """A frame reaches ``dst``: opened (payload delivered) or refused (counted, dropped)."""
        try:
            payload = self.opener.open(frame)
        except ValueError as exc:  # AuthError
            self.dst._refuse(f"auth_{getattr(exc, 'reason', 'forged')}")
            return
        self.dst._deliver_frame(self.src.name, payload, len(frame))

    def _arrive_object(self, obj: Any, size: int) -> None:
        """A carried object reaches ``dst`` and takes its sequence number there."""
        opener = self.opener
        opener.next_receive += 1
        opener.accepted += 1
        dst = self.dst  # Node._deliver_object, written out: every secured message's arrival
        stats = dst.stats
        stats.messages_received += 1
        stats.bytes_received += size
        handler = dst._object_handler or dst._handler
        if handler is not None:
            handler(self.src.name, obj)
        else:
            dst.inbox.put((self.src.name, obj))

    def _post(self, size: int, deliver: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Count one message of ``size`` bytes and schedule ``deliver(*args)`` ``delay`` from now."""
        self.messages_sent += 1
        self.bytes_sent += size
        stats = self.src.stats
        stats.messages_sent += 1
        stats.bytes_sent += size
        sim = self._sim
        sim._push(sim.now + self.delay, deliver, args)

    def __repr__(self) -> str:
        return f"<ClassicalChannel {self.name!r} delay={self.delay!r}>"


def connect(node_a: Node, node_b: Node, delay: float) -> tuple[ClassicalChannel, ClassicalChannel]:
    """Create a channel each way between two nodes, both with ``delay`` seconds.

    >>> sim = Simulation(seed=0)
    >>> ab, ba = connect(Node(sim, "a"), Node(sim, "b"), delay=0.01)
    >>> ab.name, ba.name
    ('a->b', 'b->a')
    """
    delay = _duration(delay, "connect(): delay")
    for src, dst in ((node_a, node_b), (node_b, node_a)):
        if dst.name in src._channels:
            raise ValueError(f"node {src.name!r} already has a channel to {dst.name!r}")
    forward = ClassicalChannel(node_a.sim, node_a, node_b, delay)
    backward = ClassicalChannel(node_b.sim, node_b, node_a, delay)
    return forward, backward
