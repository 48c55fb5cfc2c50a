"""The simulation runtime: protocol effects on the deterministic discrete-event kernel.

:class:`SimRuntime` gives a node's protocols virtual time (:class:`qstack.sim.Simulation`),
timers, classical channels (:class:`qstack.sim.Node`; every message is serialised on send and
parsed on receipt, so sizes and bad-input handling are real), the node's random streams split
from the run's seed, its quantum memory and the run's recorder.

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

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np

from qstack.proto import encode
from qstack.runtime import ProtocolStack, Runtime, Timer
from qstack.sim import Mailbox, Node, Simulation

__all__ = ["SimRuntime"]


class SimRuntime(Runtime):
    """A node's runtime on a :class:`~qstack.sim.Simulation` (see the module docstring).

    ``open_channel(a, b)`` is called when a protocol sends to a node it has no channel to yet
    (the network opens one with the classical path delay).
    """

    __slots__ = ("sim", "node", "memory", "classical", "stack", "recorder", "_open", "_channels")

    def __init__(self, sim: Simulation, node: str, memory: Any, recorder: Any = None,
                 open_channel: Callable[[str, str], None] | None = None) -> None:
        self.sim = sim
        self.node = node
        self.memory = memory
        self.classical = Node(sim, node)
        self.stack = ProtocolStack(node)
        self.classical.on_message(self.stack.receive_bytes)
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
        # receivers validate every message; bytes are an already-encoded message
        channel.transmit(message if type(message) is bytes else encode(message, check=False))

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
