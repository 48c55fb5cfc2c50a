"""Benchmarks: memory of stored pairs, and memory of long runs against delivered pairs.

``python bench/bench_memory.py`` — footprint of 100,000 stored Bell pairs (target ≤ 1 GiB):
creates 100,000 Werner pairs, stores both halves in two :class:`QuantumMemory` objects of
100,000 positions each (T1/T2 memories), and reports the growth of the process's resident set
size and the traced Python allocations per pair.

``python bench/bench_memory.py run [--pairs 10000,100000,300000] [--nodes 2] [--swapping asap]
[--keep-deliveries]`` — a long run through :func:`qstack.network.run_scenario` (the
``qstack run`` path): a chain of ``--nodes`` nodes with the tests' short 2 km links, one request
for N pairs; each N runs in a fresh process, which reports its resident set size after building
the network and after the run (``/proc/self/status`` VmRSS, and the peak VmHWM, which counts
what the run held at its end: the network is freed when ``run_scenario`` returns). The table's
``B/pair`` is the peak's growth over the RSS before the run divided by N, ``slope`` that growth
between consecutive lengths per extra pair (constant overheads cancel): ~0 when memory is flat.
``--keep-deliveries``
keeps one :class:`~qstack.network.Delivery` per pair, as every run did before the summary's
statistics were streamed.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from qstack.physical.memory import QuantumMemory
from qstack.quantum import create_qubits, werner


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _one_run(pairs: int, nodes: int, swapping: str, keep: bool) -> dict:
    """One long run in this process: RSS after building, after the run, and the peak."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "network"))
    from qstack_network_helpers import chain_dict

    from qstack.network import run_scenario
    from qstack.scenario import load_scenario

    scenario = load_scenario(chain_dict(nodes, duration=None, pairs=pairs, swapping=swapping))
    run_scenario(load_scenario(chain_dict(nodes, duration=None, pairs=10, swapping=swapping)))  # warm caches
    gc.collect()
    before = _status_mib("VmRSS")
    t0 = time.perf_counter()
    out = run_scenario(scenario, keep_deliveries=keep)
    wall = time.perf_counter() - t0
    gc.collect()
    return {"pairs": out["delivered_pairs"], "rss_before": before, "rss_after": _status_mib("VmRSS"),
            "peak": _status_mib("VmHWM"), "wall": wall, "simulated": out["simulated_time"]}


def run_lengths(lengths: list[int], nodes: int, swapping: str, keep: bool) -> list[dict]:
    """Each length in a fresh interpreter; prints the table and returns the rows."""
    rows = []
    mode = "kept deliveries" if keep else "streamed statistics"
    print(f"{nodes}-node chain, {swapping}, {mode}")
    print(f"{'pairs':>9} {'RSS before':>11} {'RSS after':>10} {'peak':>8} {'peak B/pair':>12} {'slope B/pair':>13} "
          f"{'wall':>7}")
    for n in lengths:
        cmd = [sys.executable, __file__, "_child", str(n), str(nodes), swapping, "1" if keep else "0"]
        row = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        grown = (row["peak"] - row["rss_before"]) * 2**20
        slope = ""
        if rows:
            prev = rows[-1]
            d_rss = (row["peak"] - row["rss_before"]) - (prev["peak"] - prev["rss_before"])
            slope = f"{d_rss * 2**20 / (row['pairs'] - prev['pairs']):.0f}"
        rows.append(row)
        print(f"{row['pairs']:>9} {row['rss_before']:>8.1f} MiB {row['rss_after']:>6.1f} MiB {row['peak']:>4.0f} MiB "
              f"{grown / row['pairs']:>12.0f} {slope:>13} {row['wall']:>6.1f}s", flush=True)
    return rows


def main(n: int = 100_000) -> None:
    rho = werner(0.95)
    gc.collect()
    base = _rss_mib()
    tracemalloc.start()
    t0 = time.perf_counter()
    left = QuantumMemory("left", n, t1=10.0, t2=1.0)
    right = QuantumMemory("right", n, t1=10.0, t2=1.0)
    for i in range(n):
        a, b = create_qubits(2, rho)
        left.store(a, 0.0, i)
        right.store(b, 0.0, i)
    elapsed = time.perf_counter() - t0
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    grown = _rss_mib() - base
    print(f"{n} stored Bell pairs: RSS grew {grown:.1f} MiB (target ≤ 1024 MiB); "
          f"traced {current / n:.0f} B/pair; built in {elapsed:.2f} s")
    left.sync(1e-3)
    right.sync(1e-3)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _, _, n_, nodes_, swapping_, keep_ = sys.argv
        print(json.dumps(_one_run(int(n_), int(nodes_), swapping_, keep_ == "1")))
    elif len(sys.argv) > 1 and sys.argv[1] == "run":
        ap = argparse.ArgumentParser(prog="bench_memory.py run", description="memory of long runs against pairs")
        ap.add_argument("--pairs", default="10000,100000,300000", help="comma-separated run lengths (pairs)")
        ap.add_argument("--nodes", type=int, default=2)
        ap.add_argument("--swapping", default="asap")
        ap.add_argument("--keep-deliveries", action="store_true", help="keep one Delivery per pair (as before)")
        a = ap.parse_args(sys.argv[2:])
        run_lengths([int(float(x)) for x in a.pairs.split(",")], a.nodes, a.swapping, a.keep_deliveries)
    else:
        main()
