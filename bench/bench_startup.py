"""Benchmark: start-up of the command line — the default ``qstack run`` end to end, and where the
import time goes.

Runs ``python -m qstack run`` (the embedded default scenario; output discarded) ``--repeats``
times in fresh processes and prints the median and min wall time, then one ``python -X
importtime`` run of the same command with the top-level packages' cumulative import times
(qutip, scipy, numpy, networkx, protobuf, qstack's own). Goal (issue 12): ≤ 1 s wall on the
2-core machine.

    python bench/bench_startup.py               # --repeats 7
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

TOP = ("qutip", "scipy", "numpy", "networkx", "google.protobuf", "qstack.quantum", "qstack.network", "qstack.cli")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    a = parser.parse_args()
    cmd = [sys.executable, "-m", "qstack", "run"]
    env = dict(os.environ)
    walls = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - t0)
    print(f"qstack run (default scenario), {a.repeats} fresh processes: median {statistics.median(walls):.3f} s, "
          f"min {min(walls):.3f} s wall (goal <= 1 s)")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "qstack", "run"], capture_output=True, text=True,
                          env=env, check=True)
    cumulative: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cum, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if name in TOP:
            cumulative[name] = max(cumulative.get(name, 0), int(cum))
    print("cumulative import time (first import, µs → s):")
    for name in TOP:
        if name in cumulative:
            print(f"  {name:<18} {cumulative[name] / 1e6:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
