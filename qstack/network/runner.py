"""Run a scenario end to end and summarise it (the engine behind ``qstack run``).

The summary is one flat-ish dict (printed as JSON by ``qstack run --json``); its keys are
listed in README.md: ``delivered_pairs``, ``rate`` (pairs per simulated second),
``fidelity_mean``/``fidelity_std``/``fidelity_stderr`` (measured from the delivered density
matrices against the Bell state the protocol announces), ``pair_age_mean``,
``first_pair_latency``, per-flow results, ``messages`` and ``bytes`` per node, rejected
inputs, ``events`` and ``wall_seconds``.
"""

from __future__ import annotations

import gc
import math
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from qstack.quantum.kernels import single_threaded_blas
from qstack.recorder import Recorder

from .network import QuantumNetwork
from .statistics import RunningStats

__all__ = ["run_scenario", "build_network"]


def build_network(scenario: Any, *, policies: Mapping[str, Any] | None = None,
                  recorder: Recorder | None = None, keep_deliveries: bool = True) -> QuantumNetwork:
    """Build the network of ``scenario`` and schedule its requests (does not run it).

    ``policies`` overrides the scenario's plug-ins by kind (``{"swapping": MyPolicy()}``);
    ``keep_deliveries=False`` keeps only each flow's running statistics, not one
    :class:`~qstack.network.Delivery` per pair (see :class:`QuantumNetwork`)."""
    net = QuantumNetwork(scenario, policies=policies, recorder=recorder, keep_deliveries=keep_deliveries)
    for spec in scenario.requests:
        net.sim.call_at(spec.start, net.request, spec)
    return net


def run_scenario(scenario: Any, progress: bool | Callable[[float, float], Any] = False, *,
                 policies: Mapping[str, Any] | None = None, record: bool = False,
                 recorder: Recorder | None = None, keep_deliveries: bool = False) -> dict[str, Any]:
    """Run ``scenario`` and return its summary.

    ``progress=True`` draws a progress bar on stderr (when it is a terminal); a callable is
    called as ``progress(now, end)`` after each slice of simulated time. ``policies``
    overrides the scenario's plug-ins; ``recorder`` subscribes to the run's events; with
    ``record=True`` the summary has a ``"records"`` list of per-pair rows
    (:class:`qstack.recorder.PairRecords`); with ``keep_deliveries=True`` a ``"deliveries"``
    list of every flow's :class:`~qstack.network.Delivery` records, in flow order.

    Memory: the summary's figures are running statistics
    (:class:`~qstack.network.statistics.RunningStats`, exact), so by default a run holds no
    per-pair record and its memory stays flat however many pairs it delivers (10⁸ pairs
    included); ``record`` and ``keep_deliveries`` keep one row per pair (a few hundred bytes
    each) and are meant for runs whose pairs fit in memory. The figures are the same either way.

    >>> from qstack.scenario import linear_chain, load_scenario
    >>> out = run_scenario(load_scenario(linear_chain(3, seed=1, duration="20 ms")), record=True)
    >>> len(out["records"]) == out["delivered_pairs"] > 0
    True
    """
    wall0 = time.perf_counter()
    thresholds = gc.get_threshold()
    # Qubits and their groups reference each other; the protocol breaks those cycles when it
    # discards qubits, so the cyclic collector only needs to run rarely (it was ~6–10 % of the
    # time on long chains).
    gc.set_threshold(100_000, 50, 1000)
    try:
        return _run(scenario, progress, wall0, policies, record, recorder, keep_deliveries)
    finally:
        gc.set_threshold(*thresholds)


def _run(scenario: Any, progress: bool | Callable[[float, float], Any], wall0: float,
         policies: Mapping[str, Any] | None, record: bool, recorder: Recorder | None,
         keep_deliveries: bool = False) -> dict[str, Any]:
    with single_threaded_blas():
        net = build_network(scenario, policies=policies, recorder=recorder, keep_deliveries=keep_deliveries)
        records = None
        if record:
            records = net.pair_records()
        build = time.perf_counter() - wall0
        end = scenario.simulation.duration
        sim = net.sim
        interrupted = False
        try:
            if end is None:
                sim.run()
            else:
                report = _progress_bar(end) if progress is True else (progress or None)
                if report is None:
                    sim.run(until=end)
                else:
                    steps = 100
                    for i in range(1, steps + 1):
                        sim.run(until=end * i / steps)
                        report(sim.now, end)
                        if sim.next_event_time is None:
                            break
                    if progress is True:
                        sys.stderr.write("\n")
        except KeyboardInterrupt:  # Ctrl-C: stop where the run is and keep what it did
            if progress is not True:
                raise
            interrupted = True
            sys.stderr.write("\n")
    wall = time.perf_counter() - wall0
    out = summarise(net, wall, build)
    if not interrupted and sim.next_event_time is None:
        _mark_stalled(net, out)
    if interrupted:
        out["interrupted"] = True
    if records is not None:
        out["records"] = records.rows
    if keep_deliveries:
        out["deliveries"] = [d for r in net.flows.values() for d in r.deliveries]
    return out


def _mark_stalled(net: QuantumNetwork, out: dict[str, Any]) -> None:
    """The run ended because no event was left: every flow still short of its pairs (and not
    failed) waits for something that will never happen. Say so per flow, with the nodes whose
    memory is full (their positions held by pairs no swap, delivery or cut-off will free)."""
    waiting = [f for f in out["flows"] if f["requested"] and f["delivered"] < f["requested"] and not f["failed"]]
    if not waiting:
        return
    full = []
    for name, rt in net.runtimes.items():
        memory = rt.memory
        held, free = len(memory.occupied_positions), len(memory.free_positions)
        if held and not free:
            full.append(f"{name} {held}/{held}")
    where = (f"memory full at {', '.join(full)}: its positions are held by pairs that no swap, delivery or "
             "cut-off will free (a cut-off policy releases them)") if full else "nothing left to wait for"
    for f in waiting:
        f["stalled"] = f"the network went quiet with this flow unfinished; {where}"


def flow_status(flow: Mapping[str, Any]) -> str:
    """A flow's state once the run is over, from its entry in the run summary's ``flows``.

    >>> flow_status({"failed": None, "completion_time": None, "requested": 0, "delivered": 372})
    'ran to the end'
    >>> flow_status({"failed": None, "completion_time": None, "requested": 10, "delivered": 4})
    'incomplete: 4 of 10 pairs'
    >>> flow_status({"failed": None, "completion_time": 0.01, "requested": 10, "delivered": 10})
    'done'
    >>> flow_status({"failed": None, "completion_time": None, "requested": 2, "delivered": 1, "stalled": "why"})
    'stalled at 1 of 2 pairs: why'
    """
    if flow.get("failed"):
        return str(flow["failed"])
    if flow.get("completion_time") is not None:
        return "done"
    if flow.get("stalled"):
        return f"stalled at {flow['delivered']} of {flow['requested']} pairs: {flow['stalled']}"
    if flow.get("requested"):
        return f"incomplete: {flow['delivered']} of {flow['requested']} pairs"
    return "ran to the end"  # an open-ended flow (no pair count): it ran as long as the simulation


def _progress_bar(end: float) -> Callable[[float, float], None] | None:
    if not sys.stderr.isatty():
        return None

    def draw(now: float, total: float) -> None:
        frac = min(now / total, 1.0)
        bar = "█" * int(40 * frac) + "·" * (40 - int(40 * frac))
        sys.stderr.write(f"\r  {bar} {now:.4g}/{total:.4g} s simulated")
        sys.stderr.flush()

    return draw


def summarise(net: QuantumNetwork, wall: float, build: float = 0.0) -> dict[str, Any]:
    """The run's figures as a JSON-serialisable dict."""
    sim = net.sim
    net.finish_outcomes()
    # every figure from the flows' running statistics (exact sums: no per-pair record needed)
    fids, ages = RunningStats(), RunningStats()
    delivered = 0
    for r in net.flows.values():
        delivered += r.delivered
        fids.merge(r.fidelity)
        ages.merge(r.age)
    t = sim.now if sim.now > 0 else float("nan")
    flows = []
    for r in net.flows.values():
        flows.append({
            "flow_id": r.flow_id, "source": r.source, "destination": r.destination, "route": r.route,
            "requested": r.requested, "delivered": r.delivered,
            # a NaN fidelity (a pair the observer could not read) makes the flow's mean NaN, as before
            "fidelity_mean": (math.nan if r.fidelity.nan_count else r.fidelity.mean) if r.delivered else None,
            "first_pair_latency": (r.first_delivery - r.start) if r.first_delivery is not None else None,
            "completion_time": (r.done_at - r.start) if r.done_at is not None else None,
            "failed": r.failed,
            "discarded": dict(sorted(r.discarded.items())),
            "measured": r.measured,
            "qber": r.errors / r.measured if r.measured else None,
        })
    nodes = {}
    for name, rt in net.runtimes.items():
        st = rt.classical.stats
        nodes[name] = {
            "messages_sent": st.messages_sent, "bytes_sent": st.bytes_sent,
            "messages_received": st.messages_received, "bytes_received": st.bytes_received,
            "rejected": sum(rt.stack.rejected.values()),
        }
    n = fids.count
    std = fids.std(ddof=1)
    firsts = [f["first_pair_latency"] for f in flows if f["first_pair_latency"] is not None]
    return {
        "scenario": getattr(net.scenario.simulation, "name", None),
        "seed": net.scenario.simulation.seed,
        "simulated_time": sim.now,
        "delivered_pairs": delivered,
        "rate": delivered / t if t == t else None,
        "fidelity_mean": fids.mean,
        "fidelity_std": std,
        "fidelity_stderr": std / math.sqrt(n) if std is not None else None,
        "pair_age_mean": ages.mean,
        "first_pair_latency": min(firsts) if firsts else None,
        "flows": flows,
        "link_pairs_generated": sum(s.pairs_generated for s in net.stations.values()),
        "link_attempts": sum(s.attempts for s in net.stations.values()),
        "link_errors": [list(e) for e in net.link_errors],
        "messages": nodes,
        "messages_total": sum(v["messages_sent"] for v in nodes.values())
        + sum(s.rt.classical.stats.messages_sent for s in net.stations.values()),
        "bytes_total": sum(v["bytes_sent"] for v in nodes.values())
        + sum(s.rt.classical.stats.bytes_sent for s in net.stations.values()),
        "events": sim.events_processed,
        "engine": getattr(net, "engine", "density_matrix"),
        "build_seconds": build,
        "wall_seconds": wall,
        "pairs_per_wall_second": delivered / wall if wall > 0 else None,
    }
