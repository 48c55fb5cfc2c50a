"""Simulated network nodes and the classical channels between them.

A ``Node`` owns named outgoing ``ClassicalChannel``\\ s to its peers, an inbox
(``Mailbox``) and its random streams. ``node.send(peer, payload)`` delivers the bytes
after the channel's fixed delay, in FIFO order per channel, either to a handler set with
``on_message`` or into the inbox read by ``await node.receive()``. Payloads are ``bytes``
(higher layers serialise protobuf messages), so message sizes are real and counted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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

    __slots__ = ("sim", "name", "stats", "inbox", "_channels", "_handler", "_object_handler")

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
        self._channels: dict[str, ClassicalChannel] = {}
        self._handler: MessageHandler | None = None
        self._object_handler: Callable[[str, Any], Any] | None = None
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

    __slots__ = ("_sim", "src", "dst", "delay", "name", "messages_sent", "bytes_sent")

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
        """Payload bytes sent on this channel."""
        src._channels[dst.name] = self

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
        message, then deliver it ``delay`` seconds from now."""
        self._post(len(payload), self.dst._deliver, (self.src.name, payload))

    def carry(self, obj: Any, size: int) -> None:
        """Deliver an object instead of bytes, counted as ``size`` bytes (see :meth:`Node.on_object`).

        The receiver gets ``obj`` itself, so the sender must not change it afterwards.
        """
        self._post(size, self.dst._deliver_object, (self.src.name, obj, size))

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
