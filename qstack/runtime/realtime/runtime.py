"""The :class:`~qstack.runtime.Runtime` of one node process on the real-time kernel.

:class:`TrioRuntime` gives a node's protocol objects what :class:`~qstack.runtime.sim.SimRuntime`
gives them in a simulation — ``now``, timers, ``send``, the node's random streams (split from the
scenario's seed exactly as there), ``record``, ``mailbox``/``sleep`` — on a
:class:`~qstack.runtime.realtime.kernel.RealtimeKernel`. ``send`` serialises the message
(:func:`qstack.proto.encode`) and hands the bytes to ``transmit(peer, payload)`` — the
authenticated TCP transport in a node process, or anything else in a test; received bytes go to
:meth:`receive`, which parses and dispatches them through the node's
:class:`~qstack.runtime.ProtocolStack` (refusing and counting bad input, never raising).

>>> import trio, trio.testing
>>> from qstack.runtime.realtime.kernel import RealtimeKernel
>>> async def main():
...     kernel = RealtimeKernel(seed=1)
...     rt = TrioRuntime(kernel, "alice", None, transmit=lambda peer, data: None)
...     fired = []
...     _ = rt.call_later(0.5, fired.append, "tick")
...     async with trio.open_nursery() as nursery:
...         nursery.start_soon(kernel.run)
...         await trio.sleep(1)
...         nursery.cancel_scope.cancel()
...     return fired, rt.now
>>> trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
(['tick'], 1.0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qstack.proto import encode
from qstack.runtime import ProtocolStack, Runtime, Timer
from qstack.runtime.realtime.kernel import RealtimeKernel, RealtimeMailbox

__all__ = ["TrioRuntime", "TrafficStats"]


class TrafficStats:
    """Messages and bytes a node sent and received (the summary's ``messages`` columns)."""

    __slots__ = ("messages_sent", "bytes_sent", "messages_received", "bytes_received")

    def __init__(self) -> None:
        self.messages_sent = self.bytes_sent = self.messages_received = self.bytes_received = 0


class TrioRuntime(Runtime):
    """A node's runtime on a :class:`RealtimeKernel` (see the module docstring)."""

    def __init__(self, kernel: RealtimeKernel, node: str, memory: Any,
                 transmit: Callable[[str, bytes], None], recorder: Any = None) -> None:
        self.kernel = kernel
        self.node = node
        self.memory = memory
        self.stack = ProtocolStack(node)
        self.recorder = recorder
        self.observed = recorder.watched if recorder is not None else frozenset()
        self.stats = TrafficStats()
        self._transmit = transmit

    @property
    def now(self) -> float:
        return self.kernel.now

    def call_at(self, time: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.kernel.call_at(time, fn, *args)

    def send(self, peer: str, message: Any) -> None:
        payload = message if type(message) is bytes else encode(message, check=False)
        stats = self.stats
        stats.messages_sent += 1
        stats.bytes_sent += len(payload)
        self._transmit(peer, payload)

    def receive(self, src: str, payload: bytes) -> None:
        """Bytes from ``src``: parsed and dispatched by the stack (bad input counted there)."""
        stats = self.stats
        stats.messages_received += 1
        stats.bytes_received += len(payload)
        self.stack.receive_bytes(src, payload)

    def rng(self, component: str) -> np.random.Generator:
        return self.kernel.rng(self.node, component)

    def record(self, event: Any) -> None:
        if self.recorder is not None:
            self.recorder.emit(event)

    def mailbox(self, name: str | None = None) -> RealtimeMailbox:
        return RealtimeMailbox(self.kernel, name)

    def sleep(self, seconds: float) -> Any:
        return self.kernel.sleep(seconds)

    def __repr__(self) -> str:
        return f"<TrioRuntime {self.node!r} at t={self.kernel.now:.6g}>"
