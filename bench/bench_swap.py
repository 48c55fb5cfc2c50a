"""Benchmark: one density-matrix entanglement swap (two Werner pairs → BSM → corrected pair).

Measures the median wall time of :func:`qstack.quantum.entanglement_swap` on fresh Werner
pairs (fast path: both pairs are 2-qubit groups), for an ideal and a noisy device, and the
general circuit path (a pair inside a 3-qubit group) for comparison. Target (issue 2):
≤ 15 µs median for the fast path. Pair creation is outside the timed region.

Run: ``python bench/bench_swap.py``
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from qstack.quantum import GateNoise, create_qubits, entanglement_swap, single_threaded_blas, werner


def _time_swaps(n: int, noise: GateNoise | None, general: bool) -> list[float]:
    rng = np.random.default_rng(1)
    rho = werner(0.9)
    sets = []
    for _ in range(n):
        if general:
            x, a, b = create_qubits(3)
            from qstack.quantum import assign_state
            assign_state([a, b], rho)
            from qstack.quantum.core import merge
            merge([x, a])
        else:
            a, b = create_qubits(2, rho)
        c, d = create_qubits(2, rho)
        sets.append((a, b, c, d))
    out = []
    clock = time.perf_counter
    for a, b, c, d in sets:
        t0 = clock()
        entanglement_swap(a, b, c, d, rng, noise)
        out.append(clock() - t0)
    return out


def main() -> None:
    with single_threaded_blas():
        _time_swaps(2000, None, False)  # warm caches (the noisy map is built once per GateNoise)
        noisy = GateNoise(single_qubit_depolarizing=0.001, two_qubit_depolarizing=0.01, readout_error=0.005)
        _time_swaps(10, noisy, False)
        for label, noise, general, n in (
            ("fast path, ideal gates", None, False, 50_000),
            ("fast path, noisy gates", noisy, False, 50_000),
            ("circuit path (3-qubit group)", None, True, 5_000),
        ):
            ts = _time_swaps(n, noise, general)
            med = statistics.median(ts) * 1e6
            p90 = sorted(ts)[int(0.9 * len(ts))] * 1e6
            print(f"swap {label:32s} median {med:7.2f} µs   p90 {p90:7.2f} µs   (n={n})")


if __name__ == "__main__":
    main()
