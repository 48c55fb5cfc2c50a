"""Memory over long runs: protocol state per pair is dropped with the pair, and the run's
statistics stream.

A run of 10⁸ pairs must hold no more state at its end than after its first thousand pairs.
Two things could grow with the number of delivered pairs, and both are checked here:

* the protocol's bookkeeping of pairs on their way (queues, held TRACKs, swap records,
  end-node pairs waiting for a confirmation, purification pools, cut-off timers, the
  heralding stations' pending heralds, the recorder's per-pair segments): every entry must go
  when its pair is delivered, expired or discarded. :func:`per_pair_state` sums the sizes of
  *every* container the link layers, link ends, network layers, their flows, the stations and
  the observer hold, so a leak anywhere shows;
* the summary's figures: they are running statistics
  (:class:`qstack.network.statistics.RunningStats`, exact sums), so a run that does not ask
  for per-pair records keeps none, and its figures equal those computed from kept records.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qstack_network_helpers import HOP, chain_dict

from qstack.network import build_network
from qstack.network.network import expected_parity
from qstack.network.runner import run_scenario, summarise
from qstack.network.statistics import RunningStats
from qstack.scenario import load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_CONTAINERS = (dict, list, deque, set)


def _attributes(obj: Any) -> dict[str, Any]:
    found = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in found and hasattr(obj, name):
                found[name] = getattr(obj, name)
    return found


def _size(obj: Any) -> int:
    """Entries of every container attribute of ``obj`` (and of containers one level inside)."""
    total = 0
    for value in _attributes(obj).values():
        if isinstance(value, _CONTAINERS):
            total += len(value)
            if isinstance(value, dict):
                total += sum(len(v) for v in value.values() if isinstance(v, _CONTAINERS))
    return total


def per_pair_state(net: Any, records: Any = None) -> int:
    """The total size of the state the network holds: every container of every link layer,
    link end, network layer, flow (queues, swapped, tracks, ends, timers, pools, swap log),
    heralding station, of the observer (:class:`QuantumNetwork` and its :class:`FlowResult`\\ s)
    and, when given, the pending entries of a :class:`~qstack.recorder.PairRecords`."""
    objects: list[Any] = [net, *net.flows.values(), *net.stations.values()]
    for link in net.link_layers.values():
        objects += [link, *link.ends.values()]
    for layer in net.network_layers.values():
        objects += [layer, *layer.flows.values()]
    total = sum(_size(o) for o in objects)
    return total + (records.pending if records is not None else 0)


def _positions(net: Any) -> int:
    return sum(len(end.positions) for link in net.link_layers.values() for end in link.ends.values())


def _long_run(scenario: dict, steps: int = 8) -> tuple[Any, list[int], list[int], Any]:
    """Run ``scenario`` without kept deliveries, sampling the state ``steps`` times."""
    net = build_network(load_scenario(scenario), keep_deliveries=False)
    records = net.pair_records()
    end = net.scenario.simulation.duration
    states, delivered = [], []
    for i in range(1, steps + 1):
        net.sim.run(until=end * i / steps)
        states.append(per_pair_state(net, records))
        delivered.append(net.flows[1].delivered)
        records.rows.clear()  # the rows are what was asked for; the pending entries are not
    return net, states, delivered, records


def _assert_bounded(net: Any, states: list[int], delivered: list[int], min_pairs: int) -> None:
    half = len(states) // 2
    assert delivered[-1] >= min_pairs, f"too few pairs to show a leak: {delivered[-1]}"
    assert delivered[-1] >= 1.6 * delivered[half - 1]  # the second half delivers as many again
    # what the long run holds is what a short run holds: position-bound entries fluctuate by at
    # most the memory positions; a per-pair leak would add entries for each of the thousands of
    # pairs of the second half
    p = _positions(net)
    assert max(states[half:]) <= max(states[:half]) + p, (states, delivered)
    assert net.flows[1].deliveries == []  # nothing kept per pair unless asked


def test_nested_swapping_state_does_not_grow_with_delivered_pairs():
    """Nested swapping (swap records, N = 5) over thousands of pairs: a repeater keeps a swap's
    forwarding entries (for an Expire from a far end the record has not reached yet) one round
    trip only, so its ``swapped`` table — 6 entries per delivered pair before — stays a handful."""
    net, states, delivered, _ = _long_run(chain_dict(5, swapping="nested", duration=1.2))
    _assert_bounded(net, states, delivered, min_pairs=2000)
    swapped = sum(len(f.swapped) for layer in net.network_layers.values() for f in layer.flows.values())
    assert swapped <= 2 * _positions(net)


def test_swap_asap_state_does_not_grow_with_delivered_pairs():
    """Swap-ASAP with TRACK signalling (N = 5): a swap's entry goes when its TRACK passes."""
    net, states, delivered, _ = _long_run(chain_dict(5, swapping="asap", duration=1.0))
    _assert_bounded(net, states, delivered, min_pairs=1500)


@pytest.mark.parametrize("swapping", ["asap", "nested"])
def test_cutoff_flow_state_does_not_grow_with_discarded_pairs(swapping):
    """With a cut-off most pairs are discarded on the way (EXPIRE to the segment's far end,
    forwarded through swaps the far end did not know of): every discarded pair's entries go
    too, including the recorder's segments."""
    net, states, delivered, records = _long_run(chain_dict(5, swapping=swapping, duration=0.6, cutoff="1 ms"))
    discarded = sum(net.flows[1].discarded.values())
    assert discarded >= 1000
    half = len(states) // 2
    assert max(states[half:]) <= max(states[:half]) + _positions(net), (states, delivered)
    assert records.pending <= 4 * _positions(net)


def test_nested_cutoff_far_end_expiry_reaches_the_other_far_end():
    """Nested swapping, N = 9, cut-off 5 ms. A level-2 repeater's far end (a repeater) may cut
    its half off before the SwapRecord reaches it: it tells the swapping node, by that node's
    key of the pair, and the node forwards the Expire to the other far end. So no pair at the
    head outlives its segment: each is at most the cut-off plus the signalling across the chain
    old (before the forwarding matched those keys, stranded head pairs filled the head's memory
    and deliveries stopped)."""
    cutoff = 5e-3
    net = build_network(load_scenario(chain_dict(9, swapping="nested", duration=0.5, cutoff=cutoff)),
                        keep_deliveries=False)
    net.sim.run(until=0.5)
    head = net.network_layers["n0"].flows[1]
    now = net.sim.now
    chain_delay = 8 * HOP
    oldest = max((now - p.created for p in head.ends.values()), default=0.0)
    assert oldest <= cutoff + 4 * chain_delay, oldest
    assert net.flows[1].delivered >= 100


# ---------------------------------------------------------------------- streaming statistics


def _reference(net: Any) -> dict[str, Any]:
    """The summary's statistics computed the old way, from every kept Delivery."""
    deliveries = [d for r in net.flows.values() for d in r.deliveries]
    fids = np.array([d.fidelity for d in deliveries if not math.isnan(d.fidelity)])
    flows = []
    for r in net.flows.values():
        measured = [d for d in r.deliveries if d.outcomes is not None]
        errors = sum((d.outcomes[0] ^ d.outcomes[1]) != expected_parity(d.frame, r.basis or "Z") for d in measured)
        flows.append((len(r.deliveries), float(np.mean([d.fidelity for d in r.deliveries])),
                      r.deliveries[0].time - r.start, len(measured), errors / len(measured) if measured else None))
    return {"n": len(deliveries), "mean": float(fids.mean()), "std": float(fids.std(ddof=1)),
            "age": float(np.mean([d.age for d in deliveries])), "flows": flows}


def test_streaming_summary_equals_statistics_of_kept_deliveries():
    """Two flows, one measured (QBER): the summary's running statistics equal numpy's over the
    kept Delivery records — counts, first-pair latencies and error counts exactly, mean and
    standard deviation of the fidelity and the mean age to 1e-9 (in fact to a few ulp: the sums
    are exact)."""
    scenario = load_scenario(EXAMPLES / "mesh_two_flows.toml")
    net = build_network(scenario, keep_deliveries=True)
    net.sim.run(until=scenario.simulation.duration)
    out = summarise(net, wall=1.0)
    ref = _reference(net)
    assert out["delivered_pairs"] == ref["n"] > 100
    assert out["fidelity_mean"] == pytest.approx(ref["mean"], abs=1e-9)
    assert out["fidelity_std"] == pytest.approx(ref["std"], abs=1e-9)
    assert out["fidelity_stderr"] == pytest.approx(ref["std"] / math.sqrt(ref["n"]), abs=1e-9)
    assert out["pair_age_mean"] == pytest.approx(ref["age"], abs=1e-9)
    measured_flows = 0
    for f, (count, mean, latency, measured, qber) in zip(out["flows"], ref["flows"], strict=True):
        assert f["delivered"] == count
        assert f["fidelity_mean"] == pytest.approx(mean, abs=1e-9)
        assert f["first_pair_latency"] == latency
        assert f["measured"] == measured and f["qber"] == qber
        measured_flows += measured > 0
    assert measured_flows == 1


def test_summary_is_the_same_with_or_without_kept_deliveries():
    """Keeping per-pair records changes nothing in the run or its figures (same seed → the
    same summary, bit for bit, apart from wall-clock times); run_scenario keeps none unless
    asked, and with ``keep_deliveries=True`` returns them, one per delivered pair."""
    scenario = load_scenario(EXAMPLES / "mesh_two_flows.toml")
    streamed = run_scenario(scenario)
    kept = run_scenario(scenario, keep_deliveries=True)
    deliveries = kept.pop("deliveries")
    assert "deliveries" not in streamed
    assert len(deliveries) == kept["delivered_pairs"]
    for out in (streamed, kept):
        for key in ("wall_seconds", "build_seconds", "pairs_per_wall_second"):
            out.pop(key)
    assert streamed == kept


def test_keep_deliveries_must_be_a_bool():
    """A bad ``keep_deliveries`` is refused, naming the option."""
    with pytest.raises(TypeError, match="keep_deliveries must be a bool"):
        build_network(load_scenario(chain_dict(2)), keep_deliveries="yes")


# ---------------------------------------------------------------------- RunningStats


def test_running_stats_are_the_correctly_rounded_exact_moments():
    """Mean and sample variance are the exact rational moments rounded once; the standard
    deviation the correctly rounded root of the exact variance; order does not matter and a
    merge is exact."""
    rng = np.random.default_rng(7)
    values = list(0.77 + 1e-3 * rng.standard_normal(500)) + [1e-300, 1.0, 0.0]
    s = RunningStats(values)
    exact = [Fraction(v) for v in values]
    n = len(exact)
    mean = sum(exact) / n
    var = sum((v - mean) ** 2 for v in exact) / (n - 1)
    assert s.count == n and s.mean == float(mean) and s.variance() == float(var)
    std = s.std()
    assert abs(Fraction(std) ** 2 - var) <= abs(Fraction(math.nextafter(std, 1)) ** 2 - var)
    assert abs(Fraction(std) ** 2 - var) <= abs(Fraction(math.nextafter(std, 0)) ** 2 - var)
    backwards = RunningStats(reversed(values))
    assert (backwards.mean, backwards.std()) == (s.mean, std)
    merged = RunningStats(values[:100]).merge(RunningStats(values[100:]))
    assert (merged.count, merged.mean, merged.std()) == (n, s.mean, std)
    assert s.std() == pytest.approx(float(np.std(values, ddof=1)), rel=1e-12)


def test_running_stats_edge_cases():
    """No values: no mean; one value: no sample variance; NaN counted apart; inf and a bad
    ddof refused with a typed error naming the argument."""
    s = RunningStats()
    assert s.mean is None and s.std() is None
    s.add(0.5)
    assert s.mean == 0.5 and s.variance() is None and s.variance(ddof=0) == 0.0
    s.add(float("nan"))
    assert (s.count, s.nan_count, s.mean) == (1, 1, 0.5)
    with pytest.raises(ValueError, match="must be finite"):
        s.add(math.inf)
    with pytest.raises(ValueError, match="ddof must be an int >= 0"):
        s.variance(ddof=-1)
    with pytest.raises(TypeError, match="other must be a RunningStats"):
        s.merge([1.0])
