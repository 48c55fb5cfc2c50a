"""Scenario runs the checks observe: a network built from a scenario through the public API
(:func:`qstack.scenario.linear_chain`, :func:`qstack.scenario.load_scenario`,
:func:`qstack.network.build_network`), with the implementation under test plugged in, and a
recorder subscription that keeps per-pair observations (:class:`Observed`).

The observer measures each pair from its density matrix when it is delivered (the tail's
``NetDeliver``, before the layer above consumes it) or heralded (``LinkOK``), as an experimenter
would: nothing here reads protocol state.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Observed", "observe", "observe_link", "chain", "mesh", "bell_coefficients_of", "all_occupied"]


def bell_coefficients_of(rho: np.ndarray) -> np.ndarray:
    """``⟨β_i|ρ|β_i⟩`` for the four Bell states (Φ⁺, Φ⁻, Ψ⁺, Ψ⁻)."""
    from qstack.quantum.states import BELL_KETS_NP

    return np.array([float(np.real(b.conj() @ rho @ b)) for b in BELL_KETS_NP])


@dataclass
class Delivery:
    """One end's delivery, as observed (``coeffs``: the four Bell fidelities, tail only)."""

    end: str
    flow_id: int
    time: float
    created: float
    frame: int
    seq: int
    pair_id: tuple[str, int]
    peer_pair: tuple[str, int]
    route: tuple[str, ...]
    coeffs: np.ndarray | None = None


@dataclass
class Herald:
    """One end's ``LinkOK`` (``coeffs`` measured from the heralded state, absolute frame)."""

    node: str
    link: str
    seq: int
    peer: str
    bell_index: int
    created: float
    request_id: int
    purpose_id: int
    coeffs: np.ndarray | None = None


@dataclass
class Observed:
    """What a run showed: deliveries at both ends, heralds, swaps, purification rounds,
    expiries and failures, and the network itself (for after-run inspection)."""

    net: Any
    tails: list[Delivery] = field(default_factory=list)
    heads: list[Delivery] = field(default_factory=list)
    heralds: list[Herald] = field(default_factory=list)
    swaps: list[Any] = field(default_factory=list)
    purifications: list[Any] = field(default_factory=list)
    expires: list[Any] = field(default_factory=list)
    failures: list[Any] = field(default_factory=list)
    link_errors: list[Any] = field(default_factory=list)
    link_error_times: list[float] = field(default_factory=list)

    def records(self) -> list[tuple[Any, ...]]:
        """The delivery records compared by the determinism check (rounded to 1e-12)."""
        out = []
        for d in self.tails:
            c = tuple(round(float(x), 12) for x in d.coeffs) if d.coeffs is not None else ()
            out.append(("tail", d.flow_id, round(d.time, 15), d.seq, d.frame, d.pair_id, d.peer_pair, c))
        for d in self.heads:
            out.append(("head", d.flow_id, round(d.time, 15), d.seq, d.frame, d.pair_id, d.peer_pair))
        return out


def _hardware(**overrides: Any) -> dict[str, Any]:
    return {"t1": "inf", "t2": "inf", **overrides}


def chain(nodes: int, length: str, *, seed: int, duration: float, pairs: int | None = None,
          link: Mapping[str, Any] | None = None, min_fidelity: float = 0.0, **hardware: Any) -> Any:
    """A loaded chain scenario (:func:`qstack.scenario.linear_chain`), ideal memories unless
    ``hardware`` says otherwise."""
    from qstack.scenario import linear_chain, load_scenario

    return load_scenario(linear_chain(nodes, length, seed=seed, duration=duration, pairs=pairs, link=link,
                                      min_fidelity=min_fidelity, **_hardware(**hardware)))


def mesh(*, seed: int, duration: float, **hardware: Any) -> Any:
    """A ring of six nodes with a chord, ``a … f``: a — b — c — d — e — f — a and b — e; one
    request a → d (both routes a-b-c-d and a-f-e-d have three links)."""
    from qstack.scenario import linear_chain, load_scenario

    d = linear_chain(2, "5 km", seed=seed, duration=duration, **_hardware(**hardware))
    names = ["a", "b", "c", "d", "e", "f"]
    d["nodes"] = [{"name": n, "role": "end" if n in ("a", "d") else "repeater"} for n in names]
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f"), ("f", "a"), ("b", "e")]
    d["links"] = [{"a": x, "b": y, "length": "5 km", "station_position": 0.5} for x, y in edges]
    d["requests"] = [{"source": "a", "destination": "d", "min_fidelity": 0.0}]
    return load_scenario(d)


def observe(scenario: Any, *, policies: Mapping[str, Any] | None = None, until: float | None = None,
            stop: bool = False, settle: float = 0.05, measure_heralds: bool = False) -> Observed:
    """Build the network of ``scenario`` with ``policies``, observe it until ``until`` (the
    scenario's duration by default); with ``stop`` every flow is then stopped at its head and
    the network runs ``settle`` seconds more (tear-down messages, heralds in flight)."""
    from qstack.link.service import LinkErr, LinkOK
    from qstack.network import build_network
    from qstack.network.protocol import PurificationEvent, SwapEvent
    from qstack.network.service import NetDeliver, NetExpire, NetFail
    from qstack.quantum.core import reduced_dm
    from qstack.quantum.operations import partner

    net = build_network(scenario, policies=policies)
    obs = Observed(net)
    links = net.topology.links

    def on_deliver(d: Any) -> None:
        rec = Delivery(d.end, d.flow.flow_id, d.time, d.created, d.frame, d.seq, tuple(d.pair_id),
                       tuple(d.peer_pair), tuple(d.flow.route))
        if d.end == "tail":
            if d.qubit.alive and partner(d.qubit) is not None:
                rec.coeffs = bell_coefficients_of(net.pair_state(d))
            obs.tails.append(rec)
        else:
            obs.heads.append(rec)

    def on_ok(ok: Any) -> None:
        info = links[ok.link]
        node = info.b if ok.peer == info.a else info.a
        h = Herald(node, ok.link, ok.seq, ok.peer, ok.bell_index, ok.created, ok.request_id, ok.purpose_id)
        if measure_heralds and ok.qubit.alive:
            other = partner(ok.qubit)
            if other is not None:
                h.coeffs = bell_coefficients_of(reduced_dm([ok.qubit, other]))
        obs.heralds.append(h)

    rec = net.recorder
    rec.subscribe(NetDeliver, on_deliver)
    rec.subscribe(LinkOK, on_ok)
    rec.subscribe(SwapEvent, obs.swaps.append)
    rec.subscribe(PurificationEvent, obs.purifications.append)
    rec.subscribe(NetExpire, obs.expires.append)
    rec.subscribe(NetFail, obs.failures.append)
    rec.subscribe(LinkErr, obs.link_errors.append)
    end = until if until is not None else scenario.simulation.duration
    net.sim.run(until=end)
    if stop:
        for fid, flow in list(net.flows.items()):
            head = net.network_layers[flow.source]
            head.stop(fid)
        net.sim.run(until=(end or net.sim.now) + settle)
    return obs


class _LinkCollector:
    """The layer above a link layer in a link-only run (a :class:`~qstack.link.service.LinkUser`):
    accepts every purpose, measures each OK pair from its state, frees it, and keeps the errors."""

    def __init__(self, node: str, link: Any, obs: Observed) -> None:
        self.node, self.link, self.obs = node, link, obs

    def accepts(self, peer: str, purpose_id: int) -> bool:
        return True

    def link_ok(self, ok: Any) -> None:
        from qstack.quantum.core import discard, reduced_dm
        from qstack.quantum.operations import partner

        h = Herald(self.node, ok.link, ok.seq, ok.peer, ok.bell_index, ok.created, ok.request_id, ok.purpose_id)
        other = partner(ok.qubit) if ok.qubit.alive else None
        if other is not None:
            h.coeffs = bell_coefficients_of(reduced_dm([ok.qubit, other]))
        self.obs.heralds.append(h)
        self.link.release(ok.link, ok.position)
        discard(ok.qubit)

    def link_err(self, err: Any) -> None:
        self.obs.link_errors.append(err)
        self.obs.link_error_times.append(self.link.rt.now)

    def link_expire(self, expire: Any) -> None:
        self.obs.expires.append(expire)


def observe_link(scenario: Any, min_fidelity: float, *, until: float, settle: float = 0.05,
                 purpose_id: int = 1) -> Observed:
    """Drive the first link of ``scenario`` through its link layers alone: the link's first end
    asks ``LinkCreate(peer, UNTIL_STOPPED, min_fidelity)`` at t = 0, the request is stopped at
    ``until`` and the link left ``settle`` seconds; both ends' upper layer is a collector that
    measures every OK pair (:class:`Herald` with ``coeffs``) and records every ERR."""
    from qstack.link.service import UNTIL_STOPPED, LinkCreate
    from qstack.network.network import QuantumNetwork

    net = QuantumNetwork(scenario)
    obs = Observed(net)
    spec = scenario.links[0]
    for node in (spec.a, spec.b):
        net.link_layers[node].upper = _LinkCollector(node, net.link_layers[node], obs)
    first = net.link_layers[spec.a]
    net.sim.call_at(0.0, first.create, LinkCreate(spec.b, number=UNTIL_STOPPED, min_fidelity=min_fidelity,
                                                  purpose_id=purpose_id))
    net.sim.run(until=until)
    first.stop(spec.b, purpose_id)
    net.sim.run(until=until + settle)
    return obs


def pairing_problems(obs: Observed) -> list[str]:
    """What breaks "each pair delivered once, at both ends": a pair id delivered twice at one end,
    or a head delivery naming no tail delivery of its flow (or one that names another pair)."""
    problems = []
    for end, ds in (("tail", obs.tails), ("head", obs.heads)):
        dup = [k for k, n in Counter((d.flow_id, d.pair_id) for d in ds).items() if n > 1]
        problems += [f"{end} delivered {k} twice" for k in dup]
    tails = {(d.flow_id, d.pair_id): d for d in obs.tails}
    for h in obs.heads:
        t = tails.get((h.flow_id, h.peer_pair))
        if t is None or t.peer_pair != h.pair_id:
            problems.append(f"head pair {h.pair_id} of flow {h.flow_id} matches no tail delivery of that flow")
    return problems


def all_occupied(net: Any) -> dict[str, list[int]]:
    """Occupied memory positions per node (``QuantumMemory.occupied_positions``), nodes with none left out."""
    out = {}
    for name, mem in net.memories.items():
        occ = mem.occupied_positions
        if occ:
            out[name] = occ
    return out


def finite(x: Any) -> float | None:
    """``x`` as a finite float, else None."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    x = float(x)
    return x if math.isfinite(x) else None
