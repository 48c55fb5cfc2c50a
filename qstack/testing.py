"""Test kit for protocol developers: drive a layer protocol sans-I/O, or wire a few on a virtual clock.

qstack's layer protocols (:class:`~qstack.link.protocol.LinkLayer`,
:class:`~qstack.network.protocol.NetworkLayer`, :class:`~qstack.transport.sockets.TransportLayer`
and yours) act only through a :class:`~qstack.runtime.Runtime`. This module gives tests runtimes
they control, in the spirit of ``trio.testing`` and of h11's ``Connection``:

* :class:`FakeRuntime` — one node's runtime on a virtual clock that moves only when the test
  says so (:meth:`FakeRuntime.advance`). Every ``send`` is serialised (so a message that would
  not go on the wire fails here too), parsed back and kept in :attr:`FakeRuntime.sent`; every
  observation is kept in :attr:`FakeRuntime.events`. Feed a classical message with
  :meth:`FakeRuntime.deliver` and assert what the protocol sent back.
* :class:`VirtualNetwork` — N fake runtimes on one clock whose sends reach each other's stacks
  after a latency; an ``intercept`` hook drops, delays or inspects messages for failure tests.
* :class:`FakeLinkLayer` — a link layer a test heralds pairs from by hand
  (:meth:`FakeLinkLayer.herald`), to unit-test a network layer or a swap policy without any
  heralding physics; the pairs are real qubits, so the swaps' physics is checked too.
* :func:`chain_topology` — the static :class:`~qstack.network.topology.Topology` of a chain for
  such tests.

A repeater's network layer, driven by hand — PATH SETUP arrives from upstream, is forwarded,
the ACK comes back, two link pairs are heralded and the repeater swaps them:

>>> from qstack.network.protocol import NetworkLayer, SwapEvent
>>> from qstack.proto.qstack.v1 import network_pb2
>>> rt = FakeRuntime("r", positions=2)
>>> link = FakeLinkLayer(rt, {"a": "a-r", "b": "r-b"})
>>> net = NetworkLayer(rt, link, chain_topology(["a", "r", "b"]))
>>> rt.stack.add(net)
>>> rt.deliver("a", network_pb2.PathSetup(flow_id=7, source="a", destination="b", route=["a", "r", "b"],
...                                       swapping="asap"))
>>> [(s.peer, type(s.message).__name__) for s in rt.take_sent()]
[('b', 'PathSetup')]
>>> rt.deliver("b", network_pb2.PathSetupAck(flow_id=7, accepted=True))
>>> [c.remote for c in link.creates], [s.peer for s in rt.take_sent()]
(['b'], ['a'])
>>> _, qa = link.herald("a", purpose_id=7)
>>> _, qb = link.herald("b", purpose_id=7)
>>> [type(e).__name__ for e in rt.events]
['SwapEvent']
>>> from qstack.quantum.core import reduced_dm
>>> from qstack.quantum.states import BELL_KETS_NP
>>> k = rt.events[0].outcome          # a and b now share Bell state k (the frame the TRACK carries)
>>> round(float((BELL_KETS_NP[k].conj() @ reduced_dm([qa, qb]) @ BELL_KETS_NP[k]).real), 12)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qstack.link.service import LinkCreate, LinkOK
from qstack.network.topology import LinkInfo, Topology
from qstack.physical.memory import MemoryNoise, QuantumMemory, memory_noise_from
from qstack.proto import decode, encode
from qstack.quantum.core import Qubit, adopt_state
from qstack.quantum.noise import GateNoise
from qstack.quantum.states import BELL_KETS_NP
from qstack.runtime import ProtocolStack, Runtime, Timer
from qstack.sim import Mailbox, Simulation

__all__ = ["VirtualClock", "FakeRuntime", "Sent", "VirtualNetwork", "FakeLinkLayer", "chain_topology", "bell_pair",
           "herald_pair"]


class VirtualClock:
    """Virtual time for fake runtimes: it moves only in :meth:`advance`/:meth:`run`.

    It is a :class:`qstack.sim.Simulation` underneath, so timers, ``sleep`` and mailboxes behave
    exactly as under the simulation runtime, and ``seed`` fixes every random stream.

    >>> clock = VirtualClock()
    >>> fired = []
    >>> _ = clock.call_at(2.0, fired.append, "late"); _ = clock.call_at(1.0, fired.append, "early")
    >>> clock.advance(1.5); fired, clock.now
    (['early'], 1.5)
    >>> clock.run(); fired, clock.now
    (['early', 'late'], 2.0)
    """

    def __init__(self, seed: int = 0) -> None:
        self.sim = Simulation(seed=seed)

    @property
    def now(self) -> float:
        """Current virtual time (s)."""
        return self.sim.now

    def call_at(self, time: float, fn: Callable[..., Any], *args: Any) -> Timer:
        """Call ``fn(*args)`` at ``time``."""
        return self.sim.call_at(time, fn, *args)

    def advance(self, dt: float) -> None:
        """Fire every timer due within ``dt`` seconds, in time order; then now = old now + dt."""
        if not (isinstance(dt, int | float) and dt >= 0 and math.isfinite(dt)):
            raise ValueError(f"dt must be a finite number >= 0, got {dt!r}")
        self.advance_to(self.now + dt)

    def advance_to(self, time: float) -> None:
        """Fire every timer due up to ``time``; then now = ``time``."""
        if time < self.now:
            raise ValueError(f"time must be >= now ({self.now}), got {time}")
        self.sim.run(until=time)

    def run(self, until: float | None = None) -> None:
        """Fire timers until none is left (or until ``until``)."""
        self.sim.run(until=until)

    def next_timer(self) -> float | None:
        """When the next pending timer fires (None: none pending)."""
        return self.sim.next_event_time()


@dataclass(frozen=True, slots=True)
class Sent:
    """A message a protocol sent: when, to whom, and the message (parsed back from its bytes)."""

    time: float
    peer: str
    message: Any


class FakeRuntime(Runtime):
    """One node's runtime driven by a test (see the module docstring).

    ``memory`` is the node's :class:`~qstack.physical.memory.QuantumMemory` (or give
    ``positions``, and optionally ``noise``/``gate_noise``, to build one); ``clock`` a shared
    :class:`VirtualClock` (default: its own, seeded by ``seed``). Protocol objects go into
    :attr:`stack`, whose dispatcher :meth:`deliver` feeds.

    >>> rt = FakeRuntime("alice")
    >>> from qstack.proto.qstack.v1 import link_pb2
    >>> rt.send("bob", link_pb2.CreateAck(request_id=1, accepted=True))
    >>> rt.sent[0].peer, rt.sent[0].message.request_id
    ('bob', 1)
    >>> rt.send("bob", "not a message")
    Traceback (most recent call last):
    ...
    TypeError: node 'alice' sent a str to 'bob': a runtime sends protobuf messages (or their bytes)
    """

    def __init__(self, node: str, memory: QuantumMemory | None = None, *, positions: int = 4,
                 noise: MemoryNoise | None = None, gate_noise: GateNoise | None = None,
                 clock: VirtualClock | None = None, seed: int = 0) -> None:
        if not isinstance(node, str) or not node:
            raise ValueError(f"node must be a non-empty str, got {node!r}")
        self.node = node
        self.clock = clock if clock is not None else VirtualClock(seed)
        self.memory = memory if memory is not None else QuantumMemory(
            node, positions, noise=noise or memory_noise_from(), gate_noise=gate_noise or GateNoise())
        self.stack = ProtocolStack(node)
        #: every message sent, in order (:class:`Sent`)
        self.sent: list[Sent] = []
        #: every observation recorded (``runtime.record``), in order
        self.events: list[Any] = []
        self._network: VirtualNetwork | None = None

    # -- Runtime -------------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.clock.now

    def call_at(self, time: float, fn: Callable[..., Any], *args: Any) -> Timer:
        if time < self.clock.now:
            raise ValueError(f"node {self.node!r} asked for a timer at {time} < now {self.clock.now}")
        return self.clock.call_at(time, fn, *args)

    def send(self, peer: str, message: Any) -> None:
        if isinstance(message, bytes | bytearray):
            payload = bytes(message)
        elif hasattr(message, "SerializeToString"):
            payload = encode(message)  # validates, as the receiving end would
        else:
            raise TypeError(f"node {self.node!r} sent a {type(message).__name__} to {peer!r}: a runtime sends "
                            "protobuf messages (or their bytes)")
        self.sent.append(Sent(self.clock.now, peer, decode(payload)))
        if self._network is not None:
            self._network._carry(self.node, peer, payload)  # noqa: SLF001 - the harness routes its own runtimes

    def rng(self, component: str) -> np.random.Generator:
        return self.clock.sim.rng(self.node, component)

    def record(self, event: Any) -> None:
        self.events.append(event)
        if self._network is not None and self._network.recorder is not None:
            self._network.recorder.emit(event)

    def mailbox(self, name: str | None = None) -> Mailbox:
        return Mailbox(self.clock.sim, name=name)

    def sleep(self, seconds: float) -> Any:
        return self.clock.sim.sleep(seconds)

    # -- driving -------------------------------------------------------------------------------

    def deliver(self, src: str, message: Any) -> None:
        """Hand a classical ``message`` (protobuf or bytes) from ``src`` to this node's stack, as
        the wire would: serialised, parsed and validated; bad input ends in ``stack.rejected``."""
        payload = bytes(message) if isinstance(message, bytes | bytearray) else encode(message, check=False)
        self.stack.receive_bytes(src, payload)

    def take_sent(self, kind: type | None = None) -> list[Sent]:
        """The messages sent so far (of type ``kind`` only, if given), removed from :attr:`sent`."""
        if kind is None:
            out, self.sent = self.sent, []
            return out
        out = [s for s in self.sent if isinstance(s.message, kind)]
        self.sent = [s for s in self.sent if not isinstance(s.message, kind)]
        return out

    def events_of(self, kind: type) -> list[Any]:
        """The recorded observations of type ``kind``."""
        return [e for e in self.events if isinstance(e, kind)]

    def advance(self, dt: float) -> None:
        """Move the (shared) clock on by ``dt`` seconds, firing due timers."""
        self.clock.advance(dt)

    def __repr__(self) -> str:
        return f"<FakeRuntime {self.node!r} at t={self.now:.6g}, {len(self.sent)} sent>"


class VirtualNetwork:
    """Fake runtimes for ``nodes`` on one :class:`VirtualClock`, their sends carried to each
    other's stacks after ``latency`` seconds (a number, or ``latency(src, dst) -> s``).

    ``intercept(src, dst, message) -> bool`` sees every message first; returning False drops
    it (a lossy or adversarial channel). Observations also go to ``recorder`` if given.

    >>> from qstack.runtime import Layer
    >>> from qstack.proto.qstack.v1 import link_pb2
    >>> class Echo(Layer):
    ...     layer = "echo"
    ...     def __init__(self, rt): self.rt = rt
    ...     def handlers(self): return {link_pb2.CreateAck: self.on_ack}
    ...     def on_ack(self, src, msg):
    ...         if msg.request_id < 3:
    ...             self.rt.send(src, link_pb2.CreateAck(request_id=msg.request_id + 1, accepted=True))
    >>> vn = VirtualNetwork(["a", "b"], latency=0.25)
    >>> for n in "ab": vn[n].stack.add(Echo(vn[n]))
    >>> vn["a"].send("b", link_pb2.CreateAck(request_id=0, accepted=True))
    >>> vn.run(); vn.now, [(s.time, s.peer, s.message.request_id) for s in vn["b"].sent]
    (1.0, [(0.25, 'a', 1), (0.75, 'a', 3)])
    """

    def __init__(self, nodes: Iterable[str] | Mapping[str, int], *, latency: float | Callable[[str, str], float] = 0.0,
                 seed: int = 0, intercept: Callable[[str, str, Any], bool] | None = None, recorder: Any = None) -> None:
        self.clock = VirtualClock(seed)
        self.recorder = recorder
        self.intercept = intercept
        self.dropped: list[tuple[float, str, str, Any]] = []
        if not callable(latency):
            if not (isinstance(latency, int | float) and latency >= 0 and math.isfinite(latency)):
                raise ValueError(f"latency must be a finite number >= 0 s or a function, got {latency!r}")
        self._latency = latency
        spec = dict(nodes) if isinstance(nodes, Mapping) else {n: 4 for n in nodes}
        if len(spec) < 1:
            raise ValueError("a VirtualNetwork needs at least one node")
        self.runtimes: dict[str, FakeRuntime] = {}
        for name, positions in spec.items():
            rt = FakeRuntime(name, positions=positions, clock=self.clock)
            rt._network = self  # noqa: SLF001
            self.runtimes[name] = rt

    def __getitem__(self, node: str) -> FakeRuntime:
        try:
            return self.runtimes[node]
        except KeyError:
            raise KeyError(f"no node {node!r}; nodes are {sorted(self.runtimes)}") from None

    @property
    def now(self) -> float:
        """Current virtual time (s)."""
        return self.clock.now

    def add(self, node: str, positions: int = 4) -> FakeRuntime:
        """Add a node (e.g. a heralding station's runtime) and return its runtime."""
        if node in self.runtimes:
            raise ValueError(f"node {node!r} exists already")
        rt = FakeRuntime(node, positions=positions, clock=self.clock)
        rt._network = self  # noqa: SLF001
        self.runtimes[node] = rt
        return rt

    def _carry(self, src: str, dst: str, payload: bytes) -> None:
        target = self.runtimes.get(dst)
        if target is None:
            raise KeyError(f"node {src!r} sent to unknown node {dst!r}; nodes are {sorted(self.runtimes)}")
        if self.intercept is not None and not self.intercept(src, dst, decode(payload)):
            self.dropped.append((self.clock.now, src, dst, decode(payload)))
            return
        delay = self._latency(src, dst) if callable(self._latency) else self._latency
        self.clock.call_at(self.clock.now + float(delay), target.stack.receive_bytes, src, payload)

    def run(self, until: float | None = None) -> None:
        """Carry messages and fire timers until nothing is left (or until ``until``)."""
        self.clock.run(until)

    def advance(self, dt: float) -> None:
        """Move the clock on by ``dt`` seconds."""
        self.clock.advance(dt)


def bell_pair(bell_index: int = 0, fidelity: float = 1.0) -> tuple[Qubit, Qubit]:
    """Two fresh qubits in a Werner state of fidelity ``fidelity`` around Bell state
    ``bell_index`` (0–3 = Φ⁺, Φ⁻, Ψ⁺, Ψ⁻): ``F|β⟩⟨β| + (1 − F)/3 (I − |β⟩⟨β|)``.

    >>> from qstack.quantum.core import reduced_dm
    >>> a, b = bell_pair(3, 0.9)
    >>> round(float((BELL_KETS_NP[3].conj() @ reduced_dm([a, b]) @ BELL_KETS_NP[3]).real), 12)
    0.9
    """
    if bell_index not in (0, 1, 2, 3):
        raise ValueError(f"bell_index must be 0, 1, 2 or 3, got {bell_index!r}")
    if not 0.0 <= fidelity <= 1.0:
        raise ValueError(f"fidelity must be in [0, 1], got {fidelity!r}")
    b = BELL_KETS_NP[bell_index]
    proj = np.outer(b, b.conj())
    rho = fidelity * proj + (1.0 - fidelity) / 3.0 * (np.eye(4) - proj)
    qa, qb = adopt_state(rho.astype(complex))
    return qa, qb


class FakeLinkLayer:
    """A link layer whose pairs the test heralds by hand (the lower layer of a network-layer test).

    ``links`` maps each neighbour to the link's name. It implements what a network layer asks
    of its link layer — ``create``, ``stop``, ``release``, ``coefficients``,
    ``coefficients_of``, ``model_for`` — and records the calls in :attr:`creates`,
    :attr:`stops` and :attr:`released`. ``coefficients`` are the Bell coefficients the test
    announces for a pair heralded as Φ⁺ (default a perfect pair); :meth:`herald` builds pairs
    with the same fidelity.
    """

    layer = "link"

    def __init__(self, runtime: Runtime, links: Mapping[str, str],
                 coefficients: Sequence[float] = (1.0, 0.0, 0.0, 0.0)) -> None:
        c = tuple(float(x) for x in coefficients)
        if len(c) != 4 or min(c) < 0 or abs(sum(c) - 1.0) > 1e-9:
            raise ValueError(f"coefficients must be 4 non-negative numbers summing to 1, got {coefficients!r}")
        self.rt = runtime
        self.upper: Any = None
        if runtime.memory is None:
            raise ValueError(f"node {runtime.node!r} has no memory to store heralded qubits in")
        self.links = dict(links)
        self.peer_of = {name: peer for peer, name in self.links.items()}
        self.base = c
        self.creates: list[LinkCreate] = []
        self.stops: list[tuple[str, int]] = []
        self.released: list[tuple[str, int]] = []
        self._seq: dict[str, int] = {name: 0 for name in self.links.values()}

    def handlers(self) -> dict[type, Any]:
        return {}

    def create(self, request: LinkCreate) -> int:
        if request.remote not in self.links:
            raise ValueError(f"node {self.rt.node!r} has no link to {request.remote!r}")
        self.creates.append(request)
        return len(self.creates)

    def stop(self, peer: str, purpose_id: int) -> None:
        self.stops.append((peer, purpose_id))

    def release(self, link: str, position: int) -> None:
        self.rt.memory.clear(position)
        self.released.append((link, position))

    def coefficients_of(self, link: str, request_id: int, bell_index: int) -> tuple[float, ...]:
        return tuple(self.base[i ^ bell_index] for i in range(4))

    def coefficients(self, ok: LinkOK) -> list[float]:
        return list(self.coefficients_of(ok.link, ok.request_id, ok.bell_index))

    def model_for(self, peer: str, min_fidelity: float) -> Any:
        return None

    def herald(self, peer: str, *, purpose_id: int, bell_index: int = 0, created: float | None = None,
               request_id: int = 1) -> tuple[LinkOK, Qubit]:
        """A pair with ``peer`` heralded now in Bell state ``bell_index`` (fidelity the announced
        coefficients' largest): this end's half is stored in the runtime's memory and handed up
        as a :class:`LinkOK`; returns it and the far half (the peer's qubit, for assertions)."""
        mine, far = bell_pair(bell_index, self.base[0])
        return self._hand_up(peer, mine, purpose_id, bell_index, created, request_id), far

    def _hand_up(self, peer: str, qubit: Qubit, purpose_id: int, bell_index: int, created: float | None,
                 request_id: int, seq: int | None = None) -> LinkOK:
        if peer not in self.links:
            raise ValueError(f"node {self.rt.node!r} has no link to {peer!r}")
        link = self.links[peer]
        now = self.rt.now
        t0 = now if created is None else created
        position = self.rt.memory.store(qubit, now, since=t0)
        if seq is None:
            seq = self._seq[link]
        self._seq[link] = max(self._seq[link], seq + 1)
        ok = LinkOK(link, seq, peer, position, qubit, bell_index, self.base[0], t0, request_id, purpose_id)
        if self.upper is not None:
            self.upper.link_ok(ok)
        return ok


def herald_pair(a: FakeLinkLayer, b: FakeLinkLayer, *, purpose_id: int, bell_index: int = 0,
                created: float | None = None) -> tuple[LinkOK, LinkOK]:
    """One pair heralded on the link between two fake link layers' nodes: both ends get their
    half as a :class:`LinkOK` with the same ``(link, seq)`` (a at once, then b), as a real link
    layer would hand them up after the station's herald."""
    if b.rt.node not in a.links or a.rt.node not in b.links or a.links[b.rt.node] != b.links[a.rt.node]:
        raise ValueError(f"{a.rt.node!r} and {b.rt.node!r} do not share a link (links: {a.links}, {b.links})")
    link = a.links[b.rt.node]
    seq = max(a._seq[link], b._seq[link])  # noqa: SLF001
    qa, qb = bell_pair(bell_index, a.base[0])
    ok_a = a._hand_up(b.rt.node, qa, purpose_id, bell_index, created, 1, seq)  # noqa: SLF001
    ok_b = b._hand_up(a.rt.node, qb, purpose_id, bell_index, created, 1, seq)  # noqa: SLF001
    return ok_a, ok_b


def chain_topology(nodes: Sequence[str], coefficients: Sequence[float] = (1.0, 0.0, 0.0, 0.0),
                   memory: MemoryNoise | Mapping[str, MemoryNoise] | None = None, cost: float = 1e-3) -> Topology:
    """The :class:`~qstack.network.topology.Topology` of a chain ``nodes[0] – … – nodes[-1]``
    whose links all announce ``coefficients`` and whose memories follow ``memory`` (one model,
    or one per node; default ideal). The ends are ``"end"`` nodes, the rest repeaters.

    >>> float(chain_topology(["a", "r", "b"]).estimated_fidelity(["a", "r", "b"], 0.0))
    1.0
    """
    if len(nodes) < 2 or len(set(nodes)) != len(nodes):
        raise ValueError(f"nodes must be at least two distinct names, got {list(nodes)!r}")
    links = [LinkInfo(f"{a}-{b}", a, b, None, None, tuple(float(x) for x in coefficients), cost)  # type: ignore[arg-type]
             for a, b in zip(nodes, nodes[1:], strict=False)]
    if memory is None or isinstance(memory, MemoryNoise):
        memories = {n: memory or memory_noise_from() for n in nodes}
    else:
        memories = {n: memory.get(n) or memory_noise_from() for n in nodes}
    roles = {n: "end" if i in (0, len(nodes) - 1) else "repeater" for i, n in enumerate(nodes)}
    return Topology(links, memories, roles)
