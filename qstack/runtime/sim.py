"""The simulation runtime: protocol effects on the deterministic discrete-event kernel.

:class:`SimRuntime` gives a node's protocols virtual time (:class:`qstack.sim.Simulation`),
timers, classical channels (:class:`qstack.sim.Node`), the node's random streams split from the
run's seed, its quantum memory and the run's recorder.

Messages travel in one of two ways, chosen by ``wire`` and giving the same run bit for bit:

- ``"objects"`` (default): the sender's message object itself is delivered, validated at send
  by the table the receiver's decoder uses (:data:`qstack.proto.VALIDATORS`) and counted as
  the bytes it would take (:func:`qstack.proto.wire_size`). A message that fails validation is
  sent as bytes, so the receiver refuses it exactly as in ``"bytes"`` mode. A protocol must not
  change a message after sending it (the receiver holds the same object).
- ``"bytes"``: every message is serialised on send and parsed and validated on receipt, as on a
  real network. About a third slower; the reference the tests compare ``"objects"`` against.

Bytes a protocol sends itself (an already encoded message) always travel as bytes.

Channels between nodes are authenticated once secured (:meth:`qstack.sim.ClassicalChannel.secure`) with
the pair's pre-shared key (a :class:`~qstack.network.QuantumNetwork` secures every channel it opens,
:func:`authenticated_pairs` lists them): on the bytes wire each message is sealed in an HMAC-SHA256
frame with a sequence number and opened on receipt; carried objects keep the sequence numbers in
step and count the frame's bytes, with no tag to compute (only the simulator delivers them), so
both wires still give the same run. A frame the receiver's authentication refuses — anything
injected on the wire (:meth:`~qstack.sim.ClassicalChannel.inject`) without the key, or replayed —
is dropped and counted in :attr:`ProtocolStack.rejected` under ``"auth_<reason>"``.

>>> from qstack.sim import Simulation
>>> from qstack.physical.memory import QuantumMemory
>>> sim = Simulation(seed=1)
>>> rt = SimRuntime(sim, "alice", QuantumMemory("alice", 1))
>>> fired = []
>>> _ = rt.call_later(0.5, fired.append, "tick")
>>> sim.run(); fired, rt.now
(['tick'], 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

import numpy as np

from qstack.proto import MalformedMessage, encode, wire_size
from qstack.runtime import ProtocolStack, Runtime, Timer
from qstack.sim import Mailbox, Node, Simulation

__all__ = ["SimRuntime", "authenticated_pairs", "station_name"]


def station_name(a: str, b: str) -> str:
    """The classical endpoint of the heralding station of link ``a``–``b`` (``"station:a-b"``).

    >>> station_name("n0", "n1")
    'station:n0-n1'
    """
    return f"station:{a}-{b}"


def authenticated_pairs(nodes: Iterable[str], links: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every pair of endpoints that may exchange classical messages in a simulated network, and so
    needs a pre-shared key: every two nodes (a protocol may open a channel to any node, e.g. the
    tail's EndToEndConfirm to the head), and each link's station with both of its ends.

    >>> authenticated_pairs(["a", "b", "c"], [("a", "b"), ("b", "c")])  # doctest: +NORMALIZE_WHITESPACE
    [('a', 'b'), ('a', 'c'), ('b', 'c'), ('station:a-b', 'a'), ('station:a-b', 'b'),
     ('station:b-c', 'b'), ('station:b-c', 'c')]
    """
    names = list(dict.fromkeys(nodes))
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    for a, b in links:
        station = station_name(a, b)
        pairs += [(station, a), (station, b)]
    return pairs


class SimRuntime(Runtime):
    """A node's runtime on a :class:`~qstack.sim.Simulation` (see the module docstring).

    ``open_channel(a, b)`` is called when a protocol sends to a node it has no channel to yet
    (the network opens one with the classical path delay).
    """

    __slots__ = ("sim", "node", "memory", "classical", "stack", "recorder", "wire", "_open", "_channels",
                 "_serialise", "_last")

    #: the ways messages can travel (see the module docstring)
    WIRES = ("objects", "bytes")

    def __init__(self, sim: Simulation, node: str, memory: Any, recorder: Any = None,
                 open_channel: Callable[[str, str], None] | None = None, wire: str = "objects") -> None:
        if wire not in self.WIRES:
            raise ValueError(f"SimRuntime(): wire must be one of {', '.join(map(repr, self.WIRES))}, got {wire!r}")
        self.wire = wire
        self._serialise = wire == "bytes"
        self._last: tuple[Any, int] = (None, 0)  # the last message carried and its size
        self.sim = sim
        self.node = node
        self.memory = memory
        self.classical = Node(sim, node)
        self.stack = ProtocolStack(node)
        self.classical.on_message(self.stack.receive_bytes)
        self.classical.on_object(self.stack.receive)
        self.classical.on_refused(self.stack.reject)  # frames authentication refused
        self.recorder = recorder
        self.call_at = sim.call_at  # type: ignore[method-assign]  # the kernel's own: one call less per timer
        if recorder is not None:
            self.record = recorder.emit  # type: ignore[method-assign]  # one call less per event
            self.observed = recorder.watched
        else:
            self.observed = frozenset()
        self._open = open_channel
        self._channels = self.classical._channels  # noqa: SLF001 - the node's own channel table

    # the kernel's clock; a C getter (no Python frame), since protocols read it on every event
    now = property(attrgetter("sim.now"), doc="Current simulated time in seconds.")  # type: ignore[assignment]

    def call_at(self, time: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.sim.call_at(time, fn, *args)

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.sim.call_at(self.sim.now + delay, fn, *args)

    def send(self, peer: str, message: Any) -> None:
        channel = self._channels.get(peer)
        if channel is None:
            if self._open is None:
                raise KeyError(f"node {self.node!r} has no channel to {peer!r}")
            self._open(self.node, peer)
            channel = self._channels[peer]
        if type(message) is bytes:  # an already encoded message: the receiver parses and validates it
            channel.transmit(message)
        elif self._serialise:  # receivers validate every message they parse
            channel.transmit(encode(message, check=False))
        elif message is self._last[0]:  # the same message again (a herald to both ends): checked already
            channel.carry(message, self._last[1])
        else:
            try:
                size = wire_size(message)  # validates, as the receiver's decoder would
            except MalformedMessage:  # the receiver refuses it, exactly as it refuses the bytes
                channel.transmit(encode(message, check=False))
                return
            self._last = (message, size)
            channel.carry(message, size)

    def delay_to(self, peer: str) -> float:
        """The fixed delay of the channel to ``peer`` (channels are opened both ways with one
        delay); ``math.inf`` while there is none."""
        channel = self._channels.get(peer)
        return channel.delay if channel is not None else math.inf

    def rng(self, component: str) -> np.random.Generator:
        return self.sim.rng(self.node, component)

    def record(self, event: Any) -> None:
        rec = self.recorder
        if rec is not None:
            rec.emit(event)

    def mailbox(self, name: str | None = None) -> Mailbox:
        return Mailbox(self.sim, name=name)

    def sleep(self, seconds: float) -> Any:
        return self.sim.sleep(seconds)

    def __repr__(self) -> str:
        return f"<SimRuntime {self.node!r} at t={self.sim.now:.6g}>"
