"""Benchmark: a 10 × 100-run sweep (1000 tiny runs) on local Dask clusters of 1, 2 and 4 worker
processes, against the same runs one after another in this process without Dask.

Each run is a two-node link simulated for ``--duration`` (default 1 ms, ~10 ms of wall time), so
the figure is dominated by what the sweep machinery costs per task (scheduling, pickling the
scenario dict, returning the figures) and by the cluster's start-up; the tables of every
configuration are compared byte for byte (they must be identical). Wall times include starting
and closing the cluster (``run_sweep`` without a client does both).

    python bench/bench_sweep.py                          # --points 10 --runs 100 --workers 1,2,4
    python bench/bench_sweep.py --points 4 --runs 20     # a quick look

The figures measured on the shared 2-core machine are in ``bench/README.md`` ("Sweeps").
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qstack.scenario import linear_chain  # noqa: E402
from qstack.sweep import InlineClient, run_sweep  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10, help="grid points (link lengths 1..50 km)")
    parser.add_argument("--runs", type=int, default=100, help="runs per grid point")
    parser.add_argument("--workers", default="1,2,4", help="comma list of local worker-process counts")
    parser.add_argument("--duration", default="1 ms", help="simulated time per run")
    parser.add_argument("--no-inline", action="store_true", help="skip the in-process baseline")
    args = parser.parse_args()
    scenario = linear_chain(2, "10 km", duration=args.duration, memory_positions=2)
    params = [f"links.length=1km:50km:{args.points}"]
    total = args.points * args.runs
    print(f"sweep: {args.points} points × {args.runs} runs = {total} runs of a two-node link, "
          f"{args.duration} simulated each; {os.cpu_count()} cores")
    tables = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_inline:
            t0 = time.perf_counter()
            table = run_sweep(scenario, params, args.runs, seed=1, client=InlineClient())
            wall = time.perf_counter() - t0
            tables["inline"] = table.write(Path(tmp) / "inline.csv").read_bytes()
            print(f"  in process, no Dask : {wall:7.2f} s wall  ({total / wall:7.1f} runs/s)")
        for n in (int(w) for w in args.workers.split(",")):
            t0 = time.perf_counter()
            table = run_sweep(scenario, params, args.runs, seed=1, workers=n)
            wall = time.perf_counter() - t0
            tables[n] = table.write(Path(tmp) / f"w{n}.csv").read_bytes()
            print(f"  {n} worker process{'es' if n > 1 else '  '}  : {wall:7.2f} s wall  ({total / wall:7.1f} runs/s, "
                  "cluster start and close included)")
    same = len(set(tables.values())) == 1
    print(f"tables identical across configurations: {same}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
