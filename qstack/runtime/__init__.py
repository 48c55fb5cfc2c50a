"""The runtime interface: what a per-node protocol object may ask of the world.

Every layer protocol of qstack (link, network, transport) is a *sans-I/O* object that belongs to
one node. It reacts to events — an indication from the layer below, a request from the layer
above, a classical message from a peer, a timer — and asks its :class:`Runtime` for effects:

* ``now`` — the current time (seconds);
* ``call_at(t, fn, *args)`` / ``call_later(dt, fn, *args)`` — timers, cancellable;
* ``send(peer, message)`` — a classical protobuf message to another node;
* ``memory`` — this node's quantum memory (its own qubits only);
* ``rng(component)`` — this node's random stream for a component;
* ``record(event)`` — an observation for the :class:`~qstack.recorder.Recorder`, and
  ``observed`` — the event types someone listens to;
* ``mailbox(name)`` / ``sleep(dt)`` — what ``async`` application code awaits.

A protocol never imports the kernel (:mod:`qstack.sim`) or trio and never holds another node's
object, so the same protocol runs under the simulation runtime (:mod:`qstack.runtime.sim`), under
the test kit (:mod:`qstack.testing`) or under a real-time runtime.

:class:`ProtocolStack` is one node's layers: it parses every received message at the runtime
boundary (:func:`qstack.proto.decode`), dispatches it by type to the layer that declared it, and
counts — never raises on — bytes that do not parse or break the protocol. A handler checks its
state machine explicitly and raises :class:`ProtocolViolation` for a message that does not fit
it (a replay, a message for a flow or pair the node does not have, a role speaking from another
node); the runtime adds the frames its authenticated channels refused (``auth_forged``,
``auth_replayed``, … — :mod:`qstack.runtime.auth`) to the same ``rejected`` counts.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Container, Iterable
from typing import Any, ClassVar, Protocol

import numpy as np

from qstack.proto import Herald, MalformedMessage, decode
from qstack.recorder import EVERYTHING

__all__ = ["Runtime", "Timer", "Layer", "ProtocolStack", "ProtocolViolation"]


class ProtocolViolation(Exception):
    """A well-formed message that the protocol does not allow in the node's state."""

    __slots__ = ()


class Timer(Protocol):
    """What ``call_at`` returns."""

    def cancel(self) -> None:
        """Stop the timer; a no-op when it already fired."""


class Runtime(ABC):
    """The effects a protocol object asks for (see the module docstring).

    ``node`` is the name of the node the runtime serves; ``memory`` its quantum memory.
    """

    node: str
    memory: Any
    #: the observation types someone listens to (``Kind in runtime.observed``): a hot path may
    #: skip building an unwatched event (see :func:`qstack.recorder.observable`); by default all
    observed: Container[type] = EVERYTHING

    @property
    @abstractmethod
    def now(self) -> float:
        """Current time in seconds."""

    @abstractmethod
    def call_at(self, time: float, fn: Callable[..., Any], *args: Any) -> Timer:
        """Call ``fn(*args)`` at ``time`` (not before now)."""

    def call_later(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        """Call ``fn(*args)`` after ``delay`` seconds."""
        return self.call_at(self.now + delay, fn, *args)

    @abstractmethod
    def send(self, peer: str, message: Any) -> None:
        """Send a protobuf ``message`` to node ``peer`` (serialised at the runtime boundary)."""

    @abstractmethod
    def rng(self, component: str) -> np.random.Generator:
        """This node's random stream for ``component`` (independent of the other streams)."""

    def delay_to(self, peer: str) -> float:
        """An upper bound, in seconds, on how long a message to ``peer`` travels (and a message
        from ``peer`` back); ``math.inf`` when the runtime cannot tell (the default). A protocol
        uses it to forget bookkeeping that only a message still in flight could need."""
        return math.inf

    def record(self, event: Any) -> None:  # noqa: B027 - optional: observation may be off
        """Emit an observation event (ignored unless a recorder listens)."""

    @abstractmethod
    def mailbox(self, name: str | None = None) -> Any:
        """A queue that ``async`` code awaits (``put(item)``, ``await get(timeout)``)."""

    @abstractmethod
    def sleep(self, seconds: float) -> Any:
        """An awaitable that resumes after ``seconds``."""


class Layer:
    """Base of a layer protocol: it names the message types it handles.

    ``handlers()`` maps each protobuf message class to a method ``(src, message) -> None``;
    raising :class:`ProtocolViolation` rejects the message (counted by the stack).
    """

    #: short name of the layer (``"link"``, ``"network"``, ``"transport"``)
    layer: ClassVar[str] = "layer"

    def handlers(self) -> dict[type, Callable[[str, Any], None]]:
        """The message types this layer takes, with their handlers."""
        return {}


#: the last herald parsed: (its bytes, its message)
_SHARED: list[Any] = [None, None]


class ProtocolStack:
    """One node's layer protocols behind one message dispatcher."""

    __slots__ = ("node", "layers", "rejected", "_dispatch")

    def __init__(self, node: str, layers: Iterable[Layer] = ()) -> None:
        self.node = node
        self.layers: dict[str, Layer] = {}
        self.rejected: dict[str, int] = {}
        self._dispatch: dict[type, Callable[[str, Any], None]] = {}
        for layer in layers:
            self.add(layer)

    def add(self, layer: Layer) -> None:
        """Add a layer and its message handlers (a type taken by two layers is an error)."""
        for kind, handler in layer.handlers().items():
            if kind in self._dispatch:
                raise ValueError(f"node {self.node!r}: {kind.__name__} is already handled by another layer")
            self._dispatch[kind] = handler
        self.layers[layer.layer] = layer

    def __getitem__(self, layer: str) -> Layer:
        return self.layers[layer]

    def reject(self, reason: str) -> None:
        """Count a refused input under ``reason``."""
        self.rejected[reason] = self.rejected.get(reason, 0) + 1

    def receive_bytes(self, src: str, payload: bytes) -> None:
        """Parse ``payload`` from ``src`` and hand it to its layer (never raises on bad input).

        A herald is one message sent to both ends of a link: it is parsed once and both ends'
        handlers get the same (read-only) message (the same bytes object, or — through
        authenticated frames, opened at each end — equal bytes).
        """
        shared = _SHARED
        if payload is shared[0] or payload == shared[0]:
            msg = shared[1]
        else:
            try:
                msg = decode(payload)
            except MalformedMessage as exc:
                self.reject(str(exc.reason))
                return
            if msg.__class__ is Herald:
                shared[0], shared[1] = payload, msg
        handler = self._dispatch.get(type(msg))  # receive(), inlined: this is every message's path
        if handler is None:
            self.reject(f"unexpected {type(msg).__name__}")
            return
        try:
            handler(src, msg)
        except ProtocolViolation as exc:
            self.reject(str(exc))

    def receive(self, src: str, msg: Any) -> None:
        """Hand a parsed message to its layer; count unexpected or protocol-breaking ones."""
        handler = self._dispatch.get(type(msg))
        if handler is None:
            self.reject(f"unexpected {type(msg).__name__}")
            return
        try:
            handler(src, msg)
        except ProtocolViolation as exc:
            self.reject(str(exc))
