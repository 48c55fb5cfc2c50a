"""Benchmark: a 1,000-node repeater chain delivers 100 end-to-end pairs (target ≤ 60 s, ≤ 2 GiB).

SeQUeNCe-"starlight"-like hardware (:func:`qstack.scenario.linear_chain` defaults: 10 km
links, Barrett–Kok, 2 kHz, 10 positions per link end, T2 = cut-off = 1.3 s), nested swapping by
default (``--swapping asap``: swap-as-soon-as-possible, which on chains this long generates many
more link pairs per end-to-end pair), one request for 100 pairs from the first to the last node.
Prints wall time, simulated time, delivered pairs and fidelity, link pairs generated, events,
and the peak resident memory of the process.

Run: ``python bench/bench_long_chain.py [--nodes 1000] [--pairs 100]``
"""

from __future__ import annotations

import argparse
import resource
import time

from qstack.network.runner import run_scenario
from qstack.scenario import linear_chain, load_scenario


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--pairs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--swapping", choices=("nested", "asap"), default="nested")
    args = ap.parse_args()
    t0 = time.perf_counter()
    scenario = load_scenario(linear_chain(args.nodes, seed=args.seed, duration=None, pairs=args.pairs,
                                          cutoff="1.3 s", swapping=args.swapping))
    r = run_scenario(scenario)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.nodes}-node chain ({args.swapping}): {r['delivered_pairs']} end-to-end pairs "
          f"in {wall:.1f} s wall "
          f"(target ≤ 60 s), completed at {r['flows'][0]['completion_time']:.4f} s simulated, "
          f"fidelity {r['fidelity_mean']:.4f}, "
          f"{r['link_pairs_generated']} link pairs, {r['events']} events, peak RSS {peak:.0f} MiB "
          f"(target ≤ 2048 MiB)")


if __name__ == "__main__":
    main()
