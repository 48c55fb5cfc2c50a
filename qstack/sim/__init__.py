"""qstack.sim: the deterministic discrete-event simulation runtime.

Virtual time, events ordered by ``(time, priority, sequence)``, coroutine processes,
named random streams split from one seed, and nodes joined by classical channels.

>>> from qstack.sim import Simulation, Node, connect
>>> sim = Simulation(seed=1)
>>> a, b = Node(sim, "A"), Node(sim, "B")
>>> _ = connect(a, b, delay=0.001)
>>> async def ping():
...     a.send("B", b"ping")
>>> async def pong():
...     src, payload = await b.receive()
...     return src, payload, sim.now
>>> _ = sim.spawn(ping()); p = sim.spawn(pong())
>>> sim.run(); p.result()
('A', b'ping', 0.001)
"""

from qstack.sim.kernel import Cancelled, EventHandle, Mailbox, Process, Signal, Simulation, Timeout
from qstack.sim.node import ClassicalChannel, Node, NodeStats, connect
from qstack.sim.random import RandomStreams

__all__ = [
    "Cancelled",
    "ClassicalChannel",
    "EventHandle",
    "Mailbox",
    "Node",
    "NodeStats",
    "Process",
    "RandomStreams",
    "Signal",
    "Simulation",
    "Timeout",
    "connect",
]
