"""Benchmark: memory footprint of 100,000 stored Bell pairs (target ≤ 1 GiB).

Creates 100,000 Werner pairs, stores both halves in two :class:`QuantumMemory` objects of
100,000 positions each (T1/T2 memories), and reports the growth of the process's resident set
size and the traced Python allocations per pair.

Run: ``python bench/bench_memory.py``
"""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc

from qstack.physical.memory import QuantumMemory
from qstack.quantum import create_qubits, werner


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    main()
