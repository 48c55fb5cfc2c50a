"""Applications: ``async def`` roles, one per node, run on a network by one call.

An application subclasses :class:`Application`, declares its name, the stage it needs
(:class:`qstack.stages.Stage`; per role if the roles differ, as in blind computing, whose client
needs stage 1 and server stage 3) and its resources, and defines one ``async`` method per
role taking a :class:`RoleContext`:

>>> from qstack.stages import Stage
>>> class Ping(Application):
...     name = "ping"
...     stage = Stage.TRUSTED_REPEATER
...     roles = ("alice", "bob")
...     async def alice(self, ctx):
...         ctx.send("bob", b"ping")
...         return await ctx.recv("bob")
...     async def bob(self, ctx):
...         msg = await ctx.recv("alice")
...         ctx.send("alice", msg + b"/pong")
...         return ctx.now
>>> from qstack.scenario import linear_chain, load_scenario
>>> result = run_app(Ping(), load_scenario(linear_chain(3, seed=1)), {"alice": "n0", "bob": "n2"})
>>> result.results["alice"]
b'ping/pong'

:func:`run_app` checks the network's stage first (:func:`qstack.stages.network_stage`) and
refuses before anything runs with a :class:`~qstack.stages.StageError` that names the missing
capability; an application that declared a stage below 3 and tries to keep a qubit at run time
is stopped the same way. The same role code is written against the context only (sleep,
send/receive, EPR sockets, local qubits), so it can run under another runtime later.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from qstack.network.network import QuantumNetwork
from qstack.proto import AppMessage, TeleportRecord
from qstack.quantum.core import bell_state_measurement as _bsm
from qstack.quantum.core import create_qubits, operate
from qstack.quantum.core import measure as _measure
from qstack.quantum.core import state_of as _state_of
from qstack.quantum.kernels import single_threaded_blas
from qstack.quantum.operations import CORRECTIONS
from qstack.stages import Stage, StageError
from qstack.transport.sockets import AppQubit, EPRSocket, TransportLayer

if TYPE_CHECKING:
    import qutip

__all__ = ["Application", "RoleContext", "AppResult", "run_app", "check_application"]

_sessions = itertools.count(1)


class Application:
    """Base class of qstack applications (see the module docstring for an example).

    Class attributes: ``name``; ``stage`` (minimum :class:`Stage` of the network);
    ``roles`` (role names, each an ``async def role(self, ctx)`` method — the peers an
    application needs); ``role_stages`` (optional per-role stages, overriding ``stage``);
    ``qubits`` (memory qubits a role holds at once: one number for every role, or a mapping
    role → number; a class attribute, or set per instance when it depends on parameters). A
    node with fewer memory positions is refused before the run, and a role that holds more kept
    pair halves at once than it declared fails during the run, naming the role.
    """

    name: ClassVar[str] = "app"
    stage: ClassVar[Stage] = Stage.TRUSTED_REPEATER
    roles: ClassVar[Sequence[str]] = ()
    role_stages: ClassVar[Mapping[str, Stage]] = {}
    #: memory qubits a role holds at once (an int, or a mapping role → int)
    qubits: int | Mapping[str, int] = 1

    def stage_of(self, role: str) -> Stage:
        """The stage ``role`` needs."""
        return Stage(self.role_stages.get(role, self.stage))

    def qubits_of(self, role: str) -> int:
        """The memory qubits ``role`` declares it holds at once.

        >>> class Two(Application):
        ...     roles = ("a", "b")
        ...     qubits = {"a": 2, "b": 1}
        >>> Two().qubits_of("a"), Two().qubits_of("b")
        (2, 1)
        """
        q = self.qubits
        if isinstance(q, Mapping):
            if role not in q:
                raise ValueError(f"app {self.name!r} declares qubits per role {dict(q)} but not for role {role!r}")
            q = q[role]
        if not isinstance(q, int) or isinstance(q, bool) or q < 0:
            raise ValueError(f"app {self.name!r}: qubits of role {role!r} must be an int >= 0, got {q!r}")
        return q

    def summary(self, results: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``qstack run`` reports about a finished run besides each role's return value —
        e.g. the fidelity of the state the roles now share (an observation by the
        experimenter). None by default."""
        return None


@dataclass
class AppResult:
    """What :func:`run_app` returns: each role's return value, and the run's figures."""

    results: dict[str, Any]
    simulated_time: float
    wall_seconds: float
    messages: dict[str, int]
    network: QuantumNetwork = field(repr=False)
    #: per-pair rows (:class:`qstack.recorder.PairRecords`) when run with ``record=True``
    records: list[dict[str, Any]] | None = field(default=None, repr=False)


class _Session:
    """One application run: the roles' nodes and each node's transport layer."""

    def __init__(self, session: int, nodes_of_roles: dict[str, str],
                 transport: Callable[..., TransportLayer] | None = None):
        self.id = session
        self.node_of = dict(nodes_of_roles)
        self.transports: dict[str, TransportLayer] = {}
        self.network: QuantumNetwork | None = None
        self._transport = transport or TransportLayer

    def transport_for(self, runtime: Any, network_layer: Any) -> TransportLayer:
        t = self._transport(runtime, network_layer, self.id, self.node_of)
        self.transports[runtime.node] = t
        return t


class RoleContext:
    """What a role's code sees: its node, time, classical messages, EPR sockets, qubits."""

    def __init__(self, session: _Session, app: Application, role: str, node: str):
        self.session = session
        self.app = app
        self.role = role
        self.transport = session.transports[node]
        self.node = self.transport  # the role's node: .name, .memory
        self.sim = session.network.sim  # type: ignore[union-attr]
        self.rng = self.sim.rng(node, f"app:{app.name}:{role}")
        self._local = 0
        #: kept pair halves this role holds now (checked against ``app.qubits_of(role)``)
        self.held = 0

    # ------------------------------------------------------------------ time and messages

    @property
    def now(self) -> float:
        """Simulated time in seconds."""
        return self.sim.now

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time."""
        await self.sim.sleep(seconds)

    def send(self, to_role: str, payload: bytes) -> None:
        """Send ``payload`` to ``to_role`` (arrives after the classical path delay). The receiving
        transport accepts it as this role's only from this role's node: a message claiming a role
        that runs elsewhere is dropped and counted in the receiver's ``rejected``."""
        if not isinstance(payload, bytes | bytearray):
            raise TypeError(f"payload must be bytes, got {type(payload).__name__}")
        peer = self.transport.node_of.get(to_role)
        if peer is None:
            raise ValueError(f"unknown role {to_role!r}; roles are {sorted(self.transport.node_of)}")
        self.transport.rt.send(peer, AppMessage(session=self.session.id, from_role=self.role, to_role=to_role,
                                                payload=bytes(payload)))

    async def recv(self, from_role: str, timeout: float | None = None) -> bytes:
        """The next payload from ``from_role`` (``Timeout`` after ``timeout`` seconds)."""
        return await self.transport.inbox(self.role, from_role).get(timeout=timeout)

    # ------------------------------------------------------------------ quantum

    def epr_socket(self, peer: str) -> EPRSocket:
        """An EPR socket with role ``peer``."""
        if peer not in self.transport.node_of or peer == self.role:
            raise ValueError(f"peer must be another role of {self.app.name!r}, got {peer!r}")
        return EPRSocket(self, peer)

    def _require_keep(self, what: str) -> None:
        stage = self.app.stage_of(self.role)
        if stage < Stage.QUANTUM_MEMORY:
            raise StageError(
                self.app.name, Stage.QUANTUM_MEMORY, stage, role=self.role,
                missing=[f"{what} keeps a qubit, which needs storage of entanglement"],
                message=(
                    f"app {self.app.name!r} (role {self.role!r}) declared stage {int(stage)} ({stage.title}) "
                    f"but called {what}, which keeps a qubit: that needs stage 3 (quantum memory: storage "
                    "of entanglement); declare stage = Stage.QUANTUM_MEMORY or measure at once (create_measure)"
                ),
            )

    def qubit(self, state: qutip.Qobj | None = None) -> AppQubit:
        """A fresh local qubit in ``|0⟩`` (or ``state``): it takes one of the node's processor
        memory positions (one per qubit the node's roles declare) and decoheres with the node's
        memory noise like any stored qubit until it is measured or sent; a role holding more
        than it declared is refused. A role below stage 3 stores nothing: its qubit is a photon
        prepared as it is sent (``send_prepared``) and does not decohere."""
        q = create_qubits(1, state)[0]
        if self.app.stage_of(self.role) < Stage.QUANTUM_MEMORY:
            return AppQubit(self.transport, q)
        declared = self.app.qubits_of(self.role)
        if self.held + 1 > declared:
            raise ValueError(f"qubit() by role {self.role!r} of {self.app.name!r} would hold {self.held + 1} memory "
                             f"qubits at once ({self.held} held now) but the app declares qubits = {declared} for it")
        position = self.transport.alloc_local(q)
        if position is None:
            raise ValueError(f"role {self.role!r} of {self.app.name!r}: node {self.transport.name!r} has no free "
                             f"processor position for another local qubit ({len(self.transport.local_positions)} "
                             "in all, one per declared qubit of its roles)")
        aq = AppQubit(self.transport, q, position=position)
        self._hold(aq)
        return aq

    def _check_positions(self, number: int, what: str) -> None:
        """Fail fast when ``number`` more kept pairs cannot fit this role's declared qubits or
        its node's memory."""
        declared = self.app.qubits_of(self.role)
        if self.held + number > declared:
            raise ValueError(f"{what}({number}) by role {self.role!r} of {self.app.name!r} would hold "
                             f"{self.held + number} memory qubits at once ({self.held} held now) but the app "
                             f"declares qubits = {declared} for it")
        positions = self.transport.memory.num_positions
        if self.held + number > positions:
            raise ValueError(f"{what}({number}) by role {self.role!r} needs {self.held + number} memory positions "
                             f"at once but node {self.transport.name!r} has {positions}")

    def _hold(self, q: AppQubit) -> None:
        """A kept pair half reached this role: count it until it is measured or released."""
        self.held += 1
        q.owner = self
        declared = self.app.qubits_of(self.role)
        if self.held > declared:
            raise ValueError(f"role {self.role!r} of {self.app.name!r} holds {self.held} memory qubits at once but "
                             f"the app declares qubits = {declared} for it")

    async def gather(self, *aws: Any) -> list:
        """Wait on several awaitables at once (e.g. two EPR sockets); results in order.

        Each runs as its own process of the runtime; the first exception propagates."""
        procs = [self.sim.spawn(_as_coro(a), name=f"{self.role}:gather{i}") for i, a in enumerate(aws)]
        return [await p for p in procs]

    def record(self, name: str, **data: Any) -> None:
        """Report an application event to the run's recorder (:class:`qstack.recorder.AppEvent`)."""
        from qstack.recorder import AppEvent

        self.transport.rt.record(AppEvent(self.now, self.transport.name, self.app.name, name, data))

    def apply(self, gate: qutip.Qobj | np.ndarray, *qubits: AppQubit) -> None:
        """Apply a gate to this node's qubits, with the node's gate noise."""
        for q in qubits:
            if q.node is not self.node:
                raise ValueError(f"role {self.role!r} on {self.node.name!r} cannot touch a qubit on {q.node.name!r}")
        operate([q.touch() for q in qubits], gate, self.transport.memory.gate_noise)

    def measure(self, q: AppQubit, basis: str | Sequence[qutip.Qobj] = "Z") -> int:
        """Measure a qubit (node's readout noise); it is consumed and its memory freed."""
        if q.node is not self.node:
            raise ValueError(f"role {self.role!r} cannot measure a qubit on {q.node.name!r}")
        m = _measure(q.touch(), basis, self.rng, self.transport.memory.gate_noise)
        q.release()
        return m

    def state(self, *qubits: AppQubit) -> qutip.Qobj:
        """The current (decohered) state of qubits — an observation for the experimenter,
        not an operation the role could perform."""
        return _state_of([q.touch() for q in qubits])

    async def send_qubit(self, q: AppQubit, to_role: str, min_fidelity: float = 0.0) -> int:
        """Teleport ``q`` to ``to_role`` (needs stage 3); returns the Bell outcome sent."""
        self._require_keep("send_qubit")
        (half,) = await self.epr_socket(to_role).create_keep(1, min_fidelity)
        k = _bsm(q.touch(), half.touch(), self.rng, self.transport.memory.gate_noise)
        q.release()
        half.release()
        tid = self.transport.next_transfer_id(self.role, to_role)
        self.transport.rt.send(self.transport.node_of[to_role], TeleportRecord(
            session=self.session.id, from_role=self.role, to_role=to_role, transfer_id=tid, outcome=k))
        return k

    async def send_prepared(self, state: qutip.Qobj | AppQubit, to_role: str, min_fidelity: float = 0.0) -> int:
        """Send a freshly prepared single-qubit ``state`` (a ket/density matrix, or a local
        qubit just prepared with :meth:`qubit` and :meth:`apply`) to ``to_role`` — stage 1
        (prepare-and-measure): the sender keeps nothing. Modelled as teleportation whose
        Bell-state measurement happens as the sender's half is heralded (no storage, so no
        memory decoherence at the sender), like a photonic client that sends its photon.
        Returns the Bell outcome sent; the receiver calls :meth:`recv_qubit`."""
        stage = self.app.stage_of(self.role)
        if stage < Stage.PREPARE_AND_MEASURE:
            raise StageError(self.app.name, Stage.PREPARE_AND_MEASURE, stage, role=self.role,
                             missing=["end users prepare and measure qubits"])
        socket = self.epr_socket(to_role)
        (half,) = await socket._create(1, min_fidelity, None, None, at_once=True)
        source = state.touch() if isinstance(state, AppQubit) else create_qubits(1, state)[0]
        k = _bsm(source, half.qubit, self.rng, self.transport.memory.gate_noise)  # at once: no storage
        half.release()
        if isinstance(state, AppQubit):
            state.release()
        tid = self.transport.next_transfer_id(self.role, to_role)
        self.transport.rt.send(self.transport.node_of[to_role], TeleportRecord(
            session=self.session.id, from_role=self.role, to_role=to_role, transfer_id=tid, outcome=k))
        return k

    async def recv_qubit(self, from_role: str, timeout: float | None = None) -> AppQubit:
        """Receive a qubit teleported by ``from_role``: the pair's half, corrected."""
        self._require_keep("recv_qubit")
        (half,) = await self.epr_socket(from_role).recv_keep(1, timeout)
        k = await self.transport.teleports(from_role, self.role).get(timeout=timeout)
        if k:
            operate([half.touch()], CORRECTIONS[k])
        return half


_SLICE = 20_000  # events between progress reports


def _activity_line() -> Callable[[float, int], None] | None:
    """A one-line activity report on a terminal's stderr (simulated time, pairs, wall time),
    redrawn at most five times a second; None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    t0 = time.perf_counter()
    last = [0.0]

    def draw(now: float, pairs: int) -> None:
        wall = time.perf_counter() - t0
        if wall - last[0] >= 0.2:
            last[0] = wall
            sys.stderr.write(f"\r  {now:.6g} s simulated, {pairs} pairs delivered, {wall:.1f} s wall ")
            sys.stderr.flush()

    return draw


def check_application(app: Application, scenario: Any, assignment: Mapping[str, str], *,
                      check_stage: bool = True) -> None:
    """The checks :func:`run_app` makes before anything runs (the real-time ``qstack up`` makes
    them too): every role assigned to a node of the scenario (``ValueError``), each role's node
    with memory positions for the qubits it holds at once (``ValueError``), and the network at
    each role's stage (:class:`StageError`, unless ``check_stage`` is False)."""
    missing = [r for r in app.roles if r not in assignment]
    if missing or not app.roles:
        raise ValueError(f"assignment must map every role of {app.name!r} {list(app.roles)} to a node; "
                         f"missing {missing}")
    unknown = {n for n in assignment.values()} - {n.name for n in scenario.nodes}
    if unknown:
        raise ValueError(f"assignment names nodes not in the scenario: {sorted(unknown)}")
    positions: dict[str, int] = {}
    for link in scenario.links:
        for end, count in zip((link.a, link.b), scenario.link_memory_positions(link), strict=True):
            positions[end] = positions.get(end, 0) + count
    for role in app.roles:
        node = assignment[role]
        need = app.qubits_of(role) if app.stage_of(role) >= Stage.QUANTUM_MEMORY else 0
        if positions.get(node, 0) < need:
            raise ValueError(f"app {app.name!r} (role {role!r}) holds {need} qubits at once but node {node!r} "
                             f"has {positions.get(node, 0)} memory positions")
    if check_stage:
        from qstack.stages import network_stage

        report = network_stage(scenario)
        for role in app.roles:
            need = app.stage_of(role)
            node = assignment[role]
            if need <= Stage.TRUSTED_REPEATER:
                continue  # stage 0 is reached by every connected network
            end_nodes = set(report.end_nodes)
            peers = [assignment[r] for r in app.roles
                     if r != role and assignment[r] != node and assignment[r] in end_nodes]
            # A role on a repeater node (e.g. a trusted node) is judged by the whole network.
            reached = report.for_node(node, peers) if peers and node in end_nodes else report.stage
            if reached < need:
                sides = [(node, p) for p in peers] if node in end_nodes and peers else None
                raise StageError(app.name, need, reached, report.missing_for(need, sides), role=role,
                                 network=getattr(scenario.simulation, "name", None), nodes=[node, *peers])


def run_app(
    app: Application,
    scenario: Any,
    assignment: Mapping[str, str],
    *,
    until: float | None = None,
    progress: bool | Callable[[float, int], Any] = False,
    check_stage: bool = True,
    policies: Mapping[str, Any] | None = None,
    recorder: Any = None,
    record: bool = False,
    transport: Callable[..., TransportLayer] | None = None,
) -> AppResult:
    """Run ``app`` on ``scenario``'s network with roles on the nodes of ``assignment``.

    ``policies`` overrides the scenario's plug-ins by kind; ``recorder`` subscribes to events;
    ``record=True`` keeps per-pair rows in :attr:`AppResult.records`; ``progress`` is called as
    ``progress(simulated_time, pairs_delivered)`` every 20,000 events (``True``: a one-line
    report on a terminal's stderr) — the run is the same with or without it. ``transport`` is a
    factory ``transport(runtime, network_layer, session, node_of)`` for each node's transport
    layer (default :class:`~qstack.transport.sockets.TransportLayer`; the conformance suite
    plugs other transport implementations in here).

    The scenario's own requests are not run. Raises :class:`StageError` before anything runs
    when the network is below a role's stage; a role's exception propagates.
    """
    check_application(app, scenario, assignment, check_stage=check_stage)
    wall0 = time.perf_counter()
    with single_threaded_blas():
        session = _Session(next(_sessions), dict(assignment), transport)
        local: dict[str, int] = {}
        for role in app.roles:  # each role's local qubits live in its node's processor positions
            local[assignment[role]] = local.get(assignment[role], 0) + max(app.qubits_of(role), 1)
        network = QuantumNetwork(scenario, policies=policies, upper=session.transport_for, recorder=recorder,
                                 local_positions=local)
        session.network = network
        rows = network.pair_records() if record else None
        procs, coros = {}, []
        for role in app.roles:
            ctx = RoleContext(session, app, role, assignment[role])
            coros.append(getattr(app, role)(ctx))
            procs[role] = network.sim.spawn(coros[-1], name=f"{app.name}:{role}")
        try:
            report = _activity_line() if progress is True else (progress or None)
            if report is None:
                network.sim.run(until=until)
            else:  # in slices of events (the same run: no slice moves the clock), reporting between
                sim = network.sim
                while True:
                    before = sim.events_processed
                    sim.run(until=until, max_events=_SLICE)
                    report(sim.now, sum(len(r.deliveries) for r in network.flows.values()))
                    if sim.events_processed - before < _SLICE:
                        break
                if progress is True:
                    sys.stderr.write("\n")
        except BaseException:
            for coro in coros:  # a role failed: the others will not run on
                coro.close()
            raise
    results = {}
    for role, proc in procs.items():
        if not proc.done:
            raise RuntimeError(f"role {role!r} of {app.name!r} did not finish (simulated {network.sim.now:.6g} s)")
        results[role] = proc.result()
    return AppResult(results, network.sim.now, time.perf_counter() - wall0,
                     {n: rt.classical.stats.messages_sent for n, rt in network.runtimes.items()}, network,
                     rows.rows if rows is not None else None)


async def _as_coro(aw: Any) -> Any:
    return await aw
