"""A run that goes quiet with flows unfinished says so, per flow, and names the full memories.

Fifty one-pair requests n0 → n2 over a three-node chain, with ten memory positions per link
end and no cut-off: swap-ASAP swaps only pairs of the same flow, so once n1's twenty positions
hold pairs of twenty different flows no swap can happen, nothing frees a position and no event
is left — a resource deadlock of the protocol, not of the simulator. The summary must not call
those flows "incomplete" as if time ran out: each is ``stalled`` with the nodes whose memory is
full. A cut-off (here 50 ms) releases the stuck pairs and every request is served.
"""

from __future__ import annotations

from qstack.cli import format_summary
from qstack.network.runner import flow_status, run_scenario
from qstack.scenario import linear_chain, load_scenario


def _fifty_one_pair_requests(cutoff: str | None = None) -> dict:
    d = linear_chain(3, link_length=1e3, seed=1, pairs=1, **({"cutoff": cutoff} if cutoff else {}))
    d["requests"] = [dict(d["requests"][0], pairs=1) for _ in range(50)]
    d["simulation"]["duration"] = "2 s"
    return d


def test_deadlocked_flows_are_reported_stalled_with_the_full_memories():
    r = run_scenario(load_scenario(_fifty_one_pair_requests()))
    unfinished = [f for f in r["flows"] if f["delivered"] < f["requested"]]
    assert unfinished and r["delivered_pairs"] + len(unfinished) == 50
    for f in unfinished:
        assert "memory full at" in f["stalled"] and "n1 20/20" in f["stalled"]
        assert flow_status(f).startswith("stalled at 0 of 1 pairs")
    assert all("stalled" not in f for f in r["flows"] if f["delivered"] == f["requested"])
    assert "stalled at 0 of 1 pairs" in format_summary(r)


def test_a_cutoff_frees_the_held_pairs_and_every_request_is_served():
    r = run_scenario(load_scenario(_fifty_one_pair_requests("50 ms")))
    assert r["delivered_pairs"] == 50
    assert not any("stalled" in f for f in r["flows"])


def test_a_run_cut_by_its_duration_is_incomplete_not_stalled():
    """Time running out is not a stall: a 1,000-pair request over 10 ms stops with events left."""
    d = linear_chain(3, link_length=1e3, seed=1, pairs=1000)
    d["simulation"]["duration"] = "10 ms"
    r = run_scenario(load_scenario(d))
    (f,) = r["flows"]
    assert f["delivered"] < 1000 and "stalled" not in f
    assert flow_status(f) == f"incomplete: {f['delivered']} of 1000 pairs"
