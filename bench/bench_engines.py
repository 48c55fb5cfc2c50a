"""Benchmark: the density-matrix engine vs the exact Bell-diagonal engine, in one invocation.

Runs ``linear_chain(N, 10 km, seed, duration, swapping)`` with ``[simulation] engine`` set to
``"density_matrix"`` and to ``"bell_diagonal"``, alternating (dm, bd, dm, bd, …) so drifts of a
noisy machine hit both alike, after one untimed warm-up run each. Prints per engine the median,
min and max delivered pairs per wall-second of ``run_scenario`` and the ratio of the medians, and
checks that both engines delivered the same pairs with fidelities equal to 1e-12 (the engine's
contract; a mismatch exits with status 1).

Run (qstack's environment)::

    python bench/bench_engines.py                       # N = 9, asap, 0.2 s, 5 repeats
    python bench/bench_engines.py --nodes 5 --swapping nested --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="density-matrix vs Bell-diagonal engine, pairs per wall second")
    ap.add_argument("--nodes", type=int, default=9, help="chain length N (default 9)")
    ap.add_argument("--seed", type=int, default=1, help="scenario seed (default 1)")
    ap.add_argument("--duration", type=float, default=0.2, help="simulated seconds (default 0.2)")
    ap.add_argument("--swapping", default="asap", help="swapping policy (default asap)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per engine (default 5)")
    a = ap.parse_args(argv)

    from qstack.network.runner import run_scenario
    from qstack.scenario import linear_chain, load_scenario

    engines = ("density_matrix", "bell_diagonal")
    scenarios = {}
    for eng in engines:
        d = linear_chain(a.nodes, link_length=10e3, seed=a.seed, duration=a.duration, swapping=a.swapping)
        d["simulation"]["engine"] = eng
        scenarios[eng] = load_scenario(d)
    records = {eng: run_scenario(scenarios[eng], record=True)["records"] for eng in engines}  # warm-up + check
    same = len(records["density_matrix"]) == len(records["bell_diagonal"]) and all(
        abs(x["fidelity"] - y["fidelity"]) <= 1e-12 and {k: v for k, v in x.items() if k != "fidelity"}
        == {k: v for k, v in y.items() if k != "fidelity"}
        for x, y in zip(records["density_matrix"], records["bell_diagonal"], strict=False))
    rates: dict[str, list[float]] = {eng: [] for eng in engines}
    pairs = 0
    for _ in range(a.repeats):
        for eng in engines:
            t0 = time.perf_counter()
            out = run_scenario(scenarios[eng])
            wall = time.perf_counter() - t0
            pairs = out["delivered_pairs"]
            rates[eng].append(pairs / wall)
    print(f"N = {a.nodes}, {a.swapping}, {a.duration:g} s simulated, seed {a.seed}: {pairs} pairs per run, "
          f"{a.repeats} interleaved runs per engine")
    print(f"{'engine':<16}{'median pairs/s':>16}{'min':>10}{'max':>10}")
    for eng in engines:
        r = rates[eng]
        print(f"{eng:<16}{statistics.median(r):>16.0f}{min(r):>10.0f}{max(r):>10.0f}")
    ratio = statistics.median(rates["bell_diagonal"]) / statistics.median(rates["density_matrix"])
    print(f"ratio bell_diagonal / density_matrix (medians): {ratio:.2f}x")
    print(f"same pairs, fidelities to 1e-12: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
