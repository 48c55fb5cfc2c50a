"""One node as its own process, and the quantum-state service, on the real-time runtime.

:func:`serve_node` builds one node of a scenario — the same :class:`~qstack.link.protocol.LinkLayer`,
:class:`~qstack.network.protocol.NetworkLayer` and :class:`~qstack.transport.sockets.TransportLayer`
that :class:`~qstack.network.network.QuantumNetwork` builds for the simulation, on a
:class:`~qstack.runtime.realtime.runtime.TrioRuntime` — joins its peers and the state service over
the authenticated transport (:mod:`.transport`), runs the roles of the scenario's application that
live on it (the same ``async def`` role code, through :class:`~qstack.apps.RoleContext`), and keeps
serving until cancelled. :func:`serve_state` is the quantum-state service (``qstack qserve``): it
holds the shared density matrices and every link's :class:`~qstack.physical.station.HeraldingStation`
and lends the state to one node at a time (:mod:`.state`).

Network time is shared: every process gets the same wall-clock ``epoch`` (``time.time()`` of
network time 0) and ``scale`` (network seconds per wall second).
"""

from __future__ import annotations

import io
import pickle
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from qstack.proto.qstack.v1 import realtime_pb2
from qstack.runtime.auth import PairKeys
from qstack.runtime.realtime.kernel import RealtimeKernel
from qstack.runtime.realtime.runtime import TrioRuntime
from qstack.runtime.realtime.state import StateMirror, StateRefused
from qstack.runtime.realtime.transport import Endpoint

__all__ = ["SERVICE", "serve_node", "serve_state", "NodeProcess", "StateService", "RemoteException"]

#: the state service's name on the transport
SERVICE = "qserve"


def _trio_epoch(epoch: float | None) -> float | None:
    """The ``trio.current_time()`` of wall-clock ``epoch`` (None: now)."""
    if epoch is None:
        return None
    return trio.current_time() + (epoch - time.time())


class _StationProxy:
    """A node's view of a link's heralding station in the state service: ``ready``/``withdraw``
    travel to the service; ``take`` returns the qubit the service announced with a PairNotice."""

    def __init__(self, node: NodeProcess, link: str) -> None:
        self.node = node
        self.link = link
        self.rt = type("StationName", (), {"node": f"station:{link}"})()
        self.end: Any = None  # the node's LinkEnd, set after attach
        self._pending: dict[int, tuple[str, int]] = {}

    def _min_fidelity(self, model: Any) -> float:
        for fmin, m in self.end._models.items():  # noqa: SLF001 - the end's own model cache
            if m is model:
                return float(fmin)
        return 0.0

    def ready(self, end: int, index: int, request_id: int = 0, model: Any = None) -> None:
        call = realtime_pb2.StationCall(link=self.link, end=end, index=index, request_id=request_id,
                                        min_fidelity=self._min_fidelity(model) if model is not None else 0.0)
        self.node.to_service(realtime_pb2.Datagram(src=self.node.name, station_call=call))

    def withdraw(self, end: int, index: int) -> None:
        call = realtime_pb2.StationCall(link=self.link, end=end, index=index, withdraw=True)
        self.node.to_service(realtime_pb2.Datagram(src=self.node.name, station_call=call))

    def notice(self, seq: int, qid: str, index: int) -> None:
        self._pending[seq] = (qid, index)

    def take(self, end: int, seq: int) -> tuple[Any, int] | None:
        entry = self._pending.pop(seq, None)
        if entry is None:
            return None
        return self.node.mirror.qubit(entry[0]), entry[1]


def _link_infos(scenario: Any) -> list[Any]:
    """The static topology's links, as :class:`QuantumNetwork` computes them."""
    from qstack.network.topology import LinkInfo
    from qstack.physical.station import LINK_SCHEMES

    infos = []
    for spec in scenario.links:
        hardware, da, db = scenario.link_hardware(spec)
        scheme = LINK_SCHEMES.create(spec.scheme)
        base = scheme.model(hardware, 0.0)
        herald_delay = getattr(base, "round_period", 0.0) + da + db  # see LinkInfo.herald_delay
        infos.append(LinkInfo.from_model(f"{spec.a}-{spec.b}", spec.a, spec.b, hardware, scheme, base, herald_delay))
    return infos


class NodeProcess:
    """One node's protocol stack, transport and application roles (see :func:`serve_node`)."""

    def __init__(self, scenario: Any, name: str, keys: PairKeys, addresses: Mapping[str, tuple[str, int]], *,
                 scale: float = 1.0, epoch: float | None = None, app_key: str | Path | None = None) -> None:
        from qstack.apps import make_application
        from qstack.apps.runtime import _Session
        from qstack.link.protocol import LinkLayer
        from qstack.network.network import PairSink
        from qstack.network.protocol import NetworkLayer
        from qstack.network.topology import Topology
        from qstack.physical.memory import QuantumMemory

        names = [n.name for n in scenario.nodes]
        if name not in names:
            raise ValueError(f"node {name!r} is not in the scenario; its nodes are {names}")
        self.scenario = scenario
        self.name = name
        self.kernel = RealtimeKernel(seed=scenario.simulation.seed, scale=scale)
        self.sim = self.kernel  # what RoleContext reads as the session network's clock
        self._epoch = epoch
        self.mirror = StateMirror(name)
        peers = {n: addresses[n] for n in names if n != name and n > name and n in addresses}
        peers[SERVICE] = addresses[SERVICE]
        self.endpoint = Endpoint(name, keys, self._deliver, addresses=peers,
                                 accept={n for n in names if n < name}, on_restart=self._peer_restarted)
        self.results: dict[str, Any] = {}
        self.failures: dict[str, str] = {}
        self.refusals: list[str] = []
        #: peers that came back with a new incarnation: how often, and the frames lost to it
        self.peer_restarts: dict[str, list[int]] = {}
        self._lease = 0
        self._granted: trio.Event | None = None
        app_spec = scenario.application
        self.app = None
        if app_spec is not None:
            from qstack.runtime.realtime.up import application_key_bits, with_application_key

            params = with_application_key(app_spec.params, app_key) if app_key is not None else app_spec.params
            self.app = make_application(app_spec.name, params, app_spec.roles)
            if application_key_bits(self.app) is not None and name in app_spec.roles.values():
                raise ValueError(f"application {app_spec.name!r} authenticates its messages with a pre-shared key, "
                                 "and names none: one process draws a fresh key for both roles, but separate "
                                 "processes cannot share it — name it in [application.params] auth_key = "
                                 '{file = "..."}, or give every role process the same --app-key FILE (as qstack up '
                                 "does)")
        self.roles = [r for r in (self.app.roles if self.app else ()) if app_spec.roles[r] == name]
        hw = {h.name: h for h in scenario.hardware}
        spec = next(n for n in scenario.nodes if n.name == name)
        h = hw[spec.hardware]
        positions = sum(scenario.link_memory_positions(link)[0 if link.a == name else 1]
                        for link in scenario.links if name in (link.a, link.b))
        local = 0
        if self.app is not None:
            for role in self.roles:
                local += max(self.app.qubits_of(role), 1)
        self.memory = QuantumMemory(name, max(positions + local, 1), noise=h.memory_model(),
                                    gate_noise=h.gate_noise, bell_measurement=h.bell_measurement)
        self.runtime = TrioRuntime(self.kernel, name, self.memory, self._transmit)
        self.link_layer = LinkLayer(self.runtime)
        infos = _link_infos(scenario)
        noise = {n.name: hw[n.hardware].memory_model() for n in scenario.nodes}
        self.topology = Topology(infos, noise, {n.name: n.role for n in scenario.nodes})
        self.stations: dict[str, _StationProxy] = {}
        start = 0
        for link, info in zip(scenario.links, infos, strict=True):
            if name not in (link.a, link.b):
                continue
            side = 0 if link.a == name else 1
            k = scenario.link_memory_positions(link)[side]
            proxy = self.stations[info.name] = _StationProxy(self, info.name)
            peer = link.b if side == 0 else link.a
            self.link_layer.attach(info.name, peer, side, proxy, list(range(start, start + k)),
                                   info.hardware, info.scheme)
            proxy.end = self.link_layer.ends[peer]
            start += k
        self.local_positions = list(range(positions, positions + local))
        pol = scenario.policies
        from qstack.network.network import _cutoff_spec, _purification_spec

        policies = {"routing": pol.routing, "swapping": pol.swapping,
                    "purification": _purification_spec(pol.purification), "cutoff": _cutoff_spec(pol.cutoff)}
        self.network_layer = NetworkLayer(self.runtime, self.link_layer, self.topology, policies, role=spec.role)
        if self.app is not None:
            self.session = _Session(1, dict(app_spec.roles))
            self.session.network = self  # type: ignore[assignment]  # RoleContext reads .sim and .scenario
            upper = self.session.transport_for(self.runtime, self.network_layer)
        else:
            upper = PairSink(self.runtime, self.network_layer, {})
        self.network_layer.upper = upper
        self.runtime.stack.add(self.link_layer)
        self.runtime.stack.add(self.network_layer)
        if hasattr(upper, "handlers"):
            self.runtime.stack.add(upper)
        self.kernel.before_batch = self._acquire
        self.kernel.after_batch = self._release

    # ------------------------------------------------------------------ transport glue

    async def _peer_restarted(self, peer: str, lost: int) -> None:
        entry = self.peer_restarts.setdefault(peer, [0, 0])
        entry[0] += 1
        entry[1] += lost

    def _transmit(self, peer: str, payload: bytes) -> None:
        self.endpoint.send(peer, realtime_pb2.Datagram(src=self.name, envelope=payload))

    def to_service(self, datagram: Any) -> None:
        self.endpoint.send(SERVICE, datagram)

    async def _deliver(self, peer: str, d: Any) -> None:
        body = d.WhichOneof("body")
        if peer == SERVICE:
            if body == "state_grant" and self._granted is not None and d.state_grant.lease == self._lease:
                self.mirror.apply_grant(d.state_grant)
                self._granted.set()
            elif body == "pair_notice":
                n = d.pair_notice
                proxy = self.stations.get(n.link)
                if proxy is not None:
                    await self.kernel.inject(proxy.notice, n.seq, n.qubit, n.index)
            elif body == "envelope" and d.src.startswith("station:"):
                await self.kernel.inject(self.runtime.receive, d.src, d.envelope)
            elif body == "refusal":
                self.refusals.append(d.refusal.reason)
            else:
                self.endpoint.reject("unexpected datagram")
        elif body == "envelope" and d.src == peer:
            await self.kernel.inject(self.runtime.receive, peer, d.envelope)
        else:
            self.endpoint.reject("unexpected datagram")

    async def _acquire(self) -> None:
        self._lease += 1
        self._granted = trio.Event()
        request = realtime_pb2.StateRequest(lease=self._lease)
        self.to_service(realtime_pb2.Datagram(src=self.name, state_request=request))
        await self._granted.wait()

    async def _release(self) -> None:
        self.to_service(realtime_pb2.Datagram(src=self.name, state_return=self.mirror.export_return(self._lease)))
        self._granted = None

    # ------------------------------------------------------------------ running

    async def run(self, port: int, results: str | Path | None = None,
                  task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled. To ``results`` (pickled, written atomically): this node's report
        when its roles finish (``finished`` True) and again when it stops — the roles' results or
        exception texts, the ``unfinished`` roles, transport counters (frames to each peer never
        acknowledged, peer restarts), refusals. A ``.ready`` file beside it marks the node serving."""
        from qstack.apps.runtime import RoleContext
        from qstack.quantum.kernels import single_threaded_blas

        with single_threaded_blas():
            try:
                async with trio.open_nursery() as nursery:
                    await nursery.start(self.endpoint.serve, port)
                    self.kernel.epoch = _trio_epoch(self._epoch)
                    nursery.start_soon(self.kernel.run)
                    procs = {}
                    for role in self.roles:
                        ctx = RoleContext(self.session, self.app, role, self.name)
                        procs[role] = self.kernel.spawn(getattr(self.app, role)(ctx), name=f"{self.app.name}:{role}")
                    task_status.started()
                    if results is not None:
                        Path(results).with_suffix(".ready").write_bytes(b"")
                    for role, proc in procs.items():
                        await self.kernel.wait_done(proc)
                        exc = proc.exception()
                        if exc is None:
                            self.results[role] = proc.result()
                        else:
                            self.failures[role] = f"{type(exc).__name__}: {exc}"
                    if results is not None and procs:
                        _write_results(Path(results), self)
            finally:  # stopped (SIGINT, cancelled) or failed: report what is known, partial or not
                if results is not None:
                    _write_results(Path(results), self)


def _write_results(path: Path, node: NodeProcess) -> None:
    unfinished = [r for r in node.roles if r not in node.results and r not in node.failures]
    out = {"node": node.name, "results": node.results, "failures": node.failures,
           "finished": not unfinished, "unfinished": unfinished,
           "simulated_time": node.kernel.now, "messages_sent": node.runtime.stats.messages_sent,
           "rejected": dict(node.runtime.stack.rejected), "transport": node.endpoint.stats(),
           "refusals": list(node.refusals), "peer_restarts": {p: tuple(v) for p, v in node.peer_restarts.items()}}
    _write_pickle(path, out)


class RemoteException(Exception):  # noqa: N818 - it stands for any exception type
    """An exception raised in another process whose own type does not rebuild from a pickle: its
    type's name (``type_name``) and message travel instead."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __reduce__(self) -> tuple[type[RemoteException], tuple[str, str]]:
        return type(self), (self.type_name, str(self))

    def __repr__(self) -> str:
        return f"{self.type_name}({str(self)!r})"


class _ReportPickler(pickle.Pickler):
    """Pickles a report; an exception inside (e.g. a result's ``abort``) that would not unpickle
    becomes a :class:`RemoteException`."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, BaseException) and not isinstance(obj, RemoteException):
            try:
                pickle.loads(pickle.dumps(obj))  # noqa: S301 - our own bytes
            except Exception:  # noqa: BLE001 - any failure to rebuild
                return RemoteException, (type(obj).__name__, str(obj))
        return NotImplemented


def _write_pickle(path: Path, out: dict[str, Any]) -> None:
    buf = io.BytesIO()
    _ReportPickler(buf).dump(out)
    data = buf.getvalue()
    try:
        pickle.loads(data)  # noqa: S301 - our own bytes: a result that does not round-trip is sent as text
    except Exception:  # noqa: BLE001
        out["results"] = {role: repr(v) for role, v in out.get("results", {}).items()}
        data = pickle.dumps(out)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


async def serve_node(scenario: Any, name: str, keys: PairKeys, addresses: Mapping[str, tuple[str, int]], *,
                     scale: float = 1.0, epoch: float | None = None, results: str | Path | None = None,
                     app_key: str | Path | None = None) -> None:
    """Run node ``name`` of ``scenario`` (listening on ``addresses[name]``) until cancelled."""
    node = NodeProcess(scenario, name, keys, addresses, scale=scale, epoch=epoch, app_key=app_key)
    await node.run(addresses[name][1], results)


class _StationRuntime:
    """The runtime a heralding station sees in the service: its heralds go out through the service."""

    wire = "bytes"

    def __init__(self, service: StateService, link: str) -> None:
        self.service = service
        self.node = f"station:{link}"
        self.station: Any = None
        self.classical = type("Stats", (), {"stats": None})()

    @property
    def now(self) -> float:
        return self.service.kernel.now

    def call_at(self, t: float, fn: Any, *args: Any) -> Any:
        return self.service.kernel.call_at(t, fn, *args)

    def send(self, end: str, msg: bytes) -> None:
        self.service.herald(self, end, msg)


class StateService:
    """The quantum-state service: shared density matrices, the heralding stations, the lease.

    A node that comes back with a new incarnation (it was killed and restarted, losing its state)
    loses what the service held for it: a lease it held is void (the state stays as it was before
    the grant) and goes to the next caller, its waiting requests and its link ends' pending
    ``ready`` calls are dropped, and its qubits are traced out in the service's next batch —
    their partners keep their reduced state — counted in ``lost_qubits``.
    """

    def __init__(self, scenario: Any, keys: PairKeys, *, scale: float = 1.0, epoch: float | None = None) -> None:
        from qstack.physical.station import HeraldingStation

        self.scenario = scenario
        self.kernel = RealtimeKernel(seed=scenario.simulation.seed, scale=scale)
        self._epoch = epoch
        self.mirror = StateMirror(SERVICE, prefix="s")
        names = {n.name for n in scenario.nodes}
        self.endpoint = Endpoint(SERVICE, keys, self._deliver, accept=names, on_restart=self._node_restarted)
        self.stations: dict[str, Any] = {}
        self._station_rt: dict[str, _StationRuntime] = {}
        self.models: dict[tuple[str, float], Any] = {}
        for spec in scenario.links:
            name = f"{spec.a}-{spec.b}"
            hardware, da, db = scenario.link_hardware(spec)
            rt = _StationRuntime(self, name)
            station = HeraldingStation(name, rt, (spec.a, spec.b), (da, db), self.kernel.rng(name, "heralding"),
                                       hardware.raw_w, clock=spec.attempt_clock)
            rt.station = station
            self.stations[name] = station
            self._station_rt[name] = rt
        self._links = {f"{s.a}-{s.b}": s for s in scenario.links}
        self.holder: str | None = None
        self._queue: deque[tuple[str, int]] = deque()
        self._service_turn: trio.Event | None = None
        self.refused: dict[str, int] = {}
        self.restarts: dict[str, int] = {}
        self.lost_qubits: dict[str, int] = {}
        self.leases = 0
        self.pairs = 0
        self.kernel.before_batch = self._hold
        self.kernel.after_batch = self._unhold

    def _model(self, link: str, min_fidelity: float) -> Any:
        key = (link, min_fidelity)
        m = self.models.get(key)
        if m is None:
            from qstack.physical.station import LINK_SCHEMES

            spec = self._links[link]
            hardware, _, _ = self.scenario.link_hardware(spec)
            m = self.models[key] = LINK_SCHEMES.create(spec.scheme).model(hardware, min_fidelity)
        return m

    def herald(self, rt: _StationRuntime, end: str, msg: bytes) -> None:
        station = rt.station
        seq = station._seq - 1  # noqa: SLF001 - the herald being sent is the station's last pair
        side = station.ends.index(end)
        taken = station.take(side, seq)
        if taken is not None:
            q, index = taken
            qid = self.mirror.register(q, owner=end)
            self.endpoint.send(end, realtime_pb2.Datagram(src=rt.node, pair_notice=realtime_pb2.PairNotice(
                link=station.name, seq=seq, qubit=qid, index=index)))
            self.pairs += side
        self.endpoint.send(end, realtime_pb2.Datagram(src=rt.node, envelope=msg))

    async def _deliver(self, peer: str, d: Any) -> None:
        body = d.WhichOneof("body")
        if d.src != peer:
            self.endpoint.reject("unexpected datagram")
        elif body == "state_request":
            self._queue.append((peer, d.state_request.lease))
            self._grant_next()
        elif body == "state_return":
            if self.holder != peer:
                self._refuse(peer, "returned a lease it does not hold")
                return
            try:
                self.mirror.accept_return(peer, d.state_return)
            except StateRefused as exc:
                self._refuse(peer, str(exc))
            self.holder = None
            self._grant_next()
        elif body == "station_call":
            await self.kernel.inject(self._station_call, peer, d.station_call)
        else:
            self.endpoint.reject("unexpected datagram")

    async def _node_restarted(self, peer: str, lost_frames: int) -> None:
        """``peer`` restarted (see the class docstring)."""
        self.restarts[peer] = self.restarts.get(peer, 0) + 1
        self._queue = deque((p, lease) for p, lease in self._queue if p != peer)
        if self.holder == peer:  # its lease is void: the service's state is the one before the grant
            self.holder = None
        for station in self.stations.values():
            if peer in station.ends:
                side = station.ends.index(peer)
                for index in list(station._ready):  # noqa: SLF001 - the station's ready slots
                    station.withdraw(side, index)
        self._grant_next()
        await self.kernel.inject(self._discard, peer)

    def _discard(self, peer: str) -> None:
        self.lost_qubits[peer] = self.lost_qubits.get(peer, 0) + self.mirror.discard_node(peer)

    def report(self) -> dict[str, Any]:
        """Counters: restarts and lost qubits per node, refusals, leases, pairs, transport."""
        return {"node": SERVICE, "restarts": dict(self.restarts), "lost_qubits": dict(self.lost_qubits),
                "refused": dict(self.refused), "leases": self.leases, "pairs": self.pairs,
                "transport": self.endpoint.stats()}

    def _refuse(self, peer: str, reason: str) -> None:
        self.refused[peer] = self.refused.get(peer, 0) + 1
        self.endpoint.send(peer, realtime_pb2.Datagram(src=SERVICE, refusal=realtime_pb2.Refusal(reason=reason)))

    def _station_call(self, peer: str, call: Any) -> None:
        station = self.stations.get(call.link)
        if station is None or peer not in station.ends or station.ends.index(peer) != call.end:
            self.refused[peer] = self.refused.get(peer, 0) + 1
            return
        if call.withdraw:
            station.withdraw(call.end, call.index)
        elif call.end == 0:
            station.ready(0, call.index, call.request_id, self._model(call.link, call.min_fidelity))
        else:
            station.ready(1, call.index)

    def _grant_next(self) -> None:
        """Lend the state to the longest-waiting caller (FIFO), the service's own batches included."""
        if self.holder is None and self._queue:
            peer, lease = self._queue.popleft()
            self.holder = peer
            if peer == SERVICE:
                assert self._service_turn is not None
                self._service_turn.set()
                return
            self.leases += 1
            self.endpoint.send(peer, realtime_pb2.Datagram(src=SERVICE, state_grant=self.mirror.grant_for(peer, lease)))

    async def _hold(self) -> None:
        if self.holder is None and not self._queue:
            self.holder = SERVICE
            return
        self._service_turn = trio.Event()
        self._queue.append((SERVICE, 0))
        await self._service_turn.wait()

    async def _unhold(self) -> None:
        self.holder = None
        self._grant_next()

    async def run(self, port: int, results: str | Path | None = None,
                  task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; then write :meth:`report` to ``results`` (pickled) if given."""
        from qstack.quantum.kernels import single_threaded_blas

        with single_threaded_blas():
            try:
                async with trio.open_nursery() as nursery:
                    bound = await nursery.start(self.endpoint.serve, port)
                    self.kernel.epoch = _trio_epoch(self._epoch)
                    nursery.start_soon(self.kernel.run)
                    task_status.started(bound)
            finally:
                if results is not None:
                    _write_pickle(Path(results), self.report())


async def serve_state(scenario: Any, keys: PairKeys, port: int, *, scale: float = 1.0,
                      epoch: float | None = None) -> None:
    """Run the quantum-state service of ``scenario`` on ``port`` until cancelled."""
    await StateService(scenario, keys, scale=scale, epoch=epoch).run(port)
