"""Throughput of the qstack.sim discrete-event kernel.

Measures, as the median over a few repeats (wall-clock, ``time.perf_counter``):

1. **Timed events per second with 10,000 waiting coroutines**: 10,000 processes each loop
   ``await sim.sleep(d)`` with pseudo-random delays ``d``, so the heap holds ~10,000
   entries and every event is one coroutine wake-up plus one new timed event. The same
   run gives **µs per coroutine wake-up** (wall time / wake-ups, heap work included).
2. **Callback events per second**: 10,000 plain callbacks each rescheduling itself with
   ``sim.call_later(d, ...)`` (public API, returns an EventHandle each time).

Target for the kernel: >= 500,000 timed events/s with 10,000 waiting coroutines and
< 2 µs per coroutine wake-up.

Run from the repository root::

    python bench/bench_kernel.py [--events 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

try:
    import qstack.sim  # noqa: F401
except ImportError:  # not installed yet: use the checkout this script lives in
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qstack.sim import Simulation

N_WAITERS = 10_000
N_DELAYS = 1024  # per-process table of pseudo-random delays, cycled


def coroutine_run(n_events: int, seed: int = 1) -> tuple[float, int]:
    """Run ~n_events sleep wake-ups over N_WAITERS processes; return (seconds, events)."""
    sim = Simulation(seed=seed)
    delays = sim.rng("bench", "delays").uniform(1e-6, 1e-3, size=N_DELAYS).tolist()
    sleep = sim.sleep

    async def sleeper(offset: int) -> None:
        i = offset
        while True:
            await sleep(delays[i & (N_DELAYS - 1)])
            i += 1

    for k in range(N_WAITERS):
        sim.spawn(sleeper(k * 7), name=f"sleeper-{k}")
    sim.run(max_events=N_WAITERS)  # start every process: all are now waiting
    start_events = sim.events_processed
    t0 = time.perf_counter()
    sim.run(max_events=n_events)
    elapsed = time.perf_counter() - t0
    return elapsed, sim.events_processed - start_events


def callback_run(n_events: int, seed: int = 1) -> tuple[float, int]:
    """Run ~n_events self-rescheduling callbacks (N_WAITERS in flight); return (seconds, events)."""
    sim = Simulation(seed=seed)
    delays = sim.rng("bench", "delays").uniform(1e-6, 1e-3, size=N_DELAYS).tolist()
    call_later = sim.call_later
    state = [0]

    def tick() -> None:
        i = state[0] = state[0] + 1
        call_later(delays[i & (N_DELAYS - 1)], tick)

    for k in range(N_WAITERS):
        sim.call_later(delays[k & (N_DELAYS - 1)], tick)
    t0 = time.perf_counter()
    sim.run(max_events=n_events)
    elapsed = time.perf_counter() - t0
    return elapsed, sim.events_processed


def main() -> None:
    """Parse arguments, run the benchmarks and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per repeat")
    parser.add_argument("--repeats", type=int, default=5, help="repeats (median reported)")
    args = parser.parse_args()

    rates, wakes_us = [], []
    for _ in range(args.repeats):
        elapsed, events = coroutine_run(args.events)
        rates.append(events / elapsed)
        wakes_us.append(elapsed / events * 1e6)
    cb_rates = []
    for _ in range(args.repeats):
        elapsed, events = callback_run(args.events)
        cb_rates.append(events / elapsed)

    print(f"python {sys.version.split()[0]}, {args.events:,} events x {args.repeats} repeats (median)")
    print(f"timed events/s, {N_WAITERS:,} waiting coroutines: {statistics.median(rates):12,.0f}")
    print(f"us per coroutine wake-up:                   {statistics.median(wakes_us):12.3f}")
    print(f"callback events/s, {N_WAITERS:,} in flight:       {statistics.median(cb_rates):12,.0f}")


if __name__ == "__main__":
    main()
